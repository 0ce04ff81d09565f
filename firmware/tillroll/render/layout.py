"""Text layout: characters in print modes -> a band of dots -> dot lines for the engine.

Characters of one text line are drawn into a band as they arrive, bottom-aligned (ESC/POS
aligns characters of different heights on their bottom edge); at LF the band's used rows go to
the engine as 48-byte dot lines, shifted for ESC a justification. Nothing is allocated per
character or per dot line: the band, the one-line buffer and the font's glyph buffer are made
once.
"""

import framebuf

from .font import Font

DOTS = const(384)
_LINE_BYTES = const(48)
_BAND_H = const(192)  # tallest character: Font A, 24 dots, at GS ! height x8
_DEFAULT_SPACING = const(30)  # ESC 2: 30 dots, 3.75 mm at 8 dots/mm
_HIGH_WATER = const(_BAND_H + 8)  # queue slots one text line may need


class Layout:
    def __init__(self, font_a: Font, engine, tear_lines: int):
        self._font = font_a
        self._engine = engine
        self._tear_lines = tear_lines
        self._band_buf = bytearray(_LINE_BYTES * _BAND_H)
        self._band = framebuf.FrameBuffer(self._band_buf, DOTS, _BAND_H, framebuf.MONO_HLSB)
        self._line_buf = bytearray(_LINE_BYTES)
        self._line = framebuf.FrameBuffer(self._line_buf, DOTS, 1, framebuf.MONO_HLSB)
        self._x = 0
        self._line_h = 0
        self.printed = False  # dots or feed went to the engine since the last tear-off
        self.held = False  # a self-test page is printing: take no more data until it is out
        self.settings = None  # persisted density and speed (tillroll.settings)
        self.on_self_test = None
        self.reset()

    # ---- ESC/POS settings -------------------------------------------------------------

    def reset(self):
        """ESC @: print modes back to their defaults; the unprinted line is discarded."""
        self.align = 0
        self.emphasis = False
        self.underline = 0
        self.width_mul = 1
        self.height_mul = 1
        self.spacing = _DEFAULT_SPACING
        self._clear_line()

    def set_print_mode(self, n: int):
        """ESC !: bit 3 emphasis, bit 4 double height, bit 5 double width, bit 7 underline."""
        self.emphasis = bool(n & 0x08)
        self.height_mul = 2 if n & 0x10 else 1
        self.width_mul = 2 if n & 0x20 else 1
        self.underline = 1 if n & 0x80 else 0

    def set_char_size(self, n: int):
        """GS !: bits 4-6 width - 1, bits 0-2 height - 1 (1 to 8 each)."""
        self.width_mul = ((n >> 4) & 7) + 1
        self.height_mul = (n & 7) + 1

    def set_align(self, n: int):
        """ESC a: 0/48 left, 1/49 centre, 2/50 right."""
        n &= 0x0F
        if n <= 2:
            self.align = n

    def set_emphasis(self, n: int):
        self.emphasis = bool(n & 1)

    def set_underline(self, n: int):
        """ESC -: 0/48 off, 1/49 one dot, 2/50 two dots."""
        n &= 0x0F
        if n <= 2:
            self.underline = n

    def set_spacing(self, dots: int):
        self.spacing = dots

    def default_spacing(self):
        self.spacing = _DEFAULT_SPACING

    # ---- engine settings --------------------------------------------------------------

    def attach(self, settings, on_self_test):
        """The settings store that ESC 7, DC2 # and GS ( K change, and who prints the
        self-test page on GS ( A and DC2 T."""
        self.settings = settings
        self.on_self_test = on_self_test

    def set_heating(self, max_dots: int, heat_time: int, interval: int):
        """ESC 7 n1 n2 n3: dots heated at once 8 (n1 + 1); heat time n2 x 10 us, read as a
        density against the usual 80 (800 us); the interval is the engine's own business."""
        self._engine.set_max_dots(8 * (max_dots + 1))
        if heat_time:
            self.set_density(heat_time * 100 // 80)

    def set_density(self, percent: int):
        if self.settings is not None:
            self.settings.set(
                "density", 50 if percent < 50 else (150 if percent > 150 else percent)
            )

    def set_speed(self, percent: int):
        if self.settings is not None:
            self.settings.set("speed", 10 if percent < 10 else (100 if percent > 100 else percent))

    def self_test(self):
        if self.on_self_test is not None:
            self.on_self_test()

    # ---- characters and lines -------------------------------------------------------------

    def busy(self) -> bool:
        """True while the engine's queue could not take one more text line."""
        return self.held or self._engine.free() < _HIGH_WATER

    def has_content(self) -> bool:
        """Anything printed or waiting on the line since the last tear-off."""
        return self.printed or self._x > 0

    def char(self, code: int) -> bool:
        """Draw one character; True when a full line had to be printed first (a wrap), so the
        caller checks `busy()` before the next one."""
        font = self._font
        wm = self.width_mul
        hm = self.height_mul
        w = font.width * wm
        h = font.height * hm
        wrapped = False
        if self._x + w > DOTS:
            self.print_line(1)  # the line is full: wrap as ESC/POS printers do
            wrapped = True
        glyph = font.load(code)
        band = self._band
        x = self._x
        y = _BAND_H - h
        if wm == 1 and hm == 1:
            band.blit(glyph, x, y, 0)
            if self.emphasis:
                band.blit(glyph, x + 1, y, 0)
        else:
            # Scaled: one fill_rect per dot of the glyph, framebuf does the area in C.
            gw = font.width
            bold = wm if self.emphasis else 0
            for gy in range(font.height):
                for gx in range(gw):
                    if glyph.pixel(gx, gy):
                        band.fill_rect(x + gx * wm, y + gy * hm, wm + bold, hm, 1)
        if self.underline:
            band.fill_rect(x, _BAND_H - self.underline, w, self.underline, 1)
        self._x = x + w
        if h > self._line_h:
            self._line_h = h
        return wrapped

    def print_line(self, lines: int):
        """Print the text line, then advance to `lines` line spacings below its top (LF, ESC d)."""
        h = self._line_h
        if h:
            self._emit_band(h)
        self.feed_dots(lines * self.spacing - h)
        self._clear_line()

    def feed_dots(self, dots: int):
        if dots > 0:
            self._engine.feed(dots)
            self.printed = True

    def tear_off(self, extra_dots: int = 0):
        """GS V on a module with no cutter: print what is pending, feed the last line past the
        tear bar, and end the receipt there."""
        if self._x:
            self.print_line(1)
        self.feed_dots(self._tear_lines + extra_dots)
        self._engine.end_receipt()
        self.printed = False

    def _emit_band(self, h: int):
        engine = self._engine
        offset = 0
        if self.align:
            offset = DOTS - self._x
            if self.align == 1:
                offset >>= 1
        top = _BAND_H - h
        if offset == 0:
            buf = self._band_buf
            for row in range(top, _BAND_H):
                engine.push_line(buf, row * _LINE_BYTES)
        else:
            line = self._line
            band = self._band
            for row in range(top, _BAND_H):
                line.fill(0)
                line.blit(band, offset, -row)
                engine.push_line(self._line_buf, 0)
        self.printed = True

    def _clear_line(self):
        if self._line_h:
            self._band.fill_rect(0, _BAND_H - self._line_h, DOTS, self._line_h, 0)
        self._x = 0
        self._line_h = 0
