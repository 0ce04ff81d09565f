"""Enlarged and rotated glyphs, dot by dot in native code.

GS ! scales a glyph up to 8 x 8 and ESC V turns it a quarter; framebuf has neither, and a
Python loop over pixel() costs several hundred bytecodes a character. These viper loops read
the glyph's MONO_HLSB rows and set (or, for reverse print, clear) the band's bits directly;
`stamp` does the same for a glyph at its own size, a byte at a time, where framebuf's blit
would go dot by dot and need a palette for reverse print.
Measured on the unix port (tests/bench/bench_text.py): a 14-character line at GS ! 2x2 went
from about 1170 us (fill_rect per dot) to about 215 us, an upside-down reversed line from
about 830 us to 435 us.
"""

import micropython

_ROW = const(48)  # bytes in a band row: 384 dots
_DOTS = const(384)


@micropython.viper
def enlarge(glyph_buf, gw: int, gh: int, band_buf, x: int, y: int, size: int, ink: int):
    """Draw a gw x gh glyph at (x, y), each dot (size >> 8) wide plus (size >> 16) dots of
    emphasis, (size & 0xFF) high. ink 1 sets dots, 0 clears them (reverse print)."""
    glyph = ptr8(glyph_buf)
    band = ptr8(band_buf)
    wm = (size >> 8) & 0xFF
    hm = size & 0xFF
    run = wm + ((size >> 16) & 0xFF)
    stride = (gw + 7) >> 3
    for gy in range(gh):
        src = gy * stride
        top = y + gy * hm
        for gx in range(gw):
            if glyph[src + (gx >> 3)] & (0x80 >> (gx & 7)):
                x0 = x + gx * wm
                for r in range(hm):
                    base = (top + r) * _ROW
                    for d in range(run):
                        px = x0 + d
                        if px < _DOTS:
                            i = base + (px >> 3)
                            bit = 0x80 >> (px & 7)
                            if ink:
                                band[i] = band[i] | bit
                            else:
                                band[i] = band[i] & (0xFF ^ bit)


@micropython.viper
def rotate(glyph_buf, gw: int, gh: int, out_buf, out_stride: int):
    """Turn a gw x gh glyph 90 degrees clockwise into `out_buf` (gh wide, gw high): dot (x, y)
    goes to (gh - 1 - y, x)."""
    glyph = ptr8(glyph_buf)
    out = ptr8(out_buf)
    for i in range(gw * out_stride):
        out[i] = 0
    stride = (gw + 7) >> 3
    for gy in range(gh):
        src = gy * stride
        ox = gh - 1 - gy
        for gx in range(gw):
            if glyph[src + (gx >> 3)] & (0x80 >> (gx & 7)):
                i = gx * out_stride + (ox >> 3)
                out[i] = out[i] | (0x80 >> (ox & 7))


@micropython.viper
def mirror(src_buf, dst_buf, reversed_bits_buf):
    """A 48-byte dot line turned end for end (ESC { prints lines upside down)."""
    src = ptr8(src_buf)
    dst = ptr8(dst_buf)
    reversed_bits = ptr8(reversed_bits_buf)
    for i in range(_ROW):
        dst[_ROW - 1 - i] = reversed_bits[src[i]]


@micropython.viper
def stamp(glyph_buf, stride: int, gh: int, band_buf, x: int, y: int, mode: int):
    """Draw a glyph at its own size at (x, y), a byte at a time: set its dots (mode bit 0 = 1)
    or clear them (0, reverse print); mode bit 1 adds each dot's right neighbour (emphasis)."""
    glyph = ptr8(glyph_buf)
    band = ptr8(band_buf)
    shift = x & 7
    col = x >> 3
    ink = mode & 1
    bold = mode & 2
    for gy in range(gh):
        src = gy * stride
        row = (y + gy) * _ROW
        carry = 0
        for k in range(stride + 1):
            b = 0
            if k < stride:
                b = glyph[src + k]
            if bold:
                wide = b | (b >> 1) | carry
                carry = (b & 1) << 7
                b = wide
            if b:
                c = col + k
                hi = b >> shift
                lo = (b << (8 - shift)) & 0xFF
                if c < _ROW:
                    if ink:
                        band[row + c] = band[row + c] | hi
                    else:
                        band[row + c] = band[row + c] & (0xFF ^ hi)
                if lo and c + 1 < _ROW:
                    if ink:
                        band[row + c + 1] = band[row + c + 1] | lo
                    else:
                        band[row + c + 1] = band[row + c + 1] & (0xFF ^ lo)
