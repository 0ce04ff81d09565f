"""SII LTP02-245-13: 384 dots, 100 mm/s at Vp >= 8.5 V (Technical Reference U00131701401)."""

NAME = "SII LTP02-245-13"
DOTS = 384
DOTS_PER_MM = 8
STEPS_PER_LINE = 4  # 0.03125 mm half-steps; the head fires on every second step
MAX_PPS_AT_8V5 = 3200  # 534 * Vp - 1339, capped at 3200 pps
MAX_DOTS_AT_ONCE = 45  # one DST line; wider lines are split by masking the data
# Pulse at 8.5 V, 25 C, 3200 pps, from the TR's eq. (3)-(8) (limit model: 0.225 ms).
NOMINAL_PULSE_US = 225
