"""Verification codes: a code at the foot of each receipt that ties the slip to the journal's
copy of it, so a technician or an auditor can tell a real slip from a made-up or altered one
(`tillroll journal verify`; docs/journal.md, "Verification codes").

Imported only when the `verify` setting is on. Once a receipt has ended at its cut and its END
is on flash, its code is worked out from what the journal holds (one pass over its records,
hashed as they are read) and printed before the tear-off; a copy works it out again from the
same records, so it carries the same code.

    code   = number, module (2), MAC (10), check (1)     e.g. 1843-5XK2-R7QM-9TZC-4
    MAC    = the first 50 bits of HMAC-SHA256(receipt key, message), Crockford base32
    message = "tillroll-receipt-v1", len(serial) (1 byte), serial, number, time, length
             (u32 little-endian each; time in seconds since 2024, 0 when unknown) and the
             receipt's bytes as the journal holds them (card numbers masked)
    receipt key = HMAC-SHA256(service key, "tillroll-receipt-key-v1")
    module = the first 10 bits of SHA-256(serial): a code from another module is named so
    check  = sum of (position + 1) x value over the characters before it, mod 37

The host side (host/tillroll_host/slip_code.py) computes the same.
"""

import hashlib
import struct

from ..service.auth import hmac_sha256

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U"  # Crockford's; the last 5 check only
_CONTEXT = b"tillroll-receipt-v1"
_KEY_CONTEXT = b"tillroll-receipt-key-v1"
_MAC_CHARS = const(10)
_MODULE_CHARS = const(2)
_LINE = const(32)  # Font A characters on a 384-dot line
_QR_MODULE = const(4)  # dots a QR module: a version-3 symbol is 116 dots wide
_MODES = (
    "font",
    "emphasis",
    "underline",
    "width_mul",
    "height_mul",
    "reverse",
    "upside_down",
    "rotate",
    "char_spacing",
    "spacing",
    "align",
)
_PLAIN = (0, False, 0, 1, 1, False, False, False, 0, 30, 1)  # Font A as after ESC @, centred

_derived = [b"", b""]  # the service key and the receipt key made from it


def receipt_key(service_key):
    """The key codes are made with: derived from the service key, so a code never gives
    anything that opens the service link, and an auditor checking exports can be given this
    key alone."""
    if _derived[0] is not service_key:
        _derived[0] = service_key
        _derived[1] = hmac_sha256(service_key, _KEY_CONTEXT)
    return _derived[1]


def mac(key, serial: str, number: int, t: int, length: int, pieces) -> bytes:
    s = serial.encode()
    head = _CONTEXT + bytes((len(s),)) + s + struct.pack("<III", number, t, length)
    return hmac_sha256(receipt_key(key), head, pieces)


def _bits(data, at: int, n: int) -> int:
    """n bits of data from bit `at`, most significant first."""
    v = 0
    for i in range(at, at + n):
        v = v << 1 | (data[i >> 3] >> (7 - (i & 7))) & 1
    return v


def _chars(data, n: int) -> str:
    return "".join(ALPHABET[_bits(data, 5 * k, 5)] for k in range(n))


def check(text: str) -> str:
    """The check symbol of a code's characters (hyphens left out): a weighted sum mod 37
    catches every single wrong character and every two neighbours swapped."""
    total = 0
    for i in range(len(text)):
        total += (i + 1) * ALPHABET.index(text[i])
    return ALPHABET[total % 37]


def code(serial: str, number: int, tag) -> str:
    body = _chars(hashlib.sha256(serial.encode()).digest(), _MODULE_CHARS)
    body += _chars(tag, _MAC_CHARS)
    body += check(str(number) + body)
    return "%d-%s-%s-%s-%s" % (number, body[0:4], body[4:8], body[8:12], body[12])


def code_for(journal, key, serial: str, number: int):
    """Receipt `number`'s code from what the journal holds of it, or None."""
    info = journal.info(number)
    if info is None:
        return None
    return code(serial, number, mac(key, serial, number, info[5], info[4], journal.chunks(number)))


async def print_code(rec, number: int, mode: int):
    """The code (mode 1), and its QR symbol (mode 2), centred in Font A whatever the
    receipt's print modes, which are kept for what follows. The characters are drawn as
    glyphs, past the code page and ESC R, so the code prints the same on any module."""
    layout = rec.layout
    engine = rec.engine
    auth = rec.auth
    key = auth.key if auth is not None else None
    text = code_for(rec.journal, key, auth.serial, number) if key is not None else None
    if text is None:
        line = "NO CODE: NO KEY"  # a module not provisioned cannot sign its receipts
    elif len(text) + 7 <= _LINE:
        line = "VERIFY " + text
    else:
        line = text
    saved = [getattr(layout, name) for name in _MODES]
    try:
        if not layout._fresh:
            layout.print_line(1)  # the receipt's last line, unfinished at its cut
        for name, value in zip(_MODES, _PLAIN):
            setattr(layout, name, value)
        while layout.busy():
            await engine.wait_space()
        font = layout._fonts[0]
        for c in line:
            font.load(ord(c))
            layout._put(font.glyph_buf, font.width, font.height, 1, 1, 0, 0, 0)
        layout.print_line(1)
        if mode == 2 and text is not None:
            await _qr(rec, "TILLROLL %s %s" % (auth.serial, text))
    finally:
        for name, value in zip(_MODES, saved):
            setattr(layout, name, value)


async def _qr(rec, data: str):
    gfx = rec.graphics
    if gfx is None or gfx.job is not None:
        return
    qr = gfx.qr
    level = qr.level
    qr.level = 1  # M: a slip in a wallet gets creased
    b = data.encode()
    ok = qr.encode(b, len(b))
    qr.level = level
    if not ok:
        return
    gfx.print_qr(_QR_MODULE)
    layout = rec.layout
    while gfx.job is not None:
        while layout.busy():
            await rec.engine.wait_space()
        gfx.step()
