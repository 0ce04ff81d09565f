"""The power-cut sweeps, run from the host: `make powercut` runs them whole, the test suite a
sample drawn from a fixed seed within a time budget.

- the whole module (tests/firmware/powercut.py): every flash program and erase of the
  scenario's first three boots (the two that build the history, the main one), cut cleanly
  and torn in TEARS shapes drawn at random; after each, the recovery boot cut at every one of
  its own operations, cleanly and torn; then the last boot; every print compared dot for dot.
- the journal alone (tests/firmware/journal_sweep.py): the same at the journal's level.

    python tests/sweep.py [--tears N] [--seed N] [--module-only | --journal-only]
    python tests/sweep.py --sample SECONDS [--seed N]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent
FIRMWARE_TESTS = TESTS / "firmware"
sys.path.insert(0, str(TESTS.parent / "host"))

from tillroll_host.paths import BOARD_HEAP, FONTS, micropython, micropython_env  # noqa: E402

# The module sweep holds a few boots in one process, each leaving the heap in pieces the next
# must fit between: more than the sim's heap. The module itself runs on a board-sized heap in
# every other test.
_MODULE_HEAP = "512k"


class SweepFailed(AssertionError):
    pass


def _env(root: Path | None = None, health: bool = True) -> dict[str, str]:
    env = {**os.environ, **micropython_env()}
    if not health:
        env["TILLROLL_SWEEP_HEALTH"] = "0"  # the journal's own report not checked
    env["MICROPYPATH"] = f"{FIRMWARE_TESTS}:{TESTS}:" + env["MICROPYPATH"]
    env["TILLROLL_FONTS"] = str(FONTS)
    if root is not None:
        env["TILLROLL_POWERCUT"] = str(root)
    return env


def _mp(
    args: list[str], heap: str, root: Path | None = None, timeout: int = 600, health=True
) -> str:
    done = subprocess.run(
        [micropython(), "-X", f"heapsize={heap}", *args],
        env=_env(root, health),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=FIRMWARE_TESTS,
    )
    if done.returncode != 0:
        raise SweepFailed(
            " ".join(args[1:]) + ":\n" + (done.stdout[-2000:] + done.stderr[-3000:]).strip()
        )
    return done.stdout


@dataclass
class Figures:
    first_cuts: int = 0
    recovery_cuts: int = 0
    compared: int = 0
    acked: int = 0
    shapes: Counter = field(default_factory=Counter)
    operations: list[int] = field(default_factory=list)

    def add(self, line: str) -> None:
        m = re.match(r"ok .*: (\d+) prints compared, (\d+) acknowledged, tears (.*)$", line)
        assert m, line
        if ", recovery cut" in line:
            self.recovery_cuts += 1
        else:
            self.first_cuts += 1
        self.compared += int(m.group(1))
        self.acked += int(m.group(2))
        for shape in m.group(3).split("; "):
            if shape != "-":
                self.shapes[shape] += 1

    def report(self, what: str) -> str:
        lines = [
            f"{what}: {self.first_cuts} cut points in the scenario "
            f"(flash operations per boot {self.operations}), {self.recovery_cuts} during "
            f"recovery; {self.compared} prints compared dot for dot; "
            f"{self.acked} acknowledgements checked"
        ]
        for shape, n in sorted(self.shapes.items()):
            lines.append(f"  {shape}: {n}")
        return "\n".join(lines)


class ModuleSweep:
    """The whole-module sweep, one MicroPython process a cut point."""

    def __init__(self, root: Path, bug: str = "", health: bool = True):
        self.root = root
        self.bug = [bug] if bug else []
        self.health = health  # check the journal's own health report too
        self.figures = Figures()

    def reference(self) -> list[int]:
        out = _mp(["powercut.py", "reference", *self.bug], _MODULE_HEAP, self.root)
        ops = [int(n) for n in re.search(r"operations ([\d ]+)", out).group(1).split()]
        self.figures.operations = ops
        return ops

    def check(self, cut: int, seed: int, rcut: int, rseed: int) -> str:
        args = ["powercut.py", "check", str(cut), str(seed), str(rcut), str(rseed), *self.bug]
        out = _mp(args, _MODULE_HEAP, self.root, health=self.health)
        line = [x for x in out.splitlines() if x.startswith("ok ")][-1]
        self.figures.add(line)
        return line

    def recovery_ops(self, cut: int, seed: int) -> int:
        args = ["powercut.py", "check", str(cut), str(seed), "-1", "-1", *self.bug]
        out = _mp(args, _MODULE_HEAP, self.root)
        return int(re.search(r"recovery operations (\d+)", out).group(1))

    def full(self, tears: int, seed: int, progress=print) -> None:
        ops = self.reference()
        total = sum(ops[:3])
        progress(f"module: {total} flash operations to cut (per boot: {ops})")
        start = time.monotonic()
        for cut in range(1, total + 1):
            seeds = [-1] + [seed * 7919 + cut * 31 + t for t in range(tears)]
            for s in seeds:
                self.check(cut, s, 0, -1)
                for rcut in range(1, self.recovery_ops(cut, s) + 1):
                    self.check(cut, s, rcut, -1)
                    self.check(cut, s, rcut, seed * 104729 + cut * 7 + rcut)
            elapsed = time.monotonic() - start
            progress(
                f"  cut {cut}/{total}: {self.figures.recovery_cuts} recovery cuts so far, "
                f"{elapsed:.0f} s"
            )

    def sample(self, budget_s: float, seed: int) -> None:
        """Cut points drawn from `seed` until the budget is spent (whole checks only)."""
        ops = self.reference()
        total = sum(ops[:3])
        draw = random.Random(seed)
        start = time.monotonic()
        while time.monotonic() - start < budget_s:
            cut = draw.randint(1, total)
            s = -1 if draw.random() < 1 / 3 else draw.randrange(1 << 30)
            rcut = draw.randint(0, 3)
            rseed = -1 if draw.random() < 1 / 3 else draw.randrange(1 << 30)
            self.check(cut, s, rcut, rseed)

    def first_failure(self, budget_s: float) -> str:
        """The first cut point, in order, at which the sweep fails (for a deliberate bug)."""
        ops = self.reference()
        start = time.monotonic()
        for cut in range(1, sum(ops[:3]) + 1):
            if time.monotonic() - start > budget_s:
                break
            try:
                self.check(cut, -1, 0, -1)
            except SweepFailed as e:
                return str(e)
        raise AssertionError(f"the sweep passed a broken module ({self.figures.first_cuts} cuts)")


def journal_sweep(tears: int, seed: int, root: Path, progress=print) -> None:
    """The journal-level sweep, whole, in one MicroPython process, its progress as it goes."""
    root.mkdir(parents=True, exist_ok=True)
    code = (
        "import journal_sweep as s\n"
        f"t = s.sweep(seed={seed}, tears={tears}, progress=True)\n"
        "t.report()\n"
    )
    proc = subprocess.Popen(
        [micropython(), "-X", f"heapsize={BOARD_HEAP}", "-c", code],
        env=_env(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=FIRMWARE_TESTS,
    )
    tail = []
    for line in proc.stdout:
        progress(line.rstrip())
        tail = (tail + [line])[-20:]
    if proc.wait() != 0:
        raise SweepFailed("journal sweep:\n" + "".join(tail))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tears", type=int, default=2, help="tear shapes drawn at each cut point")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sample", type=float, default=0, help="a sample of this many seconds")
    p.add_argument("--module-only", action="store_true")
    p.add_argument("--journal-only", action="store_true")
    args = p.parse_args(argv)
    root = Path(os.getenv("TILLROLL_POWERCUT") or "/tmp/tillroll-powercut")
    started = time.monotonic()
    if not args.module_only:
        print("journal: every cut of its scenario and of its recovery boot ...", flush=True)
        try:
            journal_sweep(args.tears, args.seed, root, lambda line: print(line, flush=True))
        except SweepFailed as e:
            print(f"FAILED: {e}", file=sys.stderr)
            return 1
    if not args.journal_only:
        sweep = ModuleSweep(root)
        try:
            if args.sample:
                sweep.sample(args.sample, args.seed)
            else:
                sweep.full(args.tears, args.seed, lambda line: print(line, flush=True))
        except SweepFailed as e:
            print(f"FAILED: {e}", file=sys.stderr)
            print(sweep.figures.report("module (until the failure)"))
            return 1
        print(sweep.figures.report("module"))
    print(f"{time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
