"""The data link: bytes from the host to the parser, and the module's answers back.

Two tasks a sender. The receiver reads into the rx ring (rx_ring.py) and acts on real-time
commands as they arrive (escpos/realtime.py), so DLE EOT is answered while the module prints,
waits for paper or has its print buffer full. The consumer feeds the ring to the parser; when
the engine's queue is full the parser stops early and the consumer waits, and when the ring
reaches its high-water mark the receiver stops reading (on TCP the sender waits). Nothing is
dropped.

With a journal, every byte the parser takes also goes to the journal, as text or as command
bytes (so card numbers are masked in text only): the consumer feeds the parser runs of digits
apart from the rest and asks it whether it reads them as text. At a receipt boundary the
parser stops and the journal ends the receipt there.

Replies: status bytes go out at once; GS r and the GS ( H process ID only once everything
before them has printed (a receipt cleared by DLE DC4 fn 8 or DLE ENQ 2 never gets its ID);
Automatic Status Back (GS a) whenever an enabled status changes. A reply due after the print
goes to the connection that asked for it, never to the next sender's.

Connections (docs/escpos.md, "Connections"): `pump` runs one, from a clean parser to its end.
It ends when the stream's readinto returns 0 (the sender closed it), raises OSError (a reset,
a UART break, a USB re-enumeration) or when `hang_up` is called (idle while other senders
wait, or the board says the line broke). Either way what was received is parsed; the app then
drops a command left unfinished and ends or abandons the receipt.
"""

import asyncio
import time

from .escpos.realtime import RealTime
from .rx_ring import RxRing

_RING = const(4096)
_READ = const(512)  # at most this much a read
_WATCH_MS = const(10)
_OUT_MAX = const(512)  # replies waiting for a host that does not read them: beyond, dropped
_MARKER = b"\x37\x22"
_CLEARED = b"\x37\x25\x00"
_POWER_OFF = b"\x3b\x30\x00"
_CLEARED_BOUNDARY = const(6)  # journal.record.CLEARED
_PRINTER_ONLINE = const(0x02)  # GS a bits
_ERRORS = const(0x04)
_PAPER = const(0x08)
_IDLE_CLOSE_MS = const(30000)

# How a connection ended (pump's result)
CLOSED = const(1)  # the sender closed it (readinto returned 0); it may still read replies
BROKEN = const(2)  # readinto raised OSError: a reset, a break, a re-enumeration
HUNG_UP = const(3)  # hang_up(): idle while others waited, or the board's word


def _digit(c: int) -> bool:
    return 0x30 <= c <= 0x39


class DataLink:
    def __init__(self, parser, engine, recovery=None, report=None, ring: int = _RING):
        self._parser = parser
        self._engine = engine
        self.rx = RxRing(ring)
        self.report = report  # escpos.replies.Report; None: no status replies
        self.recovery = recovery  # journal.recovery.Recovery, or None: no journal
        self.use(parser)  # each receipt ends where its boundary is
        self._stream = None
        self._receiver = None
        self._line = False  # the connection is a serial line, never closed for idling
        self._over = 0  # how the connection ended (CLOSED, BROKEN, HUNG_UP); 0: it goes on
        self._due = []  # [engine units, reply, stream]: sent once the engine has done that many
        self.idle_close_ms = _IDLE_CLOSE_MS  # 0: never closed for idling
        self.senders_waiting = 0  # other senders waiting for their turn (the app counts)
        self._active_ms = time.ticks_ms()  # a byte came, or something was pending, at this time
        self._asb = bytearray(4)
        self._asb_sent = bytearray(4)
        self.received = 0
        self.replies_dropped = 0
        self.reading = True  # waiting for the sender: between receipts, or idle mid-receipt
        self.hold = False  # a reprint is using the layout: parse nothing meanwhile

    def use(self, parser):
        """Feed a fresh parser from now on (the fuzzer starts each input from scratch)."""
        self._parser = parser
        parser.stop_at_boundary = True
        parser.host = self
        self.realtime = RealTime(self)
        self.counters = None  # maintenance counters (GS g), set by the app with the service
        self.asb_mask = 0  # GS a n

    # ---- the sender's connection ------------------------------------------------------------

    async def pump(self, stream, line: bool = False) -> int:
        """One connection: take what `stream` sends and parse it, until the connection ends;
        return how it ended (CLOSED, BROKEN, HUNG_UP). `line`: a serial line (UART, USB CDC,
        the sim's pty bridge) rather than a sender's connection: never closed for idling."""
        self._stream = stream
        self._line = line
        self._over = 0
        self._active_ms = time.ticks_ms()
        self.rx.clear()
        self.realtime.restart()
        self.asb_mask = 0
        self._receiver = asyncio.create_task(self._receive(stream))
        watcher = asyncio.create_task(self._watch())
        drainer = asyncio.create_task(self._drain(stream))
        try:
            await self._consume()
        finally:
            self._receiver.cancel()
            self._receiver = None
            watcher.cancel()
            drainer.cancel()
            self._flush_due()
            if self._over != CLOSED:  # no one is left to read them
                self._forget(stream)
            self._stream = None
            self.asb_mask = 0
            self.reading = True  # with no sender the link is idle
        return self._over

    def hang_up(self):
        """End the connection now, as a reset would: the sender has gone (a board calls this
        when its line breaks and the stream cannot say so, e.g. a USB re-enumeration), or it
        sat idle while others waited. What the module received before is still parsed."""
        if self._stream is None:
            return
        self._end(HUNG_UP)
        receiver = self._receiver
        if receiver is not None:
            receiver.cancel()  # nothing more is read from this connection

    def _end(self, how: int):
        if not self._over:
            self._over = how
        self.rx.wake()

    async def settle(self, stream):
        """Once its turn is over, a sender that closed only its sending side still gets the
        replies it asked for (GS r, GS ( H) when they fall due: return once they have gone."""
        while self._owes(stream):
            await asyncio.sleep_ms(_WATCH_MS)
            self._flush_due()
        drain = getattr(stream, "drain", None)
        if drain is not None and getattr(stream, "out_buf", b""):
            try:
                await drain()
            except OSError:
                pass  # the sender has gone after all

    async def _receive(self, stream):
        rx = self.rx
        realtime = self.realtime
        while True:
            if rx.count >= rx.high:
                await rx.wait_room()  # flow control: the sender waits
            at = rx.free_at()
            try:
                n = await stream.readinto(rx.room(_READ))
            except OSError:  # a reset, a break: the connection is over
                self._end(BROKEN)
                return
            if n is None:
                continue  # woken with nothing to read
            if not n:
                self._end(CLOSED)
                return
            self.received += n
            self._active_ms = time.ticks_ms()
            end = at + n
            epoch = rx.epoch
            i = realtime.scan(rx.buf, at, end)
            while rx.epoch != epoch:  # a clear command: what came before it is gone
                rx.buf[0 : end - i] = rx.buf[i:end]
                end -= i
                at = 0
                epoch = rx.epoch
                i = realtime.scan(rx.buf, 0, end)
            rx.wrote(end - at)

    async def _consume(self):
        rx = self.rx
        parser = self._parser
        while self.hold or parser.busy():  # a copy or the self-test page has the layout
            await self._engine.wait_space()
        parser.restart()
        while True:
            if not rx.count:
                if self._over:
                    break
                self.reading = True
                await rx.wait_data()
                continue
            self.reading = False
            start = rx.start
            end = rx.readable()
            epoch = rx.epoch
            if self.recovery is None:
                j = await self._feed(rx.buf, start, end, False, epoch)
            else:
                j = await self._journaled(rx.buf, start, end, self.recovery, epoch)
            if rx.epoch == epoch:
                rx.consumed(j - start)
        # The sender is done; a barcode, QR code or logo may still be printing.
        while parser.pending():
            while parser.busy():
                await self._engine.wait_space()
            parser.feed(rx.buf, 0, 0)

    async def _feed(self, buf, i: int, end: int, text: bool, epoch: int) -> int:
        """Parse buf[i:end] and journal what was parsed, ending receipts at boundaries."""
        parser = self._parser
        engine = self._engine
        recovery = self.recovery
        rx = self.rx
        while i < end:
            while parser.busy() or self.hold:
                await engine.wait_space()
                if rx.epoch != epoch:
                    return i  # cleared meanwhile
            j = parser.feed(buf, i, end)
            if recovery is not None:
                recovery.take(buf, i, j, text)
            i = j
            if parser.boundary:
                kind = parser.boundary
                parser.boundary = 0
                # No journal: a marker is answered once printed, without the guarantee.
                number = 1 if recovery is None else recovery.boundary(kind, parser.marker)
                if parser.held_cut:  # verification codes on: the code, then the tear-off
                    if recovery is not None and number:
                        await recovery.foot(number, parser)
                    parser.tear()
                if number and kind == 3:
                    self._after_print(_MARKER + bytes(parser.marker) + b"\x00")
        return i

    async def _journaled(self, buf, i: int, n: int, recovery, epoch: int) -> int:
        parser = self._parser
        await recovery.wait_room()
        while i < n and self.rx.epoch == epoch:
            if _digit(buf[i]) or (recovery.in_run() and buf[i] in b" -"):
                if not parser.in_text():  # a parameter or data byte: one at a time
                    i = await self._feed(buf, i, i + 1, False, epoch)
                    continue
                j = i + 1
                while j < n and (_digit(buf[j]) or buf[j] == 0x20 or buf[j] == 0x2D):
                    j += 1
                i = await self._feed(buf, i, j, True, epoch)
            else:
                j = i + 1
                while j < n and not _digit(buf[j]):
                    j += 1
                i = await self._feed(buf, i, j, False, epoch)
        return i

    # ---- replies ----------------------------------------------------------------------------

    def send(self, data, stream=None):
        """Send at once (a status byte, an ID block) to the sender, or to `stream`. Never
        waits: a host that does not read its replies must not stop the module reading; past
        _OUT_MAX waiting, they are dropped."""
        if stream is None:
            stream = self._stream
        write = getattr(stream, "write", None)
        if write is None:
            return
        pending = getattr(stream, "out_buf", b"")
        if len(pending) > _OUT_MAX:
            self.replies_dropped += 1
            return
        try:
            write(data)
        except OSError:  # the host has gone; its bytes still print
            self.replies_dropped += 1

    def _after_print(self, reply):
        self._due.append([self._engine.pushed(), reply, self._stream])

    def _flush_due(self):
        due = self._due
        if due and self.recovery is not None and self.recovery.waiting():
            return  # a receipt a fault cut short is out whole only once its copy is
        done = self._engine.done()
        while due and due[0][0] <= done:
            _, reply, stream = due.pop(0)
            report = self.report
            if reply is None and report is not None:  # GS r 1: the paper sensor, read now
                reply = bytes((report.paper_sensor(),))
            if reply is not None:
                self.send(reply, stream)

    def _owes(self, stream) -> bool:
        for d in self._due:
            if d[2] is stream:
                return True
        return False

    def _forget(self, stream):
        """The connection is gone: the replies it was owed go nowhere."""
        self._due = [d for d in self._due if d[2] is not stream]

    async def _watch(self):
        """Replies waiting for the print, Automatic Status Back, and closing an idle sender
        while others wait."""
        while True:
            await asyncio.sleep_ms(_WATCH_MS)
            self._flush_due()
            if self.asb_mask and self.report is not None:
                self._asb_changed(self.report)
            self._idle_close()

    async def _drain(self, stream):
        """Send what a socket could not take at once. Apart from the watcher: a sender that
        never reads keeps its own drain waiting, nothing else."""
        drain = getattr(stream, "drain", None)
        if drain is None:
            return
        while True:
            await asyncio.sleep_ms(_WATCH_MS)
            if getattr(stream, "out_buf", b""):
                try:
                    await drain()
                except OSError:
                    return  # the host has gone; what it sent still prints

    def _idle_close(self):
        """A sender idle for idle_close_ms while others wait for their turn is closed; never
        while its receipt prints or a reply it asked for is to come, never a serial line."""
        now = time.ticks_ms()
        if self._pending():
            self._active_ms = now
        elif (
            self.senders_waiting
            and self.idle_close_ms
            and not self._line
            and time.ticks_diff(now, self._active_ms) >= self.idle_close_ms
        ):
            self.hang_up()

    def _pending(self) -> bool:
        """Something of the sender's is under way: bytes not parsed yet, a receipt printing,
        a reply due after the print, or ASB on while the module is offline (the sender
        waits for the status that says it is back)."""
        if not self.reading or self._parser.pending() or len(self._engine.queue):
            return True
        if self._owes(self._stream):
            return True
        report = self.report
        return bool(self.asb_mask) and report is not None and report.offline(report.faults())

    def _asb_changed(self, report):
        now = self._asb
        report.asb(now)
        sent = self._asb_sent
        mask = self.asb_mask
        changed = (
            (mask & _PRINTER_ONLINE and (now[0] ^ sent[0]) & 0x68)
            or (mask & _ERRORS and now[1] != sent[1])
            or (mask & _PAPER and now[2] != sent[2])
        )
        if changed:
            sent[:] = now
            self.send(bytes(now))

    # ---- what the parser asks for (commands in sequence) ------------------------------------

    def set_asb(self, n: int):
        """GS a n: Automatic Status Back for the statuses in n; the status goes out at once."""
        self.asb_mask = n & 0x0F
        if self.asb_mask and self.report is not None:
            self.report.asb(self._asb_sent)
            self.send(bytes(self._asb_sent))

    def status_after_print(self, n: int):
        """GS r n: paper sensor (1) or drawer (2), once everything before it has printed."""
        if self.report is None:
            return
        if n == 1 or n == 49:
            self._after_print(None)  # the sensor is read when it is due
        elif n == 2 or n == 50:
            self._after_print(b"\x00")  # no drawer connector: pin 3 low

    def paper_status(self):
        """ESC v: the paper sensor, as cheap modules answer it."""
        if self.report is not None:
            self.send(bytes((self.report.paper_sensor(),)))

    def identify(self, n: int):
        """GS I n."""
        if self.report is None:
            return
        r = self.report.identity(n)
        if r is not None:
            self.send(bytes((r,)) if isinstance(r, int) else r)

    def use_counters(self, counters):
        """Answer GS g with these maintenance counters (service/counters.py)."""
        self.counters = counters

    def counter(self, fn: int, n: int):
        """GS g 0 (fn 0): reset maintenance counter n; GS g 2 (fn 2): send it as 5Fh, its
        decimal digits, NUL. Counters live with the service link (service/counters.py)."""
        c = self.counters
        if c is None:
            return
        if fn == 0:
            c.reset(n)
        elif fn == 2:
            v = c.value(n)
            if v >= 0:
                self.send(b"\x5f%d\x00" % v)

    def enable_realtime(self, a: int, b: int):
        self.realtime.enable(a, b)

    # ---- real-time commands (as they arrive) ------------------------------------------------

    def status(self, n: int):
        if self.report is not None:
            b = self.report.realtime(n, self.waiting())
            if b >= 0:
                self.send(bytes((b,)))

    def asb_now(self):
        if self.report is not None:
            out = bytearray(4)
            self.report.asb(out)
            self.send(out)

    def recover(self, n: int) -> bool:
        """DLE ENQ n, only while a fault holds data back: 1 lets the receipt go on from the
        failed line with no copy after it; 2 clears the receive and print buffers. True if
        it cleared them."""
        if not self.waiting():
            return False
        if n == 2:
            self._clear()
            return True
        if self.recovery is not None:
            self.recovery.resume_interrupted()
        return False

    def waiting(self) -> bool:
        """A fault holds data back: lines queued on a stopped engine, or a receipt it
        interrupted still to print again."""
        if self._engine.status.stopped() and len(self._engine.queue):
            return True
        return self.recovery is not None and self.recovery.waiting()

    def clear(self):
        """DLE DC4 fn 8: clear the buffers; the reply says it is done."""
        self._clear()
        self.send(_CLEARED)

    def power_off(self):
        """DLE DC4 fn 2: the journal goes to flash; the reply says the module may be switched
        off."""
        if self.recovery is not None:
            self.recovery.journal.flush()
        self.send(_POWER_OFF)

    def _clear(self):
        # Everything received and not printed goes: the rx ring (the receiver keeps what
        # follows the command), the parser's command and line, the engine's queue. Replies
        # and journaled receipts waiting for that print go with it.
        engine = self._engine
        done = engine.done()
        self.rx.clear()
        self._parser.abort()
        engine.clear()
        self._due = [d for d in self._due if d[0] <= done]
        if self.recovery is not None:
            self.recovery.cleared(done, _CLEARED_BOUNDARY)
