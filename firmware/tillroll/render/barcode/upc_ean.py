"""UPC-A, UPC-E, EAN-13 and EAN-8 (ISO/IEC 15420): digits -> modules, check digit as Epson
adds it (given without one) or checks it (given with one)."""

# UPC/EAN: L (odd parity) patterns of the digits, 7 modules each; R is L inverted, G is R
# reversed.
_EAN_L = (0x0D, 0x19, 0x13, 0x3D, 0x23, 0x31, 0x2F, 0x3B, 0x37, 0x0B)
# EAN-13: which of the six left digits use G, by the first digit (bit 5 = second digit).
_EAN13_G = (0x00, 0x0B, 0x0D, 0x0E, 0x13, 0x19, 0x1C, 0x15, 0x16, 0x1A)
# UPC-E (number system 0): which of the six digits use G (even parity), by the check digit.
_UPCE_G = (0x38, 0x34, 0x32, 0x31, 0x2C, 0x26, 0x23, 0x2A, 0x29, 0x25)


def digits_only(data, n) -> bool:
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


def encode_ean(bc, data, n: int, body: int) -> bool:
    """UPC-A (11 digits), EAN-13 (12), EAN-8 (7); a check digit given must be right."""
    if not (n == body or n == body + 1) or not digits_only(data, n):
        return False
    check = _check_mod10(data, body)
    if n == body + 1 and data[body] - 0x30 != check:
        return False
    d = bc.digits
    for k in range(body):
        d[k] = data[k] - 0x30
    d[body] = check
    count = body + 1
    if count == 12:  # UPC-A is EAN-13 with a leading 0
        for k in range(12, 0, -1):
            d[k] = d[k - 1]
        d[0] = 0
        count = 13
    ok = bc.modules(0b101, 3)
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
        ok = _left_digit(bc, left[k], (parity >> (half - 1 - k)) & 1) and ok
    ok = bc.modules(0b01010, 5) and ok
    for k in range(half):
        ok = bc.modules(_EAN_L[right[k]] ^ 0x7F, 7) and ok
    ok = bc.modules(0b101, 3) and ok
    first = 1 if body == 11 else 0  # UPC-A's HRI shows its 12 digits, not EAN-13's 0
    for k in range(first, count):
        bc.text[k - first] = d[k] + 0x30
    bc.text_len = count - first
    return ok


def _left_digit(bc, digit: int, g: int) -> bool:
    p = _EAN_L[digit]
    if g:  # G: R reversed
        r = p ^ 0x7F
        p = 0
        for _ in range(7):
            p = (p << 1) | (r & 1)
            r >>= 1
    return bc.modules(p, 7)


def encode_upc_e(bc, data, n: int) -> bool:
    """UPC-E from 6 digits (number system 0), 7 (with number system), 8 (with check digit),
    or 11/12 UPC-A digits that zero-suppress."""
    if not digits_only(data, n) or n not in (6, 7, 8, 11, 12):
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
    ok = bc.modules(0b101, 3)
    for k in range(6):
        ok = _left_digit(bc, e[1 + k], (parity >> (5 - k)) & 1) and ok
    ok = bc.modules(0b010101, 6) and ok
    for k in range(8):
        bc.text[k] = e[k] + 0x30
    bc.text_len = 8
    return ok


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
