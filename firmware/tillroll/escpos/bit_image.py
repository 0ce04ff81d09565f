"""ESC * bit images: columns of dots that join the text line like characters."""

from micropython import const

from ..render.layout import DOTS

_STRIP_H = const(24)


class BitImage:
    """ESC * m nL nH: columns of 1 or 3 bytes (MSB top) drawn into the text line, 24 dots
    high: 8-dot modes at triple height, single density at double width (Epson's densities)."""

    def __init__(self, gfx):
        self._gfx = gfx
        self.done = True

    def start(self, m: int, columns: int):
        gfx = self._gfx
        self._depth = 3 if m >= 32 else 1
        self._xs = 2 if m == 0 or m == 32 else 1
        self._ys = 1 if m >= 32 else 3
        self._columns = columns
        self._col = 0
        self._byte = 0
        gfx.strip_fb.fill(0)
        self.done = not columns
        return self

    def write(self, buf, i: int, end: int) -> int:
        fb = self._gfx.strip_fb
        xs = self._xs
        ys = self._ys
        while i < end and not self.done:
            b = buf[i]
            i += 1
            x = self._col * xs
            if b and x < DOTS:
                y0 = self._byte * 8
                for bit in range(8):
                    if b & (0x80 >> bit):
                        fb.fill_rect(x, (y0 + bit) * ys, xs, ys, 1)
            self._byte += 1
            if self._byte == self._depth:
                self._byte = 0
                self._col += 1
                if self._col == self._columns:
                    self.end()
        return i

    def end(self):
        self.done = True
        width = self._col * self._xs
        self._gfx.layout.image(self._gfx.strip_fb, width if width < DOTS else DOTS, _STRIP_H)
