"""Faults at the module, on every target that can raise them: the paper running out, the
cover opened and the power cut mid-receipt. Each stops the receipt, and once the fault
clears every line of it is on paper: the receipt goes on where it stopped, or it comes out
again whole, marked as a copy (always after a power cut: the module cannot know what reached
the paper)."""

from __future__ import annotations

import time

import pytest

from ocr import read_text

ESC, GS, DLE = b"\x1b", b"\x1d", b"\x10"
RECEIPT = (
    ESC + b"@" + b"CORNER SHOP\n"
    + b"".join(b"Line %02d             %d.00\n" % (i, i) for i in range(40))
    + b"TOTAL              780.00\n" + GS + b"V\x00"
)  # fmt: skip
LINES = ["CORNER SHOP", *(f"Line {i:02d} {i}.00" for i in range(40)), "TOTAL 780.00"]


def assert_whole(png):
    """Every line of the receipt on the paper since the fault: the receipt went on where it
    stopped, or came again whole as a copy (its start is there twice then)."""
    text = read_text(png)
    assert not [line for line in LINES if line not in text], text


@pytest.mark.needs("paper", "image")
def test_paper_out_mid_receipt_stops_it_and_nothing_is_lost_once_loaded(printer, tesseract):
    printer.paper_out(after_lines=200)  # the roll ends 200 dot lines into the receipt
    with printer.open_data() as link:
        link.write(RECEIPT)
        for _ in range(100):
            status = printer.ask(DLE + b"\x04\x04", 1, link=link)
            if status[0] & 0x60 == 0x60:
                break
            time.sleep(0.2)
        assert status[0] & 0x60 == 0x60, status  # paper end
        printer.load_paper()
    assert_whole(printer.next_paper(sent=RECEIPT))


# A receipt whose end the module has taken (on flash, acknowledged) while it still prints:
# a short one, then a long feed. (A receipt whose end had not been parsed when the power went
# was never acknowledged: it stays `incomplete`, docs/journal.md.)
FEEDING = ESC + b"@CORNER SHOP\nTea 1.20\nTOTAL 1.20\n" + (ESC + b"J\xff") * 4 + GS + b"V\x00"


@pytest.mark.needs("power", "image")
def test_a_power_cut_mid_receipt_loses_nothing(printer, tesseract):
    before = printer.steps()
    printer.send(FEEDING)
    printer.wait_moving(400, since=before)  # the text printed, the feed under way
    printer.power_cycle()
    text = read_text(printer.next_paper(sent=FEEDING))
    assert "COPY" in " ".join(text), text
    assert [line for line in text if "COPY" not in line] == [
        "CORNER SHOP",
        "Tea 1.20",
        "TOTAL 1.20",
    ], text


@pytest.mark.needs("cover", "image")
def test_a_receipt_sent_with_the_cover_open_prints_once_it_is_closed(printer, tesseract):
    printer.cover(True)
    # A module reads its cover switch every few ms: a POS asks until it says so.
    for _ in range(50):
        if printer.ask(DLE + b"\x04\x02", 1)[0] & 0x04:  # cover open
            break
        time.sleep(0.1)
    assert printer.ask(DLE + b"\x04\x02", 1)[0] & 0x04
    printer.send(RECEIPT)
    printer.cover(False)
    png = printer.next_paper(sent=RECEIPT)
    assert_whole(png)
    assert "COPY" not in " ".join(read_text(png))  # it never started: no copy
