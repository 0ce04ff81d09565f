# pyright: reportUndefinedVariable=false
"""The engine: takes dot lines off the queue and drives the head, the motor and the tear-off.

The hardware comes in from the board (`head`, `motor`, `tear`, `sensors`) with the clock and the
mechanism's datasheet profile; the engine never builds a pin itself. For each dot line it:

- reads the sensors and stops (keeping every unprinted line) on paper out, cover open, head
  over temperature, or a supply too low to print; it resumes by itself when the fault clears;
- splits the line into the fewest sub-strobes that keep the dots heated at once under the cap;
- picks the motor's speed: as fast as the ramp allows, no faster than heating the line needs,
  and slow enough to decelerate in time for any denser line in the look-ahead window;
- computes the pulse from supply, head temperature and heat history (the first activation after
  a pause gets the longer pulse a cooled head needs, the line runs slow enough for it, and the
  look-ahead slows the motor in time for such lines ahead), and hands
  the head driver the line's strobe plan and the motor its steps; the driver shifts each group
  while the one before it heats, so the next data is ready when the current pulse ends.

Nothing here allocates once printing runs (tests/firmware/mp_engine.py proves it under
micropython.heap_lock()).
"""

import asyncio
from array import array

from ..native import load
from . import status as st
from .dot_queue import END, FEED, DotQueue, free, put_line  # noqa: F401  # pyright: ignore[reportAttributeAccessIssue]  (put_line: engine.vpy)
from .heat import T_MIN, Heat, pulse  # noqa: F401  # pyright: ignore[reportAttributeAccessIssue]  (engine.vpy)
from .sense import HeadSense
from .strobe import lookahead, sense_line, split  # noqa: F401  # pyright: ignore[reportAttributeAccessIssue]

load(__file__, globals())  # its hot loops: engine.vpy

_ARG_MAX = const(0xFFFF)
_LINE_BYTES = const(48)
_SLOT = const(51)
_POLL_US = const(10000)  # while stopped, look at the sensors this often
_SUPPLY_STEP_MV = const(50)  # re-plan when the supply moved this much
_NO_SUPPLY_MV = const(1000)
_CHECK_US = const(5000)  # supply and thermistor are read this often while printing
_IDLE_US = const(60000)  # longer than any heat history
_AHEAD_US = const(5000)  # how far the engine plans ahead of the mechanism
_BUCKETS = const(49)  # 0, 1-8, 9-16, ... 377-384 black dots
# The engine's per-line state and counters, in one array its native code reads (engine.vpy
# names them the same). None is below zero: a ptr32 reads its word zero-extended on a 64-bit
# port.
_RAMP = const(0)  # ramp position of the last step + 1 (the slower entry bracketing it); 0: at rest
_IDLE = const(1)  # us since the head's last activation began
_SINCE = const(2)  # us since the supply and thermistor were read
_FLIP = const(3)  # the next group buffer
_CAP = const(4)  # dots heated at once now
_CAP_MAX = const(5)
_S = const(6)  # steps a dot line
_A = const(7)  # activations a dot line
_GAP = const(8)
_SHIFT = const(9)
_PAUSE = const(10)
_WINDOW = const(11)  # look-ahead, in lines
_GROUPS = const(12)  # group buffers
_PRINTED = const(13)
_FED = const(14)
_STROBES = const(15)
_DIVISIONS = const(16)
_PULSE = const(17)
_LINE_US = const(18)
_MIN_MV = const(19)  # the profile's supply range starts here
_STOP_C = const(20)  # head temperatures + 40 (T_MIN): the thermistor table's index
_RESUME_C = const(21)
_LOW_WATER = const(22)  # producers are woken once this many slots are free
_STEP_AT = const(23)  # where the next line's step periods go in _steps
_HALF = const(24)  # 1: the last step lay between the ramp entries _RAMP - 1 and _RAMP
_LAST = const(25)  # the last step's period (us); 0: at rest
_FLOOR = const(26)  # no step is faster than this (supply, speed setting)
_SENSE = const(27)  # head current sensed: the sample ring's length - 1; 0: not sensed
_PLANNED = const(28)  # strobes whose least current is noted (mod 2^16)
_CHECKED = const(29)  # strobes whose sample was compared (mod 2^16)
_STATE = const(30)
_PROBE_EVERY_US = const(500000)  # while a head fault holds, the head is checked this often


class Engine:
    def __init__(self, head, motor, tear, sensors, clock, mechanism, slots: int = 256):
        m = mechanism
        self.queue = DotQueue(slots)
        self.status = st.Status()
        self.mechanism = m
        self._head = head
        self._motor = motor
        self._tear = tear
        self._sensors = sensors
        self._clock = clock
        self.heat = Heat(m)
        self._ring = self.queue.ring
        self._qbuf = self.queue.buffer
        self._st = array("i", [0] * _STATE)
        state = self._st
        state[_S] = m.STEPS_PER_LINE
        state[_A] = m.ACTIVATIONS_PER_LINE
        state[_GAP] = m.GAP_US
        state[_SHIFT] = m.SHIFT_US
        state[_PAUSE] = m.PAUSE_US
        self._cap_max = m.MAX_DOTS_AT_ONCE
        state[_CAP_MAX] = state[_CAP] = self._cap_max
        self._user_cap = self._cap_max  # ESC 7 n1
        # The fewest dots at once ever used (ESC 7 and a sagging supply together): it bounds
        # the sub-strobes of a line, and so the group buffers.
        self._cap_floor = (self._cap_max + 3) // 4
        state[_STOP_C] = m.STOP_C - T_MIN
        state[_RESUME_C] = m.RESUME_C - T_MIN
        state[_MIN_MV] = m.SUPPLY_MIN_MV
        self._min_mv = m.SUPPLY_MIN_MV
        state[_LOW_WATER] = slots // 4
        self._ramp = array("H", m.ramp())
        self._top = len(self._ramp) - 1
        # Periods round up: a step a fraction of a microsecond short is faster than the rating.
        pps = m.max_pps(m.RATED_MV)
        self._rated_step_us = (1000000 + pps - 1) // pps
        s = m.STEPS_PER_LINE
        state[_WINDOW] = (len(self._ramp) + s - 1) // s + 1
        kmax = (m.DOTS + self._cap_floor - 1) // self._cap_floor
        # By black dots in buckets of 8: the furthest ramp position, the furthest position
        # the step before such a line may be at, and the slowest step (us) heating it needs.
        self._caps = bytearray(_BUCKETS)
        self._arrive = bytearray(_BUCKETS)
        self._need = array("H", [0] * _BUCKETS)
        # The head driver reads a line's group lines until that line is done, and the engine
        # plans up to _AHEAD_US ahead: one buffer for each line that can be in flight.
        in_flight = _AHEAD_US // (s * self._ramp[self._top]) + 2
        self._groups = [bytearray(_LINE_BYTES * kmax) for _ in range(in_flight)]
        state[_GROUPS] = in_flight
        # Each line's step periods for the motor driver, which plays them step by step: the
        # speed follows the ramp within a line too. A line's periods stay put while in flight.
        self._steps = array("H", [0] * (in_flight * s))
        state[_RAMP] = 0
        state[_IDLE] = _IDLE_US
        state[_SINCE] = _CHECK_US
        # Head current (sense.py): on a board whose head driver senses it.
        self.head_sense = None
        if getattr(head, "sense", None) is not None:
            self.head_sense = HeadSense(head, m)
        hs = self.head_sense
        small = array("H", (0, 0))
        self._samples = hs.samples if hs else small
        self._expect = hs.expect if hs else small
        self._floor_ma = hs.floor_ma if hs else small
        self._probe_wait = _PROBE_EVERY_US
        self._mapped = False
        self.sensing(True)
        self._floor_us = 0  # no step is faster than this (supply, speed setting)
        self._planned_mv = -1000
        self._planned_t = -1000
        self.speed = 100  # per cent of the rated speed
        # Per cent of `speed` the board's CPU keeps up with: lowered each time the mechanism
        # stood because no line was ready (a stall), raised again after a receipt without one.
        self.pace = 100
        self.stalls = 0  # times the mechanism stood, waiting for the CPU
        self._stalled = False  # in this receipt
        self._stands = getattr(motor, "standing", None)  # a driver that knows the motor stands
        self._work = asyncio.Event()
        self._space = asyncio.Event()
        # Counters, read by tests, benchmarks and the self-test page (more below, in _st).
        self.receipts = 0
        self.pauses = 0  # times printing stopped for a fault
        self.cleared = 0  # units dropped unprinted by clear()

    @property
    def lines_printed(self) -> int:
        return self._st[_PRINTED]

    @property
    def lines_fed(self) -> int:
        return self._st[_FED]

    @property
    def strobes(self) -> int:
        """Sub-strobes, summed over activations."""
        return self._st[_STROBES]

    @property
    def divisions(self) -> int:
        """Sum of ceil(black / cap) a line: the least possible strobes."""
        return self._st[_DIVISIONS]

    @property
    def pulse_us(self) -> int:
        """The last pulse."""
        return self._st[_PULSE]

    @property
    def line_us(self) -> int:
        """The last dot line."""
        return self._st[_LINE_US]

    # ---- producer side (renderer) ---------------------------------------------------------

    free = free  # native: dot_queue.vpy (it reads self._ring, the queue's own)

    push_line = push_line  # native: engine.vpy

    def feed(self, dots: int):
        while dots > 0:
            n = dots if dots < _ARG_MAX else _ARG_MAX
            self.queue.push(FEED, n)
            dots -= n
        self._work.set()

    def end_receipt(self):
        self.queue.push(END, 0)
        self._work.set()

    def done(self) -> int:
        """Units of work finished: dot lines printed, lines fed, tear-offs, and units
        cleared unprinted. Replies and the journal wait for this to reach a target."""
        return self.lines_printed + self.lines_fed + self.receipts + self.cleared

    def pushed(self) -> int:
        """Units done plus those still in the queue: the target of everything queued."""
        return self.done() + self._queued_units()

    def _queued_units(self) -> int:
        q = self.queue
        buf = q.buffer
        slots = q.slots
        i = q.peek() // _SLOT
        total = 0
        for _ in range(len(q)):
            at = i * _SLOT
            total += (buf[at + 1] | buf[at + 2] << 8) if buf[at] == FEED else 1
            i += 1
            if i == slots:
                i = 0
        return total

    def clear(self):
        """Drop every queued line unprinted (the host cleared the print buffer); they count
        as done, so nothing waits for them."""
        self.cleared += self._queued_units()
        self.queue.clear()
        self._space.set()

    async def wait_space(self):
        """Return once a quarter of the queue is free (or it emptied, was cleared, or a
        receipt was torn off): a producer wakes for a run of lines, not for each one."""
        self._space.clear()
        await self._space.wait()

    async def drain(self):
        """Return once every queued line has been printed."""
        while len(self.queue):
            await self.wait_space()

    # ---- settings -------------------------------------------------------------------------

    def set_density(self, percent: int):
        """Heat energy in per cent of the datasheet's (50 to 150)."""
        self.heat.density = 50 if percent < 50 else (150 if percent > 150 else percent)
        self._planned_mv = -1000

    def set_speed(self, percent: int):
        """Top speed in per cent of the mechanism's rated speed (10 to 100)."""
        self.speed = 10 if percent < 10 else (100 if percent > 100 else percent)
        self._planned_mv = -1000

    def set_max_dots(self, dots: int):
        """ESC 7 n1: fewer dots heated at once than the mechanism allows (a weak supply), down
        to half of them."""
        half = self._cap_max // 2
        self._user_cap = (
            self._cap_max if dots >= self._cap_max else (dots if dots > half else half)
        )
        self._planned_mv = -1000

    # ---- planning -------------------------------------------------------------------------

    def _plan(self, mv: int):
        """Speed limits for the present supply and head temperature: for each bucket of 8
        black dots, the slowest step heating such a line needs (at the bucket's most dots,
        shared evenly among its sub-strobes), the furthest ramp position for it (the line
        cruises at exactly that step when it lies between two ramp entries) and the furthest
        position the step before it may be at."""
        m = self.mechanism
        heat = self.heat
        heat.set_supply(mv)
        self._planned_mv = mv
        self._planned_t = heat.temp_c
        cap = self._user_cap
        if mv < self._min_mv:
            cap >>= 1  # a sagging supply: halve the current drawn
        if cap < self._cap_floor:
            cap = self._cap_floor
        self._st[_CAP] = cap
        if self.head_sense is not None:
            self.head_sense.currents(mv)
        pps = m.max_pps(mv)
        floor = (1000000 + pps - 1) // pps if pps > 0 else 65535
        slowest = self._rated_step_us * 10000 // (self.speed * self.pace)
        if slowest > floor:
            floor = slowest
        self._floor_us = floor
        self._st[_FLOOR] = floor
        for b in range(_BUCKETS):
            step = floor
            if b:
                # The bucket's most dots, and the most it has in one group fewer when it
                # straddles a multiple of the cap (one group keeps the pause rule, which can
                # need more time than two): the slower of the two.
                most = 8 * b
                k = (most + cap - 1) // cap
                step = self._step_for(most, cap, step)
                fewer = (k - 1) * cap
                if k > 1 and fewer > most - 8:
                    step = self._step_for(fewer, cap, step)
            self._need[b] = step
            i = self._position(step)
            self._caps[b] = i
            self._arrive[b] = i + 1 if self._starts_on_entry(i, step) else i

    def _step_for(self, dots: int, cap: int, step: int) -> int:
        """The slowest step (no faster than `step`) heating a line of `dots` black dots
        needs, with the dots shared evenly among its sub-strobes."""
        state = self._st
        s = state[_S]
        a = state[_A]
        k = (dots + cap - 1) // cap
        nsa = (dots + k - 1) // k
        for _ in range(8):  # fixed point: the pulse depends on W through the history
            w = step * s // a
            need = activation_us(state, k, self.heat.pulse_us(nsa, w))
            if need <= w:
                break
            step = (need * a + s - 1) // s
        return step

    def _starts_on_entry(self, i: int, step: int) -> bool:
        """Whether a line at ramp position `i` needing `step` can start on the entry itself
        (so the step before it may be one position further): no faster than the motor's
        fastest, and its first activation's other steps, each at most the next slower entry,
        make up the time."""
        ramp = self._ramp
        n = self._st[_S] // self._st[_A]
        if ramp[i] < self._floor_us:
            return False  # its first step is floored to the motor's fastest, past the entry
        return ramp[i] >= step or i == 0 or ramp[i] + (n - 1) * ramp[i - 1] >= n * step

    def _position(self, step: int) -> int:
        """The first ramp position whose step is no slower than `step` (the top if none): a
        line held there runs at `step` itself, floored to it when `step` lies between this
        entry and the one before (the twin's rule allows any period between the two)."""
        ramp = self._ramp
        i = 0
        while i < self._top and ramp[i] > step:
            i += 1
        return i

    # ---- faults ---------------------------------------------------------------------------

    _check = _check  # native: engine.vpy

    def _head_short(self):
        """A strobe drew too little current (engine.vpy): a head fault, unless the supply went
        (which reads the same, and clears by itself)."""
        status = self.status
        stops = self._check()
        if stops & (st.NO_SUPPLY | st.UNDERVOLTAGE):
            return
        if not stops:
            self.pauses += 1
        status.flags |= st.HEAD_FAULT

    def sensing(self, on: bool):
        """Head-current checks on or off (off while the self-test page prints: it is there to
        show a faulty head, not to stop for one)."""
        state = self._st
        state[_SENSE] = len(self._samples) - 1 if on and self.head_sense else 0
        state[_PLANNED] = state[_CHECKED] = getattr(self._head, "sensed", 0)

    def map_elements(self):
        """Each element checked alone with a safe pulse (sense.py); None without a sense."""
        hs = self.head_sense
        if hs is None:
            return None
        if hs.mv < 0:
            hs.currents(self._sensors.supply_mv())
        from .head_check import map_elements

        return map_elements(hs)

    def dead_ranges(self):
        """The dead elements the last map found, as [first, last] runs; None without a map."""
        hs = self.head_sense
        if hs is None or hs.dead is None:
            return None
        from .head_check import dead_ranges

        return dead_ranges(hs.dead)

    def _head_watch(self):
        """While a head fault holds: map the elements once (for the technician's status),
        then check the head again every _PROBE_EVERY_US (a cable reseated, a head replaced)
        and clear the fault once it draws its current again."""
        status = self.status
        hs = self.head_sense
        if hs is None:
            return
        if not self._mapped:
            self._mapped = True
            self.map_elements()
        self._probe_wait -= _POLL_US
        if self._probe_wait > 0:
            return
        self._probe_wait = _PROBE_EVERY_US
        if status.flags & (st.NO_SUPPLY | st.UNDERVOLTAGE):
            return  # no current to be had: nothing to learn
        from .head_check import head_ok

        if head_ok(hs):
            status.flags &= ~st.HEAD_FAULT
            self._mapped = False
            self.map_elements()
            self._planned_mv = -1000

    # ---- the mechanism standing ------------------------------------------------------------

    def standing(self) -> bool:
        """Nothing queued and nothing left to play: the motor stands, the head is cold."""
        return not len(self.queue) and not self._clock.ahead_us()

    def stand(self):
        """Block until the mechanism has played every line planned, and take it as standing:
        for a flash erase, which stops the CPU for tens of ms (docs/hardware.md, "Flash writes
        while printing"). No line is cut short mid-way; the next one starts from rest, its
        first pulse for a head that has rested (the erase is about as long as the heat
        history is)."""
        drain = getattr(self._motor, "drain", None)  # a driver that knows when it is done
        if drain is not None:
            drain()
        else:
            self._clock.drain()
        self._clock.sync()
        state = self._st
        state[_RAMP] = 0
        state[_HALF] = 0
        state[_LAST] = 0
        state[_IDLE] = _IDLE_US
        state[_SINCE] = _CHECK_US

    def _late(self, planned: int) -> int:
        """How long the motor has stood for want of a line (0: it moves), from the motor
        driver when it knows (`standing`), else from the clock, `planned` us of lines given to
        the drivers since the deadline last moved on; if it has, the engine takes it as
        standing (_stood)."""
        stands = self._stands
        us = stands() if stands is not None else self._clock.late_us(planned)
        if us > 0:
            self._stood(us)
        return us

    def _stood(self, us: int):
        """The mechanism played every planned line `us` ago and stood since (the CPU was busy
        elsewhere: a collection, a flash write, a dense line to render): it is at rest, and
        the head has cooled that long. The next line starts from rest on the ramp, and the
        pace drops a quarter, so that the motor runs no faster than the lines come."""
        state = self._st
        state[_RAMP] = 0
        state[_HALF] = 0
        state[_LAST] = 0
        idle = state[_IDLE] + us
        state[_IDLE] = idle if idle < _IDLE_US else _IDLE_US
        state[_SINCE] = _CHECK_US  # the next line re-plans for the new pace
        self._clock.sync()
        self.stalls += 1
        self._stalled = True
        if self.pace > 25:
            self.pace = self.pace * 3 // 4 if self.pace > 33 else 25
            self._planned_mv = -1000

    def _rested(self):
        """The queue ran empty: after a receipt with no stall, the pace goes up again."""
        if not self._stalled and self.pace < 100:
            self.pace = self.pace + 10 if self.pace < 90 else 100
            self._planned_mv = -1000
        self._stalled = False

    # ---- consumer side (mechanism) --------------------------------------------------------

    def drop_current(self):
        """Give up the slot being printed (after it raised), so the next one can go."""
        if len(self.queue):
            self.queue.pop()
        self._space.set()

    def _end(self):
        """The end of a receipt: tear it off."""
        self._tear.tear_off()
        self.receipts += 1
        status = self.status
        status.receipts += 1
        status.line = 0
        self.queue.pop()
        self._space.set()

    async def run(self):
        queue = self.queue
        status = self.status
        clock = self._clock
        state = self._st
        while True:
            if not len(queue):
                if state[_LAST]:
                    self._rested()
                state[_RAMP] = 0  # the motor stops
                state[_HALF] = 0
                state[_LAST] = 0
                state[_IDLE] = _IDLE_US
                state[_SINCE] = _CHECK_US
                self._work.clear()
                await self._work.wait()
                continue
            planned = self._batch()
            if planned:
                clock.advance(planned)
            if status.flags & st.STOPS:
                state[_RAMP] = 0
                state[_HALF] = 0
                state[_LAST] = 0
                idle = state[_IDLE] + _POLL_US
                state[_IDLE] = idle if idle < _IDLE_US else _IDLE_US
                if status.flags & st.HEAD_FAULT:
                    self._head_watch()
                await clock.sleep_us(_POLL_US)
            else:
                await clock.wait()

    _batch = _batch  # native: engine.vpy
