"""Text commands as they come out on paper: `tillroll render`, then OCR or the dots.

Each test sends ESC/POS bytes as a POS would, prints them through the firmware on the
MicroPython unix port, and reads the PNG back with tesseract (eng, chi_sim) or compares dots
with the committed fonts.
"""

from __future__ import annotations

import struct
from pathlib import Path

from PIL import Image, ImageOps
from test_render import black, render

from ocr import missing_lines, read_text
from tillroll_host.paths import FONTS

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
INIT = ESC + b"@"
CUT = GS + b"V\x00"
UTF8 = FS + b"(C\x02\x000\x02"


def printed(tmp_path: Path, data: bytes, settings: tuple[str, ...] = ()) -> Path:
    done = render(tmp_path, INIT + data + CUT, settings=settings)
    assert done.returncode == 0, done.stderr
    return tmp_path / "out.png"


def reads(png: Path | Image.Image, lines: list[str], lang: str = "eng") -> None:
    missing, seen = missing_lines(lines, png, lang)
    assert not missing, seen


def glyph(font_file: str, codepoint: int) -> list[list[int]]:
    """The dots of one glyph, read from a committed TRF font file."""
    data = (FONTS / font_file).read_bytes()
    _, w, h, stride, _, count, _ = struct.unpack_from("<4sBBBBHH", data)
    index = struct.unpack_from(f"<{count}H", data, 12).index(codepoint)
    at = 12 + 2 * count + index * h * stride
    rows = [int.from_bytes(data[at + y * stride : at + (y + 1) * stride], "big") for y in range(h)]
    top = 1 << (8 * stride - 1)
    return [[x for x in range(w) if row & (top >> x)] for row in rows]


def text_rows(png: Path) -> list[tuple[int, int]]:
    """(first, last) dot row of every run of rows with ink."""
    rows = black(png)
    runs, start = [], None
    for y, r in enumerate(rows + [[]]):
        if r and start is None:
            start = y
        elif not r and start is not None:
            runs.append((start, y - 1))
            start = None
    return runs


def test_font_a_and_font_b_read_back(tmp_path: Path, tesseract):
    data = b"Font A 32 columns\n" + ESC + b"M\x01" + b"Font B prints 42 columns a line\n"
    data += ESC + b"!\x00" + b"Back to Font A\n"
    reads(
        printed(tmp_path, data),
        ["Font A 32 columns", "Font B prints 42 columns a line", "Back to Font A"],
    )


def test_print_modes_read_back(tmp_path: Path, tesseract):
    data = (
        ESC
        + b"!\x08"
        + b"EMPHASIZED\n"
        + ESC
        + b"!\x00"
        + ESC
        + b"E\x01"
        + b"BOLD TOTAL\n"
        + ESC
        + b"E\x00"
        + ESC
        + b"G\x01"
        + b"DOUBLE STRIKE\n"
        + ESC
        + b"G\x00"
        + ESC
        + b"!\x30"
        + b"BIG SALE\n"
        + ESC
        + b"!\x00"
        + GS
        + b"!\x22"
        + b"x3 SIZE\n"
        + GS
        + b"!\x00"
        + ESC
        + b" \x06"
        + b"SPACED OUT\n"
        + ESC
        + b" \x00"
    )
    reads(
        printed(tmp_path, data),
        ["EMPHASIZED", "BOLD TOTAL", "DOUBLE STRIKE", "BIG SALE", "x3 SIZE", "SPACED OUT"],
    )


def test_underline_one_and_two_dots_and_fs_minus(tmp_path: Path):
    png = printed(
        tmp_path,
        ESC
        + b"-\x01"
        + b"AB\n"
        + ESC
        + b"-\x02"
        + b"AB\n"
        + FS
        + b"&"
        + FS
        + b"-\x02"
        + "中".encode("gb18030")
        + b"\n",
    )
    rows = black(png)
    assert rows[23] == list(range(24)) and rows[22] != list(range(24))
    assert rows[30 + 22] == rows[30 + 23] == list(range(24))
    assert rows[60 + 22] == rows[60 + 23] == list(range(24))


def test_reverse_prints_white_on_black(tmp_path: Path, tesseract):
    png = printed(tmp_path, GS + b"B\x01" + b" PAID IN FULL \n" + GS + b"B\x00")
    rows = black(png)
    assert len(rows[0]) > 0 and rows[0] == list(range(14 * 12))  # the cell row is all black
    negative = ImageOps.invert(Image.open(png).convert("L").crop((0, 0, 14 * 12, 24)))
    reads(negative, ["PAID IN FULL"])


def test_upside_down_reads_when_the_paper_is_turned(tmp_path: Path, tesseract):
    png = printed(tmp_path, ESC + b"{\x01" + b"TURN ME OVER\n" + ESC + b"{\x00")
    assert black(png)[0] == []  # the text is printed from the right edge
    assert max(max(r) for r in black(png) if r) > 300
    reads(Image.open(png).rotate(180), ["TURN ME OVER"])


def test_rotation_turns_each_character_a_quarter_clockwise(tmp_path: Path, tesseract):
    png = printed(tmp_path, ESC + b"V\x01" + b"MARKET\n" + ESC + b"V\x00")
    (top, bottom), *_ = text_rows(png)
    assert bottom - top < 12  # 12-dot high characters, 24 wide
    # Turned back a quarter, each character stands upright; the line runs up the page.
    column = Image.open(png).convert("L").crop((0, 0, 384, 12)).rotate(90, expand=True)
    seen = "".join(read_text(column)).replace(" ", "")
    assert seen == "MARKET"[::-1], seen


def test_tabs_positions_margin_and_area(tmp_path: Path, tesseract):
    data = (
        b"Qty\tItem\tEUR\n"
        + ESC
        + b"D\x04\x14\x00"
        + b"2\tTea\t4.20\n"
        + ESC
        + b"$\x00\x01"
        + b"at 256\n"
        + b"ab"
        + ESC
        + b"\\\x18\x00"
        + b"cd\n"
        + GS
        + b"L\x30\x00"
        + GS
        + b"W\xc0\x00"
        + ESC
        + b"a\x01"
        + b"MARGIN\n"
    )
    png = printed(tmp_path, data)
    rows = black(png)

    def left(line: int) -> int:
        return min(min(r) for r in rows[30 * line : 30 * line + 24] if r)

    assert left(2) >= 256  # ESC $ 256 dots
    assert left(4) >= 48 + (192 - 72) // 2  # centred in the 192-dot area from dot 48
    band = Image.open(png).crop((0, 0, 384, 60))
    reads(band, ["Qty Item EUR", "2 Tea 4.20"])
    x_item = min(x for r in rows[:24] for x in r if 96 <= x < 150)
    assert 96 <= x_item < 108  # the default tab: 8 characters
    x_tea = min(x for r in rows[30:54] for x in r if 40 <= x < 100)
    assert 48 <= x_tea < 60  # ESC D 4: 4 characters of 12 dots
    reads(png, ["at 256", "MARGIN"])
    ab_cd = sorted({x for r in rows[90:114] for x in r})
    assert ab_cd[-1] - ab_cd[0] > 4 * 12 + 24 - 12  # ESC \ left a 24-dot gap


def test_line_spacing_and_feeds(tmp_path: Path):
    data = b"A\n" + ESC + b"3\x40" + b"B\n" + ESC + b"2" + b"C" + ESC + b"d\x02" + b"D"
    data += ESC + b"J\x50" + b"E\n"
    runs = text_rows(printed(tmp_path, data))
    starts = [r[0] for r in runs]
    assert len(runs) == 5, runs
    assert starts[1] - starts[0] == 30  # default spacing
    assert starts[2] - starts[1] == 64  # ESC 3 64
    assert starts[3] - starts[2] == 60  # ESC d 2: two lines of 30
    assert starts[4] - starts[3] == 24 + 80  # ESC J 80 dots below the printed line


def test_code_pages_print_the_fonts_glyph_for_the_mapped_character(tmp_path: Path):
    cases = [
        (0, 0xC9, "\u2554"),  # PC437 box drawing
        (17, 0x9F, "\u042f"),  # PC866 Cyrillic Ya
        (16, 0x80, "\u20ac"),  # WPC1252 euro
        (18, 0xA5, "\u0105"),  # PC852
        (19, 0xD5, "\u20ac"),  # PC858 euro
    ]
    # The module starts in Chinese (GB18030) mode: a host printing code pages leaves it first.
    data = FS + b"."
    data += b"".join(ESC + b"t" + bytes([page]) + bytes([byte]) + b"\n" for page, byte, _ in cases)
    rows = black(printed(tmp_path, data))
    for i, (_, _, char) in enumerate(cases):
        assert rows[30 * i : 30 * i + 24] == glyph("font_a_12x24.trf", ord(char)), char


def test_code_page_text_reads_back_with_the_one_byte_power_on_setting(tmp_path: Path, tesseract):
    # A module set to one-byte code pages at power-on, as shops outside China set theirs.
    data = ESC + b"t\x10" + "Café au lait 3,50 €".encode("cp1252") + b"\n"
    reads(printed(tmp_path, data, ("--chars", "single-byte")), ["Café au lait 3,50 €"])


def test_chinese_without_fs_ampersand_reads_back_at_power_on(tmp_path: Path, tesseract):
    # Chinese POS software sends GB18030 with no FS & first: the module starts in that mode.
    lines = ["欢迎光临", "合计人民币十二元", "谢谢惠顾"]
    data = b"".join(s.encode("gb18030") + b"\n" for s in lines) + CUT
    assert render(tmp_path, data).returncode == 0
    reads(tmp_path / "out.png", lines, "chi_sim")
    # The same bytes on a module set to one-byte code pages: code-page characters, no hanzi.
    assert render(tmp_path, data, settings=("--chars", "single-byte")).returncode == 0
    missing, _ = missing_lines(lines, tmp_path / "out.png", "chi_sim")
    assert missing == lines


def test_chinese_in_gb18030_reads_back(tmp_path: Path, tesseract):
    lines = ["欢迎光临", "合计人民币十二元", "谢谢惠顾"]
    data = FS + b"&" + b"".join(s.encode("gb18030") + b"\n" for s in lines) + FS + b"."
    reads(printed(tmp_path, data), lines, "chi_sim")


# Traditional forms GBK has and GB 2312 has not (結 帳 額 們 這 個 書): tesseract's chi_sim
# reads each as its simplified form, which a wrong glyph or the fallback box would not give.
GBK_LINES = ["結帳金額", "我們這個", "新書店"]
GBK_READ = ["结帐金额", "我们这个", "新书店"]


def test_gbk_hanzi_outside_gb2312_read_back_from_gb18030_and_from_utf8(tmp_path: Path, tesseract):
    for line in GBK_LINES:
        assert any(not in_gb2312(c) for c in line), line
    gb = FS + b"&" + b"".join(s.encode("gb18030") + b"\n" for s in GBK_LINES) + FS + b"."
    utf8 = UTF8 + b"".join(s.encode() + b"\n" for s in GBK_LINES)
    for name, data in (("gb18030", gb), ("utf8", utf8)):
        (tmp_path / name).mkdir()
        reads(printed(tmp_path / name, data), GBK_READ, "chi_sim")


def in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def test_chinese_in_utf8_reads_back(tmp_path: Path, tesseract):
    lines = ["中文打印测试", "小票打印机"]
    png = printed(tmp_path, UTF8 + b"".join(s.encode() + b"\n" for s in lines) + b"Total 12\n")
    reads(png, lines, "chi_sim")
    reads(png, ["Total 12"])


def test_a_blank_slip_between_two_cuts_feeds_no_paper_and_starts_no_receipt(tmp_path: Path):
    # A cut, a blank line and a cut again (as receiptio sends a receipt's end): one receipt,
    # exactly as long as the receipt alone.
    alone = render(tmp_path, b"Receipt\n" + CUT)
    assert alone.stdout.strip().endswith(": 1 receipt"), alone.stdout
    height = Image.open(tmp_path / "out.png").height
    done = render(tmp_path, b"Receipt\n" + CUT + b"\n" + CUT + ESC + b"d\x03" + CUT)
    assert done.stdout.strip().endswith(": 1 receipt"), done.stdout
    assert Image.open(tmp_path / "out.png").height == height
