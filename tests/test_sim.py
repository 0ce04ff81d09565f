"""End to end, as a POS integrator sees it: python-escpos sends a receipt over TCP to
`tillroll sim`, and the PNG that comes out reads back, line for line, with OCR."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from escpos.printer import Network
from PIL import Image

from ocr import missing_lines
from tillroll_host.sample import PROFILE, print_shop_receipt, send_shop_receipt
from tillroll_host.sim import SimModule, send


def test_a_python_escpos_receipt_comes_out_and_reads_back(tmp_path: Path, tesseract):
    with SimModule(tmp_path, via_cli=True) as sim:
        assert f"listening for ESC/POS on 127.0.0.1:{sim.data_port}" in sim.output
        expected = send_shop_receipt(sim.data_port)
        png = sim.wait_receipt()
    assert Image.open(png).size[0] == 384
    missing, seen = missing_lines(expected, png)
    assert not missing, f"not found: {missing}\nOCR read: {seen}"


def test_receipts_from_several_senders_come_out_in_order(tmp_path: Path, tesseract):
    with SimModule(tmp_path) as sim:
        for n in (1, 2, 3):
            printer = Network("127.0.0.1", port=sim.data_port, timeout=10, profile=PROFILE)
            printer.text(f"Order number {n}\n")
            printer.cut()
            printer.close()
            png = sim.wait_receipt(n)
            missing, seen = missing_lines([f"Order number {n}"], png)
            assert not missing, seen
        assert [p.name for p in sim.receipts] == [
            "receipt-0001.png",
            "receipt-0002.png",
            "receipt-0003.png",
        ]


def test_a_receipt_without_a_cut_ends_when_the_sender_closes(tmp_path: Path, tesseract):
    with SimModule(tmp_path) as sim:
        send(sim.data_port, b"\x1b@No cut here\n")
        png = sim.wait_receipt()
    missing, seen = missing_lines(["No cut here"], png)
    assert not missing, seen


def test_garbage_then_a_receipt_still_prints(tmp_path: Path, tesseract):
    garbage = bytes(range(256)) * 8 + b"\x1d\x76\x30\x00\x02\x00\x02\x00" + b"\xff" * 4
    with SimModule(tmp_path) as sim:
        send(sim.data_port, garbage + b"\x1b@Still printing\n\x1dV\x00")
        png = sim.wait_receipt()
        assert sim._proc.poll() is None, "the module must keep running"
    missing, seen = missing_lines(["Still printing"], png)
    assert not missing, seen


def test_stops_cleanly_on_ctrl_c(tmp_path: Path):
    sim = SimModule(tmp_path, via_cli=True).start()
    assert sim.stop() == 0
    assert "stopped" in sim.output
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", sim.data_port))


def test_demo_writes_the_sample_receipt(tmp_path: Path, tesseract):
    out = tmp_path / "demo.png"
    done = subprocess.run(
        [sys.executable, "-m", "tillroll_host.cli", "demo", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(f"receipt printed: {out}")
    expected = print_shop_receipt(_LineCollector())
    missing, seen = missing_lines(expected, out)
    assert not missing, seen


class _LineCollector:
    """A stand-in python-escpos printer that only lets print_shop_receipt list its lines."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
