"""The data port as a serial device (`tillroll sim --pty`, docs/sim.md), as a POS integrator
whose software wants a device path meets it: pyserial and python-escpos's `Serial` print
through it, GS ( H replies come back through it, and a job far larger than every buffer on
the way arrives whole while the printer holds it back."""

from __future__ import annotations

import threading
from pathlib import Path

import serial
from escpos.printer import Serial
from PIL import Image

from ocr import missing_lines
from tillroll_host.pty_bridge import PtyBridge
from tillroll_host.sim import SimModule

CUT = b"\x1dV\x00"
WIDTH = 48  # bytes in a dot line: 384 dots


def raster(rows: list[bytes], width: int = WIDTH) -> bytes:
    """GS v 0: the rows, each padded with zeros to `width` bytes (past 48 they are clipped)."""
    head = b"\x1dv0\x00" + width.to_bytes(2, "little") + len(rows).to_bytes(2, "little")
    return head + b"".join(row.ljust(width, b"\x00") for row in rows)


def numbered_rows(count: int) -> list[bytes]:
    """48-byte rows that each carry their own number, so a lost or shifted byte shows."""
    return [(y.to_bytes(2, "big") + b"\xff\x00") * 12 for y in range(count)]


def printed_rows(png: Path, count: int) -> list[bytes]:
    """The first `count` dot lines of a receipt, packed 8 dots a byte as GS v 0 sends them."""
    im = Image.open(png).convert("L").point(lambda v: 255 if v >= 128 else 0, "1")
    assert im.width == 8 * WIDTH
    # In mode "1" a burnt (black) dot is 0; GS v 0 sends it as a 1 bit.
    data = bytes(b ^ 0xFF for b in im.tobytes())
    return [data[y * WIDTH : (y + 1) * WIDTH] for y in range(count)]


def test_pyserial_prints_a_receipt_and_can_open_the_device_again(tmp_path: Path, tesseract):
    with SimModule(tmp_path, pty=True) as sim:
        assert sim.pty_path.startswith("/dev/pts/")
        with serial.Serial(sim.pty_path, timeout=10) as port:
            port.write(b"\x1b@Sent over a serial line\n" + CUT)
        first = sim.wait_receipt(1)
        with serial.Serial(sim.pty_path, timeout=10) as port:  # a second session
            port.write(b"\x1b@Opened again\n" + CUT)
        second = sim.wait_receipt(2)
    for png, line in ((first, "Sent over a serial line"), (second, "Opened again")):
        missing, seen = missing_lines([line], png)
        assert not missing, seen


def test_a_process_id_reply_comes_back_through_the_device(tmp_path: Path):
    with SimModule(tmp_path, pty=True) as sim:
        with serial.Serial(sim.pty_path, timeout=10) as port:
            # With no journal the module answers GS ( H fn 48 as soon as it parses it.
            port.write(b"hello\n" + b"\x1d(H\x06\x00\x30\x30ABCD")
            assert port.read(7) == b"\x37\x22ABCD\x00"
            port.write(CUT)
        sim.wait_receipt()


def test_a_large_raster_written_at_full_speed_prints_whole(tmp_path: Path):
    rows = numbered_rows(6400)
    job = b"\x1b@" + raster(rows) + CUT  # 300 KB
    with SimModule(tmp_path, pty=True) as sim:
        with serial.Serial(sim.pty_path, timeout=10) as port:
            port.write(job)
        png = sim.wait_receipt(timeout=120)
    assert printed_rows(png, len(rows)) == rows


def test_a_job_larger_than_every_buffer_waits_while_the_cover_is_open(tmp_path: Path):
    # 9.6 MB: each row 4800 bytes wide, of which the module prints the first 48 and counts
    # past the rest. The module reads nothing while the cover is open, so the client's write
    # must wait, in the kernel, for room, and nothing may be dropped meanwhile.
    rows = numbered_rows(2000)
    job = b"\x1b@" + raster(rows, width=100 * WIDTH) + CUT
    with SimModule(tmp_path, pty=True) as sim:
        sim.open_cover(True)
        with serial.Serial(sim.pty_path, timeout=10) as port:
            writer = threading.Thread(target=port.write, args=(job,))
            writer.start()
            sim.wait_status(lambda s: s["stopped"] and s["queued"] > 0)
            writer.join(2.0)
            assert writer.is_alive(), "the write must wait while the printer holds it back"
            sim.open_cover(False)
            writer.join(60.0)
            assert not writer.is_alive()
        png = sim.wait_receipt(timeout=120)
    assert printed_rows(png, len(rows)) == rows


def test_the_device_keeps_its_path_when_the_module_restarts(tmp_path: Path, tesseract):
    sim = SimModule(tmp_path / "before").start()
    with PtyBridge(sim.data_port) as bridge:
        sim.power_cut()
        with SimModule(tmp_path / "after", data_port=sim.data_port) as again:
            with serial.Serial(bridge.path, timeout=10) as port:
                port.write(b"\x1b@After the restart\n" + CUT)
            png = again.wait_receipt()
    missing, seen = missing_lines(["After the restart"], png)
    assert not missing, seen


def test_tillroll_sim_pty_names_the_device_and_python_escpos_prints_to_it(
    tmp_path: Path, tesseract
):
    with SimModule(tmp_path, via_cli=True, extra_args=["--pty"]) as sim:
        path = sim.wait_line("pty: ").removeprefix("pty: ")
        # A serial line never closes, so the receipt ends at its cut: the default profile
        # sends GS V (the ZJ-5870 profile has no cutter and only feeds).
        printer = Serial(devfile=path, baudrate=115200, timeout=10)
        printer.text("Printed through the pty\n")
        printer.cut()
        printer.close()
        png = sim.wait_receipt()
        assert sim.stop() == 0  # Ctrl-C stops the module and the bridge
        assert "stopped" in sim.output and not Path(path).exists()
    missing, seen = missing_lines(["Printed through the pty"], png)
    assert not missing, seen
