"""The engine drives the mechanism: dot lines, feeds and tear-offs reach the simulated paper."""

import asyncio
import os

import micropython

from mechanisms import ltp02_245
from sim.mechanism import Head, Motor, Paper, TearBar
from tillroll.engine.dot_queue import END, FEED, LINE, DotQueue
from tillroll.engine.engine import Engine

OUT = "/tmp/tillroll-mp-engine"


class Mechanism:
    def __init__(self):
        try:
            os.mkdir(OUT)
        except OSError:
            pass
        self.paper = Paper(OUT)
        self.head = Head(self.paper)
        self.motor = Motor(self.paper, ltp02_245.STEPS_PER_LINE)
        self.torn = []
        self.tear = TearBar(self.paper, self.torn.append)

    def engine(self, slots=16):
        return Engine(self.head, self.motor, self.tear, ltp02_245, slots)


def run(engine, produce):
    async def main():
        task = asyncio.create_task(engine.run())
        await produce()
        await engine.drain()
        task.cancel()

    asyncio.run(main())


def test_queue_keeps_order_and_kinds():
    q = DotQueue(4)
    line = bytearray(range(48))
    q.push_line(line, 0)
    q.push(FEED, 300)
    q.push(END, 0)
    buf = q.buffer
    kinds = []
    while len(q):
        at = q.peek()
        kinds.append((buf[at], buf[at + 1] | (buf[at + 2] << 8)))
        if buf[at] == LINE:
            assert bytes(buf[at + 3 : at + 51]) == bytes(line)
        q.pop()
    assert kinds == [(LINE, 0), (FEED, 300), (END, 0)]


def test_a_full_queue_refuses_rather_than_overwrites():
    q = DotQueue(2)
    q.push(FEED, 1)
    q.push(FEED, 2)
    try:
        q.push(FEED, 3)
    except OverflowError:
        return
    raise AssertionError("a third slot went into a queue of two")


def test_lines_feeds_and_tear_off_reach_the_paper():
    m = Mechanism()
    engine = m.engine()
    line = bytearray(48)
    line[0] = 0x80  # leftmost dot
    line[47] = 0x01  # rightmost dot

    async def produce():
        for _ in range(40):  # more lines than the queue holds: the producer waits
            while engine.free() < 2:
                await engine.wait_space()
            engine.push_line(line, 0)
        while engine.free() < 2:
            await engine.wait_space()
        engine.feed(10)
        engine.end_receipt()

    run(engine, produce)
    assert engine.lines_printed == 40
    assert engine.lines_fed == 10
    assert m.head.strobes == 40
    assert m.motor.steps == 50 * ltp02_245.STEPS_PER_LINE
    assert len(m.torn) == 1
    with open(m.torn[0], "rb") as f:
        png = f.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[16:24] == b"\x00\x00\x01\x80\x00\x00\x00\x32"  # 384 x 50


def test_printing_dot_lines_allocates_nothing_in_steady_state():
    m = Mechanism()
    engine = m.engine(slots=64)
    line = bytearray(48)
    for i in range(0, 48, 3):
        line[i] = 0xAA

    async def produce():
        for _ in range(8):  # warm up: first passes through every path
            engine.push_line(line, 0)
        await engine.drain()
        # Producer and engine both run under the lock: queueing, the engine task, the
        # mechanism calls and the scheduler between them.
        micropython.heap_lock()
        try:
            for _ in range(48):
                engine.push_line(line, 0)
            engine.feed(5)
            while len(engine.queue):
                await asyncio.sleep_ms(0)  # a singleton: waiting on it allocates nothing
        finally:
            micropython.heap_unlock()

    run(engine, produce)
    assert engine.lines_printed == 56
