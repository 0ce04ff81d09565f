"""Real POS clients asking the simulated module for its status: python-escpos, npm receiptline
(its printing path with the GS r check) and npm receiptio (status-driven printing)."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from escpos.printer import Network, Serial

from ocr import missing_lines
from tillroll_host.sample import PROFILE
from tillroll_host.sim import SimModule

ROOT = Path(__file__).parents[1]
CLIENTS = Path(__file__).parent / "clients"
RECEIPTIO = ROOT / "node_modules" / "receiptio" / "bin" / "cli.js"

RECEIPT = """^^^TILLROLL CAFE

Espresso | 2.40
Croissant | 1.90
---
^TOTAL | ^4.30
"""


def loopback() -> str:
    """A loopback address of its own, so the module can take port 9100 there (receiptio
    connects to 9100 only) without meeting anything else on the machine."""
    return "127.%d.%d.%d" % (
        random.randrange(1, 255),
        random.randrange(255),
        random.randrange(1, 255),
    )


def paper_states(printer: Network | Serial, sim: SimModule) -> list[tuple[bool, int]]:
    seen = [(printer.is_online(), printer.paper_status())]
    sim.control("load_paper", lines=5000)  # 60 cm left: past the near-end sensor
    seen.append((printer.is_online(), printer.paper_status()))
    sim.paper_out()
    seen.append((printer.is_online(), printer.paper_status()))
    sim.load_paper()
    sim.open_cover()
    seen.append((printer.is_online(), printer.paper_status()))
    return seen


def test_python_escpos_network_tells_online_and_paper_truthfully(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        printer = Network("127.0.0.1", port=sim.data_port, timeout=10, profile=PROFILE)
        seen = paper_states(printer, sim)
        printer.close()
    # present, near its end, out, present with the cover open
    assert seen == [(True, 2), (True, 1), (False, 0), (False, 2)]


def test_python_escpos_serial_on_the_pty_tells_online_and_paper_truthfully(tmp_path: Path):
    with SimModule(tmp_path, pty=True) as sim:
        printer = Serial(sim.pty_path, baudrate=115200, timeout=0.5, profile=PROFILE)
        seen = paper_states(printer, sim)
        printer.close()
    assert seen == [(True, 2), (True, 1), (False, 0), (False, 2)]


def test_receiptline_prints_and_its_status_check_confirms(tmp_path: Path, node, tesseract):
    source = tmp_path / "receipt.txt"
    source.write_text(RECEIPT)
    with SimModule(tmp_path / "out") as sim:
        sim.paper_out()  # its GS r waits for the print: nothing is confirmed before paper
        client = subprocess.Popen(
            [
                node,
                str(CLIENTS / "receiptline_print.mjs"),
                sim.host,
                str(sim.data_port),
                str(source),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        sim.wait_status(lambda s: s["queued"] > 0)
        assert client.poll() is None, "confirmed before it printed"
        sim.load_paper()
        out, _ = client.communicate(timeout=60)
        png = sim.wait_receipt()
    assert out.strip() == "printed"
    missing, seen = missing_lines(["TILLROLL CAFE", "Espresso 2.40", "TOTAL 4.30"], png)
    assert not missing, seen


# receiptio's results, as it reports them on stderr and in its exit status
RESULTS = {0: "success", 100: "online", 101: "coveropen", 102: "paperempty", 104: "offline"}


def receiptio(node: str, host: str, *args: str) -> str:
    done = subprocess.run(
        [node, str(RECEIPTIO), "-d", host, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    result = done.stderr.strip()
    assert RESULTS.get(done.returncode) == result, (done.returncode, done.stderr)
    return result


def test_receiptio_reports_online_and_prints_a_receipt_to_the_end(tmp_path: Path, node, tesseract):
    host = loopback()
    with SimModule(tmp_path / "out", host=host, data_port=9100) as sim:
        assert receiptio(node, host, "-q") == "online"
        source = tmp_path / "example.receipt"
        source.write_text(RECEIPT)
        assert receiptio(node, host, "-c", "32", str(source)) == "success"
        png = sim.wait_receipt()
        sim.paper_out()
        assert receiptio(node, host, "-q") == "paperempty"
    missing, seen = missing_lines(["TILLROLL CAFE", "Espresso 2.40", "TOTAL 4.30"], png)
    assert not missing, seen
