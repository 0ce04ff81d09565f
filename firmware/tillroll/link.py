"""Byte-stream endpoints: read the data link into one preallocated buffer and feed the parser.

Nothing is dropped: when the engine's queue is full the parser stops early, and the link waits
for room before it parses (and, on TCP, reads) any more.

With a journal, every byte the parser takes also goes to the journal, as text or as command
bytes (so card numbers are masked in text only): the link feeds the parser runs of digits
apart from the rest and asks it whether it reads them as text. At a receipt boundary the
parser stops, the journal ends the receipt there, and only then is a GS ( H marker answered.
"""

_CHUNK = const(512)
_MARKER_REPLY = b"\x37\x22"


def _digit(c: int) -> bool:
    return 0x30 <= c <= 0x39


class DataLink:
    def __init__(self, parser, engine, chunk: int = _CHUNK, recovery=None):
        self._parser = parser
        self._engine = engine
        self._buf = bytearray(chunk)
        self._reply = bytearray(7)
        self.recovery = recovery  # journal.recovery.Recovery, or None: no journal
        parser.stop_at_boundary = True  # each receipt ends where its boundary is
        self.received = 0
        self.reading = True  # waiting for the sender: between receipts, or idle mid-receipt
        self.hold = False  # a reprint is using the layout: parse nothing meanwhile

    async def pump(self, stream):
        """Feed everything `stream` sends to the parser, until the sender closes it."""
        buf = self._buf
        while True:
            self.reading = True
            n = await stream.readinto(buf)
            if not n:
                # The sender is done; a barcode, QR code or logo may still be printing.
                parser = self._parser
                while parser.pending():
                    while parser.busy():
                        await self._engine.wait_space()
                    parser.feed(buf, 0, 0)
                return  # still `reading`: with no sender the link is idle
            self.reading = False
            self.received += n
            if self.recovery is None:
                await self._feed(buf, 0, n, stream, False)
            else:
                await self._journaled(stream, buf, n, self.recovery)

    async def _feed(self, buf, i: int, end: int, stream, text: bool) -> int:
        """Parse buf[i:end] and journal what was parsed, ending receipts at boundaries."""
        parser = self._parser
        engine = self._engine
        recovery = self.recovery
        while i < end:
            while parser.busy() or self.hold:
                await engine.wait_space()
            j = parser.feed(buf, i, end)
            if recovery is not None:
                recovery.take(buf, i, j, text)
            i = j
            if parser.boundary:
                kind = parser.boundary
                parser.boundary = 0
                # No journal: a marker is answered at once, without the guarantee.
                number = 1 if recovery is None else recovery.boundary(kind, parser.marker)
                if number and kind == 3:
                    await self._answer(stream, parser.marker)
        return i

    async def _journaled(self, stream, buf, n: int, recovery):
        parser = self._parser
        await recovery.wait_room()
        i = 0
        while i < n:
            if _digit(buf[i]) or (recovery.in_run() and buf[i] in b" -"):
                if not parser.in_text():  # a parameter or data byte: one at a time
                    i = await self._feed(buf, i, i + 1, stream, False)
                    continue
                j = i + 1
                while j < n and (_digit(buf[j]) or buf[j] == 0x20 or buf[j] == 0x2D):
                    j += 1
                i = await self._feed(buf, i, j, stream, True)
            else:
                j = i + 1
                while j < n and not _digit(buf[j]):
                    j += 1
                i = await self._feed(buf, i, j, stream, False)

    async def _answer(self, stream, marker):
        """GS ( H fn 48: 37h 22h d1 d2 d3 d4 NUL, sent once the receipt is durable."""
        write = getattr(stream, "write", None)
        if write is None:
            return
        reply = self._reply
        reply[0:2] = _MARKER_REPLY
        reply[2:6] = marker
        reply[6] = 0
        write(reply)
        await stream.drain()
