"""The engine: dot-line queue, pulse formula, strobe division, ramp, faults, and no allocation
while printing. Runs on the sim's twin or on counting drivers, in virtual time."""

import asyncio
import gc
import os
from array import array

import micropython

from mechanisms import jx_2r_01, ltp02_245, pt486f_b
from sim.clock import VirtualClock
from sim.mechanism import Head, Paper, Sensors, Stepper, Supply, TearBar
from sim.sequencer import Sequencer
from tillroll.engine import status as st
from tillroll.engine.dot_queue import END, FEED, LINE, DotQueue
from tillroll.engine.engine import Engine
from tillroll.engine.heat import Heat
from tillroll.engine.strobe import lookahead, split

OUT = "/tmp/tillroll-mp-engine"


class Twin:
    """The sim board's mechanism twin, without its links."""

    def __init__(self, m=ltp02_245):
        try:
            os.mkdir(OUT)
        except OSError:
            pass
        self.clock = VirtualClock()
        self.supply = Supply(m.RATED_MV)
        self.paper = Paper(OUT, m.ACTIVATIONS_PER_LINE)
        self.head = Head(m, self.paper, self.supply, self.clock)
        self.stepper = Stepper(m, self.paper, self.head, self.supply)
        self.seq = Sequencer(self.head, self.stepper, self.clock, m)
        self.sensors = Sensors(self.head, self.paper, self.supply)
        self.torn = []
        self.tear = TearBar(self.paper, self.torn.append)
        self.m = m

    def engine(self, slots=64):
        return Engine(self.seq, self.seq, self.tear, self.sensors, self.clock, self.m, slots)


class Counting:
    """Drivers that only count, allocating nothing: the heap-lock test's hardware."""

    def __init__(self):
        self.fired = 0
        self.steps = 0
        self.torn = 0

    def fire(self, groups, k, first_us, pulse_us, activations, window_us):
        self.fired += k * activations

    def run(self, steps, line_us, periods=None, at=0):
        self.steps += steps

    def tear_off(self):
        self.torn += 1

    def supply_mv(self):
        return 8500

    def head_ohms(self):
        return 30000

    def paper(self):
        return True

    def cover_closed(self):
        return True


def run(engine, produce):
    async def main():
        task = asyncio.create_task(engine.run())
        await produce()
        await engine.drain()
        task.cancel()

    asyncio.run(main())


def near(got, want, tolerance):
    assert abs(got - want) <= want * tolerance, "%s not within %s of %s" % (got, tolerance, want)


# ---- the datasheet formula ------------------------------------------------------------------


def test_pulse_matches_the_ltp02_datasheet_table():
    # TR Table 3-13, 45 dots at once, W' = two motor steps.
    heat = Heat(ltp02_245)
    for vp, temp, pps, ms in (
        (8.5, 20, 640, 0.545),
        (8.5, 20, 3200, 0.234),
        (5.5, 20, 640, 1.367),
    ):
        heat.set_supply(int(vp * 1000))
        heat.set_temp_c(temp)
        near(heat.pulse_us(45, 2000000 // pps), ms * 1000, 0.01)


def test_pulse_is_longer_on_a_cold_head_and_a_low_supply():
    heat = Heat(ltp02_245)
    heat.set_supply(8500)
    heat.set_temp_c(5)
    cold = heat.pulse_us(45, 625)
    heat.set_temp_c(45)
    warm = heat.pulse_us(45, 625)
    heat.set_supply(6000)
    low = heat.pulse_us(45, 625)
    assert cold > warm and low > warm, (cold, warm, low)


def test_pulse_never_passes_the_hard_bound():
    heat = Heat(ltp02_245)
    heat.set_supply(3000)
    heat.set_temp_c(-40)
    heat.density = 150
    assert heat.pulse_us(45, 50000) == ltp02_245.MAX_PULSE_US


def test_other_heads_match_their_recommended_pulse():
    # JX-2R-01: 0.13 mJ (0.49 ms) at 25 C, 7.2 V, 64 dots; PT486F-B 0.18 mJ (0.70 ms).
    for m, ms in ((jx_2r_01, 0.49), (pt486f_b, 0.70)):
        heat = Heat(m)
        heat.set_supply(7200)
        heat.set_temp_c(25)
        near(heat.pulse_us(64, 2000), ms * 1000, 0.06)


def test_thermistor_reading_gives_the_head_temperature():
    heat = Heat(ltp02_245)
    heat.set_head_ohms(30000)
    assert heat.temp_c == 25
    heat.set_head_ohms(5270)  # the TR's 70 C stop point
    assert heat.temp_c == 70, heat.temp_c


# ---- strobe division and the ramp -----------------------------------------------------------


def test_a_line_splits_into_the_fewest_groups_under_the_cap():
    line = bytearray(b"\xff" * 48)  # 384 dots
    out = bytearray(48 * 10)
    k = split(line, 0, out, 43)  # ceil(384 / 45) = 9 groups of at most 43
    assert k == 9
    seen = bytearray(48)
    for g in range(k):
        dots = 0
        for i in range(48):
            b = out[g * 48 + i]
            assert not (seen[i] & b), "a dot fired twice"
            seen[i] |= b
            while b:
                b &= b - 1
                dots += 1
        assert dots <= 45
    assert seen == line


def test_a_blank_line_needs_no_strobe():
    assert split(bytearray(48), 0, bytearray(48), 45) == 0


def test_lookahead_slows_down_in_time_for_a_dense_line():
    q = DotQueue(8)
    blank = bytearray(48)
    solid = bytearray(b"\xff" * 48)
    for _ in range(3):
        q.push_line(blank, 0)
    q.push_line(solid, 0)
    for _ in range(4):
        q.push_line(blank, 0)
    arrive = bytearray(49)  # by black dots, 8 a bucket: where the step before may be
    arrive[0] = 91  # blank lines may run at position 90
    for b in range(1, 49):
        arrive[b] = 6  # solid (384 dots, bucket 48) only at position 5
    # the solid line is 3 lines ahead: 4 steps a line, one position a step; the bound is the
    # current line's last step
    assert lookahead(q.buffer, 0, len(q), 8, arrive, 4, 25) == 5 + 2 * 4 + 1
    # with nothing after it, the motor must come to rest after the last line
    assert lookahead(q.buffer, 0, 3, 8, arrive, 4, 25) == 2 * 4


def test_the_motor_follows_the_ramp_line_by_line():
    t = Twin()
    periods = []
    run_line = t.seq.run

    def recorded(steps, line_us, step_us=None, at=0):
        periods.append(line_us)
        run_line(steps, line_us, step_us, at)

    t.seq.run = recorded
    engine = t.engine()
    ramp = ltp02_245.ramp()
    line = bytearray(48)
    line[0] = 0x80

    async def produce():
        for _ in range(60):
            while engine.free() < 2:
                await engine.wait_space()
            engine.push_line(line, 0)
        engine.end_receipt()

    run(engine, produce)
    # Starts at the ramp's slow end, speeds up one position a step, never skips one.
    first = periods[:3]
    assert first[0] == sum(ramp[0:4]), first
    assert first[0] > first[1] > first[2]
    assert periods[-1] >= ramp[0]  # and comes to rest at the slow end
    assert t.stepper.lost_steps == 0


def print_with_gaps(m):
    """120 dot lines, dithered raster between blank lines and text rows with ESC J feeds,
    on the twin; return it, the engine and the black dots sent."""
    dither = bytearray(48)
    for i in range(0, 48, 2):
        dither[i] = 0x88  # 48 dots
    text = bytearray(48)
    for i in range(4, 40):
        text[i] = 0x3C  # 144 dots
    blank = bytearray(48)
    t = Twin(m)
    engine = t.engine()
    sent = [0]

    async def produce():
        for i in range(120):
            while engine.free() < 4:
                await engine.wait_space()
            if i % 3 == 0:
                engine.push_line(dither, 0)
                sent[0] += 48
            elif i % 20 < 10:
                engine.push_line(text, 0)
                sent[0] += 144
            else:
                engine.push_line(blank, 0)
            if i % 20 == 19:
                engine.feed(6)  # ESC J
        engine.feed(24)
        engine.end_receipt()

    run(engine, produce)
    return t, engine, sent[0]


def test_blank_gaps_between_black_lines_keep_to_the_ramp_and_stay_blank():
    # On every head the motor never changes speed faster than the ramp nor steps faster than
    # its rating, every black dot burns (after a gap the head has cooled, and the black line's
    # first pulse is longer), and the blank rows stay blank: the dots burnt are the dots sent.
    for m in (ltp02_245, jx_2r_01, pt486f_b):
        t, engine, sent = print_with_gaps(m)
        assert t.stepper.ramp_violations == 0, (m.NAME, t.stepper.ramp_violations)
        assert t.stepper.overspeed_steps == 0 and t.stepper.lost_steps == 0
        assert t.paper.overburnt == 0
        assert t.paper.burnt == sent, (m.NAME, t.paper.burnt, sent)
        t.paper.close()
        del t, engine  # one module's twin and engine at a time, as on a board
        gc.collect()


# ---- through the twin -----------------------------------------------------------------------


def test_lines_feeds_and_tear_off_reach_the_paper():
    t = Twin()
    engine = t.engine(slots=16)
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
    assert t.stepper.steps == 50 * ltp02_245.STEPS_PER_LINE
    assert t.paper.burnt == 80, t.paper.burnt  # every dot burnt, none faded
    assert t.paper.overburnt == 0
    assert len(t.torn) == 1
    with open(t.torn[0], "rb") as f:
        png = f.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[16:24] == b"\x00\x00\x01\x80\x00\x00\x00\x32"  # 384 x 50


def test_a_solid_block_never_heats_more_dots_than_the_cap():
    t = Twin()
    engine = t.engine()
    solid = bytearray(b"\xff" * 48)

    async def produce():
        for _ in range(100):
            while engine.free() < 2:
                await engine.wait_space()
            engine.push_line(solid, 0)
        engine.end_receipt()

    run(engine, produce)
    assert t.head.max_dots_at_once <= ltp02_245.MAX_DOTS_AT_ONCE
    assert engine.strobes == engine.divisions  # ceil(384 / 45) a activation, no more
    assert t.paper.burnt == 100 * 384 and t.paper.overburnt == 0


def test_paper_out_stops_and_keeps_the_lines_until_paper_is_loaded():
    t = Twin()
    engine = t.engine()
    line = bytearray(b"\x0f" * 48)
    t.paper.remaining = 30

    async def produce():
        for _ in range(50):
            while engine.free() < 2:
                await engine.wait_space()
            engine.push_line(line, 0)
        engine.end_receipt()
        while not engine.status.flags & st.PAPER_OUT:
            await asyncio.sleep_ms(0)
        assert engine.status.line == 30 and engine.lines_printed == 30
        assert len(engine.queue) == 21  # 20 lines and the end, kept
        t.paper.remaining = 1000  # loaded

    run(engine, produce)
    assert engine.lines_printed == 50 and t.stepper.lines == 50
    assert not engine.status.flags & st.PAPER_OUT


def test_a_low_supply_lowers_dots_at_once_then_stops():
    t = Twin()
    engine = t.engine()
    solid = bytearray(b"\xff" * 48)
    t.supply.mv = 5200  # below the LTP02's 5.5 V

    async def produce():
        for _ in range(10):
            engine.push_line(solid, 0)
        await engine.drain()
        assert engine.status.flags & st.LOW_SUPPLY
        assert t.head.max_dots_at_once <= ltp02_245.MAX_DOTS_AT_ONCE // 2
        t.supply.mv = 4000
        engine.push_line(solid, 0)
        while not engine.status.flags & st.UNDERVOLTAGE:
            await asyncio.sleep_ms(0)
        assert engine.lines_printed == 10
        t.supply.mv = 8500

    run(engine, produce)
    assert engine.lines_printed == 11


# ---- head faults: the current each strobe draws ---------------------------------------------


def text_like():
    """A line with dots across the whole head, as a row of text has (96 dots)."""
    line = bytearray(48)
    for i in range(48):
        line[i] = 0x11
    return line


def print_with_fault(t, engine, lines, line, fault, mend):
    """Print `lines` copies of `line`; break the head with `fault()` after a third of them;
    once the engine stops for it, check what it kept and mend it with `mend()`."""

    async def produce():
        for i in range(lines):
            if i == lines // 3:
                await engine.drain()
                fault()
            while engine.free() < 2:
                await engine.wait_space()
            engine.push_line(line, 0)
        engine.end_receipt()
        while not engine.status.flags & st.HEAD_FAULT:
            await asyncio.sleep_ms(0)
        assert engine.status.stopped() and engine.status.names() == ["head_fault"]
        assert engine.lines_printed == lines // 3  # the line that came out blank is kept
        assert len(engine.queue) == lines - lines // 3 + 1  # and every line after it, the end
        for _ in range(3):  # it stays stopped while the head is broken, checking it now and then
            await asyncio.sleep_ms(0)
            t.clock.advance(600000)
        assert engine.status.flags & st.HEAD_FAULT and engine.lines_printed == lines // 3
        assert t.head.probes > 0
        mend()

    run(engine, produce)
    assert engine.lines_printed == lines and not engine.status.flags
    assert engine.pauses == 1


def test_a_head_whose_cable_is_off_stops_printing_until_it_is_seated():
    t = Twin()
    engine = t.engine()

    def off():
        t.head.cable = False

    def on():
        t.head.cable = True

    print_with_fault(t, engine, 30, text_like(), off, on)
    assert engine.head_sense.dead_count == 0  # mapped again as the fault cleared: all alive


def test_a_dead_element_group_stops_printing_and_is_mapped():
    t = Twin()
    engine = t.engine()
    dead = t.head.dead

    def kill():
        for i in range(8, 16):  # elements 64-127: a driver group
            dead[i] = 0xFF

    def mend():
        assert engine.dead_ranges() == [[64, 127]]  # mapped as the fault began
        for i in range(8, 16):
            dead[i] = 0

    print_with_fault(t, engine, 30, text_like(), kill, mend)


def test_one_dead_element_prints_on_and_a_missing_supply_is_no_head_fault():
    t = Twin()
    engine = t.engine()
    t.head.dead[5] = 0x10  # element 43: a streak for the self-test, not a stop
    solid = bytearray(b"\xff" * 48)

    async def produce():
        for _ in range(10):
            engine.push_line(solid, 0)
        await engine.drain()
        assert not engine.status.flags
        t.supply.mv = 0  # strobes draw nothing, but the supply says why
        engine.push_line(solid, 0)
        while not engine.status.stopped():
            await asyncio.sleep_ms(0)
        assert engine.status.names() == ["no_supply"]
        t.supply.mv = 8500

    run(engine, produce)
    assert engine.lines_printed == 11 and not engine.status.flags


def test_the_head_check_pulses_leave_no_mark():
    from tillroll.engine.head_check import head_ok

    t = Twin()
    engine = t.engine()
    assert engine.map_elements() is not None and engine.head_sense.dead_count == 0
    for _ in range(20):  # a fault held for ten seconds: twenty checks of the whole head
        assert head_ok(engine.head_sense)
        t.clock.advance(500000)
    engine.feed(2)
    run(engine, engine.drain)
    assert t.paper.burnt == 0 and t.head.probes == 384 + 20 * 12


# ---- no allocation --------------------------------------------------------------------------


def test_printing_dot_lines_allocates_nothing_in_steady_state():
    hw = Counting()
    engine = Engine(hw, hw, hw, hw, VirtualClock(), ltp02_245, 64)
    text = bytearray(48)
    for i in range(0, 48, 3):
        text[i] = 0xAA
    solid = bytearray(b"\xff" * 48)

    async def produce():
        for _ in range(8):  # warm up: first passes through every path
            engine.push_line(text, 0)
            engine.push_line(solid, 0)
        engine.feed(3)
        await engine.drain()
        # Producer and engine both run under the lock: queueing, the engine task with its
        # planning, division and pulse arithmetic, the drivers and the scheduler between them.
        micropython.heap_lock()
        try:
            for _ in range(24):
                engine.push_line(text, 0)
                engine.push_line(solid, 0)
            engine.feed(5)
            engine.end_receipt()
            while len(engine.queue):
                await asyncio.sleep_ms(0)  # a singleton: waiting on it allocates nothing
        finally:
            micropython.heap_unlock()

    run(engine, produce)
    assert engine.lines_printed == 64
    assert hw.torn == 1
    assert hw.fired == engine.strobes > 0


class Sensing(Counting):
    """Counting drivers that sense the head's current as the sim's do: a sample a strobe."""

    def __init__(self):
        super().__init__()
        self.sense = array("H", [0] * 256)
        self.sensed = 0
        self._k = 0

    def fire(self, groups, k, first_us, pulse_us, activations, window_us):
        self.fired += k * activations
        self._k = k * activations

    def run(self, steps, line_us, periods=None, at=0):
        self.steps += steps
        for _ in range(self._k):
            self.sense[self.sensed & 255] = 0xFFFF  # plenty: never short
            self.sensed = (self.sensed + 1) & 0xFFFF
        self._k = 0


def test_sensing_the_head_current_allocates_nothing_either():
    hw = Sensing()
    engine = Engine(hw, hw, hw, hw, VirtualClock(), ltp02_245, 64)
    text = text_like()
    solid = bytearray(b"\xff" * 48)

    async def produce():
        for _ in range(8):
            engine.push_line(text, 0)
            engine.push_line(solid, 0)
        await engine.drain()
        micropython.heap_lock()
        try:
            for _ in range(24):
                engine.push_line(text, 0)
                engine.push_line(solid, 0)
            engine.end_receipt()
            while len(engine.queue):
                await asyncio.sleep_ms(0)
        finally:
            micropython.heap_unlock()

    run(engine, produce)
    assert engine.lines_printed == 64 and not engine.status.flags
    assert hw.sensed == hw.fired == engine.strobes > 0


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
        kinds.append(buf[at])
        if buf[at] == LINE:
            assert bytes(buf[at + 3 : at + 51]) == bytes(line)
        q.pop()
    assert kinds == [LINE, FEED, END]


def test_a_full_queue_refuses_rather_than_overwrites():
    q = DotQueue(2)
    q.push(FEED, 1)
    q.push(FEED, 2)
    try:
        q.push(FEED, 3)
    except OverflowError:
        return
    raise AssertionError("a third slot went into a queue of two")


def test_esc_7_and_a_low_supply_never_split_past_the_group_buffers():
    # ESC 7 n1 = 0 asks for 8 dots at once; with a sagging supply on top, a solid line would
    # need 96 sub-strobes. The engine keeps to a floor of a quarter of the cap.
    t = Twin()
    engine = t.engine()
    engine.set_max_dots(8)
    t.supply.mv = 5200
    solid = bytearray(b"\xff" * 48)

    async def produce():
        for _ in range(6):
            engine.push_line(solid, 0)
        engine.end_receipt()

    run(engine, produce)
    assert engine.lines_printed == 6
    floor = (ltp02_245.MAX_DOTS_AT_ONCE + 3) // 4
    assert floor - 1 <= t.head.max_dots_at_once <= floor + 1
    assert t.paper.burnt == 6 * 384


def test_the_twin_counts_steps_faster_or_slower_than_the_ramp():
    t = Twin()
    ramp = ltp02_245.ramp()
    stepper = t.stepper
    for p in ramp[:10]:  # along the ramp from rest: a motor keeps up
        stepper.step(p)
    for p in reversed(ramp[:10]):  # and back down it
        stepper.step(p)
    assert stepper.ramp_violations == 0
    stepper.rest()
    stepper.step(ramp[5])  # from rest straight to the sixth entry
    stepper.step(ramp[5])
    stepper.step(ramp[9])  # four entries at once
    stepper.step(ramp[2])  # and slowing by seven
    assert stepper.ramp_violations == 3
    assert stepper.lost_steps == 0  # none is faster than the supply allows: only the ramp says
