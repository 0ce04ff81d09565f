"""The QR module matrix as bit-packed rows (MONO_HLSB): data placement, the eight masks and
their penalty score, the loops that touch every module (viper; see qr.py for what it bought).
"""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false

import micropython


@micropython.viper
def place(m: ptr8, fn: ptr8, stride: int, size: int, words: ptr8, nbits: int):
    # The zigzag: column pairs from the right, upwards then downwards, skipping function
    # modules and column 6 (the vertical timing pattern).
    i = 0
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = ((right + 1) & 2) == 0
        for vert in range(size):
            y = size - 1 - vert if upward else vert
            for j in range(2):
                x = right - j
                at = y * stride + (x >> 3)
                bit = 0x80 >> (x & 7)
                if fn[at] & bit:
                    continue
                if i < nbits and (words[i >> 3] >> (7 - (i & 7))) & 1:
                    m[at] = m[at] | bit
                else:
                    m[at] = m[at] & (0xFF ^ bit)
                i += 1
        right -= 2


@micropython.viper
def apply_mask(m: ptr8, fn: ptr8, stride: int, size: int, mask: int):
    # XOR mask pattern `mask` over the data modules; applying it twice undoes it. Counters
    # stand in for % 3 and // 3 (no divide on Cortex-M0+).
    i3 = 0  # row % 3
    for i in range(size):
        j3 = 0  # column % 3
        jd3 = 0  # column // 3
        for j in range(size):
            if mask == 0:
                hit = ((i + j) & 1) == 0
            elif mask == 1:
                hit = (i & 1) == 0
            elif mask == 2:
                hit = j3 == 0
            elif mask == 3:
                s = i3 + j3
                hit = s == 0 or s == 3
            elif mask == 4:
                hit = (((i >> 1) + jd3) & 1) == 0
            else:
                p3 = i3 * j3
                if p3 >= 3:
                    p3 = 1 if p3 == 4 else 0  # (i*j) % 3 from the residues
                p2 = (i & j) & 1
                if mask == 5:
                    hit = p2 + p3 == 0
                elif mask == 6:
                    hit = ((p2 + p3) & 1) == 0
                else:
                    hit = ((((i + j) & 1) + p3) & 1) == 0
            if hit:
                at = i * stride + (j >> 3)
                bit = 0x80 >> (j & 7)
                if not (fn[at] & bit):
                    m[at] = m[at] ^ bit
            j3 += 1
            if j3 == 3:
                j3 = 0
                jd3 += 1
        i3 += 1
        if i3 == 3:
            i3 = 0


@micropython.viper
def _penalty(m: ptr8, stride: int, size: int) -> int:
    # Rules 1-3 of the mask evaluation: runs of 5+, 2x2 blocks, finder-like 1:1:3:1:1 runs.
    score = 0
    for pass_ in range(2):  # rows, then columns
        for a in range(size):
            run = 0
            prev = 2
            window = 0
            for b in range(size):
                if pass_ == 0:
                    v = (m[a * stride + (b >> 3)] >> (7 - (b & 7))) & 1
                else:
                    v = (m[b * stride + (a >> 3)] >> (7 - (a & 7))) & 1
                if v == prev:
                    run += 1
                else:
                    if run >= 5:
                        score += run - 2
                    run = 1
                    prev = v
                window = ((window << 1) | v) & 0x7FF
                if b >= 10 and (window == 0x5D0 or window == 0x5D):
                    score += 40
            if run >= 5:
                score += run - 2
    for y in range(size - 1):
        r0 = y * stride
        r1 = r0 + stride
        for x in range(size - 1):
            sh = 7 - (x & 7)
            sh2 = 7 - ((x + 1) & 7)
            c0 = x >> 3
            c1 = (x + 1) >> 3
            v = (m[r0 + c0] >> sh) & 1
            if (
                ((m[r0 + c1] >> sh2) & 1) == v
                and ((m[r1 + c0] >> sh) & 1) == v
                and ((m[r1 + c1] >> sh2) & 1) == v
            ):
                score += 3
    return score


@micropython.viper
def _dark(m: ptr8, stride: int, size: int) -> int:
    n = 0
    for y in range(size):
        for x in range(size):
            n += (m[y * stride + (x >> 3)] >> (7 - (x & 7))) & 1
    return n


def score(m, stride: int, size: int) -> int:
    """The mask penalty of the symbol in `m`: rules 1-3, then the dark-module balance."""
    score = _penalty(m, stride, size)
    total = size * size
    dark = _dark(m, stride, size)
    k = (abs(dark * 20 - total * 10) + total - 1) // total - 1
    return score + 10 * k
