"""Barcodes and QR codes come out scannable: every symbology GS k offers and QR at each error
correction level, printed by `tillroll render` and read back with zxing-cpp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageOps

from ocr import missing_lines
from tillroll_host.sim import SimModule, send

ESC, GS = b"\x1b", b"\x1d"


def render(tmp_path: Path, data: bytes, *settings: str) -> Path:
    """What `data` prints, as a PNG; `settings` are `tillroll render`'s setting options."""
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    png = tmp_path / "out.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tillroll_host.cli",
            "render",
            str(source),
            "-o",
            str(png),
            *settings,
        ],
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
        # code set C: one byte of value 0-99 for each pair of digits, as the manual has it
        (73, b"{C\x0c\x22\x38{BAB", "123456AB", "Code128"),
        (73, b"{C\x00\x63\x07", "009907", "Code128"),
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
        (69, b"lower"),  # Code 39 has no lower case
        (70, b"12345"),  # ITF needs pairs
        (71, b"40156"),  # Codabar without start/stop
        (73, b"{C\x0c\x64"),  # code set C: a byte above 99 (63h)
        (73, b"{CA{C\x01"),  # a switch to the code set in use
        (73, b"{BTill\xe9"),  # above 127
        (66, b"1425261"),  # UPC-E: the number system must be 0
        (65, b"0" * 40),
    ],
)
def test_bad_barcode_data_prints_nothing_and_the_receipt_goes_on(tmp_path, m, data):
    png = render(tmp_path, barcode(m, data)[:-3] + b"after\n" + GS + b"V\x00")
    assert decode(png) == []


def bars(png: Path, y: int = 10) -> list[int]:
    """x of every black dot in dot line y (within the bars of a symbol printed first)."""
    im = Image.open(png).convert("L")
    return [x for x in range(im.width) if im.getpixel((x, y)) < 128]


def test_a_check_digit_sent_with_the_data_is_printed_as_sent(tmp_path: Path):
    # The manual: a UPC/EAN check digit given with the data is printed, not checked. A wrong
    # one changes only the last digit's seven modules (a scanner rejects the symbol, the HRI
    # shows what the POS sent).
    right = bars(render(tmp_path, barcode(67, b"4006381333931")))
    wrong = bars(render(tmp_path, barcode(67, b"4006381333932")))
    left = (384 - 95 * 2) // 2  # centred, 95 modules of 2 dots
    differ = set(right) ^ set(wrong)
    assert differ and all(left + 85 * 2 <= x < left + 92 * 2 for x in differ)


def test_a_code_39_star_inside_the_data_ends_the_symbol_and_the_rest_prints_as_text(
    tmp_path: Path, tesseract
):
    data = barcode(69, b"*TILL*THE REST IS TEXT")
    png = render(tmp_path, data)
    assert decode(png) == [("TILL", "Code39")]
    missing, seen = missing_lines(["THE REST IS TEXT"], png)
    assert not missing, seen


@pytest.mark.parametrize(
    "m, data, width, text, fmt, dots",
    [
        # As sent, code set B at module 3: (35 + 16 x 11) x 3 = 633 dots. The same text in
        # code set C: 8 characters, (35 + 8 x 11) x 3 = 369.
        (73, b"{B0123456789012345", 3, "0123456789012345", "Code128", 369),
        # Too wide at module 3 in any code sets (35 + 12 x 11 modules: B, C for "0042"): 2 dots.
        (73, b"{BTILLROLL-0042", 3, "TILLROLL-0042", "Code128", 334),
        # No code set selector: the fewest characters for its text, then fitted the same way.
        (73, b"TILLROLL-0042", 3, "TILLROLL-0042", "Code128", 334),
        (67, b"400638133393", 6, "4006381333931", "EAN13", 95 * 4),  # 570 dots at 6: 4
        (70, b"01234567890123456789", 4, "01234567890123456789", "ITF", None),
        (69, b"TILL-39", 6, "TILL-39", "Code39", None),
        (72, b"Till-93 xyz", 6, "Till-93 xyz", "Code93", None),
    ],
)
def test_a_symbol_too_wide_for_the_paper_is_fitted_and_scans_as_the_same_text(
    tmp_path: Path, m, data, width, text, fmt, dots
):
    png = render(tmp_path, barcode(m, data, width))
    assert decode(png) == [(text, fmt)]
    xs = bars(png)
    assert xs[-1] - xs[0] + 1 == dots if dots else xs[-1] - xs[0] < 384


def test_with_fitting_off_a_symbol_too_wide_prints_nothing_as_on_epson_printers(tmp_path):
    data = barcode(73, b"{B0123456789012345", 3)[:-3] + qr(b"x" * 300, size=16) + b"after\n"
    png = render(tmp_path, data, "--fit", "off")
    assert decode(png) == []
    assert Image.open(png).convert("L").getextrema()[0] == 0  # "after" printed
    # fitted (the default), both scan
    assert sorted(decode(render(tmp_path, data))) == [
        ("0123456789012345", "Code128"),
        ("x" * 300, "QRCode"),
    ]


def test_a_symbol_too_wide_at_every_module_width_prints_its_text_and_is_counted(
    tmp_path: Path, tesseract
):
    text = b"TILLROLL RECEIPT 2026-0042 CASH"  # Code 128 in any code sets: over 600 dots at 2
    data = barcode(73, b"{B" + text, 3)[:-3] + b"after\n" + GS + b"V\x00"
    with SimModule(tmp_path) as sim:
        send(sim.data_port, data)
        png = sim.wait_receipt()
        assert sim.status()["symbols_unfit"] == 1
    assert decode(png) == []
    missing, seen = missing_lines([text.decode(), "after"], png)
    assert not missing, seen


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


# ---- PDF417 -----------------------------------------------------------------------------
# python-escpos has no PDF417 method: the GS ( k cn 48 functions are built here by hand, as
# Epson's manual gives them (columns, rows, module width, row height, ECC level, options).


def pdf417(
    data: bytes, columns=0, rows=0, module=3, row_height=3, level=None, ratio=None, truncated=0
) -> bytes:
    n = len(data) + 3
    out = GS + b"(k\x03\x000A" + bytes([columns]) + GS + b"(k\x03\x000B" + bytes([rows])
    out += GS + b"(k\x03\x000C" + bytes([module]) + GS + b"(k\x03\x000D" + bytes([row_height])
    if level is not None:
        out += GS + b"(k\x04\x000E0" + bytes([48 + level])
    if ratio is not None:
        out += GS + b"(k\x04\x000E1" + bytes([ratio])
    out += GS + b"(k\x03\x000F" + bytes([truncated])
    out += GS + b"(k" + bytes([n & 0xFF, n >> 8]) + b"0P0" + data + GS + b"(k\x03\x000Q0"
    return out


def decode_bytes(png: Path) -> list[bytes]:
    """The bytes of every PDF417 code zxing-cpp finds (binary data has no text to compare)."""
    im = ImageOps.expand(Image.open(png).convert("L"), border=40, fill=255)
    return [r.bytes for r in zxingcpp.read_barcodes(im, formats=zxingcpp.BarcodeFormat.PDF417)]


def symbol_box(png: Path) -> tuple[int, int, int, int]:
    return ImageOps.invert(Image.open(png).convert("L")).getbbox()


@pytest.mark.parametrize("level", range(9))
def test_pdf417_scans_at_every_error_correction_level(tmp_path: Path, level):
    text = "Tillroll PDF417 level %d" % level
    png = render(tmp_path, ESC + b"@" + pdf417(text.encode(), module=2, level=level) + b"\n")
    assert decode(png) == [(text, "PDF417")]


BINARY = bytes((k * 37 + 11) & 0xFF for k in range(200))
UTF8 = "Grüße aus Köln – 12,50 € ✓ 你好 ".encode() * 5


@pytest.mark.parametrize(
    "data",
    [
        b"Hi",
        b"https://example.com/r/2026-11-25/000042?total=123.45&eur",
        b"Mixed case; punct!? {x} [y] ~z~ \ttab\r\nline 2 #42 100% 3*4=12",
        b"0123456789" * 30,
        BINARY,
        UTF8[:200],
        bytes(range(256)) * 2,
    ],
    ids=["short", "url", "punctuation", "digits", "binary", "utf8", "all-bytes"],
)
@pytest.mark.parametrize("module", [2, 3, 4])
def test_pdf417_data_of_every_kind_and_size_reads_back_exactly(tmp_path, data, module):
    png = render(tmp_path, ESC + b"@" + ESC + b"a\x01" + pdf417(data, module=module) + b"\n")
    assert decode_bytes(png) == [data]


def test_pdf417_utf8_text_reads_back_as_its_text(tmp_path: Path):
    text = "Grüße aus Köln – 12,50 €"
    png = render(tmp_path, pdf417(text.encode(), module=2) + b"\n")
    assert decode(png) == [(text, "PDF417")]


@pytest.mark.parametrize(
    "columns, module, truncated",
    [(1, 2, 0), (3, 2, 0), (7, 2, 0), (1, 3, 0), (3, 3, 0), (1, 4, 0), (9, 2, 1), (5, 3, 1)],
)
def test_pdf417_fixed_columns_scan_and_set_the_width(tmp_path, columns, module, truncated):
    data = b"Tillroll receipt 0042, total 12.50 EUR"
    png = render(tmp_path, pdf417(data, columns, module=module, truncated=truncated) + b"\n")
    assert decode_bytes(png) == [data]
    left, _, right, _ = symbol_box(png)
    # start, left indicator, the columns, (right indicator, stop) or the one-module stop bar
    modules = 17 * (columns + 2) + 1 if truncated else 17 * (columns + 4) + 1
    assert right - left == modules * module


def test_pdf417_fixed_rows_and_row_height(tmp_path: Path):
    data = b"rows fixed at 12"
    png = render(tmp_path, pdf417(data, rows=12, module=2, row_height=5) + b"\n")
    assert decode_bytes(png) == [data]
    _, top, _, bottom = symbol_box(png)
    assert bottom - top == 12 * 5 * 2


def test_pdf417_ratio_setting_and_a_wide_module_that_narrows_to_fit(tmp_path: Path):
    data = b"ratio 40 percent" * 4
    png = render(tmp_path, pdf417(data, module=8, ratio=4) + b"\n")
    assert decode_bytes(png) == [data]
    left, _, right, _ = symbol_box(png)
    assert right - left <= 384


@pytest.mark.parametrize(
    "kwargs, data",
    [
        (dict(columns=1, rows=3), b"x" * 40),  # 3 codewords do not hold it
        (dict(module=2, level=8), BINARY),  # 512 ECC codewords and the data: over 7 x 90
        (dict(), b"y" * 1100),  # more than the store keeps
    ],
)
def test_pdf417_that_cannot_print_prints_nothing_but_the_text_after_it(tmp_path, kwargs, data):
    png = render(tmp_path, pdf417(data, **kwargs) + b"after\n")
    assert decode(png) == []
    assert Image.open(png).convert("L").getextrema()[0] == 0  # "after" printed


def test_pdf417_fixed_columns_too_wide_narrow_the_module_to_fit(tmp_path: Path):
    data = b"Tillroll 0042 too wide at 4"
    symbol = pdf417(data, columns=2, module=4)  # (17 x 6 + 1) x 4 = 412 dots: at 3, 309
    png = render(tmp_path, symbol + b"\n")
    assert decode_bytes(png) == [data]
    left, _, right, _ = symbol_box(png)
    assert right - left == (17 * 6 + 1) * 3
    png = render(tmp_path, symbol + b"after\n", "--fit", "off")  # as on Epson printers
    assert decode_bytes(png) == []
    assert Image.open(png).convert("L").getextrema()[0] == 0  # "after" printed


def test_pdf417_too_wide_at_every_module_width_prints_its_data_as_text(tmp_path, tesseract):
    png = render(tmp_path, pdf417(b"PDF417 TOO WIDE", columns=12, module=2) + b"\n")
    assert decode_bytes(png) == []
    missing, seen = missing_lines(["PDF417 TOO WIDE"], png)
    assert not missing, seen


# ---- ESC Z: the 2D symbol command older than GS ( k -------------------------------------


def esc_z(kind: int, v: int, r: int, k: int, data: bytes) -> bytes:
    """GS Z n (0 PDF417, 2 QR), then ESC Z v r k nL nH d1...dn."""
    return (
        GS
        + b"Z"
        + bytes([kind])
        + ESC
        + b"Z"
        + bytes([v, r, k, len(data) & 0xFF, len(data) >> 8])
        + data
    )


@pytest.mark.parametrize(
    "v, r, k",
    [(0, ord("L"), 6), (3, ord("M"), 4), (5, ord("H"), 3), (2, ord("Q"), 16)],
    ids=["auto-L", "v3-M", "v5-H", "too-wide"],
)
def test_esc_z_qr_codes_scan_as_their_data(tmp_path: Path, v, r, k):
    text = "https://example.com/r/esc-z/%d" % v
    png = render(tmp_path, esc_z(2, v, r, k, text.encode()) + b"\nafter\n")
    assert decode(png) == [(text, "QRCode")]


def test_esc_z_pdf417_scans_and_leaves_the_gs_paren_k_settings_alone(tmp_path: Path):
    data = b"Tillroll ESC Z PDF417 0042"
    first = esc_z(0, 1, 2, 3, data) + b"\n"  # 1 column, level 2, rows 3 modules high
    # then GS ( k store and print alone: its default settings, automatic columns at module 3
    then = pdf417(b"then GS ( k")[-(len(b"then GS ( k") + 16) :] + b"\n"
    png = render(tmp_path, GS + b"w\x02" + first + then)
    assert sorted(decode_bytes(png)) == sorted([data, b"then GS ( k"])
    left, _, right, _ = symbol_box(png)
    assert right - left == (17 * (3 + 4) + 1) * 3  # the second: 3 columns (the first is 172)
