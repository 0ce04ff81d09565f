"""Checking the head with safe pulses (sense.py): the whole head, a group of elements a pulse,
while a head fault holds; each element alone for the self-test and the technician's status.
Imported when a check is due: a module that prints without faults never loads it.
"""

_PROBE_US = const(20)  # a safe pulse: a few per cent of any profile's need, too little to mark
_PROBE_DOTS = const(32)  # the whole head is checked again 32 elements a pulse
_LINE_BYTES = const(48)


def _probe(hs, line, dots: int) -> bool:
    """One safe pulse on the `dots` dots of `line`: whether they drew their current."""
    return hs.head.probe(line, _PROBE_US) >= hs.floor_ma[dots]


def head_ok(hs) -> bool:
    """The whole head, _PROBE_DOTS elements a pulse: whether every pulse drew its current."""
    line = bytearray(_LINE_BYTES)
    step = _PROBE_DOTS // 8
    for at in range(0, _LINE_BYTES, step):
        line[at : at + step] = b"\xff" * step
        ok = _probe(hs, line, _PROBE_DOTS)
        line[at : at + step] = bytes(step)
        if not ok:
            return False
    return True


def map_elements(hs):
    """Each element alone: which draw no current. Kept in `hs.dead` (leftmost first, a bit
    each) and `hs.dead_count`."""
    dead = bytearray(_LINE_BYTES)
    line = bytearray(_LINE_BYTES)
    count = 0
    for d in range(_LINE_BYTES * 8):
        bit = 0x80 >> (d & 7)
        line[d >> 3] = bit
        if not _probe(hs, line, 1):
            dead[d >> 3] |= bit
            count += 1
        line[d >> 3] = 0
    hs.dead = dead
    hs.dead_count = count
    return dead


def dead_ranges(dead):
    """The dead elements of a map as [first, last] runs (allocates: for reports); none for
    no map."""
    out = []
    if dead is None:
        return out
    for d in range(len(dead) * 8):
        if dead[d >> 3] & (0x80 >> (d & 7)):
            if out and out[-1][1] == d - 1:
                out[-1][1] = d
            else:
                out.append([d, d])
    return out
