"""The head's current, sensed a sample a strobe: a blank receipt is a fault, not a receipt.

A board whose head driver senses the current (an ADC on a shunt in the head supply, sampled
once in each strobe) keeps the samples in `head.sense`, a power-of-two ring of mA, counts them
in `head.sensed` (mod 2^16), and offers `head.probe(line, pulse_us)`: one pulse on the dots of a
48-byte line, between printed lines, returning its sample. The engine notes what each strobe
should draw at least (`sense_line` in strobe.vpy, once a line: nothing allocated); a strobe that
draws too little stops printing with a head fault (docs/engine.md, "Head faults"). While it
holds, the head is checked again with safe pulses, and the fault clears when it draws its
current again. The self-test maps each element alone the same way. Those checks, rarely run,
are in head_check.py, imported when one is due.
"""

from array import array


class HeadSense:
    def __init__(self, head, mechanism):
        self.head = head
        self._m = mechanism
        self.samples = head.sense
        self.expect = array("H", [0] * len(self.samples))
        self.floor_ma = array("H", [0] * (mechanism.MAX_DOTS_AT_ONCE + 1))
        self.mv = -1  # the supply the floors are for
        self.dead = None  # elements that drew no current (a bit each); None: never checked
        self.dead_count = 0

    def currents(self, mv: int):
        """The least current (mA) a strobe of n dots may draw at supply `mv`: each alive dot
        draws V / (RH + Ri + n Rc) (the datasheet's resistances and effective voltage, as
        for the heat). A strobe is short when more than max(8, n / 8) of its dots draw
        nothing (a dead element or two is a streak the self-test shows, not a stop), or, up
        to 8 dots, when it draws under half a dot's current: none."""
        m = self._m
        self.mv = mv
        v = int((m.V_GAIN * mv / 1000 - m.V_DROP) * 1000)  # mV
        r0 = int((m.HEAD_R + m.DRIVER_R) * 1000)  # mOhm
        rc = int(m.COMMON_R * 1000)
        floor = self.floor_ma
        half = v * 500 // (r0 + rc) if v > 0 else 0
        for n in range(1, len(floor)):
            d = n - (n >> 3 if n > 64 else 8)
            ma = d * v * 1000 // (r0 + d * rc) if d > 0 and v > 0 else 0
            floor[n] = min(ma if ma > half else half, 0xFFFF)
