"""GS ( L / GS 8 L graphics and GS ( k QR and PDF417 functions: the function's header, then
its data.

The parser hands over the bytes its pL pH (or 32-bit) count covers; this reads the function
number and the parameters each function has, then sends the data where it goes: raster rows to
the printer, an NV graphic to flash, QR or PDF417 data to that symbol's store. A function it
does not print is passed over (its bytes are taken and dropped).
"""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false

from micropython import const

from ..render.logo_store import RASTER
from ..render.raster import copy  # pyright: ignore[reportAttributeAccessIssue]

_L = const(0x4C)
_QR = const(49)  # GS ( k cn
_PDF417 = const(48)


class Function:
    """GS ( L / GS 8 L graphics and GS ( k symbol functions: a header, then data by
    function."""

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
        self._store = 0  # GS ( k fn 80: the cn whose data follows
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
            elif self._store == _QR:
                gfx.qr_len = store_data(gfx.qr_data, gfx.qr_len, buf, i, end)
                i = end
            elif self._store == _PDF417:
                gfx.pdf417_len = store_data(gfx.pdf417_data, gfx.pdf417_len, buf, i, end)
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
        cn = self._head[0]
        if cn == _QR:
            return 4 if fn == 65 else 3  # cn fn n1 n2 / cn fn n
        if cn == _PDF417:
            return 4 if fn == 69 else 3  # cn fn m n / cn fn n
        return 2  # other symbols: skipped

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
        elif fn == 80 and h[0] == _QR:
            gfx.qr_len = 0
            self._store = _QR
        elif fn == 80 and h[0] == _PDF417:
            gfx.pdf417_len = 0
            self._store = _PDF417

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
        if h[0] == _PDF417:
            self._pdf417(fn)
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

    def _pdf417(self, fn: int):
        """GS ( k cn 48: a setting (out-of-range values are ignored), or fn 81: print."""
        h = self._head
        gfx = self._gfx
        p = gfx.pdf417
        n = h[2]
        if fn == 65 and n <= 30:
            p.columns = n
        elif fn == 66 and (n == 0 or 3 <= n <= 90):
            p.rows = n
        elif fn == 67 and 2 <= n <= 8:
            p.module = n
        elif fn == 68 and 2 <= n <= 8:
            p.row_height = n
        elif fn == 69 and n == 48 and 48 <= h[3] <= 56:
            p.level = h[3] - 48
            p.ratio = 0
        elif fn == 69 and n == 49 and 1 <= h[3] <= 40:
            p.ratio = h[3]
        elif fn == 70:
            p.truncated = bool(n & 1)  # 0 standard, 1 truncated (48/49 read the same way)
        elif fn == 81 and gfx.pdf417_len > 0:
            gfx.print_pdf417()


def store_data(store, at: int, buf, i: int, end: int) -> int:
    """Symbol data buf[i:end] appended to `store` at `at`; the new length, or -1 once it is
    more than the store holds (the symbol prints nothing)."""
    n = end - i
    if at >= 0 and at + n <= len(store):
        copy(store, at, buf, i, n)
        return at + n
    return -1
