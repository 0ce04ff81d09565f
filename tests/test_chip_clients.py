"""Receipts from real POS client libraries, printed by the emulated chip's pins.

The receipts test_clients.py and test_clients_codes.py print on the unix-port sim, sent here
over the chip's data port (its USB CDC interface, bridged to TCP) to the production image on
the emulated RP2040 with its character settings at their defaults: python-escpos, receiptline
(GB18030), @point-of-sale/receipt-printer-encoder, and a PDF417 symbol built from Epson's
GS ( k layout. What the head's and the motor's pins printed (the mechanism twin's paper) is
read back: every code by zxing-cpp as its exact text, the text by tesseract.

An emulated receipt takes tens of seconds: plain `pytest` (`make test`) prints the
python-escpos receipt, which has text, a barcode and both kinds of QR code on it; the others
print with `--target=chip` (`make test-chip`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_chip_print
from escpos.printer import Dummy
from PIL import Image
from test_chip_print import print_on_chip
from test_clients_codes import reads_chinese
from test_clients_graphics import node_client
from test_codes import decode, pdf417

from ocr import missing_lines

ESC, GS = b"\x1b", b"\x1d"
CODE128 = "TILLROLL-0042"  # too wide for 384 dots at the module width the clients ask for
QR = "https://example.com/r/2026/0042"

chip = test_chip_print.chip  # the fixture: one emulated chip for this file's receipts

every_chip_test = pytest.mark.skipif(
    "config.getoption('target') != 'chip'",
    reason="tens of seconds on the emulated chip: `make test-chip` prints it (the unix port "
    "prints the same receipt in tests/test_clients_codes.py and tests/test_codes.py)",
)


def symbol_rows(png: Path) -> tuple[Image.Image, int, int]:
    """The paper, and the first and last dot rows of its codes: rows with over 100 black dots,
    eight or more together (a line of text, an underline, has fewer)."""
    im = Image.open(png).convert("L")
    dense = [
        sum(im.getpixel((x, y)) < 128 for x in range(im.width)) > 100 for y in range(im.height)
    ]
    inside = [y for y in range(7, im.height) if all(dense[y - k] for k in range(8))]
    assert inside, "no code on the paper"
    return im, inside[0] - 7, inside[-1]


def reads(png: Path, lines: list[str], where: str = "above") -> None:
    """The text lines printed above (or below) the codes, read by OCR from that part of the
    paper: the bars next to a line of text put tesseract off it."""
    im, top, bottom = symbol_rows(png)
    part = (
        im.crop((0, 0, im.width, top))
        if where == "above"
        else im.crop((0, bottom + 1, im.width, im.height))
    )
    missing, seen = missing_lines(lines, part)
    assert not missing, seen


def test_a_python_escpos_receipt_reads_back_and_its_barcode_and_qr_codes_scan(chip, tmp_path):
    p = Dummy(profile="default")  # the printer draws its barcodes and native QR codes
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("BAKERY\n")
    p.set(align="left", normal_textsize=True, bold=False)
    p.text("Rye bread           2.80\n")
    p.set(underline=1)
    p.text("Croissant x2        3.10\n")
    p.set(underline=0, bold=True)
    p.text("TOTAL EUR           5.90\n")
    p.set(bold=False)
    # width 3: 35 + 13 x 11 modules at 3 dots do not fit 384, the module narrows them
    p.barcode("{B" + CODE128, "CODE128", function_type="B")
    p.qr(QR + "/image")  # a raster image (GS v 0)
    p.qr(QR, native=True)  # GS ( k, size 3, level L
    p.cut()
    png = print_on_chip(chip, p.output, tmp_path / "escpos.png")
    assert sorted(decode(png)) == sorted(
        [(CODE128, "Code128"), (QR + "/image", "QRCode"), (QR, "QRCode")]
    )
    reads(png, ["BAKERY", "Rye bread 2.80", "Croissant x2 3.10", "TOTAL EUR 5.90"])


@every_chip_test
def test_a_receiptline_receipt_in_gb18030_reads_back_and_its_codes_scan(chip, tmp_path):
    # Chinese after FS & in GB18030, Code 128 in code set C where it is shorter, width 2, and
    # its QR code as a raster image.
    text = ["欢迎光临", "谢谢惠顾"]
    spec = dict(text=text, code128=CODE128, qr=QR)
    data = node_client(tmp_path, "codes_receiptline.mjs", json.dumps(spec))
    png = print_on_chip(chip, data, tmp_path / "receiptline.png")
    assert sorted(decode(png)) == sorted([(CODE128, "Code128"), (QR, "QRCode")])
    reads_chinese(png, text)


@every_chip_test
def test_a_receipt_printer_encoder_receipt_reads_back_and_its_codes_scan(chip, tmp_path):
    # {B in front of the Code 128 data, GS w 3; QR code size 6, level M.
    text = ["HARBOUR BAKERY", "TOTAL 5.90"]
    spec = dict(text=text, code128=CODE128, qr=QR)
    data = node_client(tmp_path, "codes_encoder.mjs", json.dumps(spec))
    png = print_on_chip(chip, data, tmp_path / "encoder.png")
    assert sorted(decode(png)) == sorted([(CODE128, "Code128"), (QR, "QRCode")])
    reads(png, text)


@every_chip_test
def test_a_pdf417_symbol_scans_as_its_text(chip, tmp_path):
    text = "Tillroll PDF417 printed by the pins"
    data = ESC + b"@" + ESC + b"a\x01" + pdf417(text.encode(), module=2, level=2)
    data += b"\nafter\n" + GS + b"V\x00"
    png = print_on_chip(chip, data, tmp_path / "pdf417.png")
    assert decode(png) == [(text, "PDF417")]
    reads(png, ["after"], where="below")
