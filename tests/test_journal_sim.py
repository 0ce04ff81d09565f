"""The journal on the simulated module, as a cashier and a technician meet it: receipts that
did not come out whole come out again marked COPY, acknowledgements wait for the flash, and
the technician lists and reprints receipts through the control channel (docs/journal.md).
Throughout, the journal programs its NOR flash only in whole, page-aligned 256-byte pages, as
the RP2040 requires (the sim's flash model refuses anything else)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from ocr import read_text
from tillroll_host.sim import SimModule, run_firmware, send

CUT = b"\x1dV\x00"
PAN = b"4111 1111 1111 1111"


def shop(name: bytes) -> bytes:
    return b"\x1b@" + name + b"\nCoffee 2.50\nCard " + PAN + b"\nThank you\n" + CUT


def journaled(tmp_path: Path, image: Path, *more: str) -> SimModule:
    return SimModule(tmp_path / "out", extra_args=["--journal", str(image), *more])


def marker_reply(port: int, data: bytes, pid: bytes) -> bytes:
    """Send a receipt followed by GS ( H fn 48 and wait for the module's answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(data + b"\x1d(H\x06\x00\x30\x30" + pid)
        reply = b""
        while len(reply) < 7:
            got = s.recv(7 - len(reply))
            if not got:
                break
            reply += got
    return reply


def assert_whole_pages(sim: SimModule) -> None:
    """The journal wrote, in whole page-aligned pages only, and never tried to set a bit."""
    flash = sim.counters()["flash"]
    assert flash["programs"] > 0 and flash["refused"] == 0 and flash["overwrites"] == 0, flash


def wait_journal(sim: SimModule, predicate, timeout: float = 20.0) -> list[dict]:
    """Poll the technician's list until `predicate(rows)` holds; return the rows."""
    deadline = time.monotonic() + timeout
    while True:
        rows = sim.control("journal_list")["receipts"]
        if predicate(rows):
            return rows
        assert time.monotonic() < deadline, [
            (r["number"], r["state"], r["first_line"]) for r in rows
        ]
        time.sleep(0.05)


def held_by_paper_out(sim: SimModule, name: bytes) -> socket.socket:
    """Send a receipt with a process ID while the roll runs out in it; return the open
    connection once the fault holds the receipt."""
    sim.paper_out(after_lines=40)
    s = socket.create_connection(("127.0.0.1", sim.data_port), timeout=20)
    s.sendall(shop(name) + b"\x1d(H\x06\x00\x30\x30ID01")
    sim.wait_status(lambda st: "paper_out" in st["flags"])
    wait_journal(sim, lambda rows: len(rows) == 1)  # held by the fault
    return s


def read_exactly(s: socket.socket, n: int) -> bytes:
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def assert_copy_of(png: Path, name: str, whole: bool = True) -> None:
    lines = read_text(png)
    assert lines[0] == "COPY" and lines[-1] == "COPY", lines
    assert name in lines, lines
    if whole:
        assert "Coffee 2.50" in lines and "Thank you" in lines, lines
    card = [line for line in lines if line.startswith("Card")]
    assert card and card[0].endswith("1111") and "4111" not in card[0], lines


def test_a_receipt_cut_short_by_paper_out_comes_out_again_whole_marked_copy(tmp_path: Path):
    image = tmp_path / "journal.bin"
    with journaled(tmp_path, image) as sim:
        sim.paper_out(after_lines=40)
        send(sim.data_port, shop(b"SHOP ONE"))
        sim.wait_status(lambda s: "paper_out" in s["flags"])
        # Its cut has not come through yet (the link waits for room): it is still received.
        rows = wait_journal(sim, lambda rows: len(rows) == 1)
        assert [(r["number"], r["state"], r["first_line"]) for r in rows] == [
            (1, "receiving", "SHOP ONE")
        ]
        sim.load_paper()
        copy = sim.wait_receipt(2)
        assert_copy_of(copy, "SHOP ONE")
        wait_journal(sim, lambda rows: rows[0]["state"] == "printed")
        assert_whole_pages(sim)
    assert PAN not in image.read_bytes() and b"4111111111111111" not in image.read_bytes()


def _qr(text: bytes) -> bytes:
    n = len(text) + 3
    return (
        b"\x1d(k\x03\x001C\x06"  # module 6 dots
        + b"\x1d(k"
        + bytes((n & 0xFF, n >> 8))
        + b"1P0"
        + text  # store
        + b"\x1d(k\x03\x001Q0"  # print
    )


def test_a_copy_prints_the_receipts_own_codes_and_keeps_the_links_stored_symbol(tmp_path):
    import zxingcpp
    from PIL import Image

    def codes(png):
        return sorted(r.text for r in zxingcpp.read_barcodes(Image.open(png)))

    code128 = b"\x1dh\x50\x1dw\x02\x1dkI\x0b{BTILL-4242"
    receipt = b"\x1b@Receipt\n" + _qr(b"ORDER-77") + b"\n" + code128 + b"\nEnd\n" + CUT
    with journaled(tmp_path, tmp_path / "journal.bin") as sim:
        send(sim.data_port, receipt)
        assert codes(sim.wait_receipt(1)) == ["ORDER-77", "TILL-4242"]
        # The next receipt stores its QR data first, and the copy comes before it prints
        # anything (a receipt that has printed nothing does not hold a copy up).
        stored = b"\x1b@\x1d(k\x0b\x001P0STORED-1"
        with socket.create_connection(("127.0.0.1", sim.data_port)) as s:
            s.sendall(stored)
            time.sleep(0.5)
            assert sim.control("journal_reprint", number=1)["queued"]
            copy = sim.wait_receipt(2)
            s.sendall(b"\x1d(k\x03\x001Q0\n" + CUT)
            own = sim.wait_receipt(3)
        lines = read_text(copy)  # (tesseract reads the banner and the first line as one)
        assert lines[0].endswith("COPY") and lines[-1] == "COPY" and "End" in lines, lines
        assert codes(copy) == ["ORDER-77", "TILL-4242"]  # whole: its codes too
        assert codes(own) == ["STORED-1"]  # the link's stored data, not the copy's


def test_a_receipt_on_flash_survives_a_power_cut_and_comes_out_as_a_copy(tmp_path: Path):
    image = tmp_path / "journal.bin"
    with journaled(tmp_path, image) as sim:
        sim.paper_out(after_lines=0)  # nothing can print: the receipt waits in the queue
        # (short enough to fit the queue whole, so its cut and marker come through)
        short = b"\x1b@SHOP TWO\nCard " + PAN + b"\n" + CUT
        with socket.create_connection(("127.0.0.1", sim.data_port), timeout=20) as s:
            s.sendall(short + b"\x1d(H\x06\x00\x30\x30AB12")
            on_flash = ("printing", "interrupted")  # its END is on flash; paper out holds it
            rows = wait_journal(sim, lambda rows: rows and rows[0]["state"] in on_flash)
            assert rows[0]["first_line"] == "SHOP TWO"  # on flash, not on paper yet
            s.settimeout(0.5)
            with pytest.raises(TimeoutError):
                s.recv(7)  # its process ID waits for the print
            assert_whole_pages(sim)
            sim.power_cut()
    with journaled(tmp_path, image) as sim:  # power back, a new roll in
        copy = sim.wait_receipt(1)
        assert_copy_of(copy, "SHOP TWO", whole=False)
        status = sim.control("journal_status")
        assert status["mounted"] and status["problems"] == 0
        assert_whole_pages(sim)


def test_a_technician_lists_and_reprints_and_feed_twice_reprints_the_last(tmp_path: Path):
    image = tmp_path / "journal.bin"
    with journaled(tmp_path, image, "--copy-banner", "DUPLICATE") as sim:
        send(sim.data_port, shop(b"FIRST SHOP"))
        sim.wait_receipt(1)
        send(sim.data_port, shop(b"SECOND SHOP"))
        sim.wait_receipt(2)
        rows = wait_journal(sim, lambda rows: len(rows) == 2 and rows[1]["state"] == "printed")
        assert [(r["number"], r["first_line"]) for r in rows] == [
            (1, "FIRST SHOP"),
            (2, "SECOND SHOP"),
        ]
        assert all(r["state"] == "printed" and r["time"] > 1700000000 for r in rows), rows
        assert sim.control("journal_reprint", number=1)["queued"]
        lines = read_text(sim.wait_receipt(3))
        assert lines[0] == lines[-1] == "DUPLICATE" and "FIRST SHOP" in lines, lines
        sim.control("feed_button")
        sim.control("feed_button")
        lines = read_text(sim.wait_receipt(4))
        assert lines[0] == lines[-1] == "DUPLICATE" and "SECOND SHOP" in lines, lines
        assert not sim.control("journal_reprint", number=99)["queued"]
        assert_whole_pages(sim)


def test_a_region_without_a_journal_is_reported_and_never_wiped(tmp_path: Path):
    image = tmp_path / "journal.bin"
    image.write_bytes((b"another filesystem lives here " * 2200)[: 16 * 4096])  # 16 blocks
    before = image.read_bytes()
    with journaled(tmp_path, image) as sim:
        status = sim.control("journal_status")
        assert not status["mounted"] and "no journal" in status["error"], status
        send(sim.data_port, shop(b"STILL PRINTS"))
        assert "STILL PRINTS" in read_text(sim.wait_receipt(1))
        flash = sim.counters()["flash"]
        assert flash["programs"] == 0 and flash["erases"] == 0, flash
    assert image.read_bytes() == before


def test_damage_done_while_off_names_the_receipts_it_cost(tmp_path: Path):
    image = tmp_path / "journal.bin"
    state = tmp_path / "state"  # where the module keeps the journal's mark
    args = ["--journal", str(image)]
    with SimModule(tmp_path / "out", extra_args=args, state_dir=state) as sim:
        for k in range(6):
            send(sim.data_port, shop(b"SHOP %d" % k))
            sim.wait_receipt(k + 1)
        wait_journal(sim, lambda rows: len(rows) == 6 and rows[5]["state"] == "printed")
        assert sim.control("journal_status")["healthy"]
    data = bytearray(image.read_bytes())
    data[800:4096] = b"\xff" * (4096 - 800)  # the journal's end erased while the module was off
    image.write_bytes(bytes(data))
    with SimModule(tmp_path / "out2", extra_args=args, state_dir=state) as sim:
        status = sim.control("journal_status")
        kept = [r["number"] for r in sim.control("journal_list")["receipts"]]
    assert status["mounted"] and not status["healthy"], status
    assert status["last_acknowledged"] == 6
    lost = [n for a, b in status["lost"] for n in range(a, b + 1)]
    assert lost and lost[-1] == 6 and sorted(kept + lost) == list(range(1, 7)), (kept, lost)
    assert any("lost" in t for t in status["problem_texts"]), status


def test_a_journal_file_of_another_size_is_refused(tmp_path: Path):
    image = tmp_path / "journal.bin"
    image.write_bytes(b"\xff" * (16 * 4096 - 100))  # cut short
    (tmp_path / "out").mkdir()
    done = run_firmware(
        ["--out", str(tmp_path / "out"), "--journal", str(image), "--data-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "holds 65436 bytes" in done.stdout, done.stdout
    assert image.stat().st_size == 16 * 4096 - 100  # never padded


def test_esc_at_after_data_and_an_idle_link_end_receipts(tmp_path: Path):
    image = tmp_path / "journal.bin"
    with journaled(tmp_path, image, "--idle-ms", "300") as sim:
        with socket.create_connection(("127.0.0.1", sim.data_port), timeout=20) as s:
            s.sendall(b"\x1b@FIRST\n\x1b@SECOND\n")  # no cut: ESC @ after data ends one
            rows = wait_journal(sim, lambda rows: len(rows) == 2)  # idle ends the other
            assert [r["first_line"] for r in rows] == ["FIRST", "SECOND"]
        wait_journal(sim, lambda rows: all(r["state"] == "printed" for r in rows))
        assert_whole_pages(sim)


def test_resume_at_the_failed_line_finishes_the_receipt_without_a_copy(tmp_path: Path):
    image = tmp_path / "journal.bin"
    with journaled(tmp_path, image, "--resume-at-line") as sim:
        sim.paper_out(after_lines=40)
        send(sim.data_port, shop(b"SHOP RESUMED"))
        sim.wait_status(lambda s: "paper_out" in s["flags"])
        sim.load_paper()
        lines = read_text(sim.wait_receipt(1))
        assert "SHOP RESUMED" in lines and "Thank you" in lines and "COPY" not in lines, lines
        wait_journal(sim, lambda rows: rows and rows[0]["state"] == "printed")
        time.sleep(0.5)
        assert len(sim.receipts) == 1  # and no copy after it
        assert_whole_pages(sim)


def test_the_host_clears_a_receipt_a_fault_holds_and_it_is_cancelled(tmp_path: Path):
    image = tmp_path / "journal.bin"
    with journaled(tmp_path, image) as sim:
        with held_by_paper_out(sim, b"CLEARED SHOP") as s:
            s.sendall(b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08")  # DLE DC4 fn 8
            assert s.recv(3) == b"\x37\x25\x00"
            rows = wait_journal(sim, lambda rows: rows[0]["state"] == "cancelled")
            sim.load_paper()
            # (a feed first: the cleared receipt's last printed row touches the next line)
            s.sendall(b"\x1b@\x1bJ\x30" + shop(b"NEXT SHOP")[2:] + b"\x1d(H\x06\x00\x30\x30ID02")
            assert read_exactly(s, 7) == b"\x37\x22ID02\x00"  # never the cleared one's ID
        lines = read_text(sim.wait_receipt(1))
        rows = wait_journal(sim, lambda rows: len(rows) == 2 and rows[1]["state"] == "printed")
        assert rows[0]["state"] == "cancelled", rows
        time.sleep(0.5)
        assert len(sim.receipts) == 1, "a cleared receipt must not come out as a copy"
        assert_whole_pages(sim)
    # The paper holds what printed before the fault, then the next receipt: no COPY.
    assert "COPY" not in lines and "NEXT SHOP" in lines, lines


def test_dle_enq_1_lets_the_receipt_finish_from_the_failed_line_without_a_copy(tmp_path: Path):
    image = tmp_path / "journal.bin"
    with journaled(tmp_path, image) as sim:
        with held_by_paper_out(sim, b"RESUMED SHOP") as s:
            s.sendall(b"\x10\x05\x01")  # DLE ENQ 1
            sim.load_paper()
            assert read_exactly(s, 7) == b"\x37\x22ID01\x00"
        lines = read_text(sim.wait_receipt(1))
        wait_journal(sim, lambda rows: rows[0]["state"] == "printed")
        time.sleep(0.5)
        assert len(sim.receipts) == 1, "DLE ENQ 1: no copy after the resumed receipt"
        assert_whole_pages(sim)
    assert "RESUMED SHOP" in lines and "Thank you" in lines, lines


def test_a_technician_lists_and_exports_a_full_journal_a_page_at_a_time(tmp_path: Path):
    image = tmp_path / "journal.bin"
    receipts = [b"\x1b@Shop %d\nCoffee 2.50\nCard " % k + PAN + b"\n" + CUT for k in range(150)]
    with journaled(tmp_path, image, "--journal-blocks", "4") as sim:
        assert marker_reply(sim.data_port, b"".join(receipts), b"LAST") == b"\x37\x22LAST\x00"
        rows = wait_all_printed(sim, 150)
        status = sim.control("journal_status")
        numbers = [r["number"] for r in rows]
        # Full: every block in use and the oldest receipts gone with theirs; more rows than
        # one reply could carry whole.
        assert numbers[0] > 1 and numbers == list(range(numbers[0], 151)), numbers
        assert len(rows) == status["receipts"] > 55, (len(rows), status)
        assert [r["first_line"] for r in rows] == ["Shop %d" % (n - 1) for n in numbers]
        masked = receipts[149].replace(PAN, b"**** **** **** 1111")
        assert sim.journal_bytes(150, piece=16) == masked
        assert sim.journal_bytes(1) is None  # dropped with its block


def wait_all_printed(sim: SimModule, last: int, timeout: float = 60.0) -> list[dict]:
    """The technician's whole listing, a page at a time, once receipt `last` has printed."""
    deadline = time.monotonic() + timeout
    while True:
        rows = sim.journal_list()
        if rows and rows[-1]["number"] == last and rows[-1]["state"] == "printed":
            return rows
        assert time.monotonic() < deadline, rows[-3:]
        time.sleep(0.05)
