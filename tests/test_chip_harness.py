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


def stock_image() -> Path:
    """The stock image, once the boot ROM and rp2040js are there too; else the test fails."""
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
def stock_uf2() -> Path:
    return stock_image()


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


# ---- the flash part's timing, reads while it is busy, cuts mid-page and mid-erase ------------

_LAST_AT = 0x1FF000  # _LAST_BLOCK's offset in the flash (and in the flash file)
_TIMED_ERASE = f"""
import rp2, time
bdev = rp2.Flash()
block = bytes(range(256)) * 16
t = time.ticks_us()
bdev.ioctl(6, {_LAST_BLOCK})
erase = time.ticks_diff(time.ticks_us(), t)
t = time.ticks_us()
bdev.writeblocks({_LAST_BLOCK}, block, 0)  # with an offset: no erase
program = time.ticks_diff(time.ticks_us(), t)
print(erase, program)
"""


@pytest.mark.parametrize("timing", ["typical", "none"])
def test_erase_and_program_take_the_datasheet_time_in_emulated_time(
    stock_uf2, chips, tmp_path, timing
):
    # The W25Q16JV's typical times: a 4 KiB sector erase 45 ms, a page program 0.4 ms. The ROM
    # waits them out polling the part's status; the chip's own clock (time.ticks_us) sees it.
    chip = chips(tmp_path / "flash.bin", "--flash-timing", timing)
    chip.wait_for("^ready")
    repl = chip.repl()
    erase_us, program_us = map(int, repl.exec(_TIMED_ERASE).split())
    repl.close()
    if timing == "typical":
        assert 45_000 <= erase_us < 46_000, erase_us
        assert 16 * 400 <= program_us < 16 * 400 + 2_000, program_us  # 16 pages
    else:  # the control: the same calls with the part never busy
        assert erase_us < 1_000 and program_us < 2_000, (erase_us, program_us)


# Erases a sector by the part's own commands from code in RAM, interrupts off, as the ROM's
# routines do (connect_internal_flash, flash_exit_xip; afterwards flash_flush_cache, which also
# gives the chip select back to the SSI, and flash_enter_cmd_xip), and while the part is busy
# reads its status and 4 bytes with a read command (03h), and, if asked, a word of the XIP
# window. p: [IF, EX, FC, CX, SSI base, IO_QSPI SS_CTRL, sector, XIP address or 0, read
# address, then out: status while busy, the word read while busy, status polls until ready, the
# word read when ready, the XIP word].
_BUSY_PROBE = (
    """
import machine, micropython, time
from array import array

def rom_func(code):
    at = machine.mem16[0x14]
    want = ord(code[0]) | ord(code[1]) << 8
    while machine.mem16[at] != want:
        at += 4
    return machine.mem16[at + 2]

@micropython.asm_thumb
def erase_and_read(r0):
    mov(r7, r0)
    cpsid(i)
    ldr(r3, [r7, 0])
    data(2, 0x4798)  # blx r3
    ldr(r3, [r7, 4])
    data(2, 0x4798)
    ldr(r4, [r7, 16])
    ldr(r5, [r7, 20])
    bl(select)
    mov(r1, 0x06)  # write enable
    bl(xfer)
    bl(deselect)
    bl(select)
    mov(r1, 0x20)  # sector erase, 24-bit address
    bl(xfer)
    ldr(r6, [r7, 24])
    mov(r1, r6)
    lsr(r1, r1, 16)
    bl(xfer)
    mov(r1, r6)
    lsr(r1, r1, 8)
    bl(xfer)
    mov(r1, r6)
    bl(xfer)
    bl(deselect)
    bl(status)
    str(r1, [r7, 36])
    bl(read_word)
    str(r3, [r7, 40])
    ldr(r3, [r7, 28])
    cmp(r3, 0)
    beq(no_xip)
    ldr(r1, [r3, 0])
    str(r1, [r7, 52])
    label(no_xip)
    mov(r6, 0)
    label(poll)
    add(r6, r6, 1)
    bl(status)
    mov(r2, 1)
    tst(r1, r2)
    bne(poll)
    str(r6, [r7, 44])
    bl(read_word)
    str(r3, [r7, 48])
    ldr(r3, [r7, 8])
    data(2, 0x4798)
    ldr(r3, [r7, 12])
    data(2, 0x4798)
    cpsie(i)
    b(end)
    label(select)
    mov(r0, 2)
    lsl(r0, r0, 8)
    str(r0, [r5, 0])
    bx(lr)
    label(deselect)
    mov(r0, 3)
    lsl(r0, r0, 8)
    str(r0, [r5, 0])
    bx(lr)
    label(xfer)
    str(r1, [r4, 96])
    mov(r0, 8)
    label(xfer_wait)
    ldr(r2, [r4, 40])
    tst(r2, r0)
    beq(xfer_wait)
    ldr(r1, [r4, 96])
    bx(lr)
    label(status)
    push({lr})
    bl(select)
    mov(r1, 0x05)
    bl(xfer)
    mov(r1, 0)
    bl(xfer)
    bl(deselect)
    pop({pc})
    label(read_word)
    push({lr})
    bl(select)
    mov(r1, 0x03)
    bl(xfer)
    ldr(r6, [r7, 32])
    mov(r1, r6)
    lsr(r1, r1, 16)
    bl(xfer)
    mov(r1, r6)
    lsr(r1, r1, 8)
    bl(xfer)
    mov(r1, r6)
    bl(xfer)
    mov(r3, 0)
    mov(r6, 4)
    label(byte)
    mov(r1, 0)
    bl(xfer)
    lsl(r3, r3, 8)
    mov(r0, 0xff)
    and_(r1, r0)
    orr(r3, r1)
    sub(r6, 1)
    bne(byte)
    bl(deselect)
    pop({pc})
    label(end)

def probe(xip):
    p = array("I", [rom_func("IF"), rom_func("EX"), rom_func("FC"), rom_func("CX"),
                    0x18000000, 0x4001800C, %d, xip, 0, 0, 0, 0, 0, 0])
    t = time.ticks_us()
    erase_and_read(p)
    return list(p[9:13]), time.ticks_diff(time.ticks_us(), t)
"""
    % _LAST_AT
)


def test_while_the_part_erases_a_read_gets_no_data_and_status_says_busy(
    stock_uf2, chips, tmp_path
):
    chip = chips(tmp_path / "flash.bin")
    chip.wait_for("^ready")
    repl = chip.repl()
    repl.exec(_BUSY_PROBE)
    # The first word of the flash (boot2), through the XIP window, before anything is erased.
    first = int(repl.exec("print(machine.mem32[0x10000000])"))
    wanted = int.from_bytes(first.to_bytes(4, "little"), "big")  # as the 03h read returns it
    out = repl.exec("print(probe(0))")
    (status, while_busy, polls, when_ready), us = eval(out)
    assert status & 1, status  # the busy bit (WIP)
    assert while_busy == 0xFFFFFFFF, hex(while_busy)  # the part does not answer a read
    assert when_ready == wanted, (hex(when_ready), hex(wanted))  # it does once ready
    assert polls > 1000, polls  # the status said busy, poll after poll, for 45 ms
    assert 45_000 <= us < 46_000, us
    # Afterwards the window is served again (the ROM's XIP re-entry): the REPL runs on.
    assert int(repl.exec("print(machine.mem32[0x10000000])")) == first
    stats = chip.control("stats")
    assert not stats["locked"] and stats["xip_lockups"] == 0, stats
    repl.close()


def test_code_that_reads_the_xip_window_while_the_part_erases_locks_the_core_up(
    stock_uf2, chips, tmp_path
):
    # rp2040js itself serves the XIP window from the flash array at any time, so such code ran
    # on there; on the chip the core locks up. The harness stops the core and says so.
    chip = chips(tmp_path / "flash.bin")
    chip.wait_for("^ready")
    repl = chip.repl()
    repl.exec(_BUSY_PROBE)
    repl.sock.sendall(b"\r\x03\x03\x01")
    repl.read_until(b"raw REPL; CTRL-B to exit\r\n>")
    repl.sock.sendall(b"print(probe(0x10000100))\x04")
    deadline = time.monotonic() + _REPL_S
    while not chip.control("stats")["locked"]:
        assert time.monotonic() < deadline, "the core did not lock up:\n" + "\n".join(chip.stderr)
        time.sleep(0.2)
    report = "\n".join(chip.stderr)
    assert re.search(
        r"XIP read at 0x10000100 while the flash part is busy \(erase at 0x1ff000\) "
        r"\(PC 0x2[0-9a-f]{7}\): no data; the core locks up",
        report,
    ), report  # the reading code ran from RAM
    stats = chip.control("stats")
    assert stats["xip_lockups"] == 1 and stats["powered"], stats
    repl.close()
    chip.control("restart")  # a power cycle starts it again
    chip.wait_for("^ready")
    repl = chip.repl()
    assert repl.exec("print(machine.mem32[0x10000000] != 0)") == "True\r\n"
    assert not chip.control("stats")["locked"]
    repl.close()


_PATTERN = bytes((i * 7 + 3) & 0xFF for i in range(4096))
_PROGRAM_BLOCK = f"""
import rp2
bdev = rp2.Flash()
bdev.ioctl(6, {_LAST_BLOCK})
bdev.writeblocks({_LAST_BLOCK}, bytes((i * 7 + 3) & 0xFF for i in range(4096)))
"""


def _block_on_chip(repl) -> bytes:
    out = repl.exec(
        f"import rp2\nb = bytearray(4096)\nrp2.Flash().readblocks({_LAST_BLOCK}, b)\nprint(b.hex())"
    )
    return bytes.fromhex(out.strip())


def _block_in_file(flash: Path) -> bytes:
    return flash.read_bytes()[_LAST_AT : _LAST_AT + 4096]


def _cut(chip, repl, code: str, op: str) -> None:
    """Runs code on the chip with the power set to go, torn, at its first `op`."""
    chip.control("power_cut_at", n=1, effect="torn", op=op)
    with pytest.raises(ConnectionError):
        repl.exec(code)
    repl.close()
    cut = chip.wait_for(r"^power cut at (\w+) \d+ at 0x([0-9a-f]+) \(torn\)")
    assert (cut.group(1), int(cut.group(2), 16)) == (op, _LAST_AT), cut.group(0)


def test_a_cut_mid_erase_leaves_the_sector_half_erased_in_the_kept_flash(
    stock_uf2, chips, tmp_path
):
    flash = tmp_path / "flash.bin"
    chip = chips(flash)
    chip.wait_for("^ready")
    repl = chip.repl()
    repl.exec(_PROGRAM_BLOCK)
    assert _block_on_chip(repl) == _PATTERN
    _cut(chip, repl, f"import rp2\nrp2.Flash().ioctl(6, {_LAST_BLOCK})", "erase")
    torn = _block_in_file(flash)  # saved when the power went
    assert torn == b"\xff" * 2048 + _PATTERN[2048:], torn.hex()
    chip.control("power_on")
    chip.wait_for("^ready")
    repl = chip.repl()
    assert _block_on_chip(repl) == torn  # what the chip reads after the cut
    repl.close()
    chip.stop()
    chip = chips(flash, uf2=None)  # a new process from the kept file
    chip.wait_for("^ready")
    repl = chip.repl()
    assert _block_on_chip(repl) == torn
    repl.close()


def test_a_cut_mid_page_leaves_the_page_half_programmed_in_the_kept_flash(
    stock_uf2, chips, tmp_path
):
    flash = tmp_path / "flash.bin"
    chip = chips(flash)
    chip.wait_for("^ready")
    repl = chip.repl()
    repl.exec(f"import rp2\nrp2.Flash().ioctl(6, {_LAST_BLOCK})")
    page = _PATTERN[:256]
    _cut(chip, repl, f"import rp2\nrp2.Flash().writeblocks({_LAST_BLOCK}, {page!r}, 0)", "program")
    torn = _block_in_file(flash)
    assert torn[:128] == page[:128], torn[:128].hex()  # the first half programmed
    assert torn[128] != 0xFF and torn[128] & page[128] == page[128]  # one byte partly: only
    assert torn[129:] == b"\xff" * (4096 - 129), torn[129:256].hex()  # cleared bits; no more
    chip.control("power_on")
    chip.wait_for("^ready")
    repl = chip.repl()
    assert _block_on_chip(repl) == torn
    repl.close()
    chip.stop()
    chip = chips(flash, uf2=None)
    chip.wait_for("^ready")
    repl = chip.repl()
    assert _block_on_chip(repl) == torn
    repl.close()
