"""Wall-clock time for a module with no battery-backed clock: unknown (0) until a host sets it
over the service link, then counted on from the ticks. Receipts carry the time when known."""

import time


class Wall:
    def __init__(self, known: bool = False):
        # A board that knows the time (the sim, from its host's clock) starts with it.
        self._base = int(time.time()) if known else 0
        self._at = time.ticks_ms()

    def set(self, unix_s: int):
        self._base = int(unix_s)
        self._at = time.ticks_ms()

    def now(self) -> int:
        """Unix seconds, or 0 while nobody has said what time it is."""
        if not self._base:
            return 0
        return self._base + time.ticks_diff(time.ticks_ms(), self._at) // 1000
