"""Code 93: full ASCII through its four shift characters, with check characters C and K."""

from micropython import const

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


def encode_code93(bc, data, n: int) -> bool:
    """Code 93, full ASCII (0-127) through its shift characters, check characters C, K."""
    values = bc.code128.items  # free while this symbol is encoded: 2 values a byte at most
    v = 0
    for k in range(n):
        c = data[k]
        if c > 127:
            return False
        at = _c93_at(c)
        if at >= 0:
            values[v] = at
            v += 1
        else:
            pair = _c93_shift(c)
            values[v] = pair >> 6
            values[v + 1] = pair & 0x3F
            v += 2
    _check(values, v, 20)  # C
    _check(values, v + 1, 15)  # K
    bc.modules(_C93_START, 9)
    for k in range(v + 2):
        bc.modules(_C93[values[k]], 9)
    bc.modules(_C93_START, 9)
    bc.modules(1, 1)
    bc.add_text(data, n)
    return True


def _check(values, pos: int, weight_max: int):
    """A check character over values[0:pos], into values[pos]: weights 1 to weight_max from
    the right, again and again."""
    total = 0
    weight = 1
    for k in range(pos - 1, -1, -1):
        total += values[k] * weight
        weight = weight + 1 if weight < weight_max else 1
    values[pos] = total % 47


def _c93_at(c: int) -> int:
    for k in range(len(_C93_CHARS)):
        if _C93_CHARS[k] == c:
            return k
    return -1


def _c93_shift(c: int):
    """shift value << 6 | letter value, of an ASCII character outside Code 93's 43."""
    if c == 0:
        return (_C93_SHIFT_PERCENT << 6) | 30  # %U
    if c < 27:
        return (_C93_SHIFT_DOLLAR << 6) | (c + 9)  # $A-$Z
    if c < 32:
        return (_C93_SHIFT_PERCENT << 6) | (c - 17)  # %A-%E
    if c < 0x3B:  # ! " # & ' ( ) * , :  -> /A-/L, /Z
        return (_C93_SHIFT_SLASH << 6) | (25 + 10 if c == 0x3A else c - 0x21 + 10)
    if c < 0x40:  # ; < = > ?  -> %F-%J
        return (_C93_SHIFT_PERCENT << 6) | (c - 0x3B + 15)
    if c == 0x40:
        return (_C93_SHIFT_PERCENT << 6) | 31  # %V
    if c < 0x60:  # [ \ ] ^ _  -> %K-%O
        return (_C93_SHIFT_PERCENT << 6) | (c - 0x5B + 20)
    if c == 0x60:
        return (_C93_SHIFT_PERCENT << 6) | 32  # %W
    if c < 0x7B:
        return (_C93_SHIFT_PLUS << 6) | (c - 0x61 + 10)  # +A-+Z
    return (_C93_SHIFT_PERCENT << 6) | (c - 0x7B + 25)  # { | } ~ DEL -> %P-%T
