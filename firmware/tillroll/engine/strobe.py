"""Strobe division and look-ahead, the per-line loops of the engine in viper.

A line of n black dots is heated in k = ceil(n / cap) sub-strobes, the fewest that keep the dots
heated at once under the supply-current cap: the data is masked into k group lines of about n / k
dots each (masking works on any head, one DST line or six STB blocks alike).
"""

import micropython

_LINE = const(48)
_SLOT = const(51)


@micropython.viper
def split(src: ptr8, s: int, out: ptr8, per: int) -> int:
    """Mask the line at src[s:s+48] into group lines of at most `per` dots at out[48 g];
    return the number of groups."""
    for i in range(_LINE):
        out[i] = 0
    g = 0
    base = 0
    count = 0
    for i in range(_LINE):
        b = src[s + i]
        bit = 0x80
        while b:
            if b & bit:
                if count == per:
                    g += 1
                    base += _LINE
                    count = 0
                    for j in range(_LINE):
                        out[base + j] = 0
                out[base + i] = out[base + i] | bit
                count += 1
                b ^= bit
            bit >>= 1
    return g + 1 if count else 0


@micropython.viper
def lookahead(q: ptr8, head: int, count: int, slots: int, caps: ptr8, s: int, n: int) -> int:
    """The furthest ramp position the current line may reach so that every line in the next
    `n` can still be reached decelerating one position a step, and the motor can stop after
    the last queued line. caps[b] is the furthest position for a line of up to 8 b black
    dots."""
    bound = 255
    dist = 0
    i = 0
    while i < count and dist < n:
        slot = head + i
        if slot >= slots:
            slot -= slots
        at = slot * _SLOT
        kind = q[at]
        if kind == 2:  # END: no motion
            i += 1
            continue
        arg = q[at + 1] | (q[at + 2] << 8)
        if kind == 0:
            c = caps[(arg + 7) >> 3]
            lines = 1
        else:
            c = caps[0]
            lines = arg
        if dist:
            c += (dist - 1) * s + 1
        if c < bound:
            bound = c
        dist += lines
        i += 1
    if dist < n:  # the queue ends here: the motor must come to rest (position -1) after it
        c = (dist - 1) * s if dist else 0
        if c < bound:
            bound = c
    return bound
