"""An append-only log of records over erase blocks of a NOR flash region.

Blocks are used oldest to newest by their block sequence; records are appended into erased
space only, so a power cut can tear at most the record being written. A new block is erased
right before use; when none is free, the oldest block goes, but only if its owner says it may
(`may_drop`): the log never drops what the journal still needs, it reports Full instead.
Mounting never writes and never formats: damage is counted and described in `problems`.

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
        self.foreign = 0  # blocks that are neither journal nor erased (reused when needed)
        self.may_drop = _keep  # may_drop(block_seq) -> bool: the owner says what may go
        self.on_drop = _dropped  # on_drop(block_seq): just before a block goes

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

    def mount(self, visit):
        """Read every record, oldest first: visit(kind, flag, seq, receipt, at, block, offset,
        payload). Checks sequence, CRC and chain; never writes."""
        hdr = self._mv[: r.BLOCK_HEADER]
        used = []
        self.foreign = 0
        for b in range(self.blocks):
            self._dev.readblocks(b, hdr, 0)
            h = r.read_block_header(hdr)
            if h is not None:
                used.append((h[0], b))
                self.block_seq[b] = h[0]
                self.erase_counts[b] = h[1]
            elif bytes(hdr) != b"\xff" * r.BLOCK_HEADER and not self._erased_from(
                b, r.BLOCK_HEADER
            ):
                # Neither a journal block nor one a power cut left blank (a torn header
                # program, a torn erase): something else, or damage.
                self.foreign += 1
        if not used and self.foreign:
            # Not a journal (or one damaged beyond its headers): formatting is the
            # technician's decision, never ours.
            raise NotJournal(
                "no journal in this region (%d blocks hold other data)" % self.foreign
            )
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
        """Visit the block's records; return the offset after the last good one, or 0 when
        the space after it is not clean."""
        buf = self._buf
        mv = self._mv
        bs = self.block_size
        off = r.BLOCK_HEADER
        while off + r.OVERHEAD <= bs:
            self._dev.readblocks(b, mv[: r.HEADER], off)
            kind = buf[0]
            if kind == r.ERASED:
                return off
            kind, flag, n, seq, receipt, at = r.unpack(buf)
            size = r.OVERHEAD + n
            if n > r.PAYLOAD_MAX or off + size > bs or not r.DATA <= kind <= r.STATE:
                self._damaged(b, off)
                return 0  # no length to trust: the rest of the block is lost
            self._dev.readblocks(b, mv[:size], off)
            if not r.crc_ok(buf, size):
                if self._damaged(b, off):
                    return 0
                off += size  # an edited record: its length still finds the next one
                continue
            if expect and seq != expect:
                self.problem("records %d to %d missing" % (expect, seq - 1))
            elif expect and bytes(mv[16 : r.HEADER]) != self.chain:
                self.problem("record %d does not chain to record %d (edited?)" % (seq, seq - 1))
            self.chain = hashlib.sha256(mv[:size]).digest()
            self.seq = seq + 1
            expect = self.seq
            try:
                visit(kind, flag, seq, receipt, at, b, off, mv[r.HEADER : r.HEADER + n])
            except Exception as e:  # a record the journal cannot use is reported, not fatal
                self.problem("record %d: %s" % (seq, e))
            off += size
        return off

    def _damaged(self, b: int, off: int) -> bool:
        """True if the bad record was torn by a power cut: erased flash only after it.
        Anything else after a bad record is damage, and reported."""
        if self._erased_from(b, off + r.RECORD_MAX):
            self.torn += 1
            return True
        self.problem("block %d offset %d: damaged record" % (b, off))
        return False

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

    def _next_block(self):
        used = self.order
        free = -1
        for b in range(self.blocks):
            if b not in used and (free < 0 or self.erase_counts[b] < self.erase_counts[free]):
                free = b
        if free < 0:
            oldest = used[0]
            if not self.may_drop(self.block_seq[oldest]):
                raise Full()
            self.on_drop(self.block_seq[oldest])
            used.pop(0)
            free = oldest
        top = self.block_seq[used[-1]] + 1 if used else 1
        count = self.erase_counts[free] + 1
        self.head = -1
        self._dev.ioctl(6, free)
        self.erases += 1
        self.erase_counts[free] = count
        page = self._page
        page[:] = _BLANK
        r.block_header(page, top, count)
        self._dev.writeblocks(free, page, 0)
        self.block_seq[free] = top
        used.append(free)
        self.head = free
        self.head_at = r.BLOCK_HEADER

    # ---- reading back ---------------------------------------------------------------------

    def records_from(self, b: int, off: int):
        """Yield (kind, flag, receipt, at, payload) from a record onwards, in log order. The
        payload is a view into one buffer: use it before the next one comes."""
        buf = self._buf
        mv = self._mv
        order = self.order
        if b not in order:
            return
        i = order.index(b)
        while i < len(order):
            b = order[i]
            while off + r.OVERHEAD <= self.block_size:
                self._dev.readblocks(b, mv[: r.HEADER], off)
                if buf[0] == r.ERASED:
                    break
                kind, flag, n, seq, receipt, at = r.unpack(buf)
                size = r.OVERHEAD + n
                if n > r.PAYLOAD_MAX or off + size > self.block_size:
                    break
                self._dev.readblocks(b, mv[:size], off)
                if not r.crc_ok(buf, size):
                    break
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
