"""The physical-limit model of a mechanism, in floating point, from its profile's datasheet
equations: the pulse a dot needs, the shortest dot line, and the shortest time for a whole
strip of dot lines under the acceleration ramp.

The twin uses it to know what energy the paper needs; benchmarks use it as the oracle the
engine's schedule is measured against. The engine itself works from integer tables (engine/heat.py)
so that printing allocates nothing.
"""


def effective_v(m, supply_mv):
    return m.V_GAIN * supply_mv / 1000 - m.V_DROP


def energy_mj(m, temp_c):
    """Energy a dot activation needs at a head temperature: the datasheet's table where it
    gives one (straight between its points, and on beyond its ends), else its equation
    E25 - Tc (T - 25) (LTP02 TR eq. 4)."""
    table = getattr(m, "ENERGY_TABLE", None)
    if table is None:
        return m.E25_MJ - (temp_c - 25) * m.TC_MJ
    i = 1
    while i < len(table) - 1 and temp_c > table[i][0]:
        i += 1
    (t0, e0), (t1, e1) = table[i - 1], table[i]
    return e0 + (e1 - e0) * (temp_c - t0) / (t1 - t0)


def history(m, supply_mv, w_us):
    """Heat-history factor C: heat still stored from the previous activation W' us ago."""
    if m.HISTORY is None:
        return 1.0
    a, b, c, d, e = m.HISTORY
    vp = supply_mv / 1000
    return 1 - (a * vp - b) / ((vp - c) * (w_us + d) + e)


def dot_power_w(m, supply_mv, nsa):
    """Power in one dot while `nsa` dots are heated at once."""
    v = effective_v(m, supply_mv)
    r = m.HEAD_R + m.DRIVER_R + m.COMMON_R * nsa
    return v * v * m.HEAD_R / (r * r)


def pulse_us(m, supply_mv, temp_c, w_us, nsa):
    """Pulse width that gives a dot the energy it needs (LTP02 TR eq. 3; general form)."""
    return (
        energy_mj(m, temp_c) / dot_power_w(m, supply_mv, nsa) * history(m, supply_mv, w_us) * 1000
    )


def line_us(m, supply_mv, temp_c, n_black, cap):
    """Shortest dot line for `n_black` dots: `ceil(n / cap)` sub-strobes a activation, each
    activation within its share of the line, the motor at most at its fastest step rate."""
    steps_per_activation = m.STEPS_PER_LINE / m.ACTIVATIONS_PER_LINE
    w = steps_per_activation * 1e6 / m.max_pps(supply_mv)
    k = -(-n_black // cap)
    nsa = -(-n_black // k) if k else 0  # the dots shared evenly among the sub-strobes
    for _ in range(200):  # fixed point: t depends on W through the heat history
        if k == 0:
            break
        t = pulse_us(m, supply_mv, temp_c, w, nsa)
        need = k * t + (k - 1) * m.GAP_US
        if k == 1 and need < t + m.PAUSE_US:
            need = t + m.PAUSE_US
        if need <= w + 1e-6:
            break
        w = need
    return w * m.ACTIVATIONS_PER_LINE


def first_activation_us(m, supply_mv, temp_c, n_black, cap, w_us):
    """Time the first activation of a line needs when the head last fired `w_us` before it
    (after blank lines: the head has cooled, the pulse is longer)."""
    k = -(-n_black // cap)
    nsa = -(-n_black // k)
    t = pulse_us(m, supply_mv, temp_c, w_us, nsa)
    need = k * t + (k - 1) * m.GAP_US
    return need if k > 1 or need >= t + m.PAUSE_US else t + m.PAUSE_US


def shortest_time_us(m, supply_mv, counts, temps, cap):
    """Shortest time for a strip: `counts[j]` black dots and `temps[j]` C head temperature in
    dot line j. Each step is no faster than its line allows and than the ramp allows from the last
    stop and towards the next stop (the strip starts and ends at rest). A black line after blank
    ones has its first activation after the head cooled for at least as long as those lines take
    at the motor's fastest (with the last activation before them): never less, so this stays the
    shortest time (at the strip's start the head has not fired at all)."""
    table = m.ramp()
    top = len(table) - 1
    fastest = 1e6 / m.max_pps(supply_mv)
    s = m.STEPS_PER_LINE
    spa = s // m.ACTIVATIONS_PER_LINE
    period = bytearray(2 * len(counts))  # per line: its slowest step, whole us, 16 bits
    blank = 1 << 20  # blank lines before the current one (many: the head never fired)
    for j in range(len(counts)):
        p = int(line_us(m, supply_mv, temps[j], counts[j], cap) / s + 0.999)
        if counts[j] and blank:
            cooled = (blank * s + spa) * fastest
            first = first_activation_us(m, supply_mv, temps[j], counts[j], cap, cooled)
            if first / spa > p:
                p = int(first / spa + 0.999)
        blank = 0 if counts[j] else blank + 1
        if p < fastest:
            p = int(fastest + 0.999)
        period[2 * j] = p & 0xFF
        period[2 * j + 1] = p >> 8
    n = len(counts)
    caps = bytearray(n)  # per line: the first ramp position at least as fast as its step
    for j in range(n):
        p = period[2 * j] | period[2 * j + 1] << 8
        i = 0
        while i < top and table[i] > p:
            i += 1
        caps[j] = i
    # Position of a step: one more than the step before (accelerating from rest) and one more
    # than the step after (decelerating to rest), never past the line's own limit. Kept per
    # line, at its last step going forward and its first step going backward.
    ends = bytearray(n)
    f = -1
    for j in range(n):
        c = caps[j]
        f = c if f + s > c else f + s
        ends[j] = f
    starts = bytearray(n)
    b = -1
    for j in range(n - 1, -1, -1):
        c = caps[j]
        b = c if b + s > c else b + s
        starts[j] = b
    total = 0
    for j in range(n):
        c = caps[j]
        p = period[2 * j] | period[2 * j + 1] << 8
        f = ends[j - 1] if j else -1
        after = starts[j + 1] if j + 1 < n else -1
        for step in range(s):
            f = c if f + 1 > c else f + 1
            back = after + s - step
            pos = f if f < back else back
            if pos > c:
                pos = c
            r = table[pos]
            total += p if p > r else r
    return total
