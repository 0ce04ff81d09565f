"""Character tables: ESC t code pages and ESC R international character sets -> firmware data.

The firmware maps a byte to a Unicode code point through these tables, then looks the glyph up
by code point, so one font serves every code page. The tables of bytes 0x80-0xFF come from
Python's codecs at build time, except Epson's page 1 (Katakana), which no codec has: its block
and line graphics and its half-width katakana are listed here, from Epson's character code
table. The ESC R sets are the Epson table of the twelve code points an international set
replaces. The file, `codepages.bin`, is read on demand by
firmware/tillroll/render/codepage.py:

    offset  size   field
    0       4      magic b"TCP1"
    4       1      number of code pages P
    5       1      number of international sets S
    6       2      reserved, 0
    8       P      ESC t number of each code page
    8+P     S      ESC R number of each set
    8+P+S   P*256  per code page, the code points of bytes 0x80-0xFF (u16, little-endian)
    ...     S*24   per set, the code points of the bytes in REPLACED (u16, little-endian)
"""

from __future__ import annotations

import struct

MAGIC = b"TCP1"

# Epson page 1, Katakana: 0x80-0x9F block and line graphics, 0xA0 space, 0xA1-0xDF half-width
# katakana (as JIS X 0201). 0xE0-0xFF (card suits, kanji for dates and times, ...) are not
# mapped: they print the fallback glyph.
KATAKANA = (
    "▁▂▃▄▅▆▇█▏▎▍▌▋▊▉┼"
    "┴┬┤├▔─│▕┌┐└┘╭╮╰╯"
    " " + "".join(chr(0xFF61 + i) for i in range(0x3F)) + "\ufffd" * 0x20
)

# ESC t n -> Python codec (Epson numbering), or the table itself.
CODE_PAGES = {
    0: "cp437",
    1: KATAKANA,
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}

# The bytes an ESC R international character set replaces, in order.
REPLACED = b"#$@[\\]^`{|}~"

# ESC R n -> what those bytes print (Epson ESC R table).
INTERNATIONAL = {
    0: "#$@[\\]^`{|}~",  # U.S.A.
    1: "#$à°ç§^`éùè¨",  # France
    2: "#$§ÄÖÜ^`äöüß",  # Germany
    3: "£$@[\\]^`{|}~",  # U.K.
    4: "#$@ÆØÅ^`æøå~",  # Denmark I
    5: "#¤ÉÄÖÅÜéäöåü",  # Sweden
    6: "#$@°\\é^ùàòèì",  # Italy
    7: "₧$@¡Ñ¿^`¨ñ}~",  # Spain I
    8: "#$@[¥]^`{|}~",  # Japan
    9: "#¤ÉÆØÅÜéæøåü",  # Norway
    10: "#$ÉÆØÅÜéæøåü",  # Denmark II
}

MISSING = 0xFFFD  # a byte the code page leaves undefined: the font's fallback glyph


def upper_half(codec: str) -> list[int]:
    """Code points of bytes 0x80-0xFF in `codec` (a codec name, or the 128 characters)."""
    if len(codec) == 0x80:
        return [ord(c) for c in codec]
    return [ord(bytes([b]).decode(codec, errors="replace")) for b in range(0x80, 0x100)]


def codepoints() -> set[int]:
    """Every code point some code page or international set can print: what Font A and
    Font B must hold."""
    points = set(range(0x20, 0x7F))
    for codec in CODE_PAGES.values():
        points.update(upper_half(codec))
    for chars in INTERNATIONAL.values():
        points.update(ord(c) for c in chars)
    points.discard(MISSING)
    return points


def encode() -> bytes:
    pages = sorted(CODE_PAGES)
    sets = sorted(INTERNATIONAL)
    out = bytearray(MAGIC + bytes([len(pages), len(sets), 0, 0]))
    out += bytes(pages) + bytes(sets)
    for n in pages:
        out += struct.pack("<128H", *upper_half(CODE_PAGES[n]))
    for n in sets:
        chars = INTERNATIONAL[n]
        assert len(chars) == len(REPLACED), n
        out += struct.pack("<12H", *(ord(c) for c in chars))
    return bytes(out)
