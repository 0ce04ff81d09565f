"""The engine: takes dot lines off the queue and drives the head, the motor and the tear-off.

The hardware comes in from the board (`head`, `motor`, `tear`), with the mechanism's
datasheet profile; the engine never builds a pin itself.
"""

import asyncio

from .dot_queue import END, FEED, LINE, DotQueue

_ARG_MAX = const(0xFFFF)


class Engine:
    def __init__(self, head, motor, tear, mechanism, slots: int = 256):
        self.queue = DotQueue(slots)
        self._head = head
        self._motor = motor
        self._tear = tear
        self._steps_per_line = mechanism.STEPS_PER_LINE
        self._pulse_us = mechanism.NOMINAL_PULSE_US
        self._work = asyncio.Event()
        self._space = asyncio.Event()
        self.lines_printed = 0
        self.lines_fed = 0
        self.receipts = 0

    # ---- producer side (renderer) ---------------------------------------------------------

    def free(self) -> int:
        return self.queue.free()

    def push_line(self, buf, offset: int):
        self.queue.push_line(buf, offset)
        self._work.set()

    def feed(self, dots: int):
        while dots > 0:
            n = dots if dots < _ARG_MAX else _ARG_MAX
            self.queue.push(FEED, n)
            dots -= n
        self._work.set()

    def end_receipt(self):
        self.queue.push(END, 0)
        self._work.set()

    async def wait_space(self):
        self._space.clear()
        await self._space.wait()

    async def drain(self):
        """Return once every queued line has been printed."""
        while len(self.queue):
            await self.wait_space()

    # ---- consumer side (mechanism) --------------------------------------------------------

    def drop_current(self):
        """Give up the slot being printed (after it raised), so the next one can go."""
        if len(self.queue):
            self.queue.pop()
        self._space.set()

    async def run(self):
        queue = self.queue
        buf = queue.buffer
        head = self._head
        motor = self._motor
        while True:
            if not len(queue):
                self._work.clear()
                await self._work.wait()
                continue
            at = queue.peek()
            kind = buf[at]
            if kind == LINE:
                head.load(buf, at + 3)
                head.latch()
                head.strobe(self._pulse_us)
                motor.step(self._steps_per_line)
                self.lines_printed += 1
            elif kind == FEED:
                n = buf[at + 1] | (buf[at + 2] << 8)
                motor.step(n * self._steps_per_line)
                self.lines_fed += n
            elif kind == END:
                self._tear.tear_off()
                self.receipts += 1
            queue.pop()
            self._space.set()
            await asyncio.sleep_ms(0)
