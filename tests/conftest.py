"""Shared test set-up.

Files named `mp_*.py` under tests/firmware are firmware tests: pytest collects each of their
`test_*` functions and runs it in its own MicroPython unix-port process with a board-sized
heap, never under CPython. `--target` (Tillroll's pytest plugin, tillroll_host.pytest_plugin,
which places tests/hil the same way) says where they run (tests/chip_target.py):

    pytest                   the unix port, and the chip's smoke subset on the emulated RP2040
    pytest --target=sim      the unix port only
    pytest --target=chip     every firmware test that fits the chip, on the emulated RP2040

A test on the chip is named `test_x[rp2040]`. tests/test_chip_clients.py prints one client
receipt on the chip in plain `pytest`, and the others with `--target=chip`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from chip_target import ChipTarget, is_smoke, unix_only
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
        target = self.config.getoption("target")
        for name in done.stdout.split():
            if target != "chip":
                yield MicroPythonTest.from_parent(self, name=name)
            if target == "chip" or (target == "default" and is_smoke(self.path.stem, name)):
                yield ChipTest.from_parent(self, name=f"{name}[rp2040]", test=name)


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


class ChipTest(pytest.Item):
    """A firmware test on the emulated RP2040 (tests/chip_target.py)."""

    def __init__(self, *, test: str, **kwargs):
        super().__init__(**kwargs)
        self.test = test

    def runtest(self):
        target = _chip(self.config)
        try:
            passed, report = target.run(self.path.stem, self.test)
        except Exception:
            _stop_chip(self.config)  # its REPL is in no known state: the next test starts anew
            raise
        if not passed:
            raise MicroPythonFailure(report)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return f"on the emulated RP2040:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name} [emulated RP2040]"


_CHIP = pytest.StashKey[dict]()


def _chip(config) -> ChipTarget:
    """The session's emulated chip, started at its first test. A chip that would not start
    fails every test that needs it, with the same reason."""
    state = config.stash.setdefault(_CHIP, {})
    if "error" in state:
        raise state["error"]
    if "target" not in state:
        target = ChipTarget()
        try:
            target.start()
        except Exception as e:
            target.stop()
            state["error"] = e
            raise
        state["target"] = target
    return state["target"]


def _stop_chip(config) -> None:
    target = config.stash.get(_CHIP, {}).pop("target", None)
    if target is not None:
        target.stop()


def pytest_collection_modifyitems(config, items):
    # Tests that stay on the unix port are deselected on the chip, and say so; the chip's tests
    # run last, one after another, so its emulator runs only while they do.
    chip, other, deselected = [], [], []
    for item in items:
        if isinstance(item, ChipTest):
            reason = unix_only(item.path.stem, item.test)
            (deselected if reason else chip).append(item)
        else:
            other.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = other + chip


def pytest_runtest_teardown(item, nextitem):
    if isinstance(item, ChipTest) and not isinstance(nextitem, ChipTest):
        _stop_chip(item.config)


def pytest_sessionfinish(session):
    _stop_chip(session.config)


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
