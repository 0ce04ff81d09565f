# pyright: reportUndefinedVariable=false
"""Pulse width from supply voltage, head temperature and heat history, in integers.

The datasheet formula t = E(T) R / V^2 C (SII LTP02 TR eq. 3; the general form for other heads)
is turned into tables when the engine starts: energy per degree, resistance per number of dots
heated at once, thermistor resistance per degree. When the supply, the head temperature or the
density changes, E(T) R(n) / V^2 is worked out for every n (`base`); each pulse is then that
times the history factor C(W'), a few integer multiplies and divides in viper (heat.vpy) with
every product below 2^31, so nothing is allocated, on a 32-bit port either.
"""

import math
from array import array

from ..native import load

load(__file__, globals())  # its hot loops: heat.vpy

T_MIN = const(-40)  # coldest degree in the tables
_T_COUNT = const(161)  # -40 .. 120 C
# params (heat.vpy)
_HISTORY = const(0)
_NUM = const(1)
_MVC = const(2)
_HD = const(3)
_HE = const(4)
_DENSITY = const(5)
_MAX = const(6)
_BIAS = const(0x4000000)  # added to the terms that can be negative (heat.vpy)


class Heat:
    def __init__(self, m):
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
        # The history terms, the density and the bound, as the native pulse reads them.
        self.params = array("i", [0] * 7)
        p = self.params
        p[_HISTORY] = 1 if h is not None else 0
        if h is not None:
            self._ha = int(h[0] + 0.5)
            self._hb = int(h[1] * 1000 + 0.5)
            self._hc = int(h[2] * 1000 + 0.5)
            p[_HD] = int(h[3] + 0.5)
            p[_HE] = int(h[4] * 1000 + 0.5)
        p[_DENSITY] = 100  # per cent of the datasheet energy
        p[_MAX] = m.MAX_PULSE_US
        # E(T) R(n) / V^2 in 0.1 us, by dots on at once: remade when T, V or density change.
        self.base = array("i", [0] * (cap + 1))
        self.supply_mv = 0
        self._vsq = 1  # effective voltage squared, in 0.01 V^2
        self._t = 25 - T_MIN  # head temperature, index into the tables
        self._rebase()

    @property
    def density(self) -> int:
        return self.params[_DENSITY]

    @density.setter
    def density(self, percent: int):
        self.params[_DENSITY] = percent

    @property
    def temp_c(self) -> int:
        return self._t + T_MIN

    @property
    def t_index(self) -> int:
        """The head temperature - T_MIN (never below zero)."""
        return self._t

    def set_supply(self, mv: int):
        self.supply_mv = mv
        v = self._gain * mv // 1000 - self._drop
        self._vsq = v * v // 10000 if v > 100 else 1
        p = self.params
        if p[_HISTORY]:
            p[_NUM] = self._ha * mv - self._hb + _BIAS
            p[_MVC] = mv - self._hc + _BIAS
        self._rebase()

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
            self._rebase()

    def set_temp_c(self, c: int):
        t = c - T_MIN
        self._t = 0 if t < 0 else (_T_COUNT - 1 if t >= _T_COUNT else t)
        self._rebase()

    def _rebase(self):
        # viper takes any buffer as ptr32; the stubs type ptr32 as its own class
        rebase(self.base, len(self.base), self._energy[self._t], self._r, self._vsq)  # pyright: ignore[reportArgumentType]

    def pulse_us(self, nsa: int, w_us: int) -> int:
        """Pulse for `nsa` dots heated at once, W' = `w_us` after their last activation."""
        return pulse(self.params, self.base, nsa, w_us)  # pyright: ignore[reportArgumentType]
