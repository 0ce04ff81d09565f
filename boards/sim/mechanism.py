# pyright: reportUndefinedVariable=false
"""The mechanism twin: a pin-level model of the head, the stepper, the paper and the sensors.

The head has a shift register, a latch and a strobe. While a strobe is on, every latched dot
whose element is alive takes energy from the supply, P = V^2 RH / (RH + Ri + n Rc)^2 with n dots
on at once. Each dot of the paper row under the head adds up the energy it got, as a share of
what the paper needs at the head's true temperature and heat history (the datasheet's E(T), from
its table where it gives one, times C); when the row moves on it is burnt where that share passed
the paper's threshold (which varies a little from dot to dot, as the coating does), and counted
over-burnt where it went far above.

Heat history comes from the energy the head actually got: an activation leaves heat that
rises with the share of their need its dots received and levels off towards a printing
activation's, 1 - (1 - share)^2 of it (all of it from the full need up), and the next one needs
E(T) (1 - the largest over the last few activations of that level x (1 - C(W'))), W' the time
since that activation began. At a steady rate with every activation at its need this is the
datasheet's C(W'); an activation at 40 % of the need leaves 64 % of that heat, one at 1 % next to
nothing, and one that fired no dot none. The datasheets give C only for printing activations:
how the stored heat goes with less energy is this twin's assumption. It is one that levels off
on purpose: at 100 mm/s on the LTP02 C is 0.24 (three quarters of a dot's energy is heat stored
from the activation before), and with heat in straight proportion to the energy one late,
weak line would leave the next weaker, and the print would fade until the head next rested.

The head warms with the energy it takes and cools towards the room with time; the thermistor
reports it through its B equation. The stepper moves the paper one dot line every
`STEPS_PER_LINE` steps; a roll has a length and runs out. Rows go to a spool file, not RAM, so a
long receipt fits the board-sized heap. Time is the board's clock (virtual by default).
"""

import io
import math
import os
from array import array

from mechanisms import limit
from sim.clock import ticks_diff
from sim.png import write_png
from tillroll.native import load

load(__file__, globals())  # its hot loops: mechanism.vpy

_LINE_BYTES = const(48)
_DOTS = const(384)
_OVERBURNT = const(1700)  # per mille of an activation's need, a line: far above
_ROOM_C = 25.0
_HEAT_CAPACITY = 6.0  # J/K of the head and its heat sink
_COOLING_S = 25.0  # time constant towards the room
_ROLL_LINES = const(113000)  # 57 mm x 35 mm roll on a 12 mm core, 60 um paper: about 14 m
_NEAR_END_LINES = const(12000)  # 1.5 m left: the roll's diameter is down to about 16 mm
_PAST = const(4)  # activations the heat history looks back over
# Heat a row got this long before the next strobe on it has left the coating: the paper
# does not add up pulses across a stop (a head checked with short pulses while it waits).
_COOLED_US = const(100000)


class Paper:
    """The roll and the paper since the last tear-off, one row a dot line, in a spool file."""

    def __init__(self, out_dir, activations, keep_dots=False):
        self.out_dir = out_dir
        self._spool_path = out_dir + "/.paper.spool"
        self._spool = open(self._spool_path, "wb")
        self._dots_path = out_dir + "/.dots.spool"
        self._dots = open(self._dots_path, "wb") if keep_dots else None
        self._latched = bytearray(_LINE_BYTES)  # the row's latched dots, so far
        self._windows = 0  # activation windows of the row closed so far
        self._acc = array("H", bytes(2 * _DOTS))  # energy of the row under the head
        self._row = bytearray(_LINE_BYTES)
        self._activations = activations
        # The coating's threshold, 55 to 89 % of the datasheet energy, fixed per dot.
        self._threshold = bytearray(_DOTS)
        seed = 12345
        for d in range(_DOTS):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            self._threshold[d] = 55 + (seed >> 16) % 35
        self.rows = 0
        self.receipts = 0
        self.remaining = _ROLL_LINES  # dot lines left on the roll
        self.burnt = 0
        self.overburnt = 0
        self.tap = None  # sim.stream.LineStream: each row and tear-off, live to a host
        self.upside_down = False  # loaded coated side down: the heat marks nothing

    @property
    def latched(self):
        """The dots latched and strobed on the row under the head, in its windows so far."""
        return self._latched

    @property
    def acc(self):
        return self._acc

    def load(self, lines=_ROLL_LINES):
        """A new roll."""
        self.remaining = lines

    def present(self) -> bool:
        return self.remaining > 0

    def near_end(self) -> bool:
        """The near-end sensor: the roll is down to its last metre and a half."""
        return self.remaining < _NEAR_END_LINES

    def close_window(self, window):
        """An activation's window of the row under the head ended: keep the dots latched and
        strobed in it and in every earlier window of the row; clear `window`."""
        _window(self._latched, window, 1 if self._windows == 0 else 0)  # pyright: ignore[reportArgumentType]
        self._windows += 1

    def advance(self):
        self._windows = 0
        if self.remaining <= 0:
            return False
        r = _develop(self._acc, self._threshold, self._row, self._activations)  # pyright: ignore[reportArgumentType]
        self.burnt += r & 0xFFFF
        self.overburnt += r >> 16
        self._spool.write(self._row)
        if self.tap is not None:
            self.tap.row(self._row)
        if self._dots is not None:
            self._dots.write(self._latched)
        self.rows += 1
        self.remaining -= 1
        return True

    def image(self, path):
        """What came out since the last tear-off, as a PNG (one blank row if nothing did)."""
        self._spool.flush()
        if not self.rows:
            write_png(path, 1, io.BytesIO(bytes(_LINE_BYTES)), _LINE_BYTES)
            return 0
        with open(self._spool_path, "rb") as src:
            write_png(path, self.rows, src, _LINE_BYTES)
        return self.rows

    def tear_off(self):
        """The cashier tears the receipt off: write it as receipt-NNNN.png; return its path."""
        self._spool.close()
        self.receipts += 1
        path = self.receipt_path(self.receipts)
        with open(self._spool_path, "rb") as spool:
            write_png(path, self.rows, spool, _LINE_BYTES)
        self._spool = open(self._spool_path, "wb")
        self.rows = 0
        if self.tap is not None:
            self.tap.torn(self.receipts)
        if self._dots is not None:
            self._dots.close()
            os.rename(self._dots_path, path[:-4] + ".dots")
            self._dots = open(self._dots_path, "wb")
        return path

    def receipt_path(self, number):
        return "%s/receipt-%04d.png" % (self.out_dir, number)

    def dots_so_far(self, path):
        """The latched dots since the last tear-off, to `path` (what a power cut left on the
        paper); return their rows."""
        if self._dots is None:
            return 0
        self._dots.close()
        os.rename(self._dots_path, path)
        self._dots = open(self._dots_path, "wb")
        return self.rows

    def close(self):
        self._spool.close()
        os.remove(self._spool_path)
        if self._dots is not None:
            self._dots.close()
            os.remove(self._dots_path)


class Supply:
    def __init__(self, mv):
        self.mv = mv


class Head:
    """Shift register, latch and strobe of a 384-dot head, with its heat and thermistor."""

    def __init__(self, m, paper, supply, clock):
        self._m = m
        self._paper = paper
        self._supply = supply
        self._clock = clock
        self.shift_reg = bytearray(_LINE_BYTES)
        self.latched = bytearray(_LINE_BYTES)
        self.window = bytearray(_LINE_BYTES)  # dots latched and strobed in this activation
        self.dead = bytearray(_LINE_BYTES)  # 1 bits: elements that no longer heat
        self.cable = True  # the flex cable seated: the head's supply and data reach it
        # The head supply's current during the last strobe (mA), as a shunt in the supply
        # line shows it: each alive dot on draws V / (RH + Ri + n Rc), V the datasheet's
        # effective voltage (the same model as the heat).
        self.current_ma = 0
        self.probes = 0  # safe pulses (a head check): counted apart from printing strobes
        self._heated_at = 0  # the last strobe that put heat into the row under the head
        self.temp_c = _ROOM_C
        self.held_c = None  # a temperature the head is kept at (control: head_temp, hold)
        self._t_at = clock.ticks_us()
        # Heat history: start and share (at most 1) of the last activations that heated.
        self._past_at = [0] * _PAST
        self._past_share = [0.0] * _PAST
        self._act_at = 0  # this activation's start
        self._act_share = 0.0  # the largest share one of its strobes gave
        self._c = 1.0  # this activation's history factor
        self.share = 0.0  # the last strobe's share of its dots' need
        self._moved = True
        self.strobes = 0
        self.max_dots_at_once = 0
        self.pulse_us = 0
        self.pulse_min_us = 0
        self.pulse_max_us = 0
        self.energy_j = 0.0

    def shift(self, buf, offset):
        self.shift_reg[:] = memoryview(buf)[offset : offset + _LINE_BYTES]

    def latch(self):
        self.latched[:] = self.shift_reg

    def moved(self):
        """The paper moved: the next strobe starts a new activation."""
        self._moved = True

    def _settle(self, now):
        dt = ticks_diff(now, self._t_at)
        if self.held_c is not None:
            self.temp_c = self.held_c
            self._t_at = now
        elif dt > 0:
            self.temp_c = _ROOM_C + (self.temp_c - _ROOM_C) * math.exp(-dt / 1e6 / _COOLING_S)
            self._t_at = now

    def _begin(self, at):
        """A new activation at tick `at`: the one before goes into the history if it heated,
        and this one's history factor is what the heat left by the earlier ones gives."""
        if self._act_share > 0:
            self._past_at.pop(0)
            self._past_at.append(self._act_at)
            self._past_share.pop(0)
            self._past_share.append(self._act_share)
        self._act_at = at
        self._act_share = 0.0
        m = self._m
        mv = self._supply.mv
        stored = 0.0
        for i in range(_PAST):
            share = self._past_share[i]
            if share > 0:
                left = share * (1 - limit.history(m, mv, ticks_diff(at, self._past_at[i])))
                if left > stored:
                    stored = left
        self._c = 1 - stored

    def strobe(self, pulse_us, at):
        """Heat the latched dots for `pulse_us`, starting at tick `at`."""
        m = self._m
        self.strobes += 1
        self.pulse_us = pulse_us
        if not self.pulse_min_us or pulse_us < self.pulse_min_us:
            self.pulse_min_us = pulse_us
        if pulse_us > self.pulse_max_us:
            self.pulse_max_us = pulse_us
        self._settle(at)
        if pulse_us > 0:
            _or(self.window, self.latched)  # pyright: ignore[reportArgumentType]
        if self._moved:
            self._begin(at)
            self._moved = False
        on = _count(self.latched, self.dead) if self.cable else 0  # pyright: ignore[reportArgumentType]
        if on > self.max_dots_at_once:
            self.max_dots_at_once = on
        delivered = self._current(on) * pulse_us
        if not delivered:
            return
        need = limit.energy_mj(m, self.temp_c) * self._c
        self.share = delivered / need if need > 0 else 65.0
        # The heat this activation leaves: it rises with the energy and levels off towards a
        # printing activation's (1 - (1 - share)^2; all of it from the full need up).
        short = 1 - self.share if self.share < 1 else 0.0
        level = 1 - short * short
        if level > self._act_share:
            self._act_share = level
        self._heat(at, on, delivered)

    def _current(self, on: int) -> float:
        """The supply current for `on` dots (current_ma); return each dot's power (W)."""
        m = self._m
        mv = self._supply.mv
        v = limit.effective_v(m, mv)
        if not on or mv < 1000 or v <= 0:
            self.current_ma = 0
            return 0.0
        self.current_ma = int(on * v * 1000 / (m.HEAD_R + m.DRIVER_R + m.COMMON_R * on))
        return limit.dot_power_w(m, mv, on) / 1000  # mJ a us

    def _heat(self, at, on, delivered):
        """`delivered` mJ into each of the `on` alive latched dots: the row's share of its
        need (nothing marks on paper loaded upside down), the head's warmth."""
        need = limit.energy_mj(self._m, self.temp_c) * self._c
        share = delivered / need if need > 0 else 65.0
        acc = self._paper.acc
        if ticks_diff(at, self._heated_at) > _COOLED_US:
            for d in range(_DOTS):
                acc[d] = 0
        self._heated_at = at
        if not self._paper.upside_down:
            share = int(share * 1000)
            _strobe(self.latched, self.dead, acc, share if share < 0xFFFF else 0xFFFF)  # pyright: ignore[reportArgumentType]
        joules = on * delivered / 1000
        self.energy_j += joules
        self.temp_c += joules / _HEAT_CAPACITY

    def probe(self, pulse_us, at):
        """A safe pulse on the latched dots at tick `at` (a head check): the current it
        draws, and the little heat it gives; not a printing strobe (no activation, no
        window of the row)."""
        self.probes += 1
        self._settle(at)
        on = _count(self.latched, self.dead) if self.cable else 0  # pyright: ignore[reportArgumentType]
        delivered = self._current(on) * pulse_us
        if delivered:
            self._heat(at, on, delivered)
        return self.current_ma

    def thermistor_ohms(self):
        self._settle(self._clock.ticks_us())
        kelvin = self.temp_c + 273.15
        return int(
            self._m.THERMISTOR_R25 * math.exp(self._m.THERMISTOR_B * (1 / kelvin - 1 / 298.15))
        )

    def set_temp(self, c, hold=False):
        """The head's true temperature now; with `hold` it stays there (a hot enclosure)
        until set again without."""
        self._settle(self._clock.ticks_us())
        self.temp_c = float(c)
        self.held_c = self.temp_c if hold else None


class Stepper:
    """The paper-feed stepper: four phases; `STEPS_PER_LINE` steps move the paper one dot line.
    A step faster than the rating at the supply (the datasheet's max pps) is counted
    (`overspeed_steps`), and lost (the paper does not move) when it is more than a microsecond
    faster.

    It also counts `ramp_violations`: steps whose speed changes faster than the profile's ramp
    (`m.ramp()`, step periods slowest first) allows, where a real motor loses steps. From a
    period p the next may be no shorter than the next faster ramp entry after p, and no longer
    than the next slower one (the datasheets give one ramp; the reference's "when a dense line forces a lower
    step rate, the change must follow the ramp" makes it bind decelerations too). From rest
    (`rest()`) the first step is no shorter than the ramp's first entry; below the first entry's
    speed any change is allowed (the motor can start and stop there)."""

    def __init__(self, m, paper, head, supply, log_lines=0):
        self._m = m
        self._paper = paper
        self._head = head
        self._supply = supply
        self._per_line = m.STEPS_PER_LINE
        self._per_activation = m.STEPS_PER_LINE // m.ACTIVATIONS_PER_LINE
        self._partial = 0
        self.phase = 0
        self.steps = 0
        self.lost_steps = 0
        self.motion_us = 0  # time spent moving, summed over steps
        self.fastest_step_us = 0
        self.ramp_violations = 0
        self.overspeed_steps = 0  # steps faster than the rating (max pps at the supply)
        self._ramp = array("H", m.ramp())
        self._last_us = 0  # the last step's period; 0: at rest
        self.lines = 0
        # Head temperature + 40 at each of the first `log_lines` dot lines (benchmarks).
        self.line_temps = bytearray(log_lines)

    def rest(self):
        """The motor stood still: the next step starts the ramp again."""
        self._last_us = 0

    def ramp_ok(self, last_us, period_us):
        """Whether a step of `period_us` may follow one of `last_us` (0: at rest) on the
        ramp, give or take a microsecond of rounding."""
        ramp = self._ramp
        if not last_us:
            return period_us + 1 >= ramp[0]
        if period_us < last_us:  # faster: at most the next faster ramp entry
            for r in ramp:
                if r < last_us:
                    return period_us + 1 >= r
            return True  # at the top of the ramp already: max_pps bounds it
        if period_us > last_us:  # slower: at most the next slower ramp entry
            if last_us + 1 >= ramp[0]:
                return True
            slower = ramp[0]
            for r in ramp:
                if r <= last_us:
                    break
                slower = r
            return period_us <= slower + 1
        return True

    def step(self, period_us):
        if not self.ramp_ok(self._last_us, period_us):
            self.ramp_violations += 1
        self._last_us = period_us
        pps = self._m.max_pps(self._supply.mv)
        if pps <= 0 or period_us * pps < 1000000:
            self.overspeed_steps += 1  # faster than the motor's rating at this supply
        if pps <= 0 or period_us * pps < 1000000 - pps:  # faster than 1 / pps, whole us
            self.lost_steps += 1
            return
        self.phase = (self.phase + 1) & 3
        self.steps += 1
        if not self.fastest_step_us or period_us < self.fastest_step_us:
            self.fastest_step_us = period_us
        self.motion_us += period_us
        self._head.moved()
        self._partial += 1
        if self._partial % self._per_activation == 0:
            self._paper.close_window(self._head.window)
        if self._partial >= self._per_line:
            self._partial = 0
            if self._paper.advance():
                if self.lines < len(self.line_temps):
                    t = int(self._head.temp_c + 40.5)
                    self.line_temps[self.lines] = t if 0 <= t < 256 else 255
                self.lines += 1


class TearBar:
    """No cutter: the receipt is torn off at the bar; `on_receipt(path)` hears of each one."""

    def __init__(self, paper, on_receipt):
        self._paper = paper
        self._on_receipt = on_receipt

    def tear_off(self):
        self._on_receipt(self._paper.tear_off())


class Sensors:
    """What the engine reads: supply, head thermistor, paper sensor, cover switch."""

    def __init__(self, head, paper, supply):
        self._head = head
        self._paper = paper
        self._supply = supply
        self.cover_open = False

    def supply_mv(self) -> int:
        return self._supply.mv

    def head_ohms(self) -> int:
        return self._head.thermistor_ohms()

    def paper(self) -> bool:
        return self._paper.present()

    def paper_near_end(self) -> bool:
        return self._paper.near_end()

    def cover_closed(self) -> bool:
        return not self.cover_open
