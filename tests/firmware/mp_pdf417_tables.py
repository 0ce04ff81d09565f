"""The PDF417 symbol character tables hold what ISO/IEC 15438 says every one must be."""

from tillroll.render.pdf417_patterns import PATTERNS


def widths(pattern):
    """The 8 element widths of a 17-module pattern: a bar first, a space last."""
    bits = (1 << 16) | (pattern << 1)  # the leading bar; the trailing space is a 0
    out = []
    run = 1
    prev = 1
    for i in range(15, -1, -1):
        bit = (bits >> i) & 1
        if bit == prev:
            run += 1
        else:
            out.append(run)
            run = 1
            prev = bit
    out.append(run)
    return out


def test_every_pattern_is_4_bars_and_4_spaces_of_1_to_6_modules_in_its_cluster():
    assert len(PATTERNS) == 2 * 3 * 929
    seen = set()
    for cluster in range(3):
        for cw in range(929):
            at = 2 * (929 * cluster + cw)
            p = PATTERNS[at] << 8 | PATTERNS[at + 1]
            w = widths(p)
            assert len(w) == 8 and sum(w) == 17, (cluster, cw, w)
            assert all(1 <= x <= 6 for x in w), (cluster, cw, w)
            assert (w[0] - w[2] + w[4] - w[6] + 9) % 9 == 3 * cluster, (cluster, cw, w)
            seen.add(p)
    assert len(seen) == 3 * 929
