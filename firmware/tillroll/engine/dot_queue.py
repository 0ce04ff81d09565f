# pyright: reportUndefinedVariable=false
"""A ring of preallocated dot-line slots between the renderer and the engine.

Each slot is one byte of kind, two bytes of argument (a line's black dots, a feed's length)
and one 48-byte dot line, so a feed of
any length or the end of a receipt costs one slot and nothing is allocated after start-up.
Where the ring starts and how full it is sit in a small array (`ring`), so the engine's native
code reads and pops it without a method call.
"""

from array import array

from ..native import load

load(__file__, globals())  # its hot loops: dot_queue.vpy

LINE_BYTES = const(48)
_SLOT = const(51)  # kind, arg lo, arg hi, 48 dot bytes
_HEAD = const(0)
_COUNT = const(1)

LINE = const(0)
FEED = const(1)  # arg: dot lines of paper feed
END = const(2)  # end of the receipt: tear off here


class DotQueue:
    def __init__(self, slots: int):
        self._buf = bytearray(_SLOT * slots)
        self._mv = memoryview(self._buf)
        self._slots = slots
        self._ring = array("i", [0, 0, slots])  # next slot to read, slots used, slots

    free = free  # native: dot_queue.vpy

    __len__ = __len__  # native: dot_queue.vpy

    push_line = push_line  # native: dot_queue.vpy

    push = push  # native: dot_queue.vpy

    peek = peek  # native: dot_queue.vpy

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def buffer(self):
        return self._mv

    @property
    def ring(self):
        """[oldest slot, slots used, slots], for native code."""
        return self._ring

    pop = pop  # native: dot_queue.vpy

    def clear(self):
        """Drop every slot (DLE DC4 fn 8, DLE ENQ 2: the host cleared the print buffer)."""
        self._ring[_HEAD] = 0
        self._ring[_COUNT] = 0
