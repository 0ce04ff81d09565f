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

    def sleep_us(self, us: int):
        now = time.ticks_us()
        if time.ticks_diff(now, self._due) > 100000:
            self._due = now  # after an idle spell, start from now
        self._due = time.ticks_add(self._due, us)  # pyright: ignore[reportArgumentType]
        ms = time.ticks_diff(self._due, now) // 1000
        return asyncio.sleep_ms(ms if ms > 0 else 0)
