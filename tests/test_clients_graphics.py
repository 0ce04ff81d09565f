"""Real POS clients' barcodes, QR and PDF417 codes and images come out as they meant:
python-escpos, receiptline, receipt-printer-encoder and node-thermal-printer build the
receipts, `tillroll render` prints them, zxing-cpp reads every code back, and a python-escpos
image comes out dot for dot."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from escpos.printer import File
from PIL import Image, ImageDraw
from test_codes import decode, render

ROOT = Path(__file__).resolve().parents[1]


def node_client(tmp_path: Path, script: str, *args: str) -> bytes:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the npm POS clients need it")
    out = tmp_path / "client.bin"
    done = subprocess.run(
        [node, str(ROOT / "tests" / "clients" / script), str(out), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def escpos_bytes(tmp_path: Path, build) -> bytes:
    path = tmp_path / "escpos.bin"
    p = File(str(path), profile="ZJ-5870")
    build(p)
    p.close()
    return path.read_bytes()


def test_python_escpos_barcodes_and_native_qr_scan(tmp_path: Path):
    # The ZJ-5870 profile has python-escpos draw its barcodes itself and send them as ESC *
    # bit images; the QR code goes as GS ( k, encoded on the module.
    def build(p):
        p.text("python-escpos codes\n")
        p.barcode("4006381333931", "EAN13", width=2)
        p.barcode("TILL-39", "CODE39", width=2)
        p.qr("https://example.com/r/python-escpos", size=5, native=True)
        p.cut()

    found = decode(render(tmp_path, escpos_bytes(tmp_path, build)))
    assert sorted(found) == [
        ("4006381333931", "EAN13"),
        ("TILL-398", "Code39"),  # the ZJ-5870 profile renders Code 39 in software, with the
        ("https://example.com/r/python-escpos", "QRCode"),  # mod 43 check character "8"
    ]


def test_receiptline_barcodes_and_qr_scan(tmp_path: Path):
    found = decode(render(tmp_path, node_client(tmp_path, "graphics_receiptline.mjs")))
    assert found == [
        ("4006381333931", "EAN13"),
        ("TILL-39", "Code39"),
        ("https://example.com/r/receiptline", "QRCode"),
    ]


def test_receipt_printer_encoder_barcodes_and_qr_scan(tmp_path: Path):
    found = decode(render(tmp_path, node_client(tmp_path, "graphics_encoder.mjs")))
    assert found == [
        ("4006381333931", "EAN13"),
        ("TILL123", "Code128"),
        ("https://example.com/r/encoder", "QRCode"),
    ]


def logo() -> Image.Image:
    im = Image.new("1", (120, 48), 1)
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, 119, 47), outline=0)
    d.ellipse((8, 6, 44, 42), fill=0)
    d.polygon([(60, 40), (80, 8), (100, 40)], fill=0)
    d.line((4, 44, 115, 4), fill=0, width=3)
    return im


@pytest.mark.parametrize("impl", ["bitImageRaster", "graphics", "bitImageColumn"])
def test_a_python_escpos_image_comes_out_dot_for_dot(tmp_path: Path, impl: str):
    im = logo()
    data = escpos_bytes(tmp_path, lambda p: (p.image(im, impl=impl), p.cut()))
    out = Image.open(render(tmp_path, data)).convert("L")
    got = [[out.getpixel((x, y)) < 128 for x in range(im.width)] for y in range(im.height)]
    want = [[im.getpixel((x, y)) == 0 for x in range(im.width)] for y in range(im.height)]
    assert got == want
    # nothing printed beside the image
    assert all(out.getpixel((x, y)) >= 128 for y in range(im.height) for x in range(120, 384))


@pytest.mark.parametrize(
    "code, bc, kwargs, text, fmt",
    [
        ("03600029145", "UPC-A", {}, "0036000291452", "UPCA"),  # zxing reads it as EAN-13
        ("0425261", "UPC-E", {}, "0042100005264", "UPCE"),  # ... and UPC-E expanded so
        ("4006381333931", "EAN13", {}, "4006381333931", "EAN13"),
        ("96385074", "EAN8", {}, "96385074", "EAN8"),
        ("TILL-39", "CODE39", {}, "TILL-39", "Code39"),
        ("0123456789", "ITF", {}, "0123456789", "ITF"),
        ("A40156B", "NW7", {}, "A40156B", "Codabar"),
        ("Till-93", "CODE93", {"function_type": "B"}, "Till-93", "Code93"),
        ("{BTill-128", "CODE128", {"function_type": "B"}, "Till-128", "Code128"),
    ],
)
def test_python_escpos_hardware_barcodes_scan(tmp_path: Path, code, bc, kwargs, text, fmt):
    # The default profile has the printer draw them: GS k, every symbology python-escpos has.
    def build(p):
        p.barcode(code, bc, width=2, **kwargs)
        p.cut()

    path = tmp_path / "escpos.bin"
    p = File(str(path), profile="default")
    build(p)
    p.close()
    assert b"\x1dk" in path.read_bytes()
    png = render(tmp_path, path.read_bytes())
    assert decode(png, fmt if fmt.startswith("UPC") else None) == [(text, fmt)]


@pytest.mark.parametrize("mode", ["raster", "column"])
def test_a_receipt_printer_encoder_image_comes_out_dot_for_dot(tmp_path: Path, mode: str):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the npm POS clients need it")
    out = tmp_path / "client.bin"
    script = ROOT / "tests" / "clients" / "graphics_encoder_image.mjs"
    done = subprocess.run(
        [node, str(script), str(out), mode], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    want = json.loads((tmp_path / "client.bin.json").read_text())
    im = Image.open(render(tmp_path, out.read_bytes())).convert("L")
    got = [[x for x in range(im.width) if im.getpixel((x, y)) < 128] for y in range(len(want))]
    assert got == want


PDF417_CASES = [
    ["Encoder PDF417 defaults", {}],
    ["https://example.com/r/2026-11-25/000042?total=123.45", {"width": 2, "errorlevel": 4}],
    ["Tillroll 0042 total 12.50 EUR", {"width": 2, "columns": 5, "rows": 10, "height": 4}],
    ["truncated " * 6, {"truncated": True, "errorlevel": 2}],
    [" ".join("item %d 2.50" % k for k in range(20)), {"width": 2, "errorlevel": 0}],
]


def receipts(data: bytes) -> list[bytes]:
    """The receipts with a symbol in a client stream, each up to its cut (GS V 0)."""
    return [part + b"\x1dV\x00" for part in data.split(b"\x1dV\x00") if b"\x1d(k" in part]


@pytest.mark.parametrize(
    "script, cases",
    [
        ("pdf417_encoder.mjs", PDF417_CASES),
        # node-thermal-printer: the Epson driver's pdf417(), ECC by ratio (1-40)
        (
            "pdf417_thermal_printer.mjs",
            [["Thermal printer PDF417", {}], ["Tillroll 0042", {"width": 2, "correction": 8}],
             ["x" * 120, {"width": 2, "columns": 6, "rowHeight": 2}]],
        ),
    ],
)  # fmt: skip
def test_npm_clients_pdf417_codes_scan_as_their_text(tmp_path: Path, script, cases):
    spec = tmp_path / "symbols.json"
    spec.write_text(json.dumps(cases))
    stream = node_client(tmp_path, script, str(spec))
    parts = receipts(stream)
    assert len(parts) == len(cases)
    for part, (text, _) in zip(parts, cases):
        assert decode(render(tmp_path, part)) == [(text, "PDF417")]
