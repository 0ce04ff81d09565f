"""The journal under MicroPython on the sim's NOR flash model: masking, states across a
restart, damage detection, capacity, wear, and a power cut at every flash operation. The model
refuses any program that is not whole 256-byte pages at a page-aligned offset (the RP2040's
rule) and counts any that would set a cleared bit: every test here checks the journal issued
neither."""

import gc
import hashlib
import os

from recorder import LayoutRecorder
from sim.flash import NorFlash, PowerCut
from tillroll.escpos.parser import Parser
from tillroll.journal import journal as jn
from tillroll.journal import record as r
from tillroll.journal.mask import CardMask

_IMAGE = "/tmp/tillroll-mp-journal.bin"


def _fresh(blocks=8, cut_at=0, torn=False):
    try:
        os.remove(_IMAGE)
    except OSError:
        pass
    return NorFlash(_IMAGE, blocks, cut_at=cut_at, torn=torn)


def _whole_pages(flash):
    """The journal programmed whole pages only, and only cleared bits."""
    assert flash.refused == 0 and flash.overwrites == 0, (flash.refused, flash.overwrites)
    assert flash.programs > 0


def _mounted(flash):
    j = jn.Journal(flash)
    assert j.mount(), j.error
    return j


def _stored(j, number):
    out = bytearray()
    for chunk in j.chunks(number):
        out.extend(chunk)
    return bytes(out)


def _image_holds(needle):
    """True if the flash image holds these bytes anywhere (read a block at a time)."""
    tail = b""
    with open(_IMAGE, "rb") as f:
        while True:
            block = f.read(4096)
            if not block:
                return False
            if needle in tail + block:
                return True
            tail = block[-len(needle) :]


def _image_hash():
    h = hashlib.sha256()
    with open(_IMAGE, "rb") as f:
        while True:
            block = f.read(4096)
            if not block:
                return h.digest()
            h.update(block)


def _receipt(k):
    return b"\x1b@Shop %d\nCard 4111 1111 1111 1111\n" % k + b"item\n" * (k % 4) + b"\x1dV\x00"


def test_card_number_masked_across_chunks_and_only_in_text():
    got = bytearray()
    m = CardMask(lambda b, s, e: got.extend(b[s:e]))
    data = b"PAN 4111111111111111 ok"
    m.text(data, 0, 10)
    m.text(data, 10, len(data))
    m.flush()
    assert bytes(got) == b"PAN ************1111 ok", got
    got[:] = b""
    m.text(b"4111-1111-1111-1111\n", 0, 20)
    m.flush()
    assert bytes(got) == b"****-****-****-1111\n", got
    got[:] = b""
    m.text(b"4111111111111112 12345678901234567890\n", 0, 38)  # Luhn fails; too long
    m.flush()
    assert bytes(got) == b"4111111111111112 12345678901234567890\n", got
    got[:] = b""
    m.raw(b"4111111111111111", 0, 16)  # raster or barcode data: untouched
    assert bytes(got) == b"4111111111111111"
    assert m.masked == 2


def test_receipts_survive_a_restart_with_their_states():
    f = _fresh()
    j = _mounted(f)
    numbers = []
    for k in range(3):
        data = _receipt(k)
        j.text(data, 0, len(data))
        numbers.append(j.end(r.CUT))
    j.printed(numbers[0])
    j.interrupted(numbers[1], 0x01, 40)
    _whole_pages(f)
    f.close()
    f = NorFlash(_IMAGE, 8)
    j = _mounted(f)
    assert j.numbers() == numbers
    assert j.state(numbers[0]) == jn.PRINTED
    assert j.info(numbers[1])[:2] == (jn.INTERRUPTED, 0x01)
    assert j.info(numbers[2])[:2] == (jn.INTERRUPTED, jn.POWER_LOSS)
    assert _stored(j, numbers[2]).startswith(b"\x1b@Shop 2\nCard **** **** **** 1111\n")
    assert not _image_holds(b"4111 1111 1111 1111")
    assert not _image_holds(b"4111111111111111")
    assert j.page()[0][2:] == ("printed", "Shop 0")
    assert j.status()["problems"] == 0
    data = _receipt(3)  # after the restart, on into the page the last record ended in
    j.text(data, 0, len(data))
    assert j.end(r.CUT) == numbers[-1] + 1
    assert j.log.order == [0] and _stored(j, numbers[-1] + 1) == _receipt(3).replace(
        b"4111 1111 1111 1111", b"**** **** **** 1111"
    )
    _whole_pages(f)


def test_an_edited_record_and_a_gap_are_reported_not_fatal():
    f = _fresh()
    j = _mounted(f)
    for k in range(4):
        data = _receipt(k)
        j.text(data, 0, len(data))
        j.end(r.CUT)
    _whole_pages(f)
    f.close()
    with open(_IMAGE, "r+b") as image:  # change one byte of the first receipt's text
        image.seek(r.BLOCK_HEADER + r.HEADER + 3)
        b = image.read(1)
        image.seek(r.BLOCK_HEADER + r.HEADER + 3)
        image.write(bytes([b[0] ^ 0x01]))
    j = _mounted(NorFlash(_IMAGE, 8))
    s = j.status()
    assert s["problems"] >= 1, s
    assert len(j.numbers()) == 3  # the damaged receipt's start is gone; the rest stay
    assert "damaged" in s["problem_texts"][0] or "missing" in s["problem_texts"][0], s


def test_printed_receipts_go_oldest_first_and_unprinted_never():
    f = _fresh(blocks=4)
    j = _mounted(f)
    data = b"Receipt\n" + b"x" * 900 + b"\n\x1dV\x00"
    printed = 0
    while not j.offline:
        j.text(data, 0, len(data))
        n = j.end(r.CUT)
        if n and n <= 6:
            j.printed(n)
            printed = n
    assert j.status()["warning"] and j.status()["offline"]
    assert not j.has_room()  # the link takes no new receipt until one of these is printed
    kept = j.numbers()
    assert kept[0] > 1  # the oldest printed ones went
    for n in kept:
        if n > printed:
            assert j.state(n) in (jn.INTERRUPTED, jn.ACKNOWLEDGED, jn.INCOMPLETE), n
    unprinted = [n for n in kept if j.state(n) == jn.ACKNOWLEDGED]
    assert unprinted and unprinted[0] == printed + 1  # none of them was dropped
    _whole_pages(f)


def test_a_full_journal_lists_and_exports_a_page_at_a_time():
    # The default region (16 blocks) full of short receipts, all printed, its oldest block
    # dropped and reused: every receipt it keeps is listed, and its bytes read back, a page
    # or a piece at a time, on a board's heap.
    f = _fresh(blocks=16)
    j = _mounted(f)
    k = 0
    while len(j.log.order) < 16 or j.numbers()[0] == 1:
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


def test_a_receipt_costs_at_most_two_erases():
    for size in (300, 1000, 3000):
        f = _fresh(blocks=8)
        j = _mounted(f)
        data = b"\x1b@" + b"x" * (size - 6) + b"\n\x1dV\x00"
        count = 150
        for _ in range(count):
            j.text(data, 0, len(data))
            j.printed(j.end(r.CUT))
        per = f.erases / count
        used = (f.erases - 1) * f.block_size + j.log.head_at  # the region, headers and all
        print(
            "%d-byte receipts: %d flash bytes, %.2f erases, %.1f page programs each"
            % (size, used // count, per, f.programs / count)
        )
        assert per <= 2
        assert max(f.erases_per_block) - min(f.erases_per_block) <= 1  # worn evenly
        _whole_pages(f)
        f.close()


def _scenario(j):
    """Five receipts: printed, one interrupted by paper-out and printed again as a copy, a
    technician's copy. Returns the receipts acknowledged, by number."""
    acked = {}
    for k in range(5):
        data = _receipt(k)
        j.text(data, 0, 7)
        j.flush()
        j.text(data, 7, len(data))
        n = j.end(r.CUT)
        acked[n] = data
        if k == 2:
            j.interrupted(n, 0x01, 12)
            j.printed(n, copy=True)
        else:
            j.printed(n)
    j.printed(1, copy=True)
    return acked


def test_power_cut_at_every_program_and_erase():
    f = _fresh(blocks=3)
    _scenario(_mounted(f))
    ops = f.ops
    f.close()
    covered = 0
    torn_found = 0
    for torn in (False, True):
        for cut in range(1, ops + 1):
            f = _fresh(blocks=3, cut_at=cut, torn=torn)
            j = _mounted(f)
            acked = {}
            try:
                acked = _scenario(j)
            except PowerCut:
                pass
            assert f.refused == 0 and f.overwrites == 0, (cut, torn)
            # what was acknowledged before the cut: every end() that returned
            acked_before = {}
            for n in j.numbers():
                if j.state(n) != jn.INCOMPLETE and j.state(n) != jn.RECEIVING:
                    acked_before[n] = _stored(j, n)
            f.close()
            f = NorFlash(_IMAGE, 3)
            j2 = _mounted(f)
            s = j2.status()
            assert s["problems"] == 0, (cut, torn, s)
            torn_found += s["torn_records"]
            for n in acked_before:
                assert n in j2.numbers(), (cut, torn, n)
                state = j2.state(n)
                assert state in (jn.PRINTED, jn.INTERRUPTED), (cut, torn, n, state)
                assert _stored(j2, n) == acked_before[n], (cut, torn, n)
                if n in acked:
                    assert acked_before[n].endswith(b"\x1dV\x00")
            # recording goes on after the restart
            data = _receipt(9)
            j2.text(data, 0, len(data))
            n = j2.end(r.CUT)
            assert n and _stored(j2, n).endswith(b"\x1dV\x00"), (cut, torn)
            _whole_pages(f)
            f.close()
            covered += 1
    print("power-cut points covered: %d (%d operations, clean and torn)" % (covered, ops))
    print("torn records found while mounting: %d" % torn_found)
    assert covered == 2 * ops
    assert torn_found > 0


def test_a_record_torn_in_a_page_it_shares_leaves_the_records_before_it():
    f = _fresh(blocks=3)
    j = _mounted(f)
    first = _receipt(0)
    j.text(first, 0, len(first))
    n = j.end(r.CUT)
    ops = f.ops
    assert j.log.head_at % 256  # the next record starts inside a page already programmed
    f.close()
    f = _fresh(blocks=3, cut_at=ops + 1, torn=True)
    j = _mounted(f)
    j.text(first, 0, len(first))
    j.end(r.CUT)
    second = _receipt(1)
    j.text(second, 0, len(second))
    try:
        j.end(r.CUT)
        raise AssertionError("the power should have gone at its first page")
    except PowerCut:
        pass
    f.close()
    f = NorFlash(_IMAGE, 3)
    j = _mounted(f)
    s = j.status()
    assert s["torn_records"] == 1 and s["problems"] == 0, s
    assert j.numbers() == [n] and _stored(j, n).endswith(b"\x1dV\x00")
    assert j.state(n) == jn.INTERRUPTED  # acknowledged, then the power went: printed again
    j.text(second, 0, len(second))  # the next record goes into a fresh block
    m = j.end(r.CUT)
    assert m == n + 1 and len(j.log.order) == 2, j.log.order
    _whole_pages(f)


def test_a_region_that_is_not_a_journal_is_reported_and_left_alone():
    f = _fresh(blocks=4)
    f.close()
    with open(_IMAGE, "r+b") as image:
        image.write(b"some other filesystem" * 100)
    before = _image_hash()
    f = NorFlash(_IMAGE, 4)
    j = jn.Journal(f)
    assert not j.mount()
    assert "no journal" in j.error, j.error
    assert not j.status()["mounted"]
    data = b"text\n"
    j.text(data, 0, len(data))
    assert j.end(r.CUT) == 0  # not journaled: nothing acknowledged, nothing written
    f.close()
    assert _image_hash() == before
    f = NorFlash(_IMAGE, 4)
    j = jn.Journal(f)
    assert j.format() and j.numbers() == []  # only when a technician asks
    f.close()


def test_the_parser_stops_at_each_receipt_boundary_for_the_journal():
    layout = LayoutRecorder()
    p = Parser(layout)
    p.stop_at_boundary = True
    data = b"A\n\x1dV\x00B\n\x1b@C\n\x1d(H\x06\x00\x30\x30ID42D"
    stops = []
    i = 0
    while i < len(data):
        i = p.feed(data, i, len(data))
        if p.boundary:
            stops.append((i, p.boundary, bytes(p.marker)))
            p.boundary = 0
    assert stops == [(5, 1, b"\x00\x00\x00\x00"), (9, 2, b"\x00\x00\x00\x00"), (22, 3, b"ID42")]
    assert layout.text() == "ABCD"


def test_journaling_text_allocates_nothing_between_flash_writes():
    import micropython

    f = _fresh()
    j = _mounted(f)
    line = b"Flat white                  3.40\n"
    card = b"Card 4111 1111 1111 1111\n"
    j.text(line, 0, len(line))  # the receipt's first record is written, its index entry made
    j.flush()
    micropython.heap_lock()
    try:
        for _ in range(3):  # 3 * 59 bytes: the 256-byte page does not fill
            j.text(line, 0, len(line))
            j.text(card, 0, len(card))
    finally:
        micropython.heap_unlock()
    assert j.mask.masked == 3
    j.end(r.CUT)
    _whole_pages(f)
