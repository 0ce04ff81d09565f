"""Run the simulated module: the firmware on the MicroPython unix port with the sim board."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from .errors import FatalError
from .paths import FONTS, SIM_HEAP, SIM_MAIN, SIM_UPDATE_HEAP, micropython, micropython_env
from .pty_bridge import PtyBridge

_RECEIPT = re.compile(r"^receipt (\d+): (.+)$")


RESTART = 75  # the sim's exit status when the module restarts itself (an update)


def sim_command(args: list[str], heap: str = SIM_HEAP) -> list[str]:
    if "--update" in args and heap == SIM_HEAP:
        heap = SIM_UPDATE_HEAP
    return [micropython(), "-X", f"heapsize={heap}", str(SIM_MAIN), "--fonts", str(FONTS), *args]


def run_firmware(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, **micropython_env()}
    return subprocess.run(sim_command(args), env=env, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def interruptible() -> None:
    """In the module's process, before it runs: Ctrl-C (SIGINT) stops it, though this process
    may ignore SIGINT (a background job of a script does, and Python keeps a SIGINT ignored at
    its start ignored: `tillroll sim` would never pass the Ctrl-C on to the module)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class SimModule:
    """A simulated module in a child process, for tools and tests.

    with SimModule(out_dir) as sim:
        send(("127.0.0.1", sim.data_port), data)
        png = sim.wait_receipt()
    """

    def __init__(
        self,
        out_dir: Path,
        data_port: int = 0,
        echo: bool = False,
        via_cli=False,
        mechanism: str | None = None,
        state_dir: Path | None = None,
        feed_held: bool = False,
        real_time: bool = False,
        extra_args: list[str] | None = None,
        host: str = "127.0.0.1",
        pty: bool = False,
    ):
        self.out_dir = Path(out_dir)
        self.host = host  # the data port's address: any 127.x.y.z is the loopback
        self.via_cli = via_cli  # run it as a user does, through `tillroll sim`
        self.data_port = data_port or free_port()
        self.control_port = free_port()
        self.line_port = 0  # the data port as a serial line, for the pty bridge
        self.mechanism = mechanism
        self.state_dir = state_dir
        self.feed_held = feed_held
        self.real_time = real_time
        self.extra_args = list(extra_args or [])  # e.g. the journal's --journal FILE
        self.pty = pty  # also bridge the data port to a pseudo-terminal, at `pty_path`
        self.pty_path = ""
        self._bridge: PtyBridge | None = None
        self._control: socket.socket | None = None
        self._control_file = None
        self.echo = echo
        self.receipts: list[Path] = []
        self.output: list[str] = []
        self._changed = threading.Condition()
        self._proc: subprocess.Popen | None = None
        self._cmd: list[str] = []
        self._stopping = False
        self.restarts = 0  # times the module restarted itself

    def start(self, timeout: float = 10.0) -> SimModule:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        args = ["--data-port", str(self.data_port), "--out", str(self.out_dir)]
        args += ["--host", self.host]
        args += ["--control-port", str(self.control_port)]
        if self.mechanism:
            args += ["--mechanism", self.mechanism]
        if self.state_dir:
            Path(self.state_dir).mkdir(parents=True, exist_ok=True)
            args += ["--state", str(self.state_dir)]
        if self.feed_held:
            args.append("--feed-held")
        if self.real_time:
            args.append("--real-time")
        if self.pty:
            self.line_port = self.line_port or free_port()
            args += ["--line-port", str(self.line_port)]
        args += self.extra_args
        if self.via_cli:
            cmd = [sys.executable, "-m", "tillroll_host.cli", "sim", *args]
        else:
            cmd = sim_command(args)
        self._cmd = cmd
        self._proc = self._spawn()
        threading.Thread(target=self._read_output, daemon=True).start()
        with self._changed:
            if not self._changed.wait_for(self._listening_or_dead, timeout):
                self.stop()
                raise FatalError(f"the simulated module did not start in {timeout:.0f} s")
        if self._proc.poll() is not None:
            raise FatalError("the simulated module stopped:\n" + "\n".join(self.output))
        if self.pty:
            self._bridge = PtyBridge(self.line_port, self.host).start()
            self.pty_path = self._bridge.path
        return self

    def _spawn(self) -> subprocess.Popen:
        # A session of its own: a module that will not stop goes with everything it started
        # (through `tillroll sim`, the MicroPython process under it), leaving none running.
        return subprocess.Popen(
            self._cmd,
            env={**os.environ, **micropython_env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=interruptible,
        )

    def _listening_or_dead(self) -> bool:
        return any("listening" in line for line in self.output) or self._proc.poll() is not None

    def _read_output(self):
        while True:
            proc = self._proc
            assert proc is not None and proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\n")
                if self.echo:
                    print(line, flush=True)
                with self._changed:
                    self.output.append(line)
                    m = _RECEIPT.match(line)
                    if m:
                        self.receipts.append(Path(m.group(2)))
                    self._changed.notify_all()
            # The module restarted itself (an update): it starts again, as a board does.
            if proc.wait() != RESTART or self._stopping:
                break
            with self._changed:
                self.restarts += 1
                self._proc = self._spawn()
        with self._changed:
            self._changed.notify_all()

    def wait_restarted(self, count: int, timeout: float = 60.0) -> None:
        """Wait until the module has restarted itself `count` times and listens again."""

        def up() -> bool:
            listening = sum(1 for line in self.output if line.startswith("listening"))
            return self.restarts >= count and listening > count

        with self._changed:
            if not self._changed.wait_for(up, timeout):
                raise FatalError(f"the module did not restart {count} times in {timeout:.0f} s")

    def wait_line(self, prefix: str, timeout: float = 30.0) -> str:
        """Wait for a line of the module's output starting with `prefix`; return the line."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._line(prefix) or self._proc.poll() is not None, timeout
            )
            line = self._line(prefix)
        if line is None:
            raise FatalError(
                f"no line {prefix!r} from the simulated module:\n" + "\n".join(self.output)
            )
        return line

    def _line(self, prefix: str) -> str | None:
        return next((line for line in self.output if line.startswith(prefix)), None)

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

    # ---- the control channel (docs/sim.md) ----------------------------------------------------

    def control(self, cmd: str, **args) -> dict:
        """Send one control command; return its reply, or raise FatalError with its error."""
        if self._control is None:
            self._control = socket.create_connection(("127.0.0.1", self.control_port), timeout=30)
            self._control_file = self._control.makefile("rb")
        self._control.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
        line = self._control_file.readline()
        if not line:
            raise FatalError(f"the simulated module closed its control channel on {cmd}")
        reply = json.loads(line)
        if not reply.pop("ok", False):
            raise FatalError(f"control {cmd}: {reply.get('error')}")
        return reply

    def status(self) -> dict:
        return self.control("status")

    def journal_list(self, page: int = 16) -> list[dict]:
        """Every receipt the journal keeps, oldest first, asked for a page at a time."""
        rows: list[dict] = []
        after = 0
        while True:
            reply = self.control("journal_list", after=after, count=page)
            rows += reply["receipts"]
            if reply["next"] is None:
                return rows
            after = reply["next"]

    def journal_bytes(self, number: int, piece: int = 512) -> bytes | None:
        """A receipt's stored ESC/POS (card numbers masked), read a piece at a time; None if
        the journal does not hold it."""
        data = b""
        offset = 0
        while True:
            reply = self.control("journal_show", number=number, offset=offset, size=piece)
            if not reply["found"]:
                return None
            data += bytes.fromhex(reply["bytes"])
            if reply["next"] is None:
                return data
            offset = reply["next"]

    def counters(self) -> dict:
        return self.control("counters")

    def set_supply(self, mv: int) -> None:
        self.control("supply", mv=mv)

    def kill_dots(self, dots: list[int]) -> None:
        self.control("dead", dots=dots)

    def head_fault(self, fault: str, group: int = 0) -> None:
        """Break the twin's head ("cable_off", "group", "upside_down") or mend it ("none")."""
        self.control("head_fault", fault=fault, group=group)

    def paper_out(self, after_lines: int = 0) -> None:
        self.control("paper_out", after=after_lines)

    def load_paper(self) -> None:
        self.control("load_paper")

    def open_cover(self, is_open: bool = True) -> None:
        self.control("cover", open=is_open)

    def set_head_temp(self, c: float) -> None:
        self.control("head_temp", c=c)

    def image(self, path: Path) -> Path:
        """The paper since the last tear-off, as a PNG at `path`."""
        self.control("image", path=str(Path(path).resolve()))
        return Path(path)

    def self_test(self) -> None:
        self.control("self_test")

    def power_cut(self, timeout: float = 10.0) -> int:
        """Cut the power: the module dies at once; return its exit status."""
        try:
            self.control("power_cut")
        except (FatalError, OSError):
            pass  # it may die before it answers
        assert self._proc is not None
        return self._proc.wait(timeout)

    def wait_status(self, predicate, timeout: float = 30.0, poll: float = 0.05) -> dict:
        """Poll the status until `predicate(status)` holds; return that status."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if predicate(st):
                return st
            if time.monotonic() > deadline:
                raise FatalError(f"status never reached the expected state; last: {st}")
            time.sleep(poll)

    def stop(self, timeout: float = 10.0) -> int:
        """Stop the module the way Ctrl-C does and wait for it; return its exit status."""
        self._stopping = True
        proc = self._proc
        if self._bridge is not None:
            self._bridge.stop()
            self._bridge = None
        if self._control is not None:
            self._control.close()
            self._control = None
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
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


class SimStream:
    """The sim's live stream (boards/sim/stream.py): dot lines, tear-offs and status, as
    they happen. Iterate `events()` for (message, rows): `rows` holds the dot lines of a
    `rows` message (48 bytes each), b"" for the others."""

    def __init__(self, control_port: int, timeout: float | None = None, buffers: int = 0):
        self._sock = socket.socket()
        if buffers:  # little room between the module and the host: tests of a slow host
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffers)
        self._sock.settimeout(30)
        self._sock.connect(("127.0.0.1", control_port))
        self._sock.sendall(json.dumps({"cmd": "stream", "sndbuf": buffers}).encode() + b"\n")
        self._file = self._sock.makefile("rb")
        reply = json.loads(self._file.readline() or b"{}")
        if not reply.get("ok"):
            self.close()
            raise FatalError(f"the simulated module gave no stream: {reply.get('error')}")
        self._sock.settimeout(timeout)
        self.row_bytes = 48

    def events(self):
        while True:
            line = self._file.readline()
            if not line:
                return
            msg = json.loads(line)
            rows = b""
            if msg["ev"] == "rows":
                rows = self._file.read(msg["n"] * self.row_bytes)
                if len(rows) < msg["n"] * self.row_bytes:
                    return
            elif "row_bytes" in msg:
                self.row_bytes = msg["row_bytes"]
            yield msg, rows

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
