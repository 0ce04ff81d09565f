"""The firmware tests (tests/firmware/mp_*.py) on the emulated RP2040, as MicroPython's own
`run-tests.py --target` runs its tests on a board.

The development image (`make firmware`) boots on the emulated chip with the firmware frozen in
(its viper and native code compiled for the Cortex-M0+ ahead of time). The test modules and the
helpers they import are compiled by the board's mpy-cross (native code inlined, as the image
build does) into a ROMFS image that the runner writes into the flash with the image, where the
journal's region is (the tests keep their own flash models in files): they run in place from
flash as the frozen firmware does, leaving the heap to the test. The runner stops the firmware
and runs each test after a soft reset into a fresh heap with only the USB ports up and the
ROMFS mounted at /t (host/tillroll_host/chip_repl.py, test mode): a test runs alone, as each
runs in its own process on the unix port.

`pytest --target=chip` runs every test listed as fitting the chip; plain `pytest` (and
`make test`) runs the `SMOKE` subset there besides everything on the unix port.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

from tillroll_host.chip import ChipModule, image_path
from tillroll_host.chip_repl import ChipRepl, compile_for_board, romfs
from tillroll_host.errors import FatalError
from tillroll_host.image import FLASH, XIP_BASE, add_region, inline_native, uf2_pages, uf2_write
from tillroll_host.paths import BOARDS

TESTS = Path(__file__).parent
FIRMWARE_TESTS = TESTS / "firmware"
ON_CHIP = "/t"  # where the tests' ROMFS is mounted on the chip
ENV = {"TILLROLL_FONTS": "/rom/fonts"}  # the fonts' ROMFS partition
TEST_TIMEOUT_S = 900.0  # wall time: the emulator runs several times slower than the chip

# Why a test module, or one test, stays on the unix port. Every other mp_* test runs on the chip
# with `--target=chip`.
UNIX_ONLY = {
    "mp_flash": "checks the sim's NOR flash model, which the chip replaces by its flash",
    "mp_memory": "builds the whole sim board (its twin and links) around the App",
    "mp_connections.test_a_break_in_the_middle_of_a_raster_image_leaves_the_next_receipt_whole": (
        "builds the whole sim board around the App"
    ),
    "mp_connections.test_a_usb_re_enumeration_the_board_reports_acts_as_a_break": (
        "builds the whole sim board around the App"
    ),
    "mp_service.test_the_service_link_adds_little_to_the_apps_memory": (
        "builds the whole sim board around the App"
    ),
    "mp_uart": "moves megabytes through a model of a UART in virtual time: minutes of emulation",
    "mp_journal.test_power_cuts_sampled_from_a_fixed_seed_lose_nothing": "a power-cut sweep",
    "mp_journal.test_the_sweep_catches_a_commit_written_before_its_data": "a power-cut sweep",
    "mp_journal.test_the_sweep_catches_an_acknowledgement_before_the_commit": "a power-cut sweep",
    "mp_journal.test_a_receipt_costs_at_most_two_erases": "a sweep of receipt sizes",
    "mp_text.test_random_text_commands_never_crash_and_esc_at_recovers": "a random sweep",
    "mp_graphics.test_malformed_graphics_commands_never_crash_the_parser": "a random sweep",
    "mp_graphics.test_every_chunking_and_every_stop_prints_the_same_dot_lines": "a sweep",
}

# What `make test` runs on the chip: between them they call the native code of every firmware
# module that has any (tests/test_chip_target.py checks it), on the Cortex-M0+ with its 32-bit
# integers, in a few minutes.
SMOKE = {
    "mp_int32": [
        "test_a_viper_sum_that_wraps_on_the_chip_is_caught_here",
        "test_a_value_that_wraps_inside_a_function_is_left_to_the_chip",
    ],
    "mp_engine": [
        "test_the_motor_follows_the_ramp_line_by_line",
        "test_printing_dot_lines_allocates_nothing_in_steady_state",
    ],
    "mp_text": ["test_printing_every_kind_of_character_allocates_nothing"],
    "mp_graphics": [
        "test_qr_codes_back_to_back_parse_encode_and_print_with_the_heap_locked",
        "test_pdf417_codes_back_to_back_parse_encode_and_print_with_the_heap_locked",
        "test_nv_logos_print_from_flash_without_allocating",
    ],
    "mp_journal": ["test_journaling_text_allocates_nothing_between_flash_writes"],
    "mp_status": ["test_real_time_commands_act_in_any_chunking"],
    "mp_service": ["test_crc16_gives_the_ccitt_false_check_value"],
}


def unix_only(module: str, test: str) -> str | None:
    """Why this test stays on the unix port, or None if it runs on the chip."""
    return UNIX_ONLY.get(module) or UNIX_ONLY.get(f"{module}.{test}")


def is_smoke(module: str, test: str) -> bool:
    return test in SMOKE.get(module, ())


# ---- what goes onto the chip ------------------------------------------------------------------

# The sim's modules the firmware tests import (the mechanism twin, its clock, the NOR model),
# and the mechanism profiles with the limit model, which the image leaves out.
_SIM = ("__init__", "clock", "flash", "mechanism", "png", "sequencer")


def _module_source(path: Path) -> str:
    text = path.read_text()
    vpy = path.with_suffix(".vpy")
    if vpy.exists():  # as the image build does: the native code in place of its load()
        text = inline_native(text, vpy.read_text(), path.name)
    return text


def board_files(paths: dict[str, Path], env: dict[str, str]) -> dict[str, bytes]:
    """Path in a ROMFS -> data: each module (name -> source) compiled for the board, and an
    `os` that answers getenv() from `env`."""
    out = {f"{name}.mpy": compile_for_board(_module_source(p), name) for name, p in paths.items()}
    values = ", ".join(f"{k!r}: {v!r}" for k, v in env.items())
    out["os.py"] = (
        '"""`os` for code on the chip: the built-in module, with getenv() for what the run\n'
        'sets, as the unix port\'s environment does (tests/chip_target.py)."""\n\n'
        "from uos import *  # noqa\n\n"
        f"_ENV = {{{values}}}\n\n\n"
        "def getenv(key, default=None):\n"
        "    return _ENV.get(key, default)\n"
    ).encode()
    return out


def test_files() -> dict[str, bytes]:
    """Every firmware test module and helper, the runner, and the sim's modules they use."""
    paths: dict[str, Path] = {p.stem: p for p in sorted(FIRMWARE_TESTS.glob("*.py"))}
    paths["mp_runner"] = TESTS / "mp_runner.py"
    for name in _SIM:
        paths[f"sim/{name}"] = BOARDS / "sim" / f"{name}.py"
    for path in sorted((BOARDS / "mechanisms").glob("*.py")):
        paths[f"mechanisms/{path.stem}"] = path
    return board_files(paths, ENV)


def session_image(out: Path, files: dict[str, bytes], rom: tuple[int, int]) -> Path:
    """The development image with `files` as a ROMFS at flash offset rom[0] (at most rom[1]
    bytes): a UF2 file."""
    at, size = rom
    image = romfs(files)
    if len(image) > size:
        raise FatalError(f"the ROMFS is {len(image)} bytes, above its {size}")
    pages = uf2_pages(image_path(development=True).read_bytes())
    add_region(pages, at, image, size)
    out.write_bytes(uf2_write(pages))
    return out


# ---- the chip ---------------------------------------------------------------------------------


class ChipTarget:
    """One emulated chip with the development image in test mode, its ROMFS at /t: the test
    modules (by default), or `files` at flash offset rom[0], rom[1] bytes."""

    def __init__(
        self,
        files: dict[str, bytes] | None = None,
        rom: tuple[int, int] = (FLASH.update_at, FLASH.update),
        echo: bool = False,
        scratch: bool = True,
    ):
        self.dir = Path(tempfile.mkdtemp(prefix="tillroll-chip-"))
        self.files = files
        self.rom = rom
        self.echo = echo
        self.scratch = scratch  # /tmp over the journal's region (test_boot)
        self.chip: ChipModule | None = None
        self.repl: ChipRepl | None = None
        self.setup_s = 0.0

    def start(self) -> ChipTarget:
        started = time.monotonic()
        uf2 = session_image(self.dir / "session.uf2", self.files or test_files(), self.rom)
        self.chip = ChipModule(
            self.dir / "flash.bin",
            uf2=uf2,
            repl=True,
            echo=self.echo,
            extra_args=["--idle", "skip"],
        )
        self.chip.start()
        repl = self.repl = ChipRepl(self.chip)
        repl.connect()  # the firmware stops: the raw REPL
        repl.fast_input()
        if not self.scratch:
            repl.makedirs("/tmp")
        repl.test_mode(rom=(XIP_BASE + self.rom[0], self.rom[1], ON_CHIP), scratch=self.scratch)
        self.setup_s = time.monotonic() - started
        return self

    def run(self, module: str, test: str, timeout: float = TEST_TIMEOUT_S) -> tuple[bool, str]:
        """Run one test in a fresh heap: (passed, what it printed) and the chip's cycles."""
        assert self.repl is not None and self.chip is not None
        self.repl.soft_reset()
        before = self.chip.control("stats")["cycles"]
        code = (
            f"import sys\nsys.path.insert(0, {ON_CHIP!r})\n"
            f"import mp_runner\nmp_runner.run({module!r}, {test!r})\n"
        )
        out, err = self.repl.exec(code, timeout)
        cycles = self.chip.control("stats")["cycles"] - before
        report = f"{out}{err}[{cycles / 1e6:.1f} M cycles on the emulated RP2040]\n"
        return (not err and re.search(r"^PASS\r?$", out, re.M) is not None), report

    def stop(self) -> None:
        if self.repl is not None:
            self.repl.close()
        if self.chip is not None:
            self.chip.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
