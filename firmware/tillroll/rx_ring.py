"""The receive ring: bytes read from the host, waiting for the parser.

The link reads into the free part of the ring while the parser waits for the engine, so the
real-time scan sees every byte as it arrives. Reading stops at the high-water mark and starts
again at the low one: on TCP the window closes and the sender waits; on a UART the stream's
own flow control (RTS/CTS or XON/XOFF) holds the sender. Nothing is ever dropped.
"""

import asyncio


class RxRing:
    def __init__(self, size: int):
        self.buf = bytearray(size)
        self._mv = memoryview(self.buf)
        self.size = size
        self.high = size - size // 8  # stop reading here
        self.low = size // 4  # read again here
        self.start = 0  # oldest unparsed byte
        self.count = 0
        self.epoch = 0  # bumped when the host clears the buffer
        self.stops = 0  # times reading stopped at the high-water mark
        self._data = asyncio.Event()
        self._room = asyncio.Event()

    def free_at(self) -> int:
        """Where the next bytes go."""
        at = self.start + self.count
        return at - self.size if at >= self.size else at

    def room(self, limit: int):
        """A view of the free bytes from free_at(), at most `limit` of them."""
        at = self.free_at()
        n = self.size - self.count
        if at + n > self.size:
            n = self.size - at
        if n > limit:
            n = limit
        return self._mv[at : at + n]

    def wrote(self, n: int):
        self.count += n
        self._data.set()

    def readable(self) -> int:
        """End of the unparsed bytes that follow `start` without wrapping."""
        end = self.start + self.count
        return end if end <= self.size else self.size

    def consumed(self, n: int):
        self.start += n
        if self.start >= self.size:
            self.start -= self.size
        self.count -= n
        if self.count <= self.low:
            self._room.set()

    def clear(self):
        self.start = 0
        self.count = 0
        self.epoch += 1
        self._room.set()

    def wake(self):
        """Wake the reader of the data side (the sender closed)."""
        self._data.set()

    async def wait_data(self):
        self._data.clear()
        if not self.count:
            await self._data.wait()

    async def wait_room(self):
        """Past the high-water mark: wait until the parser is down to the low one."""
        self.stops += 1
        while self.count > self.low:
            self._room.clear()
            await self._room.wait()
