# pyright: reportUndefinedVariable=false
"""A 1-bit PNG writer for the unix port, which has no zlib compressor: the image data goes in
stored (uncompressed) deflate blocks, streamed line by line from a file of dot lines, so a long
receipt never sits in RAM."""

import binascii
import struct

from tillroll.native import load

load(__file__, globals())  # its hot loops: png.vpy

_STORED_MAX = const(0xFFFF)  # longest stored deflate block


class _Chunk:
    """One PNG chunk written as it goes: the length is known up front, the CRC runs along."""

    def __init__(self, out, kind, length):
        self._out = out
        out.write(struct.pack(">I", length))
        out.write(kind)
        self._crc = binascii.crc32(kind)

    def write(self, data):
        self._out.write(data)
        self._crc = binascii.crc32(data, self._crc)

    def close(self):
        self._out.write(struct.pack(">I", self._crc & 0xFFFFFFFF))


def _whole_chunk(out, kind, data):
    c = _Chunk(out, kind, len(data))
    c.write(data)
    c.close()


def write_png(path, rows, source, row_bytes):
    """Write `rows` dot lines of `row_bytes` bytes, read from `source`, as a PNG 8*row_bytes
    dots wide. A set bit is a burnt dot: palette index 1 is black, 0 is white."""
    line = bytearray(1 + row_bytes)  # PNG filter byte 0, then the dots
    dots = memoryview(line)[1:]
    per_block = _STORED_MAX // len(line)  # whole lines in each stored block
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        _whole_chunk(out, b"IHDR", struct.pack(">IIBBBBB", 8 * row_bytes, rows, 1, 3, 0, 0, 0))
        _whole_chunk(out, b"PLTE", b"\xff\xff\xff\x00\x00\x00")
        adler = 1
        r = 0
        first = True
        while first or r < rows:
            n = rows - r if rows - r < per_block else per_block
            last = r + n >= rows
            size = n * len(line)
            idat = _Chunk(out, b"IDAT", (2 if first else 0) + 5 + size + (4 if last else 0))
            if first:
                idat.write(b"\x78\x01")  # zlib header: deflate, no dictionary
                first = False
            idat.write(struct.pack("<BHH", 1 if last else 0, size, size ^ 0xFFFF))
            for _ in range(n):
                source.readinto(dots)
                idat.write(line)
                # viper takes any buffer as ptr8; the stubs type ptr8 as its own class
                adler = _adler32(adler, line, len(line))  # pyright: ignore[reportArgumentType]
            r += n
            if last:
                idat.write(struct.pack(">I", adler))
            idat.close()
        _whole_chunk(out, b"IEND", b"")
