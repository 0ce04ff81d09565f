"""Code on the emulated chip's development image, through its REPL.

The development image has a REPL on its second CDC interface (`ChipModule(..., repl=True)`
bridges it to a TCP port). `ChipRepl` speaks MicroPython's raw REPL there, as mpremote does
(Ctrl-A, the code, Ctrl-D; the output, then the error, each ended by 04h), puts files into the
chip's filesystem (littlefs at /), and can restart the chip into a *test mode*: a soft reset
after which a `boot.py` the runner wrote brings up only the USB ports, so the firmware does not
start and the next code finds a fresh heap. A soft reset runs the board's frozen `_boot.py` and
then `boot.py` from the filesystem; `main.py` (the firmware) runs only from the friendly REPL,
and the raw REPL is where a soft reset is asked for. The test mode lasts until a power cycle:
`boot.py` acts only while a watchdog scratch register holds the runner's mark, which a power
cycle clears.

    with ChipModule(flash, uf2=image_path(development=True), repl=True) as chip:
        repl = ChipRepl(chip)
        repl.fast_input()
        repl.test_mode()
        print(repl.run("import gc; print(gc.mem_free())"))
"""

from __future__ import annotations

import binascii
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .chip import ChipModule
from .errors import FatalError
from .paths import ROOT

# The board's own mpy-cross (`make firmware` builds it), for Thumb code of viper functions.
MPY_CROSS = ROOT / "out" / "rp2" / "src" / "micropython" / "mpy-cross" / "build" / "mpy-cross"
_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
_SCRATCH0 = 0x4005800C  # WATCHDOG_SCRATCH0: kept over a soft reset, cleared at power-on
_TEST_MARK = 0x54455354  # "TEST"
_CHUNK = 1024  # file bytes per statement when putting a file
_PACE_BYTES = 32  # paced input: so much at a time, then a pause for the chip to take it
_PACE_S = 0.02
# The REPL CDC for os.dupterm, read a buffer at a time, and written whole. dupterm asks for one
# byte a call, and micropython-lib's CDC buffer moves what is left after a partial read down
# to its start a byte at a time in Python: typed into the raw REPL, a 4 KB program took about
# 2 G cycles; read through this, 40 M. And the board's REPL CDC never waits to write (timeout
# 0): output faster than the host takes it was dropped. Put in place on the running REPL
# before anything large is sent, and by the test mode's boot.py.
REPL_READER = """
import io, machine, os
class _Repl(io.IOBase):
 def __init__(self, cdc):
  self._cdc = cdc
  self._buf = bytearray(256)
  self._at = self._n = 0
 def readinto(self, b):
  if self._at == self._n:
   self._n = self._cdc.readinto(self._buf) or 0
   self._at = 0
   if not self._n:
    return None
  b[0] = self._buf[self._at]
  self._at += 1
  return 1
 def write(self, b):
  n = self._cdc.write(b)
  if n < len(b):
   m = memoryview(b)
   while n < len(b):
    machine.idle()
    n += self._cdc.write(m[n:])
  return n
 def ioctl(self, req, arg):
  if req == 3 and self._at < self._n:
   return arg & 1
  return self._cdc.ioctl(req, arg)
"""
_READER_IN_PLACE = """
os.dupterm(_Repl(os.dupterm(None)))
"""


def test_boot(rom: tuple[int, int, str] | None = None, scratch: bool = False) -> str:
    """The test mode's boot.py; `rom` (XIP address, length, mount point): a ROMFS image in the
    flash to mount, so test modules run in place from flash as the frozen firmware does. With
    `scratch`, /tmp is a littlefs of its own over the journal's region (128 KiB), which tests
    of the sim's flash files need and the 64 KiB filesystem has no room for."""
    mount = ""
    if scratch:
        mount += (
            "    import rp2, vfs\n"
            "    from rp2_pico.flash_map import JOURNAL_AT, JOURNAL_BYTES\n\n"
            "    _f = rp2.Flash(start=JOURNAL_AT, len=JOURNAL_BYTES)\n"
            "    try:\n"
            '        vfs.mount(vfs.VfsLfs2(_f, progsize=256), "/tmp")\n'
            "    except OSError:\n"
            "        vfs.VfsLfs2.mkfs(_f, progsize=256)\n"
            '        vfs.mount(vfs.VfsLfs2(_f, progsize=256), "/tmp")\n'
        )
    if rom is not None:
        at, length, where = rom
        mount += (
            "    import uctypes, vfs\n\n"
            f"    vfs.mount(vfs.VfsRom(uctypes.bytearray_at({at:#x}, {length:#x})), {where!r})\n"
        )
    return (
        "# Written by the test runner (host/tillroll_host/chip_repl.py, test mode): after a\n"
        "# soft reset it asked for, only the USB ports come up, and the raw REPL waits with a\n"
        "# fresh heap.\n"
        f"import machine\n{REPL_READER}\n"
        f"if machine.mem32[{_SCRATCH0:#x}] == {_TEST_MARK:#x}:\n"
        f"{mount}"
        "    from rp2_pico.usb_ports import start_usb\n\n"
        '    os.dupterm(_Repl(start_usb("TEST0000", True).repl))\n'
    )


def romfs(files: dict[str, bytes]) -> bytes:
    """A ROMFS image (MicroPython's vfs.VfsRom) holding `files` (path -> data; '/' in a path
    makes a directory)."""
    from mpremote.romfs import VfsRomWriter

    tree: dict = {}
    for path, data in files.items():
        *dirs, name = path.strip("/").split("/")
        node = tree
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = data
    writer = VfsRomWriter()

    def add(node: dict) -> None:
        for name in sorted(node):
            if isinstance(node[name], dict):
                writer.opendir(name)
                add(node[name])
                writer.closedir()
            else:
                writer.mkfile(name, node[name])

    add(tree)
    return writer.finalise()


class ChipReplError(FatalError):
    """Code on the chip raised: its output and the traceback."""

    def __init__(self, out: str, err: str):
        super().__init__(f"on the chip:\n{out}{err}")
        self.out = out
        self.err = err


def compile_for_board(source: str, name: str) -> bytes:
    """The .mpy of module `name` (its path, as tracebacks show it) for the board: armv6m, so
    viper and native functions are Thumb code."""
    if not MPY_CROSS.exists():
        raise FatalError(f"{MPY_CROSS} is missing: `make firmware` builds it")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "module.py"
        src.write_text(source)
        out = Path(tmp) / "module.mpy"
        done = subprocess.run(
            [str(MPY_CROSS), "-march=armv6m", "-s", f"{name}.py", "-o", str(out), str(src)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise FatalError(f"mpy-cross failed on {name}:\n{done.stderr}")
        return out.read_bytes()


class ChipRepl:
    """The raw REPL of a development image running in `chip`."""

    def __init__(self, chip: ChipModule, timeout: float = 60.0):
        if not chip.repl_port:
            raise FatalError("the chip was started without its REPL port (repl=True)")
        self.chip = chip
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buf = b""

    # ---- the connection ---------------------------------------------------------------------

    def connect(self) -> None:
        """Connect and enter the raw REPL; a running program (the firmware) is stopped."""
        self.close()
        self._sock = socket.create_connection(("127.0.0.1", self.chip.repl_port), self.timeout)
        self._buf = b""
        self._sock.sendall(b"\r\x03\x03\x01")
        self._read_until(_BANNER, self.timeout)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _read_until(self, marker: bytes, timeout: float) -> bytes:
        assert self._sock is not None
        deadline = time.monotonic() + timeout
        while marker not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FatalError(
                    f"no {marker!r} from the chip's REPL in {timeout:.0f} s; got {self._buf!r}"
                )
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise FatalError(f"the chip's REPL closed before {marker!r}; got {self._buf!r}")
            self._buf += chunk
        head, _, self._buf = self._buf.partition(marker)
        return head

    # ---- running code -----------------------------------------------------------------------

    def exec(
        self, code: str | bytes, timeout: float | None = None, paced: bool = False
    ) -> tuple[str, str]:
        """Run code in the raw REPL: what it printed, and its traceback ('' if none). `paced`
        sends it a little at a time, for a REPL still read through the CDC's own buffer."""
        self.begin(code, timeout, paced)
        return self.end(timeout)

    def begin(self, code: str | bytes, timeout: float | None = None, paced: bool = False):
        """Send code to run; return once the chip has taken it (it runs on). `wait_for`
        reads its output as it comes, `end` the rest."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        data = code.encode() if isinstance(code, str) else code
        if any(c in data for c in b"\x01\x02\x03\x04\x05"):
            raise FatalError("code for the raw REPL cannot hold its control bytes 01h-05h")
        data += b"\x04"
        step = _PACE_BYTES if paced else len(data)
        for at in range(0, len(data), step):
            self._sock.sendall(data[at : at + step])
            if paced:
                time.sleep(_PACE_S)
        head = self._read_until(b"OK", self.timeout if timeout is None else timeout)
        if head.strip():
            raise FatalError(f"the chip's raw REPL did not take the code: {head!r}")

    def wait_for(self, marker: bytes, timeout: float | None = None) -> str:
        """The output of the running code up to `marker` (which is consumed)."""
        return self._read_until(marker, self.timeout if timeout is None else timeout).decode(
            errors="replace"
        )

    def end(self, timeout: float | None = None) -> tuple[str, str]:
        """The rest of the running code's output, and its traceback ('' if none)."""
        timeout = self.timeout if timeout is None else timeout
        out = self._read_until(b"\x04", timeout).decode(errors="replace")
        err = self._read_until(b"\x04>", timeout).decode(errors="replace")
        return out, err

    def run(self, code: str | bytes, timeout: float | None = None, paced: bool = False) -> str:
        """Run code; what it printed. ChipReplError if it raised."""
        out, err = self.exec(code, timeout, paced)
        if err:
            raise ChipReplError(out, err)
        return out

    # ---- files ------------------------------------------------------------------------------

    def put(self, path: str, data: bytes) -> None:
        """Write a file into the chip's filesystem (its directory must exist)."""
        lines = [
            "from binascii import a2b_base64 as d",
            f"f = open({path!r}, 'wb')",
            "w = f.write",
        ]
        for at in range(0, len(data), _CHUNK):
            chunk = binascii.b2a_base64(data[at : at + _CHUNK], newline=False)
            lines.append(f"w(d({chunk!r}))")
        lines += ["f.close()", "del f, w, d"]
        self.run("\n".join(lines))

    def makedirs(self, *paths: str) -> None:
        code = ["import os"]
        for path in paths:
            code.append(f"try:\n os.mkdir({path!r})\nexcept OSError:\n pass")
        self.run("\n".join(code))

    # ---- restarts ---------------------------------------------------------------------------

    def fast_input(self) -> None:
        """Read the REPL a buffer at a time from now on (REPL_READER says why); do this once,
        before sending anything large. A test mode's REPL starts that way."""
        self.run(REPL_READER + _READER_IN_PLACE, paced=True)

    def test_mode(self, rom: tuple[int, int, str] | None = None, scratch: bool = False) -> None:
        """Restart the chip into test mode (see the module's doc; `rom`, `scratch`: see
        test_boot)."""
        self.put("/boot.py", test_boot(rom, scratch).encode())
        self.run(f"import machine\nmachine.mem32[{_SCRATCH0:#x}] = {_TEST_MARK:#x}")
        self.soft_reset()

    def soft_reset(self, timeout: float = 120.0) -> None:
        """A soft reset from the raw REPL (a fresh heap; in test mode, no firmware), and back
        in the raw REPL once the chip's USB is up again."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        readies = self.chip.readies()
        self._sock.sendall(b"\x04")  # at the raw REPL's prompt, with nothing typed: soft reset
        self.chip.wait_ready(timeout, after=readies)
        self.connect()
