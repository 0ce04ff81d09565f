"""Fuzzing over the link, on every target: the inputs that once broke the firmware
(tests/fuzz/corpus, found by `make fuzz` on the unix port) and mutations of a real client's
receipt, each sent as a POS terminal sends, followed by DLE DC4 fn 8 (clear the buffers). The
module answers each clear, still answers status after all of them, and prints the next
receipt whole. TILLROLL_FUZZ_LINK_MUTANTS sets how many mutations (default 8), TILLROLL_FUZZ_SEED
which (default 18)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from escpos.printer import Dummy

from ocr import read_text

CORPUS = Path(__file__).resolve().parents[1] / "fuzz" / "corpus"
DLE, GS = b"\x10", b"\x1d"
CLEAR = DLE + b"\x14\x08\x01\x03\x14\x01\x06\x02\x08"  # DLE DC4 fn 8
CLEARED = b"\x37\x25\x00"
CUT = GS + b"V\x00"


def client_receipt() -> bytes:
    p = Dummy(profile="default")
    p.set(align="center", bold=True, double_height=True)
    p.text("FUZZ CAFE\n")
    p.set(align="left", normal_textsize=True, bold=False, underline=1)
    p.text("Espresso            2.10\n")
    p.set(underline=0)
    p.barcode("{B0042", "CODE128", function_type="B")
    p.qr("https://example.com/r/fuzz", native=True)
    p.cut()
    return p.output


def mutants(seed: int, count: int) -> list[bytes]:
    """`count` mutations of the client's receipt: bytes flipped, dropped, repeated, cut short."""
    rng = random.Random(seed)
    base = client_receipt()
    out = []
    for _ in range(count):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data))
            kind = rng.randrange(4)
            if kind == 0:
                data[at] = rng.randrange(256)
            elif kind == 1:
                del data[at : at + rng.randint(1, 16)]
            elif kind == 2:
                data[at:at] = data[at : at + rng.randint(1, 64)]
            else:
                del data[at:]
            if not data:
                data = bytearray(base)
        out.append(bytes(data))
    return out


def test_fuzzed_input_on_the_link_never_costs_the_next_receipt(printer, tesseract):
    inputs = [p.read_bytes() for p in sorted(CORPUS.glob("*.bin"))]
    count = int(os.environ.get("TILLROLL_FUZZ_LINK_MUTANTS", "8"))
    inputs += mutants(int(os.environ.get("TILLROLL_FUZZ_SEED", "18")), count)
    for n, data in enumerate(inputs):
        with printer.open_data() as link:
            link.write(data + CLEAR)
            link.timeout = 300  # the input's receipt prints at the mechanism's pace first
            got = link.read_until(CLEARED)  # after the replies the input asked for
            assert got.endswith(CLEARED), f"no answer to the clear after {data[:40]!r}: {got!r}"
        # Whatever the input printed and did not cut goes out with a line and a cut of its own.
        printer.print(b"\x1b@INPUT %d\n" % n + CUT)
    assert printer.ask(DLE + b"\x04\x01", 1)[0] & 0x93 == 0x12  # still there, and answers
    want = ["AFTER FUZZ", "Tea 1.20"]
    papers = [read_text(printer.print(b"\x1b@AFTER FUZZ\nTea 1.20\n" + CUT))]
    # On a target that counts its papers by their cuts, the inputs' own cuts made papers of
    # their own: the receipt is a later one.
    while papers[-1] != want:
        assert len(papers) <= len(inputs) * 4, papers
        papers.append(read_text(printer.next_paper(timeout=60)))
