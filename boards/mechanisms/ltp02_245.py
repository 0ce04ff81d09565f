"""SII LTP02-245-13: 384 dots, 100 mm/s at Vp >= 8.5 V (Technical Reference U00131701401).

Heat: TR section 3.5, eqs. (3)-(8), with TF50KS-E2D paper. Motor: sections 3.3-3.4. Thermistor:
section 3.6. The head has a half-dot heater, so every dot line is fired twice, once every two
motor steps.
"""

NAME = "SII LTP02-245-13"
DOTS = 384
DOTS_PER_MM = 8
STEPS_PER_LINE = 4  # 0.03125 mm half-steps
ACTIVATIONS_PER_LINE = 2  # the head fires on every second step
MAX_DOTS_AT_ONCE = 45  # one DST line; wider lines are split by masking the data
STROBE_BLOCKS = 1  # one strobe line for all 384 dots
RATED_MM_S = 100

# Supply (Vp) range and the value the module is rated at.
SUPPLY_MIN_MV = 5500
SUPPLY_MAX_MV = 9500
RATED_MV = 8500

# Head: RH, Ri, Rc in ohms; effective voltage V = 1.124 Vp - 1.182 (eq. 6).
HEAD_R = 180.0
DRIVER_R = 9.0
COMMON_R = 0.278
V_GAIN = 1.124
V_DROP = 1.182
# Energy per dot activation E = E25 - Tc (T - 25) (eq. 4, Table 3-12), mJ and mJ/degC.
E25_MJ = 0.2867
TC_MJ = 0.00343
# Heat history C = 1 - (a Vp - b) / ((Vp - c)(W' + d) + e), W' in us between activations (eq. 8).
HISTORY = (2230.0, 6429.0, 3.78, 2420.0, 2100.0)
# TR 3.5.5: a dot fired again in the next activation needs W >= t + 500 us.
PAUSE_US = 500
GAP_US = 10  # between two sub-strobes of one activation
SHIFT_US = 56  # 384 bits at 8 MHz (48 us) and the /LAT wait (8 us)
# No pulse is ever longer; the formula at 5.5 V, -10 C and no heat history gives 3.7 ms.
MAX_PULSE_US = 4000

# Thermistor: R25 30 kohm, B 3950 K; stop heating at 70 C, resume below 60 C.
THERMISTOR_R25 = 30000
THERMISTOR_B = 3950
STOP_C = 70
RESUME_C = 60

# Acceleration: 96 steps from 4291 us to 313 us a step (TR 3.4).
RAMP_START_US = 4291
RAMP_END_US = 313
RAMP_STEPS = 96


def max_pps(supply_mv: int) -> int:
    """Fastest step rate at a supply (eq. 1): 534 Vp - 1339, at most 3200 pps."""
    pps = 534 * supply_mv // 1000 - 1339
    return 3200 if pps > 3200 else pps


def ramp():
    from mechanisms.ramp import constant_acceleration

    return constant_acceleration(RAMP_START_US, RAMP_END_US, RAMP_STEPS)
