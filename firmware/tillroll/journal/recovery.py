"""What happens to each journaled receipt on paper, and printing it again when it did not
come out whole.

Progress is counted in engine units (a dot line printed, a line fed, a tear-off): at a
receipt's boundary everything pushed so far is its target, and it is printed once the engine
has done that many. A fault that stops the engine marks the receipt on paper interrupted; when
the fault clears (and after a power cut, at start) it is printed again whole between COPY
banners, from the journal through a parser of its own. With `resume` the engine's own
resumption at the failed line stands, and only power-cut receipts come again as copies.
"""

import asyncio
import time

from ..engine import status as st
from ..escpos.parser import BOUNDARY_MARKER, Parser
from . import journal as jn
from . import record as r

_TICK_MS = const(10)
_DOUBLE_PRESS_MS = const(1000)
_NEVER = const(0x3FFFFFFF)  # a target no engine count reaches (a small int on any port)


class Recovery:
    def __init__(self, journal, engine, layout, banner="COPY", resume=False, idle_ms=0):
        self.journal = journal
        self.engine = engine
        self.layout = layout
        self.parser = None  # the link's parser (set by the app), for the idle boundary
        self.link = None
        self.banner = banner
        self.resume = resume
        self.idle_ms = idle_ms  # 0: no idle boundary
        self._pending = []  # [number, target units, copy, start units, a fault hit it]
        self._start = 0  # units when the receipt being received began
        self._open_fault = 0  # a fault stopped the receipt still being received
        self._fault = 0
        self._requests = []  # numbers to print as copies
        self._pressed = False
        self._press_ms = time.ticks_ms()
        self._copy = bytearray(r.PAYLOAD_MAX)
        self._last_rx = 0
        self._rx_ms = 0
        self.copies = 0
        self.errors = 0
        self._durable = True  # the last receipt that printed anything reached flash
        journal.log.before_erase = engine.stand  # an erase not done ahead: the paper stops first
        self.auth = None  # the service link's key and serial (service/auth.py), for codes
        self.graphics = None  # a copy's images and codes, and a verification code's QR symbol

    def attach(self, link, parser):
        """The link that feeds the journal and its parser (made after the recovery)."""
        self.link = link
        self.parser = parser

    def sign_with(self, auth, graphics):
        """The service link's key and serial (service/auth.py) that receipts' verification
        codes are made with, and the graphics that print a code's QR symbol."""
        self.auth = auth
        self.graphics = graphics

    # ---- progress -------------------------------------------------------------------------

    def units(self) -> int:
        return self.engine.done()

    def pushed(self) -> int:
        """Units done plus those still in the engine's queue."""
        return self.engine.pushed()

    # ---- the link's side ------------------------------------------------------------------

    def take(self, buf, start: int, end: int, text: bool):
        if start >= end:
            return
        try:
            self._take(buf, start, end, text)
        except Exception as e:
            self._failed(e)

    def _failed(self, e):
        # The flash failed under a write: print on without the guarantee, and say so.
        j = self.journal
        j.offline = True
        j.error = "journal write failed: %s" % e
        self.errors += 1
        self._durable = False

    def _take(self, buf, start: int, end: int, text: bool):
        j = self.journal
        if not j.receiving():
            self._start = self.pushed()
            self._open_fault = 0
        if text:
            j.text(buf, start, end)
        else:
            j.raw(buf, start, end)

    async def wait_room(self):
        """Before a new receipt: wait, offline, while the journal holds only receipts that
        have not come out yet (they print once the fault that holds them clears)."""
        j = self.journal
        if j.receiving() or j.has_room():
            if j.offline and j.has_room():
                j.offline = False
            return
        j.offline = True
        while not j.has_room():
            await asyncio.sleep_ms(50)
        j.offline = False

    def in_run(self) -> bool:
        return self.journal.mask._n > 0

    def boundary(self, kind: int, marker=b"") -> int:
        """End the receipt at a boundary the parser found; return a number to acknowledge
        (0: nothing to acknowledge)."""
        try:
            return self._boundary(kind, marker)
        except Exception as e:
            self._failed(e)
            return 0

    def _boundary(self, kind: int, marker) -> int:
        j = self.journal
        if not j.mounted:  # no journal: acknowledge without the guarantee
            return 1 if kind == BOUNDARY_MARKER else 0
        target = self.pushed()
        if target == self._start and not self.layout.has_content():
            # Nothing printed yet: ESC @ opens a receipt rather than ending one, and a marker
            # after a cut acknowledges the receipt the cut ended.
            if kind == BOUNDARY_MARKER and self._durable:
                return j.last_acknowledged() or 1
            return 0
        number = j.end(kind, marker if kind == BOUNDARY_MARKER else b"")
        self._durable = bool(number)  # a marker after it may be answered
        if number:
            self._pending.append([number, target, False, self._start, bool(self._open_fault)])
            if self._open_fault:
                j.interrupted(number, self._open_fault, self.units() - self._start)
        return number

    def connection_ended(self, whole: bool):
        """The sender's connection ended. `whole`: it closed the connection after a whole
        command, which ends its open receipt there. Otherwise (a reset, a break, a command
        cut off, closed for idling) the receipt is incomplete: kept if it printed anything,
        never acknowledged, not printed again by itself. Bytes that printed nothing never
        carry over into the next connection's receipt."""
        j = self.journal
        try:
            if j.receiving():
                printed = self._mid_receipt()
                if whole and printed:
                    self._boundary(r.CLOSED, b"")
                else:
                    j.abandon(printed)
        except Exception as e:
            self._failed(e)
        self._open_fault = 0

    async def foot(self, number: int, parser):
        """Verification codes on: receipt `number` has just ended at a cut the parser held
        back. Its code prints, then the tear-off; it counts as printed once both are out."""
        entry = self._pending[-1] if self._pending else None
        if entry is not None and entry[0] != number:
            entry = None
        if entry is not None:
            entry[1] = _NEVER  # not done before its foot: a fault meanwhile still stops it
        try:
            await self._code(number)
        finally:
            parser.tear()
            if entry is not None:
                entry[1] = self.pushed()

    async def _code(self, number: int):
        settings = self.layout.settings
        mode = settings.values["verify"] if settings is not None else 0
        if mode:
            from . import verify  # only with the setting on: its code stays off the heap

            await verify.print_code(self, number, mode)

    # ---- the host's recovery commands (DLE ENQ, DLE DC4 fn 8) ----------------------------

    def waiting(self) -> bool:
        """A receipt a fault interrupted is still to come out again."""
        if self._open_fault:
            return True
        for p in self._pending:
            if p[4]:
                return True
        return bool(self.journal.interrupted_numbers())

    def resume_interrupted(self):
        """DLE ENQ 1: the interrupted receipts finish from the failed line; no copies."""
        j = self.journal
        for p in self._pending:
            p[4] = False
        self._open_fault = 0
        for number in j.interrupted_numbers():
            if not self._in_pending(number) and not j.info(number)[1] & jn.POWER_LOSS:
                j.printed(number)  # its rest came out when the fault cleared

    def cleared(self, done: int, boundary: int):
        """The host cleared everything not printed at `done` units: the receipts that had
        not come out whole, and the one being received, are cancelled, never printed again."""
        j = self.journal
        keep = []
        for p in self._pending:
            if p[1] <= done and not p[4]:
                keep.append(p)
            else:
                j.cancelled(p[0])
        self._pending = keep
        for number in j.interrupted_numbers():
            j.cancelled(number)
        if j.receiving():
            number = j.end(boundary)
            if number:
                j.cancelled(number)
        self._open_fault = 0
        self._requests = []
        self._start = self.pushed()

    # ---- buttons and the technician -------------------------------------------------------

    def feed_pressed(self):
        """FEED twice within a second: the last receipt again, as a copy."""
        now = time.ticks_ms()
        if self._pressed and time.ticks_diff(now, self._press_ms) < _DOUBLE_PRESS_MS:
            self._pressed = False
            n = self.journal.last_acknowledged()
            if n:
                self.reprint(n)
        else:
            self._pressed = True
            self._press_ms = now

    def reprint(self, number: int) -> bool:
        if self.journal.info(number) is None:
            return False
        self._requests.append(number)
        return True

    # ---- the watch ------------------------------------------------------------------------

    def tick(self):
        """Follow the engine: receipts printed, receipts a fault interrupted."""
        j = self.journal
        done = self.units()
        pending = self._pending
        while pending and done >= pending[0][1]:
            number, _, copy, _, faulted = pending.pop(0)
            if faulted and not self.resume:
                continue  # its rest came out after the fault: a whole copy is still due
            j.printed(number, copy)
        flags = self.engine.status.flags & st.STOPS
        if flags and not self._fault:
            # A fault interrupts the receipt it stops part-way; one it holds before any of it
            # is on paper comes out whole once it clears (a receipt that came while this tick
            # had not yet seen the cover open, say).
            if pending and done > pending[0][3]:
                entry = pending[0]
                entry[4] = True
                if j.state(entry[0]) != jn.INTERRUPTED:
                    j.interrupted(entry[0], flags, done - entry[3])
            elif not pending and j.receiving() and done > self._start:
                self._open_fault = flags
                j.flush()  # the technician sees it, still being received, while it waits
        self._fault = flags
        if self.engine.standing():
            j.prepare()  # the next block erased now, not while a receipt prints
        self._idle()

    def _idle(self):
        link = self.link
        parser = self.parser
        if not self.idle_ms or link is None or parser is None:
            return
        now = time.ticks_ms()
        if link.received != self._last_rx:
            self._last_rx = link.received
            self._rx_ms = now
            return
        j = self.journal
        if (
            link.reading
            and j.receiving()
            and parser.in_text()
            and time.ticks_diff(now, self._rx_ms) >= self.idle_ms
        ):
            self.boundary(r.IDLE)

    def _due(self) -> int:
        """The next receipt to print as a copy, or 0."""
        if self._fault or len(self.engine.queue) or self._mid_receipt():
            return 0
        if self.link is not None and not self.link.reading:
            return 0
        if self._requests:
            return self._requests.pop(0)
        j = self.journal
        for number in j.interrupted_numbers():
            info = j.info(number)
            if info is None:
                continue
            if not self.resume or info[1] & jn.POWER_LOSS:
                if not self._in_pending(number):
                    return number
        return 0

    def _mid_receipt(self) -> bool:
        """A receipt has put something on paper and not reached its end: a copy must wait.
        (Bytes that printed nothing, a status request or an ESC @, do not hold it up.)"""
        if not self.journal.receiving():
            return False
        return self.pushed() != self._start or self.layout.has_content()

    def _in_pending(self, number) -> bool:
        for p in self._pending:
            if p[0] == number:
                return True
        return False

    async def run(self):
        # The watch must outlive any one failure (a flash error, a damaged record): say
        # what happened and go on watching.
        while True:
            await asyncio.sleep_ms(_TICK_MS)
            try:
                self.tick()
                number = self._due()
                if number:
                    await self.print_copy(number)
            except Exception as e:
                self.errors += 1
                print("journal: %s" % e)

    # ---- the copy -------------------------------------------------------------------------

    async def print_copy(self, number: int):
        """Print a journaled receipt again, whole, between copy banners."""
        layout = self.layout
        engine = self.engine
        link = self.link
        if link is not None:
            link.hold = True
        start = self.pushed()
        # The `copy_banner` setting: 1 a banner above and below, 0 above only. A copy is
        # never printed unmarked (ARCHITECTURE.md): a slip a customer holds must say it.
        settings = layout.settings
        below = settings is None or settings.values["copy_banner"]
        gfx = self.graphics
        # The copy's own images, barcodes and QR codes print: it is whole. The live link's
        # symbol data stored and not yet printed (GS ( k fn 80) is kept for it.
        stored = gfx.keep_stored() if gfx is not None else None
        try:
            layout.reset()
            await self._banner()
            if gfx is not None:
                gfx.reset()
            parser = Parser(layout, gfx)
            layout.tear_off = self._no_tear  # the receipt's own cut comes after the banner
            buf = self._copy
            for chunk in self.journal.chunks(number):
                n = len(chunk)
                buf[:n] = chunk
                i = 0
                while i < n:
                    while layout.busy():
                        await engine.wait_space()
                    i = parser.feed(buf, i, n)
                    parser.boundary = 0
            del layout.tear_off
            if layout.has_content():
                layout.print_line(1)
            layout.reset()
            await self._code(number)  # the same code as the original: the same bytes
            if below:
                await self._banner()
            layout.tear_off()
            layout.reset()
        finally:
            try:
                del layout.tear_off
            except AttributeError:
                pass  # already back to the layout's own
            if gfx is not None:
                gfx.reset()
                gfx.put_stored(stored)
            if link is not None:
                link.hold = False
        end = self.pushed()
        self._pending.append([number, end, True, start, False])
        self.copies += 1
        if self.journal.receiving():
            self._start = end  # the open receipt has printed nothing of its own yet

    def _no_tear(self, extra_dots: int = 0):
        if self.layout.has_content():
            self.layout.print_line(1)

    async def _banner(self):
        layout = self.layout
        layout.set_align(1)
        layout.set_char_size(0x11)
        layout.set_emphasis(1)
        for c in self.banner:
            while layout.busy():
                await self.engine.wait_space()
            layout.char(ord(c))
        layout.print_line(1)
        layout.reset()
