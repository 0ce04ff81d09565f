# pyright: reportUndefinedVariable=false
"""Reed-Solomon error correction over GF(256) (polynomial 0x11D), as QR codes use it."""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false

from micropython import const

from ..native import load

load(__file__, globals())  # its hot loops: reed_solomon.vpy

_DEGREE_MAX = const(30)  # the most ECC codewords a QR block has


class ReedSolomon:
    def __init__(self):
        self.gen = bytearray(_DEGREE_MAX)
        self._exp = bytearray(256)
        self._log = bytearray(256)
        x = 1
        for k in range(255):
            self._exp[k] = x
            self._log[x] = k
            x <<= 1
            if x & 0x100:
                x ^= 0x11D
        self._exp[255] = self._exp[0]
        self._degree = 0

    def generator(self, degree: int):
        """Make the generator polynomial of `degree` ECC codewords the one remainder() uses."""
        if degree != self._degree:  # the same degree as last time: the same polynomial
            _generator(self.gen, degree, self._exp, self._log)
            self._degree = degree

    def remainder(self, data, at: int, n: int, out):
        """The ECC codewords of data[at:at+n] into out[0:degree], for the last generator."""
        _remainder(data, at, n, out, self.gen, self._degree, self._exp, self._log)
