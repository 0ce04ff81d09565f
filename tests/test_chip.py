"""The board image on an emulated RP2040 (npm rp2040js with the RP2040 boot ROM): it boots,
talks ESC/POS on its data interface, offers no REPL in production, and keeps its journal in
the chip's flash across a power cycle (docs/hardware.md).

These boot the UF2 files `make firmware` writes (`make test` builds them first)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tillroll_host.chip import ChipModule, elf_path, image_path
from tillroll_host.chip_repl import ChipRepl
from tillroll_host.image import FLASH
from tillroll_host.paths import BOARD_HEAP, BOARDS, FIRMWARE, micropython

TESTS = Path(__file__).parent
CUT = b"\x1dV\x00"
PROBE = b"\x03\x03\r\nprint('TILL' + 'ROLL')\r\n"  # what a REPL would answer with TILLROLL


def exchange(port: int, data: bytes, want: int = 0, quiet: float = 1.0, timeout=60.0) -> bytes:
    """Send `data`; collect what comes back until `want` bytes (then `quiet` s more, to see
    nothing else follows) or, with want 0, until `quiet` s pass with nothing."""
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            enough = want and len(got) >= want
            s.settimeout(quiet if (enough or not want) else max(0.1, deadline - time.monotonic()))
            try:
                chunk = s.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
    return got


def until(port: int, data: bytes, marker: bytes, timeout: float = 120.0) -> bytes:
    """Send `data`; collect what comes back until `marker` appears (or `timeout`)."""
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while marker not in got and time.monotonic() < deadline:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = s.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
    return got


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    flash = tmp_path_factory.mktemp("chip") / "flash.bin"
    chip = ChipModule(flash, uf2=image_path(), uart=True, printer=True, service=True)
    with chip:
        yield chip


def test_the_production_image_answers_dle_eot_on_the_data_interface(production):
    reply = exchange(production.data_port, b"\x10\x04\x01", want=1)
    assert len(reply) == 1, reply
    # DLE EOT 1, printer status: bits 1 and 4 always set, bits 0 and 7 clear; online (bit 3 0)
    assert reply[0] & 0x93 == 0x12 and not reply[0] & 0x08, hex(reply[0])
    # The harness notes when the first bytes came in on each interface (chip_boot_ms's clock).
    stats = production.control("stats")
    assert stats["first_in_ms"]["cdc 0"] > stats["usb_ready_ms"] > 0, stats


@pytest.fixture(scope="module")
def development(tmp_path_factory):
    """The development image, its firmware stopped at the raw REPL, its heap watched."""
    chip = ChipModule(
        tmp_path_factory.mktemp("chip") / "flash.bin",
        uf2=image_path(development=True),
        repl=True,
        heap_elf=elf_path(development=True),
        extra_args=["--idle", "skip"],
    )
    with chip:
        repl = ChipRepl(chip)
        repl.connect()
        repl.fast_input()
        yield chip, repl
        repl.close()


def test_a_long_line_from_the_runtime_usb_cdc_comes_out_in_order(development):
    # TinyUSB hands a transfer longer than a packet to both buffers of a double-buffered
    # endpoint; rp2040js sent the second first (usb_host.mjs, fixDoubleBufferOrder).
    _, repl = development
    line = "".join(chr(0x41 + i % 26) for i in range(150))
    out = repl.run(
        f"import time\nt = time.ticks_ms()\nwhile time.ticks_diff(time.ticks_ms(), t) < 200:\n"
        f"    pass\nfor k in range(3):\n    print(k, {line!r})\n"
    )
    assert out == "".join(f"{k} {line}\r\n" for k in range(3)), out


def test_the_heap_probe_counts_what_gc_mem_free_counts(development):
    # The probe reads the GC's allocation table from outside the chip (gc_probe.mjs). While
    # the chip spins allocating nothing, it must read what gc.mem_free() says right after.
    chip, repl = development
    repl.begin(
        "import gc, time\ngc.collect()\nprint('spin')\nt = time.ticks_ms()\n"
        "while time.ticks_diff(time.ticks_ms(), t) < 1000:\n    pass\n"
        "print('free', gc.mem_free())\n"
    )
    repl.wait_for(b"spin\r\n")
    time.sleep(0.5)  # the print's own allocations are done; the loop allocates nothing
    during = chip.control("heap")["heap"]
    out, err = repl.end()
    assert not err, err
    assert out.split() == ["free", str(during["free"])], (out, during)
    # The App, its buffers and its print drivers' rings (6 KiB) hold the rest.
    assert 80_000 < during["free"] < during["pool"] <= 246_592, during
    # The lowest free heap: a 20 kB buffer and its collection come and go between reads.
    chip.control("heap", reset=True)
    repl.run("x = bytearray(20_000)\ndel x\ngc.collect()")
    after = chip.control("heap")["heap"]
    assert after["low"] <= during["free"] - 20_000, (during, after)
    assert after["low"] >= during["free"] - 20_000 - 4096, (during, after)
    assert after["allocs"] > 0 and after["collections"] >= 1, after
    # What gc_free gives back at once: a call whose frame is too big for the C stack has it on
    # the heap, freed when it returns. 1000 such calls leave no garbage behind them.
    chip.control("heap", reset=True)
    repl.run(
        "def f(a, b, c, d, e, g, h, i, j, k, m, n):\n    return a\n"
        "for _ in range(1000):\n    f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)\n"
    )
    calls = chip.control("heap")["heap"]
    assert calls["freed"] >= 1000 * 48, calls  # a frame of 12 locals: 48 bytes and more
    assert calls["allocated"] - calls["freed"] < 8192, calls  # the code's own, not the calls'


def test_the_production_image_has_no_repl_on_any_interface(production):
    usb = production.control("usb")["usb"]
    assert "cdc interface 0" in usb and "printer interface 2" in usb, usb
    assert usb.count("cdc interface") == 2, usb  # the data and service CDCs: none for a REPL
    ports = (production.data_port, production.printer_port, production.uart_port)
    for port in ports + (production.service_port,):
        answer = exchange(port, PROBE, quiet=2.0)
        assert b"TILLROLL" not in answer and b">>>" not in answer, (port, answer)
    # still the printer it was: the probe's bytes were ESC/POS text to it
    assert len(exchange(production.data_port, b"\x10\x04\x01", want=1)) == 1


def test_the_development_image_has_its_repl_on_an_interface_of_its_own(tmp_path):
    # The check above can fail: the same probe gets an answer from the development image's
    # REPL, on its second CDC interface, while the data interface still answers ESC/POS.
    with ChipModule(tmp_path / "flash.bin", uf2=image_path(development=True), repl=True) as chip:
        usb = chip.control("usb")["usb"]
        assert "cdc interface 0" in usb and "cdc interface 3" in usb, usb
        assert len(exchange(chip.data_port, b"\x10\x04\x01", want=1)) == 1
        answer = until(chip.repl_port, PROBE, b"TILLROLL")
        assert b"TILLROLL" in answer, answer


def _journal_rows(flash_file: Path, tmp_path: Path) -> tuple[dict, list[dict]]:
    """The journal region of the chip's flash, listed by the firmware's Journal under the
    MicroPython unix port (the region's bytes as the chip left them)."""
    region = flash_file.read_bytes()[FLASH.journal_at : FLASH.journal_at + FLASH.journal]
    image = tmp_path / "journal.img"
    image.write_bytes(region)
    env = {**os.environ, "MICROPYPATH": f"{FIRMWARE}:{BOARDS}:.frozen"}
    done = subprocess.run(
        [
            micropython(),
            "-X",
            f"heapsize={BOARD_HEAP}",
            str(TESTS / "firmware" / "journal_dump.py"),
        ]
        + [str(image), str(FLASH.journal // 4096)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return lines[0], lines[1:]


def test_a_receipt_is_acknowledged_and_kept_in_the_journal_across_a_power_cycle(tmp_path):
    flash = tmp_path / "flash.bin"
    receipt = b"\x1b@TILLROLL CHIP\nCoffee 2.50\n" + CUT
    with ChipModule(flash, uf2=image_path()) as chip:
        pid = b"CH01"
        reply = exchange(chip.data_port, receipt + b"\x1d(H\x06\x00\x30\x30" + pid, want=7)
        assert reply == b"\x37\x22" + pid + b"\x00", reply  # GS ( H: printed and on flash
        writes = chip.control("stats")
        assert writes["programs"] > 0 and writes["refused"] == 0, writes
        chip.restart()  # the power goes and comes back; the flash keeps what it had
        assert len(exchange(chip.data_port, b"\x10\x04\x01", want=1)) == 1
    shutil.copyfile(flash, tmp_path / "after-restart.bin")
    status, rows = _journal_rows(tmp_path / "after-restart.bin", tmp_path)
    assert status["mounted"] and status["problems"]["problems"] == 0, status
    assert [(r["state"], r["first_line"]) for r in rows] == [("printed", "TILLROLL CHIP")], rows


def test_the_chip_flash_model_refuses_a_partial_page_program(tmp_path):
    # The development image's REPL drives the boot ROM's flash routines directly: a program
    # of 100 bytes is not a whole page, which the chip would wrap within its page.
    with ChipModule(
        tmp_path / "flash.bin",
        uf2=image_path(development=True),
        repl=True,
        extra_args=["--strict-flash"],
    ) as chip:
        before = chip.control("stats")
        code = (
            b"\x03\x03\r\nimport rp2\r\n"
            b"f = rp2.Flash(start=0, len=4096)\r\n"
            b"f.ioctl(6, 0)\r\n"
            b"f.writeblocks(0, bytes(100), 0)\r\n"
            b"print('DO' + 'NE')\r\n"
        )
        answer = until(chip.repl_port, code, b"DONE")
        assert b"DONE" in answer, answer
        after = chip.control("stats")
        refused = after["refused"] - before["refused"]
        assert refused == 1, (before, after)
