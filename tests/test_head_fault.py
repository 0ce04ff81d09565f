"""A blank receipt is a fault, not a receipt (docs/engine.md, "Head faults"): on the simulated
module, a head whose cable is off or whose element group is dead stops printing; the receipt is
held, nothing is acknowledged, the status replies say so, and once the head is mended the
receipt comes out whole, marked COPY. The self-test page and the technician's status name the
dead elements. Paper loaded upside down is the one blank print no current sense sees."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from PIL import Image

from ocr import read_text
from tillroll_host.sim import SimModule

CUT = b"\x1dV\x00"
MARKER = b"\x1d(H\x06\x00\x30\x30ID07"
ACK = b"\x37\x22ID07\x00"
ASB_ERRORS = b"\x1da\x04"  # GS a n: Automatic Status Back for errors (bit 2)


def shop(name: bytes) -> bytes:
    return b"\x1b@" + name + b"\nCoffee 2.50\nCake 3.10\nThank you\n" + CUT


def journaled(tmp_path: Path) -> SimModule:
    return SimModule(tmp_path / "out", extra_args=["--journal", str(tmp_path / "journal.bin")])


def read_for(s: socket.socket, seconds: float) -> bytes:
    """Whatever the module sends within `seconds`."""
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = s.recv(64)
        except TimeoutError:
            break
        if not chunk:
            break
        got += chunk
    return got


def read_until(s: socket.socket, end: bytes, timeout: float = 30.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    s.settimeout(timeout)
    while not got.endswith(end):
        assert time.monotonic() < deadline, got
        chunk = s.recv(64)
        assert chunk, got
        got += chunk
    return got


def read_exactly(s: socket.socket, n: int) -> bytes:
    got = b""
    s.settimeout(10)
    while len(got) < n:
        chunk = s.recv(n - len(got))
        assert chunk, got
        got += chunk
    return got


def journal_rows(sim: SimModule) -> list[tuple[int, str, str]]:
    return [(r["number"], r["state"], r["first_line"]) for r in sim.journal_list()]


@pytest.mark.parametrize("fault", ["cable_off", "group"])
def test_a_broken_head_holds_the_receipt_until_mended_then_it_comes_out_whole_as_copy(
    tmp_path: Path, fault: str
):
    with journaled(tmp_path) as sim:
        sim.head_fault(fault, group=1)  # group 1: elements 64-127, under "ONE" of the name
        with socket.create_connection(("127.0.0.1", sim.data_port), timeout=20) as s:
            s.sendall(ASB_ERRORS)
            assert read_until(s, b"\x10\x00\x00\x00") == b"\x10\x00\x00\x00"  # all well
            s.sendall(shop(b"SHOP ONE") + MARKER)
            status = sim.wait_status(lambda st: st["stopped"])
            assert status["flags"] == ["head_fault"] and status["queued"] > 0
            # ASB: offline (byte 1 bit 3), an unrecoverable error (byte 2 bit 5)
            assert read_until(s, b"\x18\x20\x00\x00").endswith(b"\x18\x20\x00\x00")
            # DLE EOT 1-4: offline (and data waiting for the fault: bit 5); an error
            # stopped it (bit 6); unrecoverable, not automatically (bit 5 of 3); paper fine.
            s.sendall(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")
            eot = read_exactly(s, 4)
            assert eot[0] & 0x08 and eot[1:] == b"\x52\x32\x12", eot.hex()
            # Nothing is acknowledged while it is held: no process ID, not printed.
            assert read_for(s, 1.0) == b""
            held = ("receiving", "printing", "interrupted")  # its cut may still wait for room
            assert journal_rows(sim)[0][1] in held, journal_rows(sim)
            dead = sim.status()["dead_elements"]
            assert dead == ([[0, 383]] if fault == "cable_off" else [[64, 127]]), dead
            sim.head_fault("none")  # the cable reseated, the head replaced
            # The module checks its head again by itself; the rest of the receipt, then the
            # copy, and only then the process ID.
            assert read_until(s, ACK).endswith(b"\x10\x00\x00\x00" + ACK)
        copy = sim.wait_receipt(2)
        assert journal_rows(sim) == [(1, "printed", "SHOP ONE")]
        assert sim.status()["flags"] == [] and sim.status()["dead_elements"] == []
    lines = read_text(copy)
    assert lines[0] == "COPY" and lines[-1] == "COPY", lines
    assert lines[1:-1] == ["SHOP ONE", "Coffee 2.50", "Cake 3.10", "Thank you"], lines


def test_dead_elements_show_on_the_self_test_page_and_in_the_status(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        sim.head_fault("group", group=4)  # elements 256-319: right of the page's short lines
        sim.self_test()
        png = sim.wait_receipt()
        status = sim.status()
        assert status["dead_elements"] == [[256, 319]]
        assert status["flags"] == []  # the page prints on: it is there to show the head
    assert "Dead 256-319" in read_text(png)
    im = Image.open(png).convert("L")
    bars = [
        y for y in range(im.height) if sum(im.getpixel((x, y)) < 128 for x in range(384)) >= 300
    ]
    assert bars, "the solid bars came out"
    for y in bars:  # a white streak where the group is, black either side
        assert im.getpixel((255, y)) < 128 and im.getpixel((320, y)) < 128
        assert all(im.getpixel((x, y)) >= 128 for x in range(256, 320))


def test_paper_upside_down_prints_blank_and_no_current_sense_sees_it(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        sim.head_fault("upside_down")
        sim.control("dots", rows=40, byte=0xFF, end=True)
        png = sim.wait_receipt()
        status = sim.status()
        engine = sim.counters()["engine"]
    # Every strobe drew its current: printing went on, and the receipt is blank.
    assert status["flags"] == [] and engine["pauses"] == 0 and engine["lines_printed"] == 40
    im = Image.open(png).convert("L")
    assert im.height >= 40 and min(im.tobytes()) == 255
