# pyright: reportUndefinedVariable=false
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

from ..native import load

load(__file__, globals())  # its hot loops: enlarge.vpy

_ROW = const(48)  # bytes in a band row: 384 dots
_DOTS = const(384)
