"""The head and motor drivers of the sim: what PIO and DMA do on a board, as pin events.

The engine hands over one dot line at a time: `fire(groups, k, first, pulse, activations,
window)`, the strobe plan (`first` is the first activation's pulse), then `run(steps, line_us)`, the motion. The sequencer plays them on the twin's
pins in time order: per activation, each group is latched and strobed; the next group's data is
shifted in while the current one heats (the twin's latch holds the heating data); then the
activation's share of motor steps.
"""


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

    # the head driver
    def fire(self, groups, k, first_us, pulse_us, activations, window_us):
        self._groups = groups
        self._first = first_us
        self._k = k
        self._pulse = pulse_us
        self._activations = activations
        self._window = window_us

    # the motor driver
    def run(self, steps, line_us):
        head = self._head
        stepper = self._stepper
        start = self._clock.ticks_us()
        k = self._k
        acts = self._activations if k else 1
        per_act = steps // acts
        step_us = line_us // steps
        for a in range(acts):
            pulse = self._first if a == 0 else self._pulse
            group_us = pulse + self._gap
            if group_us < self._shift:
                group_us = self._shift
            at = start + a * (line_us // acts)
            for g in range(k):
                head.shift(self._groups, g * 48)
                head.latch()
                head.strobe(pulse, at + g * group_us)
            for _ in range(per_act):
                stepper.step(step_us)
        self._k = 0
        self.lines += 1
