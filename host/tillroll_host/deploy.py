"""`tillroll deploy`: put the working tree's firmware on a development board through its REPL.

mpremote is the transport (its `SerialTransport` and raw REPL, used as a library); the board
does the writing with the firmware's own slot code, so a deploy leaves the update slot as
`tillroll update --force` would:

    1. the firmware's development bundle for the board, signed (bundle.build);
    2. the fonts' ROMFS partition, rewritten only when its SHA-256 differs from the build's;
    3. the update slot: the ticket (`slot.write_ticket`), the image a 4 KiB block at a time
       (erased, then programmed in whole pages), its SHA-256 checked on the board against the
       ticket, then the STAGED record: the switch, one page;
    4. a restart: the boot code runs the update on trial and it confirms a healthy start
       after 5 s (tillroll/update/slot.py). The boot code is frozen and stays as it is.

Of Tillroll's images only the development one has a REPL. Stock MicroPython has one, but no
ROMFS partition to run the fonts and the firmware in place from: `Board.refusal` says why a
port cannot take a deploy and what to do instead.
"""

from __future__ import annotations

import ast
import binascii
import contextlib
import hashlib
import io
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import bundle as bd
from .chip_repl import REPL_READER
from .errors import FatalError
from .paths import ROOT

FONTS_ROMFS = ROOT / "out" / "firmware" / "fonts.romfs"
DEV_IMAGE = ROOT / "out" / "firmware" / "tillroll-rp2_pico-dev.uf2"
BLOCK = 4096  # the flash's erase block; what one statement carries
_ENTER_S = 20.0  # a firmware that is still starting stops at Ctrl-C once its event loop runs
_STATEMENT_S = 60.0  # one block, or hashing the fonts' 1.1 MB in place
_CONFIRMED = b"update confirmed"  # slot.confirm's line, on the REPL's interface
_GONE_S = 10.0  # a restart takes the USB down at once
_IMAGE_BLOCK = 1  # slot.IMAGE_AT // BLOCK: block 0 is the ticket's and the records'

# What any MicroPython answers: enough to tell a development image from stock MicroPython.
# Short: until the REPL reads a buffer at a time (fast_input), each byte costs a development
# image thousands of cycles (chip_repl.REPL_READER).
_SURVEY = """import gc,sys
gc.collect()
i=sys.implementation
r={'machine':getattr(i,'_machine',sys.platform),'micropython':'%d.%d.%d'%i.version[:3],
'free':gc.mem_free(),'romfs':False,'tillroll':None,'board':None}
try:
 import vfs
 r['romfs']=hasattr(vfs,'VfsRom') and vfs.rom_ioctl(1)>0
except (ImportError,AttributeError):
 pass
try:
 import tillroll as t
 r['tillroll']=t.VERSION;r['file']=t.__file__
 import rp2_pico.flash_map
 r['board']='rp2_pico'
except ImportError:
 pass
print(repr(r))
"""

# On a development image, once: the slot's flash, and one statement that puts a block.
_WRITER = """
import binascii, hashlib, rp2, vfs
from io import BytesIO
from deflate import DeflateIO, RAW
from rp2_pico.flash_map import UPDATE_AT, UPDATE_BYTES
from tillroll.update import slot
_slot = rp2.Flash(start=UPDATE_AT, len=UPDATE_BYTES)
def _put(dev, n, data, packed):
    b = binascii.a2b_base64(data)
    if packed:
        b = DeflateIO(BytesIO(b), RAW, 9).read()
    dev.ioctl(6, n)
    dev.writeblocks(n, b, 0)
"""


@dataclass
class Board:
    """What a port's MicroPython said about itself (_SURVEY)."""

    machine: str
    micropython: str
    free: int
    romfs: bool
    tillroll: str | None
    board: str | None
    file: str = ""

    @property
    def from_slot(self) -> bool:
        return self.file.startswith("/app/")

    def refusal(self, fonts_bytes: int, code_bytes: int) -> str | None:
        """Why this board cannot take a deploy, and what to do; None if it can."""
        if self.tillroll is not None and self.romfs and self.board in bd.BOARDS:
            return None
        what = f"MicroPython {self.micropython} on {self.machine}"
        flash = (
            "flash the development image first: hold BOOTSEL while plugging it in, then "
            f"`tillroll flash {DEV_IMAGE.relative_to(ROOT)}`"
        )
        if self.tillroll is None and not self.romfs:
            return (
                f"{what} is stock MicroPython: it has no Tillroll frozen in and no ROMFS "
                f"partition (vfs.VfsRom). Tillroll runs its fonts ({fonts_bytes:,} bytes) and "
                f"its bytecode ({code_bytes:,} bytes) in place from ROMFS in flash; here they "
                f"would have to load into RAM, and this board has {self.free:,} bytes of heap "
                f"free. To deploy, {flash}"
            )
        if self.tillroll is None:
            return f"{what} has no Tillroll frozen in: not a development image. To deploy, {flash}"
        if not self.romfs:
            return (
                f"{what} runs Tillroll {self.tillroll} but has no ROMFS partition for its "
                f"fonts. To deploy, {flash}"
            )
        return f"{what} runs Tillroll {self.tillroll} on a board deploy has no bundle for"


class Repl:
    """A module's raw REPL through mpremote's SerialTransport. `port` is a serial device or a
    pyserial URL (socket://127.0.0.1:PORT for the emulated chip's REPL)."""

    def __init__(self, port: str):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        self.port = port
        self._error = TransportError
        self._open = SerialTransport
        self.transport = None
        self.open()

    def open(self) -> None:
        try:
            self.transport = self._open(self.port, baudrate=115200)
        except (self._error, OSError, ValueError) as e:
            raise FatalError(f"cannot open {self.port}: {e}") from None

    def enter(self) -> None:
        """Stop what runs (Ctrl-C) and enter the raw REPL; no soft reset, which on the board
        would take its USB down with the REPL's own interface."""
        t = self.transport
        t.serial.write(b"\r\x03\x03")
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # mpremote prints what it got
                t.enter_raw_repl(soft_reset=False, timeout_overall=_ENTER_S)
        except (self._error, OSError) as e:
            raise FatalError(
                f"no MicroPython REPL answered on {self.port} ({e}). A production module has "
                "none: update it with `tillroll update` over its service port; a development "
                "image has its REPL on the USB interface after the printer's (docs/hardware.md)"
            ) from None

    def run(self, code: str) -> str:
        """Run code; what it printed. FatalError with the device's traceback if it raised."""
        try:
            out, err = self.transport.exec_raw(code, timeout=_STATEMENT_S)
        except (self._error, OSError) as e:
            raise FatalError(f"the REPL on {self.port} stopped answering: {e}") from None
        if err:
            raise FatalError(f"on the module:\n{err.decode(errors='replace').strip()}")
        return out.decode(errors="replace")

    def send(self, code: str) -> None:
        """Run code that does not come back (a reset)."""
        self.transport.exec_raw_no_follow(code)

    def survey(self) -> Board:
        text = self.run(_SURVEY).strip()
        try:
            return Board(**ast.literal_eval(text))
        except (ValueError, SyntaxError, TypeError):
            raise FatalError(
                f"{self.port}: not a MicroPython this knows: {text[:200]!r}"
            ) from None

    def fast_input(self) -> None:
        """Read the REPL a buffer at a time (chip_repl.REPL_READER says why): a development
        image's REPL is a CDC interface the firmware's USB stack serves in Python."""
        self.run(REPL_READER + "\nos.dupterm(_Repl(os.dupterm(None)))\n")

    def read_until(self, marker: bytes, timeout: float) -> bytes:
        """What the module prints until `marker`, without stopping it; SerialException (an
        OSError) when the port hangs up."""
        return self.transport.read_until(1, marker, timeout=None, timeout_overall=timeout)

    def close(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(Exception):
                self.transport.close()
            self.transport = None

    def reopen(self, deadline: float) -> None:
        """Open the port again, once it is back after a restart (a USB device re-enumerates;
        the emulated chip's TCP port takes the connection at once)."""
        while self.transport is None:
            try:
                self.open()
            except FatalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


def put_blocks(repl: Repl, dev: str, first: int, data: bytes, progress=None) -> None:
    """Write `data` into the device's block device `dev` from block `first`, a block a
    statement: erased, then programmed in whole pages (the last block padded with FF, which
    programs nothing). Deflated as mpremote's romfs deploy sends it, when that is shorter."""
    blocks = (len(data) + BLOCK - 1) // BLOCK
    for i in range(blocks):
        block = data[i * BLOCK : (i + 1) * BLOCK].ljust(BLOCK, b"\xff")
        z = zlib.compressobj(9, zlib.DEFLATED, -9)  # a 512-byte window: little RAM to inflate
        packed = z.compress(block) + z.flush()
        body, flag = (packed, 1) if len(packed) < len(block) else (block, 0)
        text = binascii.b2a_base64(body, newline=False)
        repl.run(f"_put({dev}, {first + i}, {text!r}, {flag})")
        if progress:
            progress(i + 1, blocks)


def install_update(repl: Repl, b: bd.Bundle, progress=None) -> None:
    """The bundle into the slot, checked, and STAGED: it runs from the next start."""
    info = b.info
    ticket = (
        f"slot.Ticket({b.version!r}, {info['board']!r}, {len(b.image)}, "
        f"{hashlib.sha256(b.image).digest()!r}, {hashlib.sha256(b.manifest).digest()!r}, "
        f"{b.signature!r}, slot.FORCED)"
    )
    # A development build runs whatever its version: FORCED, as `tillroll update --force`.
    repl.run(f"_ticket = {ticket}\nslot.write_ticket(_slot, _ticket)")
    put_blocks(repl, "_slot", _IMAGE_BLOCK, b.image, progress)
    ok = repl.run(
        "print(slot.image_sha256(_slot, _ticket.image_bytes) == _ticket.image_sha and "
        "slot.record(_slot, slot.STAGED))"
    ).strip()
    if ok != "True":
        raise FatalError("the image read back from the update slot does not match: not staged")


def fonts_differ(repl: Repl, fonts: bytes) -> tuple[bool, int]:
    """(whether the device's fonts partition differs from `fonts`, the partition's size)."""
    from mpremote.commands import _do_romfs_query_partition

    repl.run("import vfs")
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the partition's size
        has_object, size, block = _do_romfs_query_partition(repl.transport, 0)
    if not has_object or block != BLOCK:
        raise FatalError(f"the fonts' partition is not a block device of {BLOCK}-byte blocks")
    on_device = repl.run(
        f"print(binascii.hexlify(hashlib.sha256(memoryview(dev)[:{len(fonts)}]).digest())"
        ".decode())"
    ).strip()
    return on_device != hashlib.sha256(fonts).hexdigest(), size


def install_fonts(repl: Repl, fonts: bytes, progress=None) -> bool:
    """Rewrite the fonts' ROMFS partition if it differs from `fonts`; True if it was."""
    from mpremote.romfs import VfsRomWriter

    if not fonts.startswith(VfsRomWriter.ROMFS_HEADER):
        raise FatalError("the fonts file is not a ROMFS image")
    differ, size = fonts_differ(repl, fonts)
    if len(fonts) > size:
        raise FatalError(f"the fonts are {len(fonts)} bytes; the partition holds {size}")
    if not differ:
        return False
    repl.run("try:\n vfs.umount('/rom')\nexcept OSError:\n pass")
    put_blocks(repl, "dev", 0, fonts, progress)
    return True


def restart(repl: Repl) -> None:
    """Restart the module and wait until its port hangs up (USB goes in a restart)."""
    repl.send("import machine\nmachine.reset()")
    with contextlib.suppress(Exception):
        repl.read_until(b"\x00never", _GONE_S)
    repl.close()


def confirmed(repl: Repl, timeout: float) -> bytes:
    """After a restart: watch the REPL's interface, without stopping the firmware, until the
    update confirms a healthy start; what the module printed meanwhile."""
    seen = b""
    deadline = time.monotonic() + timeout
    while _CONFIRMED not in seen:
        if time.monotonic() > deadline:
            tail = seen.decode(errors="replace").strip()[-400:]
            raise FatalError(
                f"the module did not confirm the update in {timeout:.0f} s; its next start "
                f"rolls back to the frozen firmware. It printed: {tail or 'nothing'}"
            )
        try:
            repl.reopen(deadline)
            seen += repl.read_until(_CONFIRMED, deadline - time.monotonic())
        except Exception:  # hung up again (the USB came and went): open it again
            repl.close()
            time.sleep(0.5)
    repl.close()
    return seen


def deploy(
    port: str,
    key: Path,
    version: str | None = None,
    fonts_path: Path = FONTS_ROMFS,
    wait: float = 120.0,
    say=print,
    progress=lambda what: None,
) -> Board:
    """Deploy the working tree's firmware to the development board on `port` (see the
    module's doc); what the board said about itself before. `progress(what)` gives a
    callable(done, total) for each long step."""
    b = bd.build("rp2_pico", key, version, development=True, progress=progress("compiling"))
    try:
        fonts = Path(fonts_path).read_bytes()
    except OSError as e:
        raise FatalError(f"cannot read the fonts in {fonts_path}: {e.strerror}") from None
    repl = Repl(port)
    try:
        repl.enter()
        board = repl.survey()
        why = board.refusal(len(fonts), len(b.image))
        if why:
            raise FatalError(why)
        where = "its update slot" if board.from_slot else "frozen in its image"
        say(f"{port}: Tillroll {board.tillroll} ({where}) on MicroPython {board.micropython}")
        if board.from_slot:  # its code runs in place from the slot: never erase under it
            say("restarting into the frozen firmware first: the slot is to be rewritten")
            repl.run(_WRITER + "slot.clear(_slot)")
            restart(repl)
            repl.reopen(time.monotonic() + wait)
            repl.enter()
        repl.fast_input()
        repl.run(_WRITER)
        if install_fonts(repl, fonts, progress("fonts")):
            say(f"fonts: rewritten ({len(fonts):,} bytes)")
        else:
            say(f"fonts: the same as {Path(fonts_path).name} (SHA-256), kept")
        say(f"firmware: {b.version}, {len(b.info['files'])} files, {len(b.image):,} bytes")
        install_update(repl, b, progress(f"firmware {b.version}"))
        say("firmware: written to the update slot, its SHA-256 checked, staged")
        say("boot code: frozen in the image, kept")
        say("restarting: the boot code runs the update on trial")
        restart(repl)
        confirmed(repl, wait)
        say(f"the module runs {b.version}: it confirmed a healthy start")
        return board
    finally:
        repl.close()


def cmd_deploy(args) -> int:
    from .service_cli import Progress

    if not args.port:
        raise FatalError("which board? give -p PORT: its REPL's serial device or URL")
    deploy(args.port, Path(args.key), args.version, Path(args.fonts), args.wait, print, Progress)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser(
        "deploy",
        help="put this tree's firmware on a development board through its REPL (mpremote)",
        description="For a board running the development image (Tillroll frozen in, its REPL "
        "on a USB interface of its own): build the firmware's development bundle, write it "
        "into the update slot through the REPL with the firmware's own slot code, check its "
        "SHA-256 on the board and stage it; rewrite the fonts' ROMFS partition if it differs "
        "from the build's; restart, and wait until the board confirms a healthy start (5 s "
        "after it starts; if it does not, its next start rolls back to the frozen firmware). "
        "The boot code is frozen in the image and stays. Stock MicroPython is refused: it has "
        "no ROMFS partition to run the fonts and the firmware in place from. A production "
        "module has no REPL: update it with `tillroll update`.",
    )
    p.add_argument(
        "-p",
        "--port",
        help="the REPL's serial device or pyserial URL: /dev/ttyACM1 (the development "
        "image's second CDC interface), socket://127.0.0.1:PORT (the emulated chip's REPL)",
    )
    p.add_argument(
        "--key",
        default=str(ROOT / "tests" / "keys" / "test-maker.key"),
        help="the maker key that signs the bundle (default: the tests' key)",
    )
    p.add_argument("--version", help="the version it reports (default: the firmware's own)")
    p.add_argument(
        "--fonts", default=str(FONTS_ROMFS), help="the fonts' ROMFS image (make firmware's)"
    )
    p.add_argument(
        "--wait", type=float, default=120.0, help="seconds to wait for the board to restart"
    )
    p.set_defaults(func=cmd_deploy)
