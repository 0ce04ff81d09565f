"""The rig controller (boards/rig_pico, docs/rig.md): its image, its link, and the paper rebuilt
from what it captured on the head's lines.

`rig_image()` is the stock MicroPython image with the controller's files in its filesystem, one
UF2 a rig's Pico is flashed with. `RigLink` speaks its line protocol over any pyserial URL.
`Capture.png()` draws the activations as paper: each dot line where the motor had brought the
paper, each dot as dark as its strobe's energy was near what the head needs (weak heating
shows grey).
"""

from __future__ import annotations

import io
import math
import statistics
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import serial
from PIL import Image

from .errors import FatalError
from .image import XIP_BASE, uf2_pages, uf2_write
from .paths import ROOT, micropython

RIG_SOURCES = ROOT / "boards" / "rig_pico"
STOCK_UF2 = ROOT / "out" / "rp2" / "stock" / "firmware.uf2"
RIG_UF2 = ROOT / "out" / "rig" / "rig.uf2"
# The stock Pico image's filesystem: littlefs (progsize 256) over the last 1408 KiB of 2 MiB.
FS_AT = 0x200000 - 1408 * 1024
FS_BLOCKS = 1408 * 1024 // 4096
_PAGE = 256
_MKFS = """
import sys, vfs
class Ram:
    def __init__(self, n):
        self.data = bytearray(b"\\xff" * (n * 4096))
    def readblocks(self, block, buf, off=0):
        at = block * 4096 + off
        buf[:] = self.data[at:at + len(buf)]
    def writeblocks(self, block, buf, off=None):
        if off is None:
            self.data[block * 4096:block * 4096 + 4096] = b"\\xff" * 4096
            off = 0
        at = block * 4096 + off
        self.data[at:at + len(buf)] = buf
    def ioctl(self, op, arg):
        if op == 4:
            return %(blocks)d
        if op == 5:
            return 4096
        if op == 6:
            self.data[arg * 4096:arg * 4096 + 4096] = b"\\xff" * 4096
            return 0
ram = Ram(%(blocks)d)
vfs.VfsLfs2.mkfs(ram, progsize=256)
fs = vfs.VfsLfs2(ram, progsize=256)
for name in sys.argv[2:]:
    with open(name, "rb") as src, fs.open(name.rsplit("/", 1)[-1], "wb") as dst:
        dst.write(src.read())
used = ram.data
end = len(used)
while end and used[end - 4096:end] == b"\\xff" * 4096:
    end -= 4096
with open(sys.argv[1], "wb") as out:
    out.write(used[:end])
"""


def rig_image(out: Path = RIG_UF2, stock: Path = STOCK_UF2) -> Path:
    """The rig controller's UF2: `stock` (`make stock-firmware`) and a filesystem holding
    boards/rig_pico's files. Rebuilt when a source is newer."""
    sources = sorted(RIG_SOURCES.glob("*.py"))
    if not stock.exists():
        raise FatalError(f"{stock.relative_to(ROOT)} is missing: run `make stock-firmware`")
    newest = max(p.stat().st_mtime for p in [stock, *sources])
    if out.exists() and out.stat().st_mtime >= newest:
        return out
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "mkfs.py"
        script.write_text(_MKFS % {"blocks": FS_BLOCKS})
        fs = Path(tmp) / "fs.bin"
        cmd = [micropython(), "-X", "heapsize=8M", str(script), str(fs), *map(str, sources)]
        made = subprocess.run(cmd, capture_output=True, text=True)
        if made.returncode:
            raise FatalError(
                f"the rig's filesystem could not be made: {(made.stdout + made.stderr).strip()}"
            )
        pages = {a: p for a, p in uf2_pages(stock.read_bytes()).items() if a < XIP_BASE + FS_AT}
        # Only the pages littlefs wrote: a flasher erases each sector it writes into, and
        # littlefs takes blocks it has not written for free.
        data = fs.read_bytes()
        for off in range(0, len(data), _PAGE):
            page = data[off : off + _PAGE].ljust(_PAGE, b"\xff")
            if page != b"\xff" * _PAGE:
                pages[XIP_BASE + FS_AT + off] = page
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(uf2_write(pages))
    return out


class RigError(FatalError):
    """The rig controller refused a command or did not answer."""


@dataclass
class Activation:
    step: int  # the motor's step count at the latch
    us: int  # the rig's microsecond clock at the latch (time.ticks_us(): 30 bits, wrapping)
    width_ns: int  # how long STB was high
    dots: bytes  # 48 bytes, dot 0 the first byte's top bit

    @property
    def black(self) -> int:
        return sum(bin(b).count("1") for b in self.dots)

    def since(self, before: Activation) -> int:
        """Microseconds from `before`'s latch to this one's."""
        return (self.us - before.us) & ((1 << 30) - 1)


@dataclass
class Capture:
    """What the rig saw the head print since it was last taken."""

    activations: list[Activation] = field(default_factory=list)
    steps: int = 0  # the motor's step count when last heard

    def png(self, steps_per_line: int, shades: list[float]) -> bytes:
        """The paper: a dot line per `steps_per_line` steps, from the first step seen to the
        last; each activation's dots as dark as its shade (1: black, as the head's full energy
        makes them). A dot line fired twice (a half-dot head) shows its darker half."""
        if not self.activations and not self.steps:
            return _png(Image.new("L", (384, 1), 255))
        first = min([a.step for a in self.activations] + [self.steps])
        last = max([a.step for a in self.activations] + [self.steps])
        rows = max(1, (last - first) // steps_per_line + 1)
        ink = bytearray(384 * rows)
        for a, shade in zip(self.activations, shades, strict=True):
            row = (a.step - first) // steps_per_line
            level = min(255, round(255 * shade))
            bits = int.from_bytes(a.dots, "big")
            for dot in range(384):
                if bits >> (383 - dot) & 1:
                    at = row * 384 + dot
                    ink[at] = max(ink[at], level)
        return _png(Image.frombytes("L", (384, rows), bytes(255 - v for v in ink)))


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def mechanism(name: str):
    """A mechanism's datasheet facts (boards/mechanisms/NAME.py) and the limit model's heat
    equations (boards/mechanisms/limit.py), as modules."""
    import importlib
    import sys

    boards = str(ROOT / "boards")
    if boards not in sys.path:
        sys.path.append(boards)
    return importlib.import_module(f"mechanisms.{name}"), importlib.import_module(
        "mechanisms.limit"
    )


def head_temp_c(thermistor_mv: int, m) -> float:
    """The head's temperature from its NTC's line (the NTC under a pull-up of its R25)."""
    v = min(max(thermistor_mv, 1), 3299)
    ohms = m.THERMISTOR_R25 * v / (3300 - v)
    return 1 / (1 / 298.15 + math.log(ohms / m.THERMISTOR_R25) / m.THERMISTOR_B) - 273.15


def energy_ratios(activations: list[Activation], m, limit, supply_mv: int, temp_c: float):
    """Each activation's strobe over the pulse the datasheet asks for its dots at that supply
    and head temperature (LTP02 TR eqs. 3-8). The heat history's W' is the time since the
    dots it heats were last heated (the latest of them; a second for dots the receipt has not
    heated yet, C = 1): a line divided among sub-strobes heats each group once a half-dot line.
    1.0: the energy the paper needs; an empty activation (nothing to heat) counts as 1.0."""
    heated: dict[int, Activation] = {}  # dot -> the activation that last heated it
    ratios = []
    for a in activations:
        bits = int.from_bytes(a.dots, "big")
        dots = [d for d in range(384) if bits >> (383 - d) & 1]
        if not dots:
            ratios.append(1.0)
            continue
        w_us = min((a.since(heated[d]) for d in dots if d in heated), default=10**6)
        need_ns = limit.pulse_us(m, supply_mv, temp_c, w_us, len(dots)) * 1000
        ratios.append(a.width_ns / need_ns)
        for d in dots:
            heated[d] = a
    return ratios


def heat_verdict(ratios: list[float], band=(0.9, 1.1), weak=0.75, most=0.05) -> str | None:
    """What is wrong with the heat a receipt's activations had (energy_ratios), or None: the
    median activation within `band` of what the datasheet asks (a weak receipt prints grey, an
    over-heated head wears out), and no more than `most` of them below `weak`. (The engine
    gives dots a line heats anew the heat history of the line before: the few activations
    that are mostly new dots get about half their energy.)"""
    if not ratios:
        return "nothing was printed"
    median = statistics.median(ratios)
    if not band[0] <= median <= band[1]:
        return f"the median activation had {median:.2f} of the energy the datasheet asks"
    low = sum(r < weak for r in ratios)
    if low > most * len(ratios):
        return f"{low} of {len(ratios)} activations had less than {weak} of it"
    return None


class EmulatedRig:
    """A module and its rig controller on two emulated RP2040s, their pins wired together
    (boards/rp2040_chip/rig_pins.mjs): `image` (default: the production image) on the module,
    and with `twin` the sim's mechanism twin on its pins too, as a witness. The module is off
    until the rig switches it on."""

    def __init__(self, work: Path, image: Path | None = None, twin: str | None = None):
        from .chip import ChipModule, image_path
        from .sim import free_port

        self.port = free_port()
        self.module = ChipModule(
            Path(work) / "flash.bin",
            uf2=image or image_path(),
            service=True,
            twin=twin,
            paper=Path(work) / "twin" if twin else None,
            extra_args=["--rig-uf2", str(rig_image()), "--rig-port", str(self.port)],
        )

    def urls(self) -> dict[str, str]:
        """The links as pyserial URLs, as `tillroll_host.hil.RigTarget` takes them."""
        return {
            "data_url": f"socket://127.0.0.1:{self.module.data_port}",
            "service_url": f"socket://127.0.0.1:{self.module.service_port}",
            "rig_url": f"socket://127.0.0.1:{self.port}",
        }

    def start(self) -> EmulatedRig:
        self.module.start()
        return self

    def stop(self) -> str:
        return self.module.stop()

    def __enter__(self) -> EmulatedRig:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RigLink:
    """The rig controller's USB link (`socket://...` for an emulated rig, a CDC port for a real
    one). A reader thread keeps what the head printed; commands wait for their answer."""

    def __init__(self, url: str, timeout: float = 30.0):
        from .hil import open_link

        self._port = open_link(url, timeout, timeout=0.2)
        self.url = url
        self._lock = threading.Condition()
        self._capture = Capture()
        self._answers: list[str] = []
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()
        answer = self.command("id", timeout=timeout)
        if not answer.startswith("tillroll-rig"):
            raise RigError(f"{url} is not a rig controller: it said {answer!r}")

    def _read(self) -> None:
        pending = b""
        while not self._closed:
            try:
                got = self._port.read(4096)
            except (serial.SerialException, OSError, AttributeError):
                return  # closed (pyserial's socket port drops its socket on close)
            pending += got
            *lines, pending = pending.split(b"\n")
            with self._lock:
                for raw in lines:
                    self._line(raw.strip().decode(errors="replace"))
                if lines:
                    self._lock.notify_all()

    def _line(self, line: str) -> None:
        kind, _, rest = line.partition(" ")
        if kind == "A":
            step, us, width, dots = rest.split()
            a = Activation(int(step), int(us), int(width), bytes.fromhex(dots))
            self._capture.activations.append(a)
            self._capture.steps = max(self._capture.steps, int(step))
        elif kind == "M":
            self._capture.steps = int(rest)
        elif kind in ("ok", "error"):
            self._answers.append(line)

    def command(self, line: str, timeout: float = 10.0) -> str:
        """Sends a command; its answer after `ok `. RigError on `error` or no answer."""
        with self._lock:
            self._answers.clear()
            self._port.write(line.encode() + b"\n")
            if not self._lock.wait_for(lambda: self._answers, timeout):
                raise RigError(f"the rig controller did not answer {line!r} in {timeout:.0f} s")
            answer = self._answers.pop(0)
        if answer.startswith("error"):
            raise RigError(f"rig controller: {answer[6:]}")
        return answer[3:]

    def take(self) -> Capture:
        """What was captured since the last take."""
        with self._lock:
            taken, self._capture = self._capture, Capture(steps=self._capture.steps)
        return taken

    def steps(self) -> int:
        with self._lock:
            return self._capture.steps

    def wait(self, until, timeout: float) -> bool:
        """Waits until `until(capture)` holds for what is captured so far."""
        with self._lock:
            return self._lock.wait_for(lambda: until(self._capture), timeout)

    def set(self, line: str, on: bool) -> None:
        self.command(f"{line} {int(on)}")

    def counts(self) -> dict[str, int]:
        """The rig's counters: motor steps, latches seen, activations sent, latches lost to a
        full ring, latches a power switch cut off before their strobe, latches with no strobe
        before the next (a module's pins falling as it resets)."""
        names = ("steps", "latches", "activations", "overruns", "abandoned", "unstrobed")
        return dict(zip(names, map(int, self.command("counts").split()[1:]), strict=True))

    def supply_mv(self) -> int:
        """The module's head supply, as the rig's ADC reads it."""
        return int(self.command("supply").split()[1])

    def thermistor_mv(self) -> int:
        """The head thermistor's line, as the rig's ADC reads it."""
        return int(self.command("thermistor").split()[1])

    def close(self) -> None:
        self._closed = True
        self._port.close()
