"""Real time for a board: the engine's time base, on a device and in the sim's demos.

`sleep_us` returns an awaitable without allocating: asyncio's sleep_ms hands back a singleton.
Deadlines run on, so rounding to whole milliseconds never adds up to drift.
"""

import asyncio
import time


class RealClock:
    def __init__(self):
        self._due = time.ticks_us()

    def ticks_us(self) -> int:
        return time.ticks_us()  # pyright: ignore[reportReturnType]

    def advance(self, us: int):
        """The mechanism has `us` more of work queued: move the deadline on."""
        now = time.ticks_us()
        if time.ticks_diff(now, self._due) > 100000:
            self._due = now  # after an idle spell, start from now
        self._due = time.ticks_add(self._due, us)  # pyright: ignore[reportArgumentType]

    def ahead_us(self) -> int:
        """Work queued for the mechanism and not yet played (us)."""
        d = time.ticks_diff(self._due, time.ticks_us())
        return d if d > 0 else 0

    def drain(self) -> int:
        """Block (no other task runs) until the mechanism has played what is queued; return
        the us waited."""
        us = self.ahead_us()
        if us:
            time.sleep_us(us)
        return us

    def wait(self):
        """An awaitable that returns when the mechanism has caught up with the deadline."""
        ms = time.ticks_diff(self._due, time.ticks_us()) // 1000
        return asyncio.sleep_ms(ms if ms > 0 else 0)

    def sleep_us(self, us: int):
        self.advance(us)
        return self.wait()
