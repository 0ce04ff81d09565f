"""Card numbers never reach flash: a streaming filter between the link and the journal.

A card number is a run of 13 to 19 digits in printable text, the digits optionally grouped by
single spaces or dashes, that passes the Luhn check. All its digits but the last four become
'*'. The link tells the filter which bytes the parser took as text (`text`) and which as
command parameters or data (`raw`), so a raster image or a barcode is never altered. A run
that reaches the end of a chunk is held until the next byte decides it.
"""

_RUN_MAX = const(40)  # 19 digits and 18 separators fit
_DIGITS_MIN = const(13)
_DIGITS_MAX = const(19)
_STAR = const(0x2A)


def luhn(run, n: int) -> bool:
    total = 0
    double = False
    for i in range(n - 1, -1, -1):
        c = run[i]
        if 0x30 <= c <= 0x39:
            d = c - 0x30
            if double:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
            double = not double
    return total % 10 == 0


class CardMask:
    def __init__(self, out):
        self._out = out  # out(buf, start, end) takes the bytes for flash
        self._run = bytearray(_RUN_MAX)
        self._n = 0
        self._digits = 0
        self._long = False  # more digits than a card has: pass them through
        self.masked = 0  # card numbers masked so far

    def raw(self, buf, start: int, end: int):
        """Bytes the parser did not take as text: they end any run and pass unchanged."""
        if start < end:
            self.flush()
            self._out(buf, start, end)

    def text(self, buf, start: int, end: int):
        run = self._run
        out = self._out
        i = start
        plain = start  # bytes from here to i pass unchanged
        while i < end:
            c = buf[i]
            if 0x30 <= c <= 0x39:
                if self._long:
                    i += 1
                    continue
                if not self._n:
                    if plain < i:
                        out(buf, plain, i)
                run[self._n] = c
                self._n += 1
                self._digits += 1
                i += 1
                plain = i
                if self._digits > _DIGITS_MAX:
                    self.flush()
                    self._long = True
                continue
            if (c == 0x20 or c == 0x2D) and self._n and run[self._n - 1] <= 0x39:
                if run[self._n - 1] >= 0x30:  # one separator after a digit may go on
                    run[self._n] = c
                    self._n += 1
                    i += 1
                    plain = i
                    continue
            if self._n or self._long:
                if plain < i:
                    out(buf, plain, i)
                    plain = i
                self.flush()
            i += 1
        if plain < end:
            out(buf, plain, end)

    def flush(self):
        """End the held run: mask it if it is a card number, and pass it on."""
        self._long = False
        n = self._n
        if not n:
            return
        run = self._run
        tail = b""
        if run[n - 1] < 0x30:  # a separator not followed by a digit is not the card's
            n -= 1
            tail = bytes(run[n : n + 1])
        if _DIGITS_MIN <= self._digits <= _DIGITS_MAX and luhn(run, n):
            keep = 4
            for i in range(n - 1, -1, -1):
                if 0x30 <= run[i] <= 0x39:
                    if keep:
                        keep -= 1
                    else:
                        run[i] = _STAR
            self.masked += 1
        self._out(run, 0, n)
        if tail:
            self._out(tail, 0, 1)
        self._n = 0
        self._digits = 0
