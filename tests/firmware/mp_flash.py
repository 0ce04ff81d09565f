"""The sim's NOR flash model under MicroPython: it programs only whole, page-aligned 256-byte
pages, as the RP2040 does, so the sim can never pass a program the chip would corrupt."""

import errno
import os

from sim.flash import NorFlash, PowerCut, Tear

_IMAGE = "/tmp/tillroll-mp-flash.bin"


def _fresh(blocks=2, cut_at=0, torn=False, tear_seed=0):
    try:
        os.remove(_IMAGE)
    except OSError:
        pass
    return NorFlash(_IMAGE, blocks, cut_at=cut_at, torn=torn, tear_seed=tear_seed)


def _read(f, block, offset, n):
    buf = bytearray(n)
    f.readblocks(block, buf, offset)
    return bytes(buf)


def _refused(f, block, buf, offset):
    try:
        f.writeblocks(block, buf, offset)
    except OSError as e:
        return e.errno == errno.EINVAL
    return False


def test_a_program_not_of_whole_aligned_pages_is_refused_and_changes_nothing():
    f = _fresh()
    zeros = bytearray(512)
    assert _refused(f, 0, zeros[:256], 16)  # a whole page's length, off the page start
    assert _refused(f, 0, zeros[:256], 128)  # crossing into the next page
    assert _refused(f, 0, zeros[:100], 0)  # shorter than a page
    assert _refused(f, 1, zeros[:300], 256)  # a page and a piece
    assert _refused(f, 0, zeros[:0], 8)  # nothing, off a page start
    assert f.refused == 5, f.refused
    assert f.programs == 0 and f.ops == 0  # a refused program is no operation (no cut point)
    assert _read(f, 0, 0, 4096) == b"\xff" * 4096
    assert _read(f, 1, 0, 4096) == b"\xff" * 4096


def test_whole_pages_at_page_offsets_are_programmed():
    f = _fresh()
    page = bytearray(b"\xa5" * 256)
    f.writeblocks(0, page, 256)
    f.writeblocks(1, bytearray(512), 3584)  # two pages, the block's last
    assert _read(f, 0, 0, 256) == b"\xff" * 256
    assert _read(f, 0, 256, 256) == b"\xa5" * 256
    assert _read(f, 0, 512, 256) == b"\xff" * 256
    assert _read(f, 1, 3584, 512) == bytes(512)
    assert f.programs == 2 and f.refused == 0 and f.overwrites == 0


def test_a_page_is_programmed_again_with_only_more_bits_cleared():
    f = _fresh()
    page = bytearray(b"\xff" * 256)
    page[0:16] = b"first record...."
    f.writeblocks(0, page, 0)
    page[16:32] = b"second record..."  # the same page again, its first bytes unchanged
    f.writeblocks(0, page, 0)
    assert _read(f, 0, 0, 33) == b"first record....second record...\xff"
    assert f.overwrites == 0
    page[0] = 0xFF  # setting a cleared bit: NOR cannot, the model counts it
    f.writeblocks(0, page, 0)
    assert f.overwrites == 1
    assert _read(f, 0, 0, 1) == b"f"


def _torn_program(seed):
    """Records already in a page, then the next record into the same page, cut short."""
    f = _fresh(cut_at=2, torn=True, tear_seed=seed)
    page = bytearray(b"\xff" * 256)
    page[0:100] = b"a" * 100  # records already on flash
    f.writeblocks(0, page, 0)
    page[100:200] = bytes(range(100))  # the next record, in the same page
    try:
        f.writeblocks(0, page, 0)
        raise AssertionError("the power should have gone at this program")
    except PowerCut:
        pass
    got = _read(f, 0, 0, 256)
    try:
        f.writeblocks(0, page, 256)
        raise AssertionError("nothing reaches the flash after the cut")
    except PowerCut:
        pass
    assert _read(f, 0, 256, 256) == b"\xff" * 256
    return f.tear.shape, got, page


def test_a_torn_program_leaves_any_subset_of_the_bits_it_clears():
    shapes = {}
    for seed in range(48):
        shape, got, target = _torn_program(seed)
        assert got[:100] == b"a" * 100  # the earlier bytes are as they were
        assert got[200:] == b"\xff" * 56
        for i in range(100, 200):
            assert got[i] & target[i] == target[i], (seed, i)  # only bits it clears went
        landed = sum(1 for i in range(100, 200) if got[i] != 0xFF)
        shapes.setdefault(shape, []).append(landed)
    # every shape came up: bits at random, in order, none and all but one bit
    assert sorted(shapes) == sorted("program: " + s for s in Tear.PROGRAM), shapes
    assert max(shapes["program: nothing"]) == 0
    assert min(shapes["program: all but a bit"]) >= 99
    assert max(shapes["program: random bits"]) > 0


def test_a_torn_erase_leaves_words_erased_or_as_they_were():
    shapes = set()
    for seed in range(48):
        f = _fresh(cut_at=3, torn=True, tear_seed=seed)
        data = bytearray(4096)
        for i in range(4096):
            data[i] = i * 7 & 0xFF | 1
        f.writeblocks(0, data[:2048], 0)
        f.writeblocks(0, data[2048:], 2048)
        try:
            f.ioctl(6, 0)
            raise AssertionError("the power should have gone at this erase")
        except PowerCut:
            pass
        got = _read(f, 0, 0, 4096)
        for w in range(0, 4096, 4):
            assert got[w : w + 4] in (data[w : w + 4], b"\xff" * 4), (seed, w)
        if f.tear.shape == "erase: header kept, body half erased":
            assert got[:16] == data[:16]
        if f.tear.shape == "erase: nothing":
            assert got == data
        shapes.add(f.tear.shape)
    assert sorted(shapes) == sorted("erase: " + s for s in Tear.ERASE), shapes


def test_a_file_of_another_size_than_the_region_is_refused():
    f = _fresh()
    f.close()
    with open(_IMAGE, "rb") as image:
        data = image.read()
    with open(_IMAGE, "wb") as image:
        image.write(data[:6000])  # cut short inside its second block
    try:
        NorFlash(_IMAGE, 2)
        raise AssertionError("a short image must be refused, not padded")
    except ValueError as e:
        assert "6000" in str(e) and "8192" in str(e), e
    with open(_IMAGE, "rb") as image:
        assert len(image.read()) == 6000  # and left as it was
