"""An append-only log of records over erase blocks of a NOR flash region.

Blocks are used oldest to newest by their block sequence; records are appended into erased
space only, so a power cut can tear at most the record being written. A new block is erased
ahead while the mechanism stands (`erase_ahead`: an erase stops the CPU for tens of ms, which
a printing mechanism cannot wait out), else right before use, after `before_erase` (the owner
lets the mechanism come to rest); when none is free, the oldest block goes, but only if its
owner says it may (`may_drop`): the log never drops what the journal still needs, it reports
Full instead. A
block that held records is retired before its erase (its header's magic programmed to zero),
so an erase cut short, whatever it leaves, is never read as records again.
Mounting never writes and never formats: damage is counted and described in `problems`, and
the owner hears where in the log records are missing or unreadable (`on_damage`).

Records lie end to end, but the flash is only ever programmed a whole 256-byte page at a
page-aligned offset (the RP2040's rule): a record goes out through a copy of the page it
ends in, so the next record programs that page again, its earlier bytes unchanged and only
erased bytes cleared.
"""

import hashlib

from . import record as r

_PROBLEMS_KEPT = const(8)
_PAGE = const(256)  # the unit of every program
_BLANK = b"\xff" * _PAGE


def _keep(block_seq) -> bool:
    return False


def _dropped(block_seq):
    pass


def _no_erase(b: int):
    pass


def _no_damage():
    pass


def _nothing():
    pass


def _past(off: int) -> int:
    """The first page past the longest record that can start at `off`: where the log goes on
    after a record torn there (no page that record touched is programmed again)."""
    end = off + r.RECORD_MAX + _PAGE - 1
    return end - end % _PAGE


class NotJournal(Exception):
    """The region holds data but no journal block: it is left as it is."""


class Full(Exception):
    """No block can be freed: everything left is still needed."""


class Log:
    def __init__(self, dev):
        self._dev = dev
        self.block_size = dev.ioctl(5, 0)
        self.blocks = dev.ioctl(4, 0)
        self._buf = bytearray(r.RECORD_MAX)
        self._mv = memoryview(self._buf)
        self._page = memoryview(bytearray(_BLANK))  # the head's page as it is on flash
        self.order = []  # blocks in use, oldest first
        self.block_seq = [0] * self.blocks
        self.erase_counts = [0] * self.blocks  # as each block's header last said
        self.erases = 0  # erases by this log since mount
        self.head = -1  # block written to; -1: open a new one before the next record
        self.head_at = 0
        self.seq = 1  # of the next record
        self.chain = bytes(32)
        self.problems = []  # the last few, as text
        self.problem_count = 0
        self.torn = 0  # records torn by a power cut
        self.foreign = []  # blocks holding data that is no journal's (reused when needed)
        self.cut_erase = 0  # blocks an erase cut short left with data (free, reused)
        self.may_drop = _keep  # may_drop(block_seq) -> bool: the owner says what may go
        self.on_drop = _dropped  # on_drop(block_seq): just before a block goes
        self.on_erase = _no_erase  # on_erase(b) before block b is erased, on_erase(-1) after
        self.on_damage = _no_damage  # where, in log order, records are missing or unreadable
        self.before_erase = _nothing  # an erase that was not done ahead is due
        self.ready = -1  # a free block erased ahead, to be used next without an erase

    def set_owner(self, may_drop, on_drop):
        """Who decides what may go when space runs out, and hears when a block goes."""
        self.may_drop = may_drop
        self.on_drop = on_drop

    def problem(self, text):
        self.problem_count += 1
        self.problems.append(text)
        if len(self.problems) > _PROBLEMS_KEPT:
            self.problems.pop(0)

    # ---- mount ----------------------------------------------------------------------------

    def mount(self, visit, erasing: int = -1):
        """Read every record, oldest first: visit(kind, flag, seq, receipt, at, block, offset,
        payload). Checks sequence, CRC and chain; never writes. `erasing`: a block the owner
        knows an erase was started on (its mark), so data left in it is no damage."""
        hdr = self._mv[: r.BLOCK_HEADER]
        used = []
        self.foreign = []
        self.cut_erase = 0
        for b in range(self.blocks):
            self._dev.readblocks(b, hdr, 0)
            h = r.read_block_header(hdr, b)
            if h is not None:
                used.append((h[0], b))
                self.block_seq[b] = h[0]
                self.erase_counts[b] = h[1]
                continue
            count = r.retired(hdr, b)
            if count >= 0:
                self.erase_counts[b] = count  # retired, its erase to come or cut short: free
            elif self._erased_from(b, r.BLOCK_HEADER):
                pass  # erased, or a header program cut short over an erased body: free
            elif b == erasing:
                self.cut_erase += 1  # an erase the power cut short: free
            else:
                # Data under no journal header: something else, or damage.
                self.foreign.append(b)
        if not used and self.foreign:
            # Not a journal (or one damaged beyond its headers): formatting is the
            # technician's decision, never ours.
            raise NotJournal(
                "no journal in this region (%d blocks hold other data)" % len(self.foreign)
            )
        for b in self.foreign:
            self.problem("block %d: data that is no journal block (damaged or moved)" % b)
        used.sort()
        self.order = [b for _, b in used]
        expect = 0
        for i, b in enumerate(self.order):
            at = self._scan_block(b, visit, expect)
            expect = self.seq
            if i == len(self.order) - 1:
                self.head = b if at and self._erased_from(b, at) else -1
                self.head_at = at
                if self.head >= 0 and at < self.block_size:
                    self._dev.readblocks(b, self._page, at - at % _PAGE)

    def _scan_block(self, b: int, visit, expect: int) -> int:
        """Visit the block's records; return where the next record may go (after the last
        good one, or on the page after a torn one), or 0 when the space after it is not
        clean. A block goes on after one torn record at most: after a second, the next record
        goes into a fresh block."""
        buf = self._buf
        mv = self._mv
        bs = self.block_size
        off = r.BLOCK_HEADER
        resumed = False
        while off + r.OVERHEAD <= bs:
            self._dev.readblocks(b, mv[: r.HEADER], off)
            size = 0  # a length to trust
            kind = flag = n = seq = receipt = at = 0  # read below when the header is good
            if buf[0] == r.ERASED:
                if self._erased_from(b, off):
                    return off
                good = False  # a record torn before its first byte went
            else:
                kind, flag, n, seq, receipt, at = r.unpack(buf)
                good = n <= r.PAYLOAD_MAX and off + r.OVERHEAD + n <= bs
                good = good and r.DATA <= kind <= r.STATE
                if good:
                    size = r.OVERHEAD + n
                    self._dev.readblocks(b, mv[:size], off)
                    good = r.crc_ok(buf, size)
            if not good:
                # A bad record: edited (the next record follows it), torn by a power cut
                # (erased flash after it, or the log went on, on the page after it, with the
                # record that was due), or damage.
                after = _past(off)
                if size and self._due_at(b, off + size, self.seq + 1, None):
                    pass  # edited: damage, below
                elif self._erased_from(b, off + r.RECORD_MAX):
                    self.torn += 1
                    return after if not resumed and after + r.OVERHEAD <= bs else 0
                elif not resumed and self._due_at(b, after, self.seq, self.chain):
                    self.torn += 1
                    resumed = True
                    off = after
                    continue
                elif not resumed and self._torn_last(b, after):
                    self.torn += 2  # torn, and the record that went on after it torn too
                    return 0
                self.problem("block %d offset %d: damaged record" % (b, off))
                self.on_damage()
                if not size:
                    return 0  # no length to trust: the rest of the block is lost
                off += size  # an edited record: its length still finds the next one
                continue
            if expect and seq > expect:
                self.problem("records %d to %d missing" % (expect, seq - 1))
                self.on_damage()
            elif expect and seq < expect:
                self.problem("record %d out of order (after %d)" % (seq, expect - 1))
                self.on_damage()
            elif expect and bytes(mv[16 : r.HEADER]) != self.chain:
                self.problem("record %d does not chain to record %d (edited?)" % (seq, seq - 1))
                self.on_damage()
            self.chain = hashlib.sha256(mv[:size]).digest()
            self.seq = seq + 1
            expect = self.seq
            try:
                visit(kind, flag, seq, receipt, at, b, off, mv[r.HEADER : r.HEADER + n])
            except Exception as e:  # a record the journal cannot use is reported, not fatal
                self.problem("record %d: %s" % (seq, e))
            off += size
        return off

    def _due_at(self, b: int, at: int, seq_due: int, chain) -> bool:
        """Whether a good record with sequence `seq_due` (chained to `chain`, when given)
        starts at `at`."""
        buf = self._buf
        mv = self._mv
        bs = self.block_size
        if at + r.OVERHEAD > bs:
            return False
        self._dev.readblocks(b, mv[: r.HEADER], at)
        kind, _, n, seq, _, _ = r.unpack(buf)
        if not r.DATA <= kind <= r.STATE or n > r.PAYLOAD_MAX or at + r.OVERHEAD + n > bs:
            return False
        if seq != seq_due or (chain is not None and bytes(mv[16 : r.HEADER]) != chain):
            return False
        self._dev.readblocks(b, mv[: r.OVERHEAD + n], at)
        return r.crc_ok(buf, r.OVERHEAD + n)

    def _torn_last(self, b: int, at: int) -> bool:
        """Whether a torn record starts at `at` with nothing after it: written, not whole,
        and erased flash past its longest extent."""
        if at + r.OVERHEAD > self.block_size or self._erased_from(b, at):
            return False
        return self._erased_from(b, at + r.RECORD_MAX) and not self._due_at(b, at, self.seq, None)

    def _erased_from(self, b: int, off: int) -> bool:
        bs = self.block_size
        buf = self._buf
        while off < bs:
            n = bs - off if bs - off < r.RECORD_MAX else r.RECORD_MAX
            self._dev.readblocks(b, self._mv[:n], off)
            for i in range(n):
                if buf[i] != 0xFF:
                    return False
            off += n
        return True

    # ---- append ---------------------------------------------------------------------------

    def append(self, kind: int, flag: int, receipt: int, at: int, payload=None, n: int = 0):
        """Write one record; return (block sequence, block, offset) once it is on flash."""
        size = r.OVERHEAD + n
        if self.head < 0 or self.head_at + size > self.block_size:
            self._next_block()
        buf = self._buf
        length = r.pack(buf, kind, flag, self.seq, receipt, at, self.chain, payload, n)
        b = self.head
        off = self.head_at
        self.head = -1  # until the program returns, this block's tail is unknown
        self._program(b, self._mv[:length], off)
        self.head = b
        self.head_at = off + length
        self.chain = hashlib.sha256(self._mv[:length]).digest()
        self.seq += 1
        return self.block_seq[b], b, off

    def _program(self, b: int, data, off: int):
        """Program `data` at `off` in block b, a page at a time: each page goes out whole, as it
        is on flash with the new bytes in it and 0xFF where it is still erased."""
        page = self._page
        n = len(data)
        done = 0
        while done < n:
            start = (off + done) % _PAGE
            k = _PAGE - start
            if k > n - done:
                k = n - done
            page[start : start + k] = data[done : done + k]
            self._dev.writeblocks(b, page, off + done - start)
            done += k
            if start + k == _PAGE:
                page[:] = _BLANK  # the next page is still erased

    def _free_block(self) -> int:
        """The free block with the fewest erases (wear levelling); -1 if none."""
        used = self.order
        free = -1
        for b in range(self.blocks):
            if b not in used and (free < 0 or self.erase_counts[b] < self.erase_counts[free]):
                free = b
        return free

    def _erase(self, b: int):
        self._retire(b)
        self._dev.ioctl(6, b)
        self.erases += 1
        self.erase_counts[b] += 1

    def erase_ahead(self) -> bool:
        """Erase the block the log takes next, now: it then costs no erase when a receipt
        needs it. False if one is ready already, or no block is free (the oldest is only ever
        dropped when a record needs its room)."""
        if self.ready >= 0:
            return False
        free = self._free_block()
        if free < 0:
            return False
        self.on_erase(free)  # as for any erase: what a cut one leaves is no damage
        self._erase(free)
        self.on_erase(-1)
        self.ready = free
        return True

    def _next_block(self):
        used = self.order
        free = self.ready
        self.ready = -1
        self.head = -1
        erased_now = free < 0 or free in used
        if erased_now:
            free = self._free_block()
            if free < 0:
                oldest = used[0]
                if not self.may_drop(self.block_seq[oldest]):
                    raise Full()
                self.on_drop(self.block_seq[oldest])
                used.pop(0)
                free = oldest
            self.before_erase()
            self.on_erase(free)  # the owner notes it first: data a cut erase leaves is no damage
            self._erase(free)
        # A header program cut short over an erased body reads as a free block: erased ahead,
        # the block needs no mark.
        top = self.block_seq[used[-1]] + 1 if used else 1
        page = self._page
        page[:] = _BLANK
        r.block_header(page, top, self.erase_counts[free], free)
        self._dev.writeblocks(free, page, 0)
        self.block_seq[free] = top
        used.append(free)
        self.head = free
        self.head_at = r.BLOCK_HEADER
        if erased_now:
            self.on_erase(-1)

    def drop_oldest(self) -> bool:
        """Give the oldest block up before the region is full (its owner's index is): it is
        retired, its records never read again, and erased when it is next used. False if the
        owner still needs it, or it is the only block."""
        used = self.order
        if len(used) < 2 or not self.may_drop(self.block_seq[used[0]]):
            return False
        b = used[0]
        self.on_drop(self.block_seq[b])
        used.pop(0)
        self.on_erase(b)  # as before an erase: what a cut retirement leaves is no damage
        self._retire(b)
        self.on_erase(-1)
        return True

    def _retire(self, b: int):
        """Clear the magic of block b's header, if it has one, before the block is erased:
        however the erase is cut short, its records are never read again. Only bits go from
        1 to 0, and the rest of the page is programmed to what it is."""
        page = self._mv[:_PAGE]
        self._dev.readblocks(b, page, 0)
        if r.read_block_header(page, b) is None:
            return  # erased, retired already, or foreign: nothing to read back as records
        for i in range(4):
            page[i] = 0
        self._dev.writeblocks(b, page, 0)

    # ---- reading back ---------------------------------------------------------------------

    def records_from(self, b: int, off: int):
        """Yield (kind, flag, receipt, at, payload) from a record onwards, in log order, past
        records a power cut tore. The payload is a view into one buffer: use it before the
        next one comes."""
        buf = self._buf
        mv = self._mv
        order = self.order
        if b not in order:
            return
        i = order.index(b)
        due = 0  # the sequence number of the record after the last good one
        while i < len(order):
            b = order[i]
            while off + r.OVERHEAD <= self.block_size:
                self._dev.readblocks(b, mv[: r.HEADER], off)
                kind, flag, n, seq, receipt, at = r.unpack(buf)
                size = r.OVERHEAD + n
                good = buf[0] != r.ERASED and n <= r.PAYLOAD_MAX and off + size <= self.block_size
                if good:
                    self._dev.readblocks(b, mv[:size], off)
                    good = r.crc_ok(buf, size)
                if not good:
                    # past a torn record, on the page where the log went on, if it did
                    after = _past(off)
                    if not due or not self._due_at(b, after, due, None):
                        break
                    off = after
                    continue
                due = seq + 1
                yield kind, flag, receipt, at, mv[r.HEADER : r.HEADER + n]
                off += size
            i += 1
            off = r.BLOCK_HEADER

    def used_fraction_from(self, block_seq: int) -> int:
        """Per cent of the region's blocks from the block `block_seq` to the newest."""
        n = 0
        for b in self.order:
            if self.block_seq[b] >= block_seq:
                n += 1
        return n * 100 // self.blocks
