"""Text layout: the ESC/POS text state, and characters placed in it.

Received bytes become characters (text.py: code pages, GB18030, UTF-8), each drawn into the
band (band.py) at an absolute dot position within the print area (GS L, GS W) in the print
modes in force: font, size, emphasis, underline, reverse, rotation, spacing. At LF the band
goes to the engine, justified (ESC a) and, for ESC {, upside down. Settings Epson applies only
at the start of a line (ESC a, ESC {, GS L, GS W) are ignored in the middle of one. Nothing is
allocated per character or per dot line.
"""

from array import array

from ..settings import power_on
from .band import HEIGHT, Band
from .enlarge import enlarge, rotate, stamp  # pyright: ignore[reportAttributeAccessIssue]
from .font import Font
from .text import CJK_BASE, PENDING, Decoder

DOTS = const(384)
_DEFAULT_SPACING = const(30)  # ESC 2: 30 dots, 3.75 mm at 8 dots/mm
_HIGH_WATER = HEIGHT + 8  # queue slots one text line may need
_TABS = const(32)  # ESC D holds up to 32 positions
_DEFAULT_TAB = const(96)  # every 8 Font A characters
_ROT = const(24)  # the rotation buffer fits the largest glyph, 24 x 24
_CJK_FIRST = const(0x2E80)  # CJK radicals: from here on, CJK is looked up first


class Layout:
    def __init__(self, font_a: Font, engine, tear_lines: int, font_b=None, cjk=None, pages=None):
        self._fonts = (font_a, font_b or font_a)
        self._cjk = cjk
        self.decoder = Decoder(pages, cjk)
        self.codepages = pages
        self._engine = engine
        self._tear_lines = tear_lines
        self._band = Band()
        self._rot_buf = bytearray(_ROT * _ROT // 8)
        self._tabs = array("H", bytes(2 * _TABS))
        self._x = 0
        self._line_h = 0
        self.printed = False  # dots went to the engine since the last tear-off
        self._held_feed = 0  # dots of paper feed since the tear-off, before any dots
        self.held = False  # a self-test page is printing: take no more data until it is out
        self.settings = None  # persisted density and speed (tillroll.settings)
        self.on_self_test = None
        self.reset()

    # ---- ESC/POS settings -------------------------------------------------------------

    def reset(self):
        """ESC @: print modes back to their defaults; the unprinted line is discarded."""
        self.font = 0
        self.emphasis = False
        self.underline = 0
        self.width_mul = 1
        self.height_mul = 1
        self.reverse = False
        self.upside_down = False
        self.rotate = False
        self.char_spacing = 0
        self.spacing = _DEFAULT_SPACING
        self.align = 0
        self.left_margin = 0
        self.area_width = DOTS
        self.kanji_double_w = False
        self.kanji_double_h = False
        self.kanji_underline = 0
        self.kanji_left = 0
        self.kanji_right = 0
        self.decoder.reset()
        # The power-on character mode (the `chinese` setting): GB18030, as FS & selects it,
        # on modules sold in China; else one-byte code pages. FS & / FS . change it after.
        self.decoder.kanji = bool(power_on(self.settings, "chinese"))
        if self.codepages:
            self.codepages.select(power_on(self.settings, "code_page"))  # ESC t at power-on
            self.codepages.international(0)
        n = 0
        for i in range(_TABS):
            n += _DEFAULT_TAB
            self._tabs[i] = n
        self._tab_count = _TABS
        self._clear_line()

    def discard(self):
        """The host cleared its data (DLE DC4 fn 8, DLE ENQ 2): modes back to their defaults,
        the line being built gone, and what printed before no longer counts as a receipt
        begun (it stays on the paper and tears off with the next one)."""
        self.reset()
        self.printed = False
        self._held_feed = 0

    def set_print_mode(self, n: int):
        """ESC !: bit 0 Font B, 3 emphasis, 4 double height, 5 double width, 7 underline."""
        self.font = n & 1
        self.emphasis = bool(n & 0x08)
        self.height_mul = 2 if n & 0x10 else 1
        self.width_mul = 2 if n & 0x20 else 1
        self.underline = 1 if n & 0x80 else 0

    def set_font(self, n: int):
        """ESC M: 0/48 Font A, 1/49 Font B."""
        n &= 0x0F
        if n <= 1:
            self.font = n

    def set_char_size(self, n: int):
        """GS !: bits 4-6 width - 1, bits 0-2 height - 1 (1 to 8 each)."""
        self.width_mul = ((n >> 4) & 7) + 1
        self.height_mul = (n & 7) + 1

    def set_align(self, n: int):
        """ESC a: 0/48 left, 1/49 centre, 2/50 right; only at the start of a line."""
        n &= 0x0F
        if n <= 2 and self._fresh:
            self.align = n

    def set_emphasis(self, n: int):
        self.emphasis = bool(n & 1)

    def set_underline(self, n: int):
        """ESC -: 0/48 off, 1/49 one dot, 2/50 two dots."""
        n &= 0x0F
        if n <= 2:
            self.underline = n

    def set_reverse(self, n: int):
        """GS B: white characters on black."""
        self.reverse = bool(n & 1)

    def set_upside_down(self, n: int):
        """ESC {: the line turned 180 degrees; only at the start of a line."""
        if self._fresh:
            self.upside_down = bool(n & 1)

    def set_rotate(self, n: int):
        """ESC V: 1/49 (and 2/50) characters turned 90 degrees clockwise."""
        n &= 0x0F
        if n <= 2:
            self.rotate = n != 0

    def set_char_spacing(self, dots: int):
        """ESC SP: dots right of every character (scaled with its width)."""
        self.char_spacing = dots

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
        self.decoder.kanji = bool(power_on(settings, "chinese"))
        if self.codepages:
            self.codepages.select(power_on(settings, "code_page"))

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

    def set_left_margin(self, dots: int):
        """GS L: only at the start of a line; the print area keeps within the paper."""
        if self._fresh:
            self.left_margin = dots if dots < DOTS else DOTS - 1
            self._start_line()

    def set_area_width(self, dots: int):
        """GS W: only at the start of a line."""
        if self._fresh:
            self.area_width = dots
            self._start_line()

    def clear_tabs(self):
        """ESC D: the positions that follow replace the old ones (none: no tabs)."""
        self._tab_count = 0

    def add_tab(self, n: int) -> bool:
        """One ESC D position: n characters of the current width (spacing included). False
        when it ends the list (Epson: a position not above the one before, or a 33rd)."""
        dots = n * (self._fonts[self.font].width + self.char_spacing) * self.width_mul
        if dots > 0xFFFF:
            dots = 0xFFFF  # far past the paper: a tab there is never reached
        count = self._tab_count
        if count >= _TABS or (count and dots <= self._tabs[count - 1]):
            return False
        self._tabs[count] = dots
        self._tab_count = count + 1
        return True

    def select_code_page(self, n: int):
        """ESC t."""
        if self.codepages:
            self.codepages.select(n)

    def select_international(self, n: int):
        """ESC R."""
        if self.codepages:
            self.codepages.international(n)

    def set_kanji_mode(self, on: bool):
        """FS & / FS .: GB18030 two-byte codes on or off."""
        self.decoder.kanji = on

    def set_kanji_print_mode(self, n: int):
        """FS !: bit 2 double width, 3 double height, 7 underline."""
        self.kanji_double_w = bool(n & 0x04)
        self.kanji_double_h = bool(n & 0x08)
        self.kanji_underline = 1 if n & 0x80 else 0

    def set_kanji_underline(self, n: int):
        """FS -: 0/48 off, 1/49 one dot, 2/50 two dots."""
        n &= 0x0F
        if n <= 2:
            self.kanji_underline = n

    def set_kanji_spacing(self, left: int, right: int):
        """FS S: dots left and right of every Kanji character."""
        self.kanji_left = left
        self.kanji_right = right

    def set_encoding(self, m: int):
        """FS ( C function 48: 1/49 one-byte code pages, 2/50 UTF-8."""
        m &= 0x0F
        if m == 1 or m == 2:
            self.decoder.utf8 = m == 2

    # ---- positions --------------------------------------------------------------------

    def tab(self):
        """HT: to the next tab position; past the print area, to its end (the next character
        wraps). With no tab position ahead, HT is ignored."""
        rel = self._x - self._start
        for i in range(self._tab_count):
            t = self._tabs[i]
            if t > rel:
                x = self._start + t
                self._x = x if x <= self._end else self._end
                self._fresh = False
                return

    def set_position(self, dots: int):
        """ESC $: dots from the left margin; outside the print area it is ignored."""
        if self._start + dots <= self._end:
            self._x = self._start + dots
            self._fresh = False

    def move(self, dots: int):
        """ESC \\: dots (signed 16-bit) from the current position."""
        if dots >= 0x8000:
            dots -= 0x10000
        x = self._x + dots
        if self._start <= x <= self._end:
            self._x = x
            self._fresh = False

    # ---- characters and lines -------------------------------------------------------------

    def busy(self) -> bool:
        """True while the engine's queue could not take one more text line."""
        return self.held or self._engine.free() < _HIGH_WATER

    def has_content(self) -> bool:
        """Anything printed or waiting on the line since the last tear-off."""
        return self.printed or not self._fresh

    def chars(self, buf, i: int, end: int) -> int:
        """The printable bytes of buf[i:end] up to the first control byte; returns where it
        stopped. One-byte text at its own size and upright takes a short path: the same
        placement as char() and _put(), without their per-character calls."""
        if self.width_mul != 1 or self.height_mul != 1 or self.rotate:
            return self._chars_one_by_one(buf, i, end)
        decoder = self.decoder
        wide = decoder.kanji or decoder.utf8
        pages = None if decoder.utf8 else self.codepages  # UTF-8: ASCII as it is, no ESC R
        font = self._fonts[self.font]
        dots = font.glyph_buf
        stride = (font.width + 7) >> 3
        gh = font.height
        w = font.width + self.char_spacing
        y = HEIGHT - gh
        reverse = self.reverse
        mode = (2 if self.emphasis else 0) | (0 if reverse else 1)
        underline = 0 if reverse else self.underline  # Epson: reverse print wins
        band = self._band
        while i < end:
            b = buf[i]
            if b < 0x20:
                break
            if b >= 0x80 and wide or decoder.pending():
                i += 1
                if self.char(b) and self.busy():  # a byte of a two-byte or UTF-8 character
                    return i
                continue
            font.load(pages.unicode(b) if pages else b)
            if self._x + w > self._end and not self._fresh:
                self.print_line(1)  # the line is full: wrap as ESC/POS printers do
                if self.busy():
                    return i  # this character goes on the next line, once there is room
            x = self._x
            if reverse:
                band.fb.fill_rect(x, y, w, gh, 1)
            stamp(dots, stride, gh, band.buf, x, y, mode)
            if underline:
                band.fb.fill_rect(x, HEIGHT - underline, w, underline, 1)
            self._x = x + w
            self._fresh = False
            if gh > self._line_h:
                self._line_h = gh
            i += 1
        return i

    def _chars_one_by_one(self, buf, i, end):
        while i < end:
            b = buf[i]
            if b < 0x20:
                break
            i += 1
            if self.char(b) and self.busy():
                break  # a wrap filled the queue: the parser waits before the next one
        return i

    def char(self, b: int) -> bool:
        """One received byte of text; True when a full line was printed first (a wrap), so the
        caller checks `busy()` before the next one."""
        v = self.decoder.decode(b)
        if v == PENDING:
            return False
        if v <= CJK_BASE:
            return self._kanji(CJK_BASE - v)
        font = self._fonts[self.font]
        if v >= 0x80 and self.decoder.utf8 and self._cjk:
            # From U+2E80 on, CJK first; below it, the CJK font only has what Font A/B lack.
            if v >= _CJK_FIRST or not font.has(v):
                i = self._cjk.unicode_index(v)
                if i >= 0:
                    return self._kanji(i)
        font.load(v)
        return self._put(
            font.glyph_buf,
            font.width,
            font.height,
            self.width_mul,
            self.height_mul,
            0,
            self.char_spacing,
            self.underline,
        )

    def _kanji(self, index: int):
        cjk = self._cjk
        if cjk is None:  # the decoder yields CJK glyphs only when there is a CJK font
            return False
        wm = self.width_mul
        hm = self.height_mul
        if wm == 1 and self.kanji_double_w:
            wm = 2
        if hm == 1 and self.kanji_double_h:
            hm = 2
        underline = self.underline if self.decoder.utf8 else self.kanji_underline
        cjk.load(index)
        return self._put(
            cjk.glyph_buf,
            cjk.width,
            cjk.height,
            wm,
            hm,
            self.kanji_left,
            self.kanji_right,
            underline,
        )

    def _put(self, dots, gw, gh, wm, hm, left, right, underline):
        """Place a glyph (MONO_HLSB rows in `dots`) in the print modes."""
        if self.rotate:
            rotate(dots, gw, gh, self._rot_buf, _ROT >> 3)
            dots = self._rot_buf
            gw, gh = gh, gw
            wm, hm = hm, wm  # enlargement follows the character, not the paper
            underline = 0  # Epson: rotated characters are not underlined
        w = (left + gw + right) * wm
        h = gh * hm
        wrapped = False
        if self._x + w > self._end and not self._fresh:
            self.print_line(1)  # the line is full: wrap as ESC/POS printers do
            wrapped = True
        band = self._band.fb
        x = self._x
        y = HEIGHT - h
        gx = x + left * wm
        reverse = self.reverse
        ink = 1
        if reverse:
            band.fill_rect(x, y, w, h, 1)
            ink = 0
            underline = 0  # Epson: reverse print wins over underline
        if wm == 1 and hm == 1:
            stamp(
                dots, (gw + 7) >> 3, gh, self._band.buf, gx, y, ink | (2 if self.emphasis else 0)
            )
        else:
            bold = wm if self.emphasis else 0
            enlarge(dots, gw, gh, self._band.buf, gx, y, (bold << 16) | (wm << 8) | hm, ink)
        if underline:
            band.fill_rect(x, HEIGHT - underline, w, underline, 1)
        self._x = x + w
        self._fresh = False
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
        self.decoder.interrupt()

    def feed_dots(self, dots: int):
        # Paper feed alone does not start a receipt: after a tear-off it waits for the next
        # dots (and goes out before them), so an LF after a cut, or a blank slip between two
        # cuts (as some clients send), feeds no paper and starts no receipt.
        if dots <= 0:
            return
        if self.printed:
            self._engine.feed(dots)
        else:
            self._held_feed += dots

    def ink(self):
        """Dots are about to go to the engine: the paper fed since the tear-off goes first."""
        if not self.printed:
            self.printed = True
            if self._held_feed:
                self._engine.feed(self._held_feed)
                self._held_feed = 0

    def tear_off(self, extra_dots: int = 0):
        """GS V on a module with no cutter: print what is pending, feed the last line past the
        tear bar, and end the receipt there. With nothing printed since the last one there is
        no receipt: no paper moves."""
        if not self._fresh:
            self.print_line(1)
        if self.printed:
            self.feed_dots(self._tear_lines + extra_dots)
            self._engine.end_receipt()
        self._held_feed = 0
        self.printed = False

    def image(self, fb, width: int, height: int):
        """ESC *: a bit image `width` x `height` dots (fb, 384 wide) joins the text line like a
        character, bottom-aligned; dots past the right edge are dropped."""
        if self._x + width > self._end:
            width = self._end - self._x
        if width <= 0:
            return
        self._band.fb.blit(fb, self._x, HEIGHT - height, 0)
        self._x += width
        self._fresh = False
        if height > self._line_h:
            self._line_h = height

    def _emit_band(self, h: int):
        self.ink()
        offset = 0
        if self.align:
            offset = self._end - self._x
            if self.align == 1:
                offset >>= 1
            if offset < 0:
                offset = 0
        self._band.emit(self._engine, h, offset, self.upside_down)

    def _clear_line(self):
        self._band.clear(self._line_h)
        self._line_h = 0
        self._start_line()

    def _start_line(self):
        self._start = self.left_margin
        end = self.left_margin + self.area_width
        self._end = end if end <= DOTS else DOTS
        self._x = self._start
        self._fresh = True
