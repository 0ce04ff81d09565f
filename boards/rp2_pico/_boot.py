"""Runs first at power-on (frozen): mount the fonts and the filesystem. The journal's region is
left alone here; the firmware mounts it itself and never formats it (docs/journal.md)."""

import rp2
import vfs

from rp2_pico.flash_map import FILESYSTEM_AT, FILESYSTEM_BYTES

try:
    rom = vfs.VfsRom(vfs.rom_ioctl(2, 0))  # pyright: ignore[reportAttributeAccessIssue]
    vfs.mount(rom, "/rom")  # the fonts, read in place
except OSError:
    pass  # no fonts partition: the board reports it when the firmware opens its fonts

_fs = rp2.Flash(start=FILESYSTEM_AT, len=FILESYSTEM_BYTES)
try:
    vfs.mount(vfs.VfsLfs2(_fs, progsize=256), "/")
except OSError:
    # A new module (its UF2 leaves this region erased) or a damaged filesystem: it holds only
    # settings and NV logos, which come back at their defaults. The journal is elsewhere.
    vfs.VfsLfs2.mkfs(_fs, progsize=256)
    vfs.mount(vfs.VfsLfs2(_fs, progsize=256), "/")
del _fs
