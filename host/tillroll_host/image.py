"""The parts of a board image that MicroPython's build does not make: the frozen tree with the
native code inlined, the fonts' ROMFS partition, and the UF2 files a module is flashed with.

The flash map these follow is in docs/hardware.md; `FlashMap` holds its numbers, and the
board's `mpconfigboard.h` must agree with it (tests/test_build.py checks both).
"""

from __future__ import annotations

import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from .errors import FatalError
from .paths import BOARDS, FIRMWARE, FONTS

KIB = 1024
# A module's import of the loader: relative in the firmware package, absolute elsewhere (the
# sim board's modules, test helpers put on the emulated chip).
_NATIVE_IMPORT = re.compile(r"^from (?:\.\.|tillroll\.)native import load\n", re.M)
_NATIVE_LOAD = re.compile(r"^load\(__file__, globals\(\)\).*\n", re.M)
_ENTRY_SCRIPTS = ("_boot.py", "main.py")
_SIM_ONLY = ("limit.py",)  # the physical-limit model: the twin's and the bench's, not a board's
_CONST = re.compile(r"^([A-Za-z_]\w*) = const\(([^)]*)\)", re.M)


@dataclass(frozen=True)
class FlashMap:
    """Where everything lives in a 2 MiB RP2040 module's flash (offsets from its start)."""

    size: int = 2048 * KIB
    firmware: int = 512 * KIB  # MicroPython with Tillroll frozen in, from offset 0
    romfs: int = 1152 * KIB  # the fonts, read in place (vfs.VfsRom at /rom)
    filesystem: int = 64 * KIB  # littlefs at / : settings, NV logos
    update: int = 192 * KIB  # the update slot: a signed update's ROMFS (docs/update.md)
    journal: int = 128 * KIB  # the receipt journal's own region, never formatted

    @property
    def romfs_at(self) -> int:
        return self.firmware

    @property
    def filesystem_at(self) -> int:
        return self.firmware + self.romfs

    @property
    def update_at(self) -> int:
        return self.filesystem_at + self.filesystem

    @property
    def journal_at(self) -> int:
        return self.update_at + self.update

    @property
    def storage(self) -> int:
        """MicroPython's MICROPY_HW_FLASH_STORAGE_BYTES: the filesystem, the update slot and
        the journal."""
        return self.filesystem + self.update + self.journal


FLASH = FlashMap()
XIP_BASE = 0x10000000


def inline_native(source: str, vpy: str, name: str) -> str:
    """A module whose hot loops live in a .vpy, with them in place of its `load()` call.

    On the sim `load` compiles the .vpy at import; frozen in an image, mpy-cross compiles the
    same source for the board's processor ahead of time (tillroll/native.py says why)."""
    if len(_NATIVE_IMPORT.findall(source)) != 1 or len(_NATIVE_LOAD.findall(source)) != 1:
        raise FatalError(f"{name}: expected one `from ..native import load` and one load() call")
    vpy = re.sub(r"^from micropython import const\n", "", vpy, flags=re.M)
    source = _NATIVE_IMPORT.sub("", source, count=1)
    # Both files name the constants they share; a constant may be defined once per module.
    for const_name, value in _CONST.findall(vpy):
        defined = re.compile(rf"^{const_name} = const\(([^)]*)\).*\n", re.M)
        for other in defined.findall(source):
            if other != value:
                raise FatalError(f"{name}: {const_name} is {value} in its .vpy, {other} here")
        source = defined.sub("", source)
    return _NATIVE_LOAD.sub(lambda _: vpy.rstrip("\n") + "\n", source, count=1)


def maker_key_module(public_key: bytes, test: bool) -> str:
    """firmware/tillroll/update/maker_key.py for an image or bundle that takes updates signed
    by the key whose public half is `public_key` (docs/update.md)."""
    what = "the TEST key (tests/keys): anyone can sign updates" if test else "the maker's key"
    return (
        f'"""The maker\'s Ed25519 public key: updates signed with it are taken; {what}.\n\n'
        'Written by the image build (host/tillroll_host/image.py)."""\n\n'
        f'PUBLIC_KEY = "{public_key.hex()}"\nTEST_KEY = {test}\n'
    )


def read_public_key(path: Path) -> bytes:
    """A maker's public key file (`tillroll keygen` writes NAME.pub): 64 hex digits."""
    try:
        text = "".join(
            ln.strip() for ln in Path(path).read_text().splitlines() if not ln.startswith("#")
        )
        key = bytes.fromhex(text)
    except (OSError, ValueError) as e:
        raise FatalError(f"cannot read the maker's public key in {path}: {e}") from None
    if len(key) != 32:
        raise FatalError(f"{path}: a public key is 32 bytes (64 hex digits)")
    return key


TEST_MAKER_KEY = "b477341edbc1b2d1855d0407cfceb8ef7a0c22c3f1f17c3570007f9771012f08"


# Deliberately broken builds, for proving that the test rig sees a fault on paper
# (tests/test_rig.py): a fault's name -> (file, the text, what it becomes).
FAULTS = {
    "strobe-halved": (
        "rp2_pico/print_drivers.py",
        "pulse = (self._first if a == 0 else self._pulse) * (_PIO_HZ // 1_000_000)",
        "pulse = (self._first if a == 0 else self._pulse) * (_PIO_HZ // 2_000_000)  # FAULT",
    ),
}


def stage_frozen(
    dest: Path,
    board: str,
    development: bool,
    maker_key: bytes | None = None,
    fault: str | None = None,
) -> list[Path]:
    """Write the tree a board's manifest freezes: `tillroll` (native code inlined) and the
    board's package; with `maker_key`, the maker's public key in place of the test key; with
    `fault` (FAULTS), that fault built in. Files are rewritten only when their text changes,
    so an unchanged tree leaves the image build with nothing to do."""
    wanted: dict[Path, str] = {}
    package = FIRMWARE / "tillroll"
    for source in sorted(package.rglob("*.py")):
        text = source.read_text()
        vpy = source.with_suffix(".vpy")
        if vpy.exists():
            text = inline_native(text, vpy.read_text(), str(source.relative_to(FIRMWARE)))
        wanted[dest / source.relative_to(FIRMWARE)] = text
    if maker_key is not None:
        text = maker_key_module(maker_key, maker_key.hex() == TEST_MAKER_KEY)
        wanted[dest / "tillroll" / "update" / "maker_key.py"] = text
    board_dir = BOARDS / board
    for source in sorted(board_dir.glob("*.py")):
        if source.name == "variant.py":
            continue  # written below, for this image
        # The board's entry scripts are top-level modules (MicroPython runs the frozen
        # `_boot.py`, then `main.py`); the rest is its package.
        top = source.name in _ENTRY_SCRIPTS
        text = source.read_text()
        vpy = source.with_suffix(".vpy")
        if vpy.exists():
            text = inline_native(text, vpy.read_text(), str(source.relative_to(BOARDS)))
        wanted[dest / source.name if top else dest / board / source.name] = text
    for source in sorted((BOARDS / "mechanisms").glob("*.py")):
        if source.name not in _SIM_ONLY:
            wanted[dest / "mechanisms" / source.name] = source.read_text()
    wanted[dest / board / "variant.py"] = (
        '"""Written by the image build: which image this is."""\n\n'
        f"DEVELOPMENT = {development}  # a REPL on a USB interface of its own\n"
    )
    if fault is not None:
        name, before, after = FAULTS[fault]
        text = wanted[dest / name]
        if text.count(before) != 1:
            raise FatalError(f"fault {fault}: {before!r} is not once in {name}")
        wanted[dest / name] = text.replace(before, after)
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for stale in [p for p in dest.rglob("*.py") if p not in wanted]:
        stale.unlink()
    return sorted(wanted)


def build_romfs(out: Path) -> int:
    """The fonts (and their licences) as a ROMFS image; returns its size."""
    from mpremote.romfs import make_romfs

    staging = out.with_suffix(".d")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "fonts").mkdir(parents=True)
    for f in sorted(FONTS.iterdir()):
        if f.suffix in (".trf", ".tcj", ".bin", ".txt"):
            shutil.copyfile(f, staging / "fonts" / f.name)
    image = make_romfs(str(staging), mpy_cross=False)
    shutil.rmtree(staging)
    if len(image) > FLASH.romfs:
        raise FatalError(
            f"the fonts' ROMFS is {len(image)} bytes, above its {FLASH.romfs}-byte partition"
        )
    out.write_bytes(image)
    return len(image)


# UF2 (Microsoft's USB Flashing Format): 512-byte blocks of 256 bytes of payload each.
UF2_MAGIC = (0x0A324655, 0x9E5D5157, 0x0AB16F30)
_UF2_FAMILY = 0x2000  # the family-ID field is valid
RP2040_FAMILY = 0xE48BFF56
_PAGE = 256
_SECTOR = 4096


def uf2_pages(data: bytes) -> dict[int, bytes]:
    """The 256-byte pages a UF2 file writes, by flash address."""
    pages = {}
    for i in range(0, len(data) - len(data) % 512, 512):
        start = struct.unpack_from("<IIIIIIII", data, i)
        end = struct.unpack_from("<I", data, i + 508)[0]
        if start[:2] != UF2_MAGIC[:2] or end != UF2_MAGIC[2]:
            raise FatalError(f"block {i // 512} of the UF2 file is not a UF2 block")
        _, _, flags, address, size = start[:5]
        if flags & 1:  # "not main flash": comments and the like
            continue
        pages[address] = data[i + 32 : i + 32 + size]
    return pages


def uf2_write(
    pages: dict[int, bytes], family: int = RP2040_FAMILY, whole_sectors: bool = True
) -> bytes:
    """A UF2 file writing `pages` (address -> 256 bytes), in address order; with
    `whole_sectors` each 4 KB sector it touches whole: the pages it lacks there written erased.

    The RP2040 boot ROM erases a sector before the first block it takes for it, but it finds
    the sector by the block's number (block_no * 256 / 4096), not by its address. With a
    sector written in part, the blocks after it are numbered out of step with their addresses,
    and the ROM erases each later sector again after its first pages are written (found on the
    emulated chip, boards/rp2040_chip/mass_storage.mjs). Whole sectors keep them in step."""
    whole = dict(pages)
    for address in pages if whole_sectors else ():
        sector = address - address % _SECTOR
        for at in range(sector, sector + _SECTOR, _PAGE):
            whole.setdefault(at, b"\xff" * _PAGE)
    order = sorted(whole)
    out = bytearray()
    for n, address in enumerate(order):
        payload = whole[address]
        if len(payload) != _PAGE or address % _PAGE:
            raise FatalError(f"page at 0x{address:08x} is not a whole aligned page")
        block = struct.pack(
            "<IIIIIIII", *UF2_MAGIC[:2], _UF2_FAMILY, address, _PAGE, n, len(order), family
        )
        out += block + payload + bytes(476 - _PAGE) + struct.pack("<I", UF2_MAGIC[2])
    return bytes(out)


def add_region(pages: dict[int, bytes], at: int, data: bytes, size: int | None = None) -> None:
    """Put `data` at flash offset `at`, padded with erased bytes to `size` (or a whole page)."""
    size = size if size is not None else -(-len(data) // _PAGE) * _PAGE
    data = data + b"\xff" * (size - len(data))
    for off in range(0, size, _PAGE):
        pages[XIP_BASE + at + off] = data[off : off + _PAGE]


def make_images(firmware_uf2: Path, romfs: Path, out_dir: Path, name: str) -> dict[str, Path]:
    """Two UF2 files from MicroPython's image and the fonts' ROMFS:

    - `NAME.uf2` writes a new module whole: firmware, fonts, an empty filesystem, update slot
      and journal (erased: the board formats the filesystem at its first boot);
    - `NAME-update.uf2` writes the firmware and fonts only, so a module in the field keeps its
      journal and settings."""
    pages = uf2_pages(firmware_uf2.read_bytes())
    top = max(pages) - XIP_BASE + _PAGE
    if top > FLASH.firmware:
        raise FatalError(
            f"the firmware is {top} bytes, above its {FLASH.firmware}-byte region (docs/hardware.md)"
        )
    add_region(pages, FLASH.romfs_at, romfs.read_bytes(), FLASH.romfs)
    update = dict(pages)
    whole = dict(pages)
    add_region(whole, FLASH.filesystem_at, b"", FLASH.filesystem)
    add_region(whole, FLASH.update_at, b"", FLASH.update)
    add_region(whole, FLASH.journal_at, b"", FLASH.journal)
    written = {"whole": out_dir / f"{name}.uf2", "update": out_dir / f"{name}-update.uf2"}
    written["whole"].write_bytes(uf2_write(whole))
    written["update"].write_bytes(uf2_write(update))
    return written


def main(argv: list[str] | None = None) -> int:
    """`python -m tillroll_host.image stage|romfs|images|rig ...`: the steps `make firmware`
    runs, and the rig controller's image."""
    import argparse

    parser = argparse.ArgumentParser(prog="tillroll_host.image", description=main.__doc__)
    sub = parser.add_subparsers(dest="step", required=True)
    stage = sub.add_parser("stage", help="write the tree a board's manifest freezes")
    stage.add_argument("dest", type=Path)
    stage.add_argument("--board", default="rp2_pico")
    stage.add_argument("--development", action="store_true")
    stage.add_argument("--maker-key", type=Path, help="the maker's public key (default: test)")
    stage.add_argument("--fault", choices=sorted(FAULTS), help="build a known fault in (tests)")
    romfs = sub.add_parser("romfs", help="the fonts as a ROMFS image")
    romfs.add_argument("out", type=Path)
    images = sub.add_parser("images", help="the whole-module and update UF2 files")
    images.add_argument("firmware_uf2", type=Path)
    images.add_argument("romfs", type=Path)
    images.add_argument("out_dir", type=Path)
    images.add_argument("name")
    rig = sub.add_parser("rig", help="the rig controller's UF2 (docs/rig.md)")
    rig.add_argument("out", type=Path, nargs="?")
    args = parser.parse_args(argv)
    try:
        if args.step == "stage":
            key = read_public_key(args.maker_key) if args.maker_key else None
            stage_frozen(args.dest, args.board, args.development, key, args.fault)
            if key is None or key.hex() == TEST_MAKER_KEY:
                print("maker key: the TEST key (tests/keys): anyone can sign updates for it")
            else:
                print(f"maker key: {key.hex()}")
        elif args.step == "rig":
            from .rig import RIG_UF2, rig_image

            print(f"rig controller: {rig_image(args.out or RIG_UF2)}")
        elif args.step == "romfs":
            print(f"romfs: {build_romfs(args.out)} bytes of {FLASH.romfs}")
        else:
            for kind, path in make_images(
                args.firmware_uf2, args.romfs, args.out_dir, args.name
            ).items():
                print(f"{kind}: {path}")
    except FatalError as e:
        print(f"error: {e}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
