"""The real clients' receipts on every target, judged by what came out on paper: each code
read by zxing-cpp as its exact text, the text by tesseract, an image dot for dot.
python-escpos (barcode, a raster QR code and a native one), receiptline (Chinese in GB18030,
Code 128, QR; codes it draws itself) and @point-of-sale/receipt-printer-encoder (the same, and
an image); on the rig the paper is the controller's capture."""

from __future__ import annotations

import json

import pytest
from escpos.printer import Dummy
from PIL import Image
from test_chip_clients import reads
from test_clients_codes import reads_chinese
from test_clients_graphics import node_client
from test_codes import decode

CODE128 = "TILLROLL-0042"
QR = "https://example.com/r/2026/0042"
QR_RECEIPTLINE = "https://example.com/r/receiptline"  # what tests/clients/graphics_*.mjs draw
QR_ENCODER = "https://example.com/r/encoder"
CUT = b"\x1dV\x00"


@pytest.mark.needs("image")
def test_a_python_escpos_receipt_and_its_codes(printer, tesseract):
    p = Dummy(profile="default")
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("BAKERY\n")
    p.set(align="left", normal_textsize=True, bold=False)
    p.text("Rye bread           2.80\n")
    p.text("TOTAL EUR           2.80\n")
    p.barcode("{B" + CODE128, "CODE128", function_type="B")
    p.qr(QR + "/image")  # a raster image (GS v 0)
    p.qr(QR, native=True)  # GS ( k
    p.cut()
    png = printer.print(p.output)
    assert sorted(decode(png)) == sorted(
        [(CODE128, "Code128"), (QR + "/image", "QRCode"), (QR, "QRCode")]
    )
    reads(png, ["BAKERY", "Rye bread 2.80", "TOTAL EUR 2.80"])


NODE_CODES = [
    ("codes_receiptline.mjs", ["欢迎光临", "谢谢惠顾"], reads_chinese),
    ("codes_encoder.mjs", ["HARBOUR BAKERY", "TOTAL 5.90"], reads),
]


@pytest.mark.needs("image")
@pytest.mark.parametrize("script, text, read", NODE_CODES, ids=["receiptline", "encoder"])
def test_an_npm_clients_receipt_and_its_codes(printer, tesseract, tmp_path, script, text, read):
    spec = dict(text=text, code128=CODE128, qr=QR)
    png = printer.print(node_client(tmp_path, script, json.dumps(spec)))
    assert sorted(decode(png)) == sorted([(CODE128, "Code128"), (QR, "QRCode")])
    read(png, text)


# The clients draw these codes themselves and send them as images.
NODE_GRAPHICS = [
    (
        "graphics_receiptline.mjs",
        [("4006381333931", "EAN13"), ("TILL-39", "Code39"), (QR_RECEIPTLINE, "QRCode")],
    ),
    (
        "graphics_encoder.mjs",
        [("4006381333931", "EAN13"), ("TILL123", "Code128"), (QR_ENCODER, "QRCode")],
    ),
]


@pytest.mark.needs("image")
@pytest.mark.parametrize("script, codes", NODE_GRAPHICS, ids=["receiptline", "encoder"])
def test_an_npm_clients_drawn_codes_scan(printer, tmp_path, script, codes):
    data = node_client(tmp_path, script)
    if CUT not in data:
        data += CUT
    assert decode(printer.print(data)) == codes


@pytest.mark.needs("image")
def test_a_receipt_printer_encoder_image_comes_out_dot_for_dot(printer, tmp_path):
    data = node_client(tmp_path, "graphics_encoder_image.mjs", "raster")
    want = json.loads((tmp_path / "client.bin.json").read_text())  # its black dots, by row
    im = Image.open(printer.print(data + CUT)).convert("L")
    rows = [[x for x in range(im.width) if im.getpixel((x, y)) < 128] for y in range(im.height)]
    top = next(y for y, row in enumerate(rows) if row)  # where the paper's first dots are
    assert rows[top : top + len(want)] == want
    assert not any(rows[top + len(want) :]), "dots printed below the image"
