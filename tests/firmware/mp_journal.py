"""The journal under MicroPython on the sim's NOR flash model: masking, states across a
restart, damage detection, capacity, wear, and a power cut at every flash operation. The model
refuses any program that is not whole 256-byte pages at a page-aligned offset (the RP2040's
rule) and counts any that would set a cleared bit: every test here checks the journal issued
neither."""

import gc
import hashlib
import os

import bugs
import journal_sweep

from recorder import LayoutRecorder
from sim.flash import NorFlash, PowerCut
from tillroll.escpos.parser import Parser
from tillroll.journal import journal as jn
from tillroll.journal import record as r
from tillroll.journal.mask import CardMask

_IMAGE = "/tmp/tillroll-mp-journal.bin"


def _fresh(blocks=8, cut_at=0, torn=False, tear_seed=0):
    try:
        os.remove(_IMAGE)
    except OSError:
        pass
    return NorFlash(_IMAGE, blocks, cut_at=cut_at, torn=torn, tear_seed=tear_seed)


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


def test_power_cuts_sampled_from_a_fixed_seed_lose_nothing():
    # The sample CI runs (`make powercut` sweeps every cut point): cut points, tear shapes and
    # a cut during the recovery boot drawn from seed 1, for as long as the budget lasts.
    tally = journal_sweep.sweep(seed=1, budget_ms=15000)
    tally.report()
    assert tally.first_cuts > 0 and tally.recovery_cuts > 0
    # the checks ran: acknowledged receipts were looked for, stored bytes compared
    assert tally.acked_checked > 0 and tally.compared > 0


def _caught(journal, health=True):
    """The sweep's first failure against a journal, from its first cut points on."""
    journal_sweep.HEALTH[0] = health
    try:
        tally = journal_sweep.sweep(journal=journal, tears=0, budget_ms=20000)
    except journal_sweep.SweepFailure as e:
        return str(e)
    finally:
        journal_sweep.HEALTH[0] = True
    raise AssertionError("the sweep passed a broken journal: %d cut points" % tally.first_cuts)


def test_the_sweep_catches_a_commit_written_before_its_data():
    # Correct without a power cut: the scenario runs through uncut.
    journal_sweep.reference(bugs.CommitFirst)
    why = _caught(bugs.CommitFirst)
    print(why)
    assert "bytes kept of the" in why, why  # mounting: a receipt shorter than its END says
    why = _caught(bugs.CommitFirst, health=False)
    print(why)
    assert "with other bytes" in why, why  # and, without that, its bytes compared


def test_the_sweep_catches_an_acknowledgement_before_the_commit():
    journal_sweep.reference(bugs.AckFirst)
    why = _caught(bugs.AckFirst)
    print(why)
    assert "not printed" in why or "lost" in why, why


def _torn_second(seed, cuts=1):
    """Receipt 1 on flash; receipt 2's END (in the page receipt 1 ends in) cut short, and
    with cuts=2 the record written after the restart cut short too. Returns (n, flash)."""
    f = _fresh(blocks=3)
    j = _mounted(f)
    first = _receipt(0)
    j.text(first, 0, len(first))
    n = j.end(r.CUT)
    ops = f.ops
    assert j.log.head_at % 256  # the next record starts inside a page already programmed
    f.close()
    f = _fresh(blocks=3, cut_at=ops + 1, torn=True, tear_seed=seed)
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
    shapes = [f.tear.shape]
    f.close()
    if cuts == 2:
        f = NorFlash(_IMAGE, 3, cut_at=1, torn=True, tear_seed=seed + 1)
        j = _mounted(f)
        j.text(second, 0, len(second))
        try:
            j.end(r.CUT)
            raise AssertionError("the power should have gone at its first page")
        except PowerCut:
            pass
        shapes.append(f.tear.shape)
        f.close()
    return n, shapes


def test_a_record_torn_in_a_page_it_shares_leaves_the_records_before_it():
    torn = 0
    for seed in range(8):
        n, shapes = _torn_second(seed)
        f = NorFlash(_IMAGE, 3)
        j = _mounted(f)
        s = j.status()
        assert s["problems"] == 0 and s["healthy"], s
        torn += s["torn_records"]
        assert j.numbers() == [n] and _stored(j, n) == _receipt(0).replace(
            b"4111 1111 1111 1111", b"**** **** **** 1111"
        )
        assert j.state(n) == jn.INTERRUPTED  # acknowledged, then the power went: printed again
        # The log goes on in the same block, on the page past the torn record's longest
        # extent: a tear costs at most two pages, not the rest of its block.
        second = _receipt(1)
        j.text(second, 0, len(second))
        m = j.end(r.CUT)
        assert m == n + 1 and len(j.log.order) == 1, (seed, shapes, j.log.order)
        _whole_pages(f)
        f.close()
        j = _mounted(NorFlash(_IMAGE, 3))
        assert j.numbers() == [n, m] and j.status()["healthy"], (seed, j.status())
    assert torn >= 6  # (a tear that programmed nothing leaves no torn record)


def test_a_second_tear_in_a_block_sends_the_log_to_a_fresh_block():
    fresh = 0
    for seed in range(8):
        n, shapes = _torn_second(seed * 2, cuts=2)
        f = NorFlash(_IMAGE, 3)
        j = _mounted(f)
        s = j.status()
        assert s["problems"] == 0 and s["healthy"], (seed, shapes, s)
        assert j.numbers()[0] == n and j.state(n) == jn.INTERRUPTED
        for k in j.numbers()[1:]:  # a tear may still have programmed a whole record
            assert j.state(k) == jn.INCOMPLETE
        second = _receipt(1)
        j.text(second, 0, len(second))
        m = j.end(r.CUT)
        assert m == j.numbers()[-1] and _stored(j, m).endswith(b"\x1dV\x00")
        if s["torn_records"] == 2:
            assert len(j.log.order) == 2, (shapes, j.log.order)
            fresh += 1
        _whole_pages(f)
        f.close()
        j = _mounted(NorFlash(_IMAGE, 3))
        assert j.status()["healthy"] and j.numbers()[-1] == m
    assert fresh >= 3


_MARK = "/tmp/tillroll-mp-journal.mark"


def _with_mark(blocks=6, count=22):
    """A journal of `count` acknowledged receipts of 300 to 900 bytes, the last three not
    yet printed, and its mark; returns their numbers, where each receipt's records lie
    ({number: [(block, offset, length), ...]}) and the blocks in log order."""
    gc.collect()
    for path in (_MARK, _MARK + ".new"):
        try:
            os.remove(path)
        except OSError:
            pass
    f = _fresh(blocks=blocks)
    j = jn.Journal(f, _MARK)
    assert j.mount()
    sent = []
    for k in range(count):
        head = b"\x1b@Receipt %d\n" % k
        j.text(head, 0, len(head))
        line = b"line %d of it\n" % k
        for _ in range(20 + k * 7 % 45):
            j.text(line, 0, len(line))
        j.text(b"\x1dV\x00", 0, 3)
        n = j.end(r.CUT)
        sent.append(n)
        if k < count - 3:
            j.printed(n)
    where = {}
    log = j.log
    off = r.BLOCK_HEADER
    for b in log.order:
        off = r.BLOCK_HEADER
        buf = bytearray(r.HEADER)
        while off + r.OVERHEAD <= log.block_size:
            f.readblocks(b, buf, off)
            if buf[0] == r.ERASED:
                break
            kind, _, n, _, receipt, _ = r.unpack(buf)
            if kind != r.STATE:
                where.setdefault(receipt, []).append((b, off, r.OVERHEAD + n))
            off += r.OVERHEAD + n
    assert j.status()["healthy"]
    _whole_pages(f)
    f.close()
    return sent, where, log.order


def _damaged(damage):
    """Mount after `damage(image)` with the mark; return the status."""
    gc.collect()
    with open(_IMAGE, "r+b") as image:
        damage(image)
    f = NorFlash(_IMAGE, 6)
    j = jn.Journal(f, _MARK)
    assert j.mount(), j.error  # damage is reported, never fatal
    s = j.status()
    f.close()
    lost = []
    for a, b in s["lost"]:
        lost.extend(range(a, b + 1))
    return s, lost, sorted(s["suspect"])


def _costs(where, gone):
    """What losing the bytes for which gone(block, offset, length) holds should cost: the
    receipts whose first record went (lost) and the others with a record gone (suspect)."""
    lost = sorted(n for n, spans in where.items() if gone(*spans[0]))
    suspect = sorted(
        n for n, spans in where.items() if n not in lost and any(gone(*x) for x in spans)
    )
    return lost, suspect


def test_the_journals_end_erased_while_off_names_the_receipts_lost():
    # The image cut short in its third block and padded back to erased (the sim refuses a
    # short file now; this is the same damage in place).
    sent, where, order = _with_mark()
    cut = order[2] * 4096 + 1000

    def erase_tail(image):
        blank = b"\xff" * 256
        at = cut
        while at < len(order) * 4096:
            image.seek(at)
            image.write(blank[: min(256, len(order) * 4096 - at)])
            at += 256

    s, lost, suspect = _damaged(erase_tail)
    want_lost, want_suspect = _costs(where, lambda b, o, n: b * 4096 + o + n > cut)
    assert want_lost and lost == want_lost, (lost, want_lost)
    assert suspect == want_suspect, (suspect, want_suspect)
    assert not s["healthy"] and s["last_acknowledged"] == max(sent), s
    print(s["problem_texts"])


def test_a_zeroed_newest_block_names_the_receipts_lost():
    sent, where, order = _with_mark()
    newest = order[-1]

    def zero(image):
        image.seek(newest * 4096)
        image.write(bytes(4096))

    s, lost, suspect = _damaged(zero)
    want_lost, want_suspect = _costs(where, lambda b, o, n: b == newest)
    assert want_lost and lost == want_lost and suspect == want_suspect, (lost, suspect)
    assert not s["healthy"] and s["foreign_blocks"] == 1, s


def test_blocks_erased_in_the_middle_name_the_receipts_lost():
    sent, where, order = _with_mark()
    gone = order[2]

    def erase(image):
        image.seek(gone * 4096)
        image.write(b"\xff" * 4096)

    s, lost, suspect = _damaged(erase)
    want_lost, want_suspect = _costs(where, lambda b, o, n: b == gone)
    assert lost == want_lost and suspect == want_suspect, (lost, suspect, want_lost)
    assert not s["healthy"] and any("missing" in t for t in s["problem_texts"]), s


def test_swapped_blocks_are_reported_with_the_receipts_they_held():
    sent, where, order = _with_mark()
    a, b = order[1], order[2]

    def swap(image):
        image.seek(a * 4096)
        first = image.read(4096)
        image.seek(b * 4096)
        second = image.read(4096)
        image.seek(a * 4096)
        image.write(second)
        image.seek(b * 4096)
        image.write(first)

    s, lost, suspect = _damaged(swap)
    want_lost, want_suspect = _costs(where, lambda blk, o, n: blk in (a, b))
    assert lost == want_lost and suspect == want_suspect, (lost, suspect)
    assert not s["healthy"] and s["foreign_blocks"] == 2, s


def test_an_edited_byte_makes_its_receipt_suspect_or_lost():
    sent, where, order = _with_mark()
    many = [n for n, spans in where.items() if len(spans) > 3]
    n = many[len(many) // 2]
    for record, want in ((1, ([], [n])), (0, ([n], []))):
        sent, where, order = _with_mark()
        blk, off, size = where[n][record]

        def edit(image, blk=blk, off=off):
            image.seek(blk * 4096 + off + r.HEADER + 5)
            c = image.read(1)
            image.seek(blk * 4096 + off + r.HEADER + 5)
            image.write(bytes([c[0] ^ 0x20]))

        s, lost, suspect = _damaged(edit)
        assert (lost, suspect) == want, (record, lost, suspect, want)
        assert not s["healthy"] and any("damaged" in t for t in s["problem_texts"]), s


def test_a_technicians_format_starts_a_healthy_journal_and_mark():
    numbers, where, order = _with_mark()
    with open(_IMAGE, "r+b") as image:
        image.seek(order[-1] * 4096)
        image.write(bytes(4096))
    f = NorFlash(_IMAGE, 6)
    j = jn.Journal(f, _MARK)
    assert j.mount() and not j.healthy()
    assert j.format()  # every receipt on it goes: nothing is then lost or suspect
    s = j.status()
    assert s["healthy"] and s["lost"] == [] and j.numbers() == [], s
    f.close()
    j = jn.Journal(NorFlash(_IMAGE, 6), _MARK)
    assert j.mount() and j.status()["healthy"], j.status()


def test_a_lost_receipts_number_is_never_given_again():
    sent, where, order = _with_mark()
    newest = order[-1]
    with open(_IMAGE, "r+b") as image:
        image.seek(newest * 4096)
        image.write(bytes(4096))
    f = NorFlash(_IMAGE, 6)
    j = jn.Journal(f, _MARK)
    assert j.mount()
    data = b"after the damage\n\x1dV\x00"
    j.text(data, 0, len(data))
    assert j.end(r.CUT) == max(sent) + 1
    f.close()


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
