"""`make bench`: run every tests/bench/bench_*.py under MicroPython, then the figures from the
emulated RP2040 (chip.py), and collect them.

First it measures K, the RP2040 slowdown of this machine's unix port, in the same run:
K = 7984 ms / the unix port's time for the 1,000,000-iteration `add_test` loop (7984 ms is that
loop on an RP2040 at 125 MHz, MicroPython 1.23, published by the micropython_benchmarks
project). Each benchmark script gets K in TILLROLL_K and prints JSON lines
{"metric", "case", "value", "goal", "unit"}; they are collected into out/bench.json and shown
as a table. `run.py NAME...` runs only those (`render`, `engine`, ..., `chip`, `pins`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT / "host"), str(HERE)]

from tillroll_host.paths import (  # noqa: E402
    BOARD_HEAP,
    FONTS,
    SIM_HEAP,
    micropython,
    micropython_env,
)

RP2040_ADD_TEST_MS = 7984.0

ADD_TEST = """
import time
def add_test(n):
    p = [0, 1, 2]
    for i in range(n):
        C = p[1] + p[2]
best = None
for _ in range(3):
    t0 = time.ticks_us()
    add_test(1000000)
    dt = time.ticks_diff(time.ticks_us(), t0)
    best = dt if best is None or dt < best else best
print(best / 1000)
"""


def measure_k() -> tuple[float, float]:
    """(K, the unix port's add_test time in ms): best of three runs."""
    done = subprocess.run(
        [micropython(), "-c", ADD_TEST], capture_output=True, text=True, check=True
    )
    unix_ms = float(done.stdout.strip())
    return RP2040_ADD_TEST_MS / unix_ms, unix_ms


def run_bench(script: Path, k: float) -> list[dict] | None:
    env = {**os.environ, **micropython_env()}
    env["MICROPYPATH"] = f"{HERE}:" + env["MICROPYPATH"]
    env["TILLROLL_FONTS"] = str(FONTS)
    env["TILLROLL_K"] = repr(k)
    # A board's heap; the sim's for a benchmark that runs the mechanism twin beside the engine
    # (it says so with a line `# heap: sim`), as the sim does.
    heap = SIM_HEAP if "\n# heap: sim\n" in script.read_text() else BOARD_HEAP
    done = subprocess.run(
        [micropython(), "-X", f"heapsize={heap}", str(script)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        print(f"{script.name} failed:\n{done.stdout}{done.stderr}", file=sys.stderr)
        return None
    rows = []
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            rows.append(json.loads(line))
        elif line.strip():
            print(f"  {script.stem}: {line}")
    return rows


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main() -> int:
    only = sys.argv[1:]
    k, unix_ms = measure_k()
    print(
        f"K = {k:.1f}  (RP2040 add_test {RP2040_ADD_TEST_MS:.0f} ms / unix port {unix_ms:.1f} ms)"
    )
    rows = [
        {"metric": "K", "case": "add_test", "value": round(k, 2), "goal": None, "unit": "x"},
    ]
    failed: list[str] = []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem.removeprefix("bench_") not in only:
            continue
        print(f"running {script.name} ...", flush=True)
        got = run_bench(script, k)
        if got is None:
            failed.append(script.name)
        else:
            rows += got
    if not only or "chip" in only:
        print("running chip.py (the emulated RP2040) ...", flush=True)
        try:
            from chip import figures

            rows += figures(k)
        except Exception as e:  # the table of what did run still comes out
            print(f"chip.py failed: {type(e).__name__}: {e}", file=sys.stderr)
            failed.append("chip.py")
    if not only or "pins" in only:
        print("running chip_pins.py (the emulated RP2040's pins, each profile) ...", flush=True)
        try:
            from chip_pins import figures as pin_figures

            rows += pin_figures()
        except Exception as e:
            print(f"chip_pins.py failed: {type(e).__name__}: {e}", file=sys.stderr)
            failed.append("chip_pins.py")
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(rows, indent=1) + "\n")
    widths = (34, 30, 12, 10)
    print()
    print(
        f"{'metric':{widths[0]}} {'case':{widths[1]}} {'value':>{widths[2]}} {'goal':>{widths[3]}}  unit"
    )
    for r in rows:
        print(
            f"{r['metric']:{widths[0]}} {r['case']:{widths[1]}} {fmt(r['value']):>{widths[2]}} "
            f"{fmt(r['goal']):>{widths[3]}}  {r['unit']}"
        )
    print(f"\nwritten: {out / 'bench.json'}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
