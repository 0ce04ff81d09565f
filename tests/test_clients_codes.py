"""Each client library's default barcode and QR calls come out whole on a 58 mm module.

The libraries POS software uses (docs/escpos.md, "What clients send") build a receipt with
their own defaults: a Code 128 barcode too wide for 384 dots at the module width they ask for,
Code 128 code set C as the manual defines it (receiptline, python-escpos), Code 128 with no
code set selector and a QR code through the older GS Z / ESC Z commands (the npm escpos
library), QR codes through GS ( k or as images, and Chinese text in GB18030 with no FS &
first (escpos, node-thermal-printer). `tillroll render` prints them with the module's
defaults; zxing-cpp must read every symbol as its exact text, and tesseract the Chinese.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from escpos.printer import File
from PIL import Image
from test_clients_graphics import node_client
from test_codes import decode, render

from ocr import missing_lines

TEXT = ["欢迎光临", "谢谢惠顾"]
CODE128 = "TILLROLL-0042"  # 13 characters: wider than 384 dots at module 3, in any code sets
QR = "https://example.com/r/2026/0042"


def reads_chinese(png: Path, lines: list[str]) -> None:
    """The Chinese lines printed above the codes, read by OCR from that part of the paper."""
    im = Image.open(png).convert("L")
    black = [sum(im.getpixel((x, y)) < 128 for x in range(im.width)) for y in range(im.height)]
    top = next(y for y, n in enumerate(black) if n > 100)  # the first symbol's first row
    missing, seen = missing_lines(lines, im.crop((0, 0, im.width, top)), "chi_sim")
    assert not missing, seen


@pytest.mark.parametrize(
    "script, spec, chinese, found",
    [
        # receiptline: Code 128 in the fewest characters (code set C as bytes 0-99), width 2;
        # its QR code as a raster image; GB18030 after FS &.
        ("codes_receiptline.mjs", dict(code128=CODE128), True, [(CODE128, "Code128")]),
        # receipt-printer-encoder: {B in front, GS w 3; QR size 6, level M. No CJK code page.
        ("codes_encoder.mjs", dict(code128=CODE128, text=["ENCODER"]), False, [(CODE128, "Code128")]),
        # node-thermal-printer: {B, GS w 3, height 162; QR cell 3, level M; character set
        # CHINA: ESC R 15 and GB 2312 bytes with no FS &.
        ("codes_thermal_printer.mjs", dict(code128=CODE128), True, [(CODE128, "Code128")]),
        # escpos: GB18030 text with no FS &, GS w 1 and Code 128 with no code set selector (its
        # length byte is right from 16 characters on), QR through GS Z 2 / ESC Z.
        (
            "codes_escpos.mjs",
            dict(code128="TILLROLL-ESCPOS-0042"),
            True,
            [("TILLROLL-ESCPOS-0042", "Code128")],
        ),
        # escpos-buffer: QR through GS ( k, size 4, level L; no barcode call.
        ("codes_escpos_buffer.mjs", dict(text=["ESCPOS-BUFFER"]), False, []),
    ],
)  # fmt: skip
def test_npm_clients_default_codes_scan_as_their_text_and_chinese_reads_back(
    tmp_path: Path, tesseract, script, spec, chinese, found
):
    spec = {"text": TEXT, "qr": QR, **spec}
    png = render(tmp_path, node_client(tmp_path, script, json.dumps(spec)))
    assert sorted(decode(png)) == sorted(found + [(QR, "QRCode")])
    if chinese:
        reads_chinese(png, TEXT)


def test_python_escpos_default_barcode_and_qr_calls_scan_as_their_text(tmp_path: Path):
    path = tmp_path / "escpos.bin"
    p = File(str(path), profile="default")  # the printer draws its barcodes: GS k
    p.text("python-escpos\n")
    # width 3, height 64, HRI below: 35 + 13 x 11 modules at 3 dots do not fit 384
    p.barcode("{B" + CODE128, "CODE128", function_type="B")
    # code set C as the manual has it: one byte 0-99 for each pair of digits
    p.barcode("{C" + "".join(chr(v) for v in (20, 26, 0, 42)), "CODE128", function_type="B")
    p.qr(QR)  # an image by default
    p.qr(QR + "/native", native=True)  # GS ( k, size 3, level L
    p.cut()
    p.close()
    found = decode(render(tmp_path, path.read_bytes()))
    assert sorted(found) == sorted(
        [(CODE128, "Code128"), ("20260042", "Code128"), (QR, "QRCode"), (QR + "/native", "QRCode")]
    )
