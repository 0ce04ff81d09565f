"""The mechanism twin for the emulated chip: the sim's head, stepper and paper models, driven by
what the chip's pins did instead of by the sim's sequencer.

The harness (boards/rp2040_chip/mechanism_pins.mjs) watches the head's and the motor's pins and
does what the head's logic does with them: the shift register takes DAT at each rising CLK, /LAT
copies it into the latch, STB's high time is a strobe, a change of the four phase levels is a
step. It sends those events here, one a line, times in emulated microseconds since power-on:

    L <t> <96 hex digits>   the latch took these 48 bytes (dot 0 is the first bit shifted in)
    S <t> <us>              a strobe began at t and lasted us (fractions: the pins' ns)
    M <t>                   a step (the phases changed), t since the last one is its period
    T <t>                   the time now: reply `R <thermistor ohms> <paper> <near end>`
    V <mv>                  the head supply (what the harness puts on its ADC pin)
    H <c> [hold]            the head's temperature;  O <lines>  paper left on the roll
    I <path>                what came out since the last tear-off, as a PNG; reply `I <rows>`
    X                       the paper is torn off here, written as OUT_DIR/receipt-NNNN.png;
                            reply `X <rows> <path>`
    B                       the print since the last tear-off against the limit model
                            (boards/mechanisms/limit.py, from the dots latched a row and the
                            head's temperature there): reply `B <limit us> <first to last
                            step, us> <rows> <black dots> <starts from rest>`
    C                       counters: reply `C <steps> <lost> <ramp violations> <strobes>
                            <rows> <overspeed steps> <shortest pulse us> <longest pulse us>`

Everything the twin models from there on is the sim's (mechanism.py): the dots burnt from the
energy each got, the heat, the paper's motion, the thermistor. Run by chip.mjs's --twin as
`micropython boards/sim/pin_twin.py MECHANISM OUT_DIR`.
"""

import sys
from array import array

from mechanisms import limit
from sim.board import mechanism
from sim.clock import ticks_diff
from sim.mechanism import Head, Paper, Stepper, Supply

_MASK = const(0x3FFFFFFF)


class PinClock:
    """The twin's time: the last event's, in microseconds (wrapping like ticks_us)."""

    def __init__(self):
        self.now = 0

    def ticks_us(self) -> int:
        return self.now


class PinTwin:
    def __init__(self, name, out_dir):
        m = mechanism(name)
        self.clock = PinClock()
        self.supply = Supply(m.RATED_MV)
        self.paper = Paper(out_dir, m.ACTIVATIONS_PER_LINE)
        self.head = Head(m, self.paper, self.supply, self.clock)
        self.stepper = Stepper(m, self.paper, self.head, self.supply)
        self._line = bytearray(48)
        self._last_step = -1
        # A step longer than the ramp's slowest after the one before: the motor stood (any
        # start and stop is allowed that slow), as the sim's sequencer has it between lines
        # that do not follow on.
        self._rest_us = m.RAMP_START_US
        self._m = m
        self._since_tear()

    def _since_tear(self):
        self._counts = array("H")  # black dots latched, a row
        self._temps = bytearray()  # the head's temperature there, + 40 C
        self._first = -1  # the first and the last step
        self._last = 0
        self._starts = 0  # steps from rest

    def _at(self, field) -> int:
        t = int(float(field)) & _MASK
        self.clock.now = t
        return t

    def handle(self, line):
        """One event; returns the reply line, or None."""
        parts = line.split()
        if not parts:
            return None
        kind = parts[0]
        if kind == "S":
            t = self._at(parts[1])
            self.head.strobe(float(parts[2]), t)
        elif kind == "L":
            self._at(parts[1])
            self._line[:] = bytes.fromhex(parts[2])
            self.head.shift(self._line, 0)
            self.head.latch()
        elif kind == "M":
            t = self._at(parts[1])
            period = ticks_diff(t, self._last_step) if self._last_step >= 0 else 0xFFFF
            self._last_step = t
            if period > self._rest_us:
                # From rest: the step is the first of a start, as slow as the ramp's first
                # (the time the motor stood is no step period).
                self.stepper.rest()
                period = self._rest_us
                self._starts += 1
            rows = self.paper.rows
            self.stepper.step(period)
            if self.paper.rows != rows:  # a row went past the head: what was latched on it
                self._counts.append(_black(self.paper.latched))
                self._temps.append(int(self.head.temp_c + 40.5))
            if self._first < 0:
                self._first = t
            self._last = t
        elif kind == "T":
            self._at(parts[1])
            paper = self.paper
            ohms = self.head.thermistor_ohms()
            return "R %d %d %d" % (ohms, paper.present(), paper.near_end())
        elif kind == "V":
            self.supply.mv = int(parts[1])
        elif kind == "H":
            self.head.set_temp(float(parts[1]), len(parts) > 2)
        elif kind == "O":
            self.paper.load(int(parts[1]))
        elif kind == "I":
            return "I %d" % self.paper.image(parts[1])
        elif kind == "X":
            rows = self.paper.rows
            self._since_tear()
            return "X %d %s" % (rows, self.paper.tear_off())
        elif kind == "B":
            return self._bench()
        elif kind == "C":
            s = self.stepper
            h = self.head
            return "C %d %d %d %d %d %d %s %s" % (
                s.steps,
                s.lost_steps,
                s.ramp_violations,
                h.strobes,
                self.paper.rows,
                s.overspeed_steps,
                h.pulse_min_us,
                h.pulse_max_us,
            )
        else:
            return "E unknown event %s" % kind
        return None

    def _bench(self):
        m = self._m
        counts = self._counts
        temps = bytearray(t - 40 if t > 40 else 0 for t in self._temps)
        us = limit.shortest_time_us(m, self.supply.mv, counts, temps, m.MAX_DOTS_AT_ONCE)
        took = ticks_diff(self._last, self._first) if self._first >= 0 else 0
        return "B %d %d %d %d %d" % (us, took, len(counts), sum(counts), self._starts)


def _black(line) -> int:
    n = 0
    for b in line:
        while b:
            b &= b - 1
            n += 1
    return n


def main():
    twin = PinTwin(sys.argv[1], sys.argv[2])
    read = sys.stdin.readline
    write = sys.stdout.write
    while True:
        line = read()
        if not line:
            break
        reply = twin.handle(line)
        if reply is not None:
            write(reply + "\n")
            sys.stdout.flush()
    twin.paper.close()


main()
