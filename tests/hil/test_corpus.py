"""The real clients' receipts on every target, judged by what came out on paper: each code
read by zxing-cpp as its exact text, the text by tesseract. python-escpos (barcode, a raster
QR code and a native one), receiptline (Chinese in GB18030, Code 128, QR) and
@point-of-sale/receipt-printer-encoder; on the rig the paper is the controller's capture."""

from __future__ import annotations

import json

import pytest
from escpos.printer import Dummy
from test_chip_clients import reads
from test_clients_codes import reads_chinese
from test_clients_graphics import node_client
from test_codes import decode

CODE128 = "TILLROLL-0042"
QR = "https://example.com/r/2026/0042"


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


@pytest.mark.needs("image")
def test_a_receiptline_receipt_in_gb18030_and_its_codes(printer, tesseract, tmp_path):
    text = ["欢迎光临", "谢谢惠顾"]
    spec = dict(text=text, code128=CODE128, qr=QR)
    png = printer.print(node_client(tmp_path, "codes_receiptline.mjs", json.dumps(spec)))
    assert sorted(decode(png)) == sorted([(CODE128, "Code128"), (QR, "QRCode")])
    reads_chinese(png, text)


@pytest.mark.needs("image")
def test_a_receipt_printer_encoder_receipt_and_its_codes(printer, tesseract, tmp_path):
    text = ["HARBOUR BAKERY", "TOTAL 5.90"]
    spec = dict(text=text, code128=CODE128, qr=QR)
    png = printer.print(node_client(tmp_path, "codes_encoder.mjs", json.dumps(spec)))
    assert sorted(decode(png)) == sorted([(CODE128, "Code128"), (QR, "QRCode")])
    reads(png, text)
