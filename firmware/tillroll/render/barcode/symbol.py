"""A 1D barcode symbol (GS k): the GS h/w/H/f settings, the widths of its bars and spaces in
dots, and its HRI text. The symbologies (upc_ean.py, wide_narrow.py, code93.py, code128.py)
build it from their patterns with `modules`, `elements` and `widths`.

Bad data (a wrong length, a character the symbology lacks, a wrong check digit, or a symbol
wider than the paper) encodes to nothing: `encode` returns False.
"""

from micropython import const

from . import code93, code128, upc_ean, wide_narrow

_RUNS_MAX = const(400)  # a symbol of more runs than dots cannot fit 384 dots
_TEXT_MAX = const(256)
_PAPER = const(384)

# GS k m: form A 0-6, form B 65-73.
UPC_A = const(65)
UPC_E = const(66)
EAN13 = const(67)
EAN8 = const(68)
CODE39 = const(69)
ITF = const(70)
CODABAR = const(71)
CODE93 = const(72)
CODE128 = const(73)


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

    def run(self, bar: int, dots: int) -> bool:
        """Add `dots` of bar (1) or space (0), merged with the run before when it matches."""
        c = self.count
        if c == 0 and not bar:
            return True  # a leading space is no part of the symbol
        if c and ((c - 1) & 1) == (bar ^ 1):  # the last run has this colour: widen it
            self.runs[c - 1] += dots
        elif c >= _RUNS_MAX:
            return False
        else:
            self.runs[c] = dots
            self.count = c + 1
        self.width += dots
        return self.width <= _PAPER

    def modules(self, pattern: int, n: int) -> bool:
        """Add n modules, MSB first, 1 = bar."""
        m = self.module
        ok = True
        for k in range(n - 1, -1, -1):
            ok = self.run((pattern >> k) & 1, m) and ok
        return ok

    def elements(self, pattern: int, n: int, bar: int) -> bool:
        """Add n wide/narrow elements (1 = wide, MSB first), alternating from `bar`."""
        narrow = self.module
        wide = _wide(narrow)
        ok = True
        for k in range(n - 1, -1, -1):
            ok = self.run(bar, wide if (pattern >> k) & 1 else narrow) and ok
            bar ^= 1
        return ok

    def widths(self, pattern: int, n: int) -> bool:
        """Add n elements given as module counts, 4 bits each, bar first."""
        m = self.module
        ok = True
        bar = 1
        for k in range(n - 1, -1, -1):
            ok = self.run(bar, ((pattern >> (4 * k)) & 0xF) * m) and ok
            bar ^= 1
        return ok

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

    def encode(self, m: int, data, n: int) -> bool:
        """Encode data[0:n] in GS k symbology m (form A 0-6 or form B 65-73)."""
        self.start()
        if m <= 6:
            m += UPC_A
        ok = False
        if n > 0:
            if m == UPC_A:
                ok = upc_ean.encode_ean(self, data, n, 11)
            elif m == EAN13:
                ok = upc_ean.encode_ean(self, data, n, 12)
            elif m == EAN8:
                ok = upc_ean.encode_ean(self, data, n, 7)
            elif m == UPC_E:
                ok = upc_ean.encode_upc_e(self, data, n)
            elif m == CODE39:
                ok = wide_narrow.encode_code39(self, data, n)
            elif m == ITF:
                ok = wide_narrow.encode_itf(self, data, n)
            elif m == CODABAR:
                ok = wide_narrow.encode_codabar(self, data, n)
            elif m == CODE93:
                ok = code93.encode_code93(self, data, n)
            elif m == CODE128:
                ok = code128.encode_code128(self, data, n)
        if not ok:
            self.count = 0
            self.width = 0
            self.text_len = 0
        return ok
