"""The mechanism twin checked against the datasheets, not against the engine: the pulse widths
the SII LTP02 Technical Reference tabulates (Table 3-13), the energies the JX-2R-01 and PT486F-B
manuals recommend, the motors' rated step rates, and heat history that comes from the energy
the head actually got. No engine runs here: the head is fired and the motor stepped by hand."""

import os

from mechanisms import jx_2r_01, limit, ltp02_245, pt486f_b
from sim.clock import VirtualClock
from sim.mechanism import Head, Paper, Stepper, Supply

_OUT = "/tmp/tillroll-mp-twin"


class Rig:
    def __init__(self, m, mv, temp_c):
        try:
            os.mkdir(_OUT)
        except OSError:
            pass
        self.clock = VirtualClock()
        self.supply = Supply(mv)
        self.paper = Paper(_OUT, m.ACTIVATIONS_PER_LINE)
        self.head = Head(m, self.paper, self.supply, self.clock)
        self.head.set_temp(temp_c, hold=True)
        self.stepper = Stepper(m, self.paper, self.head, self.supply)

    def fire(self, dots, pulse_us, at_us):
        """One activation of the first `dots` elements, `pulse_us` long, at `at_us`; returns
        the share of their need they got."""
        line = bytearray(48)
        for d in range(dots):
            line[d >> 3] |= 0x80 >> (d & 7)
        self.head.shift(line, 0)
        self.head.latch()
        self.head.strobe(pulse_us, at_us)
        self.head.moved()  # the paper moves on: the next strobe is a new activation
        return self.head.share

    def close(self):
        self.paper.close()


# SII LTP02-245-13 TR Table 3-13: (Vp, head temperature, pps, pulse ms), 45 dots at once.
_TABLE_3_13 = (
    (8.5, 20, 640, 0.545),
    (8.5, 20, 3200, 0.234),
    (5.5, 20, 640, 1.367),
    (7.5, 40, 1920, 0.316),
    (9.5, 70, 3200, 0.081),
    (6.5, -10, 1600, 0.813),
)


def test_the_ltp02_twin_needs_the_pulses_of_table_3_13():
    # Printing steadily at the table's rate (one activation every two steps) with the table's
    # pulse, every activation gets what its dots need: within the table's rounding (three
    # digits) and the TR equations' +-0.3 % against it. The first activation, on a head that
    # has not fired, gets the pulse of a cold head (W' without end).
    for vp, temp, pps, ms in _TABLE_3_13:
        mv = int(vp * 1000)
        rig = Rig(ltp02_245, mv, temp)
        w = int(2e6 / pps)
        share = rig.fire(45, int(limit.pulse_us(ltp02_245, mv, temp, 10**7, 45)), 0)
        for i in range(1, 20):
            share = rig.fire(45, int(ms * 1000 + 0.5), i * w)
        assert abs(share - 1) < 0.01, (vp, temp, pps, share)
        rig.close()


def test_the_jx_and_pt486f_twins_need_the_recommended_energies():
    # The manuals' recommended pulse at 7.2 V for each temperature (their energy at 64 dots
    # on a cold head, no heat history): each is what the twin's dots need, within the few
    # per cent the manuals round their pulse widths to.
    for m, rows in (
        (jx_2r_01, ((5, 0.60), (25, 0.49), (45, 0.41))),
        (pt486f_b, ((5, 0.77), (25, 0.70), (40, 0.62))),
    ):
        for temp, ms in rows:
            rig = Rig(m, 7200, temp)
            share = rig.fire(64, int(ms * 1000), 0)
            assert abs(share - 1) < 0.04, (m.NAME, temp, share)
            rig.close()


def test_heat_history_comes_from_the_energy_the_head_got():
    # LTP02 at 8.5 V, 25 C, 100 mm/s: one activation every 625 us. After a pause, a first
    # activation gets 1 %, 40 % or all of its need; the next, one window later, gets the warm
    # pulse the datasheet gives at that rate. Only after a full one is that enough.
    m = ltp02_245
    w = 625
    warm = int(limit.pulse_us(m, 8500, 25, w, 45) + 0.5)
    cold = limit.pulse_us(m, 8500, 25, 10**7, 45)
    shares = []
    for level in (0.01, 0.4, 1.0, None):
        rig = Rig(m, 8500, 25)
        if level is not None:
            rig.fire(45, int(cold * level + 0.5), 0)
        else:
            rig.head.strobe(int(cold), 0)  # a strobe with no dot latched: no heat at all
            rig.head.moved()
        shares.append(rig.fire(45, warm, w))
        rig.close()
    after_1, after_40, after_full, after_none = shares
    assert abs(after_full - 1) < 0.01, shares
    assert after_none < after_1 < after_40 < after_full, shares
    assert after_1 < 0.3 and after_40 < 0.6, shares  # far short: the row would not burn


def test_a_step_faster_than_the_motors_rating_is_counted():
    # The rating at a supply is the datasheet's: LTP02 eq. 1 (534 Vp - 1339, at most 3200
    # pps), the JX-2R-01 table. A step of the rated period rounded up passes; one microsecond
    # less is faster than the rating.
    for m, mv in ((ltp02_245, 8500), (ltp02_245, 7000), (jx_2r_01, 8500), (jx_2r_01, 6200)):
        rig = Rig(m, mv, 25)
        pps = m.max_pps(mv)
        rated = (1000000 + pps - 1) // pps
        rig.stepper.step(rated)
        assert rig.stepper.overspeed_steps == 0, (m.NAME, mv, rated)
        rig.stepper.step(rated - 1)
        assert rig.stepper.overspeed_steps == 1, (m.NAME, mv, rated)
        rig.close()
