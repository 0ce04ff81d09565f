"""Engine benchmarks on the mechanism twin, in virtual time, for each mechanism profile and
four receipts (text, dense text, barcode, full raster):

- schedule efficiency: the limit model's shortest time (boards/mechanisms/limit.py, the
  datasheet equations with the ramp) over the twin's printing time; the same for the schedule
  common firmware uses (six strobe blocks one after another at a fixed pulse, then the motor at
  its rated step) driving the same twin, as the peer;
- strobes per line against ceil(black dots / cap): their ratio, 1 when no strobe is wasted;
- CPU load on an RP2040, estimated: the engine's time on the unix port x K / the printing time;
- allocations per dot line, with counting drivers, then proved zero under heap_lock().
"""

import gc
import json
import os
import time

import micropython

from mechanisms import jx_2r_01, limit, ltp02_245, pt486f_b
from sim.clock import VirtualClock
from sim.mechanism import Head, Paper, Sensors, Stepper, Supply, TearBar
from sim.sequencer import Sequencer
from tillroll.engine.engine import Engine
from tillroll.render.font import Font
from tillroll.render.layout import Layout

K = float(os.getenv("TILLROLL_K") or "0")
FONTS = os.getenv("TILLROLL_FONTS") or "firmware/fonts"
OUT = "/tmp/tillroll-bench"
TEAR = 96


def emit(metric, case, value, goal, unit):
    print(json.dumps({"metric": metric, "case": case, "value": value, "goal": goal, "unit": unit}))


class Strip:
    """Dot lines a receipt is made of, kept as one bytearray and a feed after each band."""

    def __init__(self):
        self.data = bytearray()
        self.feeds = []  # (after line index, dots)

    def free(self):
        return 1000

    def push_line(self, buf, offset):
        self.data.extend(memoryview(buf)[offset : offset + 48])

    def feed(self, dots):
        self.feeds.append((len(self.data) // 48, dots))

    def end_receipt(self):
        pass


def text_band(dense):
    strip = Strip()
    layout = Layout(Font(FONTS + "/font_a_12x24.trf"), strip, 0)
    if dense:
        layout.set_emphasis(1)
        layout.set_char_size(0x01)  # double height
        words = "TOTAL #8B&W 99.99 MWM"
    else:
        words = "Coffee beans 1kg   12.50"
    for ch in words:
        layout.char(ord(ch))
    layout.print_line(1)
    return strip


def receipts():
    """Each receipt as segments: (band of dot lines, times, dots fed after each time)."""
    out = []
    for case, dense in (("text", False), ("dense text", True)):
        band = text_band(dense)
        feed = band.feeds[0][1] if band.feeds else 0
        out.append((case, [(band.data, 40 if not dense else 20, feed)]))
    bars = bytearray(48)  # a barcode: bars and spaces of 2 to 6 dots, about half black
    x = 16
    widths = (2, 4, 6, 2, 3, 5, 2, 6, 4, 3)
    i = 0
    while x < 368:
        w = widths[i % len(widths)]
        if i % 2 == 0:
            for d in range(x, min(x + w, 368)):
                bars[d >> 3] |= 0x80 >> (d & 7)
        x += w
        i += 1
    out.append(("barcode", [(bars, 160, 0)]))
    bayer = (0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5)
    levels = []  # a gradient, ordered dither, white to black: 17 levels of 28 lines
    for level in range(17):
        band = bytearray(48 * 4)
        for y in range(4):
            for d in range(384):
                if bayer[y * 4 + (d & 3)] < level:
                    band[y * 48 + (d >> 3)] |= 0x80 >> (d & 7)
        levels.append((band, 7, 0))
    out.append(("full raster", levels))
    return out


def black(buf, at):
    n = 0
    for i in range(at, at + 48):
        b = buf[i]
        while b:
            b &= b - 1
            n += 1
    return n


class Twin:
    def __init__(self, m):
        try:
            os.mkdir(OUT)
        except OSError:
            pass
        self.clock = VirtualClock()
        self.supply = Supply(m.RATED_MV)
        self.paper = Paper(OUT, m.ACTIVATIONS_PER_LINE)
        self.head = Head(m, self.paper, self.supply, self.clock)
        self.stepper = Stepper(m, self.paper, self.head, self.supply, 1400)
        self.seq = Sequencer(self.head, self.stepper, self.clock, m)
        self.sensors = Sensors(self.head, self.paper, self.supply)
        self.tear = TearBar(self.paper, lambda path: None)
        self.busy_us = 0  # unix-port time spent inside the twin
        run = self.seq.run

        def timed(steps, line_us, periods=None, at=0):
            t = time.ticks_us()
            run(steps, line_us, periods, at)
            self.busy_us += time.ticks_diff(time.ticks_us(), t)

        self.seq.run = timed
        sensors = self.sensors
        for name in ("supply_mv", "head_ohms", "paper", "cover_closed"):
            setattr(sensors, name, self._timed(getattr(sensors, name)))

    def _timed(self, read):
        def timed():
            t = time.ticks_us()
            value = read()
            self.busy_us += time.ticks_diff(time.ticks_us(), t)
            return value

        return timed

    def close(self):
        self.paper.close()


def print_engine(m, segments):
    import asyncio

    gc.collect()
    twin = Twin(m)
    engine = Engine(twin.seq, twin.seq, twin.tear, twin.sensors, twin.clock, m, 64)

    async def produce():
        for band, repeats, feed in segments:
            for _ in range(repeats):
                for j in range(len(band) // 48):
                    while engine.free() < 4:
                        await engine.wait_space()
                    engine.push_line(band, j * 48)
                if feed:
                    engine.feed(feed)
        engine.feed(TEAR)
        engine.end_receipt()
        await engine.drain()

    async def main():
        task = asyncio.create_task(engine.run())
        await produce()
        task.cancel()

    gc.collect()
    t = time.ticks_us()
    asyncio.run(main())
    wall = time.ticks_diff(time.ticks_us(), t)
    twin.close()
    return twin, engine, wall - twin.busy_us


def print_common(m, segments):
    """The peer: six 64-dot blocks strobed one after another at one fixed pulse (the right one
    for 25 C, the rated supply and its own line period), then the line's steps at the rated
    step rate."""
    twin = Twin(m)
    s = m.STEPS_PER_LINE
    a = m.ACTIVATIONS_PER_LINE
    step = 1000000 // m.max_pps(m.RATED_MV)
    pulse = 0
    for _ in range(20):  # its pulse is right for its own activation period, at 25 C
        w = 6 * (pulse + m.GAP_US) + s // a * step
        pulse = int(limit.pulse_us(m, m.RATED_MV, 25, w, 64))
    block = bytearray(48)
    for band, repeats, feed in segments:
        lines = len(band) // 48
        for _ in range(repeats):
            for j in range(lines + feed):
                _common_line(m, twin, band, j * 48, j < lines, block, pulse, step, a, s)
    for _ in range(TEAR):
        _common_line(m, twin, band, 0, False, block, pulse, step, a, s)
    twin.close()
    return twin


def _common_line(m, twin, band, at, dots, block, pulse, step, a, s):
    head = twin.head
    clock = twin.clock
    for _ in range(a):
        if dots:
            for b in range(6):
                for i in range(48):
                    block[i] = band[at + i] if i // 8 == b else 0
                head.shift(block, 0)
                head.latch()
                head.strobe(pulse, clock.ticks_us())
                clock.advance(pulse + m.GAP_US)
        for _ in range(s // a):
            twin.stepper.step(step)
            clock.advance(step)


def oracle(m, segments, temps):
    from array import array

    counts = array("H")
    for band, repeats, feed in segments:
        for _ in range(repeats):
            for j in range(len(band) // 48):
                counts.append(black(band, j * 48))
            for _ in range(feed):
                counts.append(0)
    for _ in range(TEAR):
        counts.append(0)
    heat = bytearray(len(counts))  # the head's temperature at each line, as the twin had it
    for j in range(len(counts)):
        heat[j] = temps[j] - 40 if j < len(temps) and temps[j] else 25
    gc.collect()
    total = 0
    for n in counts:
        total += n
    return limit.shortest_time_us(m, m.RATED_MV, counts, heat, m.MAX_DOTS_AT_ONCE), total


class Counting:
    """Drivers that only count: the engine's own CPU time, without the twin's."""

    def __init__(self, m):
        self._mv = m.RATED_MV

    def fire(self, groups, k, first, pulse, activations, window):
        pass

    def run(self, steps, line_us, periods=None, at=0):
        pass

    def tear_off(self):
        pass

    def supply_mv(self):
        return self._mv

    def head_ohms(self):
        return 30000

    def paper(self):
        return True

    def cover_closed(self):
        return True


def engine_cpu_us(m, segments):
    """Unix-port time the firmware spends on the receipt: producer and engine, with drivers
    that only count, in virtual time."""
    import asyncio

    gc.collect()  # one engine at a time: the last one's buffers go back first
    hw = Counting(m)
    engine = Engine(hw, hw, hw, hw, VirtualClock(), m, 64)

    async def produce():
        for band, repeats, feed in segments:
            for _ in range(repeats):
                for j in range(len(band) // 48):
                    while engine.free() < 4:
                        await engine.wait_space()
                    engine.push_line(band, j * 48)
                if feed:
                    engine.feed(feed)
        engine.feed(TEAR)
        engine.end_receipt()
        await engine.drain()

    async def main():
        task = asyncio.create_task(engine.run())
        await produce()
        task.cancel()

    gc.collect()
    t = time.ticks_us()
    asyncio.run(main())
    return time.ticks_diff(time.ticks_us(), t)


def allocations(m):
    """Bytes the engine allocates a dot line, with drivers that count; then the same under
    heap_lock(), which raises at the first allocation."""
    import asyncio

    class Hw:
        def fire(self, groups, k, first, pulse, activations, window):
            pass

        def run(self, steps, line_us, periods=None, at=0):
            pass

        def tear_off(self):
            pass

        def supply_mv(self):
            return m.RATED_MV

        def head_ohms(self):
            return 30000

        def paper(self):
            return True

        def cover_closed(self):
            return True

    hw = Hw()
    engine = Engine(hw, hw, hw, hw, VirtualClock(), m, 64)
    line = bytearray(b"\xa5" * 48)
    result = []

    async def main():
        task = asyncio.create_task(engine.run())
        for _ in range(16):
            engine.push_line(line, 0)
        await engine.drain()
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(48):
            engine.push_line(line, 0)
        while len(engine.queue):
            await asyncio.sleep_ms(0)
        result.append((gc.mem_alloc() - before) / 48)
        gc.enable()
        micropython.heap_lock()
        try:
            for _ in range(48):
                engine.push_line(line, 0)
            while len(engine.queue):
                await asyncio.sleep_ms(0)
            locked = True
        except MemoryError:
            locked = False
        finally:
            micropython.heap_unlock()
        result.append(locked)
        task.cancel()

    asyncio.run(main())
    return result


def main():
    cases = receipts()
    for m in (ltp02_245, jx_2r_01, pt486f_b):
        for case, segments in cases:
            name = "%s %s" % (m.NAME.split()[-1], case)
            twin, engine, _ = print_engine(m, segments)
            strobes, divisions = engine.strobes, engine.divisions
            st = twin.stepper
            motion_us, lines, temps = st.motion_us, st.lines, st.line_temps
            max_on, overburnt = twin.head.max_dots_at_once, twin.paper.overburnt
            violations = st.ramp_violations
            burnt = twin.paper.burnt
            del engine, twin, st
            gc.collect()
            shortest, black_dots = oracle(m, segments, temps)
            del temps
            gc.collect()
            emit("schedule_efficiency", name, round(shortest / motion_us, 3), 0.95, "ratio")
            peer = print_common(m, segments)
            emit(
                "schedule_efficiency_common_fw",
                name,
                round(shortest / peer.clock.now_s() / 1e6, 3),
                None,
                "ratio",
            )
            emit("burnt_fraction", name, round(burnt / black_dots, 4), 1.0, "ratio")
            emit(
                "burnt_fraction_common_fw",
                name,
                round(peer.paper.burnt / black_dots, 4),
                None,
                "ratio",
            )
            emit("max_dots_at_once_common_fw", name, peer.head.max_dots_at_once, None, "dots")
            emit("strobes_per_division", name, round(strobes / divisions, 3), 1.0, "ratio")
            emit("max_dots_at_once", name, max_on, m.MAX_DOTS_AT_ONCE, "dots")
            emit("overburnt_dots", name, overburnt, 0, "dots")
            emit("ramp_violations", name, violations, 0, "steps")
            emit("mm_per_s", name, round(lines * 125 / motion_us * 1000, 1), None, "mm/s")
            if K:
                cpu_us = min(engine_cpu_us(m, segments) for _ in range(5))
                load = cpu_us * K / motion_us
                emit("rp2040_cpu_load", name, round(load, 3), 0.5, "ratio")
            del peer
            gc.collect()
        per_line, locked = allocations(m)
        emit("bytes_allocated_per_line", m.NAME.split()[-1], per_line, 0, "bytes")
        emit("heap_lock_print", m.NAME.split()[-1], 1 if locked else 0, 1, "passed")


if __name__ == "__main__":
    main()
