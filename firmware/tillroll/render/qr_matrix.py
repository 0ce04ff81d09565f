# pyright: reportUndefinedVariable=false
"""The QR module matrix as bit-packed rows (MONO_HLSB): data placement, the eight masks and
their penalty score, the loops that touch every module (viper; see qr.py for what it bought).
"""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false

from ..native import load

load(__file__, globals())  # its hot loops: qr_matrix.vpy


def score(m, stride: int, size: int) -> int:
    """The mask penalty of the symbol in `m`: rules 1-3, then the dark-module balance."""
    score = _penalty(m, stride, size)
    total = size * size
    dark = _dark(m, stride, size)
    k = (abs(dark * 20 - total * 10) + total - 1) // total - 1
    return score + 10 * k
