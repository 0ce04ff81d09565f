"""GS ( L / GS 8 L graphics and GS ( k QR functions: the function's header, then its data.

The parser hands over the bytes its pL pH (or 32-bit) count covers; this reads the function
number and the parameters each function has, then sends the data where it goes: raster rows to
the printer, an NV graphic to flash, QR data to the symbol store. A function it does not print
is passed over (its bytes are taken and dropped).
"""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false

from micropython import const

from ..render.logo_store import RASTER
from ..render.raster import copy  # pyright: ignore[reportAttributeAccessIssue]

_L = const(0x4C)
_QR = const(49)  # GS ( k cn


class Function:
    """GS ( L / GS 8 L graphics and GS ( k QR functions: a header, then data by function."""

    def __init__(self, gfx):
        self._gfx = gfx
        self._head = bytearray(12)
        self._have = 0
        self._need = 2
        self._kind = 0
        self._into = None  # where data after the header goes
        self.done = True

    def start(self, kind: int):
        self._kind = kind
        self._have = 0
        self._need = 2
        self._into = None
        self._qr_store = False
        self._logo = False
        self.done = False
        return self

    def write(self, buf, i: int, end: int) -> int:
        head = self._head
        while i < end and self._have < self._need:
            head[self._have] = buf[i]
            self._have += 1
            i += 1
            if self._have == 2:
                self._need = self._header_len()
            if self._have == self._need:
                self._begin()
        if i < end and self._have >= self._need:
            gfx = self._gfx
            if self._into is not None:
                i = self._into.write(buf, i, end)
                if self._into.done:
                    self.done = True
            elif self._qr_store:
                n = end - i
                at = gfx.qr_len
                if at >= 0 and at + n <= len(gfx.qr_data):
                    copy(gfx.qr_data, at, buf, i, n)
                    gfx.qr_len = at + n
                else:
                    gfx.qr_len = -1  # more than the largest symbol holds: print nothing
                i = end
            elif self._logo:
                gfx.logos.write(memoryview(buf)[i:end])
                i = end
            else:
                i = end  # data of a function that is not printed
        return i

    def _header_len(self) -> int:
        fn = self._head[1]
        if self._kind == _L:  # m fn ...
            if fn == 112:
                return 10  # m fn a bx by c xL xH yL yH
            if fn == 67:
                return 11  # m fn a kc1 kc2 b xL xH yL yH c
            if fn == 69:
                return 6  # m fn kc1 kc2 x y
            if fn == 66:
                return 4  # m fn kc1 kc2
            return 2
        if self._head[0] != _QR:
            return 2  # PDF417 and the rest: skipped
        return 4 if fn == 65 else 3  # cn fn n1 n2 / cn fn n

    def _begin(self):
        h = self._head
        gfx = self._gfx
        fn = h[1]
        self._logo = False
        if self._kind == _L:
            if fn == 112 and h[2] == 48 and h[5] == 49:  # first colour, monochrome
                x = h[6] | (h[7] << 8)
                y = h[8] | (h[9] << 8)
                self._into = gfx.raster_image((x + 7) >> 3, y, h[3] == 2, h[4] == 2)
            elif fn == 67 and gfx.logos is not None and h[10] == 49:
                x = h[6] | (h[7] << 8)
                y = h[8] | (h[9] << 8)
                if not (0 < x <= 8192 and 0 < y <= 2304):  # Epson's NV graphics limits
                    return
                gfx.logos.begin("g%02x%02x" % (h[3], h[4]), RASTER, (x + 7) >> 3, y)
                self._logo = True
        elif fn == 80:
            gfx.qr_len = 0
            self._qr_store = True

    def end(self):
        self.done = True
        h = self._head
        gfx = self._gfx
        if self._have < self._need:
            return
        fn = h[1]
        if self._kind == _L:
            if self._into is not None:
                self._into.end()
            elif self._logo:
                gfx.logos.commit()
            elif fn == 69 and gfx.logos is not None:
                gfx.print_logo("g%02x%02x" % (h[2], h[3]), 0, h[4] & 3 or 1, h[5] & 3 or 1)
            elif fn == 65 and gfx.logos is not None:
                gfx.logos.delete_all("g")
            elif fn == 66 and gfx.logos is not None:
                gfx.logos.delete("g%02x%02x" % (h[2], h[3]))
            return
        qr = gfx.qr
        if h[0] != _QR:
            return
        if fn == 67 and 1 <= h[2] <= 16:
            qr.module = h[2]
        elif fn == 69 and 48 <= h[2] <= 51:
            qr.level = h[2] - 48
        elif fn == 81 and gfx.qr_len > 0:
            if qr.encode(gfx.qr_data, gfx.qr_len):
                gfx.print_qr()
