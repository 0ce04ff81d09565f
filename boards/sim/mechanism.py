"""Models of the print mechanism for the simulated module: head, motor, paper and tear bar.

The engine drives them through the same calls a board driver takes: shift a dot line into the
head, latch it, strobe, step the motor. Burnt dots land on the paper row under the head; every
`steps_per_line` motor steps the paper moves one dot line. Paper is kept in a file, not in RAM,
so a long receipt fits the board-sized heap.
"""

import os

from sim.png import write_png

_LINE_BYTES = const(48)


class Paper:
    """The roll: dot lines burnt since the last tear-off, one row a line, in a spool file."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self._spool_path = out_dir + "/.paper.spool"
        self._spool = open(self._spool_path, "wb")
        self._row = bytearray(_LINE_BYTES)  # the row under the head
        self.rows = 0
        self.receipts = 0

    def burn(self, dots):
        row = self._row
        for i in range(_LINE_BYTES):
            row[i] |= dots[i]

    def advance(self):
        self._spool.write(self._row)
        for i in range(_LINE_BYTES):
            self._row[i] = 0
        self.rows += 1

    def tear_off(self):
        """The cashier tears the receipt off: write it as receipt-NNNN.png; return its path."""
        self._spool.close()
        self.receipts += 1
        path = "%s/receipt-%04d.png" % (self.out_dir, self.receipts)
        with open(self._spool_path, "rb") as spool:
            write_png(path, self.rows, spool, _LINE_BYTES)
        self._spool = open(self._spool_path, "wb")
        self.rows = 0
        return path

    def close(self):
        self._spool.close()
        os.remove(self._spool_path)


class Head:
    """Shift register and latch of a 384-dot head; a strobe burns the latched dots."""

    def __init__(self, paper):
        self._paper = paper
        self._shift = bytearray(_LINE_BYTES)
        self._latch = bytearray(_LINE_BYTES)
        self.strobes = 0

    def load(self, buf, offset):
        shift = self._shift
        for i in range(_LINE_BYTES):
            shift[i] = buf[offset + i]

    def latch(self):
        self._latch[:] = self._shift

    def strobe(self, pulse_us):
        self.strobes += 1
        self._paper.burn(self._latch)


class Motor:
    """Stepper: `steps_per_line` steps move the paper one dot line."""

    def __init__(self, paper, steps_per_line):
        self._paper = paper
        self._per_line = steps_per_line
        self._steps = 0
        self.steps = 0

    def step(self, n):
        self.steps += n
        self._steps += n
        while self._steps >= self._per_line:
            self._steps -= self._per_line
            self._paper.advance()


class TearBar:
    """No cutter: the receipt is torn off at the bar; `on_receipt(path)` hears of each one."""

    def __init__(self, paper, on_receipt):
        self._paper = paper
        self._on_receipt = on_receipt

    def tear_off(self):
        self._on_receipt(self._paper.tear_off())
