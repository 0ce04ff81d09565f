"""The ESC/POS commands that carry dots: images, barcodes, QR codes and logos.

The parser hands each command's data to a sink here (`write(buf, i, end)`, `end()`, `done`).
Images stream to the engine row by row as their data arrives. A barcode, a QR code or a logo
from flash prints as a `job`: a generator the parser steps while the engine's queue has room,
a few dot lines a step, so nothing waits on a full queue and nothing is held in RAM whole.
"""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false

import framebuf
import micropython

from ..render.barcode import Barcode
from ..render.layout import DOTS
from ..render.logo_store import COLUMNS, HEADER, RASTER
from ..render.qr import QR, capacity
from ..render.raster import Raster, copy

_LINE_BYTES = const(48)
_HRI_H = const(24)
_BARCODE_DATA_MAX = const(255)
_L = const(0x4C)
_QR = const(49)  # GS ( k cn
_ROWS_A_STEP = const(16)


class Graphics:
    def __init__(self, layout, engine, font_a, logos=None, qr_max_version: int = 25):
        self._layout = layout
        self._engine = engine
        self._font = font_a
        self.logos = logos
        self.raster = Raster(layout, engine)
        self.barcode = Barcode()
        self.qr = QR(qr_max_version)
        self.job = None
        self._line = bytearray(_LINE_BYTES)
        self._line_fb = framebuf.FrameBuffer(self._line, DOTS, 1, framebuf.MONO_HLSB)
        # HRI text, and ESC * bit images, are drawn here first: 384 x 24 dots.
        self._strip = bytearray(_LINE_BYTES * _HRI_H)
        self._strip_fb = framebuf.FrameBuffer(self._strip, DOTS, _HRI_H, framebuf.MONO_HLSB)
        self._qr_data = bytearray(capacity(qr_max_version, 0))
        self._qr_len = 0  # -1: the data stored did not fit
        self._column_bytes = bytearray(DOTS)  # one byte of every column of an FS q logo
        self._one = bytearray(1)
        self._bar_sink = _BarcodeData(self)
        self._fn_sink = _Function(self)
        self._bit_sink = _BitImage(self)
        self._nv_sink = _NvBitImage(self)

    def reset(self):
        """ESC @: barcode and QR settings back to their defaults."""
        self.barcode.reset()
        self.qr.reset()

    def step(self):
        """Run the job a few dot lines further; drop it when it is done."""
        job = self.job
        try:
            more = job is not None and next(job, None) is not None
        except OSError:
            more = False  # the flash failed under a logo: the logo ends there
        if not more:
            self.job = None
            self._layout.printed = True

    def _offset(self, dots: int) -> int:
        """Where an item `dots` wide starts under ESC a justification."""
        align = self._layout.align
        if not align or dots >= DOTS:
            return 0
        return (DOTS - dots) >> 1 if align == 1 else DOTS - dots

    # ---- sinks for the parser -------------------------------------------------------------

    def raster_image(self, width: int, rows: int, double_width: int, double_height: int):
        """GS v 0: `width` bytes x `rows` rows follow."""
        r = self.raster
        r.start(width, rows, 2 if double_width else 1, 2 if double_height else 1)
        return r

    def function(self, kind: int):
        """GS ( L / GS 8 L (kind 'L') or GS ( k (kind 'k'): the function's bytes follow."""
        return self._fn_sink.start(kind)

    def bit_image(self, m: int, columns: int):
        return self._bit_sink.start(m, columns)

    def barcode_data(self, m: int, n: int):
        """GS k m: NUL-terminated data (n = -1) or n bytes of it."""
        return self._bar_sink.start(m, n)

    def nv_bit_image(self, x: int, y: int):
        """FS q: the next NV bit image, x * 8 columns of y bytes."""
        return self._nv_sink.start(x, y)

    def nv_begin(self):
        """FS q: the images that follow replace every NV bit image."""
        self._nv_sink.begin_all()

    def print_nv(self, n: int, m: int):
        """FS p n m: print NV bit image n (1-based), m: bit 0 double width, bit 1 double
        height."""
        if self.logos is not None:
            self._print_logo("q%d" % n, m & 3)

    def _print_logo(self, name: str, mode: int, xs: int = 0, ys: int = 0):
        found = self.logos.open(name) if self.logos is not None else None
        if found is None:
            return
        if not xs:
            xs = 2 if mode & 1 else 1
            ys = 2 if mode & 2 else 1
        self.job = self._logo_job(found, xs, ys)

    # ---- jobs ---------------------------------------------------------------------------

    def print_barcode(self, m: int, data, n: int):
        if self.barcode.encode(m, data, n):
            self.job = self._barcode_job()

    def _barcode_job(self):
        # One generator for the HRI above, the bars and the HRI below: a generator made per
        # part would allocate while printing.
        self._layout.print_line(0)
        yield True
        bc = self.barcode
        offset = self._offset(bc.width)
        engine = self._engine
        for part in range(3):
            if part == 1:
                self._draw_bars(offset)
                rows = bc.height
                step = 0
            elif bc.hri & (1 if part == 0 else 2):
                self._draw_hri(offset, bc.width)
                rows = _HRI_H
                step = _LINE_BYTES
            else:
                continue
            buf = self._strip if step else self._line
            for row in range(rows):
                engine.push_line(buf, row * step)
                if row % _ROWS_A_STEP == _ROWS_A_STEP - 1:
                    yield True
            yield True

    def _draw_bars(self, offset: int):
        bc = self.barcode
        line = self._line_fb
        line.fill(0)
        x = offset
        runs = bc.runs
        for k in range(bc.count):
            if not k & 1:
                line.fill_rect(x, 0, runs[k], 1, 1)
            x += runs[k]

    def _draw_hri(self, offset: int, width: int):
        """The barcode's human-readable text, centred under (or over) it, in Font A (GS f's
        Font B comes with the second font)."""
        bc = self.barcode
        font = self._font
        strip = self._strip_fb
        strip.fill(0)
        n = bc.text_len
        x = offset + ((width - n * font.width) >> 1)
        if x < 0:
            x = 0
        for k in range(n):
            strip.blit(font.load(bc.text[k]), x, 0, 0)
            x += font.width

    def _qr_job(self):
        self._layout.print_line(0)
        yield True
        qr = self.qr
        size = qr.size
        module = qr.module
        while module > 1 and size * module > DOTS:
            module -= 1  # too wide for the paper at this size: the largest that fits
        if size * module > DOTS:
            return
        offset = self._offset(size * module)
        line = self._line_fb
        engine = self._engine
        for y in range(size):
            line.fill(0)
            for x in range(size):
                if qr.matrix.pixel(x, y):
                    line.fill_rect(offset + x * module, 0, module, 1, 1)
            for _ in range(module):
                engine.push_line(self._line, 0)
            yield True

    def _logo_job(self, found, xs: int, ys: int):
        f, kind, a, b = found
        r = self.raster
        row = r.row
        try:
            if kind == RASTER:  # a bytes a row, b rows
                r.start(a, b, xs, ys)
                yield True
                keep = a if a < _LINE_BYTES // xs else _LINE_BYTES // xs
                for k in range(b):
                    f.seek(HEADER + k * a)
                    f.readinto(r.row_view)  # 48 bytes; those past the image are cleared
                    for c in range(keep, _LINE_BYTES):
                        row[c] = 0
                    r.emit_row()
                    yield True
            elif kind == COLUMNS:  # a columns of b bytes: gather one byte of each a band
                r.start((a + 7) >> 3, b * 8, xs, ys)
                yield True
                shown = a if a < DOTS // xs else DOTS // xs
                col = self._column_bytes
                one = self._one
                for band in range(b):
                    for c in range(shown):
                        f.seek(HEADER + c * b + band)
                        f.readinto(one)
                        col[c] = one[0]
                    for bit in range(8):
                        _gather(row, col, shown, 0x80 >> bit)
                        r.emit_row()
                        yield True
        finally:
            f.close()


@micropython.viper
def _gather(row: ptr8, col: ptr8, n: int, mask: int):
    # One dot row of a column-format band: bit `mask` of each column byte, MSB left.
    for k in range((n + 7) >> 3):
        row[k] = 0
    for c in range(n):
        if col[c] & mask:
            row[c >> 3] = row[c >> 3] | (0x80 >> (c & 7))


class _BarcodeData:
    """GS k data: up to 255 bytes, then the barcode prints."""

    def __init__(self, gfx):
        self._gfx = gfx
        self._data = bytearray(_BARCODE_DATA_MAX)
        self._n = 0
        self._m = 0
        self._to_nul = False
        self.done = True

    def start(self, m: int, n: int):
        self._m = m
        self._n = 0
        self._to_nul = n < 0
        self.done = False
        return self

    def write(self, buf, i: int, end: int) -> int:
        data = self._data
        while i < end:
            b = buf[i]
            i += 1
            if self._to_nul and b == 0:
                self.end()
                break
            if self._n < _BARCODE_DATA_MAX:
                data[self._n] = b
            self._n += 1
            if self._to_nul and self._n > _BARCODE_DATA_MAX:
                self.done = True  # no NUL in 255 bytes: not a barcode
                break
        return i

    def end(self):
        self.done = True
        if self._n <= _BARCODE_DATA_MAX:
            self._gfx.print_barcode(self._m, self._data, self._n)


class _BitImage:
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
        gfx._strip_fb.fill(0)
        self.done = not columns
        return self

    def write(self, buf, i: int, end: int) -> int:
        fb = self._gfx._strip_fb
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
        self._gfx._layout.image(self._gfx._strip_fb, width if width < DOTS else DOTS, _HRI_H)


class _NvBitImage:
    """FS q: one image, x * 8 columns of y bytes, written to flash as it comes."""

    def __init__(self, gfx):
        self._gfx = gfx
        self._index = 0
        self.done = True

    def start(self, x: int, y: int):
        store = self._gfx.logos
        self._columns = x * 8
        self._depth = y
        self._col = 0
        self._byte = 0
        self._index += 1
        self._ok = store is not None and 0 < x <= 1023 and 0 < y <= 288
        if self._ok:
            store.begin("q%d" % self._index, COLUMNS, self._columns, y)
        self.done = not (x and y)
        return self

    def begin_all(self):
        """FS q replaces every NV bit image."""
        self._index = 0
        if self._gfx.logos is not None:
            self._gfx.logos.delete_all("q")

    def write(self, buf, i: int, end: int) -> int:
        # Count whole columns (y bytes each) so no header can make a number beyond a small int.
        start = i
        while i < end and not self.done:
            n = end - i
            if n > self._depth - self._byte:
                n = self._depth - self._byte
            i += n
            self._byte += n
            if self._byte == self._depth:
                self._byte = 0
                self._col += 1
                if self._col == self._columns:
                    self.done = True
        if self._ok:
            self._gfx.logos.write(memoryview(buf)[start:i])
            if self.done:
                self._gfx.logos.commit()
        return i

    def end(self):
        self.done = True


class _Function:
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
                at = gfx._qr_len
                if at >= 0 and at + n <= len(gfx._qr_data):
                    copy(gfx._qr_data, at, buf, i, n)
                    gfx._qr_len = at + n
                else:
                    gfx._qr_len = -1  # more than the largest symbol holds: print nothing
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
            gfx._qr_len = 0
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
                gfx._print_logo("g%02x%02x" % (h[2], h[3]), 0, h[4] & 3 or 1, h[5] & 3 or 1)
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
        elif fn == 81 and gfx._qr_len > 0:
            if qr.encode(gfx._qr_data, gfx._qr_len):
                gfx.job = gfx._qr_job()
