"""Ed25519 signature verification (RFC 8032, section 5.1.7), for signed update manifests.

Cofactorless: the signature holds when [S]B - [k]A, encoded, is the 32 bytes R, with
k = SHA-512(R || A || M) mod L. Comparing encodings decodes R as strictly as the RFC does (an
R that is no point's canonical encoding never matches), so R is never decoded. A is decoded
as section 5.1.3 says, S must be below L. Points are in extended twisted Edwards coordinates
(X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z (section 5.1.4); pow() inverts and takes roots.
"""

from .sha512 import sha512

_P = (1 << 255) - 19
_L = (1 << 252) + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_D2 = 2 * _D % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = t1 * _D2 * t2 % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(p):
    x1, y1, z1, _ = p
    a = x1 * x1 % _P
    b = y1 * y1 % _P
    c = 2 * z1 * z1 % _P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _decode(s):
    """The point that the 32 bytes `s` encode, or None (section 5.1.3)."""
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    u = y * y - 1
    v = _D * y * y + 1
    x = u * v**3 * pow(u * v**7 % _P, (_P - 5) // 8, _P) % _P
    vx2 = v * x * x % _P
    if vx2 == (-u) % _P:
        x = x * _SQRT_M1 % _P
    elif vx2 != u % _P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _encode(p):
    x, y, z, _ = p
    zi = pow(z, _P - 2, _P)
    x = x * zi % _P
    y = y * zi % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


_B = _decode(b"\x58" + b"\x66" * 31)  # y = 4/5, x even (section 5.1)


def verify(public_key, message, signature):
    """True if `signature` (64 bytes) is the Ed25519 signature of `message` by the key
    `public_key` (32 bytes); False for any other input, a malformed one included."""
    try:
        if len(public_key) != 32 or len(signature) != 64:
            return False
        a = _decode(public_key)
        s = int.from_bytes(signature[32:], "little")
        if a is None or s >= _L:
            return False
        r = bytes(signature[:32])
        h = sha512(r)
        h.update(public_key)
        h.update(message)
        k = int.from_bytes(h.digest(), "little") % _L
    except TypeError:  # not bytes
        return False
    # [S]B + [k](-A), both scalars at once: one doubling a bit.
    x, y, z, t = a
    neg_a = (_P - x, y, z, _P - t)
    table = (None, _B, neg_a, _add(_B, neg_a))
    q = (0, 1, 1, 0)
    for i in range(252, -1, -1):
        q = _double(q)
        j = (s >> i & 1) | (k >> i & 1) << 1
        if j:
            q = _add(q, table[j])
    return _encode(q) == r
