"""Tillroll's pytest plugin (tillroll_host.pytest_plugin, docs/rig.md), run as a user runs it:
a pytest of its own on a suite with a stand-in target that prints a fixed PNG. A test that
needs what the target cannot do is reported not applicable with the reason; the JUnit XML and
the HTML report come out, the report with what was sent beside the paper."""

from __future__ import annotations

import base64
import html
import re
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

CONFTEST = '''
from pathlib import Path
from tillroll_host import hil

class Bench(hil.Target):
    """Prints every receipt as the same small PNG; cannot cut the power."""
    name = "sim"  # stands in for the sim target
    capabilities = frozenset({"image", "paper"})

    def start(self):
        self.work.mkdir(parents=True, exist_ok=True)
        return self

    def stop(self):
        pass

    def print(self, data, timeout=1.0):
        return self.next_paper(sent=data)

    def _paper(self, timeout):
        return Path(__file__).parent / "paper.png"

hil.TARGETS["sim"] = Bench
'''

SUITE = """
import pytest

def test_prints(printer):
    assert printer.print(b"\\x1b@HELLO RIG\\n\\x1dV\\x00").name == "paper.png"

@pytest.mark.needs("power")
def test_power(printer):
    printer.power_cycle()

@pytest.mark.needs("teleport")
def test_unknown(printer):
    pass
"""


def test_the_plugin_reports_what_a_target_cannot_and_writes_junit_and_html(tmp_path: Path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_suite.py").write_text(SUITE)
    Image.new("1", (384, 24), 1).save(tmp_path / "paper.png")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", "--target=sim"]
        + ["--junitxml=junit.xml", "--html=report.html", "--self-contained-html"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert (
        "not applicable on sim: the target cannot cut the module's power and switch it on again"
        in out
    )
    assert "needs('teleport'): no such capability" in out + done.stderr
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")}
    assert set(cases) == {"test_prints[sim]", "test_power[sim]", "test_unknown[sim]"}
    assert not list(cases["test_prints[sim]"])  # passed: no failure, no skip inside
    assert cases["test_power[sim]"].find("skipped") is not None
    assert cases["test_unknown[sim]"].find("error") is not None
    # The report embeds each extra as a data URL: what was sent, and the paper's PNG.
    report = html.unescape((tmp_path / "report.html").read_text())
    blobs = [base64.b64decode(b) for b in re.findall(r"base64,([A-Za-z0-9+/=]+)", report)]
    assert b"\\x1b@HELLO RIG\n\\x1dV\\x00" in blobs
    assert (tmp_path / "paper.png").read_bytes() in blobs


def test_wait_online_finds_a_module_again_after_its_port_hangs_up(tmp_path: Path):
    """A module that restarts while it is waited for (its port hangs up, as a USB device that
    goes away does) is opened again and asked again, not given up on."""
    from tillroll_host import hil

    server = socket.create_server(("127.0.0.1", 0))
    asked = []

    def module():
        for answer in (None, b"\x12"):  # hangs up on the first question, online on the next
            conn, _ = server.accept()
            with conn:
                asked.append(conn.recv(3))
                if answer:
                    conn.sendall(answer)
                    conn.recv(1)  # until the host closes

    thread = threading.Thread(target=module, daemon=True)
    thread.start()
    target = hil.Target(tmp_path)
    target.data_url = f"socket://127.0.0.1:{server.getsockname()[1]}"
    target.wait_online(timeout=10)
    thread.join(5)
    server.close()
    assert asked == [b"\x10\x04\x01", b"\x10\x04\x01"]
