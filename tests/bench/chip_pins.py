"""Figures from the emulated RP2040's pins, for `make bench` (run.py `pins`): the production
image prints each bench receipt (receipts.py) on each mechanism profile, its head and motor
drivers moving the pins, and the mechanism twin on those pins (boards/sim/pin_twin.py) says
what came out. Nothing here is counted by the firmware itself.

- chip_schedule_efficiency: the limit model's shortest time for the rows the pins printed
  (boards/mechanisms/limit.py, independent of the engine: from the dots latched on each row
  and the head's temperature there, with the ramp, the supply cap and the pause rule) over the
  time the pins took, first step to last (the tear-off feed included in both);
- chip_cpu_load: the share of the receipt's emulated time the CPU ran, from its first byte to
  its GS ( H process ID coming back (printed and on flash): every instruction, the link, the
  parser, the layout and graphics, the journal, the engine and the drivers together;
- chip_ms_per_line: that time a dot line; chip_motor_starts: the times the motor started from
  rest in the receipt (1: it ran through; more: it stood, waiting for the CPU, and started
  again on the ramp); chip_ramp_violations: steps the twin saw change speed faster than the
  ramp allows.

Each profile is chosen with the service link's `mechanism` setting (the module is provisioned
in maintenance mode, the setting takes effect at the next power-on).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1] / "host"), str(HERE.parent)]

from chip import _MARKER, receipts, row  # noqa: E402
from test_chip_print import send_until, still  # noqa: E402

from tillroll_host import cli  # noqa: E402
from tillroll_host.chip import ChipModule, image_path  # noqa: E402

PROFILES = (("ltp02-245", 1), ("jx-2r-01", 2), ("pt486f-b", 3))  # settings.py's values
EFFICIENCY_GOAL = 0.95
LOAD_GOAL = 0.5


def _wait_running(chip: ChipModule) -> None:
    send_until(chip.data_port, b"\x10\x04\x01", b"", timeout=120)


def _choose(chip: ChipModule, value: int) -> None:
    """Provision the module (maintenance mode) and set its mechanism; restart into it."""
    url = f"socket://127.0.0.1:{chip.service_port}"
    _wait_running(chip)
    for argv in (["provision", "-p", url], ["settings", "set", f"mechanism={value}", "-p", url]):
        for _ in range(3):  # the service interface may still be starting
            if cli.main(argv) == 0:
                break
            time.sleep(5)
        else:
            raise RuntimeError(f"tillroll {' '.join(argv)} failed")
    chip.restart()
    _wait_running(chip)


def profile_figures(name: str, value: int, data: dict[str, bytes]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TILLROLL_KEYS"] = str(Path(tmp) / "keys")
        chip = ChipModule(
            Path(tmp) / "flash.bin",
            uf2=image_path(),
            service=True,
            feed_held=True,
            twin=name,
            paper=Path(tmp) / "paper",
        )
        with chip:
            _choose(chip, value)
            for i, (case, receipt) in enumerate(data.items()):
                chip.control("tear_off")
                twin0 = chip.control("mechanism")["twin"]
                pid = b"M%03d" % i
                before = chip.control("stats")
                started = time.monotonic()
                send_until(chip.data_port, receipt + _MARKER + pid, b"\x37\x22" + pid, 1800)
                after = chip.control("stats")
                still(chip, 600)
                bench = chip.control("bench")
                twin = chip.control("mechanism")["twin"]
                ms = after["emulated_ms"] - before["emulated_ms"]
                cycles = after["cycles"] - before["cycles"]
                label = f"{name} {case}"
                efficiency = bench["limit_us"] / bench["took_us"] if bench["took_us"] else None
                rows += [
                    row(
                        "chip_schedule_efficiency",
                        label,
                        round(efficiency, 3) if efficiency is not None else None,
                        EFFICIENCY_GOAL,
                        "ratio",
                    ),
                    row(
                        "chip_cpu_load",
                        label,
                        round(cycles / (ms * 125_000), 3),
                        LOAD_GOAL,
                        "ratio",
                    ),
                    row("chip_ms_per_line", label, round(ms / bench["rows"], 3), None, "ms"),
                    row("chip_motor_starts", label, bench["starts"], 1, "count"),
                    row(
                        "chip_ramp_violations",
                        label,
                        twin["ramp_violations"] - twin0["ramp_violations"],
                        0,
                        "count",
                    ),
                ]
                print(
                    f"  {label}: {bench['rows']} rows, {time.monotonic() - started:.0f} s wall",
                    flush=True,
                )
    return rows


def figures() -> list[dict]:
    data = receipts()
    rows = []
    for name, value in PROFILES:
        rows += profile_figures(name, value, data)
    return rows


if __name__ == "__main__":
    import json

    print("\n".join(json.dumps(r) for r in figures()))
