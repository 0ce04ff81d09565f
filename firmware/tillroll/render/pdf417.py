"""PDF417 (ISO/IEC 15438), encoded on the module: data -> rows of codewords -> dot lines.

Text compaction when every byte is printable ASCII, tab, CR or LF (two characters a
codeword, the four submodes with shifts), else byte compaction (six bytes in five codewords).
Reed-Solomon over GF(929) at error correction level 0-8 (2 to 512 codewords), its generator
made when the level changes. The symbol's columns and rows come from the GS ( k settings and
the paper: automatic columns are the most that fit 384 dots at the module width (the module
narrows if even the columns the data needs do not fit), automatic rows as many as the data
needs (3 to 90). A row is drawn into a bit row only when it prints (`dot_line`); encoding and
printing allocate nothing (they run with the heap locked).

Viper (pdf417.vpy): the GF(929) loops (a level 8 symbol divides by a degree-512 generator),
the base-900 long division of byte compaction and the row's 17-module patterns.
"""

# viper takes any buffer as ptr8/ptr16; the stubs type them as classes of their own.
# pyright: reportArgumentType=false, reportUndefinedVariable=false

from micropython import const

from ..native import load
from .pdf417_patterns import PATTERNS
from .qr_matrix import expand  # pyright: ignore[reportAttributeAccessIssue]

load(__file__, globals())  # its hot loops: pdf417.vpy

_DOTS = const(384)
_NARROWEST = const(2)  # dots: fitting to the paper narrows the module no further
_CODEWORDS_MAX = const(928)  # in a symbol, ECC included
_ECC_MAX = const(512)  # level 8
_ROWS_MAX = const(90)
_COLUMNS_MAX = const(30)
_PAD = const(900)
_ROW_BYTES = const(80)  # 17 x 34 + 1 modules, standard symbol of 30 columns
# Text compaction: a character's value in the mixed and punctuation submodes is its place here.
_MIXED = b"0123456789&\r\t,:#-.$/+%*=^"
_PUNCT = b";<>@[\\]_`~!\r\t,:\n-.$/\"|*()?{}'"
_ALPHA = const(0)
_LOWER = const(1)
_MIXED_MODE = const(2)
_PUNCT_MODE = const(3)
_NONE = const(0xFF)
# Epson's ratio setting: the level whose ECC suits (data codewords x ratio / 10), its upper ends.
_RATIO_ENDS = (3, 10, 20, 45, 100, 200, 400)


class PDF417:
    """The GS ( k PDF417 settings and the symbol last encoded: `columns_used` x `row_count`
    codewords in `_cw`, `width` modules wide at `module_used` dots."""

    def __init__(self):
        self._cw = bytearray(2 * _CODEWORDS_MAX)
        self._gen = bytearray(2 * (_ECC_MAX + 1))
        self._num = bytearray(6)
        self._bits = bytearray(_ROW_BYTES)
        self._degree = 0
        self._mixed = bytearray(b"\xff" * 128)  # character -> value, _NONE if not in the set
        self._punct = bytearray(b"\xff" * 128)
        for k in range(len(_MIXED)):
            self._mixed[_MIXED[k]] = k
        for k in range(len(_PUNCT)):
            self._punct[_PUNCT[k]] = k
        self._half = -1  # text compaction: a value waiting for its pair
        self._at = 0
        self.row_count = 0
        self.columns_used = 0
        self.module_used = 0
        self.width = 0
        self.ecc_level = 0
        self.unfit = False  # the last encode failed only for the paper's width
        self.height_used = 3  # the symbol's row height and option, as encoded
        self.truncated_used = False
        self.reset()

    def reset(self):
        self.columns = 0  # 0: automatic
        self.rows = 0  # 0: automatic
        self.module = 3  # dots
        self.row_height = 3  # x the module width
        self.level = 1
        self.ratio = 1  # Epson's default: ratio 1 (10 %); 0 when a level is set
        self.truncated = False

    # ---- encode --------------------------------------------------------------------------

    def encode(self, data, n: int, fit: bool = True) -> bool:
        """Encode data[0:n] with the current settings; False if it cannot print, with
        `unfit` set when only the paper's width stood in the way. With `fit`, a module too
        wide for the columns narrows, down to 2 dots."""
        self.row_count = 0
        self.unfit = False
        if n <= 0:
            return False
        cw = self._cw
        count = self._text(data, n)  # data codewords from cw[1]; -1: not text, or too long
        if count < 0:
            if n > (_CODEWORDS_MAX - 4) * 6 // 5:
                return False
            count = _bytes(data, n, cw, 1, self._num) - 1
        level = self.level
        if self.ratio:
            a = ((count + 1) * self.ratio + 5) // 10
            level = 1
            while level < 8 and a > _RATIO_ENDS[level - 1]:
                level += 1
        ecc = 2 << level
        total = 1 + count + ecc
        if total > _CODEWORDS_MAX:
            return False
        # Columns and rows, and the module width they fit the paper at.
        overhead = 2 if self.truncated else 4
        module = self.module
        cols = self.columns
        rows = self.rows
        if cols:
            while (17 * (cols + overhead) + 1) * module > _DOTS:
                if not fit or module <= _NARROWEST:
                    self.unfit = True  # fixed columns wider than the paper
                    return False
                module -= 1
            if not rows:
                rows = (total + cols - 1) // cols
        else:
            need = (total + (rows or _ROWS_MAX) - 1) // (rows or _ROWS_MAX)
            if need > _COLUMNS_MAX:
                return False
            while True:
                cols = (_DOTS // module - 1) // 17 - overhead
                if cols > _COLUMNS_MAX:
                    cols = _COLUMNS_MAX
                if cols >= need and cols >= 1:
                    break
                if not fit or module <= _NARROWEST:
                    self.unfit = True  # the columns the data needs are wider than the paper
                    return False
                module -= 1
            if rows:
                cols = need  # fixed rows: the fewest columns that hold the data
            else:
                rows = (total + cols - 1) // cols
        if rows < 3:
            rows = 3
        if rows > _ROWS_MAX or cols * rows < total or cols * rows > _CODEWORDS_MAX:
            return False
        # Length descriptor, data, pads, ECC.
        n_data = cols * rows - ecc
        _set(cw, 0, n_data)
        for k in range(1 + count, n_data):
            _set(cw, k, _PAD)
        if ecc != self._degree:
            _generator(self._gen, ecc)
            self._degree = ecc
        _remainder(cw, n_data, ecc, self._gen)
        self.ecc_level = level
        self.columns_used = cols
        self.row_count = rows
        self.module_used = module
        self.height_used = self.row_height
        self.truncated_used = self.truncated
        self.width = 17 * (cols + overhead) + 1
        return True

    def _text(self, data, n: int) -> int:
        """Text compaction (the symbol starts in it, upper case) into cw[1:]; the codewords
        written, or -1 if a byte is not text or they would not fit."""
        mixed = self._mixed
        punct = self._punct
        self._half = -1
        self._at = 1
        mode = _ALPHA
        for k in range(n):
            c = data[k]
            if c >= 128 or (c < 32 and mixed[c] == _NONE and punct[c] == _NONE) or c == 127:
                return -1
            if self._at >= _CODEWORDS_MAX - 2:
                return -1
            upper = 65 <= c <= 90
            lower = 97 <= c <= 122
            if c == 32:
                if mode == _PUNCT_MODE:
                    self._put(29)  # al
                    mode = _ALPHA
                self._put(26)
            elif upper:
                if mode == _LOWER:
                    self._put(27)  # as: one upper case letter
                elif mode != _ALPHA:
                    self._put(29 if mode == _PUNCT_MODE else 28)  # al
                    mode = _ALPHA
                self._put(c - 65)
            elif lower:
                if mode == _PUNCT_MODE:
                    self._put(29)  # al, then ll
                    mode = _ALPHA
                if mode != _LOWER:
                    self._put(27)  # ll
                    mode = _LOWER
                self._put(c - 97)
            elif mode == _MIXED_MODE and mixed[c] != _NONE:
                self._put(mixed[c])
            elif mode == _PUNCT_MODE and punct[c] != _NONE:
                self._put(punct[c])
            elif punct[c] != _NONE:
                if mode == _MIXED_MODE and k + 1 < n and _punct_only(punct, mixed, data[k + 1]):
                    self._put(25)  # pl: a run of punctuation
                    mode = _PUNCT_MODE
                else:
                    self._put(29)  # ps: this one character
                self._put(punct[c])
            else:
                if mode == _PUNCT_MODE:
                    self._put(29)  # al, then ml
                    mode = _ALPHA
                self._put(28)  # ml
                mode = _MIXED_MODE
                self._put(mixed[c])
        if self._half >= 0:
            self._put(29)  # ps pads the last codeword
        return self._at - 1

    def _put(self, value: int):
        if self._half < 0:
            self._half = value
        else:
            _set(self._cw, self._at, self._half * 30 + value)
            self._at += 1
            self._half = -1

    # ---- print ---------------------------------------------------------------------------

    def dot_line(self, row: int, offset: int, line):
        """Row `row` as a dot line into `line` (48 bytes): `module_used` dots a module from
        dot `offset`; offset + width * module_used must not pass the 384 dots."""
        cols = self.columns_used
        rows = self.row_count
        cluster = row % 3
        base = 30 * (row // 3)
        # Row indicators: rows, level and columns, spread over the three clusters.
        r = base + (rows - 1) // 3
        lv = base + self.ecc_level * 3 + (rows - 1) % 3
        c = base + cols - 1
        if cluster == 0:
            left, right = r, c
        elif cluster == 1:
            left, right = lv, r
        else:
            left, right = c, lv
        width = _row(
            self._bits, self._cw, row * cols, cols, PATTERNS, 929 * cluster, left, right,
            self.truncated_used,
        )  # fmt: skip
        expand(line, self._bits, 0, width, self.module_used, offset)


def _set(buf, k: int, value: int):
    buf[2 * k] = value & 0xFF  # little-endian, as viper's ptr16 reads it
    buf[2 * k + 1] = value >> 8


def _punct_only(punct, mixed, c: int) -> bool:
    return c < 128 and punct[c] != _NONE and mixed[c] == _NONE and c != 32
