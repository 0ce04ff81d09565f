"""Talking like an Epson, on the simulated module: status replies with the manual's byte values,
delivery confirmation once a receipt has printed, clearing the buffers, and flow control that
loses nothing (docs/escpos.md, "Status and flow control")."""

from __future__ import annotations

import hashlib
import random
import socket
import time
from pathlib import Path

import pytest
from PIL import Image

from ocr import missing_lines
from tillroll_host.sim import SimModule

CUT = b"\x1dV\x00"
CLEAR = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"


class Pos:
    """A POS terminal's connection to the data port: it sends, and reads what comes back."""

    def __init__(self, sim: SimModule):
        self.s = socket.create_connection((sim.host, sim.data_port), timeout=30)

    def send(self, data: bytes) -> None:
        self.s.sendall(data)

    def read(self, n: int, timeout: float = 30.0) -> bytes:
        self.s.settimeout(timeout)
        got = b""
        while len(got) < n:
            chunk = self.s.recv(n - len(got))
            if not chunk:
                break
            got += chunk
        return got

    def ask(self, data: bytes, n: int = 1) -> bytes:
        self.send(data)
        return self.read(n)

    def silent(self, wait: float = 0.5) -> bool:
        """Nothing comes back within `wait` seconds."""
        self.s.settimeout(wait)
        try:
            return self.s.recv(64) == b"" and False
        except TimeoutError:
            return True

    def close(self) -> None:
        self.s.close()


def eot(pos: Pos) -> list[int]:
    return [pos.ask(b"\x10\x04" + bytes((n,)))[0] for n in (1, 2, 3, 4)]


def receipt(lines: int, tag: str = "Line") -> bytes:
    return b"\x1b@" + b"".join(b"%s %03d\n" % (tag.encode(), i) for i in range(lines)) + CUT


def test_the_pos_handshake_is_answered_at_once_while_a_receipt_prints(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        pos = Pos(sim)
        pos.send(receipt(80))  # 2400 dot lines, about 30 cm: it prints a while
        sim.wait_status(lambda s: s["line"] > 0)
        before = sim.counters()["twin"]["time_s"]
        reply = pos.ask(b"\x1b@\x1b=\x01\x10\x04\x01")
        after = sim.counters()["twin"]["time_s"]
        still = sim.status()["queued"]
        pos.close()
    assert reply == b"\x12"  # fixed bits 1 and 4, online
    assert after - before <= 0.050, f"answered after {1000 * (after - before):.1f} ms of print"
    assert still > 0, "the receipt had finished: nothing shows the reply came while printing"


def test_dle_eot_follows_the_paper_cover_and_head(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        pos = Pos(sim)
        assert eot(pos) == [0x12, 0x12, 0x12, 0x12]
        sim.control("load_paper", lines=5000)  # 60 cm left: past the near-end sensor
        assert eot(pos) == [0x12, 0x12, 0x12, 0x1E]
        sim.paper_out()
        assert eot(pos) == [0x1A, 0x32, 0x12, 0x7E]
        sim.load_paper()
        sim.open_cover()
        assert eot(pos) == [0x1A, 0x16, 0x12, 0x12]
        sim.open_cover(False)
        sim.set_supply(0)  # the head supply is gone: seen at once, nothing printing
        assert eot(pos) == [0x1A, 0x52, 0x52, 0x12]
        sim.set_supply(8500)
        sim.control("head_temp", c=90, hold=True)  # hot, and kept hot: printing stops
        pos.send(receipt(3))
        sim.wait_status(lambda s: "overheat" in s["flags"])
        # offline, a receipt waiting for it (bit 5); an automatically recoverable error
        assert eot(pos) == [0x3A, 0x52, 0x52, 0x12]
        sim.control("head_temp", c=25)
        sim.wait_receipt(1)
        assert eot(pos) == [0x12, 0x12, 0x12, 0x12]
        pos.close()


def test_gs_r_and_the_process_id_wait_for_the_print(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        sim.paper_out()
        pos = Pos(sim)
        pos.send(receipt(3) + b"\x1dr1" + b"\x1d(H\x06\x00\x30\x30ID01")
        sim.wait_status(lambda s: s["queued"] > 0)
        assert pos.silent(1.0), "answered before the receipt printed"
        sim.load_paper()
        assert pos.read(8) == b"\x00" + b"\x37\x22ID01\x00"  # paper present; then the ID
        assert sim.counters()["engine"]["receipts"] == 1
        pos.close()


@pytest.mark.parametrize("how", ["DLE DC4 fn 8", "DLE ENQ 2"])
def test_a_cleared_receipt_never_prints_nor_gets_its_id(tmp_path: Path, how: str):
    with SimModule(tmp_path) as sim:
        sim.paper_out()
        pos = Pos(sim)
        pos.send(receipt(3, "Cleared") + b"\x1d(H\x06\x00\x30\x30ID02")
        sim.wait_status(lambda s: s["queued"] > 0)
        if how == "DLE ENQ 2":
            assert pos.ask(b"\x10\x04\x01") == b"\x3a"  # offline, waiting for recovery
            pos.send(b"\x10\x05\x02")
        else:
            assert pos.ask(CLEAR, 3) == b"\x37\x25\x00"
        sim.wait_status(lambda s: s["queued"] == 0)
        sim.load_paper()
        pos.send(receipt(2, "After") + b"\x1d(H\x06\x00\x30\x30ID03")
        assert pos.read(7) == b"\x37\x22ID03\x00"  # the next receipt's ID, and no other
        png = sim.wait_receipt(1)
        assert sim.counters()["engine"]["receipts"] == 1
        pos.close()
    assert Image.open(png).height < 200  # "After" alone: two lines and the feed


def test_gs_i_esc_v_and_automatic_status_back(tmp_path: Path):
    from tillroll_host import __version__

    with SimModule(tmp_path) as sim:
        pos = Pos(sim)
        assert pos.ask(b"\x1dI\x01") == b"\x20"
        assert pos.ask(b"\x1dI\x02") == b"\x01"
        assert pos.ask(b"\x1dIB", 10) == b"_Tillroll\x00"
        version = pos.ask(b"\x1dIA", len(__version__) + 2)
        assert version[0] == 0x5F and version[-1] == 0
        assert pos.ask(b"\x1bv") == b"\x00"
        assert pos.ask(b"\x1dr1") == b"\x00" and pos.ask(b"\x1dr2") == b"\x00"  # no drawer
        assert pos.ask(b"\x1da\xff", 4) == b"\x10\x00\x00\x00"  # sent as it is enabled
        sim.open_cover()
        assert pos.read(4) == b"\x38\x00\x00\x00"  # offline, cover open
        sim.open_cover(False)
        assert pos.read(4) == b"\x10\x00\x00\x00"
        sim.paper_out()  # the near-end sensor sees no paper either
        assert pos.read(4) == b"\x18\x00\x0f\x00"
        assert pos.ask(b"\x1bv") == b"\x0f"
        pos.send(b"\x1da\x00")
        sim.load_paper()
        assert pos.silent(0.5), "ASB after GS a 0"
        pos.close()


def test_gs_paren_d_enables_the_power_off_sequence(tmp_path: Path):
    power_off = b"\x10\x14\x02\x01\x08"
    with SimModule(tmp_path) as sim:
        pos = Pos(sim)
        pos.send(power_off)
        assert pos.silent(0.5), "DLE DC4 fn 2 is off until GS ( D enables it"
        # GS ( D acts when parsed: GS I's answer shows it has been.
        assert pos.ask(b"\x1d(D\x03\x00\x14\x02\x01\x1dIB", 10) == b"_Tillroll\x00"
        assert pos.ask(power_off, 3) == b"\x3b\x30\x00"
        pos.close()


def test_8192_nuls_then_a_receipt_prints_the_receipt(tmp_path: Path, tesseract):
    with SimModule(tmp_path) as sim:
        pos = Pos(sim)
        pos.send(b"\x00" * 8192 + b"\x1b@Still here after the NULs\n" + CUT)
        png = sim.wait_receipt()
        pos.close()
    missing, seen = missing_lines(["Still here after the NULs"], png)
    assert not missing, seen
    assert Image.open(png).height < 150


def raster_job(rows: int) -> tuple[bytes, bytes]:
    """A GS v 0 image 48 bytes wide: every row carries its number and random bytes (DLE EOT
    sequences among them, at random). Returns the job and the rows' bits as printed."""
    rng = random.Random(5)
    body = bytearray()
    for row in range(rows):
        line = bytearray(rng.getrandbits(8) for _ in range(48))
        line[0:3] = row.to_bytes(3, "big")
        body += line
    head = b"\x1d\x76\x30\x00" + (48).to_bytes(2, "little") + rows.to_bytes(2, "little")
    return b"\x1b@" + head + bytes(body) + CUT, bytes(body)


def test_a_2_mb_raster_job_sent_at_full_speed_arrives_byte_for_byte(tmp_path: Path):
    images = []
    sent = 0
    with SimModule(tmp_path) as sim:
        pos = Pos(sim)
        for _ in range(3):  # GS v 0 takes at most 65535 rows: 3 images of 14,564 rows
            job, body = raster_job(14564)
            pos.send(job)  # as fast as the socket takes it
            sent += len(job)
            images.append(body)
        started = time.monotonic()
        for n in (1, 2, 3):
            png = sim.wait_receipt(n, timeout=300)
            printed = Image.open(png).convert("1").crop((0, 0, 384, 14564))
            assert (
                hashlib.sha256(_bits(printed)).digest() == hashlib.sha256(images[n - 1]).digest()
            )
        counters = sim.counters()
        pos.close()
    assert sent > 2 * 1024 * 1024
    assert counters["link"]["received"] == sent
    assert counters["link"]["ring_stops"] > 0, "the ring never filled: no flow control shown"
    assert time.monotonic() - started < 300


def _bits(image: Image.Image) -> bytes:
    """A 1-bit image's rows as ESC/POS raster bytes (1 = black)."""
    data = bytes(b ^ 0xFF for b in image.tobytes())
    return data
