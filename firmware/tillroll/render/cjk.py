"""The 24x24 CJK font (TCJ format, see host/tillroll_host/cjkc.py), read from flash on demand.

Glyphs are stored in GB 2312 order, so a GB18030 two-byte code finds its glyph by arithmetic;
a Unicode code point finds it by binary search over a sorted table on flash, one 4-byte
block of 64 entries found through every 64th code point kept in RAM (117 of them, 234 bytes),
then read with one `readinto` and searched there. Only that sample, one block, one glyph and
the header's numbers are in RAM.
"""

import struct
from array import array

import framebuf

_HEADER_SIZE = const(16)
_ENTRY = const(4)
_BLOCK = const(64)  # table entries read at once


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
        self._blocks = (count + _BLOCK - 1) // _BLOCK
        self._block = array("H", bytes(_BLOCK * _ENTRY))  # (code point, glyph) pairs
        self._block_no = -1
        self._block_len = 0
        # The first code point of every block: which block to read is found in RAM.
        self._firsts = array("H", bytes(2 * self._blocks))
        entry = bytearray(_ENTRY)
        for b in range(self._blocks):
            self._file.seek(self._table_at + b * _BLOCK * _ENTRY)
            self._file.readinto(entry)
            self._firsts[b] = entry[0] | (entry[1] << 8)
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
        firsts = self._firsts
        lo = 0
        hi = self._blocks - 1
        if hi < 0 or codepoint < firsts[0]:
            return -1
        while lo < hi:  # the last block whose first code point is <= codepoint
            mid = (lo + hi + 1) >> 1
            if firsts[mid] <= codepoint:
                lo = mid
            else:
                hi = mid - 1
        if lo != self._block_no:
            self._file.seek(self._table_at + lo * _BLOCK * _ENTRY)
            n = self._file.readinto(self._block)
            self._block_len = n // _ENTRY
            self._block_no = lo
        block = self._block
        lo = 0
        hi = self._block_len - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            cp = block[2 * mid]
            if cp == codepoint:
                return block[2 * mid + 1]
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
