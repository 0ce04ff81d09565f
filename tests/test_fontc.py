"""The font compiler: BDF/PCF in, the firmware's TRF out; the committed Font A is exactly what
it makes from Debian's xfonts-base."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tillroll_host import fontc
from tillroll_host.cli import main
from tillroll_host.paths import FONTS

SONY_12X24 = Path("/usr/share/fonts/X11/misc/12x24.pcf.gz")

BDF = """STARTFONT 2.1
FONT -test-Tiny-Medium-R-Normal--4-40-75-75-C-40-ISO10646-1
FONTBOUNDINGBOX 4 4 0 -1
STARTPROPERTIES 1
DEFAULT_CHAR 63
ENDPROPERTIES
CHARS 2
STARTCHAR A
ENCODING 65
BBX 3 3 0 0
BITMAP
40
A0
E0
ENDCHAR
STARTCHAR period
ENCODING 46
BBX 1 1 1 -1
BITMAP
80
ENDCHAR
ENDFONT
"""


def test_bdf_glyphs_land_in_the_cell_by_their_box():
    font = fontc.read_bdf(BDF)
    assert (font.width, font.height) == (4, 4)
    # ascent 3 rows, descent 1: "A" fills the top three rows, "." sits below the baseline.
    assert font.glyphs[65].rows == [0b0100, 0b1010, 0b1110, 0]
    assert font.glyphs[46].rows == [0, 0, 0, 0b0100]


def test_trf_layout_header_index_and_msb_first_rows():
    data = fontc.encode(fontc.read_bdf(BDF))
    magic, w, h, stride, _, count, fallback = struct.unpack_from("<4sBBBBHH", data)
    assert (magic, w, h, stride, count) == (b"TRF1", 4, 4, 1, 2)
    assert struct.unpack_from("<2H", data, 12) == (46, 65)  # sorted code points
    assert fallback == 0  # no "?" in the font: the first glyph stands in
    assert data[16:20] == bytes([0, 0, 0, 0x40])  # "." rows, leftmost dot in bit 7
    assert data[20:24] == bytes([0x40, 0xA0, 0xE0, 0])


def test_a_bad_source_is_one_clear_line(tmp_path: Path, capsys):
    bad = tmp_path / "bad.bdf"
    bad.write_text("not a font\n")
    assert main(["fontc", str(bad), "-o", str(tmp_path / "x.trf")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "tillroll: not a BDF font: no FONTBOUNDINGBOX"


def test_committed_fonts_are_what_the_compilers_make(tmp_path: Path):
    if not SONY_12X24.exists():
        pytest.fail(f"{SONY_12X24} missing: `make test` installs Debian's xfonts-base")
    assert main(["fonts", "-o", str(tmp_path)]) == 0
    for name in ("font_a_12x24.trf", "font_b_9x17.trf", "cjk_24x24.tcj", "codepages.bin"):
        assert (tmp_path / name).read_bytes() == (FONTS / name).read_bytes(), name


def test_merged_fonts_take_each_glyph_from_the_first_source_that_has_it():
    one = fontc.read_bdf(BDF)
    two = fontc.read_bdf(BDF.replace("ENCODING 65", "ENCODING 66"))
    merged = fontc.merge([one, two], height=3)
    assert sorted(merged.glyphs) == [46, 65, 66]
    assert merged.glyphs[65].rows == one.glyphs[65].rows[1:]  # trimmed at the top
    assert merged.glyphs[46].rows == one.glyphs[46].rows[1:]
