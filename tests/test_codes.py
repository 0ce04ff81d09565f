"""Barcodes and QR codes come out scannable: every symbology GS k offers and QR at each error
correction level, printed by `tillroll render` and read back with zxing-cpp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageOps

ESC, GS = b"\x1b", b"\x1d"


def render(tmp_path: Path, data: bytes) -> Path:
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    png = tmp_path / "out.png"
    done = subprocess.run(
        [sys.executable, "-m", "tillroll_host.cli", "render", str(source), "-o", str(png)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return png


def decode(png: Path, fmt: str | None = None) -> list[tuple[str, str]]:
    """(text, format name) of every code zxing-cpp finds, with a quiet zone added round the
    paper (a left-justified code starts at the paper's edge). zxing reads UPC-A as EAN-13
    unless it is asked for UPC-A alone."""
    im = ImageOps.expand(Image.open(png).convert("L"), border=40, fill=255)
    kw = {"formats": getattr(zxingcpp.BarcodeFormat, fmt)} if fmt else {}
    return [(r.text, r.format.name) for r in zxingcpp.read_barcodes(im, **kw)]


def barcode(m: int, data: bytes, width: int = 2) -> bytes:
    return (
        ESC + b"@" + ESC + b"a\x01" + GS + b"h\x50" + GS + b"w" + bytes([width])
        + GS + b"H\x02" + GS + b"k" + bytes([m, len(data)]) + data + b"\n" + GS + b"V\x00"
    )  # fmt: skip


@pytest.mark.parametrize(
    "m, data, text, fmt",
    [
        # zxing-cpp reports UPC-A in its EAN-13 form, and UPC-E expanded to that form.
        (65, b"03600029145", "0036000291452", "UPCA"),
        (65, b"036000291452", "0036000291452", "UPCA"),
        (66, b"0425261", "0042100005264", "UPCE"),
        (66, b"04252614", "0042100005264", "UPCE"),
        (66, b"042100005264", "0042100005264", "UPCE"),
        (67, b"400638133393", "4006381333931", "EAN13"),
        (68, b"9638507", "96385074", "EAN8"),
        (69, b"T-39 $/+%.", "T-39 $/+%.", "Code39"),
        (70, b"0123456789", "0123456789", "ITF"),
        (71, b"A40156B", "A40156B", "Codabar"),
        (72, b"Till-93 x", "Till-93 x", "Code93"),
        (73, b"{BTill-128", "Till-128", "Code128"),
        (73, b"{C123456{BAB", "123456AB", "Code128"),
        (73, b"{AABC{Sd{BEF", "ABCdEF", "Code128"),
    ],
)
def test_every_symbology_scans_as_its_data(tmp_path: Path, m: int, data: bytes, text, fmt):
    found = decode(render(tmp_path, barcode(m, data)), fmt if fmt.startswith("UPC") else None)
    assert found == [(text, fmt)]


def test_form_a_barcodes_end_at_nul(tmp_path: Path):
    data = ESC + b"@" + GS + b"w\x02" + GS + b"k\x04TILL\x00" + GS + b"k\x02400638133393\x00"
    found = decode(render(tmp_path, data + b"\n" + GS + b"V\x00"))
    assert sorted(found) == [("4006381333931", "EAN13"), ("TILL", "Code39")]


@pytest.mark.parametrize(
    "m, data",
    [
        (67, b"40063813339"),  # EAN-13 one digit short
        (67, b"4006381333932"),  # wrong check digit
        (69, b"lower"),  # Code 39 has no lower case
        (70, b"12345"),  # ITF needs pairs
        (71, b"40156"),  # Codabar without start/stop
        (73, b"Till"),  # Code 128 without a code set
        (73, b"{C12345"),  # an odd digit in code set C
        (65, b"0" * 40),
    ],
)
def test_bad_barcode_data_prints_nothing_and_the_receipt_goes_on(tmp_path, m, data):
    png = render(tmp_path, barcode(m, data)[:-3] + b"after\n" + GS + b"V\x00")
    assert decode(png) == []


def qr(data: bytes, size: int = 4, level: int = 0) -> bytes:
    n = len(data) + 3
    return (
        GS + b"(k\x04\x001A2\x00"
        + GS + b"(k\x03\x001C" + bytes([size])
        + GS + b"(k\x03\x001E" + bytes([48 + level])
        + GS + b"(k" + bytes([n & 0xFF, n >> 8]) + b"1P0" + data
        + GS + b"(k\x03\x001Q0"
    )  # fmt: skip


@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize("length, size", [(12, 8), (100, 5), (220, 3)])
def test_qr_codes_scan_at_every_level_and_size(tmp_path: Path, level, length, size):
    text = ("Tillroll %d/%d " % (level, length) * 100)[:length]
    png = render(tmp_path, ESC + b"@" + ESC + b"a\x01" + qr(text.encode(), size, level) + b"\n")
    assert decode(png) == [(text, "QRCode")]


def test_a_qr_code_too_big_for_its_module_size_shrinks_to_fit_the_paper(tmp_path: Path):
    text = "x" * 300
    png = render(tmp_path, qr(text.encode(), size=16) + b"\n")
    assert decode(png) == [(text, "QRCode")]


def test_a_file_that_ends_with_the_print_command_still_prints_the_whole_code(tmp_path: Path):
    # The sender closes the link while the code is still printing: it comes out whole.
    text = "https://example.com/" + "x" * 200
    png = render(tmp_path, qr(text.encode(), size=3))
    assert decode(png) == [(text, "QRCode")]
    png = render(tmp_path, GS + b"h\xff" + GS + b"w\x02" + GS + b"kI\x0a{BTill-128")
    assert decode(png) == [("Till-128", "Code128")]


def test_long_qr_data_up_to_version_25_scans(tmp_path: Path):
    text = "".join(chr(0x21 + k % 90) for k in range(1200))
    png = render(tmp_path, ESC + b"a\x01" + qr(text.encode(), size=3, level=0) + b"\n")
    assert decode(png) == [(text, "QRCode")]


@pytest.mark.parametrize(
    "text",
    ["0123456789" * 90, "HTTPS://EXAMPLE.COM/R/42 $%*+-./:", "1", "A1", "12", "ABC"],
)
def test_digits_and_capitals_pack_into_numeric_and_alphanumeric_qr_codes(tmp_path, text):
    png = render(tmp_path, ESC + b"a\x01" + qr(text.encode(), size=3, level=1) + b"\n")
    assert decode(png) == [(text, "QRCode")]


def test_qr_data_beyond_version_25_prints_nothing_but_the_text_after_it(tmp_path: Path):
    png = render(tmp_path, qr(b"y" * 1300, size=2) + b"after\n")
    assert decode(png) == []
    assert Image.open(png).convert("L").getextrema()[0] == 0  # "after" printed


def test_a_logo_defined_in_one_render_prints_in_the_next_from_flash(tmp_path: Path):
    flash = tmp_path / "flash"
    define = GS + b"(L\x0f\x000C0TL\x01\x10\x00\x02\x001" + b"\xff\x00\x00\xff"
    first = tmp_path / "define.bin"
    first.write_bytes(define + b"defined\n")
    second = tmp_path / "print.bin"
    second.write_bytes(GS + b"(L\x06\x000ETL\x01\x01" + b"\n")
    for source in (first, second):
        done = subprocess.run(
            [sys.executable, "-m", "tillroll_host.cli", "render", str(source), "-o",
             str(tmp_path / "out.png"), "--flash", str(flash)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    im = Image.open(tmp_path / "out.png").convert("L")
    rows = [[x for x in range(im.width) if im.getpixel((x, y)) < 128] for y in range(2)]
    assert rows == [list(range(8)), list(range(8, 16))]
