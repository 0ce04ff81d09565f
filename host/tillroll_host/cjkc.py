"""CJK font compiler: an outline font (TrueType/OpenType) -> the firmware's 24x24 TCJ font.

Glyphs are rasterized at 24 px with FreeType (through Pillow) and thresholded to dots. They are
stored in GB 2312 order, so a GB18030 two-byte code in that range finds its glyph by
arithmetic, and a table of (Unicode, glyph) pairs sorted by code point lets UTF-8 text find
the same glyphs by binary search on flash. Nothing but the 16-byte header is held in RAM:

    offset  size   field
    0       4      magic b"TCJ1"
    4       1      glyph width in dots (24)
    5       1      glyph height in dots (24)
    6       1      bytes per glyph row (3)
    7       1      reserved, 0
    8       1      first lead byte (0xA1)
    9       1      last lead byte (0xF7)
    10      1      first trail byte (0xA1)
    11      1      last trail byte (0xFE)
    12      2      Unicode table entries N (u16, little-endian)
    14      2      glyph index of the fallback glyph (U+25A1 WHITE SQUARE)
    16      G*H*B  glyphs, one per lead/trail cell, row by row; empty cells are blank
    ...     4*N    (code point u16, glyph index u16), ascending code point
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .errors import FatalError

MAGIC = b"TCJ1"
HEADER = struct.Struct("<4sBBBBBBBBHH")
SIZE = 24
LEAD = (0xA1, 0xF7)
TRAIL = (0xA1, 0xFE)
FALLBACK = "\u25a1"
THRESHOLD = 112  # grey level (of 255) from which a pixel is a dot: keeps thin strokes


def cells() -> list[str | None]:
    """The character in every GB 2312 cell, in file order (None for an unassigned cell)."""
    out: list[str | None] = []
    for lead in range(LEAD[0], LEAD[1] + 1):
        for trail in range(TRAIL[0], TRAIL[1] + 1):
            try:
                out.append(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                out.append(None)
    return out


def rasterize(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    """One character as SIZE rows of MSB-first bytes, centred in the cell."""
    image = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(image).text((SIZE // 2, SIZE // 2), char, fill=255, font=font, anchor="mm")
    dots = image.point(lambda v: 255 if v >= THRESHOLD else 0).convert("1")
    return dots.tobytes()  # mode "1" packs rows MSB first, padded to whole bytes


def compile_font(source: Path, index: int) -> bytes:
    try:
        font = ImageFont.truetype(str(source), SIZE, index=index)
    except OSError as e:
        raise FatalError(f"{source}: not a font FreeType can read ({e})") from e
    glyphs = bytearray()
    table: list[tuple[int, int]] = []
    for i, char in enumerate(cells()):
        if char is None:
            glyphs += bytes(SIZE * 3)
            continue
        glyphs += rasterize(font, char)
        table.append((ord(char), i))
    table.sort()
    fallback = next(i for cp, i in table if cp == ord(FALLBACK))
    header = HEADER.pack(MAGIC, SIZE, SIZE, 3, 0, *LEAD, *TRAIL, len(table), fallback)
    return header + bytes(glyphs) + b"".join(struct.pack("<HH", cp, i) for cp, i in table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="tillroll cjkc",
        description="Rasterize an outline CJK font into the firmware's 24x24 GB 2312 font.",
    )
    ap.add_argument("source", type=Path, help="TrueType/OpenType font or collection")
    ap.add_argument("--index", type=int, default=0, help="face in a collection (.ttc)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="TCJ file to write")
    args = ap.parse_args(argv)
    data = compile_font(args.source, args.index)
    args.output.write_bytes(data)
    count = struct.unpack_from("<H", data, 12)[0]
    print(f"{args.output}: {SIZE}x{SIZE}, {count} characters, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
