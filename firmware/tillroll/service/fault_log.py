"""The fault log: each change of the module's faults, with its time, in a ring of the last
_ENTRIES that survives a power cut in a small file on the board's storage (`board.fault_log_
path`; none: RAM only).

The file is written only when there is a new entry, and at most once in _WRITE_MS (a sensor
that flickers between two states costs one write in that time, not one a change): the flash
sees no write while nothing happens, and a bounded number while things do. It is rewritten
whole and renamed into place, so a power cut leaves the old log or the new one. A power cut
can lose the entries of the last _WRITE_MS at most.

An entry: wall time (0: unknown), seconds since its power-on, the fault flags, and which
power-on it was (counted up from the highest in the file; not written at power-on).
"""

import struct
import time
from array import array

_ENTRIES = const(32)
_WRITE_MS = const(10000)
_MAGIC = b"TFL1"
_HEAD = "<4sHH"  # magic, next slot, count
_HEAD_BYTES = const(8)


class FaultLog:
    def __init__(self, path=None):
        self._path = path
        self._e = array("I", bytes(4 * 4 * _ENTRIES))  # wall, uptime, flags, power-on
        self._next = 0
        self.count = 0
        self._dirty = False
        self._written = time.ticks_add(time.ticks_ms(), -_WRITE_MS)
        self.writes = 0
        self._load()
        top = 0
        for k in range(self.count):
            top = max(top, self._e[k * 4 + 3])
        self.power_on = top + 1

    def _load(self):
        if not self._path:
            return
        try:
            with open(self._path, "rb") as f:
                head = f.read(_HEAD_BYTES)
                magic, at, n = struct.unpack(_HEAD, head)
                if magic != _MAGIC or at >= _ENTRIES or n > _ENTRIES:
                    return  # not a log: start a new one
                if f.readinto(self._e) != len(self._e) * 4:
                    self._e = array("I", bytes(4 * 4 * _ENTRIES))
                    return  # short: start a new one
                self._next = at
                self.count = n
        except (OSError, ValueError):
            pass  # none yet (or unreadable): start a new one

    def note(self, wall: int, uptime_s: int, flags: int):
        i = self._next * 4
        e = self._e
        e[i] = wall
        e[i + 1] = uptime_s
        e[i + 2] = flags
        e[i + 3] = self.power_on
        self._next = (self._next + 1) % _ENTRIES
        if self.count < _ENTRIES:
            self.count += 1
        self._dirty = True
        self.flush()

    def flush(self, force: bool = False):
        """Write the log if it has a new entry and the last write is _WRITE_MS ago."""
        if not (self._dirty and self._path):
            return
        if not force and time.ticks_diff(time.ticks_ms(), self._written) < _WRITE_MS:
            return  # the watch comes back to it
        self._dirty = False
        self._written = time.ticks_ms()
        tmp = self._path + ".new"
        try:
            with open(tmp, "wb") as f:
                f.write(struct.pack(_HEAD, _MAGIC, self._next, self.count))
                f.write(self._e)
            import os

            os.rename(tmp, self._path)
            self.writes += 1
        except OSError as e:
            print("fault log: %s" % e)  # the log stays in RAM; faults still print as they do

    def entries(self):
        """(wall, uptime_s, flags, power_on) oldest first."""
        n = self.count
        first = (self._next - n) % _ENTRIES
        e = self._e
        out = []
        for k in range(n):
            i = ((first + k) % _ENTRIES) * 4
            out.append((e[i], e[i + 1], e[i + 2], e[i + 3]))
        return out
