"""A ring of preallocated dot-line slots between the renderer and the engine.

Each slot is one byte of kind, two bytes of argument (a line's black dots, a feed's length)
and one 48-byte dot line, so a feed of
any length or the end of a receipt costs one slot and nothing is allocated after start-up.
"""

import micropython

LINE_BYTES = const(48)
_SLOT = const(51)  # kind, arg lo, arg hi, 48 dot bytes

LINE = const(0)
FEED = const(1)  # arg: dot lines of paper feed
END = const(2)  # end of the receipt: tear off here


@micropython.viper
def _copy(dst: ptr8, d: int, src: ptr8, s: int, n: int) -> int:
    # One dot line a call; viper keeps it to a plain byte loop, without a slice object. It
    # counts the black dots on the way, which the engine plans its speed from.
    black = 0
    for i in range(n):
        b = src[s + i]
        dst[d + i] = b
        while b:
            b &= b - 1
            black += 1
    return black


class DotQueue:
    def __init__(self, slots: int):
        self._buf = bytearray(_SLOT * slots)
        self._mv = memoryview(self._buf)
        self._slots = slots
        self._head = 0  # next slot to read
        self._count = 0

    def free(self) -> int:
        return self._slots - self._count

    def __len__(self):
        return self._count

    def _tail(self) -> int:
        if self._count == self._slots:
            raise OverflowError("dot queue full")
        i = self._head + self._count
        if i >= self._slots:
            i -= self._slots
        self._count += 1
        return i * _SLOT

    def push_line(self, src, offset: int):
        at = self._tail()
        buf = self._buf
        buf[at] = LINE
        # viper takes any buffer as ptr8; the stubs type ptr8 as its own class
        black = _copy(buf, at + 3, src, offset, LINE_BYTES)  # pyright: ignore[reportArgumentType]
        buf[at + 1] = black & 0xFF
        buf[at + 2] = black >> 8

    def push(self, kind: int, arg: int):
        at = self._tail()
        buf = self._buf
        buf[at] = kind
        buf[at + 1] = arg & 0xFF
        buf[at + 2] = arg >> 8

    def peek(self) -> int:
        """Offset of the oldest slot in `buffer` (kind at +0, arg at +1..2, dots at +3)."""
        return self._head * _SLOT

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def buffer(self):
        return self._mv

    def pop(self):
        self._head += 1
        if self._head == self._slots:
            self._head = 0
        self._count -= 1
