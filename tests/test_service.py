"""The technician's `tillroll` commands against the simulated module's service link, as a
technician meets them: status without a key, everything else only with the module's own key,
wrong keys refused and slowed, the journal listed, shown, reprinted and exported, counters
read over the service link and with ESC/POS GS g 2 (docs/service-protocol.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import socket
import struct
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from serial.tools.list_ports_common import ListPortInfo

from ocr import read_text
from tillroll_host import cli
from tillroll_host.service import (
    JOURNAL_LIST,
    NEEDS_AUTH,
    WAIT,
    ServiceError,
    ServiceLink,
    crc16,
    frame,
    load_key,
)
from tillroll_host.sim import SimModule, free_port, send

CUT = b"\x1dV\x00"


def receipt(first: bytes, *lines: bytes) -> bytes:
    return b"\x1b@" + first + b"\n" + b"".join(line + b"\n" for line in lines) + CUT


class Module:
    """A simulated module with a journal, its service port and a key folder."""

    def __init__(self, root: Path, maintenance: bool = True, serial: str = "SIM00001"):
        self.root = root
        self.service_port = free_port()
        self.url = f"socket://127.0.0.1:{self.service_port}"
        args = ["--journal", str(root / "journal.img"), "--service-port", str(self.service_port)]
        args += ["--serial", serial]
        if maintenance:
            args.append("--maintenance")
        self.sim = SimModule(root / "out", state_dir=root / "state", extra_args=args)

    def __enter__(self) -> Module:
        self.sim.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sim.stop()


def tillroll(capsys, *argv: str) -> tuple[int, str, str]:
    """Run `tillroll ARGV` as a technician does; return (status, stdout, stderr)."""
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def keys(tmp_path: Path, monkeypatch) -> Path:
    d = tmp_path / "keys"
    monkeypatch.setenv("TILLROLL_KEYS", str(d))
    return d


@pytest.fixture
def shop(tmp_path: Path, keys: Path, capsys):
    """A provisioned module that has printed two receipts."""
    with Module(tmp_path) as m:
        code, out, err = tillroll(capsys, "provision", "-p", m.url)
        assert (
            code == 0
            and out == f"module SIM00001 provisioned; its key is in {keys}/SIM00001.key\n"
        ), err
        send(m.sim.data_port, receipt(b"Corner Shop 1843", b"Tea 1.20", b"Thank you"))
        send(m.sim.data_port, receipt(b"Corner Shop 1844", b"Coffee 2.50"))
        m.sim.wait_receipt(2)
        yield m


def test_status_needs_no_key_and_reads_every_sensor_and_fault(tmp_path, keys, capsys):
    with Module(tmp_path, maintenance=False) as m:
        m.sim.paper_out()
        m.sim.open_cover()
        code, out, err = tillroll(capsys, "status", "-p", m.url)
        assert code == 0, err
        lines = dict(line.split(None, 1) for line in out.splitlines())
        assert lines["module"] == "Tillroll 58 serial SIM00001, firmware 0.1.0"
        assert lines["faults"] == "paper out, cover open"
        assert lines["paper"] == "OUT"
        assert lines["cover"] == "OPEN"
        assert lines["supply"] == "8.50 V"
        assert lines["journal"] == "0 receipts, 6% full"
        assert lines["elements"] == "not checked (self-test checks them)"
        assert lines["key"] == "NOT provisioned"
        code, out, _ = tillroll(capsys, "status", "-p", m.url, "--json")
        st = json.loads(out)
        assert st["faults"] == ["paper_out", "cover_open"] and st["provisioned"] is False


def test_the_journal_cannot_be_read_without_the_key(tmp_path, keys, capsys):
    with Module(tmp_path, maintenance=False) as m:
        send(m.sim.data_port, receipt(b"Secret shop"))
        m.sim.wait_receipt()
        with ServiceLink.open(m.url) as link:
            status, body = link.request(JOURNAL_LIST, b"{}")
        assert status == NEEDS_AUTH and json.loads(body) == {
            "error": "no key: provision the module"
        }
        code, out, err = tillroll(capsys, "journal", "list", "-p", m.url)
        assert code == 2 and out == ""
        assert err == f"tillroll: no key for module SIM00001 in {keys}: give --key FILE\n"


def test_a_key_is_given_only_in_maintenance_mode_and_kept_across_power_cycles(
    tmp_path, keys, capsys
):
    with Module(tmp_path, maintenance=False) as m:
        code, _, err = tillroll(capsys, "provision", "-p", m.url)
        assert code == 2 and err.startswith(
            "tillroll: module SIM00001 is not in maintenance mode: hold FEED"
        )
        assert not (keys / "SIM00001.key").exists()
    with Module(tmp_path) as m:  # FEED held at power-on
        code, _, err = tillroll(capsys, "provision", "-p", m.url)
        assert code == 0, err
    with Module(tmp_path, maintenance=False) as m:  # switched on again as usual
        code, out, err = tillroll(capsys, "journal", "list", "-p", m.url)
        assert (code, out) == (0, "the journal holds no receipts\n"), err
        with ServiceLink.open(m.url) as link:
            with pytest.raises(ServiceError, match="maintenance mode"):
                link.provision(b"\x00" * 32)  # nobody replaces the key over the link


def test_a_wrong_key_is_refused_and_repeated_wrong_keys_wait_longer(tmp_path, keys, capsys):
    with Module(tmp_path) as m:
        assert tillroll(capsys, "provision", "-p", m.url)[0] == 0
        right = load_key(keys / "SIM00001.key")
        wrong = tmp_path / "wrong.key"
        wrong.write_text("11" * 32)
        code, out, err = tillroll(capsys, "log", "-p", m.url, "--key", str(wrong))
        assert code == 2 and out == ""
        assert err == (
            "tillroll: wrong key for module SIM00001; the module waits 250 ms before the "
            "next attempt\n"
        )
        waits = [250]
        with ServiceLink.open(m.url) as link:
            for _ in range(3):  # each wrong key tried once the wait before it is over
                time.sleep(waits[-1] / 1000 + 0.05)
                with pytest.raises(ServiceError) as wrong_again:
                    link.authenticate(bytes(32))
                waits.append(wrong_again.value.reply["retry_ms"])
            assert waits == [250, 500, 1000, 2000]
            # During the wait even the right key is refused, unchecked.
            with pytest.raises(ServiceError) as refused:
                link.authenticate(right)
            assert refused.value.status == WAIT and str(refused.value).startswith("wait")
            st = link.status()
            assert (st["auth_failures"], st["auth_refused"], st["auth_imposed_ms"]) == (
                4,
                1,
                3750,
            )
            time.sleep(waits[-1] / 1000 + 0.05)
            link.authenticate(right)
            assert link.status()["authenticated"] is True


def test_a_damaged_frame_is_answered_and_the_next_one_served(tmp_path, keys):
    with Module(tmp_path) as m:
        with socket.create_connection(("127.0.0.1", m.service_port), timeout=10) as s:
            bad = bytearray(frame(0x01, b"", 1))
            bad[-1] ^= 0xFF
            s.sendall(bytes(bad) + frame(0x01, b"", 2))
            f = s.makefile("rb")
            replies = []
            for _ in range(2):
                head = f.read(7)
                _, cmd, seq, n = struct.unpack_from("<BBBH", head, 2)
                rest = f.read(n + 2)
                assert crc16(head[2:] + rest[:n]) == struct.unpack_from("<H", rest, n)[0]
                replies.append((cmd, seq, rest[0], json.loads(rest[1:n])))
        assert replies[0] == (0xFF, 1, 1, {"error": "frame: CRC"})
        assert replies[1][:3] == (0x01, 2, 0) and replies[1][3]["serial"] == "SIM00001"


def test_journal_list_show_reprint_and_export(shop, tmp_path, capsys):
    url = shop.url
    code, out, err = tillroll(capsys, "journal", "list", "-p", url)
    assert code == 0, err
    rows = [line.split(None, 4) for line in out.splitlines()]
    assert [(r[0], r[3], r[4]) for r in rows] == [
        ("1", "printed", "Corner Shop 1843"),
        ("2", "printed", "Corner Shop 1844"),
    ]
    # The receipt as the journal keeps it prints the same dots as it did in the shop.
    png = tmp_path / "r1.png"
    code, out, err = tillroll(capsys, "journal", "show", "1", "-p", url, "-o", str(png))
    assert code == 0, err
    assert out.splitlines()[1] == str(png)
    printed = Image.open(shop.sim.receipts[0]).convert("1")
    assert ImageChops.difference(Image.open(png).convert("1"), printed).getbbox() is None

    code, out, _ = tillroll(capsys, "journal", "reprint", "1", "-p", url)
    assert out == "receipt 1 queued to print again, marked as a copy\n"
    lines = read_text(shop.sim.wait_receipt(3))
    assert "COPY" in lines and "Corner Shop 1843" in lines, lines

    export = tmp_path / "audit"
    today = dt.date.today().isoformat()
    code, out, err = tillroll(
        capsys, "journal", "export", str(export), "-p", url, "--since", today, "--format", "pdf"
    )
    assert code == 0, err
    assert out == f"{export}: 2 receipts as PDF, index in index.csv\n"
    with (export / "index.csv").open() as f:
        index = list(csv.DictReader(f))
    assert [(r["number"], r["first_line"], r["file"]) for r in index] == [
        ("1", "Corner Shop 1843", "receipt-000001.pdf"),
        ("2", "Corner Shop 1844", "receipt-000002.pdf"),
    ]
    assert (export / "receipt-000002.pdf").read_bytes().startswith(b"%PDF")
    code, out, _ = tillroll(capsys, "journal", "list", "-p", url, "--until", today)
    assert out == "the journal holds no receipts in that range\n"


def test_a_long_receipt_reads_back_whole_over_several_frames(shop):
    lines = [b"Item %03d      %d.%02d" % (i, i, i % 100) for i in range(200)]
    send(shop.sim.data_port, receipt(b"Long receipt", *lines))
    shop.sim.wait_receipt(3)
    with ServiceLink.open(shop.url) as link:
        link.authenticate(load_key(Path(cli.service_cli.key_dir()) / "SIM00001.key"))
        data = link.journal_bytes(3)
    assert len(data) > 4000  # three frames' worth
    assert data == shop.sim.journal_bytes(3)  # as the control channel reads the flash


def test_the_host_sets_the_clock_and_receipts_carry_its_time(shop, capsys):
    with ServiceLink.open(shop.url) as link:
        link.authenticate(load_key(Path(cli.service_cli.key_dir()) / "SIM00001.key"))
        link.set_clock(int(dt.datetime(2030, 1, 2, 9, 30).timestamp()))
    send(shop.sim.data_port, receipt(b"After the visit"))
    shop.sim.wait_receipt(3)
    code, out, _ = tillroll(capsys, "journal", "list", "-p", shop.url, "--json")
    rows = json.loads(out)
    assert rows[2]["first_line"] == "After the visit"
    assert dt.datetime.fromtimestamp(rows[2]["time"]).date() == dt.date(2030, 1, 2)


def test_counters_over_the_link_and_with_gs_g(shop, tmp_path, capsys):
    code, out, err = tillroll(capsys, "counters", "-p", shop.url, "--json")
    table = json.loads(out)
    assert table["cuts"] == {"resettable": 2, "cumulative": 2}
    fed = table["lines_fed"]["cumulative"]
    assert fed > 100 and table["head_energized"]["cumulative"] > 0

    def gs_g2(n: int) -> bytes:
        with socket.create_connection(("127.0.0.1", shop.sim.data_port), timeout=10) as s:
            s.sendall(b"\x1dg2\x00" + bytes((n, 0)))
            reply = b""
            while not reply.endswith(b"\x00"):
                reply += s.recv(16)
            return reply

    # Epson's reply: 5Fh, the count in decimal digits, NUL.
    assert gs_g2(50) == b"\x5f2\x00"
    assert gs_g2(178) == b"\x5f2\x00"
    assert gs_g2(148) == b"\x5f%d\x00" % fed
    send(shop.sim.data_port, b"\x1dg0\x00\x32\x00")  # GS g 0: reset the cut counter
    assert gs_g2(50) == b"\x5f0\x00"
    assert gs_g2(178) == b"\x5f2\x00"
    code, out, _ = tillroll(capsys, "counters", "-p", shop.url, "--reset")
    assert out.splitlines()[0] == "resettable counters reset"
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert rows["cuts"] == ["0", "2"] and rows["lines_fed"] == ["0", str(fed)]


def test_counters_survive_a_power_cycle(tmp_path, keys, capsys):
    with Module(tmp_path) as m:
        assert tillroll(capsys, "provision", "-p", m.url)[0] == 0
        send(m.sim.data_port, receipt(b"One"))
        m.sim.wait_receipt()
        tillroll(capsys, "counters", "-p", m.url, "--reset")  # saved on reset
        send(m.sim.data_port, receipt(b"Two"))
        m.sim.wait_receipt(2)
        saved = json.loads(tillroll(capsys, "counters", "-p", m.url, "--json")[1])
    with Module(tmp_path, maintenance=False) as m:
        after = json.loads(tillroll(capsys, "counters", "-p", m.url, "--json")[1])
    # Saved at the reset (the module writes its counters at most every 10 minutes): the
    # second receipt's counts, not yet written, are the most a power cut can lose.
    assert after["cuts"] == {"resettable": 0, "cumulative": 1}
    assert saved["cuts"] == {"resettable": 1, "cumulative": 2}


def test_the_fault_log_has_the_faults_with_their_times(shop, capsys):
    shop.sim.open_cover()
    shop.sim.wait_status(lambda s: True)
    time.sleep(0.6)  # the module looks at its sensors four times a second
    shop.sim.open_cover(False)
    time.sleep(0.6)
    code, out, err = tillroll(capsys, "log", "-p", shop.url)
    assert code == 0, err
    lines = out.splitlines()
    today = dt.date.today().isoformat()
    assert lines[-2].startswith(today) and lines[-2].endswith("cover open"), lines
    assert lines[-1].startswith(today) and lines[-1].endswith("all clear"), lines


FACTORY = (
    "autoload = 0\nchinese = 1\ncode_page = 0\ncopy_banner = 1\ndensity = 100\nfit = 1\n"
    "flow = 1 (rtscts)\nmechanism = 0 (board)\nspeed = 100\nverify = 0\n"
)


def test_settings_get_set_backup_restore_factory(shop, tmp_path, capsys):
    url = shop.url
    code, out, _ = tillroll(capsys, "settings", "get", "-p", url)
    assert out == FACTORY
    backup = tmp_path / "settings.json"
    assert tillroll(capsys, "settings", "backup", "-p", url, "--file", str(backup))[0] == 0
    code, out, err = tillroll(
        capsys, "settings", "set", "density=120", "chinese=0", "code_page=16", "-p", url
    )
    assert code == 0, err
    assert out == FACTORY.replace("chinese = 1", "chinese = 0").replace(
        "code_page = 0", "code_page = 16"
    ).replace("density = 100", "density = 120")
    code, out, _ = tillroll(capsys, "settings", "set", "flow=xonxoff", "mechanism=2", "-p", url)
    assert "flow = 2 (xonxoff)\nmechanism = 2 (jx-2r-01)\n" in out
    code, out, _ = tillroll(capsys, "settings", "restore", "-p", url, "--file", str(backup))
    assert out == FACTORY
    tillroll(capsys, "settings", "set", "speed=80", "copy_banner=0", "-p", url)
    code, out, _ = tillroll(capsys, "settings", "factory", "-p", url, "--yes")
    assert out == FACTORY
    assert (shop.root / "state" / "settings").read_text().count("\n") == 10


def test_a_bad_setting_is_one_clear_line_and_nothing_changes(shop, tmp_path, capsys):
    url = shop.url
    for argv, said in (
        (["colour=2"], "no setting colour; one of autoload, chinese, code_page, copy_banner, "),
        (["density=120", "speed=500"], "speed 500: from 10 to 100"),
        (["code_page=99"], "code page 99: not on this module"),
        (["flow=fast"], "settings set: flow=fast: a whole number, or one of none, rtscts, "),
        (["density"], "settings set: density: give NAME=VALUE"),
        (["density=1.5"], "settings set: density=1.5: a whole number"),
    ):
        code, out, err = tillroll(capsys, "settings", "set", *argv, "-p", url)
        assert code == 2 and out == "" and err.startswith("tillroll: " + said), err
        assert len(err.splitlines()) == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"density": "dark"}')
    code, _, err = tillroll(capsys, "settings", "restore", "-p", url, "--file", str(bad))
    assert (code, err) == (2, f"tillroll: {bad}: not a settings backup (NAME: whole number)\n")
    assert tillroll(capsys, "settings", "get", "-p", url)[1] == FACTORY  # density not 120


def test_settings_help_lists_every_setting(capsys):
    with pytest.raises(SystemExit):
        cli.main(["settings", "--help"])
    out = capsys.readouterr().out
    for name in ("density", "speed", "chinese", "fit", "code_page", "copy_banner", "flow"):
        assert f"\n  {name} " in out, name
    assert "mechanism    board|ltp02-245|jx-2r-01|pt486f-b" in out


def reprint_height(shop, capsys, number: int, receipt: int) -> int:
    assert tillroll(capsys, "journal", "reprint", str(number), "-p", shop.url)[0] == 0
    return Image.open(shop.sim.wait_receipt(receipt)).height


def test_the_copy_banner_setting_prints_one_banner_or_two_never_none(shop, tmp_path, capsys):
    original = Image.open(shop.sim.wait_receipt(2)).height
    with_banner = reprint_height(shop, capsys, 2, 3)
    assert "COPY" in read_text(shop.sim.wait_receipt(3))
    tillroll(capsys, "settings", "set", "copy_banner=0", "-p", shop.url)
    one = reprint_height(shop, capsys, 2, 4)
    assert "COPY" in read_text(shop.sim.wait_receipt(4))  # a copy is never unmarked
    # One double-height banner (48 dot lines, with its spacing) is what went.
    assert original + 48 <= one <= with_banner - 48, (original, one, with_banner)
    png = str(tmp_path / "2.png")
    info = json.loads(
        tillroll(capsys, "journal", "show", "2", "-p", shop.url, "-o", png, "--json")[1]
    )
    assert info["copies"] == 2  # the journal counts both copies, banner or not


def test_the_mechanism_setting_takes_effect_at_the_next_power_on(tmp_path, keys, capsys):
    with Module(tmp_path) as m:
        assert tillroll(capsys, "provision", "-p", m.url)[0] == 0
        code, out, _ = tillroll(capsys, "settings", "set", "mechanism=pt486f-b", "-p", m.url)
        assert "mechanism = 3 (pt486f-b)" in out
        status = json.loads(tillroll(capsys, "status", "-p", m.url, "--json")[1])
        assert status["mechanism"] == "SII LTP02-245-13"  # until it is switched on again
    with Module(tmp_path, maintenance=False) as m:
        status = json.loads(tillroll(capsys, "status", "-p", m.url, "--json")[1])
        assert status["mechanism"] == "PRT PT486F-B"
        tillroll(capsys, "settings", "set", "mechanism=board", "-p", m.url)
    with Module(tmp_path, maintenance=False) as m:
        status = json.loads(tillroll(capsys, "status", "-p", m.url, "--json")[1])
        assert status["mechanism"] == "SII LTP02-245-13"


def gs_e(fn: int, *params: int) -> bytes:
    body = bytes((fn, *params))
    return b"\x1d(E" + struct.pack("<H", len(body)) + body


def test_gs_e_over_the_data_link_sets_what_tillroll_settings_reads(shop, capsys):
    with socket.create_connection(("127.0.0.1", shop.sim.data_port), timeout=10) as s:

        def ask(data: bytes) -> bytes:
            s.sendall(data)
            reply = b""
            while not reply.endswith(b"\x00"):
                reply += s.recv(16)
            return reply

        assert ask(gs_e(1, 0x49, 0x4E)) == b"\x37\x20\x00"  # user setting mode
        s.sendall(gs_e(5, 5, 4, 0, 6, 6, 0))  # density +4 (120 %), speed level 6
        assert ask(gs_e(6, 5)) == b"\x37\x27\x35\x1f\x34\x00"
        s.sendall(gs_e(2, 0x4F, 0x55, 0x54))  # end: saved, and a software reset
        assert ask(gs_e(12, 3)) == b"\x37\x33\x33\x1f\x30\x00"
    out = tillroll(capsys, "settings", "get", "-p", shop.url)[1]
    assert "density = 120\n" in out and "speed = 66\n" in out


def test_the_fault_log_survives_a_power_cut(tmp_path, keys, capsys):
    with Module(tmp_path) as m:
        assert tillroll(capsys, "provision", "-p", m.url)[0] == 0
        m.sim.open_cover()
        time.sleep(0.6)  # the module looks at its sensors four times a second
        m.sim.power_cut()
    faults = tmp_path / "state" / "faults"
    size = faults.stat().st_size
    with Module(tmp_path, maintenance=False) as m:
        code, out, err = tillroll(capsys, "log", "-p", m.url)
        assert code == 0, err
        lines = out.splitlines()
        assert len(lines) == 1 and lines[0].endswith(" s)  cover open"), lines
        assert f"{dt.date.today().isoformat()} " in lines[0] and "(power-on 1, up " in lines[0]
        m.sim.open_cover()  # this power-on's own entries come after, without the mark
        time.sleep(0.6)
        lines = tillroll(capsys, "log", "-p", m.url)[1].splitlines()
        assert len(lines) == 2 and "power-on" not in lines[1], lines
    assert faults.stat().st_size == size  # a fixed-size ring, not a growing file


def test_a_logo_uploaded_prints_as_one_defined_with_gs_l(shop, tmp_path, capsys):
    logo = Image.new("1", (200, 60), 1)  # 1500 bytes of dots: sent in two frames
    for x in range(200):
        for y in range(60):
            if (x // 10 + y // 10) % 2 == 0:
                logo.putpixel((x, y), 0)
    png = tmp_path / "logo.png"
    logo.save(png)
    code, out, err = tillroll(capsys, "logo", "upload", "A1", str(png), "-p", shop.url)
    assert (code, out) == (0, "logo A1: 200 x 60 dots stored\n"), err
    code, out, _ = tillroll(capsys, "logo", "list", "-p", shop.url)
    assert out == "A1    200 x 60 dots  (raster)\n"
    # The same dots defined over the data link with GS ( L fn 67 under another key.
    dots = bytes(b ^ 0xFF for b in logo.tobytes())
    head = b"\x30\x43\x30B2\x01" + struct.pack("<HH", 200, 60) + b"\x31"
    define = b"\x1d(L" + struct.pack("<H", len(head) + len(dots)) + head + dots
    assert len(dots) == 25 * 60

    def print_logo(key: bytes) -> bytes:
        return b"\x1b@\x1d(L\x06\x00\x30\x45" + key + b"\x01\x01\n" + CUT

    send(shop.sim.data_port, print_logo(b"A1"))
    send(shop.sim.data_port, define + print_logo(b"B2"))
    uploaded, defined = shop.sim.wait_receipt(3), shop.sim.wait_receipt(4)
    a, b = Image.open(uploaded).convert("1"), Image.open(defined).convert("1")
    assert a.size == b.size and ImageChops.difference(a, b).getbbox() is None
    assert a.crop((0, 0, 200, 60)).getbbox() is not None  # there is a logo on it
    code, out, _ = tillroll(capsys, "logo", "delete", "A1", "-p", shop.url)
    assert out == "logo A1 deleted\n"
    assert tillroll(capsys, "logo", "list", "-p", shop.url)[1] == "B2    200 x 60 dots  (raster)\n"


def test_selftest_prints_the_page(shop, capsys):
    code, out, _ = tillroll(capsys, "selftest", "-p", shop.url)
    assert out == "self-test page printing\n"
    assert "TILLROLL SELF-TEST" in read_text(shop.sim.wait_receipt(3))


def test_status_names_the_dead_elements_the_self_test_found(shop, capsys):
    shop.sim.head_fault("group", group=5)  # elements 320-383
    shop.sim.kill_dots([7])
    tillroll(capsys, "selftest", "-p", shop.url)
    shop.sim.wait_receipt(3)
    code, out, err = tillroll(capsys, "status", "-p", shop.url)
    assert code == 0, err
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["elements"] == "65 DEAD: 7, 320-383"
    assert lines["faults"] == "none"  # the page printed on; nothing was held


def test_journal_wipe_is_confirmed_and_logged(shop, capsys):
    code, _, err = tillroll(capsys, "journal", "wipe", "-p", shop.url)
    assert code == 2 and err == (
        "tillroll: journal wipe: give --yes, or run it at a terminal to confirm\n"
    )
    code, out, _ = tillroll(capsys, "journal", "wipe", "-p", shop.url, "--yes")
    assert out == "journal wiped: 2 receipts gone (logged in the fault log)\n"
    assert tillroll(capsys, "journal", "list", "-p", shop.url)[1] == (
        "the journal holds no receipts\n"
    )
    assert tillroll(capsys, "log", "-p", shop.url)[1].splitlines()[-1].endswith("journal wiped")


def usb_port(device: str, interface: int, serial_number: str, **strings) -> ListPortInfo:
    """A serial port as pyserial lists it on Linux (the sysfs values)."""
    p = ListPortInfo(device)
    p.vid, p.pid = strings.pop("vid", 0x2E8A), strings.pop("pid", 0x0005)
    p.serial_number = serial_number
    p.location = f"1-1:1.{interface}"
    p.manufacturer = strings.pop("manufacturer", "Tillroll")
    p.product = strings.pop("product", "Tillroll 58")
    return p


def test_devices_finds_usb_modules_by_vid_pid_and_serial_and_running_sims(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("TILLROLL_RUN", str(tmp_path / "run"))
    ports = [
        # a module: data CDC on interface 0, service CDC on its last interface, 4
        usb_port("/dev/ttyACM0", 0, "E6614C311B7A2C2B"),
        usb_port("/dev/ttyACM1", 4, "E6614C311B7A2C2B"),
        # a second module, its ports listed the other way round
        usb_port("/dev/ttyACM3", 4, "E66118604B5C2F2A"),
        usb_port("/dev/ttyACM2", 0, "E66118604B5C2F2A"),
        # a bare MicroPython board: the VID:PID, not the strings
        usb_port(
            "/dev/ttyACM4",
            0,
            "E6614C3112345678",
            manufacturer="MicroPython",
            product="Board in FS mode",
        ),
        # the strings, not the VID:PID (a USB-serial adapter someone named so)
        usb_port("/dev/ttyUSB0", 0, "A10K5ZQ1", vid=0x0403, pid=0x6001),
    ]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    port = free_port()
    sim = SimModule(
        tmp_path / "out",
        via_cli=True,
        extra_args=["--service-port", str(port), "--serial", "SIM00042"],
    )
    with sim:
        code, out, _ = tillroll(capsys, "devices")
        assert out == (
            "/dev/ttyACM3  usb  serial E66118604B5C2F2A (data /dev/ttyACM2)\n"
            "/dev/ttyACM1  usb  serial E6614C311B7A2C2B (data /dev/ttyACM0)\n"
            f"socket://127.0.0.1:{port}  sim  serial SIM00042 (data 127.0.0.1:{sim.data_port})\n"
        )
        code, out, _ = tillroll(capsys, "devices", "--json")
        assert json.loads(out)[1] == {
            "port": "/dev/ttyACM1",
            "serial": "E6614C311B7A2C2B",
            "kind": "usb",
            "data": "/dev/ttyACM0",
        }
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports[4:])
    assert tillroll(capsys, "devices")[1] == "no modules found (USB or running sims)\n"


def test_devices_finds_a_running_sim_and_errors_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TILLROLL_RUN", str(tmp_path / "run"))
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: [])  # this machine's own
    port = free_port()
    sim = SimModule(
        tmp_path / "out",
        via_cli=True,
        extra_args=["--service-port", str(port), "--serial", "SIM00042"],
    )
    with sim:
        code, out, _ = tillroll(capsys, "devices")
        assert out == (
            f"socket://127.0.0.1:{port}  sim  serial SIM00042 (data 127.0.0.1:{sim.data_port})\n"
        )
    code, out, err = tillroll(capsys, "status", "-p", f"socket://127.0.0.1:{port}")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"tillroll: cannot open socket://127.0.0.1:{port}: ")


class Terminal(io.StringIO):
    """stderr as a technician's terminal: the progress bar is drawn there."""

    def isatty(self) -> bool:
        return True


def bar(what: str, done: int, total: int) -> str:
    filled = 30 * done // total
    return f"{what} [{'#' * filled}{'-' * (30 - filled)}] {done}/{total}"


def test_a_long_export_and_a_long_receipt_show_a_progress_bar_on_a_terminal(
    shop, tmp_path, capsys, monkeypatch
):
    lines = [b"Item %03d      %d.%02d" % (i, i, i % 100) for i in range(200)]
    send(shop.sim.data_port, receipt(b"Long receipt", *lines))
    shop.sim.wait_receipt(3)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = tillroll(capsys, "journal", "export", str(tmp_path / "audit"), "-p", shop.url)
    assert out == f"{tmp_path / 'audit'}: 3 receipts as PNG, index in index.csv\n"
    assert terminal.getvalue().split("\r") == [
        "",
        bar("export", 1, 3),
        bar("export", 2, 3),
        bar("export", 3, 3) + "\n",
    ]
    terminal.seek(0)
    terminal.truncate()
    png = tmp_path / "long.png"
    code, out, _ = tillroll(capsys, "journal", "show", "3", "-p", shop.url, "-o", str(png))
    total = int(out.split(", ")[2].split()[0])  # "receipt 3: printed, TIME, N bytes, ..."
    drawn = terminal.getvalue().split("\r")[1:]
    assert len(drawn) > 1  # a frame at a time: several frames
    assert drawn[-1] == bar("receipt 3", total, total) + "\n"
    assert all(d.startswith("receipt 3 [") for d in drawn)
    # Not a terminal (a script, a log file): no bar at all, the same stdout.
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    code, again, err = tillroll(capsys, "journal", "show", "3", "-p", shop.url, "-o", str(png))
    assert again == out and sys.stderr.getvalue() == ""
