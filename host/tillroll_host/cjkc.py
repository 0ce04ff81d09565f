"""CJK font compiler: an outline font (TrueType/OpenType) -> the firmware's 24x24 TCJ font.

Glyphs are rasterized at 24 px with FreeType (through Pillow) and thresholded to dots, one per
cell of the GBK two-byte grid that GB18030 shares (lead bytes 0x81-0xFE, trail bytes 0x40-0xFE
but 0x7F: 126 x 190 = 23 940 cells, GB 2312 at A1A1-F7FE among them). A GB18030 two-byte code
finds its glyph by arithmetic; a table of (Unicode, glyph) pairs sorted by code point lets UTF-8
text find the same glyphs by binary search on flash. A cell with no character (user-defined
areas, codes the decoder maps to the Private Use Area, characters the source font lacks) holds
the fallback glyph.

The 1.7 MB of dots would not fit a 2 MB board's filesystem, so the glyphs are stored in blocks
of 16, each compressed on its own as raw DEFLATE (Python's zlib, a 512-byte window) and read
by MicroPython's `deflate` module. Every block ends the same way, so the firmware can run one
decompressor over every block in turn and never allocate another: its DEFLATE blocks have
BFINAL clear, and it closes with a byte-aligned stored block holding one byte (a sentinel,
0). Decompressing 16 x 72 + 1 bytes leaves the decompressor just past that stored block,
waiting for a block header at a byte boundary, which is where the next block it is given
begins; no block refers back into another.

    offset  size     field
    0       4        magic b"TCJ2"
    4       1        glyph width in dots (24)
    5       1        glyph height in dots (24)
    6       1        bytes per glyph row (3)
    7       1        glyphs per compressed block G (16)
    8       1        first lead byte (0x81)
    9       1        last lead byte (0xFE)
    10      1        first trail byte (0x40)
    11      1        last trail byte (0xFE); 0x7F is never a trail byte
    12      2        Unicode table entries N (u16, little-endian, as every field)
    14      2        glyph index of the fallback glyph (U+25A1 WHITE SQUARE)
    16      2        compressed blocks B (the last padded with blank glyphs)
    18      1        DEFLATE window bits (9: 512 bytes)
    19      1        reserved, 0
    20      2        size of the largest compressed block
    22      2        reserved, 0
    24      4*(B+1)  block b's compressed bytes: offsets[b] to offsets[b+1] from the blocks'
                     start (u32)
    ...     4*N      (code point u16, glyph index u16), ascending code point
    ...              the compressed blocks; block b holds glyphs G*b to G*b+G-1, each 72
                     bytes of rows, leftmost dot in bit 7
"""

from __future__ import annotations

import argparse
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .errors import FatalError

MAGIC = b"TCJ2"
HEADER = struct.Struct("<4sBBBBBBBBHHHBBHH")
SIZE = 24
STRIDE = 3
GLYPH = SIZE * STRIDE
LEAD = (0x81, 0xFE)
TRAIL = (0x40, 0xFE)
BLOCK = 16  # glyphs a block: a miss decompresses 1153 bytes
WBITS = 9  # a 512-byte window on the device
FALLBACK = "\u25a1"
THRESHOLD = 112  # grey level (of 255) from which a pixel is a dot: keeps thin strokes
# Ends every block: an empty stored block (what Z_FULL_FLUSH writes) made to hold one byte.
_EMPTY_STORED = b"\x00\x00\xff\xff"
_SENTINEL_STORED = b"\x01\x00\xfe\xff\x00"


def trails() -> list[int]:
    return [t for t in range(TRAIL[0], TRAIL[1] + 1) if t != 0x7F]


def cells() -> list[str | None]:
    """The character in every GBK cell, in file order (None for a cell with no character)."""
    out: list[str | None] = []
    for lead in range(LEAD[0], LEAD[1] + 1):
        for trail in trails():
            try:
                char = bytes([lead, trail]).decode("gb18030")
            except UnicodeDecodeError:
                char = None
            if char is not None and 0xE000 <= ord(char) <= 0xF8FF:
                char = None  # a user-defined cell, or one GB18030 maps to the Private Use Area
            out.append(char)
    return out


def gb2312_alias(index: int, char: str) -> str | None:
    """The character Python's GB 2312 codec gives cell `index` where GB18030's differs (A1A4
    U+30FB for U+00B7, A1AA U+2015 for U+2014): the font answers to both, as it did when it
    held GB 2312 alone."""
    try:
        alias = gb_code(index).decode("gb2312")
    except UnicodeDecodeError:
        return None
    return alias if alias != char else None


def gb_code(index: int) -> bytes:
    """The GB18030 two-byte code of cell `index`."""
    lead, trail = divmod(index, len(trails()))
    return bytes([LEAD[0] + lead, trails()[trail]])


def rasterize(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    """One character as SIZE rows of MSB-first bytes, centred in the cell."""
    image = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(image).text((SIZE // 2, SIZE // 2), char, fill=255, font=font, anchor="mm")
    dots = image.point(lambda v: 255 if v >= THRESHOLD else 0).convert("1")
    return dots.tobytes()  # mode "1" packs rows MSB first, padded to whole bytes


def compress_block(glyphs: bytes) -> bytes:
    """One block as raw DEFLATE that leaves a decompressor ready for the next (see above)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -WBITS, 9)
    z = c.compress(glyphs) + c.flush(zlib.Z_FULL_FLUSH)
    if not z.endswith(_EMPTY_STORED):
        raise FatalError("zlib did not end a full flush with an empty stored block")
    return z[: -len(_EMPTY_STORED)] + _SENTINEL_STORED


def compile_font(source: Path, index: int) -> bytes:
    try:
        font = ImageFont.truetype(str(source), SIZE, index=index)
    except OSError as e:
        raise FatalError(f"{source}: not a font FreeType can read ({e})") from e
    missing = rasterize(font, "\ue000")  # what FreeType draws for a character the font lacks
    fallback_dots = rasterize(font, FALLBACK)
    glyphs: list[bytes] = []
    table: dict[int, int] = {}
    for i, char in enumerate(cells()):
        dots = rasterize(font, char) if char is not None else missing
        if dots == missing:
            glyphs.append(fallback_dots)
            continue
        glyphs.append(dots)
        table.setdefault(ord(char), i)  # a character in two cells: the first one
        alias = gb2312_alias(i, char)
        if alias is not None:
            table.setdefault(ord(alias), i)
    fallback = table[ord(FALLBACK)]
    glyphs += [bytes(GLYPH)] * (-len(glyphs) % BLOCK)
    blocks = [
        compress_block(b"".join(glyphs[i : i + BLOCK])) for i in range(0, len(glyphs), BLOCK)
    ]
    offsets = [0]
    for z in blocks:
        offsets.append(offsets[-1] + len(z))
    header = HEADER.pack(
        MAGIC,
        SIZE,
        SIZE,
        STRIDE,
        BLOCK,
        *LEAD,
        *TRAIL,
        len(table),
        fallback,
        len(blocks),
        WBITS,
        0,
        max(len(z) for z in blocks),
        0,
    )
    return (
        header
        + struct.pack(f"<{len(offsets)}I", *offsets)
        + b"".join(struct.pack("<HH", cp, i) for cp, i in sorted(table.items()))
        + b"".join(blocks)
    )


class TcjFile:
    """A compiled TCJ font read back on the host: for tests and the compiler's report."""

    def __init__(self, data: bytes):
        fields = HEADER.unpack_from(data)
        if fields[0] != MAGIC:
            raise FatalError("not a TCJ2 font")
        (_, self.width, self.height, stride, self.block, l0, l1, t0, t1) = fields[:9]
        (self.count, self.fallback, self.blocks, self.wbits, _, self.largest, _) = fields[9:]
        self.glyph_size = self.height * stride
        self.cells = (l1 - l0 + 1) * len([t for t in range(t0, t1 + 1) if t != 0x7F])
        at = HEADER.size
        self.offsets = struct.unpack_from(f"<{self.blocks + 1}I", data, at)
        at += 4 * (self.blocks + 1)
        pairs = struct.unpack_from(f"<{2 * self.count}H", data, at)
        self.table = dict(zip(pairs[0::2], pairs[1::2]))
        self.data_at = at + 4 * self.count
        self._data = data

    def block_bytes(self, b: int) -> bytes:
        """Block b decompressed, as the device reads it: the glyphs, then the sentinel."""
        z = self._data[self.data_at + self.offsets[b] : self.data_at + self.offsets[b + 1]]
        return zlib.decompressobj(-self.wbits).decompress(z)

    def glyph(self, index: int) -> bytes:
        b, i = divmod(index, self.block)
        return self.block_bytes(b)[i * self.glyph_size : (i + 1) * self.glyph_size]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="tillroll cjkc",
        description="Rasterize an outline CJK font into the firmware's 24x24 GBK/GB18030 font.",
    )
    ap.add_argument("source", type=Path, help="TrueType/OpenType font or collection")
    ap.add_argument("--index", type=int, default=0, help="face in a collection (.ttc)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="TCJ file to write")
    args = ap.parse_args(argv)
    data = compile_font(args.source, args.index)
    args.output.write_bytes(data)
    print(f"{args.output}: {report(data)}")
    return 0


def report(data: bytes) -> str:
    font = TcjFile(data)
    return (
        f"{font.width}x{font.height}, {font.count} characters in {font.cells} cells, "
        f"{font.blocks} blocks of {font.block}, {len(data)} bytes"
    )


if __name__ == "__main__":
    sys.exit(main())
