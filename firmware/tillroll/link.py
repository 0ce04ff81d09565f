"""Byte-stream endpoints: read the data link into one preallocated buffer and feed the parser.

Nothing is dropped: when the engine's queue is full the parser stops early, and the link waits
for room before it parses (and, on TCP, reads) any more.
"""

_CHUNK = const(512)


class DataLink:
    def __init__(self, parser, engine, chunk: int = _CHUNK):
        self._parser = parser
        self._engine = engine
        self._buf = bytearray(chunk)
        self.received = 0

    async def pump(self, stream):
        """Feed everything `stream` sends to the parser, until the sender closes it."""
        buf = self._buf
        parser = self._parser
        engine = self._engine
        while True:
            n = await stream.readinto(buf)
            if not n:
                # The sender is done; a barcode, QR code or logo may still be printing.
                while parser.pending():
                    while parser.busy():
                        await engine.wait_space()
                    parser.feed(buf, 0, 0)
                return
            self.received += n
            i = 0
            while i < n:
                while parser.busy():
                    await engine.wait_space()
                i = parser.feed(buf, i, n)
