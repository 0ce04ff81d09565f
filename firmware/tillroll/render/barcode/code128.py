"""Code 128 (ISO/IEC 15417) as Epson takes it: code sets chosen by `{A {B {C` in the data."""

from micropython import const

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


def encode_code128(bc, data, n: int) -> bool:
    """Code 128 as Epson takes it: data starts with {A, {B or {C; {A {B {C switch sets, {S
    shifts one character, {1 {2 {3 {4 are FNC1-4, {{ is '{'."""
    if n < 2 or data[0] != 0x7B or data[1] not in b"ABC":
        return False
    code_set = data[1] - 0x41
    total = _C128_START_A + code_set
    ok = bc.widths(_C128[total], 6)
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
                ok = bc.widths(_C128[value], 6) and ok
                continue
        if code_set == _SET_C and not shift:
            if k >= n or not (0x30 <= c <= 0x39 and 0x30 <= data[k] <= 0x39):
                return False
            value = (c - 0x30) * 10 + data[k] - 0x30
            bc.add_char(c)
            bc.add_char(data[k])
            k += 1
        else:
            as_set = code_set
            if shift:
                as_set = _SET_B if code_set == _SET_A else _SET_A
            value = _c128_value(as_set, c)
            if value < 0:
                return False
            if c >= 0x20:
                bc.add_char(c)
        shift = False
        total += value * count
        count += 1
        ok = bc.widths(_C128[value], 6) and ok
    ok = bc.widths(_C128[total % 103], 6) and ok
    ok = bc.widths(_C128_STOP, 7) and ok
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
