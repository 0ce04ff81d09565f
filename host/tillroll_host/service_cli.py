"""The technician's commands: `tillroll status`, `journal`, `counters`, ... over the service
link (docs/technician.md). Each parses its arguments, calls host/tillroll_host/service.py and
prints; `--json` prints what a script reads instead.

Keys: `tillroll provision` writes a module's key to the key folder (TILLROLL_KEYS, or
~/.config/tillroll/keys) as SERIAL.key; the other commands find it there by the serial number
the module reports, or take --key FILE.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

from . import slip_code
from .errors import FatalError
from .service import (
    JOURNAL_LIST,
    USB_MANUFACTURER,
    USB_PID,
    USB_PRODUCT,
    USB_VID,
    ServiceError,
    ServiceLink,
    load_key,
    new_key,
)

_FAULT_WORDS = {
    "paper_out": "paper out",
    "cover_open": "cover open",
    "overheat": "head too hot",
    "no_supply": "no head supply",
    "undervoltage": "head supply too low to print",
    "low_supply": "head supply low (printing slower)",
    "head_fault": "HEAD FAULT: strobes draw no current (cable, supply, dead elements)",
    "journal_wiped": "journal wiped",
}


def key_dir() -> Path:
    return Path(os.environ.get("TILLROLL_KEYS") or Path.home() / ".config/tillroll/keys")


def run_dir() -> Path:
    """Where running sims say which ports they serve (`tillroll devices` reads it)."""
    base = os.environ.get("TILLROLL_RUN") or os.environ.get("XDG_RUNTIME_DIR")
    return Path(base or tempfile.gettempdir()) / "tillroll-sims"


def _when(t) -> str:
    if not t:
        return "time unknown"
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


class Progress:
    """A progress bar on stderr when it is a terminal (long transfers, exports)."""

    def __init__(self, what: str):
        self.what = what
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.tty or not total:
            return
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{self.what} [{bar}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _link(args, authenticate: bool = True) -> ServiceLink:
    if not args.port:
        raise FatalError("which module? give --port URL (e.g. socket://127.0.0.1:9101)")
    link = ServiceLink.open(args.port)
    if authenticate:
        status = link.status()
        if args.key:
            key = load_key(args.key)
        else:
            path = key_dir() / f"{status['serial']}.key"
            if not path.exists():
                link.close()
                raise FatalError(
                    f"no key for module {status['serial']} in {key_dir()}: give --key FILE"
                )
            key = load_key(path)
        try:
            link.authenticate(key)
        except ServiceError:
            link.close()
            raise
    return link


# ---- devices ---------------------------------------------------------------------------------


def cmd_devices(args) -> int:
    from serial.tools import list_ports

    found = []
    # A module's CDC interfaces share its strings and serial number; the service link is its
    # last one (the data link its first): the highest interface number in the port's location.
    modules: dict[str, list] = {}
    for p in list_ports.comports():
        if (p.vid, p.pid) != (USB_VID, USB_PID):
            continue
        if p.manufacturer == USB_MANUFACTURER and p.product == USB_PRODUCT:
            interface = int((p.location or "0").rpartition(".")[2] or 0)
            modules.setdefault(p.serial_number or "", []).append((interface, p.device))
    for serial_number, ports in sorted(modules.items()):
        ports.sort()
        found.append(
            {"port": ports[-1][1], "serial": serial_number, "kind": "usb", "data": ports[0][1]}
        )
    d = run_dir()
    for entry in sorted(d.glob("*.json")) if d.is_dir() else []:
        try:
            info = json.loads(entry.read_text())
            os.kill(info["pid"], 0)
        except (OSError, ValueError, KeyError):
            entry.unlink(missing_ok=True)  # a sim that is gone
            continue
        if info.get("service"):
            url = f"socket://127.0.0.1:{info['service']}"
            serial_number = ""
            try:
                with ServiceLink.open(url, timeout=2) as link:
                    serial_number = link.status()["serial"]
            except FatalError:
                pass
            found.append(
                {
                    "port": url,
                    "serial": serial_number,
                    "kind": "sim",
                    "data": f"{info['host']}:{info['data']}",
                }
            )
    if args.json:
        _print_json(found)
        return 0
    if not found:
        print("no modules found (USB or running sims)")
        return 0
    for f in found:
        extra = f" (data {f['data']})"
        print(f"{f['port']}  {f['kind']}  serial {f['serial'] or '?'}{extra}")
    return 0


# ---- status and log --------------------------------------------------------------------------


def cmd_status(args) -> int:
    with _link(args, authenticate=False) as link:
        st = link.status()
    if args.json:
        _print_json(st)
        return 0
    faults = ", ".join(_FAULT_WORDS.get(f, f) for f in st["faults"]) or "none"
    j = st["journal"]
    if j.get("mounted"):
        journal = f"{j['receipts']} receipts, {j['fill_percent']}% full"
        if j.get("offline"):
            journal += ", FULL: taking no data"
    else:
        journal = "none" + (f" ({j['error']})" if j.get("error") else "")
    print(f"module     {st['model']} serial {st['serial']}, firmware {st['firmware']}")
    print(f"mechanism  {st['mechanism']}")
    print(f"faults     {faults}")
    paper = "OUT" if not st["paper"] else "near its end" if st["near_end"] else "loaded"
    print(f"paper      {paper}")
    print(f"cover      {'closed' if st['cover_closed'] else 'OPEN'}")
    print(f"supply     {st['supply_mv'] / 1000:.2f} V")
    print(f"head       {st['head_c']} C")
    print(f"elements   {_elements(st.get('dead_elements'))}")
    print(f"journal    {journal}")
    print(f"clock      {_when(st['time'])}, up {st['uptime_s']} s")
    print(f"receipts   {st['receipts_printed']} since power-on, {st['errors']} task errors")
    key = "provisioned" if st["provisioned"] else "NOT provisioned"
    if st["maintenance"]:
        key += ", maintenance mode"
    print(f"key        {key}")
    return 0


def _elements(dead) -> str:
    """The head's elements as the last check of each alone found them."""
    if dead is None:
        return "not checked (self-test checks them)"
    if not dead:
        return "all alive"
    count = sum(b - a + 1 for a, b in dead)
    runs = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in dead)
    return f"{count} DEAD: {runs}"


def cmd_log(args) -> int:
    with _link(args) as link:
        entries = link.log()
    if args.json:
        _print_json(entries)
        return 0
    if not entries:
        print("no faults logged")
    for e in entries:
        what = ", ".join(_FAULT_WORDS.get(f, f) for f in e["faults"]) or "all clear"
        up = f"up {e['uptime_s']} s"
        if not e.get("this_power_on", True):
            up = f"power-on {e['power_on']}, {up}"  # before the module was last switched on
        print(f"{_when(e['time'])}  ({up})  {what}")
    return 0


def cmd_counters(args) -> int:
    with _link(args) as link:
        table = link.counters(reset=args.reset)
    if args.json:
        _print_json(table)
        return 0
    if args.reset:
        print("resettable counters reset")
    print(f"{'counter':<18}{'resettable':>12}{'cumulative':>12}")
    for name in ("lines_fed", "head_energized", "cuts", "hours"):
        row = table[name]
        print(f"{name:<18}{row['resettable']:>12}{row['cumulative']:>12}")
    return 0


# ---- journal ---------------------------------------------------------------------------------


def _date(text: str) -> float:
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text}: a date as 2026-12-06 or 2026-12-06T14:02"
        ) from None


def _in_range(row, args) -> bool:
    t = row["time"]
    if args.since is not None and (t is None or t < args.since):
        return False
    if args.until is not None and (t is None or t >= args.until):
        return False
    return True


def cmd_journal(args) -> int:
    return args.journal_func(args)


def cmd_journal_list(args) -> int:
    with _link(args) as link:
        rows = [r for r in link.journal_rows() if _in_range(r, args)]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(
            "the journal holds no receipts"
            + (" in that range" if args.since or args.until else "")
        )
    for r in rows:
        print(f"{r['number']:>6}  {_when(r['time']):<19}  {r['state']:<11}  {r['first_line']}")
    return 0


def _render_receipt(data: bytes, output: Path) -> None:
    from .render import render

    with tempfile.TemporaryDirectory(prefix="tillroll-journal-") as tmp:
        src = Path(tmp) / "receipt.bin"
        src.write_bytes(data)
        render(src, output)


def cmd_journal_show(args) -> int:
    with _link(args) as link:
        info = link.journal_info(args.number)
        data = link.journal_bytes(args.number, Progress(f"receipt {args.number}"))
    output = Path(args.output or f"receipt-{args.number}.png")
    _render_receipt(data, output)
    if args.json:
        _print_json({**info, "png": str(output)})
        return 0
    copies = {0: "never printed again", 1: "printed again once"}.get(
        info["copies"], f"printed again {info['copies']} times"
    )
    print(
        f"receipt {args.number}: {info['state']}, {_when(info['time'])}, {info['bytes']} "
        f"bytes, {copies}"
    )
    print(f"{output}")
    return 0


def cmd_journal_reprint(args) -> int:
    with _link(args) as link:
        link.reprint(args.number)
    print(f"receipt {args.number} queued to print again, marked as a copy")
    return 0


EXPORT_COLUMNS = [
    "number", "time", "state", "first_line", "file", "code", "serial", "unix_time", "data"
]  # fmt: skip


def cmd_journal_export(args) -> int:
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    with _link(args) as link:
        serial_number = link.serial_number
        key = link.key
        assert key is not None  # _link authenticated
        rows = [r for r in link.journal_rows() if _in_range(r, args)]
        progress = Progress("export")
        index = out / "index.csv"
        with index.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(EXPORT_COLUMNS)
            for i, r in enumerate(rows):
                data = link.journal_bytes(r["number"])
                name = f"receipt-{r['number']:06d}.{args.format}"
                png = out / f"receipt-{r['number']:06d}.png"
                # The bytes as the journal holds them: what a code is checked against offline.
                raw = f"receipt-{r['number']:06d}.bin"
                (out / raw).write_bytes(data)
                t = slip_code.journal_time(r["time"])
                code = slip_code.make(key, serial_number, r["number"], t, data)
                _render_receipt(data, png)
                if args.format == "pdf":
                    from PIL import Image

                    with Image.open(png) as im:
                        im.convert("RGB").save(out / name, resolution=203)
                    png.unlink()
                iso = dt.datetime.fromtimestamp(r["time"]).isoformat() if r["time"] else ""
                w.writerow(
                    [r["number"], iso, r["state"], r["first_line"], name, str(code)]
                    + [serial_number, r["time"] or "", raw]
                )
                progress(i + 1, len(rows))
    print(f"{out}: {len(rows)} receipts as {args.format.upper()}, index in {index.name}")
    return 0


def _read_qr(path: Path) -> str:
    """The text of the Tillroll verification QR symbol in a photo or scan of a slip."""
    from PIL import Image, ImageOps

    try:
        import zxingcpp
    except ImportError:
        raise FatalError("--image needs zxing-cpp (pip install zxing-cpp)") from None
    try:
        im = Image.open(path)
        im.load()
    except OSError as e:
        raise FatalError(f"cannot read {path}: {e}") from None
    # A quiet zone round the picture: a scan cut close to the symbol still reads.
    im = ImageOps.expand(im.convert("L"), border=40, fill=255)
    found = [r.text for r in zxingcpp.read_barcodes(im)]
    ours = [t for t in found if t.upper().startswith("TILLROLL ")]
    if not ours:
        other = f" (it holds other codes: {', '.join(map(repr, found))})" if found else ""
        raise FatalError(f"{path}: no Tillroll verification QR code found{other}")
    return ours[0]


def _same_module(code: slip_code.Code, serial_number: str, where: str) -> None:
    if code.serial is not None and code.serial != serial_number:
        raise FatalError(
            f"code {code} is from module {code.serial}, not {serial_number} ({where}): "
            f"check it against module {code.serial}'s journal or export"
        )
    if code.module != slip_code.module_of(serial_number):
        raise FatalError(
            f"code {code} is from another module than {serial_number} ({where}): its "
            "module characters (the two after the number) name another serial number"
        )


def _mismatch(code: slip_code.Code, serial_number: str, copy: str) -> FatalError:
    return FatalError(
        f"NO MATCH: code {code} does not match receipt {code.number} of module "
        f"{serial_number}: {copy} is not what the code was made for. The slip is not this "
        "receipt, or the slip or the journal's copy was altered"
    )


def cmd_journal_verify(args) -> int:
    if args.image and args.code:
        raise FatalError("journal verify: give the CODE or --image, not both")
    if args.image:
        text = _read_qr(Path(args.image))
    elif args.code:
        text = args.code
    else:
        raise FatalError("journal verify: give the CODE printed on the slip, or --image PNG")
    code = slip_code.parse(text)
    if args.export:
        result = _verify_export(code, Path(args.export), args)
    else:
        result = _verify_module(code, args)
    if args.json:
        _print_json(result)
        return 0
    print(
        f"receipt {code.number} matches code {code}: printed by module {result['serial']}, "
        f"{_when(result['time'])}"
    )
    print(f"the journal's copy: {result['copy']}")
    return 0


def _verify_module(code: slip_code.Code, args) -> dict:
    with _link(args) as link:
        serial_number = link.serial_number
        _same_module(code, serial_number, f"the module on {args.port}")
        try:
            info = link.journal_info(code.number)
        except ServiceError as e:
            if not str(e).startswith("no receipt"):
                raise
            first = link.call(JOURNAL_LIST, {"after": 0, "count": 1})["receipts"]
            held = f"its oldest is receipt {first[0][0]}" if first else "it holds none"
            raise FatalError(
                f"receipt {code.number} is not in the journal of module {serial_number} "
                f"({held}): check the slip against an export with --export DIR"
            ) from None
        data = link.journal_bytes(code.number)
        key = link.key
    assert key is not None  # _link authenticated
    t = slip_code.journal_time(info["time"])
    expected = slip_code.make(key, serial_number, code.number, t, data)
    if expected.mac != code.mac:
        raise _mismatch(code, serial_number, "the journal's copy of it")
    output = Path(args.output or f"receipt-{code.number}.png")
    _render_receipt(data, output)
    return {
        "number": code.number,
        "serial": serial_number,
        "time": info["time"],
        "state": info["state"],
        "copy": str(output),
        "match": True,
    }


def _verify_export(code: slip_code.Code, d: Path, args) -> dict:
    index = d / "index.csv"
    try:
        with index.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise FatalError(f"cannot read the export's index {index}: {e}") from None
    if rows and not {"code", "serial", "unix_time", "data"} <= rows[0].keys():
        raise FatalError(f"{index}: an export without codes (made before `journal verify`)")
    row = next((r for r in rows if r["number"] == str(code.number)), None)
    if row is None:
        held = f"it holds {rows[0]['number']} to {rows[-1]['number']}" if rows else "it is empty"
        raise FatalError(f"receipt {code.number} is not in the export {d} ({held})")
    serial_number = row["serial"]
    _same_module(code, serial_number, f"the export {d}")
    key_file = Path(args.key) if args.key else key_dir() / f"{serial_number}.key"
    if not args.key and not key_file.exists():
        raise FatalError(f"no key for module {serial_number} in {key_dir()}: give --key FILE")
    key = load_key(key_file)
    try:
        data = (d / row["data"]).read_bytes()
    except OSError as e:
        raise FatalError(f"cannot read the export's copy of receipt {code.number}: {e}") from None
    unix_time = int(row["unix_time"]) if row["unix_time"] else None
    expected = slip_code.make(
        key, serial_number, code.number, slip_code.journal_time(unix_time), data
    )
    if expected.mac != code.mac:
        raise _mismatch(code, serial_number, f"the export's copy ({row['data']})")
    return {
        "number": code.number,
        "serial": serial_number,
        "time": unix_time,
        "state": row["state"],
        "copy": str(d / row["file"]),
        "match": True,
    }


def cmd_journal_wipe(args) -> int:
    with _link(args) as link:
        serial_number = link.serial_number
        if not args.yes:
            if not sys.stdin.isatty():
                raise FatalError("journal wipe: give --yes, or run it at a terminal to confirm")
            typed = input(
                f"Every receipt on module {serial_number} will be lost. "
                "Type its serial number to go on: "
            ).strip()
            if typed != serial_number:
                raise FatalError("not confirmed: the journal is as it was")
        got = link.wipe()
    print(f"journal wiped: {got['wiped']} receipts gone (logged in the fault log)")
    return 0


# ---- settings, logos, self-test, provision ----------------------------------------------------


# Settings whose numbers stand for names (firmware/tillroll/settings.py): `set` takes either.
_NAMED = {
    "flow": ("none", "rtscts", "xonxoff"),
    "mechanism": ("board", "ltp02-245", "jx-2r-01", "pt486f-b"),
}

SETTINGS_HELP = """\
settings (firmware/tillroll/settings.py; docs/technician.md):
  density      50-150   per cent of the mechanism's rated heat (100)
  speed        10-100   per cent of its rated speed (100)
  chinese      0|1      power-on character mode: 1 GB18030 (as FS &), 0 one-byte code pages (1)
  fit          0|1      fit barcodes and 2D codes too wide for the paper (1)
  code_page    N        the ESC t table at power-on and after ESC @ (0, PC437)
  copy_banner  0|1      1: COPY banners above and below a reprint, 0: above only
  flow         none|rtscts|xonxoff   serial line flow control, from the next power-on (rtscts)
  mechanism    board|ltp02-245|jx-2r-01|pt486f-b   mechanism profile, from the next
               power-on (board: the one the board is built with)
  autoload     0|1      load the settings saved with GS ( M fn 1 at power-on (0)
  verify       0|1|2    a verification code at each receipt's foot: 0 none (0), 1 as text,
               2 as text and QR code (tillroll journal verify)
"""


def _setting_value(item: str) -> tuple[str, int]:
    name, eq, value = item.partition("=")
    if not eq or not name:
        raise FatalError(f"settings set: {item}: give NAME=VALUE")
    names = _NAMED.get(name, ())
    if value in names:
        return name, names.index(value)
    try:
        return name, int(value)
    except ValueError:
        also = f", or one of {', '.join(names)}" if names else ""
        raise FatalError(f"settings set: {item}: a whole number{also}") from None


def _show_setting(name: str, value) -> str:
    names = _NAMED.get(name, ())
    if isinstance(value, int) and 0 <= value < len(names):
        return f"{name} = {value} ({names[value]})"
    return f"{name} = {value}"


def cmd_settings(args) -> int:
    if args.action in ("backup", "restore") and not args.file:
        raise FatalError(f"settings {args.action}: give --file FILE")
    if args.action != "set" and args.values:
        raise FatalError(f"settings {args.action} takes no NAME=VALUE")
    if args.action == "set" and not args.values:
        raise FatalError("settings set: give NAME=VALUE (see tillroll settings --help)")
    pairs = dict(_setting_value(item) for item in args.values)
    saved = None
    if args.action == "restore":
        try:
            saved = json.loads(Path(args.file).read_text())
        except (OSError, ValueError) as e:
            raise FatalError(f"cannot read {args.file}: {e}") from None
        if not isinstance(saved, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in saved.values()
        ):
            raise FatalError(f"{args.file}: not a settings backup (NAME: whole number)")
    with _link(args) as link:
        if args.action == "get":
            values = link.settings()
        elif args.action == "set":
            values = link.set_settings(pairs)
        elif args.action == "backup":
            values = link.settings()
            Path(args.file).write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
            print(f"settings saved to {args.file}")
            return 0
        elif args.action == "restore":
            values = link.set_settings(saved)
        else:
            if not args.yes:
                raise FatalError("settings factory: give --yes to set every setting back")
            values = link.factory()
    if args.json:
        _print_json(values)
        return 0
    for name in sorted(values):
        print(_show_setting(name, values[name]))
    return 0


def cmd_logo(args) -> int:
    if args.action != "list" and not args.logo_key:
        raise FatalError(f"logo {args.action}: which logo? give its two-character key")
    if args.action == "upload" and not args.png:
        raise FatalError("logo upload KEY PNG: which PNG?")
    with _link(args) as link:
        if args.action == "list":
            logos = link.logos()
            if args.json:
                _print_json(logos)
            elif not logos:
                print("no NV logos")
            for lg in logos if not args.json else []:
                print(f"{lg['key']:<4}  {lg['width']} x {lg['height']} dots  ({lg['kind']})")
            return 0
        if args.action == "delete":
            link.delete_logo(args.logo_key)
            print(f"logo {args.logo_key} deleted")
            return 0
        row_bytes, rows, dots = _png_dots(Path(args.png))
        key = args.logo_key
        link.upload_logo(key, row_bytes, rows, dots, Progress(f"logo {key}"))
    print(f"logo {key}: {row_bytes * 8} x {rows} dots stored")
    return 0


def _png_dots(path: Path) -> tuple[int, int, bytes]:
    from PIL import Image

    try:
        im = Image.open(path)
    except OSError as e:
        raise FatalError(f"cannot read {path}: {e}") from None
    if im.width > 384:
        raise FatalError(f"{path}: {im.width} dots wide; the paper takes 384")
    mono = im.convert("L").point(lambda v: 0 if v < 128 else 255, mode="1")
    row_bytes = (im.width + 7) // 8
    # PIL's "1" mode packs 1 for white: the module's dots are 1 for black.
    packed = bytes(b ^ 0xFF for b in mono.tobytes())
    pad = (8 - im.width % 8) % 8
    if pad:
        mask = (0xFF << pad) & 0xFF
        packed = bytes(b & mask if (i + 1) % row_bytes == 0 else b for i, b in enumerate(packed))
    return row_bytes, im.height, packed


def cmd_selftest(args) -> int:
    with _link(args) as link:
        link.self_test()
    print("self-test page printing")
    return 0


def cmd_provision(args) -> int:
    with _link(args, authenticate=False) as link:
        st = link.status()
        key = load_key(args.key) if args.key else new_key()
        if not st["maintenance"]:
            raise FatalError(
                f"module {st['serial']} is not in maintenance mode: hold FEED while switching "
                "it on until the light blinks (5 s), then provision"
            )
        link.provision(key)
        d = key_dir()
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{st['serial']}.key"
        path.write_text(key.hex() + "\n")
        path.chmod(0o600)
        link.authenticate(key, set_clock=False)  # the module has the key we kept
    print(f"module {st['serial']} provisioned; its key is in {path}")
    return 0


# ---- the parser ------------------------------------------------------------------------------


def add_commands(sub) -> None:
    """Add the service-link commands to `tillroll`'s subcommands."""
    port = argparse.ArgumentParser(add_help=False)
    port.add_argument(
        "-p",
        "--port",
        default=os.environ.get("TILLROLL_PORT"),
        help="the module's service port as a pyserial URL: /dev/ttyACM1, "
        "socket://127.0.0.1:9101 (TILLROLL_PORT)",
    )
    port.add_argument("--key", help="the key file (default: KEYS/SERIAL.key, see provision)")
    port.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = sub.add_parser("devices", help="modules on USB and running sims", parents=[port])
    p.set_defaults(func=cmd_devices)
    p = sub.add_parser(
        "status", help="sensors, faults and the journal (no key needed)", parents=[port]
    )
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("log", help="the fault log, with times", parents=[port])
    p.set_defaults(func=cmd_log)
    p = sub.add_parser("counters", help="maintenance counters (GS g 2)", parents=[port])
    p.add_argument("--reset", action="store_true", help="reset the resettable counters")
    p.set_defaults(func=cmd_counters)

    p = sub.add_parser("journal", help="the receipt journal: list, show, reprint, export, wipe")
    js = p.add_subparsers(dest="journal_command", required=True, metavar="ACTION")
    rng = argparse.ArgumentParser(add_help=False)
    rng.add_argument("--since", type=_date, help="from this date or time (local)")
    rng.add_argument("--until", type=_date, help="before this date or time (local)")
    q = js.add_parser("list", help="receipts kept, oldest first", parents=[port, rng])
    q.set_defaults(journal_func=cmd_journal_list)
    q = js.add_parser("show", help="one receipt as a PNG", parents=[port])
    q.add_argument("number", type=int)
    q.add_argument("-o", "--output", help="PNG to write (receipt-N.png)")
    q.set_defaults(journal_func=cmd_journal_show)
    q = js.add_parser("reprint", help="print a receipt again, as a copy", parents=[port])
    q.add_argument("number", type=int)
    q.set_defaults(journal_func=cmd_journal_reprint)
    q = js.add_parser("export", help="receipts as PNG or PDF and index.csv", parents=[port, rng])
    q.add_argument("output", metavar="DIR")
    q.add_argument("--format", choices=["png", "pdf"], default="png")
    q.set_defaults(journal_func=cmd_journal_export)
    q = js.add_parser(
        "verify",
        help="check a slip's verification code against the journal (or an export)",
        description="Tell whether the code printed at a slip's foot (the `verify` setting) "
        "matches a receipt in the module's journal, and write the journal's copy of it as a "
        "PNG. --image reads the code from the slip's QR symbol in a photo or scan; --export "
        "checks it offline against a `journal export` (with the module's key).",
        parents=[port],
    )
    q.add_argument("code", nargs="?", metavar="CODE", help="e.g. 1843-5XK2-R7QM-9TZC-4")
    q.add_argument("--image", help="a photo or scan of the slip: its QR symbol is read")
    q.add_argument("--export", metavar="DIR", help="check against this export, offline")
    q.add_argument("-o", "--output", help="PNG of the journal's copy (receipt-N.png)")
    q.set_defaults(journal_func=cmd_journal_verify)
    q = js.add_parser("wipe", help="erase the journal (confirmed, logged)", parents=[port])
    q.add_argument("--yes", action="store_true", help="do not ask for the serial number")
    q.set_defaults(journal_func=cmd_journal_wipe)
    p.set_defaults(func=cmd_journal)

    p = sub.add_parser(
        "settings",
        help="get, set, back up or restore the settings",
        description="Read or change the module's settings; they survive a power cut. "
        "`set` takes NAME=VALUE pairs, all checked by the module before any is set.",
        epilog=SETTINGS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[port],
    )
    p.add_argument("action", choices=["get", "set", "backup", "restore", "factory"])
    p.add_argument("values", nargs="*", metavar="NAME=VALUE", help="for set")
    p.add_argument("--file", help="for backup and restore: a JSON file")
    p.add_argument("--yes", action="store_true", help="for factory: no question")
    p.set_defaults(func=cmd_settings)

    p = sub.add_parser("logo", help="NV logos (GS ( L key codes)", parents=[port])
    p.add_argument("action", choices=["list", "upload", "delete"])
    p.add_argument("logo_key", nargs="?", metavar="KEY", help="two characters, as GS ( L kc1 kc2")
    p.add_argument("png", nargs="?", help="for upload: the logo, at most 384 dots wide")
    p.set_defaults(func=cmd_logo)

    p = sub.add_parser("selftest", help="print the self-test page", parents=[port])
    p.set_defaults(func=cmd_selftest)
    p = sub.add_parser(
        "provision",
        help="give a module its key (maintenance mode only)",
        description="Give a module in maintenance mode (FEED held 5 s at power-on) a new key, "
        "kept in the key folder as SERIAL.key (TILLROLL_KEYS or ~/.config/tillroll/keys).",
        parents=[port],
    )
    p.set_defaults(func=cmd_provision)
    from . import update_cli

    update_cli.add_commands(sub, port)
