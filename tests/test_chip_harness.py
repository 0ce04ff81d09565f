"""The emulated chip (boards/rp2040_chip): a stock MicroPython image boots on rp2040js through
the boot ROM, answers on its USB CDC REPL, and writes its flash through the ROM's routines into
a flash file that outlives restarts and power cuts.

Real processes and sockets: each test starts `node boards/rp2040_chip/chip.mjs` on ports the
system picks and talks to it as a host would.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CHIP = ROOT / "boards" / "rp2040_chip" / "chip.mjs"
STOCK_UF2 = ROOT / "out" / "rp2" / "stock" / "firmware.uf2"
BOOTROM = ROOT / "third_party" / "rp2040-bootrom-b1.bin"
_BOOT_S = 60  # wall time a boot may take on a loaded machine
_REPL_S = 60

# Storage on the stock RPI_PICO image: rp2.Flash() is the 1408 KiB littlefs region at the end
# of the 2 MiB flash; its last block is the one the partial-program test scribbles on.
_LAST_BLOCK = 351


class ChipProcess:
    """One `chip.mjs` process: its output lines, its control port, its REPL over USB CDC 0."""

    def __init__(self, flash: Path, *extra: str, uf2: Path | None = STOCK_UF2):
        node = shutil.which("node")
        assert node, "node is not installed (`make test` needs it for the npm tools)"
        args = [node, str(CHIP), "--flash", str(flash), "--bootrom", str(BOOTROM)]
        args += ["--data-port", "0", "--control-port", "0", *extra]
        if uf2 is not None:
            args += ["--uf2", str(uf2)]
        self.proc = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines.put)).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr.append)).start()
        self.data_port = int(self.wait_for(r"listening for data on [\d.]+:(\d+)").group(1))
        self.control_port = int(self.wait_for(r"control on [\d.]+:(\d+)").group(1))

    @staticmethod
    def _read(stream, put):
        for line in stream:
            put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = _BOOT_S) -> re.Match:
        """The next stdout line matching pattern (earlier lines are passed over)."""
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line like {pattern!r} in {timeout} s; stderr:\n" + "\n".join(self.stderr)
                ) from None
            m = re.search(pattern, line)
            if m:
                return m

    def control(self, cmd: str, **args) -> dict:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as s:
            s.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
            reply = json.loads(s.makefile().readline())
        assert reply.pop("ok"), reply
        return reply

    def repl(self) -> Repl:
        return Repl(self.data_port)

    def stop(self) -> dict:
        """SIGTERM: the flash is saved and the last line is the stats."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0
        return json.loads(self.wait_for(r"^stats: (.*)").group(1))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Repl:
    """MicroPython's raw REPL (as mpremote uses it) over a TCP-bridged CDC interface."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=_REPL_S)
        self.buf = b""

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed before {marker!r}; got {self.buf!r}")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def friendly(self, line: str) -> str:
        """One line at the normal `>>> ` prompt; what it printed."""
        self.sock.sendall(b"\r\x03\x03" + line.encode() + b"\r")
        self.read_until(b">>> " + line.encode() + b"\r\n")  # its echo
        return self.read_until(b">>> ").decode()

    def exec(self, code: str) -> str:
        """Runs code in the raw REPL; its output, or AssertionError with the device's error."""
        self.sock.sendall(b"\r\x03\x03\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        self.sock.sendall(code.encode() + b"\x04")
        self.read_until(b"OK")
        out = self.read_until(b"\x04").decode()
        err = self.read_until(b"\x04>").decode()
        assert not err, err
        return out

    def close(self):
        self.sock.close()


@pytest.fixture
def stock_uf2() -> Path:
    if not STOCK_UF2.is_file():
        pytest.fail(f"{STOCK_UF2.relative_to(ROOT)} is missing: `make stock-firmware` builds it")
    if not BOOTROM.is_file():
        pytest.fail(f"{BOOTROM.relative_to(ROOT)} is missing (third_party/README.md)")
    found = subprocess.run(
        ["node", "--input-type=module", "-e", "await import('rp2040js')"],
        cwd=CHIP.parent,
        capture_output=True,
    )
    if found.returncode != 0:
        pytest.fail("rp2040js is not installed: `make test` runs `npm ci` (package.json pins it)")
    return STOCK_UF2


@pytest.fixture
def chips():
    started: list[ChipProcess] = []

    def start(*args, **kwargs) -> ChipProcess:
        started.append(ChipProcess(*args, **kwargs))
        return started[-1]

    yield start
    for chip in started:
        chip.kill()


def test_stock_image_boots_through_the_boot_rom_and_answers_on_usb(stock_uf2, chips, tmp_path):
    chip = chips(tmp_path / "flash.bin")
    ready = chip.wait_for(r"^ready: usb 2e8a:0005: cdc interface 0 \(([\d.]+) emulated ms")
    assert float(ready.group(1)) < 500
    repl = chip.repl()
    assert repl.friendly("print(1+1)") == "2\r\n"
    stats = chip.control("stats")
    assert stats["usb_ready"] and stats["cycles"] > 1_000_000
    # A blank flash gets a littlefs at first boot (_boot.py's mkfs): the ROM's routines did it.
    assert stats["erases"] > 0 and stats["programs"] > 0
    repl.close()
    stats = chip.stop()
    assert stats["partial_programs"] == 0 and stats["wrapped_programs"] == 0
    assert (tmp_path / "flash.bin").stat().st_size == 2 * 1024 * 1024


def test_a_file_survives_a_power_cycle_and_a_new_process(stock_uf2, chips, tmp_path):
    flash = tmp_path / "flash.bin"
    chip = chips(flash)
    chip.wait_for("^ready")
    before = chip.control("stats")
    repl = chip.repl()
    repl.exec("f = open('receipt.txt', 'w')\nf.write('kept ' * 100)\nf.close()")
    after = chip.control("stats")
    assert after["programs"] > before["programs"]
    repl.close()

    chip.control("restart")  # power cycle
    chip.wait_for("^ready")
    repl = chip.repl()
    assert repl.exec("print(open('receipt.txt').read())") == "kept " * 100 + "\r\n"
    repl.sock.sendall(b"\x02\r\x03\x03import machine\rmachine.reset()\r")  # watchdog reset
    chip.wait_for("^watchdog reset")
    chip.wait_for("^ready")
    repl.close()
    repl = chip.repl()
    assert repl.exec("print(open('receipt.txt').read()[:5])") == "kept \r\n"
    repl.close()
    assert chip.control("stats")["boots"] == 3
    chip.stop()

    chip = chips(flash, uf2=None)  # the flash file alone boots, and keeps the file
    chip.wait_for("^ready")
    repl = chip.repl()
    assert repl.exec("print(len(open('receipt.txt').read()))") == "500\r\n"
    repl.close()


_SCRIBBLE = f"""
import rp2
bdev = rp2.Flash()
bdev.ioctl(6, {_LAST_BLOCK})
bdev.writeblocks({_LAST_BLOCK}, bytearray(range(100)), 0)
bdev.writeblocks({_LAST_BLOCK}, bytearray(b'\\x55' * 256), 456)
block = bytearray(4096)
bdev.readblocks({_LAST_BLOCK}, block)
print(bytes(block[:100]) == bytes(range(100)), block[256:512] == b'\\x55' * 256,
      block[512:] == b'\\xff' * (4096 - 512))
"""


def test_partial_page_programs_are_reported_and_done_as_the_chip_does(stock_uf2, chips, tmp_path):
    # MicroPython passes writeblocks(block, buf, offset) straight to flash_range_program(addr,
    # buf, len(buf)). The ROM programs whole pages from buf (past its end for a 100-byte buf);
    # at an offset inside a page the part wraps the data round that page. The harness does both
    # and reports each call; nothing spills into the next page.
    chip = chips(tmp_path / "flash.bin")
    chip.wait_for("^ready")
    repl = chip.repl()
    assert repl.exec(_SCRIBBLE) == "True True True\r\n"
    stats = chip.control("stats")
    assert stats["partial_programs"] == 2
    assert stats["wrapped_programs"] == 1
    assert stats["refused"] == 0
    reports = "\n".join(chip.stderr)
    assert "flash_range_program(0x1ff000, 100 bytes)" in reports
    assert "the ROM programs 256 bytes, past the caller's buffer" in reports
    assert "flash_range_program(0x1ff1c8, 256 bytes)" in reports
    assert "wraps the data inside the page" in reports
    repl.close()


def test_strict_flash_refuses_partial_page_programs(stock_uf2, chips, tmp_path):
    chip = chips(tmp_path / "flash.bin", "--strict-flash")
    chip.wait_for("^ready")
    repl = chip.repl()
    out = repl.exec(_SCRIBBLE)
    assert out == "False False True\r\n"  # neither reached the flash
    stats = chip.control("stats")
    assert stats["refused"] == 2
    assert "refused (--strict-flash)" in "\n".join(chip.stderr)
    repl.close()


@pytest.mark.parametrize("effect", ["none", "torn"])
def test_littlefs_mounts_after_a_power_cut_in_a_write(stock_uf2, chips, tmp_path, effect):
    chip = chips(tmp_path / "flash.bin")
    chip.wait_for("^ready")
    repl = chip.repl()
    repl.exec("with open('keep.txt', 'w') as f:\n f.write('before the cut')")
    repl.close()
    for op, n in (("any", 1), ("erase", 1), ("program", 3), ("erase", 2), ("any", 8)):
        chip.control("power_cut_at", n=n, effect=effect, op=op)
        repl = chip.repl()
        with pytest.raises(ConnectionError):  # the device goes in the middle of it
            repl.exec(
                "f = open('big.bin', 'w')\nfor i in range(24):\n f.write('x' * 512)\nf.close()"
            )
        repl.close()
        cut = chip.wait_for(r"^power cut at (program|erase) \d+ at 0x[0-9a-f]+ \((\w+)\)")
        assert op in ("any", cut.group(1)) and cut.group(2) == effect, cut.group(0)
        assert not chip.control("stats")["powered"]
        chip.control("power_on")
        chip.wait_for("^ready")
        repl = chip.repl()
        # _boot.py formats the flash when littlefs does not mount: keep.txt shows it did not.
        assert repl.exec("print(open('keep.txt').read())") == "before the cut\r\n", cut.group(0)
        repl.exec("import os\nos.remove('big.bin') if 'big.bin' in os.listdir() else None")
        repl.close()
