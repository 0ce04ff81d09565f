"""Received bytes -> characters: code pages, GB18030 double-byte (Kanji) mode, UTF-8.

`decode(b)` takes one byte and says what it completes: a code point for the single-byte fonts
(an ASCII byte, or a byte through the ESC t code page and ESC R set), a CJK glyph index (a
GB18030 two-byte code in FS & mode), or nothing yet. UTF-8 (FS ( C, function 48) yields code
points of any script; the layout picks the font.
"""

PENDING = const(-1)
# A CJK glyph index i is returned as CJK_BASE - i (always <= CJK_BASE).
CJK_BASE = const(-2)
_REPLACEMENT = const(0xFFFD)


class Decoder:
    def __init__(self, codepages, cjk):
        self._codepages = codepages
        self._cjk = cjk
        self.reset()

    def reset(self):
        self.kanji = False  # FS & on, FS . off
        self.utf8 = False  # FS ( C function 48: 1 one-byte code pages, 2 UTF-8
        self._need = 0
        self._lead = 0
        self._acc = 0

    def pending(self) -> bool:
        """True between the bytes of a two-byte or UTF-8 character."""
        return self._need != 0

    def interrupt(self):
        """A line ended inside a multi-byte character: drop its first bytes."""
        self._need = 0

    def decode(self, b: int) -> int:
        if self.utf8:
            return self._utf8(b)
        if self._need:
            return self._gb_trail(b)
        if b < 0x80:
            return self._codepages.unicode(b) if self._codepages else b
        if self.kanji and b != 0x80 and b != 0xFF and self._cjk:
            self._lead = b
            self._need = 1
            return PENDING
        return self._codepages.unicode(b) if self._codepages else b

    def _gb_trail(self, b):
        if self._need == 1 and 0x30 <= b <= 0x39:
            self._need = 3  # a four-byte GB18030 code: two more bytes, then the fallback glyph
            return PENDING
        if self._need > 1:
            self._need -= 1
            if self._need > 1:
                return PENDING
            self._need = 0
            return CJK_BASE - self._cjk.fallback
        self._need = 0
        if b < 0x40:  # not a trail byte: drop the lead, take b as itself
            return self.decode(b)
        return CJK_BASE - self._cjk.gb_index(self._lead, b)

    def _utf8(self, b):
        if self._need:
            if b & 0xC0 == 0x80:
                self._acc = (self._acc << 6) | (b & 0x3F)
                self._need -= 1
                return self._acc if not self._need else PENDING
            self._need = 0  # a truncated sequence: drop it, start again at b
        if b < 0x80:
            return b
        if 0xC2 <= b <= 0xDF:
            self._acc = b & 0x1F
            self._need = 1
        elif 0xE0 <= b <= 0xEF:
            self._acc = b & 0x0F
            self._need = 2
        elif 0xF0 <= b <= 0xF4:
            self._acc = b & 0x07
            self._need = 3
        else:
            return _REPLACEMENT
        return PENDING
