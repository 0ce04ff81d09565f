"""Fuzzing the print path: mutated real ESC/POS streams, driven by hypothesis, printed by the
firmware under MicroPython. Whatever the bytes, the module answers, does not crash and does not
hang. Inputs that ever broke it are kept in tests/fuzz/corpus and replayed on every run.

`make test` runs a fixed (derandomized) set of examples; `make fuzz` runs a long random search.
"""

from __future__ import annotations

import hashlib
import os
import select
import subprocess
from pathlib import Path

import pytest
from escpos.printer import Dummy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from tillroll_host.paths import FONTS, ROOT, SIM_HEAP, micropython, micropython_env
from tillroll_host.sample import PROFILE, print_shop_receipt

TARGET = ROOT / "tests" / "fuzz" / "fuzz_target.py"
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
FAILURES = ROOT / "out" / "fuzz-failures"
_HANG_S = 60.0  # a hang never answers; a loaded machine answers late
EXAMPLES = int(os.environ.get("TILLROLL_FUZZ_EXAMPLES", "300"))
RANDOM = os.environ.get("TILLROLL_FUZZ_RANDOM") == "1"


class FuzzTarget:
    """One MicroPython process printing input after input."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.start()

    def start(self):
        env = {**os.environ, **micropython_env()}
        env["MICROPYPATH"] = f"{TARGET.parent}:{env['MICROPYPATH']}"
        self.proc = subprocess.Popen(
            [
                micropython(),
                "-X",
                f"heapsize={SIM_HEAP}",
                str(TARGET),
                str(self.out_dir),
                str(FONTS),
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._pending = b""
        self._said: list[str] = []

    def print(self, data: bytes, chunk: int) -> str:
        """Print `data`; return the target's answer ('ok N' or a crash report)."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(b"%d %d\n" % (len(data), chunk) + data)
        self.proc.stdin.flush()
        first = self._answer()
        if not first.startswith("crash"):
            return first
        lines = [*self._said, first]
        while (line := self._line()) != "=end":
            lines.append(line)
        return "\n".join(lines)

    def _answer(self) -> str:
        self._said = []  # the board's own output since the last answer: receipts torn off
        while not (line := self._line()).startswith("="):
            self._said.append(line)
        return line[1:]

    def _line(self) -> str:
        # Our own buffer over the raw pipe: select() must see every byte not yet read.
        assert self.proc.stdout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._pending:
            ready, _, _ = select.select([fd], [], [], _HANG_S)
            if not ready:
                said = "\n".join(self._said)
                self.proc.kill()  # a hung firmware is not left running
                self.proc.wait()
                self.start()  # for the next input
                raise TimeoutError(f"no answer in {_HANG_S:.0f} s: the firmware hangs\n{said}")
            more = os.read(fd, 65536)
            if not more:
                said = "\n".join(self._said) + self._pending.decode(errors="replace")
                self.start()  # for the next input
                raise RuntimeError(f"the firmware process died:\n{said}")
            self._pending += more
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    t = FuzzTarget(tmp_path_factory.mktemp("fuzz"))
    yield t
    t.close()


def _python_escpos_streams() -> list[bytes]:
    """Real streams from python-escpos: the shop receipt, styles, a barcode, a QR, an image."""
    streams = []
    p = Dummy(profile=PROFILE)
    print_shop_receipt(p)
    streams.append(p.output)
    p = Dummy(profile="TM-T88III")  # has Font B, which the 58 mm profile lacks
    p.set(font="b", underline=2, invert=True, flip=True, width=3, height=4, custom_size=True)
    p.text("Styled text\n")
    p.barcode("4006381333931", "EAN13")
    p.qr("https://example.com/r/42", native=True, size=6)
    logo = Image.new("1", (120, 40), 1)
    ImageDraw.Draw(logo).ellipse((2, 2, 118, 38), outline=0, width=4)
    p.image(logo)
    p.cut()
    streams.append(p.output)
    return streams


def _bench_streams() -> list[bytes]:
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "bench"))
    import receipts

    return [bytes(build()) for _, build in receipts.CASES]


SEEDS = _python_escpos_streams() + _bench_streams()
INTERESTING = [
    b"\x1b",
    b"\x1d",
    b"\x1c",
    b"\x10",
    b"\x00",
    b"\xff\xff",
    b"\x1dv0\x00\xff\xff\xff\xff",
    b"\x1d(k\xff\xff",
    b"\x1b*\x21\xff\xff",
    b"\x1dk\x49\xff",
    b"\x1b@",
    b"\n",
    # status and real-time commands: acted on as they arrive, ahead of the parser
    b"\x10\x04\x01",
    b"\x10\x05\x02",
    b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08",
    b"\x10\x14\x07\x01",
    b"\x1da\xff",
    b"\x1b=\x00",
    b"\x1d(D\x05\x00\x14\x01\x00\x02\x01",
    b"\x1dr1",
    b"\x1d(H\x06\x00\x30\x30ID01",
]


@st.composite
def mutated_streams(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "splice", "interesting", "dup"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "splice":
            other = draw(st.sampled_from(SEEDS))
            start = draw(st.integers(0, len(other) - 1))
            data[at:at] = other[start : start + draw(st.integers(1, 256))]
        elif op == "interesting":
            data[at:at] = draw(st.sampled_from(INTERESTING))
        elif op == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 128))]
    return bytes(data)


def _keep(data: bytes, why: str) -> Path:
    FAILURES.mkdir(parents=True, exist_ok=True)
    path = FAILURES / (hashlib.sha256(data).hexdigest()[:16] + ".bin")
    path.write_bytes(data)
    return path


def _check(target: FuzzTarget, data: bytes, chunk: int) -> None:
    try:
        answer = target.print(data, chunk)
    except (TimeoutError, RuntimeError) as e:
        raise AssertionError(f"{e}; input kept in {_keep(data, str(e))}") from e
    assert answer.startswith("ok "), f"{answer}\ninput kept in {_keep(data, answer)}"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=mutated_streams(), chunk=st.sampled_from([1, 7, 64, 512]))
def test_mutated_streams_never_crash_or_hang(target, data, chunk):
    _check(target, data, chunk)


def test_seeds_print(target):
    printed = []
    for seed in SEEDS:
        answer = target.print(seed, 512)
        assert answer.startswith("ok "), answer
        printed.append(int(answer.split()[1]))
    assert printed[0] > 0, "the shop receipt prints dot lines"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.bin")), ids=lambda p: p.name)
def test_regression_corpus(target, path: Path):
    for chunk in (1, 512):
        _check(target, path.read_bytes(), chunk)


def test_the_regression_corpus_is_there():
    # An empty folder would make the replay above pass by having nothing to replay.
    assert sorted(CORPUS.glob("*.bin")), f"no inputs in {CORPUS}"
