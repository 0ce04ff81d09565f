"""Virtual time for the simulated module: sleeping only moves the clock on, so a metre of
receipt prints in a fraction of the real time it takes on paper.

Ticks wrap like time.ticks_us (30 bits), so the count never grows into a big integer.
"""

import asyncio

_MASK = const(0x3FFFFFFF)
_HALF = const(0x20000000)


def ticks_diff(a: int, b: int) -> int:
    d = (a - b) & _MASK
    return d - (_MASK + 1) if d >= _HALF else d


class VirtualClock:
    def __init__(self):
        self._now = 0
        self.elapsed_us = 0  # total, as a float-free count of whole seconds and us
        self.seconds = 0

    def ticks_us(self) -> int:
        return self._now

    def advance(self, us: int):
        self._now = (self._now + us) & _MASK
        e = self.elapsed_us + us
        while e >= 1000000:
            e -= 1000000
            self.seconds += 1
        self.elapsed_us = e

    def wait(self):
        return asyncio.sleep_ms(0)  # virtual time: the mechanism is always caught up

    def ahead_us(self) -> int:
        return 0

    def late_us(self, planned: int = 0) -> int:
        return 0  # virtual time: the next line is always ready in time

    def sync(self):
        pass

    def drain(self) -> int:
        return 0

    def sleep_us(self, us: int):
        self.advance(us)
        return asyncio.sleep_ms(0)

    def now_s(self) -> float:
        return self.seconds + self.elapsed_us / 1000000
