"""The module on an emulated RP2040: the board image booted by `boards/rp2040_chip/chip.mjs`
(npm rp2040js with the RP2040 boot ROM), behind TCP ports as the unix-port sim is.

    with ChipModule(flash_file) as chip:
        send(("127.0.0.1", chip.data_port), data)
        chip.control("restart")
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

from .errors import FatalError
from .paths import BOARDS, ROOT
from .sim import free_port

CHIP_MAIN = BOARDS / "rp2040_chip" / "chip.mjs"
IMAGES = ROOT / "out" / "firmware"
BOOTROM = ROOT / "third_party" / "rp2040-bootrom-b1.bin"


def image_path(development: bool = False, update: bool = False, board: str = "rp2_pico") -> Path:
    """A UF2 file `make firmware` writes."""
    name = f"tillroll-{board}{'-dev' if development else ''}{'-update' if update else ''}.uf2"
    path = IMAGES / name
    if not path.exists():
        raise FatalError(f"{path} is missing: `make firmware` builds it")
    return path


def elf_path(development: bool = False, board: str = "rp2_pico") -> Path:
    """The ELF file `make firmware` writes beside an image (its update UF2 has the same)."""
    path = IMAGES / f"tillroll-{board}{'-dev' if development else ''}.elf"
    if not path.exists():
        raise FatalError(f"{path} is missing: `make firmware` builds it")
    return path


_GC_SYMBOLS = {
    "gc_alloc": "gc_alloc",
    "gc_realloc": "gc_realloc",
    "gc_free": "gc_free",
    "gc_collect_start": "gc_collect_start",
    "mp_state_ctx": "mp_state_ctx",
    "__GcHeapStart": "heap_start",
    "__GcHeapEnd": "heap_end",
}


def gc_symbols(elf: Path) -> dict[str, int]:
    """What the chip's heap probe (boards/rp2040_chip/gc_probe.mjs) needs from an image's ELF:
    the GC's entry points, mp_state_ctx and its size, and the heap's bounds."""
    nm = shutil.which("arm-none-eabi-nm")
    if nm is None:
        raise FatalError("arm-none-eabi-nm is missing: `make firmware` installs the Arm toolchain")
    done = subprocess.run([nm, "-S", str(elf)], capture_output=True, text=True, check=True)
    found: dict[str, int] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        name = parts[-1]
        if name in _GC_SYMBOLS:
            found[_GC_SYMBOLS[name]] = int(parts[0], 16)
            if name == "mp_state_ctx" and len(parts) == 4:
                found["mp_state_ctx_size"] = int(parts[1], 16)
    missing = set(_GC_SYMBOLS.values()) - set(found)
    if missing or "mp_state_ctx_size" not in found:
        raise FatalError(f"{elf}: no symbol for {sorted(missing) or 'the size of mp_state_ctx'}")
    return found


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise FatalError("the emulated chip runs on Node.js: install Node 20 (`node` on PATH)")
    if not (ROOT / "node_modules" / "rp2040js").is_dir():
        raise FatalError("npm rp2040js is missing: run `make node_modules/.installed`")
    return found


def write_uf2(flash: Path, uf2: Path) -> None:
    """Write a UF2 into a chip's kept flash as a UF2 flasher does (each sector it touches
    erased, then written; the rest as it was), without booting it."""
    cmd = [node(), str(CHIP_MAIN), "--flash", str(flash), "--uf2", str(uf2), "--write-only"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise FatalError(f"cannot write {uf2} into {flash}: {done.stderr.strip()}")


def _die_with_parent() -> None:
    """In the chip's process, before it runs: SIGTERM when the process that started it ends
    (Linux), so a test run that dies leaves no emulator running."""
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ChipModule:
    """The emulated chip in a child process. `uf2` is written into the flash at start (as a
    UF2 flasher would; None: the flash file as it is, a module switched on again). With
    `heap_elf` (the image's ELF) the chip's free heap is watched (`control("heap")`). With
    `twin` (a mechanism: ltp02-245, jx-2r-01, pt486f-b) the sim's mechanism twin is driven by
    the head's and the motor's pins, and what it prints goes to `paper` (a directory)."""

    def __init__(
        self,
        flash: Path,
        uf2: Path | None = None,
        data_port: int = 0,
        host: str = "127.0.0.1",
        repl: bool = False,
        uart: bool = False,
        printer: bool = False,
        echo: bool = False,
        extra_args: list[str] | None = None,
        heap_elf: Path | None = None,
        service: bool = False,
        feed_held: bool = False,
        twin: str | None = None,
        paper: Path | None = None,
    ):
        self.flash = Path(flash)
        self.uf2 = uf2
        self.host = host
        self.data_port = data_port or free_port()
        self.control_port = free_port()
        self.repl_port = free_port() if repl else 0
        self.uart_port = free_port() if uart else 0
        self.printer_port = free_port() if printer else 0
        # The service link: the image's last CDC interface (after the REPL on a development
        # image), offered on a TCP port as the other CDC interfaces are.
        self.service_port = free_port() if service else 0
        self.repl = repl
        self.feed_held = feed_held  # FEED held through power-on: maintenance mode
        self.echo = echo
        self.extra_args = list(extra_args or [])
        if heap_elf is not None:  # the heap probe: `control("heap")`
            self.extra_args += ["--gc-symbols", json.dumps(gc_symbols(heap_elf))]
        self.env = {**os.environ}
        if twin is not None:
            from .paths import firmware_mpy, micropython, micropython_env

            if paper is None:
                raise FatalError("a twin needs a directory for its paper")
            Path(paper).mkdir(parents=True, exist_ok=True)
            firmware_mpy()
            self.env.update(micropython_env())
            self.extra_args += ["--twin", twin, "--paper", str(paper)]
            self.extra_args += ["--micropython", micropython()]
        self.paper = paper
        self.output: list[str] = []
        self._changed = threading.Condition()
        self._proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        cmd = [node(), str(CHIP_MAIN), "--flash", str(self.flash), "--bootrom", str(BOOTROM)]
        if self.uf2 is not None:
            cmd += ["--uf2", str(self.uf2)]
        cmd += ["--host", self.host, "--data-port", str(self.data_port)]
        cmd += ["--control-port", str(self.control_port)]
        for option, port in (
            ("--repl-port", self.repl_port),
            ("--uart-port", self.uart_port),
            ("--printer-port", self.printer_port),
            ("--service-port", self.service_port),
        ):
            if port:
                cmd += [option, str(port)]
        if self.service_port:
            cmd += ["--cdc-order", "data,repl,service" if self.repl else "data,service"]
        if self.feed_held:
            cmd += ["--board", "rp2_pico_feed_held"]
        return cmd + self.extra_args

    def start(self, timeout: float = 120.0, ready: bool = True) -> ChipModule:
        """Start the chip and wait until it is ready (its USB configured); with ready False only
        until its ports listen, so bytes a client sends meanwhile wait for the device."""
        self.flash.parent.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_die_with_parent,
        )
        threading.Thread(target=self._read_output, daemon=True).start()
        if ready:
            self.wait_ready(timeout)
        else:
            self._wait_line("control on ", timeout)
        return self

    def _wait_line(self, start: str, timeout: float) -> None:
        with self._changed:
            done = self._changed.wait_for(
                lambda: (
                    any(line.startswith(start) for line in self.output)
                    or self._proc.poll() is not None
                ),
                timeout,
            )
        if not done or self._proc.poll() is not None:
            raise FatalError("the emulated chip did not start:\n" + "\n".join(self.output[-30:]))

    def wait_ready(self, timeout: float = 120.0, after: int = 0) -> None:
        """Wait until the chip's USB is configured (the `after`-th `ready` line on)."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: self.readies() > after or self._proc.poll() is not None, timeout
            )
        if self._proc.poll() is not None:
            raise FatalError("the emulated chip stopped:\n" + "\n".join(self.output[-30:]))
        if not done:
            raise FatalError(
                f"the emulated chip was not ready in {timeout:.0f} s:\n"
                + "\n".join(self.output[-30:])
            )

    def readies(self) -> int:
        """How many times the chip's USB has been configured (each boot, each soft reset)."""
        return sum(1 for line in self.output if line.startswith("ready"))

    def _read_output(self):
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            if self.echo:
                print(line, flush=True)
            with self._changed:
                self.output.append(line)
                self._changed.notify_all()

    def control(self, cmd: str, timeout: float = 60.0, **args) -> dict:
        """One request on the chip's control port; its JSON answer."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=timeout) as s:
            s.sendall((json.dumps({"cmd": cmd, **args}) + "\n").encode())
            f = s.makefile("rb")
            line = f.readline()
        if not line:
            raise FatalError(f"the emulated chip closed the control channel on {cmd}")
        answer = json.loads(line)
        if answer.get("error"):
            raise FatalError(f"{cmd}: {answer['error']}")
        return answer

    def restart(self, timeout: float = 120.0) -> None:
        """Power-cycle the chip, its flash kept; wait until it is ready again."""
        readies = self.readies()
        self.control("restart")
        self.wait_ready(timeout, after=readies)

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> str:
        """Stop the chip (its flash saved); its last output."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        return "\n".join(self.output)

    def __enter__(self) -> ChipModule:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
