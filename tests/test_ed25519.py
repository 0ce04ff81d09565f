"""Ed25519 verification on the module (firmware/tillroll/update/ed25519.py) against an
independent implementation, the `cryptography` library: the RFC 8032 vectors the firmware test
uses are ones it verifies, and for random keys and messages the firmware, under MicroPython,
accepts each signature and refuses it with one bit changed in the signature, the message or the
key, as `cryptography` does."""

from __future__ import annotations

import ast
import json
import os
import random
import subprocess
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tillroll_host.paths import BOARD_HEAP, FIRMWARE, micropython

TESTS = Path(__file__).parent
CASES = 20

_VERIFY_ALL = """
import sys, json
from binascii import unhexlify
from tillroll.update.ed25519 import verify
with open(sys.argv[1]) as f:
    for line in f:
        c = json.loads(line)
        print(int(verify(unhexlify(c["key"]), unhexlify(c["message"]), unhexlify(c["signature"]))))
"""


def rfc_vectors() -> dict[str, tuple[str, str, str]]:
    """RFC_8032 as tests/firmware/mp_ed25519.py types it."""
    tree = ast.parse((TESTS / "firmware" / "mp_ed25519.py").read_text())
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id == "RFC_8032":
            return ast.literal_eval(node.value)
    raise AssertionError("mp_ed25519.py has no RFC_8032")


def cryptography_verifies(key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def flipped(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << bit % 8
    return bytes(out)


def test_the_firmware_tests_rfc_8032_vectors_are_ones_cryptography_verifies():
    vectors = rfc_vectors()
    assert set(vectors) == {"TEST 1", "TEST 2", "TEST 3", "TEST 1024"}
    for name, (key, message, signature) in vectors.items():
        k, m, s = bytes.fromhex(key), bytes.fromhex(message), bytes.fromhex(signature)
        assert cryptography_verifies(k, m, s), name
        assert not cryptography_verifies(k, m, flipped(s, 3)), name
    assert len(bytes.fromhex(vectors["TEST 1024"][1])) == 1023


def test_random_signatures_verify_on_the_module_and_fail_with_any_bit_changed(tmp_path):
    rng = random.Random(25519)  # a failure names its case; the same seed shows it again
    cases, expected = [], []
    for _ in range(CASES):
        private = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        key = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        message = rng.randbytes(rng.randint(1, 200))
        signature = private.sign(message)
        for k, m, s in (
            (key, message, signature),
            (key, message, flipped(signature, rng.randrange(512))),
            (key, flipped(message, rng.randrange(len(message) * 8)), signature),
            (flipped(key, rng.randrange(256)), message, signature),
        ):
            cases.append({"key": k.hex(), "message": m.hex(), "signature": s.hex()})
            expected.append(int(cryptography_verifies(k, m, s)))
    assert expected == [1, 0, 0, 0] * CASES
    data = tmp_path / "cases.jsonl"
    data.write_text("".join(json.dumps(c) + "\n" for c in cases))
    script = tmp_path / "verify_all.py"
    script.write_text(_VERIFY_ALL)
    done = subprocess.run(
        [micropython(), "-X", f"heapsize={BOARD_HEAP}", str(script), str(data)],
        env={**os.environ, "MICROPYPATH": str(FIRMWARE)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    got = [int(v) for v in done.stdout.split()]
    assert len(got) == len(expected), done.stdout
    wrong = [(i // 4, cases[i]) for i in range(len(cases)) if got[i] != expected[i]]
    assert not wrong
