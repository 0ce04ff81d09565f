"""`tillroll flash FILE.uf2`: a module in BOOTSEL mode gets the image on its RPI-RP2 drive (or
through picotool); a module in the field keeps its settings, update slot and journal unless
--factory, confirmed, says otherwise; a bad file is one clear line (docs/technician.md,
"Flashing a module").

The drive here is a folder with the boot ROM's INFO_UF2.TXT in it. The last test flashes a
module on the emulated RP2040 with what such a drive received (it boots the UF2 files
`make firmware` writes)."""

from __future__ import annotations

import shutil
import struct
import sys
from pathlib import Path

import pytest
from test_chip import _journal_rows, exchange

from tillroll_host import cli
from tillroll_host import flash as flashing
from tillroll_host.chip import ChipModule, image_path, write_uf2
from tillroll_host.image import FLASH, XIP_BASE, uf2_pages, uf2_write

INFO = "UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n"
CUT = b"\x1dV\x00"


def tillroll(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def bootsel_drive(where: Path) -> Path:
    where.mkdir(parents=True)
    (where / "INFO_UF2.TXT").write_text(INFO)
    return where


@pytest.fixture
def drive(tmp_path, monkeypatch) -> Path:
    """One module in BOOTSEL mode, mounted where Linux mounts it; no picotool on PATH."""
    monkeypatch.setattr(flashing, "DRIVE_GLOBS", [str(tmp_path / "media" / "*" / "*")])
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    return bootsel_drive(tmp_path / "media" / "tech" / "RPI-RP2")


def page(n: int) -> bytes:
    return bytes([n & 0xFF]) * 256


# A whole-module image in small: firmware, fonts, and the three regions a field flash keeps.
OFFSETS = [
    0,
    0x100,
    FLASH.romfs_at,
    FLASH.filesystem_at - 0x100,
    FLASH.filesystem_at,
    FLASH.filesystem_at + 0x100,
    FLASH.update_at,
    FLASH.journal_at,
    FLASH.journal_at + 0x1000,
]
WHOLE = {XIP_BASE + at: page(i + 1) for i, at in enumerate(OFFSETS)}


@pytest.fixture
def whole(tmp_path) -> Path:
    path = tmp_path / "tillroll-rp2_pico.uf2"
    path.write_bytes(uf2_write(WHOLE, whole_sectors=False))  # as any tool might write it
    return path


ERASED = b"\xff" * 256


def written(drive: Path, name: str = "tillroll-rp2_pico.uf2") -> dict[int, bytes]:
    """The pages on the drive, less the erased ones that fill out each sector."""
    return {a: p for a, p in uf2_pages((drive / name).read_bytes()).items() if p != ERASED}


def test_a_module_in_the_field_gets_the_firmware_and_fonts_only(drive, whole, capsys):
    code, out, err = tillroll(capsys, "flash", whole)
    assert code == 0, err
    below = {a: p for a, p in WHOLE.items() if a - XIP_BASE < FLASH.filesystem_at}
    assert written(drive) == below
    assert out.splitlines() == [
        "tillroll-rp2_pico.uf2: writing 4 of its 9 blocks (firmware, fonts)",
        "left out: 2 blocks of the filesystem (settings, NV logos), 1 block of the update "
        "slot, 2 blocks of the journal; the module keeps them (--factory writes them)",
        # Each sector it touches is written whole, the rest of it erased (uf2_write).
        f"48 blocks (12 KiB of flash, 44 of them erased pages that fill out its sectors) "
        f"written to the drive {drive}; the module restarts with it",
    ]
    # The file on the drive numbers its blocks 0..47 of 48, as the boot ROM checks, and they
    # are its three sectors in order: the ROM finds a block's sector by its number.
    data = (drive / "tillroll-rp2_pico.uf2").read_bytes()
    blocks = [struct.unpack_from("<IIII", data, i + 12) for i in range(0, len(data), 512)]
    sectors = [address // 4096 for address, _, _, _ in blocks]
    assert [(n, total) for _, _, n, total in blocks] == [(n, 48) for n in range(48)]
    assert all(sectors[n] == sectors[n - n % 16] != sectors[n - 1] for n in range(0, 48, 16))
    assert all(sectors[n] == sectors[n - 1] for n in range(48) if n % 16)


def test_factory_writes_every_block_when_confirmed(drive, whole, capsys):
    code, out, err = tillroll(capsys, "flash", whole, "--factory", "--yes", "--drive", drive)
    assert code == 0, err
    assert written(drive) == WHOLE
    assert out.splitlines()[0] == "tillroll-rp2_pico.uf2: writing all 9 blocks (--factory)"


def test_factory_without_yes_and_no_terminal_refuses(drive, whole, capsys):
    code, out, err = tillroll(capsys, "flash", whole, "--factory")
    assert code == 2 and out == ""
    assert err == (
        "tillroll: flash --factory erases the module's settings, update slot and journal: "
        "give --yes, or run it at a terminal to confirm\n"
    )
    assert not (drive / whole.name).exists()


@pytest.mark.parametrize("answer, wrote", [("y", True), ("", False)])
def test_factory_asks_at_a_terminal(drive, whole, capsys, monkeypatch, answer, wrote):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked = []
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or answer)
    code, _, err = tillroll(capsys, "flash", whole, "--factory")
    assert "erases the settings, the update slot and the journal" in asked[0]
    assert (drive / whole.name).exists() == wrote
    assert (code, err) == ((0, "") if wrote else (2, "tillroll: not confirmed: nothing written\n"))


def _blocks(pages: dict[int, bytes], **change) -> bytearray:
    return bytearray(uf2_write(pages, whole_sectors=False, **change))


def _set(data: bytearray, block: int, word: int, value: int) -> bytearray:
    struct.pack_into("<I", data, block * 512 + word * 4, value)
    return data


BAD = {
    "not a UF2": (
        b"%PDF-1.7 an invoice\n" * 40,
        "bad.uf2 is not a UF2 file (it does not start with a UF2 block)",
    ),
    "cut mid-block": (
        bytes(_blocks(WHOLE)[:-100]),
        "bad.uf2 is truncated: 4508 bytes is not a whole number of 512-byte blocks",
    ),
    "cut between blocks": (
        bytes(_blocks(WHOLE)[: 5 * 512]),
        "bad.uf2 is truncated: it holds 5 of its 9 blocks",
    ),
    "wrong magic": (
        bytes(_set(_blocks(WHOLE), 3, 127, 0x12345678)),
        "bad.uf2: block 3 has the wrong magic numbers (not a UF2 block)",
    ),
    "another chip": (
        bytes(_blocks(WHOLE, family=0xADA52840)),
        "bad.uf2: block 0 has family 0xada52840, not the RP2040's (0xe48bff56): an image for "
        "another chip",
    ),
    "past 2 MiB": (
        bytes(_blocks({**WHOLE, XIP_BASE + FLASH.size: page(0)})),
        "bad.uf2: block 9 writes at 0x10200000, outside the module's 2 MiB flash "
        "(0x10000000-0x101fffff)",
    ),
    "block numbers": (
        bytes(_set(_blocks(WHOLE), 2, 5, 7)),
        "bad.uf2: block 2 calls itself block 7 of 9, the first block says 9: the blocks are "
        "out of order or from two files",
    ),
}


@pytest.mark.parametrize("what", BAD)
def test_a_bad_file_is_one_clear_line(drive, tmp_path, capsys, what):
    data, message = BAD[what]
    bad = tmp_path / "bad.uf2"
    bad.write_bytes(data)
    code, out, err = tillroll(capsys, "flash", bad, "--factory", "--yes")
    assert (code, out, err) == (2, "", f"tillroll: {message}\n")
    assert not (drive / "bad.uf2").exists()


def test_a_missing_file_is_one_clear_line(drive, tmp_path, capsys):
    code, _, err = tillroll(capsys, "flash", tmp_path / "none.uf2")
    assert code == 2 and err.startswith("tillroll: cannot read ") and err.count("\n") == 1


def test_no_module_in_bootsel_mode_says_how_to_enter_it(tmp_path, whole, capsys, monkeypatch):
    monkeypatch.setattr(flashing, "DRIVE_GLOBS", [str(tmp_path / "media" / "*" / "*")])
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    (tmp_path / "media" / "tech" / "USB-STICK").mkdir(parents=True)  # a drive, not a module
    code, _, err = tillroll(capsys, "flash", whole)
    assert code == 2
    assert err == (
        "tillroll: no module in BOOTSEL mode found: hold BOOTSEL while plugging the module "
        "in: an RPI-RP2 drive appears (or give --drive DIR)\n"
    )
    code, _, err = tillroll(capsys, "flash", whole, "--drive", tmp_path / "media/tech/USB-STICK")
    assert code == 2 and "is not a module in BOOTSEL mode" in err and "hold BOOTSEL" in err


def test_two_modules_in_bootsel_mode_need_drive(drive, whole, capsys):
    other = bootsel_drive(drive.parent / "RPI-RP2 1")
    code, _, err = tillroll(capsys, "flash", whole)
    assert (code, err) == (
        2,
        f"tillroll: several modules in BOOTSEL mode ({drive}, {other}): give --drive DIR\n",
    )


def test_a_drive_that_is_not_writable_is_one_line(drive, whole, capsys, monkeypatch):
    # As a drive mounted read-only (the test may run as root, whom permissions do not stop).
    monkeypatch.setattr(flashing.os, "access", lambda path, mode: False)
    code, _, err = tillroll(capsys, "flash", whole)
    assert (code, err) == (
        2,
        f"tillroll: the drive {drive} is not writable (mounted read-only?)\n",
    )


def test_picotool_loads_it_when_no_drive_is_mounted(tmp_path, whole, capsys, monkeypatch):
    monkeypatch.setattr(flashing, "DRIVE_GLOBS", [str(tmp_path / "media" / "*")])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    got = tmp_path / "loaded.uf2"
    tool = bin_dir / "picotool"
    tool.write_text(
        f"#!{sys.executable}\nimport shutil, sys\n"
        f"open({str(tmp_path / 'args')!r}, 'w').write(' '.join(sys.argv[1:]))\n"
        f"shutil.copyfile(sys.argv[3], {str(got)!r})\n"
    )
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    code, out, err = tillroll(capsys, "flash", whole)
    assert code == 0, err
    assert (tmp_path / "args").read_text().split()[:2] == ["load", "-x"]
    assert written(got.parent, got.name) == {
        a: p for a, p in WHOLE.items() if a - XIP_BASE < FLASH.filesystem_at
    }
    assert out.splitlines()[-1] == (
        "48 blocks (12 KiB of flash, 44 of them erased pages that fill out its sectors) "
        "written to the module through picotool; the module restarts with it"
    )
    tool.write_text(
        f"#!{sys.executable}\nprint('No accessible RP-series devices in BOOTSEL mode')\n"
        "raise SystemExit(249)\n"
    )
    code, _, err = tillroll(capsys, "flash", whole, "--picotool")
    assert code == 2 and err.startswith(
        "tillroll: picotool load failed (status 249, its words above)"
    ), err


# ---- on the emulated RP2040 -------------------------------------------------------------------

DENSITY_90 = b"\x1d(E\x03\x00\x01IN" + b"\x1d(E\x04\x00\x05\x05\xfe\xff" + b"\x1d(E\x04\x00\x02OUT"
ASK_DENSITY = b"\x1d(E\x03\x00\x01IN" + b"\x1d(E\x02\x00\x06\x05"
ENTERED = b"\x37\x20\x00"


def test_a_flashed_module_keeps_its_receipts_and_settings_unless_factory(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(flashing, "DRIVE_GLOBS", [str(tmp_path / "media" / "*" / "*")])
    drive = bootsel_drive(tmp_path / "media" / "tech" / "RPI-RP2")
    flash = tmp_path / "flash.bin"
    image = image_path()
    # A module in a shop: density set to 90 % (GS ( E), a receipt printed and in its journal.
    pid = b"FL01"
    receipt = b"\x1b@FLASHED MODULE\nTea 1.80\n" + CUT + b"\x1d(H\x06\x00\x30\x30" + pid
    with ChipModule(flash, uf2=image) as chip:
        reply = exchange(chip.data_port, DENSITY_90 + receipt, want=3 + 7)
        assert reply == ENTERED + b"\x37\x22" + pid + b"\x00", reply

    code, out, err = tillroll(capsys, "flash", image)
    assert code == 0, err
    assert "left out: 256 blocks of the filesystem (settings, NV logos), 768 blocks of the " in out
    on_drive = drive / image.name
    kept = {a: p for a, p in uf2_pages(image.read_bytes()).items() if a < XIP_BASE + 0x1A0000}
    assert uf2_pages(on_drive.read_bytes()) == kept

    # The module restarts with what its drive received, over the flash it had.
    with ChipModule(flash, uf2=on_drive) as chip:
        assert f"flash: {flash} (kept, {on_drive} written)" in chip.output
        reply = exchange(chip.data_port, ASK_DENSITY, want=3 + 10)
        assert reply == ENTERED + b"\x37\x27" + b"5\x1f65534\x00", reply  # still 90 %
    shutil.copyfile(flash, tmp_path / "after-flash.bin")
    status, rows = _journal_rows(tmp_path / "after-flash.bin", tmp_path)
    assert [(r["state"], r["first_line"]) for r in rows] == [("printed", "FLASHED MODULE")]

    # --factory: the drive gets every block; settings, update slot and journal are erased.
    code, out, err = tillroll(capsys, "flash", image, "--factory", "--yes")
    assert code == 0, err
    assert uf2_pages(on_drive.read_bytes()) == uf2_pages(image.read_bytes())
    write_uf2(flash, on_drive)
    after = flash.read_bytes()
    rest = after[FLASH.filesystem_at :]
    assert rest == b"\xff" * len(rest)  # the settings and the journal are a new module's
    status, rows = _journal_rows(flash, tmp_path)
    assert rows == [] and status["problems"]["problems"] == 0, status
