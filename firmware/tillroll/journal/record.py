"""The journal's on-flash format: block headers and records (docs/journal.md).

Block header, at offset 0 of every block in use (16 bytes):
    magic b"TRJ2" | block sequence u32 | erase count u32 | CRC-32 of the 12 bytes before and
    of the block's index (u32), so a block moved to another place no longer reads as a
    journal block. Headers written before (b"TRJ1") carry the CRC of the 12 bytes only.
A block about to be erased is retired first: its magic is programmed to zero, so whatever an
erase cut short leaves behind the header is never read as records again.

Record (52 bytes around its payload, little-endian):
    kind u8 | flag u8 | payload length u16 | sequence u32 | receipt u32 | at u32 |
    chain: SHA-256 of the whole previous record (32 bytes) | payload | CRC-32 of all before

An erased byte is 0xFF, so a kind of 0xFF is the end of the records in a block.
"""

import binascii
import struct

MAGIC = b"TRJ2"
_LEGACY = b"TRJ1"  # no block index under the CRC
BLOCK_HEADER = const(16)
HEADER = const(48)
OVERHEAD = const(52)
PAYLOAD_MAX = const(256)
RECORD_MAX = const(308)  # OVERHEAD + PAYLOAD_MAX

_HEAD_FMT = "<BBHIII"

# Kinds
DATA = const(1)  # receipt bytes (card numbers masked); at = offset in the receipt
END = const(2)  # the receipt is complete and durable (its commit); flag = boundary, at = bytes
STATE = const(3)  # flag = new state; at = dot line reached; payload: reason (u8)
ERASED = const(0xFF)

# Boundaries (END flag)
CUT = const(1)
INIT = const(2)  # ESC @ after data
MARKER = const(3)  # GS ( H process ID
IDLE = const(4)  # no bytes for the idle timeout
CLOSED = const(5)  # the sender closed the link
CLEARED = const(6)  # the host cleared the buffers (DLE DC4 fn 8, DLE ENQ 2)

# States (STATE flag)
PRINTED = const(1)
INTERRUPTED = const(2)
COPY_PRINTED = const(3)
CANCELLED = const(4)  # the host cleared it before it printed: not printed again


def pack(buf, kind: int, flag: int, seq: int, receipt: int, at: int, chain, payload, n: int):
    """Build a record in `buf`; return its length. `payload[:n]` is the payload."""
    struct.pack_into(_HEAD_FMT, buf, 0, kind, flag, n, seq, receipt, at)
    buf[16:HEADER] = chain
    if n:
        buf[HEADER : HEADER + n] = payload[:n]
    end = HEADER + n
    struct.pack_into("<I", buf, end, binascii.crc32(memoryview(buf)[:end]))
    return end + 4


def unpack(buf):
    """(kind, flag, length, seq, receipt, at) of the record header in `buf`."""
    return struct.unpack_from(_HEAD_FMT, buf, 0)


def crc_ok(buf, n: int) -> bool:
    """True if the record of n bytes at the start of `buf` carries a matching CRC."""
    if n < OVERHEAD:
        return False
    return struct.unpack_from("<I", buf, n - 4)[0] == binascii.crc32(memoryview(buf)[: n - 4])


def _header_crc(buf, magic, index: int) -> int:
    crc = binascii.crc32(magic)
    crc = binascii.crc32(memoryview(buf)[4:12], crc)
    if magic == MAGIC:
        crc = binascii.crc32(struct.pack("<I", index), crc)
    return crc


def block_header(buf, block_seq: int, erases: int, index: int):
    buf[0:4] = MAGIC
    struct.pack_into("<II", buf, 4, block_seq, erases)
    struct.pack_into("<I", buf, 12, _header_crc(buf, MAGIC, index))


def read_block_header(buf, index: int):
    """(block sequence, erase count), or None for a block not in use (erased, retired, torn,
    moved, foreign)."""
    magic = bytes(buf[0:4])
    if magic != MAGIC and magic != _LEGACY:
        return None
    if struct.unpack_from("<I", buf, 12)[0] != _header_crc(buf, magic, index):
        return None
    return struct.unpack_from("<II", buf, 4)


def retired(buf, index: int) -> int:
    """The erase count of a block retired before its erase (the magic cleared, or set by an
    erase cut short, the rest still matching its CRC); -1 for any other header."""
    crc = struct.unpack_from("<I", buf, 12)[0]
    magic = bytes(buf[0:4])
    if magic == MAGIC or magic == _LEGACY:
        return -1
    if crc == _header_crc(buf, MAGIC, index) or crc == _header_crc(buf, _LEGACY, index):
        return struct.unpack_from("<I", buf, 8)[0]
    return -1
