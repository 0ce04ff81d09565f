"""Maintenance counters as Epson keeps them: each resettable (GS g 0, `tillroll counters
--reset`) and cumulative (never reset), read with GS g 2 and over the service link.

The engine counts what happens in this power cycle; what earlier power cycles counted is in a
small file on the board's storage. It is written when something has been counted, at most
once every _SAVE_MS, never per receipt: 144 writes a day at the most, which
littlefs spreads over its blocks (docs/service-protocol.md, "Counters"). A power cut loses at
most the last _SAVE_MS of counting.
"""

import time

# GS g 2 counter numbers (n); n + 128 is the cumulative counter of the same thing.
FED = const(20)  # dot lines fed, printed or blank
ENERGIZED = const(21)  # head energizations (sub-strobes)
CUTS = const(50)  # receipts torn off (the module has no cutter: the tear-offs count)
HOURS = const(70)  # hours switched on
NUMBERS = (FED, ENERGIZED, CUTS, HOURS)
NAMES = ("lines_fed", "head_energized", "cuts", "hours")
_SAVE_MS = const(600000)


class Counters:
    def __init__(self, engine, path):
        self._engine = engine
        self._path = path
        self.saved = [0, 0, 0, 0]  # cumulative counts of earlier power cycles
        self.reset_at = [0, 0, 0, 0]  # the cumulative count at the last reset
        self.saved_ms = 0  # whole hours are counted in ms, the rest carried over
        self._boot = time.ticks_ms()
        self._last_save = self._boot
        self._saved_now = self._now()
        self.saves = 0
        self._load()

    def _load(self):
        if not self._path:
            return
        try:
            with open(self._path) as f:
                for line in f:
                    name, _, rest = line.strip().partition("=")
                    if name in NAMES:
                        i = NAMES.index(name)
                        total, _, reset = rest.partition(",")
                        self.saved[i] = int(total)
                        self.reset_at[i] = int(reset or 0)
                    elif name == "ms":
                        self.saved_ms = int(rest)
        except (OSError, ValueError):
            pass  # none yet, or a torn file: count from what was read

    def _session_ms(self) -> int:
        return time.ticks_diff(time.ticks_ms(), self._boot)

    def _now(self):
        e = self._engine
        return (e.lines_printed + e.lines_fed, e.strobes, e.receipts)

    def cumulative(self, i: int) -> int:
        if i == 3:
            return (self.saved_ms + self._session_ms()) // 3600000
        return self.saved[i] + self._now()[i]

    def resettable(self, i: int) -> int:
        return self.cumulative(i) - self.reset_at[i]

    def value(self, n: int) -> int:
        """GS g 2 counter `n`; -1 for a number this module does not keep."""
        cumulative = n >= 128
        if cumulative:
            n -= 128
        if n not in NUMBERS:
            return -1
        i = NUMBERS.index(n)
        return self.cumulative(i) if cumulative else self.resettable(i)

    def reset(self, n: int = 0) -> bool:
        """GS g 0: reset counter `n` (0: all four). False for a number not kept."""
        if n and n not in NUMBERS:
            return False
        for i in range(4):
            if not n or NUMBERS[i] == n:
                self.reset_at[i] = self.cumulative(i)
        self.save()
        return True

    def table(self):
        return {
            NAMES[i]: {"resettable": self.resettable(i), "cumulative": self.cumulative(i)}
            for i in range(4)
        }

    def save(self):
        if not self._path:
            return
        import os

        tmp = self._path + ".new"
        with open(tmp, "w") as f:
            for i in range(3):
                f.write("%s=%d,%d\n" % (NAMES[i], self.cumulative(i), self.reset_at[i]))
            f.write("hours=0,%d\n" % self.reset_at[3])
            f.write("ms=%d\n" % (self.saved_ms + self._session_ms()))
        os.rename(tmp, self._path)  # the old counts or the new, never half
        self.saves += 1

    def tick(self):
        """Called by the service task now and then: save what is new, once per _SAVE_MS."""
        now = self._now()
        if now == self._saved_now:
            return
        since = time.ticks_diff(time.ticks_ms(), self._last_save)
        if since >= _SAVE_MS:
            # The counts saved are cumulative: the session's start moves up to this moment.
            self._last_save = time.ticks_ms()
            self._saved_now = now
            self.save()
