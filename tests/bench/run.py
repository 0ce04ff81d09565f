"""`make bench`: run every tests/bench/bench_*.py under MicroPython and collect its numbers.

K, the RP2040 slowdown factor, is measured first in the same run: 7984 ms (the 1M-iteration
add_test loop on an RP2040 at 125 MHz) over the unix port's time for the same loop here. Each
benchmark prints one JSON object a line, {"metric", "case", "value", "goal", "unit"}; they go to
out/bench.json and a table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "host"))

from tillroll_host.paths import BOARD_HEAP, FONTS, micropython, micropython_env  # noqa: E402

RP2040_ADD_TEST_MS = 7984
ADD_TEST = """
import time
def add_test(n):
    p = [0, 1, 2]
    for i in range(n):
        C = p[1] + p[2]
t = time.ticks_us()
add_test(1000000)
print(time.ticks_diff(time.ticks_us(), t))
"""


def measure_k() -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(ADD_TEST)
    try:
        best = None
        for _ in range(5):  # the fastest of five: a busy machine only ever slows it down
            out = subprocess.run(
                [micropython(), f.name], capture_output=True, text=True, check=True
            )
            us = int(out.stdout.split()[-1])
            best = us if best is None or us < best else best
    finally:
        os.unlink(f.name)
    return RP2040_ADD_TEST_MS / (best / 1000)


def main() -> int:
    k = measure_k()
    env = {**os.environ, **micropython_env()}
    bench = ROOT / "tests" / "bench"
    env["MICROPYPATH"] = f"{bench}:" + env["MICROPYPATH"]
    env["TILLROLL_FONTS"] = str(FONTS)
    env["TILLROLL_K"] = f"{k:.2f}"
    rows = [
        {
            "metric": "rp2040_slowdown_k",
            "case": "add_test",
            "value": round(k, 1),
            "goal": None,
            "unit": "x",
        }
    ]
    failed = []
    for script in sorted(bench.glob("bench_*.py")):
        t0 = time.monotonic()
        done = subprocess.run(
            [micropython(), "-X", f"heapsize={BOARD_HEAP}", str(script)],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
        if done.returncode:
            failed.append(script.name)
            print(f"{script.name} failed:\n{done.stdout}{done.stderr}", file=sys.stderr)
        print(f"{script.name}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(rows, indent=1) + "\n")
    print(f"{'metric':32} {'case':28} {'value':>10} {'goal':>8}  unit")
    for r in rows:
        goal = "" if r["goal"] is None else r["goal"]
        print(f"{r['metric']:32} {r['case']:28} {r['value']:>10} {goal!s:>8}  {r['unit']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
