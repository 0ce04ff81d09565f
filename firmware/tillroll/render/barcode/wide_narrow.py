"""Code 39 (ISO/IEC 16388), Interleaved 2 of 5 (ISO/IEC 16390) and Codabar (NW-7): the
symbologies of wide and narrow elements."""

from .upc_ean import digits_only

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


def _find(chars, c: int) -> int:
    for k in range(len(chars)):
        if chars[k] == c:
            return k
    return -1


def encode_code39(bc, data, n: int) -> bool:
    """Code 39 with the * start/stop added where the data lacks them. As the manual has it, a
    '*' after the first character is the stop: the symbol ends there (the sink hands what
    follows back as text)."""
    first = 1 if data[0] == 0x2A else 0
    if n > first and data[n - 1] == 0x2A:
        n -= 1
    if n <= first:
        return False
    for k in range(first, n):
        if data[k] == 0x2A or not _code39_char(bc, data[k], True):
            return False
    _code39_char(bc, 0x2A, False)
    for k in range(first, n):
        bc.run(0, bc.used)
        _code39_char(bc, data[k], False)
    bc.run(0, bc.used)
    _code39_char(bc, 0x2A, False)
    bc.text[0] = 0x2A
    bc.text_len = 1
    for k in range(first, n):
        bc.add_char(data[k])
    bc.add_char(0x2A)
    return True


def _code39_char(bc, c: int, check: bool) -> bool:
    """One character's bars (or, with `check`, only whether Code 39 has it)."""
    for g in range(4):
        at = _find(_C39[g], c)
        if at >= 0:
            bars = _WIDE5[(at + 1) % 10]
            spaces = _C39_SPACE[g]
            break
    else:
        at = _find(_C39_ALL_NARROW, c)
        if at < 0:
            return False
        bars = 0
        spaces = _C39_ALL_NARROW_SPACE[at]
    if check:
        return True
    # Interleave: bar, space, bar, space, bar, space, bar, space, bar.
    pattern = 0
    for k in range(5):
        pattern = (pattern << 1) | ((bars >> (4 - k)) & 1)
        if k < 4:
            pattern = (pattern << 1) | ((spaces >> (3 - k)) & 1)
    bc.elements(pattern, 9, 1)
    return True


def encode_itf(bc, data, n: int) -> bool:
    """Interleaved 2 of 5: an even count of digits, in pairs (bars, then spaces)."""
    if n & 1 or not digits_only(data, n):
        return False
    bc.elements(0, 4, 1)  # start: narrow bar, space, bar, space
    for k in range(0, n, 2):
        bars = _WIDE5[data[k] - 0x30]
        spaces = _WIDE5[data[k + 1] - 0x30]
        for e in range(4, -1, -1):
            bc.elements((bars >> e) & 1, 1, 1)
            bc.elements((spaces >> e) & 1, 1, 0)
    bc.elements(0b100, 3, 1)  # stop: wide bar, narrow space, narrow bar
    bc.add_text(data, n)
    return True


def encode_codabar(bc, data, n: int) -> bool:
    """Codabar (NW-7): data given with its start and stop characters A-D (or a-d), which
    appear nowhere else."""
    if n < 2:
        return False
    for k in range(n):
        at = _codabar_at(data[k])
        if at < 0 or (at >= 16) != (k == 0 or k == n - 1):
            return False
    for k in range(n):
        if k:
            bc.run(0, bc.used)
        bc.elements(_CODABAR[_codabar_at(data[k])], 7, 1)
    bc.add_text(data, n)
    return True


def _codabar_at(c: int) -> int:
    if 0x61 <= c <= 0x64:
        c -= 0x20  # a-d as A-D
    return _find(_CODABAR_CHARS, c)
