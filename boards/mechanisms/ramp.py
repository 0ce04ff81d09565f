"""Acceleration ramps: step periods in us, slowest first."""

import math


def constant_acceleration(start_us, end_us, steps):
    """A ramp from `start_us` to `end_us` a step over `steps` steps at constant acceleration,
    from the first and last entries a datasheet gives."""
    v0 = 1 / start_us
    v1 = 1 / end_us
    n = steps - 1
    return [int(1 / math.sqrt(v0 * v0 + (v1 * v1 - v0 * v0) * i / n) + 0.5) for i in range(steps)]
