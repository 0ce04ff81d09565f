"""Jingxin JX-2R-01 (FTP-628MCL101 compatible): 384 dots, 80 mm/s at 8.5 V (spec V1.5).

Heat from the recommended energies (0.16 / 0.13 / 0.11 mJ at 5 / 25 / 45 C, 7.2 V, 64 dots) and
the general form t = E R^2 / (V^2 RH). The specification gives no heat-history formula and no
acceleration table: the ramp below (500 pps to full speed in 10 steps, no change above 70 %) is
this profile's own, in the shape of the Fujitsu FTP-608 ramp.
"""

NAME = "Jingxin JX-2R-01"
DOTS = 384
DOTS_PER_MM = 8
STEPS_PER_LINE = 2  # 0.0625 mm a step
ACTIVATIONS_PER_LINE = 1
STROBE_BLOCKS = 6  # STB1-6, 64 dots each
MAX_DOTS_AT_ONCE = 64  # 2.5 A at 7.2 V
RATED_MM_S = 80

SUPPLY_MIN_MV = 3130
SUPPLY_MAX_MV = 9500
RATED_MV = 8500

HEAD_R = 176.0
DRIVER_R = 9.0
COMMON_R = 0.05
V_GAIN = 1.0
V_DROP = 0.0
E25_MJ = 0.13
TC_MJ = 0.00125  # (0.16 - 0.11) mJ over 40 C
# The recommended energies as the specification gives them (C, mJ at 7.2 V, 64 dots): the
# twin and the limit model take these; the engine the straight line above.
ENERGY_TABLE = ((5, 0.16), (25, 0.13), (45, 0.11))
HISTORY = None
PAUSE_US = 0
GAP_US = 10
SHIFT_US = 46  # 384 bits at 10 MHz and the latch wait
# No pulse is ever longer; the formula at the lowest supply and -10 C stays below it.
MAX_PULSE_US = 4000

THERMISTOR_R25 = 30000
THERMISTOR_B = 3950
STOP_C = 70
RESUME_C = 60

RAMP_START_US = 2000
RAMP_END_US = 781
RAMP_STEPS = 10

# Step rate against motor supply (spec table), in 100 mV -> pps. (Not mV: an int from 8192 up
# in a frozen tuple is a long int on the chip.)
_PPS = ((35, 500), (50, 980), (62, 1100), (78, 1200), (85, 1280))


def max_pps(supply_mv: int) -> int:
    return _interpolate(_PPS, supply_mv, 100)


def _interpolate(table, x, unit):
    if x <= table[0][0] * unit:
        return table[0][1] * x // (table[0][0] * unit)
    for i in range(1, len(table)):
        x1, y1 = table[i]
        if x <= x1 * unit:
            x0, y0 = table[i - 1]
            return y0 + (y1 - y0) * (x - x0 * unit) // ((x1 - x0) * unit)
    return table[-1][1]


def ramp():
    from mechanisms.ramp import constant_acceleration

    return constant_acceleration(RAMP_START_US, RAMP_END_US, RAMP_STEPS)
