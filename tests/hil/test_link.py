"""The data link as a POS terminal meets it, on every target: status and identity at once,
receipts sent back to back all printed, and garbage on the link never costing the receipt
after it."""

from __future__ import annotations

import random

import pytest
from escpos.printer import Dummy

from ocr import read_text

ESC, GS, DLE = b"\x1b", b"\x1d", b"\x10"
CLEAR = DLE + b"\x14\x08\x01\x03\x14\x01\x06\x02\x08"  # DLE DC4 fn 8: clear the buffers


def shop_receipt(name: str, *lines: str) -> bytes:
    body = "".join(line + "\n" for line in lines)
    return ESC + b"@" + f"{name}\n{body}".encode() + GS + b"V\x00"


@pytest.mark.smoke
def test_status_and_identity_answer_at_once(printer):
    # DLE EOT 1-4 on an idle module with paper: 0x12 each, nothing to report
    assert printer.ask(DLE + b"\x04\x01" + DLE + b"\x04\x02", 2) == b"\x12\x12"
    assert printer.ask(DLE + b"\x04\x03" + DLE + b"\x04\x04", 2) == b"\x12\x12"
    assert printer.ask(GS + b"I\x01", 1) == b"\x20"  # model ID
    name = printer.ask(GS + b"IC", 13)
    assert name == b"_Tillroll 58\x00", name


@pytest.mark.smoke
def test_the_service_link_names_the_module_without_a_key(service_link):
    status = service_link.status()
    assert (status["model"], status["firmware"]) == ("Tillroll 58", "0.1.0"), status
    assert status["faults"] == [], status


@pytest.mark.smoke
def test_a_python_escpos_receipt_reads_back_from_the_paper(printer, tesseract):
    p = Dummy(profile="ZJ-5870")
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("BAKERY\n")
    p.set(align="left", normal_textsize=True, bold=False)
    p.text("Rye bread           2.80\n")
    p.text("TOTAL EUR           2.80\n")
    p.cut()
    text = read_text(printer.print(p.output))
    assert "BAKERY" in text and "TOTAL EUR 2.80" in text, text


def test_receipts_sent_back_to_back_all_come_out_in_order(printer, tesseract):
    # Ten receipts in one write, more than the link's 4 KB receive ring holds: flow control holds
    # the sender back and nothing is dropped.
    names = [f"SHOP {n:02d}" for n in range(10)]
    filler = [f"Item {i:02d}            {i}.00" for i in range(20)]  # 5 KB in all
    printer.send(b"".join(shop_receipt(name, *filler) for name in names))
    seen: list[str] = []  # a piece of paper a receipt on the sim; on the chip, one for all
    while len(seen) < len(names):  # (its paper is torn off only when the motor stands)
        seen += [line for line in read_text(printer.next_paper()) if line.startswith("SHOP")]
    assert seen == names


def test_garbage_on_the_link_costs_nothing_after_it(printer, tesseract):
    rng = random.Random(18)
    noise = bytes(rng.randrange(256) for _ in range(4000))
    printer.send(noise + GS + b"V\x00")
    printer.next_paper()  # whatever the noise printed
    with printer.open_data() as link:
        link.timeout = 2  # replies the noise asked for: a USB link keeps them for whoever reads
        link.read(1 << 16)
        # The noise may end inside a command (an image's size, say) that would take the next
        # receipt's bytes as its own on a link that never closes: the host clears the module
        # as ESC/POS has it, DLE DC4 fn 8, and the module says so.
        assert printer.ask(CLEAR, 3, link=link) == b"\x37\x25\x00"
        assert printer.ask(DLE + b"\x04\x01", 1, link=link)[0] & 0x93 == 0x12  # still answers
    text = read_text(printer.print(shop_receipt("AFTER NOISE", "Tea 1.20")))
    assert text[:2] == ["AFTER NOISE", "Tea 1.20"], text
