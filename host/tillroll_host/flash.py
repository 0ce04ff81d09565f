"""Flashing a module in BOOTSEL mode with a UF2 file (`tillroll flash`, docs/technician.md).

A module in the field keeps what its flash holds past the firmware and fonts: by default only
the UF2's blocks below the filesystem (docs/hardware.md, "Flash map") are written, and the
settings, update slot and journal stay as they were. `factory` writes every block: a new
module, or one to be wiped.

Two ways in, as classes: `Uf2Drive` copies the file to the RPI-RP2 drive the boot ROM offers,
`Picotool` hands it to `picotool load`. Both see the same checked, selected blocks.
"""

from __future__ import annotations

import os
import shutil
import string
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from .errors import FatalError
from .image import FLASH, RP2040_FAMILY, UF2_MAGIC, XIP_BASE, uf2_write

_BLOCK = 512
_PAGE = 256
_NOT_MAIN_FLASH = 0x1
_FAMILY_PRESENT = 0x2000
# Where operating systems mount a USB drive. Windows: every drive letter.
DRIVE_GLOBS = ["/media/*/*", "/run/media/*/*", "/mnt/*", "/Volumes/*"]
BOOTSEL_HOW = (
    "hold BOOTSEL while plugging the module in: an RPI-RP2 drive appears (or give --drive DIR)"
)
# Blocks past the firmware and fonts, by region: what a field flash leaves out.
REGIONS = (
    ("filesystem (settings, NV logos)", FLASH.filesystem_at, FLASH.filesystem),
    ("update slot", FLASH.update_at, FLASH.update),
    ("journal", FLASH.journal_at, FLASH.journal),
)


@dataclass
class Uf2:
    """A checked UF2 file for the RP2040: its pages by flash offset, in file order."""

    name: str
    pages: dict[int, bytes]

    def below(self, end: int) -> Uf2:
        return Uf2(self.name, {at: p for at, p in self.pages.items() if at < end})

    def data(self) -> bytes:
        """The file to write: its blocks numbered again, so a module sees a whole file, and
        each sector it touches written whole (`uf2_write`)."""
        return uf2_write({XIP_BASE + at: p for at, p in self.pages.items()})

    def count_in(self, start: int, size: int) -> int:
        return sum(1 for at in self.pages if start <= at < start + size)


def read_uf2(path: Path) -> Uf2:
    """The pages a UF2 file writes into an RP2040's flash, or a FatalError naming what is
    wrong with it: every check the boot ROM makes, so a module never takes half of it."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise FatalError(f"cannot read {path}: {e.strerror or e}") from None
    name = Path(path).name
    if len(data) < _BLOCK or struct.unpack_from("<II", data)[:2] != UF2_MAGIC[:2]:
        raise FatalError(f"{name} is not a UF2 file (it does not start with a UF2 block)")
    if len(data) % _BLOCK:
        raise FatalError(
            f"{name} is truncated: {len(data)} bytes is not a whole number of 512-byte blocks"
        )
    count = len(data) // _BLOCK
    pages: dict[int, bytes] = {}
    total = None
    for n in range(count):
        at = n * _BLOCK
        start0, start1, flags, address, size, number, blocks, family = struct.unpack_from(
            "<IIIIIIII", data, at
        )
        end = struct.unpack_from("<I", data, at + 508)[0]
        if (start0, start1, end) != UF2_MAGIC:
            raise FatalError(f"{name}: block {n} has the wrong magic numbers (not a UF2 block)")
        if total is None:
            total = blocks
        if number != n or blocks != total:
            raise FatalError(
                f"{name}: block {n} calls itself block {number} of {blocks}, the first "
                f"block says {total}: the blocks are out of order or from two files"
            )
        if flags & _NOT_MAIN_FLASH:
            continue
        if not flags & _FAMILY_PRESENT or family != RP2040_FAMILY:
            what = f"family 0x{family:08x}" if flags & _FAMILY_PRESENT else "no family ID"
            raise FatalError(
                f"{name}: block {n} has {what}, not the RP2040's (0x{RP2040_FAMILY:08x}): "
                "an image for another chip"
            )
        offset = address - XIP_BASE
        if not 0 <= offset < FLASH.size or offset + size > FLASH.size:
            raise FatalError(
                f"{name}: block {n} writes at 0x{address:08x}, outside the module's 2 MiB "
                f"flash (0x{XIP_BASE:08x}-0x{XIP_BASE + FLASH.size - 1:08x})"
            )
        if size != _PAGE or offset % _PAGE:
            raise FatalError(
                f"{name}: block {n} writes {size} bytes at 0x{address:08x}: the RP2040 takes "
                "whole 256-byte pages"
            )
        if offset in pages:
            raise FatalError(f"{name}: block {n} writes 0x{address:08x} a second time")
        pages[offset] = data[at + 32 : at + 32 + size]
    if total != count:
        raise FatalError(f"{name} is truncated: it holds {count} of its {total} blocks")
    if not pages:
        raise FatalError(f"{name} writes nothing into the RP2040's flash")
    return Uf2(name, pages)


# ---- where the image goes ---------------------------------------------------------------------


def is_bootsel_drive(path: Path) -> bool:
    """An RP2040 boot ROM's drive: INFO_UF2.TXT saying Board-ID: RPI-RP2."""
    try:
        return "Board-ID: RPI-RP2" in (path / "INFO_UF2.TXT").read_text(errors="replace")
    except OSError:
        return False


def find_drives() -> list[Path]:
    """Every mounted RPI-RP2 drive."""
    if os.name == "nt":
        candidates = [f"{letter}:\\" for letter in string.ascii_uppercase]
    else:
        candidates = sorted({p for pattern in DRIVE_GLOBS for p in glob(pattern)})
    return [Path(c) for c in candidates if is_bootsel_drive(Path(c))]


class Uf2Drive:
    """Copy the file to the RPI-RP2 drive; the module restarts once it has the last block."""

    _CHUNK = 128  # blocks between syncs: the bar shows what reached the module

    def __init__(self, drive: Path):
        self.drive = Path(drive)
        if not self.drive.is_dir():
            raise FatalError(f"{drive}: no such folder; {BOOTSEL_HOW}")
        if not is_bootsel_drive(self.drive):
            raise FatalError(
                f"{drive} is not a module in BOOTSEL mode (no INFO_UF2.TXT saying "
                f"Board-ID: RPI-RP2); {BOOTSEL_HOW}"
            )
        if not os.access(self.drive, os.W_OK):
            raise FatalError(f"the drive {drive} is not writable (mounted read-only?)")

    def __str__(self) -> str:
        return f"the drive {self.drive}"

    def write(self, name: str, data: bytes, progress: Callable[[int, int], None]) -> None:
        target = self.drive / name
        blocks = len(data) // _BLOCK
        done = 0
        try:
            with open(target, "wb") as f:
                for done in range(0, blocks, self._CHUNK):
                    f.write(data[done * _BLOCK : (done + self._CHUNK) * _BLOCK])
                    f.flush()
                    os.fsync(f.fileno())
                    progress(min(done + self._CHUNK, blocks), blocks)
        except OSError as e:
            if done + self._CHUNK >= blocks and not is_bootsel_drive(self.drive):
                return  # the module took the last block and restarted: its drive is gone
            raise FatalError(
                f"writing to the drive {self.drive} failed after {done} of {blocks} blocks: "
                f"{e.strerror or e}. The module may be half written: flash it again"
            ) from None


class Picotool:
    """`picotool load -x`: picotool finds the module in BOOTSEL mode over USB itself."""

    def __init__(self, exe: str):
        self.exe = exe

    def __str__(self) -> str:
        return "the module through picotool"

    def write(self, name: str, data: bytes, progress: Callable[[int, int], None]) -> None:
        with tempfile.TemporaryDirectory(prefix="tillroll-flash-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            # picotool draws its own progress bars and says what went wrong.
            done = subprocess.run([self.exe, "load", "-x", str(path)])
        if done.returncode:
            raise FatalError(
                f"picotool load failed (status {done.returncode}, its words above); is the "
                f"module in BOOTSEL mode? {BOOTSEL_HOW}"
            )


def choose_target(drive: str | None, picotool: bool) -> Uf2Drive | Picotool:
    """`--drive DIR`, `--picotool`, else the one RPI-RP2 drive mounted, else picotool on PATH."""
    if drive and picotool:
        raise FatalError("give --drive DIR or --picotool, not both")
    if drive:
        return Uf2Drive(Path(drive))
    exe = shutil.which("picotool")
    if picotool:
        if exe is None:
            raise FatalError("picotool is not on PATH: install it, or copy to the RPI-RP2 drive")
        return Picotool(exe)
    drives = find_drives()
    if len(drives) > 1:
        names = ", ".join(str(d) for d in drives)
        raise FatalError(f"several modules in BOOTSEL mode ({names}): give --drive DIR")
    if drives:
        return Uf2Drive(drives[0])
    if exe is not None:
        return Picotool(exe)
    raise FatalError(f"no module in BOOTSEL mode found: {BOOTSEL_HOW}")


# ---- the command ------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a flash writes, and what it leaves out, by region."""

    image: Uf2
    written: Uf2
    left_out: list[tuple[str, int]]  # (region, blocks)


def plan(path: Path, factory: bool) -> Plan:
    image = read_uf2(path)
    if factory:
        return Plan(image, image, [])
    written = image.below(FLASH.filesystem_at)
    if not written.pages:
        raise FatalError(
            f"{image.name} writes nothing below the filesystem (0x{FLASH.filesystem_at:06x}): "
            "no firmware or fonts in it"
        )
    left_out = [(region, image.count_in(at, size)) for region, at, size in REGIONS]
    return Plan(image, written, [(r, n) for r, n in left_out if n])


def _blocks(n: int) -> str:
    return f"{n} block{'s' if n != 1 else ''}"


def confirm_factory(yes: bool, where: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise FatalError(
            "flash --factory erases the module's settings, update slot and journal: give "
            "--yes, or run it at a terminal to confirm"
        )
    answer = input(
        f"--factory erases the settings, the update slot and the journal (every receipt) of "
        f"the module on {where}. Go on? [y/N] "
    )
    if answer.strip().lower() not in ("y", "yes"):
        raise FatalError("not confirmed: nothing written")


def flash(
    path: Path,
    drive: str | None = None,
    picotool: bool = False,
    factory: bool = False,
    yes: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
    say: Callable[[str], None] = print,
) -> Plan:
    """Write a UF2 file to a module in BOOTSEL mode (the module's own checks first)."""
    p = plan(path, factory)
    target = choose_target(drive, picotool)
    if factory:
        confirm_factory(yes, str(target))
    total = len(p.image.pages)
    if p.left_out:
        parts = ", ".join(f"{_blocks(n)} of the {region}" for region, n in p.left_out)
        say(
            f"{p.image.name}: writing {len(p.written.pages)} of its {total} blocks (firmware, fonts)"
        )
        say(f"left out: {parts}; the module keeps them (--factory writes them)")
    elif factory:
        say(f"{p.image.name}: writing all {total} blocks (--factory)")
    else:
        say(f"{p.image.name}: writing all {total} blocks (none past the fonts)")
    data = p.written.data()
    target.write(p.image.name, data, progress)
    sent = len(data) // _BLOCK
    fill = sent - len(p.written.pages)
    filled = f", {fill} of them erased pages that fill out its sectors" if fill else ""
    say(
        f"{_blocks(sent)} ({sent * _PAGE / 1024:.0f} KiB of flash{filled}) written to "
        f"{target}; the module restarts with it"
    )
    return p
