"""Pulse width from supply voltage, head temperature and heat history, in integers.

The datasheet formula t = E(T) R / V^2 C (SII LTP02 TR eq. 3; the general form for other heads)
is turned into tables when the engine starts: energy per degree, resistance per number of dots
heated at once, thermistor resistance per degree. Each pulse is then a handful of integer
multiplies and divides, with every product below 2^30 so that nothing is allocated, on a
32-bit port either.
"""

import math
from array import array

T_MIN = const(-40)  # coldest degree in the tables
_T_COUNT = const(161)  # -40 .. 120 C
_W_MAX = const(50000)  # heat history is gone after this many us


class Heat:
    def __init__(self, m):
        self.max_pulse_us = m.MAX_PULSE_US
        cap = m.MAX_DOTS_AT_ONCE
        # E in 0.1 uJ, per degree from T_MIN.
        self._energy = array(
            "H",
            [int((m.E25_MJ - (t + T_MIN - 25) * m.TC_MJ) * 10000 + 0.5) for t in range(_T_COUNT)],
        )
        # (RH + Ri + n Rc)^2 / RH in 0.01 ohm, per number of dots on at once.
        self._r = array("H", [0] * (cap + 1))
        for n in range(cap + 1):
            r = m.HEAD_R + m.DRIVER_R + m.COMMON_R * n
            self._r[n] = int(r * r / m.HEAD_R * 100 + 0.5)
        # Thermistor resistance in ohms per degree from T_MIN: R25 exp(B (1/T - 1/298.15)).
        self._ohms = array("I", [0] * _T_COUNT)
        for t in range(_T_COUNT):
            kelvin = t + T_MIN + 273.15
            self._ohms[t] = int(
                m.THERMISTOR_R25 * math.exp(m.THERMISTOR_B * (1 / kelvin - 1 / 298.15))
            )
        self._gain = int(m.V_GAIN * 1000 + 0.5)
        self._drop = int(m.V_DROP * 1000 + 0.5)
        h = m.HISTORY
        self._history = h is not None
        if h is not None:
            self._ha = int(h[0] + 0.5)
            self._hb = int(h[1] * 1000 + 0.5)
            self._hc = int(h[2] * 1000 + 0.5)
            self._hd = int(h[3] + 0.5)
            self._he = int(h[4] * 1000 + 0.5)
        self._density = 100  # per cent of the datasheet energy
        # Pulses by dots at once for one W': a line at a steady speed costs a look-up.
        self._cache = array("H", [0] * (cap + 1))
        self._cache_w = -1
        self.supply_mv = 0
        self._vsq = 1  # effective voltage squared, in 0.01 V^2
        self._t = 25 - T_MIN  # head temperature, index into the tables

    @property
    def density(self) -> int:
        return self._density

    @density.setter
    def density(self, percent: int):
        self._density = percent
        self._cache_w = -1

    @property
    def temp_c(self) -> int:
        return self._t + T_MIN

    def set_supply(self, mv: int):
        self.supply_mv = mv
        self._cache_w = -1
        v = self._gain * mv // 1000 - self._drop
        self._vsq = v * v // 10000 if v > 100 else 1

    def set_head_ohms(self, ohms: int):
        """Thermistor reading -> head temperature; the table is walked from the last value,
        since the head changes a degree at a time."""
        table = self._ohms
        t = self._t
        while t > 0 and ohms > table[t]:
            t -= 1
        while t < _T_COUNT - 1 and ohms <= table[t + 1]:
            t += 1
        if t != self._t:
            self._t = t
            self._cache_w = -1

    def set_temp_c(self, c: int):
        t = c - T_MIN
        self._t = 0 if t < 0 else (_T_COUNT - 1 if t >= _T_COUNT else t)
        self._cache_w = -1

    def pulse_us(self, nsa: int, w_us: int) -> int:
        """Pulse for `nsa` dots heated at once, W' = `w_us` after their last activation."""
        cache = self._cache
        if w_us == self._cache_w:
            t = cache[nsa]
            if t:
                return t
        else:
            for i in range(len(cache)):
                cache[i] = 0
            self._cache_w = w_us
        t = self._pulse_us(nsa, w_us)
        cache[nsa] = t
        return t

    def _pulse_us(self, nsa: int, w_us: int) -> int:
        t10 = self._energy[self._t] * self._r[nsa] // self._vsq  # 0.1 us
        if self._history:
            mv = self.supply_mv
            if w_us > _W_MAX:
                w_us = _W_MAX
            num = self._ha * mv - self._hb
            den = (mv - self._hc) * (w_us + self._hd) + self._he
            if den > 1000:
                c = 1000 - num // (den // 1000)
                if c < 0:
                    c = 0
                t10 = t10 * c // 1000
        t = t10 * self._density // 1000
        return t if t < self.max_pulse_us else self.max_pulse_us
