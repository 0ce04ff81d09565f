"""Font compiler: a BDF or PCF bitmap font -> the firmware's TRF font file.

The firmware reads glyphs from flash on demand, so the file is laid out for a seek and one
`readinto` per glyph:

    offset  size  field
    0       4     magic b"TRF1"
    4       1     glyph width in dots
    5       1     glyph height in dots
    6       1     bytes per glyph row (width rounded up to 8 bits)
    7       1     reserved, 0
    8       2     glyph count N (little-endian)
    10      2     index of the fallback glyph (shown for a missing character)
    12      2*N   code points, ascending (u16, little-endian; the Basic Multilingual Plane)
    12+2N   N*H*B glyph bitmaps, rows top to bottom, leftmost dot in the top bit (framebuf
                  MONO_HLSB), every glyph cell the full width x height

A PCF input (what Debian's xfonts-* packages ship) is turned into BDF with `pcf2bdf` first.
Several sources merge in priority order: a glyph comes from the first source that has it, cell
for cell (the sources must have the same cell width; `--height` trims rows off the top).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import codepages
from .errors import FatalError

MAGIC = b"TRF1"
HEADER = struct.Struct("<4sBBBBHH")


@dataclass
class Glyph:
    codepoint: int
    rows: list[int]  # one int per dot row, bit (width-1) = leftmost dot


@dataclass
class BitmapFont:
    width: int
    height: int
    glyphs: dict[int, Glyph]
    default_char: int
    copyright: str = ""


def read_bdf(text: str) -> BitmapFont:
    """Parse a character-cell BDF font into full-cell glyphs."""
    lines = iter(text.splitlines())
    width = height = descent = 0
    default_char = 0x3F
    copyright_ = ""
    glyphs: dict[int, Glyph] = {}
    for line in lines:
        key, _, rest = line.partition(" ")
        if key == "FONTBOUNDINGBOX":
            width, height, _xoff, yoff = (int(v) for v in rest.split())
            descent = -yoff
        elif key == "DEFAULT_CHAR":
            default_char = int(rest)
        elif key == "COPYRIGHT":
            copyright_ = rest.strip('"')
        elif key == "STARTCHAR":
            glyph = _read_char(lines, width, height, descent)
            if glyph is not None:
                glyphs[glyph.codepoint] = glyph
    if not width or not height:
        raise FatalError("not a BDF font: no FONTBOUNDINGBOX")
    return BitmapFont(width, height, glyphs, default_char, copyright_)


def _read_char(lines, width: int, height: int, descent: int) -> Glyph | None:
    codepoint = -1
    bbx = (width, height, 0, -descent)
    for line in lines:
        key, _, rest = line.partition(" ")
        if key == "ENCODING":
            codepoint = int(rest.split()[0])
        elif key == "BBX":
            bbx = tuple(int(v) for v in rest.split())
        elif key == "BITMAP":
            break
    bw, bh, bx, by = bbx
    raw = []
    for line in lines:
        if line.startswith("ENDCHAR"):
            break
        raw.append(int(line, 16) >> (len(line) * 4 - bw) if bw else 0)
    if codepoint < 0 or codepoint > 0xFFFF:
        return None
    # Place the glyph's box in the font cell: the cell's bottom is `descent` dots below the
    # baseline, the box's bottom is `by` dots above it.
    rows = [0] * height
    top = height - descent - by - bh
    for i, bits in enumerate(raw):
        y = top + i
        if 0 <= y < height:
            shift = width - bx - bw
            rows[y] = (bits << shift if shift >= 0 else bits >> -shift) & ((1 << width) - 1)
    return Glyph(codepoint, rows)


def load_font(path: Path) -> BitmapFont:
    if path.name.endswith((".pcf", ".pcf.gz")):
        tool = shutil.which("pcf2bdf")
        if tool is None:
            raise FatalError("pcf2bdf is needed to read a PCF font: apt-get install pcf2bdf")
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        text = subprocess.run([tool], input=data, capture_output=True, check=True).stdout
        return read_bdf(text.decode("latin-1"))
    return read_bdf(path.read_text("latin-1"))


def merge(fonts: list[BitmapFont], height: int | None = None) -> BitmapFont:
    """One font from `fonts`, the first holding a code point winning; rows above `height`
    (counted from the bottom of the cell) are trimmed, so baselines stay where they were."""
    first = fonts[0]
    height = height or first.height
    glyphs: dict[int, Glyph] = {}
    for font in fonts:
        if font.width != first.width:
            raise FatalError(f"cannot merge a {font.width}-dot wide font into {first.width} dots")
        if font.height < height:
            raise FatalError(f"a {font.height}-dot high font cannot fill a {height}-dot cell")
        cut = font.height - height
        for cp, glyph in font.glyphs.items():
            if cp not in glyphs:
                glyphs[cp] = Glyph(cp, glyph.rows[cut:])
    notices = [f.copyright for f in fonts if f.copyright]
    return BitmapFont(first.width, height, glyphs, first.default_char, "; ".join(notices))


def encode(font: BitmapFont, codepoints: list[int] | None = None) -> bytes:
    """The TRF file for `font`, restricted to `codepoints` when given."""
    keep = sorted(font.glyphs if codepoints is None else set(codepoints) & set(font.glyphs))
    if not keep:
        raise FatalError("no glyphs to write")
    if len(keep) > 0xFFFF:
        raise FatalError(f"{len(keep)} glyphs, the format holds 65535")
    stride = (font.width + 7) // 8
    pad = stride * 8 - font.width
    default = font.default_char if font.default_char in keep else keep[0]
    out = bytearray(
        HEADER.pack(MAGIC, font.width, font.height, stride, 0, len(keep), keep.index(default))
    )
    out += struct.pack(f"<{len(keep)}H", *keep)
    for cp in keep:
        for row in font.glyphs[cp].rows:
            out += (row << pad).to_bytes(stride, "big")
    return bytes(out)


def parse_ranges(spec: str) -> list[int]:
    """'0x20-0x7e,0xa0-0xff' -> the code points in those ranges."""
    points: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        points.extend(range(int(lo, 0), int(hi or lo, 0) + 1))
    return points


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="tillroll fontc",
        description="Compile a BDF/PCF bitmap font into the firmware's TRF font file.",
    )
    ap.add_argument(
        "sources",
        type=Path,
        nargs="+",
        help="BDF or PCF(.gz) fonts, e.g. from xfonts-terminus; the first that has a glyph wins",
    )
    ap.add_argument("-o", "--output", type=Path, required=True, help="TRF file to write")
    ap.add_argument("--ranges", help="code points to keep, e.g. 0x20-0x7e,0xa0-0xff (default all)")
    ap.add_argument(
        "--codepages",
        action="store_true",
        help="keep (also) every character of the ESC t code pages and ESC R sets",
    )
    ap.add_argument("--height", type=int, help="cell height: rows above it are trimmed")
    args = ap.parse_args(argv)
    font = merge([load_font(s) for s in args.sources], args.height)
    keep: set[int] | None = None
    if args.ranges or args.codepages:
        keep = set(parse_ranges(args.ranges)) if args.ranges else set()
        if args.codepages:
            keep |= codepages.codepoints()
    data = encode(font, sorted(keep) if keep is not None else None)
    args.output.write_bytes(data)
    count = struct.unpack_from("<H", data, 8)[0]
    print(f"{args.output}: {font.width}x{font.height}, {count} glyphs, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
