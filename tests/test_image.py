"""The RP2040 image `make firmware` writes (docs/hardware.md): built offline, laid out on the
flash map the board and MicroPython's build agree on, one UF2 that writes a module whole and
one that leaves its journal and settings alone.

`make test` builds the images first; these tests read what it built."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tillroll_host.image import FLASH, XIP_BASE, inline_native, stage_frozen, uf2_pages
from tillroll_host.paths import BOARDS, FIRMWARE, ROOT

OUT = ROOT / "out" / "firmware"
IMAGES = ["tillroll-rp2_pico", "tillroll-rp2_pico-dev"]


def _built(name: str) -> Path:
    path = OUT / name
    if not path.exists():
        pytest.fail(f"{path} is missing: `make firmware` builds it (`make test` runs it first)")
    return path


def _define(header: str, name: str) -> int:
    found = re.search(rf"#define {name}\s+\((\d+) \* 1024\)", header)
    assert found, f"{name} not in mpconfigboard.h"
    return int(found.group(1)) * 1024


def _const(source: str, name: str) -> int:
    found = re.search(rf"^{name} = const\(([\d *]+)\)", source, re.M)
    assert found, f"{name} not in flash_map.py"
    return eval(found.group(1))  # a product of literals, e.g. 128 * 1024


def test_the_flash_map_is_the_same_in_the_build_the_board_and_the_image_tool():
    header = (BOARDS / "rp2_pico" / "image" / "mpconfigboard.h").read_text()
    board = (BOARDS / "rp2_pico" / "flash_map.py").read_text()
    assert _define(header, "MICROPY_HW_ROMFS_BYTES") == FLASH.romfs
    assert _define(header, "MICROPY_HW_FLASH_STORAGE_BYTES") == FLASH.storage
    assert _const(board, "FILESYSTEM_AT") == 0
    assert _const(board, "FILESYSTEM_BYTES") == FLASH.filesystem
    assert _const(board, "UPDATE_AT") == FLASH.update_at - FLASH.filesystem_at
    assert _const(board, "UPDATE_BYTES") == FLASH.update
    assert _const(board, "JOURNAL_AT") == FLASH.journal_at - FLASH.filesystem_at
    assert _const(board, "JOURNAL_BYTES") == FLASH.journal
    assert FLASH.firmware + FLASH.romfs + FLASH.storage == FLASH.size == 2 * 1024 * 1024


@pytest.mark.parametrize("name", IMAGES)
def test_the_image_was_built_with_no_network(name: str):
    report = _built(f"{name}.size.txt").read_text()
    seen = re.search(r"network during the build: (.*)", report)
    assert seen and seen.group(1).split() == ["lo"], report


@pytest.mark.parametrize("name", IMAGES)
def test_the_whole_module_image_writes_firmware_fonts_and_erases_filesystem_and_journal(name):
    pages = uf2_pages(_built(f"{name}.uf2").read_bytes())
    romfs = (OUT / "fonts.romfs").read_bytes()
    assert pages[XIP_BASE][:4] != b"\xff" * 4  # boot2 at the start of flash
    firmware_top = max(a for a in pages if a < XIP_BASE + FLASH.romfs_at) + 256 - XIP_BASE
    assert firmware_top <= FLASH.firmware
    got = b"".join(pages[XIP_BASE + FLASH.romfs_at + o] for o in range(0, len(romfs), 256))
    assert got[: len(romfs)] == romfs
    for start, size in (
        (FLASH.filesystem_at, FLASH.filesystem),
        (FLASH.update_at, FLASH.update),
        (FLASH.journal_at, FLASH.journal),
    ):
        for off in range(0, size, 256):
            assert pages[XIP_BASE + start + off] == b"\xff" * 256
    assert max(pages) + 256 == XIP_BASE + FLASH.size


@pytest.mark.parametrize("name", IMAGES)
def test_the_update_image_leaves_the_journal_and_settings_alone(name):
    whole = uf2_pages(_built(f"{name}.uf2").read_bytes())
    update = uf2_pages(_built(f"{name}-update.uf2").read_bytes())
    assert max(update) < XIP_BASE + FLASH.filesystem_at
    assert all(whole[a] == update[a] for a in update)  # the same firmware and fonts


def test_the_firmware_report_gives_the_sizes():
    report = _built("tillroll-rp2_pico.size.txt").read_text()
    text, data, bss = (int(x) for x in report.splitlines()[2].split()[:3])
    assert 300_000 < text + data <= FLASH.firmware
    assert "fonts ROMFS" in report


def test_make_builds_the_image_again_only_when_an_input_changed():
    done = subprocess.run(["make", "-q", "firmware"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, "make firmware is not up to date right after it ran"


def test_frozen_native_code_is_inlined_where_load_was(tmp_path: Path):
    files = stage_frozen(tmp_path, "rp2_pico", development=False)
    engine = (tmp_path / "tillroll" / "engine" / "strobe.py").read_text()
    assert "load(__file__" not in engine and "@micropython.viper\ndef split(" in engine
    # every module with a .vpy has its native code in it, each constant once
    for vpy in FIRMWARE.rglob("*.vpy"):
        staged = (tmp_path / vpy.relative_to(FIRMWARE)).with_suffix(".py").read_text()
        for name in re.findall(r"^def (\w+)\(", vpy.read_text(), re.M):
            assert f"\ndef {name}(" in staged, (vpy.name, name)
        for name in re.findall(r"^(\w+) = const\(", staged, re.M):
            assert len(re.findall(rf"^{name} = const\(", staged, re.M)) == 1, (vpy.name, name)
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    assert {"_boot.py", "main.py", "rp2_pico/board.py", "rp2_pico/variant.py"} <= names
    assert "mechanisms/ltp02_245.py" in names and "mechanisms/limit.py" not in names


def test_a_constant_defined_differently_in_the_vpy_is_refused():
    from tillroll_host.errors import FatalError

    source = "from ..native import load\n\nload(__file__, globals())\n\n_N = const(2)\n"
    with pytest.raises(FatalError, match="_N is 3"):
        inline_native(source, "_N = const(3)\n", "x.py")


@pytest.mark.parametrize("build", ["build", "build-dev"])
def test_every_int_the_image_freezes_as_a_long_int_is_too_big_for_a_small_one(build: str):
    # MicroPython 1.28's mpy-tool freezes an int inside a constant (a constant tuple's items)
    # from 2**13 up as a long int, whatever the target: on the chip each use of it allocates
    # (Code 128's table of 24-bit patterns did, 32 bytes a bar, and a barcode printed with the
    # heap locked raised MemoryError). The firmware keeps such tables in bytes instead.
    frozen = ROOT / "out" / "rp2" / build / "frozen_content.c"
    if not frozen.exists():
        pytest.fail(f"{frozen} is missing: `make firmware` builds it")
    longs = re.findall(
        r"static const mp_obj_int_t (\w+) = \{\{&mp_type_int\}, \{\.neg=(\d), .*?"
        r"\.dig=\(uint16_t\*\)\(const uint16_t\[\]\)\{([0-9a-fx,]+)\}\}\};",
        frozen.read_text(),
    )
    small = []
    for name, neg, digits in longs:
        value = sum(int(d, 16) << (16 * i) for i, d in enumerate(digits.split(",")))
        value = -value if neg == "1" else value
        if -(1 << 30) <= value < (1 << 30):
            small.append(f"{name} = {value}")
    assert not small, "frozen as long ints:\n" + "\n".join(small)
