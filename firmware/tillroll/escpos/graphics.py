"""The ESC/POS commands that carry dots: images, barcodes, QR codes and logos.

The parser hands each command's data to a sink (`write(buf, i, end)`, `end()`, `done`): the
raster (GS v 0), bit_image.py (ESC *), functions.py (GS ( L, GS 8 L, GS ( k), nv_images.py
(FS q) or the barcode data here. Images stream to the engine row by row as their data
arrives. A barcode, a QR code or a logo from flash prints as a `job`: a generator the parser
steps while the engine's queue has room, a few dot lines a step, so nothing waits on a full
queue and nothing is held in RAM whole.
"""

import framebuf
from micropython import const

from ..render.barcode.symbol import Barcode
from ..render.layout import DOTS
from ..render.qr import QR, capacity
from ..render.raster import Raster
from .bit_image import BitImage
from .functions import Function
from .nv_images import NvImages

_LINE_BYTES = const(48)
_HRI_H = const(24)
_BARCODE_DATA_MAX = const(255)
_ROWS_A_STEP = const(16)


class Graphics:
    def __init__(self, layout, engine, font_a, logos=None, qr_max_version: int = 25):
        self.layout = layout
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
        self.strip_fb = framebuf.FrameBuffer(self._strip, DOTS, _HRI_H, framebuf.MONO_HLSB)
        self.qr_data = bytearray(capacity(qr_max_version, 0))  # GS ( k fn 80
        self.qr_len = 0  # -1: the data stored did not fit
        self._bar_sink = _BarcodeData(self)
        self._fn_sink = Function(self)
        self._bit_sink = BitImage(self)
        self._nv_sink = NvImages(self)

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
            self.layout.printed = True

    def _offset(self, dots: int) -> int:
        """Where an item `dots` wide starts under ESC a justification."""
        align = self.layout.align
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
            self.print_logo("q%d" % n, m & 3)

    def print_logo(self, name: str, mode: int, xs: int = 0, ys: int = 0):
        found = self.logos.open(name) if self.logos is not None else None
        if found is None:
            return
        if not xs:
            xs = 2 if mode & 1 else 1
            ys = 2 if mode & 2 else 1
        self.job = self._nv_sink.print_job(found, xs, ys)

    # ---- jobs ---------------------------------------------------------------------------

    def print_barcode(self, m: int, data, n: int):
        if self.barcode.encode(m, data, n):
            self.job = self._barcode_job()

    def _barcode_job(self):
        # One generator for the HRI above, the bars and the HRI below: a generator made per
        # part would allocate while printing.
        self.layout.print_line(0)
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
        strip = self.strip_fb
        strip.fill(0)
        n = bc.text_len
        x = offset + ((width - n * font.width) >> 1)
        if x < 0:
            x = 0
        for k in range(n):
            strip.blit(font.load(bc.text[k]), x, 0, 0)
            x += font.width

    def qr_job(self):
        self.layout.print_line(0)
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
