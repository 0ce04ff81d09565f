"""QR Code model 2 (ISO/IEC 18004), encoded on the module: data -> a matrix of modules.

Numeric, alphanumeric or byte mode (the tightest for the whole data), versions 1 to
`max_version` (the smallest that holds the data at the chosen error correction level),
Reed-Solomon over GF(256), all eight masks scored by the standard's penalty rules. The matrix
and the function-pattern map are bit-packed rows (MONO_HLSB framebufs), made once for the
largest version; encoding allocates nothing (it runs with the heap locked).

Viper (qr.vpy, qr_matrix.py, reed_solomon.py): data placement, masking and the penalty score
walk every module nine times a symbol, and Reed-Solomon runs a GF(256) multiply per data byte
per ECC codeword. As viper loops a version 25 symbol (1200 bytes) encodes in about 9 ms on the
unix port against 290 ms as bytecode, 30 times faster (tests/bench/bench_qr.py, which also
scales it to the RP2040: 410 ms).
"""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false, reportUndefinedVariable=false

import framebuf
from micropython import const

from ..native import load
from .qr_matrix import apply_mask, expand, place, score  # pyright: ignore[reportAttributeAccessIssue]
from .reed_solomon import ReedSolomon

load(__file__, globals())  # its hot loops: qr.vpy

# Error correction levels in GS ( k fn 69 order: L, M, Q, H; their 2-bit format codes.
_FORMAT_BITS = (1, 0, 3, 2)
# ECC codewords per block and block counts, by level then version 1-40 (ISO/IEC 18004 table 9).
_ECC_PER_BLOCK = (
    b"\x07\x0a\x0f\x14\x1a\x12\x14\x18\x1e\x12\x14\x18\x1a\x1e\x16\x18\x1c\x1e\x1c\x1c"
    b"\x1c\x1c\x1e\x1e\x1a\x1c\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e",
    b"\x0a\x10\x1a\x12\x18\x10\x12\x16\x16\x1a\x1e\x16\x16\x18\x18\x1c\x1c\x1a\x1a\x1a"
    b"\x1a\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c",
    b"\x0d\x16\x12\x1a\x12\x18\x12\x16\x14\x18\x1c\x1a\x18\x14\x1e\x18\x1c\x1c\x1a\x1e"
    b"\x1c\x1e\x1e\x1e\x1e\x1c\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e",
    b"\x11\x1c\x16\x10\x16\x1c\x1a\x1a\x18\x1c\x18\x1c\x16\x18\x18\x1e\x1c\x1c\x1a\x1c"
    b"\x1e\x18\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e",
)
_BLOCKS = (
    bytes((1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
           8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25)),
    bytes((1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
           17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49)),
    bytes((1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
           23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68)),
    bytes((1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
           25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81)),
)  # fmt: skip
_MASK_COUNT = const(8)


def raw_codewords(version: int) -> int:
    """Codewords a version holds: its modules less the function patterns, over 8."""
    n = (16 * version + 128) * version + 64
    if version >= 2:
        align = version // 7 + 2
        n -= (25 * align - 10) * align - 55
        if version >= 7:
            n -= 36
    return n // 8


def data_codewords(version: int, level: int) -> int:
    return (
        raw_codewords(version) - _ECC_PER_BLOCK[level][version - 1] * _BLOCKS[level][version - 1]
    )


def capacity(version: int, level: int) -> int:
    """Bytes of data byte mode holds at this version and level."""
    count_bits = 8 if version < 10 else 16
    return (data_codewords(version, level) * 8 - 4 - count_bits) // 8


# Segment modes: mode indicator, and character count bits for versions 1-9, 10-26, 27-40.
NUMERIC = const(0)
ALPHANUMERIC = const(1)
BYTE = const(2)
_MODE_BITS = (0b0001, 0b0010, 0b0100)
_COUNT_BITS = ((10, 12, 14), (9, 11, 13), (8, 16, 16))
_ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _count_bits(mode: int, version: int) -> int:
    return _COUNT_BITS[mode][0 if version < 10 else (1 if version < 27 else 2)]


def _data_bits(mode: int, n: int) -> int:
    if mode == NUMERIC:
        return 10 * (n // 3) + (0, 4, 7)[n % 3]
    if mode == ALPHANUMERIC:
        return 11 * (n >> 1) + 6 * (n & 1)
    return 8 * n


class QR:
    """The GS ( k QR settings and the symbol last encoded (`matrix`, `size` modules a side)."""

    def __init__(self, max_version: int):
        self.max_version = max_version
        side = 17 + 4 * max_version
        self._stride = (side + 7) >> 3
        self._buf = bytearray(self._stride * side)
        self._fn_buf = bytearray(self._stride * side)
        self.matrix = framebuf.FrameBuffer(self._buf, side, side, framebuf.MONO_HLSB)
        self._fn = framebuf.FrameBuffer(self._fn_buf, side, side, framebuf.MONO_HLSB)
        self._pos = bytearray(7)  # alignment pattern centres (up to 7 a side, version 40)
        most = raw_codewords(max_version)
        self._words = bytearray(most)  # data codewords, block after block, then interleaved
        self._final = bytearray(most)
        self._ecc = bytearray(30)
        self._rs = ReedSolomon()
        self._alnum = bytearray(b"\xff" * 128)  # character -> alphanumeric value
        for k in range(len(_ALNUM)):
            self._alnum[_ALNUM[k]] = k
        self.size = 0
        self.version = 0
        self.mode = BYTE
        self.reset()

    def reset(self):
        self.module = 3
        self.level = 0  # L

    def encode(self, data, n: int, min_version: int = 1) -> bool:
        """Encode data[0:n] at `level` in the smallest version that holds it, from
        `min_version` on (as far as the module's largest)."""
        self.size = 0
        level = self.level
        mode = self._mode(data, n)
        version = min_version if 1 <= min_version <= self.max_version else 1
        while version <= self.max_version and (
            4 + _count_bits(mode, version) + _data_bits(mode, n)
            > data_codewords(version, level) * 8
        ):
            version += 1
        if version > self.max_version:
            return False
        self.mode = mode
        self.version = version
        self._codewords(data, n, version, level)
        size = 17 + 4 * version
        self.size = size
        self.matrix.fill(0)
        self._fn.fill(0)
        self._function_patterns(version, size)
        total = raw_codewords(version)
        place(self._buf, self._fn_buf, self._stride, size, self._final, total * 8)
        best = 0
        best_score = -1
        for mask in range(_MASK_COUNT):
            apply_mask(self._buf, self._fn_buf, self._stride, size, mask)
            self._format(level, mask, size)
            penalty = score(self._buf, self._stride, size)
            if best_score < 0 or penalty < best_score:
                best = mask
                best_score = penalty
            apply_mask(self._buf, self._fn_buf, self._stride, size, mask)
        apply_mask(self._buf, self._fn_buf, self._stride, size, best)
        self._format(level, best, size)
        return True

    def _mode(self, data, n: int) -> int:
        """The tightest single mode for the whole data, as Epson printers choose it."""
        mode = NUMERIC
        alnum = self._alnum
        for k in range(n):
            c = data[k]
            if c < 0x30 or c > 0x39:
                if c >= 128 or alnum[c] == 0xFF:
                    return BYTE
                mode = ALPHANUMERIC
        return mode

    def dark(self, x: int, y: int) -> int:
        return self.matrix.pixel(x, y)

    def dot_line(self, y: int, module: int, offset: int, line):
        """Module row y as a dot line into `line` (48 bytes): each module `module` dots wide
        from dot `offset`; offset + size * module must not pass the 384 dots."""
        expand(line, self._buf, y * self._stride, self.size, module, offset)

    # ---- codewords ---------------------------------------------------------------------

    def _codewords(self, data, n: int, version: int, level: int):
        words = self._words
        count = data_codewords(version, level)
        for k in range(count):
            words[k] = 0
        bit = 0
        mode = self.mode
        bit = _put(words, bit, _MODE_BITS[mode], 4)
        bit = _put(words, bit, n, _count_bits(mode, version))
        if mode == NUMERIC:  # three digits in 10 bits, two in 7, one in 4
            for k in range(0, n, 3):
                left = n - k if n - k < 3 else 3
                value = 0
                for d in range(left):
                    value = value * 10 + data[k + d] - 0x30
                bit = _put(words, bit, value, (4, 7, 10)[left - 1])
        elif mode == ALPHANUMERIC:  # two characters in 11 bits, one in 6
            alnum = self._alnum
            for k in range(0, n - 1, 2):
                bit = _put(words, bit, alnum[data[k]] * 45 + alnum[data[k + 1]], 11)
            if n & 1:
                bit = _put(words, bit, alnum[data[n - 1]], 6)
        else:
            bit = _put_bytes(words, bit, data, n)
        bit += 4 if count * 8 - bit >= 4 else count * 8 - bit  # terminator
        at = (bit + 7) >> 3
        pad = 0xEC
        while at < count:
            words[at] = pad
            pad ^= 0xEC ^ 0x11
            at += 1
        self._interleave(version, level, count)

    def _interleave(self, version: int, level: int, count: int):
        blocks = _BLOCKS[level][version - 1]
        degree = _ECC_PER_BLOCK[level][version - 1]
        total = raw_codewords(version)
        short_count = blocks - total % blocks
        short_len = total // blocks - degree  # data codewords in a short block
        self._rs.generator(degree)
        words = self._words
        final = self._final
        ecc = self._ecc
        # Data: the i-th codeword of every block in turn (long blocks have one more).
        at = 0
        for i in range(short_len + 1):
            start = 0
            for b in range(blocks):
                length = short_len + (0 if b < short_count else 1)
                if i < length:
                    final[at] = words[start + i]
                    at += 1
                start += length
        # ECC, the same way round.
        start = 0
        for b in range(blocks):
            length = short_len + (0 if b < short_count else 1)
            self._rs.remainder(words, start, length, ecc)
            for i in range(degree):
                final[count + i * blocks + b] = ecc[i]
            start += length

    # ---- function patterns -------------------------------------------------------------

    def _set(self, x: int, y: int, dark: int):
        self.matrix.pixel(x, y, dark)
        self._fn.pixel(x, y, 1)

    def _function_patterns(self, version: int, size: int):
        # Drawn as rectangles: framebuf's fill_rect clips and sets whole bytes, where a
        # module at a time took most of an encode's Python time.
        m = self.matrix
        fn = self._fn
        for i in range(8, size - 8, 2):  # timing, between the finders: dark on even places
            m.pixel(6, i, 1)
            m.pixel(i, 6, 1)
        fn.vline(6, 0, size, 1)
        fn.hline(0, 6, size, 1)
        for k in range(3):  # finders and separators: top left, top right, bottom left
            cx = size - 4 if k == 1 else 3
            cy = size - 4 if k == 2 else 3
            x = cx - 4 if cx > 3 else 0
            y = cy - 4 if cy > 3 else 0
            m.fill_rect(x, y, 8, 8, 0)
            fn.fill_rect(x, y, 8, 8, 1)
            m.rect(cx - 3, cy - 3, 7, 7, 1)
            m.fill_rect(cx - 1, cy - 1, 3, 3, 1)
        if version > 1:
            pos = _alignment(version, size, self._pos)
            last = version // 7 + 1
            for i in range(last + 1):
                for j in range(last + 1):
                    if (i == 0 and j == 0) or (i == 0 and j == last) or (i == last and j == 0):
                        continue
                    x = pos[i]
                    y = pos[j]
                    m.fill_rect(x - 2, y - 2, 5, 5, 1)
                    m.fill_rect(x - 1, y - 1, 3, 3, 0)
                    m.pixel(x, y, 1)
                    fn.fill_rect(x - 2, y - 2, 5, 5, 1)
        self._format(0, 0, size)  # reserve the format areas; real bits come with the mask
        if version >= 7:
            rem = version
            for _ in range(12):
                rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
            bits = (version << 12) | rem
            for i in range(18):
                bit = (bits >> i) & 1
                a = size - 11 + i % 3
                b = i // 3
                self._set(a, b, bit)
                self._set(b, a, bit)

    def _format(self, level: int, mask: int, size: int):
        data = (_FORMAT_BITS[level] << 3) | mask
        rem = data
        for _ in range(10):
            rem = (rem << 1) ^ ((rem >> 9) * 0x537)
        bits = ((data << 10) | rem) ^ 0x5412
        for i in range(6):
            self._set(8, i, (bits >> i) & 1)
        self._set(8, 7, (bits >> 6) & 1)
        self._set(8, 8, (bits >> 7) & 1)
        self._set(7, 8, (bits >> 8) & 1)
        for i in range(9, 15):
            self._set(14 - i, 8, (bits >> i) & 1)
        for i in range(8):
            self._set(size - 1 - i, 8, (bits >> i) & 1)
        for i in range(8, 15):
            self._set(8, size - 15 + i, (bits >> i) & 1)
        self._set(8, size - 8, 1)  # the dark module


def _alignment(version: int, size: int, pos):
    """The alignment pattern centres of `version`, into `pos` (preallocated, 7 entries)."""
    count = version // 7 + 2
    step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
    pos[0] = 6
    for i in range(count - 1):
        pos[count - 1 - i] = size - 7 - i * step
    return pos
