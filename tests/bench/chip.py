"""Figures from the emulated RP2040 (boards/rp2040_chip), for `make bench` (run.py):

- chip_boot_ms: power-on to ready, in the chip's emulated time: a DLE EOT 1 is waiting on the
  data interface from before the power comes on, and ready is when its status byte comes back
  (the App reads its link). For a new module (the whole-module image: littlefs is made at first
  boot) and for a module switched on again.
- chip_heap_free_min: the lowest free heap (as gc.mem_free() counts it, garbage included)
  while the production image prints each bench receipt, sent on the data interface with a
  GS ( H process ID after its cut; the receipt is out when the ID comes back. The chip's heap
  is watched from outside (gc_probe.mjs), so nothing on the chip measures it. Beside it: the
  lowest free heap just after a collection (what live objects leave), the collections, and
  the garbage a dot line: bytes allocated less those freed at once (MicroPython frees a
  call's frame on the heap when it returns), as the unix port's garbage_per_line counts it.
- chip_cycles_per_line: cycles a dot line, stage by stage (stages.py) on the development image,
  by the chip's own clock (time.ticks_us(), 125 cycles a microsecond at 125 MHz), and for the
  whole firmware printing the receipt as above (every instruction the chip ran between the
  receipt's first byte and its ID coming back, idle polling included, over its dot lines).
- chip_cpu_load, chip_ms_per_line: the share of the receipt's emulated time the CPU ran, and
  that time a dot line, on the board's own drivers (PIO and DMA; with no mechanism twin on the
  pins here the sensors stay at their resting levels). chip_pins.py has the same figures with
  the twin on the pins, for each profile, beside the schedule efficiency.
- chip_update_verify_ms: one Ed25519 verification of a signed update manifest
  (bench_update.py), by the chip's own clock (the emulated time: cycles / 125 MHz), this tree's
  firmware/tillroll/update package run in place from the tests' ROMFS as frozen code runs.
- k_cycles_per_line: K's estimate of the same stage (the unix port's time x K), and
  k_over_chip, the estimate over the chip's figure; k_boot_ms, K's estimate of the App's
  start against the chip's time from USB up to ready.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1] / "host"), str(HERE.parent)]

from chip_target import ChipTarget, board_files  # noqa: E402
from tillroll_host.chip import ChipModule, elf_path, image_path  # noqa: E402
from tillroll_host.image import FLASH  # noqa: E402
from tillroll_host.paths import (  # noqa: E402
    BOARDS,
    FIRMWARE,
    FONTS,
    ROOT,
    SIM_HEAP,
    micropython,
    micropython_env,
)

STAGES = ("link", "parser", "render", "journal", "engine")
LINE_CYCLES = 156_250  # a dot line at 100 mm/s (1.25 ms) at 125 MHz
BUDGET = LINE_CYCLES // 2  # the whole per-line work under half of it (ARCHITECTURE.md)
_MARKER = b"\x1d(H\x06\x00\x30\x30"  # GS ( H fn 48: the process ID comes back once printed
_BENCH_ROM = (FLASH.update_at, FLASH.update)  # the update slot, unused by the bench
CASES = ("text", "chinese", "chinese_varied", "raster_logo", "qr", "pdf417")  # receipts.py's

_WRITE_RECEIPTS = """
import sys
import receipts
for name, build in receipts.CASES:
    with open(sys.argv[1] + "/" + name + ".bin", "wb") as f:
        if build is receipts.raster_logo:
            receipts.write_raster_logo(f)
        else:
            f.write(build())
"""


_APP_START = """
import os, time
from sim.board import SimBoard
from tillroll.app import App
from tillroll.escpos import graphics, replies
from tillroll.journal import journal, recovery
board = SimBoard(out_dir="/tmp", font_dir=os.getenv("TILLROLL_FONTS"))
best = None
for _ in range(3):
    t = time.ticks_us()
    App(board)
    us = time.ticks_diff(time.ticks_us(), t)
    best = us if best is None or us < best else best
print(best)
"""


def unix_app_start_us() -> int:
    """The unix port's time to build the App on the sim board, its modules imported first
    (frozen on the chip, they cost no loading there): the fastest of three."""
    env = {**os.environ, **micropython_env(), "TILLROLL_FONTS": str(FONTS)}
    done = subprocess.run(
        [micropython(), "-X", f"heapsize={SIM_HEAP}", "-c", _APP_START],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return int(done.stdout.split()[-1])


def receipts() -> dict[str, bytes]:
    """The bench receipts as receipts.py builds them, on the unix port."""
    env = {**os.environ, "MICROPYPATH": f"{HERE}:.frozen"}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "write.py"
        script.write_text(_WRITE_RECEIPTS)
        subprocess.run([micropython(), str(script), tmp], env=env, check=True, timeout=120)
        return {name: (Path(tmp) / f"{name}.bin").read_bytes() for name in CASES}


def row(metric, case, value, goal, unit):
    return {"metric": metric, "case": case, "value": value, "goal": goal, "unit": unit}


# ---- stages: the unix port and the chip --------------------------------------------------------


def _stage_rows(lines: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(case, stage) -> (microseconds, dot lines) from stages.py's output; render is derived
    as parser+render less the parser."""
    got = {}
    for line in lines:
        if line.startswith("{"):
            r = json.loads(line)
            got[(r["case"], r["stage"])] = (r["us"], r["lines"])
    for case in CASES:
        both, parser = got.get((case, "parser+render")), got.get((case, "parser"))
        if both and parser:
            got[(case, "render")] = (both[0] - parser[0], both[1])
    return got


def unix_stages() -> dict[tuple[str, str], tuple[int, int]]:
    env = {**os.environ, **micropython_env()}
    env["MICROPYPATH"] = f"{HERE}:" + env["MICROPYPATH"]
    env["TILLROLL_FONTS"] = str(FONTS)
    best: dict[tuple[str, str], tuple[int, int]] = {}
    for _ in range(3):  # the fastest of three: the unix port shares the machine
        done = subprocess.run(
            [micropython(), "-X", f"heapsize={SIM_HEAP}", str(HERE / "stages.py")],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        for key, value in _stage_rows(done.stdout.splitlines()).items():
            if key not in best or value[0] < best[key][0]:
                best[key] = value
    return best


def chip_stages() -> tuple[dict[tuple[str, str], tuple[int, int]], int]:
    """The stages on the development image; and the chip's clock in Hz."""
    paths = {
        "stages": HERE / "stages.py",
        "receipts": HERE / "receipts.py",
        "sim/__init__": BOARDS / "sim" / "__init__.py",
        "sim/clock": BOARDS / "sim" / "clock.py",
    }
    files = board_files(paths, {"TILLROLL_FONTS": "/rom/fonts"})
    # No scratch /tmp: the bench's journal is the journal's own region.
    target = ChipTarget(files=files, rom=_BENCH_ROM, scratch=False).start()
    try:
        repl = target.repl
        assert repl is not None
        repl.soft_reset()
        hz = int(repl.run("import machine\nprint(machine.freq())"))
        out = repl.run("import sys\nsys.path.insert(0, '/t')\nimport stages\nstages.main()", 3600)
    finally:
        target.stop()
    return _stage_rows(out.splitlines()), hz


def chip_update_verify_ms() -> float:
    """bench_update.py on the development image: the milliseconds of one verification."""
    update = FIRMWARE / "tillroll" / "update"
    paths = {"bench_update": HERE / "bench_update.py"}
    paths |= {
        f"update/{name}": update / f"{name}.py" for name in ("__init__", "ed25519", "sha512")
    }
    target = ChipTarget(files=board_files(paths, {}), rom=_BENCH_ROM).start()
    try:
        repl = target.repl
        assert repl is not None
        repl.soft_reset()
        out = repl.run(
            "import sys\nsys.path.insert(0, '/t')\nimport bench_update\nbench_update.main()", 600
        )
    finally:
        target.stop()
    return json.loads(out.strip().splitlines()[-1])["verify_us"] / 1000


# ---- the whole firmware: boot, heap, cycles while printing -------------------------------------


def _exchange(port: int, data: bytes, until: bytes, timeout: float = 900.0) -> bytes:
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while until not in got:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError(f"the chip closed its data port; got {got!r}")
            got += chunk
    return got


def _boot_ms(chip: ChipModule) -> tuple[float, float]:
    """A DLE EOT 1 sent before the chip is ready: the emulated ms from power-on to its
    status byte, and from its USB configured to that byte."""
    _exchange(chip.data_port, b"\x10\x04\x01", b"")  # connect, send; the reply comes below
    stats = chip.control("stats")
    deadline = time.monotonic() + 300
    while stats["first_in_ms"].get("cdc 0") is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the chip never answered DLE EOT 1 on its data interface")
        time.sleep(0.2)
        stats = chip.control("stats")
    return stats["first_in_ms"]["cdc 0"], stats["first_in_ms"]["cdc 0"] - stats["usb_ready_ms"]


def firmware_figures(lines: dict[str, int], k: float) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        chip = ChipModule(
            Path(tmp) / "flash.bin",
            uf2=image_path(),
            heap_elf=elf_path(),
            extra_args=["--idle", "skip"],
        )
        try:
            chip.start(ready=False)
            first, _ = _boot_ms(chip)
            chip.control("restart")  # the power goes and comes back: a module switched on
            again, after_usb = _boot_ms(chip)
            rows.append(
                row("chip_boot_ms", "new module (first power-on)", round(first, 1), None, "ms")
            )
            rows.append(row("chip_boot_ms", "power-on", round(again, 1), None, "ms"))
            # K has no boot to scale (no boot ROM, USB or frozen modules on the unix port): its
            # estimate is of the App's start, against the chip's time from USB up to ready.
            estimate = unix_app_start_us() * k / 1000
            rows.append(row("chip_boot_ms", "USB up to ready", round(after_usb, 1), None, "ms"))
            rows.append(row("k_boot_ms", "App built", round(estimate, 1), None, "ms"))
            rows.append(
                row(
                    "k_over_chip",
                    "boot: App built / USB up to ready",
                    round(estimate / after_usb, 2),
                    1,
                    "ratio",
                )
            )
            for i, (name, data) in enumerate(receipts().items()):
                pid = b"B%03d" % i
                chip.control("heap", reset=True)
                before = chip.control("stats")
                _exchange(chip.data_port, data + _MARKER + pid, b"\x37\x22" + pid)
                after = chip.control("stats")
                heap = after["heap"]
                cycles = after["cycles"] - before["cycles"]
                ms = after["emulated_ms"] - before["emulated_ms"]
                rows.append(
                    row("chip_heap_free_min", name, round(heap["low"] / 1024, 1), None, "KB")
                )
                after_gc = heap["low_after_collection"]
                rows.append(
                    row(
                        "chip_heap_free_after_gc_min",
                        name,
                        round(after_gc / 1024, 1) if after_gc is not None else None,
                        None,
                        "KB",
                    )
                )
                rows.append(row("chip_gc_collections", name, heap["collections"], None, "count"))
                garbage = heap["allocated"] - heap["freed"]  # what no gc_free gave back
                rows.append(
                    row("chip_garbage_per_line", name, round(garbage / lines[name], 1), 0, "bytes")
                )
                rows.append(
                    row(
                        "chip_cycles_per_line",
                        f"{name} whole firmware",
                        round(cycles / lines[name]),
                        BUDGET,
                        "cycles",
                    )
                )
                rows.append(
                    row("chip_cpu_load", name, round(cycles / (ms * 125_000), 3), 0.5, "ratio")
                )
                # The emulated time a dot line took: the mechanism's pace, or the CPU's.
                rows.append(row("chip_ms_per_line", name, round(ms / lines[name], 3), 1.25, "ms"))
        finally:
            chip.stop()
    return rows


def figures(k: float) -> list[dict]:
    unix = unix_stages()
    chip, hz = chip_stages()
    per_us = hz / 1e6
    rows = []
    lines = {}
    for case in CASES:
        total_chip = total_k = 0.0
        for stage in STAGES:
            if (case, stage) not in chip or (case, stage) not in unix:
                raise RuntimeError(f"no {stage} figure for {case}")
            us, n = chip[(case, stage)]
            unix_us, unix_n = unix[(case, stage)]
            on_chip = us * per_us / n
            estimate = unix_us * k * 125 / unix_n
            total_chip += on_chip
            total_k += estimate
            rows.append(
                row("chip_cycles_per_line", f"{case} {stage}", round(on_chip), None, "cycles")
            )
            rows.append(
                row("k_cycles_per_line", f"{case} {stage}", round(estimate), None, "cycles")
            )
            rows.append(
                row(
                    "k_over_chip",
                    f"{case} {stage}",
                    round(estimate / on_chip, 2) if on_chip > 0 else None,
                    1,
                    "ratio",
                )
            )
        rows.append(
            row("chip_cycles_per_line", f"{case} all stages", round(total_chip), BUDGET, "cycles")
        )
        rows.append(
            row("k_cycles_per_line", f"{case} all stages", round(total_k), BUDGET, "cycles")
        )
        rows.append(
            row("k_over_chip", f"{case} all stages", round(total_k / total_chip, 2), 1, "ratio")
        )
        lines[case] = chip[(case, "parser")][1]
    rows += firmware_figures(lines, k)
    rows.append(
        row(
            "chip_update_verify_ms", "95-byte manifest", round(chip_update_verify_ms()), None, "ms"
        )
    )
    rows.append(row("chip_clock_hz", "machine.freq()", hz, None, "Hz"))
    return rows


if __name__ == "__main__":
    print("\n".join(json.dumps(r) for r in figures(float(sys.argv[1]))))
