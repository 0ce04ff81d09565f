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


def encode_code39(bc, data, n: int) -> bool:
    """Code 39 with the * start/stop added (a * given at either end is taken as it)."""
    if data[0] == 0x2A:
        data = data[1:n]
        n -= 1
    if n and data[n - 1] == 0x2A:
        n -= 1
    if n <= 0:
        return False
    ok = _code39_char(bc, 0x2A)
    for k in range(n):
        ok = bc.run(0, bc.module) and _code39_char(bc, data[k]) and ok
    ok = bc.run(0, bc.module) and _code39_char(bc, 0x2A) and ok
    bc.text[0] = 0x2A
    bc.text_len = 1
    bc.add_text(data, n)
    bc.add_text(b"*", 1)
    return ok


def _code39_char(bc, c: int) -> bool:
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
    return bc.elements(pattern, 9, 1)


def encode_itf(bc, data, n: int) -> bool:
    """Interleaved 2 of 5: an even count of digits, in pairs (bars, then spaces)."""
    if n & 1 or not digits_only(data, n):
        return False
    ok = bc.elements(0, 4, 1)  # start: narrow bar, space, bar, space
    for k in range(0, n, 2):
        bars = _WIDE5[data[k] - 0x30]
        spaces = _WIDE5[data[k + 1] - 0x30]
        for e in range(4, -1, -1):
            ok = bc.elements((bars >> e) & 1, 1, 1) and ok
            ok = bc.elements((spaces >> e) & 1, 1, 0) and ok
    ok = bc.elements(0b100, 3, 1) and ok  # stop: wide bar, narrow space, narrow bar
    bc.add_text(data, n)
    return ok


def encode_codabar(bc, data, n: int) -> bool:
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
            ok = bc.run(0, bc.module) and ok
        ok = bc.elements(_CODABAR[at], 7, 1) and ok
    bc.add_text(data, n)
    return ok
