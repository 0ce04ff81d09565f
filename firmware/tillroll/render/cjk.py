"""The 24x24 CJK font (TCJ format, see host/tillroll_host/cjkc.py), read from flash on demand.

Glyphs are stored in GB 2312 order, so a GB18030 two-byte code finds its glyph by arithmetic;
a Unicode code point finds it by binary search over a sorted table on flash, one 4-byte
`readinto` a step (13 steps for 7445 characters). Only the 16-byte header's numbers, one glyph
and one table entry are in RAM.
"""

import struct

import framebuf

_HEADER_SIZE = const(16)
_ENTRY = const(4)


class CjkFont:
    def __init__(self, path):
        self._file = open(path, "rb")
        head = self._file.read(_HEADER_SIZE)
        magic, w, h, stride, _, lead0, lead1, trail0, trail1, count, fallback = struct.unpack(
            "<4sBBBBBBBBHH", head
        )
        if magic != b"TCJ1":
            raise ValueError("%s is not a TCJ font" % path)
        self.width = w
        self.height = h
        self._glyph_size = h * stride
        self._lead0 = lead0
        self._lead1 = lead1
        self._trail0 = trail0
        self._trail1 = trail1
        self._row = trail1 - trail0 + 1
        self._count = count
        self.fallback = fallback
        self._table_at = _HEADER_SIZE + (lead1 - lead0 + 1) * self._row * self._glyph_size
        self._entry = bytearray(_ENTRY)
        self._cached = -1
        self.glyph_buf = bytearray(self._glyph_size)
        self.glyph = framebuf.FrameBuffer(self.glyph_buf, w, h, framebuf.MONO_HLSB)

    def gb_index(self, lead: int, trail: int) -> int:
        """Glyph index of a GB18030 two-byte code, or the fallback glyph outside GB 2312."""
        if self._lead0 <= lead <= self._lead1 and self._trail0 <= trail <= self._trail1:
            return (lead - self._lead0) * self._row + trail - self._trail0
        return self.fallback

    def unicode_index(self, codepoint: int) -> int:
        """Glyph index of a Unicode code point, or -1 when the font lacks it."""
        f = self._file
        e = self._entry
        lo = 0
        hi = self._count - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            f.seek(self._table_at + mid * _ENTRY)
            f.readinto(e)
            cp = e[0] | (e[1] << 8)
            if cp == codepoint:
                return e[2] | (e[3] << 8)
            if cp < codepoint:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def load(self, index: int):
        """Read glyph `index` into `self.glyph`."""
        if index != self._cached:
            self._file.seek(_HEADER_SIZE + index * self._glyph_size)
            self._file.readinto(self.glyph_buf)
            self._cached = index
        return self.glyph

    def close(self):
        self._file.close()
