"""Ed25519 verification of a signed update manifest (firmware/tillroll/update/ed25519.py): the
milliseconds one verification takes for a message of a manifest's size (95 bytes, signed with
RFC 8032's TEST 1 key), the fastest of three. On the unix port, with its K estimate for the
RP2040; chip.py runs main() on the emulated RP2040, where ticks_us() is the chip's own clock.
"""

import json
import os
import sys
import time
from binascii import unhexlify

if sys.platform == "rp2":
    from update.ed25519 import verify  # chip.py puts this tree's package in the tests' ROMFS
else:
    from tillroll.update.ed25519 import verify

KEY = unhexlify("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
MESSAGE = b"tillroll rp2_pico 0.2.0 196608 " + b"0" * 64
SIGNATURE = unhexlify(
    "5396d2bf0cf4d1403184d0dcef21b5bd82f674b151fa058c10085119a4a76955"
    "bcb73b61389998f47c418deb0f79400fb82cbb55f339ec9f70f3466812b76901"
)


def verify_us():
    best = None
    for _ in range(3):
        t = time.ticks_us()
        ok = verify(KEY, MESSAGE, SIGNATURE)
        us = time.ticks_diff(time.ticks_us(), t)
        assert ok
        best = us if best is None or us < best else best
    return best


def row(metric, value, unit):
    case = "95-byte manifest"
    print(json.dumps({"metric": metric, "case": case, "value": value, "goal": None, "unit": unit}))


def main():
    us = verify_us()
    if sys.platform == "rp2":
        print(json.dumps({"verify_us": us}))
        return
    k = float(os.getenv("TILLROLL_K") or "1")
    row("update_verify_ms_unix", round(us / 1000, 2), "ms")
    row("rp2040_update_verify_ms", round(us * k / 1000), "ms")


if __name__ == "__main__":
    main()
