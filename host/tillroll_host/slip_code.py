"""Receipt verification codes on the host: read a code a person typed or a QR symbol carried,
and work out the code a receipt's journal copy gives, as the module does
(firmware/tillroll/journal/verify.py; docs/journal.md, "Verification codes").

    code = NUMBER-MMTT-TTTT-TTTT-C   e.g. 1843-5XK2-R7QM-9TZC-4
    M    module: the first 10 bits of SHA-256(serial), in Crockford base32
    T    the first 50 bits of HMAC-SHA256(receipt key, message)
    C    check: sum of (position + 1) x value of the characters before it, mod 37
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from .errors import FatalError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U"  # Crockford's; the last 5 check only
_CONTEXT = b"tillroll-receipt-v1"
_KEY_CONTEXT = b"tillroll-receipt-key-v1"
MODULE_CHARS = 2
MAC_CHARS = 10
MAC_BITS = 5 * MAC_CHARS
_FIXED = MODULE_CHARS + MAC_CHARS + 1
_QR_PREFIX = "TILLROLL "
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"  # grouping: any dash a reader or a font gives
EPOCH_2024 = 1704067200  # the journal keeps times in seconds since 2024
# What a person may type for a character: Crockford's rules (case, O for 0, I and L for 1).
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CodeError(FatalError):
    """A code that is not well formed: the message says what is wrong with it."""


@dataclass(frozen=True)
class Code:
    number: int
    module: str  # 2 characters
    mac: str  # 10 characters
    check: str
    serial: str | None = None  # the full serial, when the code came from a QR symbol

    def __str__(self) -> str:
        body = self.module + self.mac + self.check
        return f"{self.number}-{body[0:4]}-{body[4:8]}-{body[8:12]}-{body[12]}"


def receipt_key(service_key: bytes) -> bytes:
    """The key codes are made with, from the module's service key."""
    return hmac.new(service_key, _KEY_CONTEXT, hashlib.sha256).digest()


def mac(service_key: bytes, serial: str, number: int, t: int, data: bytes) -> bytes:
    """HMAC-SHA256 of a receipt as the journal holds it; `t` in seconds since 2024 (0:
    unknown)."""
    s = serial.encode()
    head = _CONTEXT + bytes((len(s),)) + s + struct.pack("<III", number, t, len(data))
    return hmac.new(receipt_key(service_key), head + data, hashlib.sha256).digest()


def _chars(data: bytes, n: int) -> str:
    v = int.from_bytes(data, "big")
    bits = 8 * len(data)
    return "".join(ALPHABET[(v >> (bits - 5 * (k + 1))) & 31] for k in range(n))


def module_of(serial: str) -> str:
    return _chars(hashlib.sha256(serial.encode()).digest(), MODULE_CHARS)


def check(text: str) -> str:
    total = sum((i + 1) * ALPHABET.index(c) for i, c in enumerate(text))
    return ALPHABET[total % 37]


def make(service_key: bytes, serial: str, number: int, t: int, data: bytes) -> Code:
    """The code of receipt `number` with these stored bytes and time."""
    module = module_of(serial)
    tag = _chars(mac(service_key, serial, number, t, data), MAC_CHARS)
    return Code(number, module, tag, check(f"{number}{module}{tag}"))


def journal_time(unix_time: int | None) -> int:
    """The time a receipt's code was made with, from the Unix time the journal reports."""
    return unix_time - EPOCH_2024 if unix_time else 0


def parse(text: str) -> Code:
    """A code as printed, typed (any case, hyphens and spaces anywhere, O for 0, I or L for
    1) or read from the QR symbol (`TILLROLL SERIAL CODE`). CodeError says what is wrong."""
    serial = None
    raw = text.strip()
    if raw.upper().startswith(_QR_PREFIX):
        parts = raw.split()
        if len(parts) != 3:
            raise CodeError(f"{raw!r}: a Tillroll QR symbol holds TILLROLL, a serial, a code")
        serial, raw = parts[1], parts[2]
    compact = "".join(c for c in raw if not c.isspace() and c not in _DASHES).upper()
    if not compact:
        raise CodeError("an empty code: give the code printed at the foot of the receipt")
    compact = compact.translate(_READS_AS)
    for i, c in enumerate(compact):
        allowed = ALPHABET if i == len(compact) - 1 else ALPHABET[:32]
        if c not in allowed:
            raise CodeError(
                f"{text.strip()!r}: {c!r} (character {i + 1}) is not a code character "
                "(digits and letters but I, L, O and U; the last may also be * ~ $ = U)"
            )
    if len(compact) < _FIXED + 1:
        raise CodeError(
            f"{text.strip()!r}: too short: a code is the receipt number and {_FIXED} "
            f"characters after it (e.g. 1843-5XK2-R7QM-9TZC-4); this has {len(compact)} in all"
        )
    digits = compact[:-_FIXED]
    if not digits.isdigit():
        raise CodeError(
            f"{text.strip()!r}: the receipt number {digits!r} at its start is not a number: "
            f"a code has {_FIXED} characters after the number (is one missing or extra?)"
        )
    if check(compact[:-1]) != compact[-1]:
        raise CodeError(
            f"{text.strip()!r}: the check character does not match: a character is mistyped "
            "or misread, or two are swapped"
        )
    rest = compact[-_FIXED:]
    return Code(int(digits), rest[:MODULE_CHARS], rest[MODULE_CHARS:-1], rest[-1], serial)
