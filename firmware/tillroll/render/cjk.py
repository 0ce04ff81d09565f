"""The 24x24 CJK font (TCJ2 format, see host/tillroll_host/cjkc.py), read from flash on demand.

Glyphs are stored in GBK cell order, so a GB18030 two-byte code finds its glyph by arithmetic;
a Unicode code point finds it by binary search over a sorted table on flash, one 4-byte block
of 64 entries found through every 64th code point kept in RAM (342 of them, 684 bytes), then
read with one `readinto` and searched there.

The glyphs are compressed, 16 to a block (raw DEFLATE), and inflated by the one
`deflate.DeflateIO` kept for the font's life over a BytesIO holding the current block's
compressed bytes (a new DeflateIO would allocate 2 KB each time). The host ends every block
so that the decompressor, run to a block's end, is ready for any other. It gives a glyph at a
time straight into `glyph_buf` and only goes forward: a glyph further on in the block it is in
is read on from there, any other first runs it to that block's end. Every glyph read is kept
in a 4-way cache of 64 glyphs, so a receipt's recurring characters are inflated once. Nothing
here allocates after construction.
Measured on the unix port (bench_text's utf8_gbk_cold): a glyph that is not cached costs
about 85 us, most of a block inflated (4 ms on an RP2040 by K); a cached one about 2 us.
"""

import io
import struct
from array import array

import deflate
import framebuf

_HEADER_SIZE = const(24)
_ENTRY = const(4)
_BLOCK = const(64)  # table entries read at once
_SETS = const(16)  # glyph cache: 16 sets of 4 glyphs
_WAYS = const(4)
_EMPTY = const(0xFFFF)


class CjkFont:
    def __init__(self, path):
        self._file = open(path, "rb")
        head = self._file.read(_HEADER_SIZE)
        (magic, w, h, stride, per_block, lead0, lead1, trail0, trail1, count, fallback) = (
            struct.unpack("<4sBBBBBBBBHH", head)
        )
        if magic != b"TCJ2":
            raise ValueError("%s is not a TCJ2 font" % path)
        blocks, wbits, _, largest = struct.unpack_from("<HBBH", head, 16)
        self.width = w
        self.height = h
        size = h * stride
        self._glyph_size = size
        self._lead0 = lead0
        self._lead1 = lead1
        self._trail0 = trail0
        self._trail1 = trail1
        self._row = trail1 - trail0 + 1 - (trail0 <= 0x7F <= trail1)  # 0x7F is no trail byte
        self._count = count
        self.fallback = fallback
        self._per_block = per_block
        self._index_at = _HEADER_SIZE
        self._table_at = _HEADER_SIZE + 4 * (blocks + 1)
        self._data_at = self._table_at + _ENTRY * count
        self._entries = array("H", bytes(_BLOCK * _ENTRY))  # (code point, glyph) pairs
        self._entries_no = -1
        self._entries_len = 0
        # The first code point of every table block: which one to read is found in RAM.
        self._table_blocks = (count + _BLOCK - 1) // _BLOCK
        self._firsts = array("H", bytes(2 * self._table_blocks))
        entry = bytearray(_ENTRY)
        for b in range(self._table_blocks):
            self._file.seek(self._table_at + b * _BLOCK * _ENTRY)
            self._file.readinto(entry)
            self._firsts[b] = entry[0] | (entry[1] << 8)
        # One compressed block at a time, inflated a glyph at a time straight into glyph_buf.
        self._wbits = wbits
        self._offset = array("I", bytes(4))
        self._zbuf = bytearray(largest)
        self._zio = io.BytesIO(largest)
        self._inflater = deflate.DeflateIO(self._zio, deflate.RAW, wbits)
        self._sentinel = bytearray(1)
        self._block_no = -1  # the block the decompressor is in, -1 between blocks
        self._next = 0  # the glyph of that block it gives next
        # The glyph cache: _WAYS x _SETS glyphs in a BytesIO, copied in and out with a seek and
        # a write or readinto: a memoryview a slot measured no faster on the Chinese receipt
        # and took 2.5 KB more of the heap on the unix port.
        self.glyph_buf = bytearray(size)
        self._cache = io.BytesIO(_WAYS * _SETS * size)
        for _ in range(_WAYS * _SETS):
            self._cache.write(self.glyph_buf)  # pyright: ignore[reportAttributeAccessIssue]
        self._tags = array("H", bytes(2 * _WAYS * _SETS))
        self._evict = bytearray(_SETS)  # per set, the way to fill next: round robin
        self._cached = -1
        self.glyph = framebuf.FrameBuffer(self.glyph_buf, w, h, framebuf.MONO_HLSB)
        self.forget()
        self._inflate(0, 0)  # the decompressor's state and window are allocated on first use

    def gb_index(self, lead: int, trail: int) -> int:
        """Glyph index of a GB18030 two-byte code (a GBK cell), or the fallback glyph."""
        if lead < self._lead0 or lead > self._lead1 or trail < self._trail0:
            return self.fallback
        if trail > self._trail1 or trail == 0x7F:
            return self.fallback
        if trail > 0x7F:
            trail -= 1
        return (lead - self._lead0) * self._row + trail - self._trail0

    def unicode_index(self, codepoint: int) -> int:
        """Glyph index of a Unicode code point, or -1 when the font lacks it."""
        firsts = self._firsts
        lo = 0
        hi = self._table_blocks - 1
        if hi < 0 or codepoint < firsts[0]:
            return -1
        while lo < hi:  # the last block whose first code point is <= codepoint
            mid = (lo + hi + 1) >> 1
            if firsts[mid] <= codepoint:
                lo = mid
            else:
                hi = mid - 1
        if lo != self._entries_no:
            self._file.seek(self._table_at + lo * _BLOCK * _ENTRY)
            self._file.readinto(self._entries)
            n = self._count - lo * _BLOCK  # the last block is short: the glyphs follow it
            self._entries_len = n if n < _BLOCK else _BLOCK
            self._entries_no = lo
        entries = self._entries
        lo = 0
        hi = self._entries_len - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            cp = entries[2 * mid]
            if cp == codepoint:
                return entries[2 * mid + 1]
            if cp < codepoint:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def load(self, index: int):
        """Put glyph `index` into `self.glyph` (and `glyph_buf`)."""
        if index == self._cached:
            return self.glyph
        s = index & (_SETS - 1)
        slot = s * _WAYS
        tags = self._tags
        if tags[slot] == index:
            pass
        elif tags[slot + 1] == index:
            slot += 1
        elif tags[slot + 2] == index:
            slot += 2
        elif tags[slot + 3] == index:
            slot += 3
        else:
            way = self._evict[s]
            slot += way
            self._evict[s] = (way + 1) & (_WAYS - 1)
            b = index // self._per_block
            self._inflate(b, index - b * self._per_block)
            self._cache.seek(slot * self._glyph_size)  # pyright: ignore[reportAttributeAccessIssue]
            self._cache.write(self.glyph_buf)  # pyright: ignore[reportAttributeAccessIssue]
            tags[slot] = index
            self._cached = index
            return self.glyph
        self._cache.seek(slot * self._glyph_size)  # pyright: ignore[reportAttributeAccessIssue]
        self._cache.readinto(self.glyph_buf)  # pyright: ignore[reportAttributeAccessIssue]
        self._cached = index
        return self.glyph

    def forget(self):
        """Drop every cached glyph (benchmarks and tests measure the cold path)."""
        tags = self._tags
        for i in range(len(tags)):
            tags[i] = _EMPTY
        self._cached = -1

    def _inflate(self, b: int, k: int):
        """Glyph k of block b into glyph_buf. The decompressor goes forward only: a glyph
        further on in the block it is in is read on from there; any other first runs it to
        the end of that block (the last glyphs, then the sentinel), where the next begins."""
        inflater = self._inflater
        buf = self.glyph_buf
        try:
            if b != self._block_no or k < self._next:
                if self._block_no >= 0:
                    for _ in range(self._per_block - self._next):
                        inflater.readinto(buf)
                    inflater.readinto(self._sentinel)
                    self._block_no = -1
                self._read_block(b)
            for _ in range(k - self._next + 1):
                inflater.readinto(buf)
        except OSError:
            # A damaged block leaves the decompressor mid-stream: start a new one (this
            # allocates) and print the glyph blank rather than stop the receipt.
            self._inflater = deflate.DeflateIO(self._zio, deflate.RAW, self._wbits)
            self._block_no = -1
            for i in range(len(buf)):
                buf[i] = 0
            return
        self._next = k + 1

    def _read_block(self, b: int):
        """Block b's compressed bytes where the decompressor reads."""
        f = self._file
        f.seek(self._index_at + 4 * b)
        f.readinto(self._offset)
        f.seek(self._data_at + self._offset[0])
        f.readinto(self._zbuf)  # the block and what follows: the decompressor stops in time
        z = self._zio  # (the MicroPython stubs' BytesIO lacks seek and write)
        z.seek(0)  # pyright: ignore[reportAttributeAccessIssue]
        z.write(self._zbuf)  # pyright: ignore[reportAttributeAccessIssue]
        z.seek(0)  # pyright: ignore[reportAttributeAccessIssue]
        self._block_no = b
        self._next = 0

    def close(self):
        self._file.close()
