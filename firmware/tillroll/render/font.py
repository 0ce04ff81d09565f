"""Bitmap fonts in the TRF format (see host/tillroll_host/fontc.py), read from flash on demand.

Only the code-point index lives in RAM (2 bytes a glyph); each glyph is read with one seek and
one `readinto` into a preallocated buffer, so a font of thousands of glyphs costs a few KB.
"""

import struct
from array import array

import framebuf

_HEADER_SIZE = const(12)


class Font:
    def __init__(self, path):
        self._file = open(path, "rb")
        header = self._file.read(_HEADER_SIZE)
        magic, width, height, stride, _, count, fallback = struct.unpack("<4sBBBBHH", header)
        if magic != b"TRF1":
            raise ValueError("%s is not a TRF font" % path)
        self.width = width
        self.height = height
        self._glyph_size = height * stride
        self._count = count
        self._fallback = fallback
        self._codepoints = array("H", bytes(2 * count))
        self._file.readinto(self._codepoints)
        self._bitmaps_at = _HEADER_SIZE + 2 * count
        # Printable ASCII at the start of the index, in order: its glyph index is arithmetic.
        self._ascii = count > 0x5F and all(self._codepoints[i] == 0x20 + i for i in range(0x5F))
        self._cached = -1
        self.glyph_buf = bytearray(self._glyph_size)
        # A framebuf over the glyph buffer: the renderer blits it, framebuf does the dots in C.
        self.glyph = framebuf.FrameBuffer(self.glyph_buf, width, height, framebuf.MONO_HLSB)

    def index(self, codepoint):
        """Glyph index of `codepoint`, or of the fallback glyph when the font lacks it."""
        if 0x20 <= codepoint <= 0x7E and self._ascii:
            return codepoint - 0x20
        cps = self._codepoints
        lo = 0
        hi = self._count - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            cp = cps[mid]
            if cp == codepoint:
                return mid
            if cp < codepoint:
                lo = mid + 1
            else:
                hi = mid - 1
        return self._fallback

    def has(self, codepoint):
        i = self.index(codepoint)
        return self._codepoints[i] == codepoint

    def load(self, codepoint):
        """Read `codepoint`'s glyph into `self.glyph` (and `glyph_buf`)."""
        i = self.index(codepoint)
        if i != self._cached:
            self._file.seek(self._bitmaps_at + i * self._glyph_size)
            self._file.readinto(self.glyph_buf)
            self._cached = i
        return self.glyph

    def close(self):
        self._file.close()
