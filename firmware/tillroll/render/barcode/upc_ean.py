"""UPC-A, UPC-E, EAN-13 and EAN-8 (ISO/IEC 15420): digits -> modules, with the check digit as
Epson takes it: added when the data comes without one; when it comes with one, that digit is
the check digit, printed as sent and not checked (the manual's words)."""

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


def _check_mod10(digits, at: int, n: int) -> int:
    """UPC/EAN check digit of the values digits[at:at + n]: weights 3, 1 from the right."""
    total = 0
    weight = 3
    for k in range(at + n - 1, at - 1, -1):
        total += digits[k] * weight
        weight = 4 - weight
    return (10 - total % 10) % 10


def encode_ean(bc, data, n: int, body: int) -> bool:
    """UPC-A (11 digits), EAN-13 (12), EAN-8 (7), each with or without its check digit."""
    if not (n == body or n == body + 1) or not digits_only(data, n):
        return False
    d = bc.digits
    first = 1 if body == 11 else 0  # UPC-A is EAN-13 with a leading 0
    d[0] = 0
    for k in range(n):
        d[first + k] = data[k] - 0x30
    count = first + body + 1
    if n == body:
        d[count - 1] = _check_mod10(d, 0, count - 1)
    bc.modules(0b101, 3)
    if count == 13:
        parity = _EAN13_G[d[0]]
        half = 6
    else:
        parity = 0
        half = 4
    left = count - 2 * half  # EAN-13's first digit is in the parity, not in a character
    for k in range(half):
        _left_digit(bc, d[left + k], (parity >> (half - 1 - k)) & 1)
    bc.modules(0b01010, 5)
    for k in range(half):
        bc.modules(_EAN_L[d[left + half + k]] ^ 0x7F, 7)
    bc.modules(0b101, 3)
    for k in range(first, count):  # UPC-A's HRI shows its 12 digits, not EAN-13's 0
        bc.text[k - first] = d[k] + 0x30
    bc.text_len = count - first
    return True


def _left_digit(bc, digit: int, g: int):
    p = _EAN_L[digit]
    if g:  # G: R reversed
        r = p ^ 0x7F
        p = 0
        for _ in range(7):
            p = (p << 1) | (r & 1)
            r >>= 1
    bc.modules(p, 7)


def encode_upc_e(bc, data, n: int) -> bool:
    """UPC-E from 6 digits (number system 0 added), 7 (with the number system), 8 (and the
    check digit), or 11/12 UPC-A digits that zero-suppress. The number system must be 0."""
    if not digits_only(data, n) or n not in (6, 7, 8, 11, 12):
        return False
    e = bc.digits  # number system, six digits, check digit
    upc = bc.scratch  # the 11 UPC-A digits (and check digit) it stands for
    if n <= 8:
        at = 0 if n == 6 else 1
        e[0] = 0 if n == 6 else data[0] - 0x30
        for k in range(6):
            e[1 + k] = data[at + k] - 0x30
        _expand_upc_e(e, upc)
    else:
        for k in range(n):
            upc[k] = data[k] - 0x30
        if not _compress_upc_a(upc, e):
            return False
    if e[0] != 0:  # Epson: the number system character must be 0
        return False
    check = _check_mod10(upc, 0, 11)
    if n == 8 or n == 12:
        check = data[n - 1] - 0x30  # given: printed as sent
    e[7] = check
    parity = _UPCE_G[check]
    bc.modules(0b101, 3)
    for k in range(6):
        _left_digit(bc, e[1 + k], (parity >> (5 - k)) & 1)
    bc.modules(0b010101, 6)
    for k in range(8):
        bc.text[k] = e[k] + 0x30
    bc.text_len = 8
    return True


def _expand_upc_e(e, upc):
    """UPC-E number system + 6 digits (e[0:7]) -> the 11 UPC-A digits it stands for."""
    upc[0] = e[0]
    last = e[6]
    for k in range(1, 11):
        upc[k] = 0
    if last <= 2:
        upc[1], upc[2], upc[3] = e[1], e[2], last
        upc[8], upc[9], upc[10] = e[3], e[4], e[5]
    elif last == 3:
        upc[1], upc[2], upc[3] = e[1], e[2], e[3]
        upc[9], upc[10] = e[4], e[5]
    elif last == 4:
        upc[1], upc[2], upc[3], upc[4] = e[1], e[2], e[3], e[4]
        upc[10] = e[5]
    else:
        for k in range(5):
            upc[1 + k] = e[1 + k]
        upc[10] = last


def _zeros(upc, at: int, n: int) -> bool:
    for k in range(at, at + n):
        if upc[k]:
            return False
    return True


def _compress_upc_a(upc, e) -> bool:
    """UPC-A digits (manufacturer 1-5, product 6-10) -> number system + 6 UPC-E digits, if
    they zero-suppress (the manual's table)."""
    e[0] = upc[0]
    e[1] = upc[1]
    e[2] = upc[2]
    if upc[3] <= 2 and _zeros(upc, 4, 4):
        e[3], e[4], e[5], e[6] = upc[8], upc[9], upc[10], upc[3]
    elif _zeros(upc, 4, 5):
        e[3], e[4], e[5], e[6] = upc[3], upc[9], upc[10], 3
    elif _zeros(upc, 5, 5):
        e[3], e[4], e[5], e[6] = upc[3], upc[4], upc[10], 4
    elif _zeros(upc, 6, 4) and upc[10] >= 5:
        e[3], e[4], e[5], e[6] = upc[3], upc[4], upc[5], upc[10]
    else:
        return False
    return True
