# pyright: reportUndefinedVariable=false
"""Service link framing: b"TS", version, command, sequence, payload length (u16 LE), payload,
CRC-16/CCITT-FALSE (u16 LE) over everything from the version to the payload's end.

One frame in, one frame out. A frame with a bad CRC, a bad length or another version is
answered with an error and the reader looks for the next b"TS".
"""

import struct

from ..native import load

VERSION = const(1)
HEADER = const(7)  # b"TS", version, command, sequence, length
MAX_PAYLOAD = const(2048)

BAD_FRAME = const(0xFF)  # the command of a reply to a frame that could not be read


load(__file__, globals())  # crc16(buf, start, end): frame.vpy


class Framer:
    """Reads request frames from a stream and writes replies, with preallocated buffers."""

    def __init__(self):
        self.buf = bytearray(HEADER + MAX_PAYLOAD + 2)
        self._mv = memoryview(self.buf)
        self.out = bytearray(HEADER + MAX_PAYLOAD + 2)
        self._omv = memoryview(self.out)
        self.command = 0
        self.seq = 0
        self.length = 0

    async def _exactly(self, stream, start: int, n: int) -> bool:
        mv = self._mv
        end = start + n
        while start < end:
            got = await stream.readinto(mv[start:end])
            if not got:
                return False
            start += got
        return True

    async def read(self, stream):
        """Next request: True, or an error text for a damaged frame, or None at the end."""
        buf = self.buf
        # Sync on b"TS": anything else before it is line noise or a host out of step.
        while True:
            if not await self._exactly(stream, 0, 1):
                return None
            if buf[0] != 0x54:
                continue
            if not await self._exactly(stream, 1, 1):
                return None
            if buf[1] == 0x53:
                break
        if not await self._exactly(stream, 2, HEADER - 2):
            return None
        version, self.command, self.seq, length = struct.unpack_from("<BBBH", buf, 2)
        if version != VERSION:
            return "version %d; this module speaks %d" % (version, VERSION)
        if length > MAX_PAYLOAD:
            return "length %d above %d" % (length, MAX_PAYLOAD)
        if not await self._exactly(stream, HEADER, length + 2):
            return None
        self.length = length
        want = struct.unpack_from("<H", buf, HEADER + length)[0]
        if crc16(buf, 2, HEADER + length) != want:
            return "CRC"
        return True

    def payload(self):
        return self._mv[HEADER : HEADER + self.length]

    def body(self) -> memoryview:
        """Where a reply's body goes, to be filled in place (reply(..., None, n))."""
        return self._omv[HEADER + 1 : HEADER + MAX_PAYLOAD]

    def reply(self, command: int, status: int, body, size: int = 0) -> memoryview:
        """The reply frame: status byte, then `body` (bytes-like), or the `size` bytes
        already put in body() when `body` is None."""
        out = self.out
        n = (len(body) if body is not None else size) + 1
        if n > MAX_PAYLOAD:
            raise ValueError("reply of %d bytes above %d" % (n, MAX_PAYLOAD))
        struct.pack_into("<2sBBBHB", out, 0, b"TS", VERSION, command, self.seq, n, status)
        if body is not None:
            self._omv[HEADER + 1 : HEADER + n] = body
        struct.pack_into("<H", out, HEADER + n, crc16(out, 2, HEADER + n))
        return self._omv[: HEADER + n + 2]
