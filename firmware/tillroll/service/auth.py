"""Challenge-response with the module's own key: HMAC-SHA256 over a fresh nonce.

The key is 32 bytes, set once at the factory in maintenance mode (FEED held at power-on) and
kept in a file on the board's storage. A wrong answer costs the next attempt a wait that
doubles each time (0.25 s, 0.5 s, ... up to 60 s); attempts during the wait are refused
without being checked. The count lives in RAM: see docs/security.md for what a power cycle
gives an attacker.
"""

import hashlib
import os
import time

KEY_BYTES = const(32)
NONCE_BYTES = const(16)
_BACKOFF_MS = const(250)
_BACKOFF_MAX_MS = const(60000)
_CONTEXT = b"tillroll-service-v1"


def hmac_sha256(key, msg, more=()) -> bytes:
    """RFC 2104 HMAC with SHA-256 (MicroPython has no hmac module), over `msg` and then each
    piece `more` yields (a receipt's records, hashed as they are read from flash)."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    pad = bytearray(64)
    pad[: len(key)] = key
    for i in range(64):
        pad[i] ^= 0x36
    inner = hashlib.sha256(pad)
    inner.update(msg)
    for piece in more:
        inner.update(piece)
    inner = inner.digest()
    for i in range(64):
        pad[i] ^= 0x36 ^ 0x5C
    outer = hashlib.sha256(pad)
    outer.update(inner)
    return outer.digest()


def answer(key, nonce, serial) -> bytes:
    """What the host sends back for `nonce`: bound to this module's serial number."""
    return hmac_sha256(key, _CONTEXT + bytes(nonce) + serial.encode())


def _same(a, b) -> bool:
    # Every byte compared whatever differs: the time taken says nothing about the key.
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= a[i] ^ b[i]
    return d == 0


class Auth:
    def __init__(self, key_path, serial: str):
        self._path = key_path
        self.serial = serial
        self.key = None
        self.failures = 0  # wrong answers since the last right one
        self.refused = 0  # attempts refused unchecked, during a wait
        self.imposed_ms = 0  # the waits imposed so far, summed
        self._until = time.ticks_ms()
        self._load()

    def _load(self):
        if not self._path:
            return
        try:
            with open(self._path, "rb") as f:
                key = f.read()
            if len(key) == KEY_BYTES:
                self.key = key
        except OSError:
            pass  # not provisioned

    def provision(self, key):
        if len(key) != KEY_BYTES:
            raise ValueError("key of %d bytes; %d wanted" % (len(key), KEY_BYTES))
        if self._path:
            tmp = self._path + ".new"
            with open(tmp, "wb") as f:
                f.write(key)
            os.rename(tmp, self._path)
        self.key = bytes(key)
        self.failures = 0

    def wait_ms(self) -> int:
        """How long before the next attempt is checked."""
        left = time.ticks_diff(self._until, time.ticks_ms())
        return left if left > 0 else 0

    def check(self, nonce, mac):
        """0 if `mac` answers `nonce`; otherwise the wait now imposed (ms), or -1 if the
        attempt came during a wait and was not checked."""
        if self.wait_ms():
            self.refused += 1
            return -1
        if (
            self.key is not None
            and nonce is not None
            and _same(answer(self.key, nonce, self.serial), mac)
        ):
            self.failures = 0
            return 0
        self.failures += 1
        wait = _BACKOFF_MS << min(self.failures - 1, 8)
        wait = wait if wait < _BACKOFF_MAX_MS else _BACKOFF_MAX_MS
        self.imposed_ms += wait
        self._until = time.ticks_add(time.ticks_ms(), wait)
        return wait
