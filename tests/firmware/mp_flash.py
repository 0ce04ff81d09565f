"""The sim's NOR flash model under MicroPython: it programs only whole, page-aligned 256-byte
pages, as the RP2040 does, so the sim can never pass a program the chip would corrupt."""

import errno
import os

from sim.flash import NorFlash, PowerCut

_IMAGE = "/tmp/tillroll-mp-flash.bin"


def _fresh(blocks=2, cut_at=0, torn=False):
    try:
        os.remove(_IMAGE)
    except OSError:
        pass
    return NorFlash(_IMAGE, blocks, cut_at=cut_at, torn=torn)


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


def test_a_torn_program_tears_in_the_bytes_it_changes():
    f = _fresh(cut_at=2, torn=True)
    page = bytearray(b"\xff" * 256)
    page[0:100] = b"a" * 100  # records already on flash
    f.writeblocks(0, page, 0)
    page[100:200] = b"\x00" * 100  # the next record, in the same page
    try:
        f.writeblocks(0, page, 0)
        raise AssertionError("the power should have gone at this program")
    except PowerCut:
        pass
    got = _read(f, 0, 0, 256)
    assert got[:100] == b"a" * 100  # the earlier bytes are as they were
    assert got[100:150] == bytes(50)  # half the new bytes landed
    assert got[150] == 0x0F  # some bits of the next
    assert got[151:] == b"\xff" * 105  # the rest still erased
    try:
        f.writeblocks(0, page, 256)
        raise AssertionError("nothing reaches the flash after the cut")
    except PowerCut:
        pass
    assert _read(f, 0, 256, 256) == b"\xff" * 256
