"""`tillroll`: the simulated module, rendering, fonts.

A thin layer over the library: each command parses its arguments and calls one function; an
expected failure is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import __version__, cjkc, deploy, fontc, fontset, service_cli
from . import flash as flashing
from .chip import ChipModule, image_path
from .errors import FatalError
from .paths import micropython_env
from .pty_bridge import PtyBridge
from .render import render
from .sim import RESTART, SimModule, free_port, sim_command


def cmd_sim(args) -> int:
    """Run the simulated module in the foreground until Ctrl-C."""
    if args.chip:
        return cmd_sim_chip(args)
    if args.web:
        return cmd_sim_web(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sim_args = ["--data-port", str(args.data_port), "--host", args.host, "--out", str(out)]
    if args.control_port:
        sim_args += ["--control-port", str(args.control_port)]
    if args.state:
        Path(args.state).mkdir(parents=True, exist_ok=True)
        sim_args += ["--state", args.state]
    if args.chars:
        sim_args += ["--chars", args.chars]
    if args.fit:
        sim_args += ["--fit", args.fit]
    sim_args += ["--mechanism", args.mechanism]
    if args.real_time:
        sim_args.append("--real-time")
    if args.feed_held:
        sim_args.append("--feed-held")
    if args.flash:
        sim_args += ["--flash", str(Path(args.flash).resolve())]
    if args.journal:
        Path(args.journal).parent.mkdir(parents=True, exist_ok=True)
        sim_args += ["--journal", args.journal, "--copy-banner", args.copy_banner]
        if args.resume_at_line:
            sim_args.append("--resume-at-line")
        if args.idle_ms:
            sim_args += ["--idle-ms", str(args.idle_ms)]
    sim_args += ["--idle-close-ms", str(args.idle_close_ms)]
    if args.service_port:
        sim_args += ["--service-port", str(args.service_port), "--serial", args.serial]
        if args.maintenance:
            sim_args.append("--maintenance")
    if args.update:
        Path(args.update).parent.mkdir(parents=True, exist_ok=True)
        sim_args += ["--update", args.update]
    line_port = free_port() if args.pty else 0
    if line_port:  # the pty is a serial line, not a sender: never closed for idling
        sim_args += ["--line-port", str(line_port)]
    cmd = sim_command(sim_args)
    print(
        f"tillroll sim: receipts go to {out.resolve()}/receipt-NNNN.png; Ctrl-C stops", flush=True
    )
    proc = subprocess.Popen(cmd, env={**os.environ, **micropython_env()})
    bridge = None
    entry = _announce(proc.pid, args) if args.service_port else None
    try:
        if args.pty:
            bridge = _bridge_when_listening(line_port, args.host, proc)
            print(f"pty: {bridge.path}", flush=True)
        while proc.wait() == RESTART:  # the module restarted itself (an update): as a board
            proc = subprocess.Popen(cmd, env={**os.environ, **micropython_env()})
        return proc.returncode
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()
    finally:
        if bridge is not None:
            bridge.stop()
        if entry is not None:
            entry.unlink(missing_ok=True)
        if proc.poll() is None:  # the bridge failed: the module goes with it
            proc.send_signal(signal.SIGINT)
            proc.wait()


def _announce(pid: int, args) -> Path:
    """Say where this sim serves, for `tillroll devices`."""
    d = service_cli.run_dir()
    d.mkdir(parents=True, exist_ok=True)
    entry = d / f"{pid}.json"
    info = {"pid": pid, "host": args.host, "data": args.data_port, "service": args.service_port}
    entry.write_text(json.dumps(info))
    return entry


def cmd_sim_web(args) -> int:
    """The simulated module behind a web page (docs/sim.md, "In a browser")."""
    from .web import WebSim, serve

    if args.pty:
        raise FatalError("--pty is not for --web: a power cut on the page restarts the module")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    journal = Path(args.journal or out / "journal.img")  # the page's journal needs one
    journal.parent.mkdir(parents=True, exist_ok=True)
    sim_args = ["--mechanism", args.mechanism, "--journal", str(journal)]
    sim_args += ["--copy-banner", args.copy_banner]
    if args.state:
        Path(args.state).mkdir(parents=True, exist_ok=True)
        sim_args += ["--state", args.state]
    if args.flash:
        sim_args += ["--flash", str(Path(args.flash).resolve())]
    if args.resume_at_line:
        sim_args.append("--resume-at-line")
    if args.idle_ms:
        sim_args += ["--idle-ms", str(args.idle_ms)]
    web = WebSim(
        out,
        data_port=args.data_port,
        host=args.host,
        sim_args=sim_args,
        real_time=args.real_time,
        control_port=args.control_port,
        nv_dir=Path(args.flash) if args.flash else None,
    )
    print(
        f"tillroll sim: receipts go to {out.resolve()}/receipt-NNNN.png, the journal to "
        f"{journal}; Ctrl-C stops",
        flush=True,
    )
    try:
        serve(web, args.web_host, args.web)
    except KeyboardInterrupt:
        pass
    return 0


# What the unix-port sim offers and the emulated chip does not (yet): refused by name.
_NOT_ON_CHIP = {
    "mechanism": "the image's profile is the LTP02-245 (its `mechanism` setting)",
    "real_time": "the chip always runs at its own pace",
    "feed_held": "not wired in the harness yet",
    "flash": "NV logos live in the chip's flash (--state)",
    "journal": "the journal lives in the chip's flash (--state)",
    "resume_at_line": "a setting of the image",
    "idle_ms": "a setting of the image",
    "web": "the page runs the unix-port sim",
    "chars": "settings are kept in the chip's flash: `tillroll settings set chinese=0|1`",
    "fit": "settings are kept in the chip's flash: `tillroll settings set fit=0|1`",
}


def cmd_sim_chip(args) -> int:
    """The board image on the emulated RP2040, behind the same data port."""
    for name, why in _NOT_ON_CHIP.items():
        value = getattr(args, name)
        if value and value != _SIM_DEFAULTS.get(name):
            raise FatalError(f"--{name.replace('_', '-')} is not for --chip {args.chip}: {why}")
    state = Path(args.state or "out")
    state.mkdir(parents=True, exist_ok=True)
    flash = state / f"{args.chip}-flash.bin"
    if not flash.exists():
        uf2 = image_path(args.dev)  # a new module: the whole-module image
    elif args.flash_image:
        uf2 = image_path(args.dev, update=True)  # keeps the journal and settings
    else:
        uf2 = None  # switched on again as it was
    out = Path(args.out)
    extra = ["--tear-idle-ms", "1000"]  # the cashier takes the receipt once the paper stops
    if args.control_port:
        extra += ["--control-port", str(args.control_port)]
    chip = ChipModule(
        flash,
        uf2=uf2,
        data_port=args.data_port,
        host=args.host,
        repl=args.dev,
        echo=True,
        extra_args=extra,
        twin=args.mechanism,
        paper=out,
    )
    if args.control_port:
        chip.control_port = args.control_port
    if args.service_port:  # the service CDC on this TCP port (and a pty with --pty)
        chip.service_port = args.service_port
        chip.feed_held = args.maintenance
    what = "development" if args.dev else "production"
    print(f"tillroll sim --chip {args.chip}: the {what} image, flash kept in {flash}", flush=True)
    print(
        f"tillroll sim: receipts go to {out.resolve()}/receipt-NNNN.png, printed by the pins; "
        "Ctrl-C stops",
        flush=True,
    )
    bridge = service_bridge = None
    try:
        chip.start()
        if args.dev:
            print(f"repl: 127.0.0.1:{chip.repl_port}", flush=True)
        if args.pty:
            bridge = PtyBridge(chip.data_port, args.host).start()
            print(f"pty: {bridge.path}", flush=True)
        if args.service_port:
            print(f"service: socket://{args.host}:{args.service_port}", flush=True)
            if args.pty:
                service_bridge = PtyBridge(args.service_port, args.host).start()
                print(f"service pty: {service_bridge.path}", flush=True)
        while chip.running():
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if bridge is not None:
            bridge.stop()
        if service_bridge is not None:
            service_bridge.stop()
        chip.stop()


_SIM_DEFAULTS = {"mechanism": "ltp02-245"}


def _bridge_when_listening(
    port: int, host: str, proc: subprocess.Popen, timeout: float = 30.0
) -> PtyBridge:
    """A pty bridged to the data port, once the starting module listens on it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return PtyBridge(port, host).start()
        except FatalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def cmd_render(args) -> int:
    flash = Path(args.flash) if args.flash else None
    count = render(Path(args.source), Path(args.output), flash, args.chars, args.fit)
    noun = "receipt" if count == 1 else "receipts"
    print(f"{args.output}: {count} {noun}")
    return 0


def cmd_demo(args) -> int:
    """Print the sample receipt on a simulated module and keep its PNG."""
    from .sample import send_shop_receipt

    output = Path(args.output)
    with tempfile.TemporaryDirectory(prefix="tillroll-demo-") as tmp:
        sim = SimModule(Path(tmp))
        print(f"starting the simulated module on 127.0.0.1:{sim.data_port} ...", flush=True)
        with sim:
            print("sending the sample receipt with python-escpos ...", flush=True)
            send_shop_receipt(sim.data_port)
            png = sim.wait_receipt()
            output.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, output)
    print(f"receipt printed: {output}")
    return 0


def cmd_fontc(args) -> int:
    return fontc.main(args.rest)


def cmd_cjkc(args) -> int:
    return cjkc.main(args.rest)


def cmd_fonts(args) -> int:
    for line in fontset.build(Path(args.output)):
        print(line)
    return 0


def cmd_flash(args) -> int:
    """Write a UF2 file to a module in BOOTSEL mode (docs/technician.md, "Flashing a module")."""
    flashing.flash(
        Path(args.file),
        drive=args.drive,
        picotool=args.picotool,
        factory=args.factory,
        yes=args.yes,
        progress=service_cli.Progress("flashing"),
    )
    return 0


def _setting_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--chars",
        choices=["gb18030", "single-byte"],
        help="set the power-on character mode: GB18030 Chinese (the default, as on modules "
        "sold in China) or single-byte code pages (kept with --state)",
    )
    p.add_argument(
        "--fit",
        choices=["on", "off"],
        help="set whether barcodes, QR and PDF417 codes too wide for the paper are fitted to "
        "it (on, the default) or print nothing as on Epson printers (kept with --state)",
    )


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tillroll",
        description="Tillroll receipt-printer tools: run the simulated module, render ESC/POS "
        "to a PNG, compile fonts, and service a module (status, journal, counters, settings).",
    )
    ap.add_argument("--version", action="version", version=f"tillroll {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "sim",
        help="run the simulated module",
        description="Run the firmware on the MicroPython unix port with the simulated board. "
        "It listens for ESC/POS on 127.0.0.1 and writes one PNG per receipt until Ctrl-C. "
        "With --pty, the data port is also a serial device for clients that want a path: "
        "the line `pty: /dev/pts/N` names it.",
    )
    p.add_argument("--data-port", type=int, default=9100, help="TCP port for ESC/POS (9100)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address of the data port (127.0.0.1; any 127.x.y.z works, so several "
        "modules can each take port 9100)",
    )
    p.add_argument("--out", default="out", help="folder for receipt PNGs (out)")
    p.add_argument(
        "--control-port", type=int, default=0, help="TCP port of the control channel (off)"
    )
    p.add_argument("--state", help="folder where settings persist (not persisted)")
    _setting_options(p)
    p.add_argument(
        "--mechanism",
        default="ltp02-245",
        choices=["ltp02-245", "jx-2r-01", "pt486f-b"],
        help="the mechanism fitted (ltp02-245); the firmware uses its profile unless the "
        "`mechanism` setting names another",
    )
    p.add_argument(
        "--real-time", action="store_true", help="print in real time (default: virtual time)"
    )
    p.add_argument(
        "--feed-held", action="store_true", help="FEED held at power-on: print the self-test"
    )
    p.add_argument(
        "--flash", metavar="DIR", help="the module's flash, where NV logos stay (OUT/flash)"
    )
    p.add_argument(
        "--journal", metavar="FILE", help="the receipt journal's flash image, kept between runs"
    )
    p.add_argument("--copy-banner", default="COPY", help="printed around a receipt printed again")
    p.add_argument(
        "--resume-at-line",
        action="store_true",
        help="after a fault, finish the receipt from the failed line instead of a copy",
    )
    p.add_argument(
        "--idle-ms", type=int, default=0, help="end a receipt after this many idle ms (0: off)"
    )
    p.add_argument(
        "--idle-close-ms",
        type=int,
        default=30000,
        help="close a sender idle this many ms while another waits for its turn; never while "
        "its receipt prints or a reply it asked for is due (30000; 0: never)",
    )
    p.add_argument(
        "--pty",
        action="store_true",
        help="also offer the data port as a serial device (a raw pseudo-terminal) and print "
        "its path as `pty: /dev/pts/N`",
    )
    p.add_argument(
        "--web",
        type=int,
        default=0,
        metavar="PORT",
        help="show the module on a web page at http://127.0.0.1:PORT/: the paper as it "
        "prints, its lights, FEED, paper, cover and power buttons, and its journal (kept in "
        "OUT/journal.img unless --journal)",
    )
    p.add_argument(
        "--web-host", default="127.0.0.1", help="address the web page listens on (127.0.0.1)"
    )
    p.add_argument(
        "--service-port",
        type=int,
        default=0,
        metavar="PORT",
        help="the service link on HOST:PORT, for `tillroll status` and the other technician's "
        "commands (off); its key is kept with --state",
    )
    p.add_argument(
        "--maintenance",
        action="store_true",
        help="FEED held 5 s at power-on: maintenance mode, where `tillroll provision` may set "
        "the service key",
    )
    p.add_argument("--serial", default="SIM00001", help="the module's serial number (SIM00001)")
    p.add_argument(
        "--update",
        metavar="FILE",
        help="the update slot's flash image, kept between runs: `tillroll update` installs "
        "signed bundles into it (docs/update.md)",
    )
    p.add_argument(
        "--chip",
        choices=["rp2040"],
        help="run the board image (`make firmware`) on an emulated RP2040 instead of the unix "
        "port; its flash is kept in STATE/rp2040-flash.bin (docs/hardware.md)",
    )
    p.add_argument(
        "--dev",
        action="store_true",
        help="with --chip: the development image, its REPL on a TCP port (printed as `repl:`)",
    )
    p.add_argument(
        "--flash-image",
        action="store_true",
        help="with --chip: write the image into the kept flash again (an update leaves the "
        "journal and settings; a new flash file gets the whole-module image)",
    )
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser(
        "render",
        help="print an ESC/POS file to a PNG",
        description="Print an ESC/POS file through the same firmware, with no network, and "
        "write what would come out on paper (384 dots wide).",
    )
    p.add_argument("source", metavar="IN.bin", help="ESC/POS file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="PNG to write")
    p.add_argument(
        "--flash",
        metavar="DIR",
        help="the module's flash: NV logos defined by one render print in the next "
        "(default: a fresh, empty flash)",
    )
    _setting_options(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser(
        "demo",
        help="print the sample receipt on a simulated module",
        description="Start a simulated module, send a sample shop receipt with python-escpos "
        "over TCP, stop the module and keep the receipt's PNG.",
    )
    p.add_argument("-o", "--output", default="out/demo-receipt.png", help="PNG to write")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "fontc",
        help="compile a bitmap font for the firmware",
        description="Compile a BDF/PCF font into the firmware's TRF format "
        "(`tillroll fontc --help` for its options).",
        add_help=False,
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_fontc)

    p = sub.add_parser(
        "cjkc",
        help="rasterize a CJK outline font for the firmware",
        description="Rasterize a TrueType/OpenType CJK font into the firmware's 24x24 TCJ "
        "format (`tillroll cjkc --help` for its options).",
        add_help=False,
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_cjkc)

    p = sub.add_parser(
        "fonts",
        help="rebuild the firmware's whole font set",
        description="Build Font A, Font B, the CJK font and the code page tables from their "
        "Debian sources.",
    )
    p.add_argument("-o", "--output", default="firmware/fonts", help="folder (firmware/fonts)")
    p.set_defaults(func=cmd_fonts)

    p = sub.add_parser(
        "flash",
        help="write a UF2 image to a module in BOOTSEL mode",
        description="Write a UF2 file (out/firmware/tillroll-rp2_pico.uf2) to a module in "
        "BOOTSEL mode: hold BOOTSEL while plugging it in. A module in the field keeps its "
        "settings, update slot and journal: only the firmware and fonts are written (the "
        "blocks below the filesystem at 0x1A0000). --factory writes every block, erasing "
        "them. The image goes to the RPI-RP2 drive (found among mounted drives, or --drive), "
        "or through `picotool load` (--picotool, or when no drive is mounted).",
    )
    p.add_argument("file", metavar="FILE.uf2", help="the UF2 image")
    p.add_argument("--drive", metavar="DIR", help="the RPI-RP2 drive's folder (found if mounted)")
    p.add_argument(
        "--picotool", action="store_true", help="load with `picotool load -x` (on PATH)"
    )
    p.add_argument(
        "--factory",
        action="store_true",
        help="write every block: erases the settings, update slot and journal (a new module)",
    )
    p.add_argument("--yes", action="store_true", help="for --factory: do not ask")
    p.set_defaults(func=cmd_flash)
    service_cli.add_commands(sub)
    deploy.add_commands(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except FatalError as e:
        print(f"tillroll: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
