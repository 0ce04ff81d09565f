"""Power-cut safety the way littlefs proves its own: the whole simulated module runs a
scenario (three receipts acknowledged by GS ( H, a paper-out in the middle of one, a
technician's reprint) and loses power at each flash program and erase in turn, cleanly and
with that operation torn; then it starts again on the same flash image. For every cut point:
the journal mounts with its sequence and chain intact, every acknowledged receipt came out
whole at least once in the PNGs, none came out twice without the COPY banners, and nothing is
left interrupted (tests/firmware/powercut.py does the checks under MicroPython).

The sweep holds one module after another in one process, so it runs with a larger heap than a
board's; the module itself runs on a board-sized heap in every other test."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tillroll_host.paths import FONTS, micropython, micropython_env

TESTS = Path(__file__).parent
FIRMWARE_TESTS = TESTS / "firmware"
_HEAP = "512k"  # the sim's heap and room for several boots in one process (each leaves
# the heap in pieces the next must fit between)
_PER_PROCESS = 4  # cut points a process checks before the next starts on a clean heap


def _run(first: int, last: int, torn: bool) -> str:
    env = {**os.environ, **micropython_env()}
    env["MICROPYPATH"] = f"{FIRMWARE_TESTS}:{TESTS}:" + env["MICROPYPATH"]
    env["TILLROLL_FONTS"] = str(FONTS)
    args = [micropython(), "-X", f"heapsize={_HEAP}", "powercut.py", str(first), str(last)]
    done = subprocess.run(
        args + (["torn"] if torn else []),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=FIRMWARE_TESTS,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_power_cut_at_every_flash_operation_loses_and_duplicates_nothing():
    first = _run(1, 0, False)
    ops = int(re.search(r"operations (\d+)", first).group(1))
    assert ops > 10, first
    covered = 0
    for torn in (False, True):
        for start in range(1, ops + 1, _PER_PROCESS):
            out = _run(start, start + _PER_PROCESS - 1, torn)
            covered += len(re.findall(r"^ok cut", out, re.M))
    print(f"power-cut points covered: {covered} ({ops} flash operations, clean and torn)")
    assert covered == 2 * ops
