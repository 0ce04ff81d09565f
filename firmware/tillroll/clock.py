"""Real time for a board: the engine's time base, on a device and in the sim's demos.

`sleep_us` returns an awaitable without allocating: asyncio's sleep_ms hands back a singleton.
Deadlines run on, so rounding to whole milliseconds never adds up to drift.
"""

import asyncio
import time

_KEEP_US = const(2500)  # half the engine's look-ahead (engine.py, _AHEAD_US)


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

    def late_us(self, planned: int = 0) -> int:
        """How long the mechanism has had nothing left to play (us), `planned` us of lines
        given to it since the deadline last moved on."""
        d = time.ticks_diff(time.ticks_us(), time.ticks_add(self._due, planned))  # pyright: ignore[reportArgumentType]
        return d if d > 0 else 0

    def sync(self):
        """The mechanism stands now: what is planned next starts from now."""
        self._due = time.ticks_us()

    def drain(self) -> int:
        """Block (no other task runs) until the mechanism has played what is queued; return
        the us waited."""
        us = self.ahead_us()
        if us:
            time.sleep_us(us)
        return us

    def wait(self):
        """An awaitable that returns when the mechanism has only _KEEP_US of its work left:
        the engine plans more before it runs out (a board's drivers play lines from rings)."""
        ms = (time.ticks_diff(self._due, time.ticks_us()) - _KEEP_US) // 1000
        return asyncio.sleep_ms(ms if ms > 0 else 0)

    def sleep_us(self, us: int):
        self.advance(us)
        return self.wait()
