"""Code 128 (ISO/IEC 15417) as ESC/POS sends it, and as short as it can be.

Epson's GS k m = 73 data starts with a code set selector (`{A`, `{B`, `{C`); `{A {B {C`
switch sets, `{S` shifts one character, `{1`-`{4` are FNC1-4, `{{` is '{'. In code sets A and
B a byte is the character itself; in code set C each byte is one symbol character of value
0-99 (00h-63h) standing for two digits. Data with no selector in front (as some client
libraries send it) is taken as the characters themselves, 0-127.

Either way the data is first read into `items` (an ASCII character 0-127, or FNC1-4 as 129-132),
the text the symbol stands for. `encode` prints the code sets as sent; `encode_shortest` picks
the sequence of code sets, switches and shifts with the fewest symbol characters for the same
items (a dynamic programme over the items, with the three code sets as its states), so a
symbol too wide for the paper as sent may fit, and data with no selector prints at all. Both
decode to the same text. Nothing here allocates: the buffers are made once with the Barcode.
"""

from array import array

from micropython import const

# Code 128: bar/space widths (b s b s b s) of values 0-105, three bytes a value, a width a
# hex digit (\x21\x22\x22 is 2 1 2 2 2 2); STOP has 7. Bytes, not a tuple of ints: frozen, they
# stay in flash, and a 24-bit int in a frozen tuple would be a long int on the chip.
_C128 = (
    b"\x21\x22\x22\x22\x21\x22\x22\x22\x21\x12\x12\x23\x12\x13\x22\x13\x12\x22"
    b"\x12\x22\x13\x12\x23\x12\x13\x22\x12\x22\x12\x13\x22\x13\x12\x23\x12\x12"
    b"\x11\x22\x32\x12\x21\x32\x12\x22\x31\x11\x32\x22\x12\x31\x22\x12\x32\x21"
    b"\x22\x32\x11\x22\x11\x32\x22\x12\x31\x21\x32\x12\x22\x31\x12\x31\x21\x31"
    b"\x31\x12\x22\x32\x11\x22\x32\x12\x21\x31\x22\x12\x32\x21\x12\x32\x22\x11"
    b"\x21\x21\x23\x21\x23\x21\x23\x21\x21\x11\x13\x23\x13\x11\x23\x13\x13\x21"
    b"\x11\x23\x13\x13\x21\x13\x13\x23\x11\x21\x13\x13\x23\x11\x13\x23\x13\x11"
    b"\x11\x21\x33\x11\x23\x31\x13\x21\x31\x11\x31\x23\x11\x33\x21\x13\x31\x21"
    b"\x31\x31\x21\x21\x13\x31\x23\x11\x31\x21\x31\x13\x21\x33\x11\x21\x31\x31"
    b"\x31\x11\x23\x31\x13\x21\x33\x11\x21\x31\x21\x13\x31\x23\x11\x33\x21\x11"
    b"\x31\x41\x11\x22\x14\x11\x43\x11\x11\x11\x12\x24\x11\x14\x22\x12\x11\x24"
    b"\x12\x14\x21\x14\x11\x22\x14\x12\x21\x11\x22\x14\x11\x24\x12\x12\x21\x14"
    b"\x12\x24\x11\x14\x21\x12\x14\x22\x11\x24\x12\x11\x22\x11\x14\x41\x31\x11"
    b"\x24\x11\x12\x13\x41\x11\x11\x12\x42\x12\x11\x42\x12\x12\x41\x11\x42\x12"
    b"\x12\x41\x12\x12\x42\x11\x41\x12\x12\x42\x11\x12\x42\x12\x11\x21\x21\x41"
    b"\x21\x41\x21\x41\x21\x21\x11\x11\x43\x11\x13\x41\x13\x11\x41\x11\x41\x13"
    b"\x11\x43\x11\x41\x11\x13\x41\x13\x11\x11\x31\x41\x11\x41\x31\x31\x11\x41"
    b"\x41\x11\x31\x21\x14\x12\x21\x12\x14\x21\x12\x32"
)  # fmt: skip
_STOP = const(0x2331112)
_SHIFT = const(98)
_START_A = const(103)
_SET_A = const(0)
_SET_B = const(1)
_SET_C = const(2)
_LBRACE = const(0x7B)
_FNC = const(128)  # FNC1-4 are items 129-132
_ITEMS_MAX = const(512)  # 255 bytes of code set C: two digits each; Code 93 shares it
_FAR = const(0xFFFF)  # no way there yet
_FNC4 = const(132)


class Code128:
    """The item buffer and the search's tables, made once (about 2.5 KB)."""

    def __init__(self):
        self.items = bytearray(_ITEMS_MAX)
        self.count = 0
        # The search keeps three item positions of costs (symbol characters so far, by the
        # code set in use), and for every position and code set how it was reached:
        # the set before, a shift, two digits in one character.
        self._cost = array("H", bytes(18))
        self._how = bytearray(3 * (_ITEMS_MAX + 1))
        self._step = bytearray(_ITEMS_MAX + 1)  # the step starting at an item, on the best path
        self._start = 0

    # ---- reading the data -------------------------------------------------------------------

    def read(self, data, n: int, selectors: bool) -> bool:
        """The items of data[0:n]: in Epson's form when `selectors` (False where it breaks
        the manual's rules), else each byte as a character (False for a byte above 127)."""
        items = self.items
        count = 0
        if not selectors:
            for k in range(n):
                c = data[k]
                if c > 127:
                    return False
                items[count] = c
                count += 1
            self.count = count
            return count > 0
        code_set = data[1] - 0x41
        k = 2
        shift = False
        while k < n:
            c = data[k]
            k += 1
            if c == _LBRACE:
                if k >= n:
                    return False
                sel = data[k]
                k += 1
                if sel != _LBRACE:
                    if shift or _selector(code_set, sel) < 0:
                        return False
                    if 0x41 <= sel <= 0x43:
                        code_set = sel - 0x41
                    elif sel == 0x53:
                        shift = True
                    else:  # {1-{4
                        items[count] = _FNC + sel - 0x30
                        count += 1
                    continue
            if code_set == _SET_C:
                if c > 99:  # code set C: one byte, 00h-63h, for two digits
                    return False
                items[count] = 0x30 + c // 10
                items[count + 1] = 0x30 + c % 10
                count += 2
                continue
            as_set = code_set
            if shift:
                as_set = _SET_B if code_set == _SET_A else _SET_A
            if _value(as_set, c) < 0:
                return False
            items[count] = c
            count += 1
            shift = False
        self.count = count
        return count > 0 and not shift

    def hri(self, bc):
        """The HRI text: the printable characters (function characters print nothing)."""
        items = self.items
        for k in range(self.count):
            c = items[k]
            if 0x20 <= c < 0x7F:
                bc.add_char(c)

    # ---- encoding ---------------------------------------------------------------------------

    def encode(self, bc, data, n: int):
        """The code sets as Epson's data gives them (after read() took it)."""
        code_set = data[1] - 0x41
        total = _START_A + code_set
        bc.widths(_pattern(total), 6)
        weight = 1
        k = 2
        shift = False
        while k < n:
            c = data[k]
            k += 1
            if c == _LBRACE:
                sel = data[k]
                k += 1
                if sel != _LBRACE:
                    value = _selector(code_set, sel)
                    if 0x41 <= sel <= 0x43:
                        code_set = sel - 0x41
                    shift = value == _SHIFT
                    total += value * weight
                    weight += 1
                    bc.widths(_pattern(value), 6)
                    continue
            if code_set == _SET_C:
                value = c
            else:
                as_set = code_set
                if shift:
                    as_set = _SET_B if code_set == _SET_A else _SET_A
                value = _value(as_set, c)
            shift = False
            total += value * weight
            weight += 1
            bc.widths(_pattern(value), 6)
        bc.widths(_pattern(total % 103), 6)
        bc.widths(_STOP, 7)

    def encode_shortest(self, bc) -> bool:
        """The items in the fewest symbol characters; False if an item has no code set."""
        count = self.count
        if not self._search(count):
            return False
        items = self.items
        steps = self._step
        code_set = self._start
        total = _START_A + code_set
        bc.widths(_pattern(total), 6)
        weight = 1
        i = 0
        while i < count:
            h = steps[i]
            to = h & 3
            if to != code_set:
                value = _switch(to)
                total += value * weight
                weight += 1
                bc.widths(_pattern(value), 6)
                code_set = to
            c = items[i]
            if h & 4:  # a shift: this one character from the other of A and B
                total += _SHIFT * weight
                weight += 1
                bc.widths(_pattern(_SHIFT), 6)
                value = _item_value(_SET_B if code_set == _SET_A else _SET_A, c)
                i += 1
            elif h & 8:  # two digits in code set C
                value = (c - 0x30) * 10 + items[i + 1] - 0x30
                i += 2
            else:
                value = _item_value(code_set, c)
                i += 1
            total += value * weight
            weight += 1
            bc.widths(_pattern(value), 6)
        bc.widths(_pattern(total % 103), 6)
        bc.widths(_STOP, 7)
        return True

    def _search(self, count: int) -> bool:
        """Fill `_step` and `_start` with the cheapest path over items[0:count]."""
        items = self.items
        cost = self._cost
        how = self._how
        for k in range(9):
            cost[k] = _FAR
        for s in range(3):
            cost[s] = 1  # the start character of any code set
        for i in range(count):
            here = 3 * (i % 3)
            ahead = 3 * ((i + 2) % 3)
            for s in range(3):
                cost[ahead + s] = _FAR
            one = 3 * ((i + 1) % 3)
            c = items[i]
            pair = (
                0x30 <= c <= 0x39
                and i + 1 < count
                and 0x30 <= items[i + 1] <= 0x39
                and (i == 0 or items[i - 1] != _FNC4)  # FNC4 marks the next single character
            )
            for s in range(3):
                base = cost[here + s]
                if base == _FAR:
                    continue
                for t in range(3):
                    at = base + (0 if t == s else 1)
                    if t == _SET_C:
                        if pair:
                            _relax(cost, how, ahead, i + 2, t, at + 1, s | 8)
                        elif c == _FNC + 1:
                            _relax(cost, how, one, i + 1, t, at + 1, s)
                    elif _item_value(t, c) >= 0:
                        _relax(cost, how, one, i + 1, t, at + 1, s)
                    elif _item_value(1 - t, c) >= 0:
                        _relax(cost, how, one, i + 1, t, at + 2, s | 4)
        end = 3 * (count % 3)
        best = 0
        for t in range(1, 3):
            if cost[end + t] < cost[end + best]:
                best = t
        if cost[end + best] == _FAR:
            return False
        # Back from the end: each step's start item learns where it leads.
        steps = self._step
        j = count
        t = best
        while j > 0:
            h = how[3 * j + t]
            i = j - (2 if h & 8 else 1)
            steps[i] = t | (h & 0x0C)
            t = h & 3
            j = i
        self._start = t
        return True


def _pattern(value: int) -> int:
    """The widths of `value`, 4 bits each (a small int on the chip: nothing allocated)."""
    k = 3 * value
    return (_C128[k] << 16) | (_C128[k + 1] << 8) | _C128[k + 2]


def _relax(cost, how, slot: int, j: int, t: int, value: int, came: int):
    if value < cost[slot + t]:
        cost[slot + t] = value
        how[3 * j + t] = came


def _switch(to: int) -> int:
    """CODE A, CODE B or CODE C: the same values in every set that has them."""
    return 101 if to == _SET_A else (100 if to == _SET_B else 99)


def _selector(code_set: int, sel: int) -> int:
    """The Code 128 value of an Epson {X selector in `code_set`, or -1 where the manual has
    none: a switch to the set in use, {S or FNC2-4 in code set C."""
    if sel == 0x41:
        return -1 if code_set == _SET_A else 101
    if sel == 0x42:
        return -1 if code_set == _SET_B else 100
    if sel == 0x43:
        return -1 if code_set == _SET_C else 99
    if sel == 0x31:
        return 102
    if code_set == _SET_C:
        return -1
    if sel == 0x53:
        return _SHIFT
    if sel == 0x32:
        return 97  # FNC2
    if sel == 0x33:
        return 96  # FNC3
    if sel == 0x34:
        return 101 if code_set == _SET_A else 100  # FNC4
    return -1


def _value(code_set: int, c: int) -> int:
    """A character's value in code set A or B, or -1."""
    if code_set == _SET_B:
        return c - 0x20 if 0x20 <= c <= 0x7F else -1
    if 0x20 <= c <= 0x5F:
        return c - 0x20
    return c + 64 if c < 0x20 else -1


def _item_value(code_set: int, c: int) -> int:
    """An item's value in code set A or B (FNC1-4 too), FNC1 in C; else -1."""
    if c > _FNC:
        k = c - _FNC
        if k == 1:
            return 102
        if code_set == _SET_C:
            return -1
        if k == 2:
            return 97
        if k == 3:
            return 96
        return 101 if code_set == _SET_A else 100
    if code_set == _SET_C:
        return -1
    return _value(code_set, c)
