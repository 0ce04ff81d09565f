"""SHA-512 (FIPS 180-4), for Ed25519 signatures: the port's hashlib has no sha512.

The words are Python ints cut to 64 bits; on the chip each is a long int, so a 128-byte block
costs a few thousand small allocations (Ed25519 hashes two blocks a manifest). The constants
are made at import as FIPS 180-4 defines them, from the first 80 primes, so none is stored.
"""

_M = (1 << 64) - 1


def _fraction_root(q, k):
    # The first 64 bits of the fractional part of q ** (1/k): Newton's method on integers,
    # from above, starting within a factor of two (c is the root's integer part).
    n = q << 64 * k
    c = 1
    while (c + 1) ** k <= q:
        c += 1
    x = (c + 1) << 64
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            return x & _M
        x = y


def _primes(count):
    found = []
    n = 2
    while len(found) < count:
        if all(n % q for q in found):
            found.append(n)
        n += 1
    return found


# Section 4.2.3: the first 64 bits of the fractional parts of the cube roots of the first 80
# primes; section 5.3.5: of the square roots of the first 8.
_K = [_fraction_root(q, 3) for q in _primes(80)]
_H = [_fraction_root(q, 2) for q in _primes(8)]


def _rotr(x, n):
    return (x >> n | x << (64 - n)) & _M


def _compress(h, block):
    w = [int.from_bytes(block[i : i + 8], "big") for i in range(0, 128, 8)]
    for t in range(16, 80):
        x, y = w[t - 15], w[t - 2]
        s0 = _rotr(x, 1) ^ _rotr(x, 8) ^ x >> 7
        s1 = _rotr(y, 19) ^ _rotr(y, 61) ^ y >> 6
        w.append((w[t - 16] + s0 + w[t - 7] + s1) & _M)
    a, b, c, d, e, f, g, hh = h
    for t in range(80):
        t1 = hh + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41)) + (g ^ e & (f ^ g)) + _K[t] + w[t]
        t2 = (_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + (a & b | c & (a | b))
        hh, g, f, e, d, c, b = g, f, e, (d + t1) & _M, c, b, a
        a = (t1 + t2) & _M
    for i, v in enumerate((a, b, c, d, e, f, g, hh)):
        h[i] = (h[i] + v) & _M


class sha512:
    """As hashlib's: update() any number of times, then digest() once."""

    def __init__(self, data=b""):
        self._h = list(_H)
        self._buf = bytearray()
        self._n = 0
        self.update(data)

    def update(self, data):
        self._n += len(data)
        buf = self._buf
        buf.extend(data)
        done = len(buf) & ~127
        for i in range(0, done, 128):
            _compress(self._h, memoryview(buf)[i : i + 128])
        self._buf = buf[done:]

    def digest(self):
        # Section 5.1.2: a one bit, zeros, then the length in bits in 128 bits.
        pad = bytearray(b"\x80")
        pad.extend(bytes((111 - self._n) % 128))
        pad.extend((self._n * 8).to_bytes(16, "big"))
        self.update(pad)
        out = bytearray()
        for v in self._h:
            out.extend(v.to_bytes(8, "big"))
        return bytes(out)
