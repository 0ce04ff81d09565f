"""The head and motor drivers of the sim: what PIO and DMA do on a board, as pin events.

The engine hands over one dot line at a time: `fire(groups, k, first, pulse, activations,
window)`, the strobe plan (`first` is the first activation's pulse and `window` its time; the
other activations share the rest of the line; a pulse of 0 fires nothing), then `run(steps,
line_us, periods, at)`, the motion, with each step's period when given; the line then takes
what its periods add up to, whatever `line_us` says. The sequencer plays them on the twin's pins in time order: per activation, each group is latched and
strobed; the next group's data is shifted in while the current one heats (the twin's latch holds
the heating data); then the activation's share of motor steps, spread over its window.
"""

from array import array

from sim.clock import ticks_diff

_SENSE_RING = const(128)  # samples of head current kept for the engine (a power of two;
# more than a line's strobes: the engine reads them after each line)


class Sequencer:
    def __init__(self, head, stepper, clock, mechanism):
        self._head = head
        self._stepper = stepper
        self._clock = clock
        self._gap = mechanism.GAP_US
        self._shift = mechanism.SHIFT_US
        self._groups = None
        self._k = 0
        self._pulse = 0
        self._first = 0
        self._activations = 1
        self._window = 0
        self.lines = 0
        self._next = clock.ticks_us()
        self.first_at = -1  # when the first line's pins moved (tick), for the time a print took
        # The head supply's shunt, sampled once in each strobe (a board's ADC, triggered
        # with the strobe): mA, in a ring the engine reads; `sensed` counts them mod 2^16.
        self.sense = array("H", [0] * _SENSE_RING)
        self.sensed = 0

    def elapsed_us(self) -> int:
        """From the first line's start to the last one's end: the time printing took, as the
        pins show it."""
        return ticks_diff(self._next, self.first_at) if self.first_at >= 0 else 0

    # the head driver
    def fire(self, groups, k, first_us, pulse_us, activations, window_us):
        self._groups = groups
        self._first = first_us
        self._k = k
        self._pulse = pulse_us
        self._activations = activations
        self._window = window_us

    # the motor driver
    def run(self, steps, line_us, periods=None, at=0):
        """The line's motion: `steps` steps in `line_us`; with `periods`, the step periods
        are `periods[at:at + steps]` (the ramp, step by step), else the steps are spread evenly
        over each activation's window."""
        head = self._head
        stepper = self._stepper
        # Lines run back to back, as queued on a board: a line starts when the one before it
        # ends, or now if the mechanism was idle (the engine may plan a few lines ahead).
        if periods is not None:
            line_us = 0  # the time the steps take, as played: not what the engine says
            for i in range(at, at + steps):
                line_us += periods[i]
        now = self._clock.ticks_us()
        if ticks_diff(self._next, now) < 0:
            stepper.rest()  # the motor stood still in between
        start = self._next if ticks_diff(self._next, now) > 0 else now
        if self.first_at < 0:
            self.first_at = start
        self._next = (start + line_us) & 0x3FFFFFFF
        k = self._k
        acts = self._activations if k else 1
        per_act = steps // acts
        # The first activation's window is its own (a cold head's longer first pulse); the
        # others share the rest of the line.
        first_us = self._window if k and acts > 1 else line_us // acts
        rest_us = (line_us - first_us) // (acts - 1) if acts > 1 else 0
        t = start
        for a in range(acts):
            pulse = self._first if a == 0 else self._pulse
            window = first_us if a == 0 else rest_us
            if periods is not None:
                window = 0
                for i in range(at + a * per_act, at + (a + 1) * per_act):
                    window += periods[i]
            group_us = pulse + self._gap
            if group_us < self._shift:
                group_us = self._shift
            for g in range(k if pulse else 0):
                head.shift(self._groups, g * 48)
                head.latch()
                head.strobe(pulse, t + g * group_us)
                n = self.sensed
                ma = head.current_ma
                self.sense[n & (_SENSE_RING - 1)] = ma if ma < 0xFFFF else 0xFFFF
                self.sensed = (n + 1) & 0xFFFF
            if periods is not None:
                for i in range(at + a * per_act, at + (a + 1) * per_act):
                    stepper.step(periods[i])
            else:
                step_us = window // per_act
                for _ in range(per_act):
                    stepper.step(step_us)
            t += window
        self._k = 0
        self.lines += 1

    def probe(self, line, pulse_us):
        """One safe pulse on the dots of `line` (48 bytes) once the lines queued before it
        have played: the head current it drew (mA). The engine checks the head with these."""
        head = self._head
        now = self._clock.ticks_us()
        at = self._next if ticks_diff(self._next, now) > 0 else now
        head.shift(line, 0)
        head.latch()
        ma = head.probe(pulse_us, at)
        self._next = (at + self._shift + pulse_us) & 0x3FFFFFFF
        return ma
