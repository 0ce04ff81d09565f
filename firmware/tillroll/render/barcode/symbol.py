"""A 1D barcode symbol (GS k): the GS h/w/H/f settings, the widths of its bars and spaces in
dots, and its HRI text. The symbologies (upc_ean.py, wide_narrow.py, code93.py, code128.py)
build it from their patterns with `modules`, `elements` and `widths`, and say whether the data
keeps the manual's rules.

Bad data (a wrong length, a character the symbology lacks) encodes to nothing: `encode`
returns False. A symbol wider than the paper at the GS w module width is fitted when `fit` is
on: Code 128 is encoded again in its shortest code-set sequence (the same text), then the
module narrows one dot at a time, never below 2 dots (0.25 mm, what scanners read). If nothing
fits, `unfit` is set and only the HRI text prints. With `fit` off such a symbol prints nothing,
as on Epson printers.
"""

from micropython import const

from . import code93, upc_ean, wide_narrow
from .code128 import Code128

_RUNS_MAX = const(400)  # a symbol of more runs than dots cannot fit 384 dots
_TEXT_MAX = const(512)  # HRI characters: Code 128 code set C gives two a byte
_PAPER = const(384)
_NARROWEST = const(2)  # dots: the module width fitting stops at

# GS k m: form A 0-6, form B 65-73 and 79.
UPC_A = const(65)
UPC_E = const(66)
EAN13 = const(67)
EAN8 = const(68)
CODE39 = const(69)
ITF = const(70)
CODABAR = const(71)
CODE93 = const(72)
CODE128 = const(73)
CODE128_AUTO = const(79)  # Epson's Code 128 with the code sets left to the printer


def _wide(module: int) -> int:
    # Wide elements: 2.5 times narrow where that is whole, never under 3:1 at one dot.
    return module * 5 // 2 if module > 1 else 3


class Barcode:
    """GS h / GS w / GS H / GS f settings, and the symbol last encoded."""

    def __init__(self):
        self.runs = bytearray(_RUNS_MAX)  # widths in dots, bar first
        self.count = 0
        self.width = 0
        self.text = bytearray(_TEXT_MAX)  # HRI characters
        self.text_len = 0
        self.digits = bytearray(16)  # UPC/EAN digits with their check digit
        self.scratch = bytearray(16)  # UPC-E: the UPC-A digits it stands for
        self.code128 = Code128()
        self.used = 0  # the module width the symbol was encoded at
        self.unfit = False  # too wide at every module width: the HRI text alone prints
        self._m = 3
        self._over = False
        self.reset()

    def reset(self):
        self.height = 162
        self.module = 3
        self.hri = 0  # bit 0 above, bit 1 below
        self.hri_font = 0

    def set_module(self, n: int):
        """GS w: module width 2-6 dots (1 accepted too, as many printers do)."""
        if 1 <= n <= 6:
            self.module = n

    def set_hri(self, n: int):
        """GS H: 0/48 none, 1/49 above, 2/50 below, 3/51 both."""
        n &= 0x0F
        if n <= 3:
            self.hri = n

    # ---- runs --------------------------------------------------------------------------------

    def start(self):
        self.count = 0
        self.width = 0
        self.text_len = 0
        self._over = False

    def run(self, bar: int, dots: int):
        """Add `dots` of bar (1) or space (0), merged with the run before when it matches."""
        c = self.count
        if c == 0 and not bar:
            return  # a leading space is no part of the symbol
        self.width += dots
        if c and ((c - 1) & 1) == (bar ^ 1):  # the last run has this colour: widen it
            self.runs[c - 1] += dots
        elif c >= _RUNS_MAX:
            self._over = True  # more runs than the paper has dots
        else:
            self.runs[c] = dots
            self.count = c + 1

    def modules(self, pattern: int, n: int):
        """Add n modules, MSB first, 1 = bar."""
        m = self._m
        for k in range(n - 1, -1, -1):
            self.run((pattern >> k) & 1, m)

    def elements(self, pattern: int, n: int, bar: int):
        """Add n wide/narrow elements (1 = wide, MSB first), alternating from `bar`."""
        narrow = self._m
        wide = _wide(narrow)
        for k in range(n - 1, -1, -1):
            self.run(bar, wide if (pattern >> k) & 1 else narrow)
            bar ^= 1

    def widths(self, pattern: int, n: int):
        """Add n elements given as module counts, 4 bits each, bar first."""
        m = self._m
        bar = 1
        for k in range(n - 1, -1, -1):
            self.run(bar, ((pattern >> (4 * k)) & 0xF) * m)
            bar ^= 1

    def add_text(self, data, n):
        t = self.text
        n = n if n < _TEXT_MAX - self.text_len else _TEXT_MAX - self.text_len
        for k in range(n):
            t[self.text_len + k] = data[k]
        self.text_len += n

    def add_char(self, c: int):
        """One HRI character (a slice or a bytes for it would allocate)."""
        if self.text_len < _TEXT_MAX:
            self.text[self.text_len] = c
            self.text_len += 1

    # ---- symbologies -------------------------------------------------------------------------

    def encode(self, m: int, data, n: int, fit: bool = True) -> bool:
        """Encode data[0:n] in GS k symbology m (form A 0-6 or form B 65-73, 79), fitted to
        the paper when `fit`. True when something prints: the bars, or (unfit) the HRI."""
        if m <= 6:
            m += UPC_A
        self.unfit = False
        module = self.module
        shortest = m == CODE128_AUTO
        if m == CODE128 or shortest:
            shortest = shortest or not (
                n >= 2 and data[0] == 0x7B and 0x41 <= data[1] <= 0x43
            )  # no code set selector: the characters themselves
            if not self.code128.read(data, n, not shortest):
                return self._nothing()
        if n <= 0 or not self._at(m, data, n, module, shortest):
            return self._nothing()
        if self._fits():
            return True
        if not fit:
            return self._nothing()
        if m == CODE128 and not shortest:  # the same text in fewer symbol characters
            shortest = True
            if self._at(m, data, n, module, True) and self._fits():
                return True
        while module > _NARROWEST:
            module -= 1
            if self._at(m, data, n, module, shortest) and self._fits():
                return True
        self.count = 0  # no bars; the HRI text is still there
        self.width = 0
        self.unfit = True
        return True

    def _fits(self) -> bool:
        return not self._over and self.width <= _PAPER

    def _nothing(self) -> bool:
        self.count = 0
        self.width = 0
        self.text_len = 0
        return False

    def _at(self, m: int, data, n: int, module: int, shortest: bool) -> bool:
        """One try at module width `module`; False if the data breaks the symbology's rules."""
        self.start()
        self._m = module
        self.used = module
        if m == UPC_A:
            return upc_ean.encode_ean(self, data, n, 11)
        if m == EAN13:
            return upc_ean.encode_ean(self, data, n, 12)
        if m == EAN8:
            return upc_ean.encode_ean(self, data, n, 7)
        if m == UPC_E:
            return upc_ean.encode_upc_e(self, data, n)
        if m == CODE39:
            return wide_narrow.encode_code39(self, data, n)
        if m == ITF:
            return wide_narrow.encode_itf(self, data, n)
        if m == CODABAR:
            return wide_narrow.encode_codabar(self, data, n)
        if m == CODE93:
            return code93.encode_code93(self, data, n)
        if m == CODE128 or m == CODE128_AUTO:
            c = self.code128
            c.hri(self)
            if shortest:
                return c.encode_shortest(self)
            c.encode(self, data, n)
            return True
        return False
