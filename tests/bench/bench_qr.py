"""QR encoding on the module: time to encode, with the viper loops and with the same loops as
plain bytecode (the .vpy loops of qr, qr_matrix and reed_solomon with their
@micropython.viper lines removed), so the viper note in qr.py stays a measured number. Values
are unix-port milliseconds times TILLROLL_K, the RP2040 slowdown factor measured by run.py."""

import json
import os
import time

from tillroll.render import qr as viper_qr

K = float(os.getenv("TILLROLL_K") or "1")
RENDER = os.getenv("TILLROLL_FONTS") + "/../tillroll/render/"
# (case, bytes of data, error correction level): version 7 at M, version 25 at L.
CASES = (("url v7 M", 120, 1), ("1200 B v25 L", 1200, 0))
GOAL_MS = 2000  # a QR code may hold the receipt up by 2 s at most on an RP2040


def plain_module():
    space = {"__name__": "qr_plain"}
    for name in ("qr_matrix", "reed_solomon", "qr"):
        with open(RENDER + name + ".py") as f:
            src = f.read()
        with open(RENDER + name + ".vpy") as f:  # its native loops, as plain bytecode
            exec(f.read().replace("@micropython.viper\n", ""), space)
        # The imports of native code and of the other two: their plain versions are in
        # `space` already.
        src = src.replace("from ..native import load", "").replace("load(__file__,", "# (")
        src = src.replace("from .qr_matrix import", "# ").replace(
            "from .reed_solomon import", "# "
        )
        exec(src, space)
    return space


def encode_ms(qr_class, n, level):
    q = qr_class(25)
    q.level = level
    data = bytearray(b"T" * n)
    t = time.ticks_us()
    assert q.encode(data, n)
    return time.ticks_diff(time.ticks_us(), t) / 1000


def main():
    plain = plain_module()["QR"]
    for case, n, level in CASES:
        for label, cls, goal in (("viper", viper_qr.QR, GOAL_MS), ("bytecode", plain, None)):
            ms = encode_ms(cls, n, level)
            print(
                json.dumps(
                    {
                        "metric": "qr_encode_rp2040_ms",
                        "case": case + " " + label,
                        "value": round(ms * K, 1),
                        "goal": goal,
                        "unit": "ms",
                    }
                )
            )


main()
