"""1D barcodes (GS k): data -> the widths of bars and spaces, in dots, and the HRI text.

Bar patterns are those of the symbology standards (UPC/EAN: ISO/IEC 15420, Code 39: 16388,
ITF: 16390, Codabar, Code 93, Code 128: 15417). Check digits are added as Epson printers add
them. Bad data (a wrong length, a character the symbology lacks, a wrong check digit, or a
symbol wider than the paper) encodes to nothing: `encode` returns False.
"""

from micropython import const

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

# UPC/EAN: L (odd parity) patterns of the digits, 7 modules each; R is L inverted, G is R
# reversed.
_EAN_L = (0x0D, 0x19, 0x13, 0x3D, 0x23, 0x31, 0x2F, 0x3B, 0x37, 0x0B)
# EAN-13: which of the six left digits use G, by the first digit (bit 5 = second digit).
_EAN13_G = (0x00, 0x0B, 0x0D, 0x0E, 0x13, 0x19, 0x1C, 0x15, 0x16, 0x1A)
# UPC-E (number system 0): which of the six digits use G (even parity), by the check digit.
_UPCE_G = (0x38, 0x34, 0x32, 0x31, 0x2C, 0x26, 0x23, 0x2A, 0x29, 0x25)

# Code 39 and ITF share the ten 5-element wide/narrow patterns (1 = wide, first element MSB).
_WIDE5 = (0x06, 0x11, 0x09, 0x18, 0x05, 0x14, 0x0C, 0x03, 0x12, 0x0A)  # digits 0-9
# Code 39: characters in groups of ten sharing the wide space; bars from _WIDE5.
_C39 = (b"1234567890", b"ABCDEFGHIJ", b"KLMNOPQRST", b"UVWXYZ-. *")
_C39_SPACE = (0x04, 0x02, 0x01, 0x08)  # which of the 4 spaces is wide, per group
_C39_ALL_NARROW = b"$/+%"
_C39_ALL_NARROW_SPACE = (0x0E, 0x0D, 0x0B, 0x07)

# Codabar: 7 elements (bar space bar space bar space bar), 1 = wide.
_CODABAR_CHARS = b"0123456789-$:/.+ABCD"
_CODABAR = (
    0x03, 0x06, 0x09, 0x60, 0x12, 0x42, 0x21, 0x24, 0x30, 0x48,
    0x0C, 0x18, 0x45, 0x51, 0x54, 0x15, 0x1A, 0x29, 0x0B, 0x0E,
)  # fmt: skip

# Code 93: 9 modules a character, values 0-46 (43-46 are the shifts ($) (%) (/) (+)).
_C93_CHARS = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
_C93 = (
    0x114, 0x148, 0x144, 0x142, 0x128, 0x124, 0x122, 0x150, 0x112, 0x10A,
    0x1A8, 0x1A4, 0x1A2, 0x194, 0x192, 0x18A, 0x168, 0x164, 0x162, 0x134,
    0x11A, 0x158, 0x14C, 0x146, 0x12C, 0x116, 0x1B4, 0x1B2, 0x1AC, 0x1A6,
    0x196, 0x19A, 0x16C, 0x166, 0x136, 0x13A, 0x12E, 0x1D4, 0x1D2, 0x1CA,
    0x16E, 0x176, 0x1AE, 0x126, 0x1DA, 0x1D6, 0x132,
)  # fmt: skip
_C93_START = const(0x15E)
# Full ASCII in Code 93: for codes 0-127 not in _C93_CHARS, the shift (43-46) and the
# character that follows it, as one byte: shift index (0-3) << 6 | value.
_C93_SHIFT_DOLLAR = const(43)
_C93_SHIFT_PERCENT = const(44)
_C93_SHIFT_SLASH = const(45)
_C93_SHIFT_PLUS = const(46)

# Code 128: bar/space widths (b s b s b s) of values 0-105, four bits each; STOP has 7.
_C128 = (
    0x212222, 0x222122, 0x222221, 0x121223, 0x121322, 0x131222, 0x122213, 0x122312, 0x132212,
    0x221213, 0x221312, 0x231212, 0x112232, 0x122132, 0x122231, 0x113222, 0x123122, 0x123221,
    0x223211, 0x221132, 0x221231, 0x213212, 0x223112, 0x312131, 0x311222, 0x321122, 0x321221,
    0x312212, 0x322112, 0x322211, 0x212123, 0x212321, 0x232121, 0x111323, 0x131123, 0x131321,
    0x112313, 0x132113, 0x132311, 0x211313, 0x231113, 0x231311, 0x112133, 0x112331, 0x132131,
    0x113123, 0x113321, 0x133121, 0x313121, 0x211331, 0x231131, 0x213113, 0x213311, 0x213131,
    0x311123, 0x311321, 0x331121, 0x312113, 0x312311, 0x332111, 0x314111, 0x221411, 0x431111,
    0x111224, 0x111422, 0x121124, 0x121421, 0x141122, 0x141221, 0x112214, 0x112412, 0x122114,
    0x122411, 0x142112, 0x142211, 0x241211, 0x221114, 0x413111, 0x241112, 0x134111, 0x111242,
    0x121142, 0x121241, 0x114212, 0x124112, 0x124211, 0x411212, 0x421112, 0x421211, 0x212141,
    0x214121, 0x412121, 0x111143, 0x111341, 0x131141, 0x114113, 0x114311, 0x411113, 0x411311,
    0x113141, 0x114131, 0x311141, 0x411131, 0x211412, 0x211214, 0x211232,
)  # fmt: skip
_C128_STOP = const(0x2331112)
_C128_SHIFT = const(98)
_C128_TO_C = const(99)
_C128_TO_B = const(100)
_C128_TO_A = const(101)
_C128_FNC1 = const(102)
_C128_START_A = const(103)
_SET_A = const(0)
_SET_B = const(1)
_SET_C = const(2)


def _digits(data, n) -> bool:
    for k in range(n):
        if not 0x30 <= data[k] <= 0x39:
            return False
    return True


def _check_mod10(data, n) -> int:
    """UPC/EAN check digit of data[0:n]: weights 3, 1 from the right."""
    total = 0
    weight = 3
    for k in range(n - 1, -1, -1):
        total += (data[k] - 0x30) * weight
        weight = 4 - weight
    return (10 - total % 10) % 10


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
        self._digits = bytearray(16)  # UPC/EAN digits with their check digit
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

    def _start(self):
        self.count = 0
        self.width = 0
        self.text_len = 0

    def _run(self, bar: int, dots: int) -> bool:
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

    def _modules(self, pattern: int, n: int) -> bool:
        """Add n modules, MSB first, 1 = bar."""
        m = self.module
        ok = True
        for k in range(n - 1, -1, -1):
            ok = self._run((pattern >> k) & 1, m) and ok
        return ok

    def _elements(self, pattern: int, n: int, bar: int) -> bool:
        """Add n wide/narrow elements (1 = wide, MSB first), alternating from `bar`."""
        narrow = self.module
        wide = _wide(narrow)
        ok = True
        for k in range(n - 1, -1, -1):
            ok = self._run(bar, wide if (pattern >> k) & 1 else narrow) and ok
            bar ^= 1
        return ok

    def _widths(self, pattern: int, n: int) -> bool:
        """Add n elements given as module counts, 4 bits each, bar first."""
        m = self.module
        ok = True
        bar = 1
        for k in range(n - 1, -1, -1):
            ok = self._run(bar, ((pattern >> (4 * k)) & 0xF) * m) and ok
            bar ^= 1
        return ok

    def _hri(self, data, n):
        t = self.text
        n = n if n < _TEXT_MAX - self.text_len else _TEXT_MAX - self.text_len
        for k in range(n):
            t[self.text_len + k] = data[k]
        self.text_len += n

    # ---- symbologies -------------------------------------------------------------------------

    def encode(self, m: int, data, n: int) -> bool:
        """Encode data[0:n] in GS k symbology m (form A 0-6 or form B 65-73)."""
        self._start()
        if m <= 6:
            m += UPC_A
        ok = False
        if n > 0:
            if m == UPC_A:
                ok = self._ean(data, n, 11, 0)
            elif m == EAN13:
                ok = self._ean(data, n, 12, 0)
            elif m == EAN8:
                ok = self._ean(data, n, 7, 0)
            elif m == UPC_E:
                ok = self._upc_e(data, n)
            elif m == CODE39:
                ok = self._code39(data, n)
            elif m == ITF:
                ok = self._itf(data, n)
            elif m == CODABAR:
                ok = self._codabar(data, n)
            elif m == CODE93:
                ok = self._code93(data, n)
            elif m == CODE128:
                ok = self._code128(data, n)
        if not ok:
            self.count = 0
            self.width = 0
            self.text_len = 0
        return ok

    def _ean(self, data, n: int, body: int, upc_e_ns: int) -> bool:
        """UPC-A (11 digits), EAN-13 (12), EAN-8 (7); a check digit given must be right."""
        if not (n == body or n == body + 1) or not _digits(data, n):
            return False
        check = _check_mod10(data, body)
        if n == body + 1 and data[body] - 0x30 != check:
            return False
        d = self._digits
        for k in range(body):
            d[k] = data[k] - 0x30
        d[body] = check
        count = body + 1
        if count == 12:  # UPC-A is EAN-13 with a leading 0
            for k in range(12, 0, -1):
                d[k] = d[k - 1]
            d[0] = 0
            count = 13
        ok = self._modules(0b101, 3)
        if count == 13:
            parity = _EAN13_G[d[0]]
            left = d[1:7]
            right = d[7:13]
        else:
            parity = 0
            left = d[0:4]
            right = d[4:8]
        half = len(left)
        for k in range(half):
            ok = self._left_digit(left[k], (parity >> (half - 1 - k)) & 1) and ok
        ok = self._modules(0b01010, 5) and ok
        for k in range(half):
            ok = self._modules(_EAN_L[right[k]] ^ 0x7F, 7) and ok
        ok = self._modules(0b101, 3) and ok
        first = 1 if body == 11 else 0  # UPC-A's HRI shows its 12 digits, not EAN-13's 0
        for k in range(first, count):
            self.text[k - first] = d[k] + 0x30
        self.text_len = count - first
        return ok

    def _left_digit(self, digit: int, g: int) -> bool:
        p = _EAN_L[digit]
        if g:  # G: R reversed
            r = p ^ 0x7F
            p = 0
            for _ in range(7):
                p = (p << 1) | (r & 1)
                r >>= 1
        return self._modules(p, 7)

    def _upc_e(self, data, n: int) -> bool:
        """UPC-E from 6 digits (number system 0), 7 (with number system), 8 (with check digit),
        or 11/12 UPC-A digits that zero-suppress."""
        if not _digits(data, n) or n not in (6, 7, 8, 11, 12):
            return False
        e = bytearray(8)  # number system, six digits, check digit
        upc = bytearray(12)
        if n <= 8:
            at = 0
            if n == 6:
                e[0] = 0
            else:
                e[0] = data[0] - 0x30
                at = 1
            for k in range(6):
                e[1 + k] = data[at + k] - 0x30
            _expand_upc_e(e, upc)
        else:
            for k in range(n):
                upc[k] = data[k] - 0x30
            if not _compress_upc_a(upc, e):
                return False
        if e[0] > 1:
            return False
        for k in range(12):
            upc[k] += 0x30
        check = _check_mod10(upc, 11)
        if (n == 8 and data[7] - 0x30 != check) or (n == 12 and data[11] - 0x30 != check):
            return False
        e[7] = check
        parity = _UPCE_G[check]
        if e[0]:
            parity ^= 0x3F
        ok = self._modules(0b101, 3)
        for k in range(6):
            ok = self._left_digit(e[1 + k], (parity >> (5 - k)) & 1) and ok
        ok = self._modules(0b010101, 6) and ok
        for k in range(8):
            self.text[k] = e[k] + 0x30
        self.text_len = 8
        return ok

    def _code39(self, data, n: int) -> bool:
        """Code 39 with the * start/stop added (a * given at either end is taken as it)."""
        if data[0] == 0x2A:
            data = data[1:n]
            n -= 1
        if n and data[n - 1] == 0x2A:
            n -= 1
        if n <= 0:
            return False
        ok = self._code39_char(0x2A)
        for k in range(n):
            ok = self._run(0, self.module) and self._code39_char(data[k]) and ok
        ok = self._run(0, self.module) and self._code39_char(0x2A) and ok
        self.text[0] = 0x2A
        self.text_len = 1
        self._hri(data, n)
        self._hri(b"*", 1)
        return ok

    def _code39_char(self, c: int) -> bool:
        for g in range(4):
            at = _C39[g].find(bytes((c,)))
            if at >= 0:
                bars = _WIDE5[(at + 1) % 10]
                spaces = _C39_SPACE[g]
                break
        else:
            at = _C39_ALL_NARROW.find(bytes((c,)))
            if at < 0 or c == 0:
                return False
            bars = 0
            spaces = _C39_ALL_NARROW_SPACE[at]
        # Interleave: bar, space, bar, space, bar, space, bar, space, bar.
        pattern = 0
        for k in range(5):
            pattern = (pattern << 1) | ((bars >> (4 - k)) & 1)
            if k < 4:
                pattern = (pattern << 1) | ((spaces >> (3 - k)) & 1)
        return self._elements(pattern, 9, 1)

    def _itf(self, data, n: int) -> bool:
        """Interleaved 2 of 5: an even count of digits, in pairs (bars, then spaces)."""
        if n & 1 or not _digits(data, n):
            return False
        ok = self._elements(0, 4, 1)  # start: narrow bar, space, bar, space
        for k in range(0, n, 2):
            bars = _WIDE5[data[k] - 0x30]
            spaces = _WIDE5[data[k + 1] - 0x30]
            for e in range(4, -1, -1):
                ok = self._elements((bars >> e) & 1, 1, 1) and ok
                ok = self._elements((spaces >> e) & 1, 1, 0) and ok
        ok = self._elements(0b100, 3, 1) and ok  # stop: wide bar, narrow space, narrow bar
        self._hri(data, n)
        return ok

    def _codabar(self, data, n: int) -> bool:
        """Codabar (NW-7): data given with its start and stop characters A-D."""
        if n < 2:
            return False
        ok = True
        for k in range(n):
            c = data[k]
            if 0x61 <= c <= 0x64:
                c -= 0x20  # a-d as A-D
            at = _CODABAR_CHARS.find(bytes((c,)))
            end = k == 0 or k == n - 1
            if at < 0 or (at >= 16) != end:
                return False
            if k:
                ok = self._run(0, self.module) and ok
            ok = self._elements(_CODABAR[at], 7, 1) and ok
        self._hri(data, n)
        return ok

    def _code93(self, data, n: int) -> bool:
        """Code 93, full ASCII (0-127) through its shift characters, check characters C, K."""
        values = bytearray(2 * n + 2)
        v = 0
        for k in range(n):
            c = data[k]
            if c > 127:
                return False
            at = _C93_CHARS.find(bytes((c,))) if c else -1
            if at >= 0:
                values[v] = at
                v += 1
            else:
                shift, letter = _c93_shift(c)
                values[v] = shift
                values[v + 1] = letter
                v += 2
        for weight_max, pos in ((20, v), (15, v + 1)):
            total = 0
            weight = 1
            for k in range(pos - 1, -1, -1):
                total += values[k] * weight
                weight = weight + 1 if weight < weight_max else 1
            values[pos] = total % 47
        ok = self._modules(_C93_START, 9)
        for k in range(v + 2):
            ok = self._modules(_C93[values[k]], 9) and ok
        ok = self._modules(_C93_START, 9) and self._modules(1, 1) and ok
        self._hri(data, n)
        return ok

    def _code128(self, data, n: int) -> bool:
        """Code 128 as Epson takes it: data starts with {A, {B or {C; {A {B {C switch sets, {S
        shifts one character, {1 {2 {3 {4 are FNC1-4, {{ is '{'."""
        if n < 2 or data[0] != 0x7B or data[1] not in b"ABC":
            return False
        code_set = data[1] - 0x41
        total = _C128_START_A + code_set
        ok = self._widths(_C128[total], 6)
        count = 1
        k = 2
        shift = False
        while k < n:
            c = data[k]
            k += 1
            if c == 0x7B:
                if k >= n:
                    return False
                sel = data[k]
                k += 1
                if sel != 0x7B:
                    value = _c128_selector(code_set, sel)
                    if value < 0:
                        return False
                    if 0x41 <= sel <= 0x43:
                        code_set = sel - 0x41
                    shift = value == _C128_SHIFT
                    total += value * count
                    count += 1
                    ok = self._widths(_C128[value], 6) and ok
                    continue
            if code_set == _SET_C and not shift:
                if k >= n or not (0x30 <= c <= 0x39 and 0x30 <= data[k] <= 0x39):
                    return False
                value = (c - 0x30) * 10 + data[k] - 0x30
                self._hri(data[k - 1 : k + 1], 2)
                k += 1
            else:
                as_set = code_set
                if shift:
                    as_set = _SET_B if code_set == _SET_A else _SET_A
                value = _c128_value(as_set, c)
                if value < 0:
                    return False
                if c >= 0x20:
                    self._hri(bytes((c,)), 1)
            shift = False
            total += value * count
            count += 1
            ok = self._widths(_C128[value], 6) and ok
        ok = self._widths(_C128[total % 103], 6) and ok
        ok = self._widths(_C128_STOP, 7) and ok
        return ok and count > 1


def _c128_selector(code_set: int, sel: int) -> int:
    """The Code 128 value of an Epson {X selector in `code_set`, or -1."""
    if sel == 0x41:
        return -1 if code_set == _SET_A else _C128_TO_A
    if sel == 0x42:
        return -1 if code_set == _SET_B else _C128_TO_B
    if sel == 0x43:
        return -1 if code_set == _SET_C else _C128_TO_C
    if sel == 0x31:
        return _C128_FNC1
    if code_set == _SET_C:
        return -1
    if sel == 0x53:
        return _C128_SHIFT
    if sel == 0x32:
        return 97  # FNC2
    if sel == 0x33:
        return 96  # FNC3
    if sel == 0x34:
        return 101 if code_set == _SET_A else 100  # FNC4
    return -1


def _c128_value(code_set: int, c: int) -> int:
    if code_set == _SET_B:
        return c - 0x20 if 0x20 <= c <= 0x7F else -1
    if 0x20 <= c <= 0x5F:
        return c - 0x20
    return c + 64 if c < 0x20 else -1


def _c93_shift(c: int):
    """(shift value, letter value) of an ASCII character outside Code 93's 43."""
    if c == 0:
        return _C93_SHIFT_PERCENT, 30  # %U
    if c < 27:
        return _C93_SHIFT_DOLLAR, c + 9  # $A-$Z
    if c < 32:
        return _C93_SHIFT_PERCENT, c - 17  # %A-%E
    if c < 0x3B:  # ! " # & ' ( ) * , :  -> /A-/L, /Z
        return _C93_SHIFT_SLASH, (25 + 10 if c == 0x3A else c - 0x21 + 10)
    if c < 0x40:  # ; < = > ?  -> %F-%J
        return _C93_SHIFT_PERCENT, c - 0x3B + 15
    if c == 0x40:
        return _C93_SHIFT_PERCENT, 31  # %V
    if c < 0x60:  # [ \ ] ^ _  -> %K-%O
        return _C93_SHIFT_PERCENT, c - 0x5B + 20
    if c == 0x60:
        return _C93_SHIFT_PERCENT, 32  # %W
    if c < 0x7B:
        return _C93_SHIFT_PLUS, c - 0x61 + 10  # +A-+Z
    return _C93_SHIFT_PERCENT, c - 0x7B + 25  # { | } ~ DEL -> %P-%T


def _expand_upc_e(e, upc):
    """UPC-E number system + 6 digits -> the 11 UPC-A digits it stands for."""
    d = e[1:7]
    upc[0] = e[0]
    last = d[5]
    for k in range(1, 11):
        upc[k] = 0
    if last <= 2:
        upc[1], upc[2], upc[3] = d[0], d[1], last
        upc[8], upc[9], upc[10] = d[2], d[3], d[4]
    elif last == 3:
        upc[1], upc[2], upc[3] = d[0], d[1], d[2]
        upc[9], upc[10] = d[3], d[4]
    elif last == 4:
        upc[1], upc[2], upc[3], upc[4] = d[0], d[1], d[2], d[3]
        upc[10] = d[4]
    else:
        for k in range(5):
            upc[1 + k] = d[k]
        upc[10] = last


def _compress_upc_a(upc, e) -> bool:
    """UPC-A digits -> number system + 6 UPC-E digits, if they zero-suppress."""
    e[0] = upc[0]
    m = upc[1:6]
    p = upc[6:11]
    if m[3] == 0 and m[4] == 0 and m[2] <= 2 and p[0] == 0 and p[1] == 0:
        six = (m[0], m[1], p[2], p[3], p[4], m[2])
    elif m[3] == 0 and m[4] == 0 and p[0] == 0 and p[1] == 0 and p[2] == 0:
        six = (m[0], m[1], m[2], p[3], p[4], 3)
    elif m[4] == 0 and p[0] == 0 and p[1] == 0 and p[2] == 0 and p[3] == 0:
        six = (m[0], m[1], m[2], m[3], p[4], 4)
    elif p[0] == 0 and p[1] == 0 and p[2] == 0 and p[3] == 0 and p[4] >= 5:
        six = (m[0], m[1], m[2], m[3], m[4], p[4])
    else:
        return False
    for k in range(6):
        e[1 + k] = six[k]
    return True
