"""Run the simulated module: the firmware on the MicroPython unix port with the sim board."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from .errors import FatalError
from .paths import FONTS, SIM_HEAP, SIM_MAIN, micropython, micropython_env

_RECEIPT = re.compile(r"^receipt (\d+): (.+)$")


def sim_command(args: list[str], heap: str = SIM_HEAP) -> list[str]:
    return [micropython(), "-X", f"heapsize={heap}", str(SIM_MAIN), "--fonts", str(FONTS), *args]


def run_firmware(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, **micropython_env()}
    return subprocess.run(sim_command(args), env=env, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimModule:
    """A simulated module in a child process, for tools and tests.

    with SimModule(out_dir) as sim:
        send(("127.0.0.1", sim.data_port), data)
        png = sim.wait_receipt()
    """

    def __init__(self, out_dir: Path, data_port: int = 0, echo: bool = False, via_cli=False):
        self.out_dir = Path(out_dir)
        self.via_cli = via_cli  # run it as a user does, through `tillroll sim`
        self.data_port = data_port or free_port()
        self.echo = echo
        self.receipts: list[Path] = []
        self.output: list[str] = []
        self._changed = threading.Condition()
        self._proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> SimModule:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        args = ["--data-port", str(self.data_port), "--out", str(self.out_dir)]
        if self.via_cli:
            cmd = [sys.executable, "-m", "tillroll_host.cli", "sim", *args]
        else:
            cmd = sim_command(args)
        self._proc = subprocess.Popen(
            cmd,
            env={**os.environ, **micropython_env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read_output, daemon=True).start()
        with self._changed:
            if not self._changed.wait_for(self._listening_or_dead, timeout):
                self.stop()
                raise FatalError(f"the simulated module did not start in {timeout:.0f} s")
        if self._proc.poll() is not None:
            raise FatalError("the simulated module stopped:\n" + "\n".join(self.output))
        return self

    def _listening_or_dead(self) -> bool:
        return any("listening" in line for line in self.output) or self._proc.poll() is not None

    def _read_output(self):
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            if self.echo:
                print(line, flush=True)
            with self._changed:
                self.output.append(line)
                m = _RECEIPT.match(line)
                if m:
                    self.receipts.append(Path(m.group(2)))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_receipt(self, count: int = 1, timeout: float = 30.0) -> Path:
        """Wait until `count` receipts have come out; return the path of the last one."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: len(self.receipts) >= count or self._proc.poll() is not None, timeout
            )
            if len(self.receipts) < count:
                why = "stopped" if done else f"gave none in {timeout:.0f} s"
                raise FatalError(
                    f"expected receipt {count}, the simulated module {why}:\n"
                    + "\n".join(self.output)
                )
            return self.receipts[count - 1]

    def stop(self, timeout: float = 10.0) -> int:
        """Stop the module the way Ctrl-C does and wait for it; return its exit status."""
        proc = self._proc
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def __enter__(self) -> SimModule:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def send(port: int, data: bytes, host: str = "127.0.0.1") -> None:
    """Send raw ESC/POS to a data port, as a POS terminal's raw TCP (port 9100) job does."""
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(data)
