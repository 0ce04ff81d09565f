"""The service link from the host side (docs/service-protocol.md): a library the `tillroll`
commands call, over any pyserial URL (`/dev/ttyACM1`, `socket://127.0.0.1:9101`).

    with ServiceLink.open("socket://127.0.0.1:9101") as link:
        link.authenticate(key)
        for row in link.journal_rows():
            ...
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
import time
from pathlib import Path
from typing import Callable, Iterator

import serial

from .errors import FatalError

VERSION = 1
HEADER = 7
MAX_PAYLOAD = 2048
KEY_BYTES = 32
_CONTEXT = b"tillroll-service-v1"

STATUS, CHALLENGE, AUTH, PROVISION, CLOCK = 0x01, 0x02, 0x03, 0x04, 0x05
LOG, COUNTERS = 0x10, 0x11
JOURNAL_LIST, JOURNAL_INFO, JOURNAL_READ, JOURNAL_REPRINT, JOURNAL_WIPE = range(0x20, 0x25)
SETTINGS_GET, SETTINGS_SET, SETTINGS_FACTORY = 0x30, 0x31, 0x32
LOGO_LIST, LOGO_PUT, LOGO_DELETE = 0x40, 0x41, 0x42
SELF_TEST = 0x50

OK, ERROR, NEEDS_AUTH, WAIT = 0, 1, 2, 3

# USB identity of a module: MicroPython's VID:PID (2E8A:0005) until the product has its own,
# and its strings (boards/rp2_pico/usb_ports.py): a module is told by both
USB_MANUFACTURER = "Tillroll"
USB_PRODUCT = "Tillroll 58"
USB_VID = 0x2E8A  # MicroPython's (Raspberry Pi's) VID:PID, which the rp2 port's USB uses
USB_PID = 0x0005


class ServiceError(FatalError):
    """The module refused a request; `status` says why (ERROR, NEEDS_AUTH, WAIT)."""

    def __init__(self, message: str, status: int = ERROR, reply: dict | None = None):
        super().__init__(message)
        self.status = status
        self.reply = reply or {}


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE, as the module computes it."""
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def frame(command: int, payload: bytes = b"", seq: int = 0) -> bytes:
    body = struct.pack("<BBBH", VERSION, command, seq, len(payload)) + payload
    return b"TS" + body + struct.pack("<H", crc16(body))


def answer(key: bytes, nonce: bytes, serial_number: str) -> bytes:
    """The answer to a challenge: HMAC-SHA256 over the nonce and the module's serial."""
    return hmac.new(key, _CONTEXT + nonce + serial_number.encode(), hashlib.sha256).digest()


def load_key(path: str | Path) -> bytes:
    """A key file: 64 hex digits (what `tillroll provision --new-key` writes)."""
    try:
        text = Path(path).read_text().strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError) as e:
        raise FatalError(f"cannot read the key in {path}: {e}") from None
    if len(key) != KEY_BYTES:
        raise FatalError(f"{path}: a key is {KEY_BYTES} bytes (64 hex digits)")
    return key


class ServiceLink:
    """One connection to a module's service link."""

    def __init__(self, port, url: str = ""):
        self._port = port
        self.url = url
        self._seq = 0
        self.serial_number = ""
        self.key: bytes | None = None  # once authenticated: the module's key

    @classmethod
    def open(cls, url: str, timeout: float = 10.0) -> ServiceLink:
        try:
            port = serial.serial_for_url(url, timeout=timeout, baudrate=115200)
        except (serial.SerialException, OSError, ValueError) as e:
            raise FatalError(f"cannot open {url}: {_short(e)}") from None
        return cls(port, url)

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> ServiceLink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- frames ---------------------------------------------------------------------------

    def request(self, command: int, payload: bytes = b"") -> tuple[int, bytes]:
        """Send one request; return (status, body) of its reply. A reply with another sequence
        number is a late one to an earlier request (one the host gave up waiting for, perhaps
        on an earlier connection to the same port): it is skipped."""
        self._seq = (self._seq + 1) & 0xFF
        try:
            self._port.write(frame(command, payload, self._seq))
            while True:
                head = self._read(HEADER)
                if head[:2] != b"TS":
                    raise FatalError(f"{self.url}: not a Tillroll service link (got {head[:2]!r})")
                version, cmd, seq, length = struct.unpack_from("<BBBH", head, 2)
                rest = self._read(length + 2)
                if seq == self._seq or cmd == 0xFF:
                    break
        except (serial.SerialException, OSError) as e:
            raise FatalError(f"{self.url}: {_short(e)}") from None
        if crc16(head[2:] + rest[:length]) != struct.unpack_from("<H", rest, length)[0]:
            raise FatalError(f"{self.url}: a reply with a bad CRC")
        if version != VERSION:
            raise FatalError(f"{self.url}: the module speaks version {version}, not {VERSION}")
        if length < 1:
            raise FatalError(f"{self.url}: an empty reply")
        if cmd == 0xFF:
            raise FatalError(f"{self.url}: {json.loads(rest[1:length]).get('error')}")
        return rest[0], rest[1:length]

    def patient(self, seconds: float):
        """A context in which replies may take up to `seconds` (a module checking a signature
        or hashing an image)."""
        import contextlib

        @contextlib.contextmanager
        def waiting():
            before = self._port.timeout
            self._port.timeout = seconds
            try:
                yield self
            finally:
                self._port.timeout = before

        return waiting()

    def _read(self, n: int) -> bytes:
        data = self._port.read(n)
        if len(data) < n:
            raise FatalError(f"{self.url}: no reply from the module (is it the service port?)")
        return data

    def call(self, command: int, args: dict | None = None) -> dict:
        """A JSON request and its JSON reply; a refusal raises ServiceError."""
        status, body = self.request(command, json.dumps(args).encode() if args else b"")
        reply = json.loads(body) if body else {}
        if status != OK:
            raise ServiceError(reply.get("error", f"status {status}"), status, reply)
        return reply

    # ---- public ---------------------------------------------------------------------------

    def status(self) -> dict:
        st = self.call(STATUS)
        self.serial_number = st["serial"]
        return st

    def authenticate(self, key: bytes, set_clock: bool = True) -> None:
        """Answer the module's challenge with `key`; then set its clock from ours."""
        if not self.serial_number:
            self.status()
        status, nonce = self.request(CHALLENGE)
        if status != OK:
            raise ServiceError("the module gave no challenge", status)
        status, body = self.request(AUTH, answer(key, nonce, self.serial_number))
        if status != OK:
            reply = json.loads(body) if body else {}
            why = reply.get("error", "refused")
            if why == "wrong key":
                why = f"wrong key for module {self.serial_number}"
            if reply.get("retry_ms"):
                why += f"; the module waits {reply['retry_ms']} ms before the next attempt"
            raise ServiceError(why, status, reply)
        self.key = key
        if set_clock:
            self.set_clock(int(time.time()))

    def provision(self, key: bytes) -> dict:
        return self.call(PROVISION, {"key": key.hex()})

    # ---- authenticated ----------------------------------------------------------------------

    def set_clock(self, unix_s: int) -> dict:
        return self.call(CLOCK, {"time": unix_s})

    def log(self) -> list[dict]:
        return self.call(LOG)["entries"]

    def counters(self, reset: bool = False) -> dict:
        return self.call(COUNTERS, {"reset": True} if reset else None)

    def journal_rows(self, page: int = 16) -> Iterator[dict]:
        """Every receipt the journal keeps, oldest first, a page at a time."""
        after = 0
        while True:
            rows = self.call(JOURNAL_LIST, {"after": after, "count": page})["receipts"]
            if not rows:
                return
            for number, t, state, first in rows:
                yield {"number": number, "time": t, "state": state, "first_line": first}
            after = rows[-1][0]

    def journal_info(self, number: int) -> dict:
        return self.call(JOURNAL_INFO, {"number": number})

    def journal_bytes(
        self, number: int, progress: Callable[[int, int], None] | None = None
    ) -> bytes:
        """A receipt's stored ESC/POS (card numbers masked), read a frame at a time."""
        total = self.journal_info(number)["bytes"]
        data = bytearray()
        while len(data) < total:
            args = {"number": number, "offset": len(data), "size": MAX_PAYLOAD - 1}
            status, body = self.request(JOURNAL_READ, json.dumps(args).encode())
            if status != OK:
                raise ServiceError(json.loads(body).get("error", "refused"), status)
            if not body:
                break
            data += body
            if progress:
                progress(len(data), total)
        return bytes(data)

    def reprint(self, number: int) -> dict:
        return self.call(JOURNAL_REPRINT, {"number": number})

    def wipe(self) -> dict:
        if not self.serial_number:
            self.status()
        return self.call(JOURNAL_WIPE, {"confirm": self.serial_number})

    def settings(self) -> dict:
        return self.call(SETTINGS_GET)

    def set_settings(self, values: dict) -> dict:
        return self.call(SETTINGS_SET, values)

    def factory(self) -> dict:
        return self.call(SETTINGS_FACTORY)

    def logos(self) -> list[dict]:
        return self.call(LOGO_LIST)["logos"]

    def upload_logo(
        self,
        key: str,
        row_bytes: int,
        rows: int,
        dots: bytes,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        # Hex doubles it: a piece and its JSON take half a frame, a piece of heap a module whose
        # heap is in pieces still has.
        piece = 512
        offset = 0
        while True:
            chunk = dots[offset : offset + piece]
            last = offset + len(chunk) >= len(dots)
            args = {"key": key, "row_bytes": row_bytes, "rows": rows, "offset": offset}
            self.call(LOGO_PUT, {**args, "data": chunk.hex(), "last": last})
            offset += len(chunk)
            if progress:
                progress(offset, len(dots))
            if last:
                return

    def delete_logo(self, key: str) -> dict:
        return self.call(LOGO_DELETE, {"key": key})

    def self_test(self) -> dict:
        return self.call(SELF_TEST)


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _short(e: Exception) -> str:
    text = str(e)
    return text.split(": ", 1)[-1] if text.startswith("[Errno") else text
