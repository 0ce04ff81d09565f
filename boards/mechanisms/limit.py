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
    """Energy a dot activation needs at a head temperature."""
    return m.E25_MJ - (temp_c - 25) * m.TC_MJ


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
    nsa = n_black if n_black < cap else cap
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


def shortest_time_us(m, supply_mv, lines, cap):
    """Shortest time for a strip: `lines` is a list of (black dots, head temperature) a dot
    line. Each step is no faster than its line allows and than the ramp allows from the last
    stop and towards the next stop (the strip starts and ends at rest)."""
    table = m.ramp()
    fastest = 1e6 / m.max_pps(supply_mv)
    s = m.STEPS_PER_LINE
    periods = []
    for n, temp in lines:
        p = line_us(m, supply_mv, temp, n, cap) / s
        periods.extend([p if p > fastest else fastest] * s)
    top = len(table) - 1
    caps = []
    for p in periods:  # the first ramp position whose step is as fast as p or faster
        i = 0
        while i < top and table[i] > p:
            i += 1
        caps.append(i)
    pos = [0] * len(periods)
    prev = -1
    for j, c in enumerate(caps):
        prev = c if c < prev + 1 else prev + 1
        pos[j] = prev
    nxt = -1
    for j in range(len(periods) - 1, -1, -1):
        nxt = pos[j] if pos[j] < nxt + 1 else nxt + 1
        pos[j] = nxt
    total = 0.0
    for j, p in enumerate(periods):
        r = table[pos[j]]
        total += p if p > r else r
    return total
