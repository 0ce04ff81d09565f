"""Engine benchmarks on the mechanism twin, in virtual time, for each mechanism profile and
four receipts (text, dense text, barcode, full raster). Every figure of the engine comes from
what the twin saw on its pins (strobes, latched dots, steps, energy, the time from the first
line's start to the last one's end), never from the engine's own counters:

- schedule efficiency: the limit model's shortest time (boards/mechanisms/limit.py, the
  datasheet equations with the ramp, independent of the engine) over the time the twin took;
  the same for the peer, common firmware as it is written (`Peer`), on the same twin;
- strobes per division: the twin's strobes over sum(ceil(black / cap)) x activations, counted
  from the receipt's own dot lines;
- burnt dots over the receipt's black dots, dots over-burnt, the most dots heated at once,
  steps that broke the ramp and steps faster than the motor's rating;
- CPU load on an RP2040, estimated: the engine's time on the unix port x K / the printing time;
- allocations per dot line, with counting drivers, then proved zero under heap_lock().
"""

# heap: sim
# (the twin and the peer run beside the engine, as on the sim; what the engine allocates is
# measured apart, a dot line at a time and under heap_lock)

import gc
import json
import math
import os
import time
from array import array

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


class Peer:
    """Common firmware as it is written (the P7Core PT48D driver, Adafruit-type drivers, the
    block firing MECHANISMS.md calls the common pattern), given its due: it fires fixed strobe
    blocks - the head's STB blocks one at a time where it has them (64 dots), else equal blocks
    of at most the supply's cap made by masking the data (9 of 42-43 dots on the LTP02) - and
    skips the empty ones; every block of a line gets one pulse, the datasheet's for the line's
    fullest block at the head temperature its thermistor reads and the time since the head
    last fired; each line runs on a ramp entry, the fastest whose steps leave its activations
    time for their blocks, and the motor follows the ramp one entry a step, up and down, from
    a plan over all the lines it holds. What it lacks against the engine: division by the
    black dots, and steps between ramp entries. (The next block's data shifts in under the
    pulse before it, as the twin's sequencer plays every strobe plan.)"""

    def __init__(self, m, twin):
        self.m = m
        self.twin = twin
        b = m.STROBE_BLOCKS
        size = 384 // b if b > 1 and 384 // b <= m.MAX_DOTS_AT_ONCE else 0
        if not size:
            b = (384 + m.MAX_DOTS_AT_ONCE - 1) // m.MAX_DOTS_AT_ONCE
        self.masks = []
        for i in range(b):
            mask = bytearray(48)
            for d in range(384 * i // b, 384 * (i + 1) // b):
                mask[d >> 3] |= 0x80 >> (d & 7)
            self.masks.append(mask)
        self.ramp = m.ramp()
        pps = m.max_pps(m.RATED_MV)
        self.fastest = (1000000 + pps - 1) // pps
        self._times = (0, 0)

    def _groups(self, line, at, out):
        """Mask the line into its non-empty blocks at out[48 g]; (blocks, fullest block)."""
        k = 0
        most = 0
        for mask in self.masks:
            n = 0
            for i in range(48):
                v = line[at + i] & mask[i]
                out[48 * k + i] = v
                while v:
                    v &= v - 1
                    n += 1
            if n:
                k += 1
                most = n if n > most else most
        return k, most

    def _activation(self, k, t):
        m = self.m
        per = t + m.GAP_US if t + m.GAP_US > m.SHIFT_US else m.SHIFT_US
        need = (k - 1) * per + t
        if k == 1 and need < t + m.PAUSE_US:
            need = t + m.PAUSE_US
        return need

    def _pulse(self, most, w_us, temp_c):
        return int(limit.pulse_us(self.m, self.m.RATED_MV, temp_c, w_us, most) + 0.5)

    def plan(self, lines):
        """Per dot line (k, fullest block) in `lines`: each step's ramp position (a bytearray),
        such that every activation's blocks fit its steps, on the ramp."""
        m = self.m
        ramp = self.ramp
        top = len(ramp) - 1
        spa = m.STEPS_PER_LINE // m.ACTIVATIONS_PER_LINE
        n = len(lines) // 2
        caps = bytearray(n)
        for j in range(n):
            k, most = lines[2 * j], lines[2 * j + 1]
            p = self.fastest
            for _ in range(20):  # its speed and its pulse depend on each other
                if not k:
                    break
                need = self._activation(k, self._pulse(most, p * spa, 25))
                if need <= p * spa:
                    break
                p = (need + spa - 1) // spa
            i = top
            while i > 0 and ramp[i] < p:
                i -= 1
            caps[j] = i
        pos = bytearray(n * m.STEPS_PER_LINE)
        for _ in range(4 * top + 10):  # slow the lines whose blocks do not fit, plan again
            self._steps(caps, pos)
            if not self._fix(lines, caps, pos):
                return pos
        raise AssertionError("the peer found no plan")

    def period(self, pos, i):
        p = self.ramp[pos[i]]
        return p if p > self.fastest else self.fastest

    def _steps(self, caps, pos):
        """Each step's ramp position: one more than the step before (from rest) and than the
        step after (to rest), never past its line's own."""
        s = self.m.STEPS_PER_LINE
        n = len(caps)
        f = -1
        for j in range(n * s):
            c = caps[j // s]
            f = c if f + 1 > c else f + 1
            pos[j] = f
        b = -1
        for j in range(n * s - 1, -1, -1):
            b = pos[j] if b + 1 > pos[j] else b + 1
            pos[j] = b

    def _fix(self, lines, caps, pos):
        """Walk the plan's timeline: where an activation's blocks take longer than its steps
        (a cold head after blank lines needs its long pulse), slow that line one ramp entry.
        True if any line was slowed."""
        m = self.m
        s = m.STEPS_PER_LINE
        spa = s // m.ACTIVATIONS_PER_LINE
        t = 0
        last = -100000
        changed = False
        for j in range(len(caps)):
            k, most = lines[2 * j], lines[2 * j + 1]
            for a in range(m.ACTIVATIONS_PER_LINE):
                window = 0
                for i in range(j * s + a * spa, j * s + (a + 1) * spa):
                    window += self.period(pos, i)
                if k:
                    need = self._activation(k, self._pulse(most, t - last, 25))
                    if need > window and caps[j] > 0:
                        caps[j] -= 1
                        changed = True
                    last = t
                t += window
        return changed

    def print(self, segments):
        m = self.m
        s = m.STEPS_PER_LINE
        lines = bytearray()
        buf = bytearray(48 * len(self.masks))
        for band, repeats, feed in segments:
            for _ in range(repeats):
                for j in range(len(band) // 48):
                    k, most = self._groups(band, j * 48, buf)
                    lines.append(k)
                    lines.append(most)
                for _ in range(feed):
                    lines.extend(b"\x00\x00")
        for _ in range(TEAR):
            lines.extend(b"\x00\x00")
        gc.collect()
        periods = self.plan(lines)
        del lines
        gc.collect()
        steps = array("H", [0] * s)
        j = 0
        for band, repeats, feed in segments:
            for _ in range(repeats):
                for r in range(len(band) // 48):
                    self._line(band, r * 48, j, periods, steps, buf)
                    j += 1
                for _ in range(feed):
                    self._line(None, 0, j, periods, steps, buf)
                    j += 1
        for _ in range(TEAR):
            self._line(None, 0, j, periods, steps, buf)
            j += 1

    def _line(self, band, at, j, periods, steps, buf):
        m = self.m
        s = m.STEPS_PER_LINE
        a = m.ACTIVATIONS_PER_LINE
        spa = s // a
        twin = self.twin
        t, last = self._times
        line_us = 0
        for i in range(s):
            p = self.period(periods, j * s + i)
            steps[i] = p
            line_us += p
        k = 0
        if band is not None:
            k, most = self._groups(band, at, buf)
        if k:
            # the thermistor, read through its B equation, as the firmware reads it
            ohms = twin.sensors.head_ohms()
            temp = 1 / (1 / 298.15 + math.log(ohms / m.THERMISTOR_R25) / m.THERMISTOR_B) - 273.15
            w1 = 0
            for i in range(spa):
                w1 += steps[i]
            first = self._pulse(most, t - last, temp)
            later = self._pulse(most, w1, temp)
            twin.seq.fire(buf, k, first, later, a, w1)
            last = t + line_us - (line_us - w1) // (a - 1) if a > 1 else t
        twin.seq.run(s, line_us, steps, 0)
        twin.clock.advance(line_us)
        self._times = (t + line_us, last)


def print_common(m, segments):
    twin = Twin(m)
    Peer(m, twin).print(segments)
    twin.close()
    return twin


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
    least = 0  # strobes: ceil(black / cap) each activation
    cap = m.MAX_DOTS_AT_ONCE
    for n in counts:
        total += n
        least += (n + cap - 1) // cap * m.ACTIVATIONS_PER_LINE
    return limit.shortest_time_us(m, m.RATED_MV, counts, heat, cap), total, least


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


def observed(twin):
    """What the twin saw: (time from the first line's start to the last one's end, dot lines,
    strobes, most dots at once, burnt, over-burnt, ramp violations, steps over the rating)."""
    st = twin.stepper
    return (
        twin.seq.elapsed_us(),
        st.lines,
        twin.head.strobes,
        twin.head.max_dots_at_once,
        twin.paper.burnt,
        twin.paper.overburnt,
        st.ramp_violations,
        st.overspeed_steps,
    )


def main():
    cases = receipts()
    for m in (ltp02_245, jx_2r_01, pt486f_b):
        for case, segments in cases:
            name = "%s %s" % (m.NAME.split()[-1], case)
            twin, engine, _ = print_engine(m, segments)
            temps = twin.stepper.line_temps
            ours = observed(twin)
            del engine, twin
            gc.collect()
            shortest, black_dots, least = oracle(m, segments, temps)
            del temps
            gc.collect()
            peer = observed(print_common(m, segments))
            gc.collect()
            elapsed, lines, strobes, most, burnt, over, ramp, fast = ours
            emit("schedule_efficiency", name, round(shortest / elapsed, 3), 0.95, "ratio")
            emit("schedule_efficiency_peer", name, round(shortest / peer[0], 3), None, "ratio")
            emit("speedup_over_peer", name, round(peer[0] / elapsed, 2), None, "x")
            emit("strobes_per_division", name, round(strobes / least, 3), 1.0, "ratio")
            emit("strobes_per_division_peer", name, round(peer[2] / least, 3), None, "ratio")
            emit("burnt_fraction", name, round(burnt / black_dots, 4), 1.0, "ratio")
            emit("burnt_fraction_peer", name, round(peer[4] / black_dots, 4), None, "ratio")
            emit("overburnt_dots", name, over, 0, "dots")
            emit("overburnt_dots_peer", name, peer[5], None, "dots")
            emit("max_dots_at_once", name, most, m.MAX_DOTS_AT_ONCE, "dots")
            emit("max_dots_at_once_peer", name, peer[3], m.MAX_DOTS_AT_ONCE, "dots")
            emit("ramp_violations", name, ramp, 0, "steps")
            emit("ramp_violations_peer", name, peer[6], 0, "steps")
            emit("overspeed_steps", name, fast, 0, "steps")
            emit("overspeed_steps_peer", name, peer[7], 0, "steps")
            emit("mm_per_s", name, round(lines * 125 / elapsed * 1000, 1), None, "mm/s")
            if K:
                cpu_us = min(engine_cpu_us(m, segments) for _ in range(5))
                emit("rp2040_cpu_load", name, round(cpu_us * K / elapsed, 3), 0.5, "ratio")
            gc.collect()
        per_line, locked = allocations(m)
        emit("bytes_allocated_per_line", m.NAME.split()[-1], per_line, 0, "bytes")
        emit("heap_lock_print", m.NAME.split()[-1], 1 if locked else 0, 1, "passed")


if __name__ == "__main__":
    main()
