"""The CJK font as compiled and committed: every hanzi of GBK reachable from GB18030 and from
Unicode, blocks the firmware's one decompressor can read in any order, and a font set that
fits a 2 MB board's flash."""

from __future__ import annotations

import zlib

import pytest

from tillroll_host import cjkc
from tillroll_host.paths import FONTS

# MicroPython's rp2 port on a 2 MB Pico leaves this much flash to the filesystem.
PICO_2MB_FS = 1408 * 1024
# What the filesystem must still hold beside the fonts: the firmware as .mpy and .vpy (about
# 115 KB today), settings and NV logos. littlefs gives every file whole 4 KiB blocks.
RESERVE = 256 * 1024
FS_BLOCK = 4096
FONT_SET = ("font_a_12x24.trf", "font_b_9x17.trf", "cjk_24x24.tcj", "codepages.bin")


@pytest.fixture(scope="module")
def data() -> bytes:
    return (FONTS / "cjk_24x24.tcj").read_bytes()


@pytest.fixture(scope="module")
def tcj(data) -> cjkc.TcjFile:
    return cjkc.TcjFile(data)


@pytest.fixture(scope="module")
def glyphs(tcj) -> list[bytes]:
    out = []
    for b in range(tcj.blocks):
        block = tcj.block_bytes(b)
        out += [block[i : i + 72] for i in range(0, 72 * tcj.block, 72)]
    return out


def test_the_font_set_fits_a_2mb_boards_flash_with_room_for_the_firmware():
    used = sum(-(-(FONTS / name).stat().st_size // FS_BLOCK) * FS_BLOCK for name in FONT_SET)
    assert used + RESERVE <= PICO_2MB_FS, f"fonts take {used} bytes of {PICO_2MB_FS}"


def test_every_hanzi_u4e00_to_u9fa5_has_its_own_glyph(tcj, glyphs):
    fallback = glyphs[tcj.fallback]
    for cp in range(0x4E00, 0x9FA6):
        index = tcj.table.get(cp)
        assert index is not None, hex(cp)
        assert glyphs[index] not in (fallback, bytes(72)), hex(cp)
        assert index == cjkc_cell(chr(cp)), hex(cp)


def cjkc_cell(char: str) -> int:
    """The GBK cell of `char` by CPython's codec: what a GB18030 code finds by arithmetic."""
    lead, trail = char.encode("gb18030")
    return cjkc_cell_of(lead, trail)


def test_gbk_cells_and_the_unicode_table_agree(tcj, glyphs):
    cells = cjkc.cells()
    assert len(cells) == tcj.cells == 23940
    fallback = glyphs[tcj.fallback]
    for index, char in enumerate(cells):
        if char is None:
            assert glyphs[index] == fallback, cjkc.gb_code(index).hex()
        elif ord(char) in tcj.table:
            assert tcj.table[ord(char)] <= index
    # All of GB 2312 is there, as before, under the code points its own codec gives too.
    gb2312 = {}
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                gb2312[bytes([lead, trail]).decode("gb2312")] = cjkc_cell_of(lead, trail)
            except UnicodeDecodeError:
                pass
    assert len(gb2312) == 7445
    assert {ord(c): i for c, i in gb2312.items()}.items() <= tcj.table.items()


def cjkc_cell_of(lead: int, trail: int) -> int:
    return (lead - 0x81) * 190 + trail - 0x40 - (trail > 0x7F)


def test_each_block_ends_ready_for_any_next_block(tcj, data):
    """The glyphs, then a stored block of one sentinel byte, and not the stream's end: the
    device's one DeflateIO goes on to whichever block it is given next."""
    for b in range(tcj.blocks):
        glyphs = tcj.block_bytes(b)
        assert len(glyphs) == 72 * tcj.block + 1 and glyphs[-1] == 0, b
        d = zlib.decompressobj(-tcj.wbits)
        d.decompress(data[tcj.data_at + tcj.offsets[b] : tcj.data_at + tcj.offsets[b + 1]])
        assert not d.eof and not d.unconsumed_tail, b
        assert tcj.offsets[b + 1] - tcj.offsets[b] <= tcj.largest
