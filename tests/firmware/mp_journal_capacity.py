"""The journal's capacity on a board's heap: a region full of short receipts listed and read
back a page at a time, and an index that holds RECEIPTS receipts without growing past them
(firmware/tillroll/journal/index.py). Apart from mp_journal.py, whose own bytecode (the unix
port keeps it in the heap; the chip runs it from flash) would leave these too little room."""

import gc
import os

from sim.flash import NorFlash
from tillroll.journal import journal as jn
from tillroll.journal import record as r

_IMAGE = "/tmp/tillroll-mp-journal-capacity.bin"


def _fresh(blocks):
    try:
        os.remove(_IMAGE)
    except OSError:
        pass
    return NorFlash(_IMAGE, blocks)


def _mounted(flash):
    j = jn.Journal(flash)
    assert j.mount(), j.error
    return j


def _whole_pages(flash):
    """The journal programmed whole pages only, and only cleared bits."""
    assert flash.refused == 0 and flash.overwrites == 0, (flash.refused, flash.overwrites)
    assert flash.programs > 0


def _receipt(k):
    return b"\x1b@Shop %d\nCard 4111 1111 1111 1111\n" % k + b"item\n" * (k % 4) + b"\x1dV\x00"


def test_a_full_journal_lists_and_exports_a_page_at_a_time():
    # The default region (16 blocks) full of short receipts, all printed, its oldest block
    # dropped and reused: every receipt it keeps is listed, and its bytes read back, a page
    # or a piece at a time, on a board's heap.
    f = _fresh(blocks=16)
    j = _mounted(f)
    k = 0
    while not j.numbers() or j.numbers()[0] == 1:  # until the region or the index is full
        data = _receipt(k)
        j.text(data, 0, len(data))
        j.printed(j.end(r.CUT))
        k += 1
    f.close()
    j = None
    gc.collect()
    j = _mounted(NorFlash(_IMAGE, 16))  # as the technician finds it after a restart
    kept = j.numbers()
    assert len(kept) > 150 and kept[-1] == k, (len(kept), kept[-1], k)
    listed = []
    after = 0
    while True:
        page = j.page(after, 16)
        if not page:
            break
        for number, t, state, first in page:
            assert state == "printed" and first == "Shop %d" % (number - 1), (number, first)
            assert t is not None
            listed.append(number)
        after = page[-1][0]
    assert listed == kept
    assert [row[0] for row in j.rows()] == kept
    piece = bytearray(100)
    for number in kept:
        sent = _receipt(number - 1).replace(b"4111 1111 1111", b"**** **** ****")
        out = bytearray()
        while True:
            n = j.read(number, len(out), piece)
            if not n:
                break
            out.extend(piece[:n])
        assert bytes(out) == sent, (number, out)
    assert j.read(kept[0] - 1, 0, piece) == 0  # dropped with its block


_SHORT = b"\x1b@Thanks\n\x1dV\x00"  # the shortest receipt a shop sends, nearly


def test_many_short_receipts_fill_the_index_not_the_heap():
    # The board's region (64 blocks) holds thousands of receipts this short; the index holds
    # RECEIPTS, in chunks reused once it has them all: when it is full the oldest block goes,
    # as when the region is full.
    f = _fresh(blocks=64)
    j = _mounted(f)
    for _ in range(jn.RECEIPTS):  # the index at its size
        j.text(_SHORT, 0, len(_SHORT))
        j.printed(j.end(r.CUT))
    gc.collect()
    free = gc.mem_free()
    total = jn.RECEIPTS * 3
    for _ in range(total - jn.RECEIPTS):
        j.text(_SHORT, 0, len(_SHORT))
        j.printed(j.end(r.CUT))
    assert not j.offline and j.error is None, j.error
    gc.collect()
    assert free - gc.mem_free() < 1024, free - gc.mem_free()  # the index grew no more
    kept = j.numbers()
    assert kept[-1] == total and len(kept) <= jn.RECEIPTS, (kept[-1], len(kept))
    assert len(kept) > jn.RECEIPTS - 200, len(kept)  # a block's worth at most went at once
    assert len(j.log.order) < 64  # the region is far from full: the index decided
    f.close()
    j = _mounted(NorFlash(_IMAGE, 64))  # after a restart: the same receipts, nothing lost
    assert j.numbers() == kept and j.healthy(), j.status()["problem_texts"]
    assert j.read(kept[0] - 1, 0, bytearray(16)) == 0  # dropped with its block


def test_a_full_index_of_unprinted_receipts_takes_no_more_and_loses_none():
    f = _fresh(blocks=64)
    j = _mounted(f)
    while j.has_room():
        j.text(_SHORT, 0, len(_SHORT))
        assert j.end(r.CUT)
    assert len(j.numbers()) == jn.RECEIPTS and j.numbers()[0] == 1
    j.text(_SHORT, 0, len(_SHORT))
    assert j.end(r.CUT) == 0 and j.offline  # not journaled, never acknowledged: the link holds
    assert j.numbers()[0] == 1 and j.state(1) == jn.ACKNOWLEDGED  # none dropped
    _whole_pages(f)
