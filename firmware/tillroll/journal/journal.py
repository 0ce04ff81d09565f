# pyright: reportUndefinedVariable=false
"""The receipt journal: every receipt's bytes and state, on its own flash region.

The link hands in bytes as they arrive (`text`/`raw`: card numbers are masked on the way) and
ends a receipt at its boundary (`end`); once `end` returns, the receipt is durable and may be
acknowledged. The recovery side records what happened to it on paper (`printed`,
`interrupted`) and reads it back for a reprint (`chunks`). The technician's view is `page`
(or `rows`), `read`, `first_line` and `status`, a page at a time whatever the journal holds.
The region is mounted, never formatted: a region that does not mount is reported and the
module prints without the journal. Damage found while mounting is reported as what it costs:
the receipts (by number) lost or suspect, with the help of the mark the board keeps apart from
the region (`mark.py`).
"""

import struct
import time

from ..native import load
from . import record as r
from .index import Index
from .log import Full, Log
from .mark import Mark
from .mask import CardMask

load(__file__, globals())  # its hot loops: journal.vpy

# Receipt states
RECEIVING = const(0)  # bytes coming in, no boundary yet
ACKNOWLEDGED = const(1)  # durable, waiting for or on paper
PRINTED = const(2)
INTERRUPTED = const(3)  # a fault stopped it: printed again when the fault clears
INCOMPLETE = const(4)  # its end never reached flash (never acknowledged): kept, not reprinted
CANCELLED = const(5)  # the host cleared it before it printed (DLE DC4 fn 8, DLE ENQ 2)

STATE_NAMES = ("receiving", "printing", "printed", "interrupted", "incomplete", "cancelled")

# Interruption reasons: the engine's status bits (engine/status.py), and power loss
POWER_LOSS = const(0x80)

# Index fields, flat in one sequence of ints (index.py; a small int a field, no object a
# receipt)
_NUM = const(0)
_LOC = const(1)  # block * 65536 + offset of its first record
_BSEQ = const(2)  # block sequence of that block
_BYTES = const(3)
_TIME = const(4)  # seconds since 2024 (fits a small int)
_INFO = const(5)  # state | reason << 8 | copies << 16
_LINE = const(6)  # dot line reached when interrupted
_END = const(7)  # the length its END gives (-1: none yet), checked once mounting has read all
_F = const(8)
# Receipts the index holds: when it is full the oldest block goes, as when the region is full,
# so the journal keeps the last RECEIPTS receipts at least, less a block's worth (index.py).
RECEIPTS = const(512)

_EPOCH_2024 = const(1704067200)
_WARN_PERCENT = const(90)
_ROOM_BYTES = const(1024)
_PAGE = const(16)  # receipts a listing page holds by default
_KEPT = const(16)  # receipt numbers (or ranges) named in the status, the first ones


class Journal:
    def __init__(self, dev, mark_path=None):
        self.log = Log(dev)
        # The last receipt acknowledged, the first kept and the block being erased, kept on
        # the board's filesystem: what a damaged region can no longer tell.
        self.mark = Mark(mark_path) if mark_path else None
        self.mark_error = None
        self.lost = []  # receipt numbers lost to damage: [first, last] ranges
        self.suspect = []  # receipts kept with bytes, or their end, missing
        self._last_data = 0  # receipt of the last DATA record read while mounting
        self._seen = 0  # the highest receipt number any record names
        self.mounted = False
        self.error = None
        self.offline = False  # full of unprinted receipts: take no more data
        self._ix = Index(_F, RECEIPTS)
        self._skipped = 0  # receipts on flash the index had no room for at mount: up to this
        self._open = -1  # index position of the receipt being received
        self._finishing = 0  # the receipt whose print or cancellation is being recorded
        self.next_number = 1
        self._page = bytearray(r.PAYLOAD_MAX)
        self._fill = 0
        self._tp = bytearray(12)
        self.mask = CardMask(self._put)
        self.wall = None  # Unix seconds, 0 while unknown (service.wall); None: time.time()

    def use_wall(self, now):
        """Take receipts' times from `now()` (Unix seconds, 0 while unknown) instead of
        time.time(): a module without a battery clock knows the time once a host sets it."""
        self.wall = now

    # ---- mount ----------------------------------------------------------------------------

    def mount(self) -> bool:
        log = self.log
        mark = self.mark
        erasing = -1
        if mark is not None and mark.read():
            erasing = mark.erasing
        log.on_damage = self._damage
        try:
            log.mount(self._visit, erasing)
        except Exception as e:  # unreadable flash: report, never format
            self.error = "journal does not mount: %s" % e
            if mark is not None and mark.found and mark.last >= mark.first > 0:
                self.error += " (it kept receipts %d to %d)" % (mark.first, mark.last)
            return False
        log.set_owner(self._may_drop, self._dropped)
        log.on_erase = self._erasing
        self._account()
        ix = self._ix
        for p in range(0, len(ix), _F):
            state = ix[p + _INFO] & 0xFF
            if state == RECEIVING:
                ix[p + _INFO] = INCOMPLETE | (ix[p + _INFO] & ~0xFF)
            elif state == ACKNOWLEDGED:  # it was printing, or waiting to, when power went
                self._set(p, INTERRUPTED, POWER_LOSS)
        self.mounted = True
        if not self.healthy():
            print("journal: damaged: %s" % "; ".join(log.problems))
        return True

    def prepare(self) -> bool:
        """While the mechanism stands: erase the block the journal writes next, so that no
        erase is due while a receipt prints. True if one was erased."""
        if not self.mounted or self.offline:
            return False
        return self.log.erase_ahead()

    def format(self) -> bool:
        """Erase the whole region and start an empty journal: a technician's decision (every
        receipt on it is lost), never taken by the firmware itself."""
        dev = self.log._dev
        for b in range(self.log.blocks):
            dev.ioctl(6, b)
        self.log = Log(dev)
        self._ix.clear()
        self._skipped = 0
        self._open = -1
        self.error = None
        self.lost = []
        self.suspect = []
        self._seen = 0
        self._last_data = 0
        self.next_number = 1
        if self.mark is not None:
            self.mark.found = False
            self._write_mark(0, -1)
        return self.mount()

    # ---- damage ---------------------------------------------------------------------------

    def _damage(self):
        """Records are missing or unreadable here, in log order: the receipt whose bytes were
        coming in may have lost some of them, or its end."""
        p = self._find(self._last_data) if self._last_data else -1
        if p >= 0 and self._ix[p + _INFO] & 0xFF == RECEIVING:
            self._suspect(self._last_data, "records missing while it was written")

    def _suspect(self, number: int, why: str):
        if number not in self.suspect:
            self.suspect.append(number)
            self.log.problem("receipt %d suspect: %s" % (number, why))

    def _account(self):
        """Name the receipts lost: receipt numbers are given one after another, so every
        number from the first kept to the last that any record (or the mark) names must be
        in the index; what is not, went with damaged or missing flash."""
        ix = self._ix
        for p in range(0, len(ix), _F):
            length = ix[p + _END]
            if length >= 0 and length != ix[p + _BYTES]:
                self._suspect(
                    ix[p], "%d bytes kept of the %d it ended with" % (ix[p + _BYTES], length)
                )
        mark = self.mark
        lo = ix[0] if ix else self.next_number
        hi = self.next_number - 1
        if self._seen > hi:
            hi = self._seen
        if mark is not None and mark.found:
            if 0 < mark.first < lo:
                lo = mark.first
            if mark.last > hi:
                hi = mark.last
                self._damage()  # the log's end is gone, not torn: so is the last one's end
        if lo <= self._skipped:
            lo = self._skipped + 1  # on flash, not indexed: not lost
        expect = lo
        for p in range(0, len(ix), _F):
            n = ix[p]
            if n > expect:
                self._lose(expect, n - 1)
            if n >= expect:
                expect = n + 1
        if hi >= expect:
            self._lose(expect, hi)
        if hi >= self.next_number:
            self.next_number = hi + 1  # a lost receipt's number is never given again

    def _lose(self, first: int, last: int):
        self.lost.append([first, last])
        if first == last:
            self.log.problem("receipt %d lost" % first)
        else:
            self.log.problem("receipts %d to %d lost" % (first, last))

    def healthy(self) -> bool:
        """Mounted, and nothing found wrong: no receipt lost or suspect, no damaged record,
        no block of foreign data. A write a power cut tore is no damage."""
        return self.mounted and self.log.problem_count == 0

    # ---- the mark -------------------------------------------------------------------------

    def _write_mark(self, last: int, erasing: int):
        mark = self.mark
        ix = self._ix
        try:
            mark.write(ix[0] if ix else self.next_number, last, erasing)  # pyright: ignore[reportOptionalMemberAccess]
        except OSError as e:  # the board's filesystem failed: the journal goes on
            self.mark_error = "the journal's mark was not written: %s" % e

    def _erasing(self, b: int):
        if self.mark is not None:
            self._write_mark(self.mark.last, b)

    def _visit(self, kind, flag, seq, receipt, at, block, offset, payload):
        if receipt > self._seen:
            self._seen = receipt
        p = self._find(receipt)
        if kind == r.DATA:
            if p < 0:
                if at:
                    # Its beginning went with an old block, or, once a receipt's beginning
                    # has been read, with damage (its number is then named lost).
                    return
                p = self._add(receipt, block, offset, self.log.block_seq[block])
            elif at != self._ix[p + _BYTES]:
                self.log.problem(
                    "receipt %d: bytes %d to %d missing" % (receipt, self._ix[p + _BYTES], at)
                )
                self._suspect(receipt, "bytes missing")
            self._ix[p + _BYTES] = at + len(payload)
            self._last_data = receipt
        elif p < 0:
            return
        elif kind == r.END:
            self._ix[p + _INFO] = ACKNOWLEDGED
            self._ix[p + _END] = at  # its length, checked once all are read
            if len(payload) >= 4:
                self._ix[p + _TIME] = struct.unpack_from("<I", payload, 0)[0]
        elif flag == r.PRINTED or flag == r.COPY_PRINTED:
            copies = (self._ix[p + _INFO] >> 16) + (1 if flag == r.COPY_PRINTED else 0)
            self._ix[p + _INFO] = PRINTED | copies << 16
        elif flag == r.INTERRUPTED:
            self._set(p, INTERRUPTED, payload[0] if len(payload) else 0)
            self._ix[p + _LINE] = at
        elif flag == r.CANCELLED:
            self._set(p, CANCELLED)

    def _add(self, number, block, offset, bseq) -> int:
        ix = self._ix
        if ix.full():  # only while mounting: writing makes room first (_index_room)
            # More receipts on flash than the index holds (a journal written by a firmware
            # with a larger one): the oldest stay on flash, unlisted, and are not named lost.
            self._skipped = ix[0]
            self._forget(_F)
        p = ix.add((number, block * 65536 + offset, bseq, 0, 0, RECEIVING, 0, -1))
        if number >= self.next_number:
            self.next_number = number + 1
        return p

    def _forget(self, n: int):
        self._ix.forget(n)
        self._open = self._open - n if self._open >= n else -1

    def _index_room(self) -> bool:
        """Room in the index for a new receipt: when it is full, the oldest block goes (if
        its receipts are done with), as when the region is full."""
        while self._ix.full():
            if not self.log.drop_oldest():
                return False
        return True

    def _find(self, number) -> int:
        ix = self._ix
        p = len(ix) - _F
        while p >= 0:
            if ix[p] == number:
                return p
            p -= _F
        return -1

    def _set(self, p, state, reason=0):
        ix = self._ix
        ix[p + _INFO] = state | reason << 8 | (ix[p + _INFO] >> 16) << 16

    # ---- space ----------------------------------------------------------------------------

    def _may_drop(self, bseq) -> bool:
        """A block may go if every receipt that starts in it or before is done with (or is
        the one whose print or cancellation is being recorded: without this, a journal full
        of blocks held by that receipt could never record it and would stay full)."""
        ix = self._ix
        for p in range(0, len(ix), _F):
            if ix[p + _BSEQ] > bseq:
                break
            state = ix[p + _INFO] & 0xFF
            if state != PRINTED and state != INCOMPLETE and state != CANCELLED:
                if ix[p] != self._finishing:
                    return False
        return True

    def _dropped(self, bseq):
        # Receipts that start in the dropped block lose their beginning: out of the index.
        ix = self._ix
        n = 0
        while n < len(ix) and ix[n + _BSEQ] <= bseq:
            n += _F
        if n:
            self._forget(n)

    def fill_percent(self) -> int:
        """Per cent of the region held by receipts not yet printed (0 when unmounted)."""
        if not self.mounted:
            return 0
        ix = self._ix
        for p in range(0, len(ix), _F):
            state = ix[p + _INFO] & 0xFF
            if state != PRINTED and state != INCOMPLETE:
                return self.log.used_fraction_from(ix[p + _BSEQ])
        return 100 // self.log.blocks

    # ---- writing --------------------------------------------------------------------------

    def text(self, buf, start: int, end: int):
        if self.mounted and not self.offline:
            self.mask.text(buf, start, end)

    def raw(self, buf, start: int, end: int):
        if self.mounted and not self.offline:
            self.mask.raw(buf, start, end)

    def _put(self, buf, start: int, end: int):
        page = self._page
        while start < end:
            n = end - start
            room = r.PAYLOAD_MAX - self._fill
            if n > room:
                n = room
            _copy(page, self._fill, buf, start, n)  # pyright: ignore[reportArgumentType]
            self._fill += n
            start += n
            if self._fill == r.PAYLOAD_MAX:
                self._write_data()

    def _write_data(self):
        if not self._fill:
            return
        try:
            if self._open < 0:
                if not self._index_room():
                    raise Full()
                number = self.next_number
                bseq, b, off = self.log.append(r.DATA, 0, number, 0, self._page, self._fill)
                self._open = self._add(number, b, off, bseq)
            else:
                p = self._open
                self.log.append(
                    r.DATA, 0, self._ix[p], self._ix[p + _BYTES], self._page, self._fill
                )
            self._ix[self._open + _BYTES] += self._fill
        except Full:
            self._full()
        self._fill = 0

    def _full(self):
        # Only unprinted receipts left: this receipt goes unjournaled (it was never
        # acknowledged) and the module takes no more data until a block frees.
        self.offline = True
        if self._open >= 0:
            self.error = "journal full: receipt %d printed unjournaled" % self._ix[self._open]
            self._set(self._open, INCOMPLETE)
            self._open = -1

    def has_room(self) -> bool:
        """Room for a new receipt: a free block, an oldest block that may go, or a good part
        of the newest block. Without it the module takes no new receipt (offline) rather
        than lose an unprinted one."""
        log = self.log
        if not self.mounted:
            return True
        if self._ix.full():  # the index is full: its oldest block must go
            return len(log.order) > 1 and self._may_drop(log.block_seq[log.order[0]])
        if len(log.order) < log.blocks:
            return True
        if log.head >= 0 and log.block_size - log.head_at >= _ROOM_BYTES:
            return True
        return self._may_drop(log.block_seq[log.order[0]])

    def flush(self):
        """Put what is buffered on flash (idle link); the receipt stays open."""
        if self.mounted and not self.offline:
            self._write_data()

    def receiving(self) -> bool:
        return self._open >= 0 or self._fill > 0

    def abandon(self, keep: bool):
        """The receipt's sender went before its end (a reset, a command cut off): it is never
        acknowledged. With `keep` (it put something on paper) its bytes go to flash and it is
        incomplete, as a receipt a power cut interrupted while it arrived. Without, bytes only
        buffered are dropped (they printed nothing); any already on flash stay, incomplete."""
        self.mask.flush()
        if (keep or self._open >= 0) and self.mounted and not self.offline:
            self._write_data()
        self._fill = 0
        if self._open >= 0:
            self._set(self._open, INCOMPLETE)
            self._open = -1

    def end(self, boundary: int, marker=b"") -> int:
        """End the receipt at a boundary; return its number once durable (0: not journaled)."""
        if not self.mounted or self.offline:
            return 0
        self.mask.flush()
        self._write_data()
        p = self._open
        if p < 0:
            return 0
        self._open = -1
        tp = self._tp
        t = (self.wall() if self.wall is not None else time.time()) - _EPOCH_2024
        t = t if t > 0 else 0
        struct.pack_into("<I", tp, 0, int(t))
        n = 4
        for c in marker[:8]:
            tp[n] = c
            n += 1
        ix = self._ix
        number = ix[p]
        if self.mark is not None:
            # Before its END: a receipt ever acknowledged is at most the mark's last, so
            # one the flash loses later is named.
            self._write_mark(number, -1)
        try:
            self.log.append(r.END, boundary, number, ix[p + _BYTES], tp, n)
        except Full:
            self._set(self._find(number), INCOMPLETE)
            self.offline = True
            return 0
        p = self._find(number)  # a block dropped for this record moves the index
        ix[p + _TIME] = int(t)
        ix[p + _INFO] = ACKNOWLEDGED
        return ix[p]

    def _state(self, number: int, flag: int, line: int, reason: int):
        if self._find(number) < 0 or not self.mounted:
            return -1
        self._tp[0] = reason
        try:
            self.log.append(r.STATE, flag, number, line, self._tp, 1)
        except Full:
            self.offline = True  # no block to spare even for a state: reported, kept in RAM
        return self._find(number)  # a block dropped for this record moves the index

    def printed(self, number: int, copy: bool = False):
        self._finishing = number
        try:
            self._state(number, r.COPY_PRINTED if copy else r.PRINTED, 0, 0)
        finally:
            # Kept in RAM even when the flash failed (the error goes on to the caller): a copy
            # that printed is not printed again and again, only once more after a restart.
            self._finishing = 0
            p = self._find(number)  # a block dropped for the record moves the index
            if p >= 0 and self.mounted:
                self._ix[p + _INFO] = (
                    PRINTED | ((self._ix[p + _INFO] >> 16) + (1 if copy else 0)) << 16
                )

    def cancelled(self, number: int):
        """The host cleared it before it printed: kept, never printed again by itself."""
        self._finishing = number
        try:
            p = self._state(number, r.CANCELLED, 0, 0)
        finally:
            self._finishing = 0
        if p >= 0:
            self._set(p, CANCELLED)

    def interrupted(self, number: int, reason: int, line: int):
        p = self._state(number, r.INTERRUPTED, line, reason)
        if p >= 0:
            self._set(p, INTERRUPTED, reason)
            self._ix[p + _LINE] = line

    # ---- reading --------------------------------------------------------------------------

    def numbers(self):
        return [self._ix[p] for p in range(0, len(self._ix), _F)]

    def info(self, number: int):
        """(state, reason, copies, line, bytes, time) of a receipt, or None."""
        p = self._find(number)
        if p < 0:
            return None
        ix = self._ix
        i = ix[p + _INFO]
        return (i & 0xFF, (i >> 8) & 0xFF, i >> 16, ix[p + _LINE], ix[p + _BYTES], ix[p + _TIME])

    def state(self, number: int) -> int:
        p = self._find(number)
        return self._ix[p + _INFO] & 0xFF if p >= 0 else -1

    def interrupted_numbers(self):
        ix = self._ix
        return [ix[p] for p in range(0, len(ix), _F) if ix[p + _INFO] & 0xFF == INTERRUPTED]

    def last_acknowledged(self) -> int:
        ix = self._ix
        p = len(ix) - _F
        while p >= 0:
            s = ix[p + _INFO] & 0xFF
            if s != RECEIVING and s != INCOMPLETE and s != CANCELLED:
                return ix[p]
            p -= _F
        return 0

    def chunks(self, number: int):
        """Yield the stored bytes of a receipt, a record's payload at a time (a view into
        one buffer: use it before asking for the next)."""
        p = self._find(number)
        if p < 0 or not self.mounted:
            return
        loc = self._ix[p + _LOC]
        for kind, _, receipt, _, payload in self.log.records_from(loc >> 16, loc & 0xFFFF):
            if receipt != number:
                continue
            if kind == r.END:
                return
            if kind == r.DATA:
                yield payload

    def first_line(self, number: int) -> str:
        """The first line of printable text, for a technician's list."""
        out = bytearray()
        for chunk in self.chunks(number):
            i = 0
            n = len(chunk)
            while i < n:
                c = chunk[i]
                if c == 0x1B or c == 0x1D:
                    # A command: ESC @ has no parameter, most one; ESC ( and GS ( say how
                    # many follow (a GS ( H process ID left from the receipt before).
                    k = chunk[i + 1] if i + 1 < n else 0
                    if k == 0x28 and i + 4 < n:
                        i += 5 + chunk[i + 3] + (chunk[i + 4] << 8)
                    else:
                        i += 2 if k == 0x40 else 3
                    continue
                if c == 0x0A and out.strip():
                    return out.decode().strip()
                if 0x20 <= c < 0x7F:
                    out.append(c)
                    if len(out) >= 40:
                        return out.decode().strip()
                i += 1
        return out.decode().strip()

    # ---- the technician's listing and export, a page at a time -----------------------------

    def page(self, after: int = 0, count: int = _PAGE):
        """Up to `count` receipts numbered above `after`, oldest first: [(number, Unix time or
        None, state name, first line)]. The next page starts after the last number of this
        one; an empty page is the end. A page costs the same however full the journal is."""
        rows = []
        p = self._after(after)
        while p < len(self._ix) and len(rows) < count:
            rows.append(self._row(p))
            p += _F
        return rows

    def rows(self, after: int = 0):
        """Every receipt numbered above `after`, a row at a time (as in page()): a listing or
        an export of the whole journal that holds one row in RAM. Receipts dropped or added
        between two rows are skipped or listed as they come."""
        while True:
            p = self._after(after)
            if p >= len(self._ix):
                return
            row = self._row(p)
            after = row[0]
            yield row

    def read(self, number: int, offset: int, buf) -> int:
        """A receipt's stored bytes (card numbers masked) from `offset` into `buf`, for an
        export a piece at a time; returns how many (0 past its end, or for a receipt the
        journal does not hold)."""
        n = 0
        want = len(buf)
        at = 0  # where this chunk starts in the receipt
        for chunk in self.chunks(number):
            k = len(chunk)
            if at + k > offset:
                skip = offset - at if offset > at else 0
                m = k - skip
                if m > want - n:
                    m = want - n
                buf[n : n + m] = chunk[skip : skip + m]
                n += m
                if n == want:
                    break
            at += k
        return n

    def _after(self, number: int) -> int:
        """Index position of the first receipt numbered above `number` (numbers only grow)."""
        ix = self._ix
        lo = 0
        hi = len(ix) // _F
        while lo < hi:
            mid = (lo + hi) >> 1
            if ix[mid * _F] <= number:
                lo = mid + 1
            else:
                hi = mid
        return lo * _F

    def _row(self, p: int):
        ix = self._ix
        n = ix[p]
        t = ix[p + _TIME]  # none before its end reached flash
        state = STATE_NAMES[ix[p + _INFO] & 0xFF]
        return (n, t + _EPOCH_2024 if t else None, state, self.first_line(n))

    def status(self):
        log = self.log
        fill = self.fill_percent()
        mark = self.mark
        return {
            "mounted": self.mounted,
            "healthy": self.healthy(),
            "error": self.error or self.mark_error,
            "offline": self.offline,
            "fill_percent": fill,
            "warning": fill >= _WARN_PERCENT,
            "receipts": len(self._ix) // _F,
            "unindexed_to": self._skipped,
            "lost": self.lost[:_KEPT],
            "suspect": self.suspect[:_KEPT],
            "last_acknowledged": mark.last if mark is not None else None,
            "problems": log.problem_count,
            "problem_texts": list(log.problems),
            "torn_records": log.torn,
            "erases_cut_short": log.cut_erase,
            "erases": log.erases,
            "erase_counts": list(log.erase_counts),
            "foreign_blocks": len(log.foreign),
            "next_record": log.seq,
        }
