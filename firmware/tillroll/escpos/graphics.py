"""The ESC/POS commands that carry dots: images, barcodes, QR and PDF417 codes and logos.

The parser hands each command's data to a sink (`write(buf, i, end)`, `end()`, `done`): the
raster (GS v 0), bit_image.py (ESC *), functions.py (GS ( L, GS 8 L, GS ( k), nv_images.py
(FS q) or the barcode data here. Images stream to the engine row by row as their data
arrives. A barcode, a QR or PDF417 code or a logo from flash prints as a `job`: an object whose `step()`
the parser calls while the engine's queue has room, a few dot lines a step (False once it is
done), so nothing waits on a full queue and nothing is held in RAM whole. The barcode, QR and
PDF417 jobs are state machines made once with the Graphics, so they print with the heap locked.
"""

import framebuf
from micropython import const

from ..render.barcode.symbol import Barcode
from ..render.layout import DOTS
from ..render.pdf417 import PDF417
from ..render.qr import QR, capacity
from ..render.raster import Raster
from .bit_image import BitImage
from .functions import Function, store_data
from .nv_images import NvImages

_LINE_BYTES = const(48)
_HRI_H = const(24)
_BARCODE_DATA_MAX = const(255)
_ROWS_A_STEP = const(16)
_PDF417_STORE = const(1024)  # bytes of GS ( k cn 48 fn 80 data kept
_NARROWEST = const(2)  # dots: fitting a symbol to the paper stops at this module size
_CODE39 = const(69)
_QR = const(2)  # GS Z n: the symbol ESC Z prints
_PDF417 = const(0)


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
        self.pdf417 = PDF417()
        self.pdf417_data = bytearray(_PDF417_STORE)
        self.pdf417_len = 0
        self.code2d = _PDF417  # GS Z n: the symbol type ESC Z prints
        self.unfit = 0  # symbols too wide for the paper at any module size: text printed instead
        self._bar_sink = _BarcodeData(self)
        self._sym_sink = _Symbol2D(self)
        self._fn_sink = Function(self)
        self._bit_sink = BitImage(self)
        self._nv_sink = NvImages(self)
        # The jobs, made once: starting one allocates nothing.
        self._barcode_job = _BarcodeJob(self)
        self._qr_job = _QrJob(self)
        self._pdf417_job = _Pdf417Job(self)
        self._nv_job = _Generator()

    def reset(self):
        """ESC @: barcode, QR and PDF417 settings back to their defaults."""
        self.barcode.reset()
        self.qr.reset()
        self.pdf417.reset()
        self.code2d = _PDF417

    def keep_stored(self):
        """The QR and PDF417 data stored and not yet printed, for `put_stored` after a copy
        has used the buffers (once a copy: it allocates)."""
        qr = bytes(self.qr_data[: self.qr_len]) if self.qr_len > 0 else self.qr_len
        pdf = (
            bytes(self.pdf417_data[: self.pdf417_len]) if self.pdf417_len > 0 else self.pdf417_len
        )
        return qr, pdf

    def put_stored(self, stored):
        qr, pdf = stored
        if isinstance(qr, int):
            self.qr_len = qr
        else:
            self.qr_data[: len(qr)] = qr
            self.qr_len = len(qr)
        if isinstance(pdf, int):
            self.pdf417_len = pdf
        else:
            self.pdf417_data[: len(pdf)] = pdf
            self.pdf417_len = len(pdf)

    def fit(self) -> bool:
        """Symbols too wide for the paper are fitted to it (the `fit` setting, on unless the
        settings say otherwise); off, they print nothing, as on Epson printers."""
        settings = self.layout.settings
        return settings is None or bool(settings.values.get("fit", 1))

    def restart(self):
        """A new connection: settings as after ESC @, and no symbol data stored (one sender's
        QR or PDF417 data never prints for the next)."""
        self.reset()
        self.qr_len = 0
        self.pdf417_len = 0

    def cut_off(self):
        """A command cut off by the end of its connection: a logo it was defining is not
        kept."""
        if self.logos is not None:
            self.logos.abort()

    def step(self):
        """Run the job a few dot lines further; drop it when it is done."""
        job = self.job
        try:
            more = job is not None and job.step()
        except OSError:
            more = False  # the flash failed under a logo: the logo ends there
        if not more:
            self.job = None

    def _offset(self, dots: int) -> int:
        """Where an item `dots` wide starts under ESC a justification."""
        align = self.layout.align
        if not align or dots >= DOTS:
            return 0
        return (DOTS - dots) >> 1 if align == 1 else DOTS - dots

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

    def hri_lines(self) -> int:
        """Lines of Font A the HRI text takes (it wraps at the paper's edge)."""
        per = DOTS // self._font.width
        return (self.barcode.text_len + per - 1) // per

    def _draw_hri(self, offset: int, width: int, line: int):
        """Line `line` of the barcode's human-readable text, centred under (or over) it, in
        Font A (GS f's Font B comes with the second font)."""
        bc = self.barcode
        font = self._font
        strip = self.strip_fb
        strip.fill(0)
        per = DOTS // font.width
        first = line * per
        n = bc.text_len - first
        if n > per:
            n = per
        x = offset + ((width - n * font.width) >> 1)
        if x < 0:
            x = 0
        if x + n * font.width > DOTS:
            x = DOTS - n * font.width
        for k in range(first, first + n):
            strip.blit(font.load(bc.text[k]), x, 0, 0)
            x += font.width

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

    def symbol_2d(self, v: int, r: int, k: int):
        """ESC Z v r k: the data of the symbol GS Z chose follows."""
        return self._sym_sink.start(v, r, k)

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
        self.job = self._nv_job.start(self._nv_sink.print_job(found, xs, ys))

    # ---- jobs ---------------------------------------------------------------------------

    def print_barcode(self, m: int, data, n: int):
        bc = self.barcode
        if bc.encode(m, data, n, self.fit()):
            if bc.unfit:
                self.unfit += 1
            self.job = self._barcode_job.start()

    def print_qr(self, module: int = 0):
        """The QR symbol just encoded prints, at `module` dots (0: GS ( k fn 67's size), or
        the largest size under it that fits the paper."""
        qr = self.qr
        module = module or qr.module
        if qr.size * module > DOTS:
            if not self.fit():
                return  # as on Epson printers: nothing
            while module > _NARROWEST and qr.size * module > DOTS:
                module -= 1
            if qr.size * module > DOTS:
                self.print_unfit(self.qr_data, self.qr_len)
                return
        self.job = self._qr_job.start(module)

    def print_pdf417(self):
        """GS ( k cn 48 fn 81 / ESC Z: encode the stored data and print it."""
        p = self.pdf417
        if p.encode(self.pdf417_data, self.pdf417_len, self.fit()):
            self.job = self._pdf417_job.start()
        elif p.unfit:
            self.print_unfit(self.pdf417_data, self.pdf417_len)

    def print_unfit(self, data, n: int):
        """A 2D symbol that fits the paper at no module size: its data as text, counted."""
        bc = self.barcode
        bc.start()
        for k in range(n):
            c = data[k]
            bc.add_char(c if 0x20 <= c < 0x7F else 0x3F)
        bc.unfit = True
        self.unfit += 1
        self.job = self._barcode_job.start()


class _BarcodeJob:
    """A barcode's dot lines: the HRI above, the bars, the HRI below, _ROWS_A_STEP at a time;
    for a symbol too wide for the paper, the HRI text alone. Made once with the Graphics, so
    printing a barcode allocates nothing."""

    def __init__(self, gfx):
        self._gfx = gfx
        self._part = 0  # 0 HRI above, 1 bars, 2 HRI below; -1 before the line break
        self._row = 0
        self._rows = 0
        self._line = 0  # the HRI line printing
        self._lines = 0
        self._buf = gfx._line
        self._stride = 0

    def start(self):
        self._part = -1
        return self

    def step(self) -> bool:
        gfx = self._gfx
        if self._part < 0:
            gfx.layout.print_line(0)
            gfx.layout.ink()
            self._part = 0
            self._rows = 0
            return self._next()
        engine = gfx._engine
        row = self._row
        end = row + _ROWS_A_STEP
        if end > self._rows:
            end = self._rows
        while row < end:
            engine.push_line(self._buf, row * self._stride)
            row += 1
        self._row = row
        if row < self._rows:
            return True
        if self._line + 1 < self._lines:  # the HRI's next line
            self._line += 1
            bc = gfx.barcode
            width = bc.width if bc.count else DOTS
            gfx._draw_hri(gfx._offset(width), width, self._line)
            self._row = 0
            return True
        return self._next()

    def _next(self) -> bool:
        """Draw the next part there is (from `_part` on); False when none is left."""
        gfx = self._gfx
        bc = gfx.barcode
        width = bc.width if bc.count else DOTS
        offset = gfx._offset(width)
        part = self._part
        while part < 3:
            if part == 1:
                if bc.count:
                    gfx._draw_bars(offset)
                    self._rows = bc.height
                    self._buf = gfx._line
                    self._stride = 0
                    self._lines = 0
                    break
            elif bc.text_len and (part == 2 if bc.unfit else bc.hri & (1 if part == 0 else 2)):
                # (a symbol too wide for the paper: its text once, whatever GS H says)
                self._line = 0
                self._lines = gfx.hri_lines()
                gfx._draw_hri(offset, width, 0)
                self._rows = _HRI_H
                self._buf = gfx._strip
                self._stride = _LINE_BYTES
                break
            part += 1
        self._part = part + 1
        self._row = 0
        return part < 3


class _QrJob:
    """A QR symbol's dot lines, a module row a step: each row is expanded to its dot line once
    (viper, render/qr_matrix.vpy) and pushed module-size times. Made once with the Graphics, so
    printing a QR code allocates nothing."""

    def __init__(self, gfx):
        self._gfx = gfx
        self._y = 0  # the next module row; -1 before the line break
        self._module = 0
        self._offset = 0

    def start(self, module: int):
        self._y = -1
        self._module = module
        return self

    def step(self) -> bool:
        gfx = self._gfx
        qr = gfx.qr
        size = qr.size
        if self._y < 0:
            gfx.layout.print_line(0)
            gfx.layout.ink()
            self._offset = gfx._offset(size * self._module)
            self._y = 0
            return True
        y = self._y
        if y >= size:
            return False
        line = gfx._line
        qr.dot_line(y, self._module, self._offset, line)
        engine = gfx._engine
        for _ in range(self._module):
            engine.push_line(line, 0)
        self._y = y + 1
        return y + 1 < size


class _Pdf417Job:
    """A PDF417 symbol's dot lines: each row is drawn into its dot line once (viper,
    render/pdf417.vpy) and pushed row-height times, at most _ROWS_A_STEP lines a step. Made
    once with the Graphics, so printing a PDF417 code allocates nothing."""

    def __init__(self, gfx):
        self._gfx = gfx
        self._row = 0  # the row printing; -1 before the line break
        self._left = 0  # its dot lines still to push
        self._height = 0
        self._offset = 0

    def start(self):
        self._row = -1
        return self

    def step(self) -> bool:
        gfx = self._gfx
        p = gfx.pdf417
        line = gfx._line
        if self._row < 0:
            gfx.layout.print_line(0)
            gfx.layout.ink()
            self._offset = gfx._offset(p.width * p.module_used)
            self._height = p.module_used * p.height_used
            self._row = 0
            self._left = 0
        if not self._left:
            if self._row >= p.row_count:
                return False
            p.dot_line(self._row, self._offset, line)
            self._row += 1
            self._left = self._height
        n = self._left if self._left < _ROWS_A_STEP else _ROWS_A_STEP
        engine = gfx._engine
        for _ in range(n):
            engine.push_line(line, 0)
        self._left -= n
        return self._left > 0 or self._row < p.row_count


class _Generator:
    """A job written as a generator (an NV logo, which opens a file anyway): step() runs it
    to its next yield."""

    def __init__(self):
        self.gen = None

    def start(self, gen):
        self.gen = gen
        return self

    def step(self) -> bool:
        gen = self.gen
        self.gen = None  # a generator that ends (or fails) is let go
        if gen is not None and next(gen, None) is not None:
            self.gen = gen
            return True
        return False


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
            if b == 0x2A and self._n > 1 and (self._m == _CODE39 or self._m == 4):
                # Code 39: a '*' after the first character is the stop; the manual has the
                # printer take what follows as normal data (the parser prints it as text).
                self.end()
                break
        return i

    def end(self):
        self.done = True
        if self._n <= _BARCODE_DATA_MAX:
            self._gfx.print_barcode(self._m, self._data, self._n)


# ESC Z r for QR codes: the error correction level as a letter, or 1-4 / 0-3 as digits.
_QR_LEVELS = b"LMQH"


class _Symbol2D:
    """ESC Z v r k nL nH d1...dn, the 2D symbol command older than GS ( k that cheap modules
    (and the npm escpos library) use, for the symbol GS Z n chose: n = 2 a QR code (v version,
    0 automatic; r level L, M, Q, H; k module size), n = 0 PDF417 (v columns; r error
    correction level 0-8; k row height in modules; GS w's module width). The data goes to
    that symbol's GS ( k store; its GS ( k settings stay as they were. DataMatrix (n = 1) is
    skipped."""

    def __init__(self, gfx):
        self._gfx = gfx
        self._v = 0
        self._r = 0
        self._k = 0
        self._kind = 0
        self._kept = bytearray(6)  # the GS ( k PDF417 settings, put back after the symbol
        self.done = True

    def start(self, v: int, r: int, k: int):
        gfx = self._gfx
        self._v = v
        self._r = r
        self._k = k
        self._kind = gfx.code2d
        if self._kind == _QR:
            gfx.qr_len = 0
        elif self._kind == _PDF417:
            gfx.pdf417_len = 0
        self.done = False
        return self

    def write(self, buf, i: int, end: int) -> int:
        gfx = self._gfx
        if self._kind == _QR:
            gfx.qr_len = store_data(gfx.qr_data, gfx.qr_len, buf, i, end)
        elif self._kind == _PDF417:
            gfx.pdf417_len = store_data(gfx.pdf417_data, gfx.pdf417_len, buf, i, end)
        return end

    def end(self):
        self.done = True
        gfx = self._gfx
        if self._kind == _QR and gfx.qr_len > 0:
            self._qr(gfx)
        elif self._kind == _PDF417 and gfx.pdf417_len > 0:
            self._pdf417(gfx)

    def _qr(self, gfx):
        qr = gfx.qr
        r = self._r
        level = -1
        for k in range(4):
            if r == _QR_LEVELS[k] or r == k + 1 or r == 48 + k:
                level = k
        if level < 0 or not 1 <= self._k <= 16:
            return
        kept = qr.level
        qr.level = level
        ok = qr.encode(gfx.qr_data, gfx.qr_len, self._v)
        qr.level = kept
        if ok:
            gfx.print_qr(self._k)

    def _pdf417(self, gfx):
        p = gfx.pdf417
        if not (self._v <= 30 and self._r <= 8 and 2 <= self._k <= 8):
            return
        kept = self._kept
        kept[0] = p.columns
        kept[1] = p.rows
        kept[2] = p.module
        kept[3] = p.row_height
        kept[4] = p.level
        kept[5] = p.ratio
        p.columns = self._v
        p.rows = 0
        m = gfx.barcode.module
        p.module = m if m >= 2 else 2
        p.row_height = self._k
        p.level = self._r
        p.ratio = 0
        gfx.print_pdf417()  # encoded now: the job prints from the symbol, not the settings
        p.columns = kept[0]
        p.rows = kept[1]
        p.module = kept[2]
        p.row_height = kept[3]
        p.level = kept[4]
        p.ratio = kept[5]
