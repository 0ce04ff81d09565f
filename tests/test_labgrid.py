"""labgrid on loopback (docs/rig.md, "Racks with labgrid"): a coordinator, and an exporter that
exports two emulated rigs as two places (host/labgrid/exporter.yaml); the places are acquired
with labgrid-client, and tests/hil's smoke tests run on them in labgrid's virtualenv, two
pytest-xdist workers with a place each, the rigs' links found through labgrid's drivers
(tillroll_host.lab, host/labgrid/env.yaml)."""

from __future__ import annotations

import os
import subprocess
import time
import xml.etree.ElementTree as ET
from contextlib import ExitStack
from pathlib import Path

import pytest

from tillroll_host.rig import EmulatedRig, RigLink
from tillroll_host.sim import free_port

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / ".venv" / "labgrid" / "bin"
CONFIG = ROOT / "host" / "labgrid"
EXPORTER = "loopback"
PLACES = ["tillroll-1", "tillroll-2"]  # as the exporter names them, a rig each


class Lab:
    """labgrid's coordinator and an exporter on loopback, each a process with its log."""

    def __init__(self, work: Path, rigs: list[EmulatedRig]):
        self.work = work
        self.address = f"127.0.0.1:{free_port()}"
        port = lambda url: url.rsplit(":", 1)[1]  # noqa: E731
        self.env = {
            **os.environ,
            "LG_COORDINATOR": self.address,
            "TILLROLL_PLACES": " ".join(PLACES),
            "TILLROLL_RIGS": " ".join(":".join(map(port, r.urls().values())) for r in rigs),
        }
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def spawn(self, name: str, *argv: str) -> Path:
        log = self.work / f"{name}.log"
        cwd = self.work / name  # the coordinator keeps its places in its working directory
        cwd.mkdir()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(LAB / argv[0]), *argv[1:]],
                cwd=cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append((proc, log))
        return log

    def wait_for(self, log: Path, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"no {text!r} in {log.name}:\n{self.logs()}"
            time.sleep(0.1)

    def client(self, *argv: str, place: str = "") -> str:
        where = ["-p", place] if place else []
        done = subprocess.run(
            [str(LAB / "labgrid-client"), "-x", self.address, *where, *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"labgrid-client {' '.join(argv)}: {done.stderr}"
        return done.stdout

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for _, log in self.procs)

    def stop(self) -> None:
        for proc, _ in reversed(
            self.procs
        ):  # the exporter first: the coordinator then ends at once
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_the_smoke_suite_runs_on_emulated_rigs_exported_by_labgrid(tmp_path):
    if not (LAB / "labgrid-coordinator").exists():
        pytest.fail("labgrid is not installed in .venv/labgrid: run `make labgrid`")
    with ExitStack() as stack:
        rigs = [stack.enter_context(EmulatedRig(tmp_path / p)) for p in PLACES]
        lab = Lab(tmp_path, rigs)
        stack.callback(lab.stop)
        log = lab.spawn("coordinator", "labgrid-coordinator", "-l", lab.address)
        lab.wait_for(log, "listening on")
        exporter = ["labgrid-exporter", "-c", lab.address, "-n", EXPORTER]
        lab.spawn("exporter", *exporter, "--hostname", "127.0.0.1", str(CONFIG / "exporter.yaml"))
        deadline = time.monotonic() + 60
        while f"{EXPORTER}/{PLACES[-1]}/TillrollRig" not in lab.client("resources"):
            assert time.monotonic() < deadline, lab.logs()
            time.sleep(0.3)
        for place in PLACES:
            lab.client("create", place=place)
            lab.client("add-match", f"{EXPORTER}/{place}/*", place=place)
            lab.client("acquire", place=place)
        junit = tmp_path / "junit.xml"
        suite = subprocess.run(
            [str(LAB / "python"), "-m", "pytest", "tests/hil", "-m", "smoke", "--target=rig"]
            + ["--lg-env", str(CONFIG / "env.yaml"), "-n", "2", "--dist", "loadfile"]
            + ["-p", "no:cacheprovider", "-q", "--junitxml", str(junit)]
            + ["--basetemp", str(tmp_path / "suite")],
            cwd=ROOT,
            env=lab.env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        for place in PLACES:
            lab.client("release", place=place)
        assert suite.returncode == 0, suite.stdout[-6000:] + suite.stderr[-3000:]
        # Each worker printed on the rig of its own place: each rig's controller saw its head
        # print (the smoke tests of test_link.py and test_heat.py print, a file a worker).
        for place, rig in zip(PLACES, rigs, strict=True):
            link = RigLink(rig.urls()["rig_url"])
            counts = link.counts()
            link.close()
            assert counts["activations"] > 0, (place, counts)
    outcomes = {
        c.get("name"): [child.tag for child in c]
        for c in ET.parse(junit).getroot().iter("testcase")
    }
    # Every smoke test ran on a rig and passed: none skipped.
    assert len(outcomes) >= 4 and all(n.endswith("[rig]") for n in outcomes), outcomes
    assert not any(outcomes.values()), outcomes
