# pyright: reportUndefinedVariable=false
"""Strobe division and look-ahead, the per-line loops of the engine in viper.

A line of n black dots is heated in k = ceil(n / cap) sub-strobes, the fewest that keep the dots
heated at once under the supply-current cap: the data is masked into k group lines of about n / k
dots each (masking works on any head, one DST line or six STB blocks alike). `sense_line`
compares the head current each of a line's strobes drew with what its dots need (sense.py).
"""

from ..native import load

load(__file__, globals())  # its hot loops: strobe.vpy

_LINE = const(48)
_SLOT = const(51)
