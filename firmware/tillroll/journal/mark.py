"""The journal's mark, kept apart from its flash region (on the board's own filesystem): the
first receipt the journal must still hold, the last one it acknowledged, and the block an
erase was started on. With it, mounting can name receipts lost where the journal itself
leaves no trace (its end erased or cut off, a whole block gone), and tell data an erase cut
short from damage.

20 bytes: b"TRM1" | first u32 | last u32 | erasing u32 (0xFFFFFFFF: none) | CRC-32 of the
16 bytes before. Written whole to a new file and renamed over the old one, so a power cut
leaves the old mark or the new one.
"""

import binascii
import os
import struct

_MAGIC = b"TRM1"
_NONE = const(0xFFFFFFFF)


class Mark:
    def __init__(self, path):
        self._path = path
        self._buf = bytearray(20)
        self.found = False  # a mark was read at mount
        self.first = 0
        self.last = 0
        self.erasing = -1

    def read(self) -> bool:
        buf = self._buf
        try:
            with open(self._path, "rb") as f:
                n = f.readinto(buf)
        except OSError:
            return False  # none kept yet
        if n != 20 or bytes(buf[0:4]) != _MAGIC:
            return False
        if struct.unpack_from("<I", buf, 16)[0] != binascii.crc32(memoryview(buf)[:16]):
            return False
        self.first, self.last, erasing = struct.unpack_from("<III", buf, 4)
        self.erasing = -1 if erasing == _NONE else erasing
        self.found = True
        return True

    def write(self, first: int, last: int, erasing: int):
        self.first = first
        self.last = last
        self.erasing = erasing
        buf = self._buf
        buf[0:4] = _MAGIC
        struct.pack_into("<III", buf, 4, first, last, _NONE if erasing < 0 else erasing)
        struct.pack_into("<I", buf, 16, binascii.crc32(memoryview(buf)[:16]))
        tmp = self._path + ".new"
        with open(tmp, "wb") as f:
            f.write(buf)
        os.rename(tmp, self._path)  # the old mark or the new one, never half
