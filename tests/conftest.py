"""Shared test set-up.

Files named `mp_*.py` under tests/firmware are firmware tests: pytest collects each of their
`test_*` functions and runs it in its own MicroPython unix-port process with a board-sized
heap, never under CPython.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tillroll_host.paths import BOARD_HEAP, FONTS, SIM_HEAP, micropython, micropython_env

TESTS = Path(__file__).parent
FIRMWARE_TESTS = TESTS / "firmware"
_TIMEOUT = 120


def _heap(module: Path) -> str:
    """A board's heap; the sim's for a test file that builds the whole sim (it says so with a
    line `# heap: sim`)."""
    return SIM_HEAP if "\n# heap: sim\n" in module.read_text() else BOARD_HEAP


def _mp(module: Path, args: list[str]) -> subprocess.CompletedProcess:
    heap = _heap(module)
    env = {**os.environ, **micropython_env()}
    env["MICROPYPATH"] = f"{FIRMWARE_TESTS}:{TESTS}:" + env["MICROPYPATH"]
    env["TILLROLL_FONTS"] = str(FONTS)
    return subprocess.run(
        [micropython(), "-X", f"heapsize={heap}", str(TESTS / "mp_runner.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        cwd=FIRMWARE_TESTS,
    )


class MicroPythonFile(pytest.File):
    def collect(self):
        done = _mp(self.path, [self.path.stem])
        if done.returncode != 0:
            raise pytest.Collector.CollectError(
                f"{self.path.name} does not import under MicroPython:\n{done.stdout}{done.stderr}"
            )
        for name in done.stdout.split():
            yield MicroPythonTest.from_parent(self, name=name)


class MicroPythonTest(pytest.Item):
    def runtest(self):
        done = _mp(self.path, [self.path.stem, self.name])
        if done.returncode != 0 or "PASS" not in done.stdout:
            raise MicroPythonFailure(done.stdout + done.stderr)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return f"under MicroPython:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name} [micropython]"


class MicroPythonFailure(Exception):
    pass


def pytest_ignore_collect(collection_path: Path):
    # The runner itself is not a test file, though its name looks like one.
    return collection_path.name == "mp_runner.py" or None


def pytest_pycollect_makemodule(module_path: Path, parent):
    # pyproject's python_files lists mp_*.py: they come here, and never into CPython.
    if module_path.name.startswith("mp_"):
        return MicroPythonFile.from_parent(parent, path=module_path)
    return None


@pytest.fixture
def tesseract() -> str:
    """The OCR engine; its absence fails the test loudly (`make test` installs it)."""
    path = shutil.which("tesseract")
    if path is None:
        pytest.fail("tesseract is not installed: run `make test`, which installs tesseract-ocr")
    return path


@pytest.fixture
def node() -> str:
    """Node for the npm POS clients; its absence fails the test loudly (`make test` runs
    `npm ci`)."""
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed: the npm clients need it (`make test` sets them up)")
    if not (Path(__file__).parents[1] / "node_modules" / "receiptline").is_dir():
        pytest.fail("node_modules is missing: run `make test`, which runs `npm ci`")
    return path
