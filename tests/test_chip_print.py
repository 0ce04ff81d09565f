"""Receipts printed by the emulated chip's pins (docs/hardware.md, "The print path at the pins").

The production image runs on the emulated RP2040; its head and motor drivers (PIO and DMA,
boards/rp2_pico/print_drivers.py) move the pins, and the harness turns what the pins did into
the sim's mechanism twin (boards/rp2040_chip/mechanism_pins.mjs, boards/sim/pin_twin.py). What
the paper shows comes from the pins alone: the same receipt on the unix-port sim gives the same
dots, codes decode with zxing-cpp, and faults raised at the sensor pins stop and resume
printing as on the sim.
"""

from __future__ import annotations

import itertools
import socket
import time
from pathlib import Path

import pytest
from PIL import Image
from test_codes import decode

from tillroll_host.chip import ChipModule, image_path
from tillroll_host.sim import SimModule

_MARKER = b"\x1d(H\x06\x00\x30\x30"  # GS ( H fn 48: the process ID comes back once printed
_IDS = itertools.count(1)
ESC, GS = b"\x1b", b"\x1d"


def send_until(port: int, data: bytes, marker: bytes, timeout: float = 300.0) -> bytes:
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while marker not in got:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError(f"the chip closed its data port; got {got!r}")
            got += chunk
    return got


def still(chip: ChipModule, timeout: float = 120.0, quiet: float = 1.0) -> dict:
    """The mechanism's counters once the motor has stood `quiet` s (the tear-off feed done)."""
    deadline = time.monotonic() + timeout
    last = chip.control("mechanism")
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = chip.control("mechanism")
        if now["pins"]["steps"] == last["pins"]["steps"]:
            return now
        last = now
    raise TimeoutError(f"the motor never stopped: {last}")


def print_on_chip(chip: ChipModule, data: bytes, png: Path) -> Path:
    """Send a receipt, wait until the chip says it is printed (its GS ( H process ID) and the
    paper has stopped; what came out, as a PNG, and the paper torn off."""
    pid = b"P%03d" % next(_IDS)
    send_until(chip.data_port, data + _MARKER + pid, b"\x37\x22" + pid)
    still(chip)
    chip.control("image", path=str(png))
    chip.control("tear_off")
    return png


def rows(png: Path) -> list[bytes]:
    """The paper's dot rows, blank rows at either end left out (where the paper stood when
    the receipt began is not the receipt)."""
    im = Image.open(png).convert("1")
    data = [bytes(im.crop((0, y, im.width, y + 1)).tobytes()) for y in range(im.height)]
    blank = bytes(len(data[0])) if data else b""
    ink = [row != blank for row in data]
    if not any(ink):
        return []
    first = ink.index(True)
    last = len(ink) - ink[::-1].index(True)
    return data[first:last]


def black(png: Path) -> int:
    im = Image.open(png).convert("L")
    return sum(1 for v in im.getdata() if v < 128)


@pytest.fixture(scope="module")
def chip(tmp_path_factory):
    d = tmp_path_factory.mktemp("chip-print")
    module = ChipModule(d / "flash.bin", uf2=image_path(), twin="ltp02-245", paper=d / "paper")
    with module:
        yield module


RECEIPT = (
    ESC + b"@" + ESC + b"a\x01" + ESC + b"!\x38" + b"TILLROLL\n" + ESC + b"!\x00"
    + b"Printed by the pins\n" + ESC + b"a\x00"
    + b"Coffee            2.50\nBagel             3.10\n" + ESC + b"E\x01"
    + b"TOTAL             5.60\n" + ESC + b"E\x00"
    + GS + b"(k\x03\x001C\x06" + GS + b"(k\x03\x001E1"
    + GS + b"(k\x17\x001P0https://till.roll/42" + GS + b"(k\x03\x001Q0"
    + GS + b"V\x00"
)  # fmt: skip


def test_a_receipt_printed_by_the_chip_is_the_sims_row_for_row(chip, tmp_path):
    """The same dot rows, and the same dots but for a few: the chip's CPU falls behind the
    mechanism at times (docs/hardware.md, "When the CPU falls behind"), the motor stands
    until the next line is ready, and the rows heated around such a stop come out a little
    fainter than on the sim, where every line is ready in time."""
    on_chip = rows(print_on_chip(chip, RECEIPT, tmp_path / "chip.png"))
    with SimModule(tmp_path / "sim") as sim:
        send_until(sim.data_port, RECEIPT + _MARKER + b"SIM1", b"\x37\x22SIM1", timeout=60)
        on_sim = rows(sim.wait_receipt())
    assert len(on_chip) == len(on_sim), (len(on_chip), len(on_sim))
    differ = sum(
        bin(a ^ b).count("1") for x, y in zip(on_chip, on_sim, strict=True) for a, b in zip(x, y)
    )
    dots = sum(8 - bin(b).count("1") for row in on_sim for b in row)  # 1-bit PNG: 0 is black
    assert differ * 100 <= dots, f"{differ} of {dots} dots differ"


def test_the_codes_printed_by_the_pins_decode(chip, tmp_path):
    png = print_on_chip(chip, RECEIPT, tmp_path / "codes.png")
    assert decode(png) == [("https://till.roll/42", "QRCode")]


def test_the_motor_lost_no_step_and_never_ran_over_its_rating(chip, tmp_path):
    # Steps that change speed faster than the ramp allows are counted too (ramp_violations):
    # `make bench` reports them (docs/benchmarks.md); a CPU that falls behind makes a few.
    before = chip.control("mechanism")["twin"]
    print_on_chip(chip, RECEIPT, tmp_path / "again.png")
    after = chip.control("mechanism")["twin"]
    for key in ("lost_steps", "overspeed_steps"):
        assert after[key] == before[key], (key, before, after)
    assert after["steps"] > before["steps"] and after["strobes"] > before["strobes"]


# ---- the drivers' timing, at the pins ------------------------------------------------------------

CLK, DAT, LAT, STB = 10, 11, 12, 13
PHASES = (6, 7, 8, 9)

_DRIVE = """
from array import array
from mechanisms import ltp02_245
from rp2_pico.print_drivers import PrintDrivers
import time
d = PrintDrivers(ltp02_245)
g = bytearray(96)
g[0] = 0x80  # group 0: dot 0
g[48 + 47] = 0x01  # group 1: dot 383
d.fire(g, 2, 700, 500, 2, 1400)
d.run(4, 0, array('H', [4291, 4000, 3800, 3600]), 0)
time.sleep_ms(40)
print(d.lines, d.stretched)
"""


@pytest.fixture(scope="module")
def drivers_edges():
    """The pins' edges while the drivers play one dot line: two groups in each of its two
    activations (700 us pulses in the first, 500 in the second), four steps of 4291, 4000,
    3800 and 3600 us."""
    from chip_target import ChipTarget, board_files

    target = ChipTarget(files=board_files({}, {})).start()
    try:
        assert target.chip is not None and target.repl is not None
        target.repl.soft_reset()
        target.chip.control("trace", pins=[*PHASES, CLK, DAT, LAT, STB], max=10000)
        out = target.repl.run(_DRIVE, 300)
        edges = target.chip.control("edges")
    finally:
        target.stop()
    assert out.split() == ["1", "0"], out
    assert edges["lost"] == 0, edges["lost"]
    return edges["edges"]


def _on(edges, pin):
    return [(level, ns) for p, level, ns in edges if p == pin]


def test_each_strobe_lasts_its_pulse_to_the_tenth_of_a_microsecond(drivers_edges):
    stb = _on(drivers_edges, STB)
    rises = [ns for level, ns in stb if level == 1]
    falls = [ns for level, ns in stb if level == 0 and ns > rises[0]]
    widths = [(f - r) / 1000 for r, f in zip(rises, falls, strict=True)]
    assert [round(w, 1) for w in widths] == [700.0, 700.0, 500.0, 500.0], widths
    # The second group heats once the first has ended and the gap (10 us) has passed.
    gaps = [(rises[i + 1] - falls[i]) / 1000 for i in (0, 2)]
    assert all(10 <= g < 12 for g in gaps), gaps


def test_data_shifts_at_8_mhz_and_each_group_is_latched_before_it_heats(drivers_edges):
    clk_rises = [ns for level, ns in _on(drivers_edges, CLK) if level == 1]
    assert len(clk_rises) == 4 * 384  # each group once, before its latch
    for i in range(0, len(clk_rises), 384):
        burst = clk_rises[i : i + 384]
        # Two PIO ticks a bit at 16 MHz: 7.8125 system cycles a tick, 7 or 8 each time.
        periods = {b - a for a, b in zip(burst, burst[1:])}
        assert min(periods) >= 112 and max(periods) <= 128, periods
        assert round((burst[-1] - burst[0]) / 383) == 125
    latches = [ns for level, ns in _on(drivers_edges, LAT) if level == 0]
    rises = [ns for level, ns in _on(drivers_edges, STB) if level == 1]
    assert len(latches) == 4
    for lat, stb in zip(latches, rises, strict=True):
        assert 0 < stb - lat < 2000, (lat, stb)  # latched, then heated within 2 us


def test_the_head_gets_each_groups_dots_in_order(drivers_edges):
    level = {DAT: 0}
    bits: list[int] = []
    latched: list[list[int]] = []
    for pin, value, _ in drivers_edges:
        if pin == DAT:
            level[DAT] = value
        elif pin == CLK and value == 1:
            bits.append(level[DAT])
        elif pin == LAT and value == 0:
            latched.append(bits[-384:])
    ones = [[i for i, b in enumerate(group) if b] for group in latched]
    assert ones == [[0], [383], [0], [383]], ones


def test_steps_come_at_their_periods_and_each_activation_heats_at_its_first_step(drivers_edges):
    steps = []
    state = dict.fromkeys(PHASES, 0)
    for pin, value, ns in drivers_edges:
        if pin in PHASES:
            state[pin] = value
            pattern = tuple(state[p] for p in PHASES)
            if not steps or steps[-1][0] != ns:
                steps.append((ns, pattern))
            else:
                steps[-1] = (ns, pattern)
    assert len(steps) == 4, steps
    periods = [(b[0] - a[0]) / 1000 for a, b in zip(steps, steps[1:])]
    assert periods == [4000.0, 3800.0, 3600.0], periods
    patterns = [p for _, p in steps]  # half steps: one phase, two, one, two
    assert [sum(p) for p in patterns] == [2, 1, 2, 1], patterns
    # The second activation opens with the third step's period: at the second step.
    rises = [ns for level, ns in _on(drivers_edges, STB) if level == 1]
    assert 0 <= rises[2] - steps[1][0] < 2000, (rises[2], steps[1][0])


# ---- faults at the pins ----------------------------------------------------------------------------

# Short enough to reach its cut (its end, on flash) before much of it is printed.
SHORT = ESC + b"@" + b"".join(b"Line %02d of a receipt\n" % i for i in range(6)) + GS + b"V\x00"
NO_SUPPLY, POWER_LOSS = 0x08, 0x80  # the journal's reason bits (engine/status.py, journal.py)
HOLD_UP_MS = 30  # docs/hardware.md, "Power": the logic supply outlasts the head's this long


def _printing(chip: ChipModule, steps: int = 200, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    start = chip.control("mechanism")["pins"]["steps"]
    while chip.control("mechanism")["pins"]["steps"] - start < steps:
        assert time.monotonic() < deadline, "the receipt never started to print"
        time.sleep(0.2)


# A receipt whose end reaches flash at once, and that then feeds for a while.
FEEDING = ESC + b"@" + b"Line 00 of a receipt\n" + (ESC + b"J\xff") * 4 + GS + b"V\x00"


def test_a_falling_supply_closes_the_receipt_on_paper_before_the_power_goes(tmp_path):
    from test_chip import _journal_rows

    flash = tmp_path / "flash.bin"
    with ChipModule(flash, uf2=image_path(), twin="ltp02-245", paper=tmp_path / "paper") as chip:
        with socket.create_connection(("127.0.0.1", chip.data_port)) as s:
            s.sendall(FEEDING)
            _printing(chip, 200)
            chip.control("supply", mv=0)  # the head supply falls: the logic's outlasts it
            chip.control("power_cut_in", ms=HOLD_UP_MS)
            deadline = time.monotonic() + 60
            while chip.control("stats")["powered"]:
                assert time.monotonic() < deadline, "the power never went"
                time.sleep(0.2)
    status, rows = _journal_rows(flash, tmp_path)
    assert status["mounted"] and status["problems"]["problems"] == 0, status
    assert len(rows) == 1, rows
    row = rows[0]
    # Its state reached flash before the power went: interrupted for the supply, at the dot
    # line it had reached, not only found open at the next power-on (POWER_LOSS).
    assert row["state"] == "interrupted" and row["reason"] & NO_SUPPLY, row
    assert not row["reason"] & POWER_LOSS and row["line"] > 0, row


def test_paper_out_at_the_sensor_pin_stops_printing_and_a_copy_follows_once_loaded(tmp_path):
    with ChipModule(
        tmp_path / "flash.bin", uf2=image_path(), twin="ltp02-245", paper=tmp_path / "paper"
    ) as chip:
        with socket.create_connection(("127.0.0.1", chip.data_port), timeout=60) as s:
            s.sendall(SHORT)
            _printing(chip, 40)
            chip.control("paper_out", after=0)  # the roll runs out: the sensor pin goes low
            time.sleep(3)
            s.sendall(b"\x10\x04\x04")  # DLE EOT 4: roll paper sensor status
            reply = s.recv(1)
            assert reply[0] & 0x60 == 0x60, reply  # paper end detected
            stopped = chip.control("mechanism")["pins"]["steps"]
            time.sleep(3)
            assert chip.control("mechanism")["pins"]["steps"] == stopped  # it stands
            chip.control("load_paper", lines=113000)
        deadline = time.monotonic() + 120
        while chip.control("mechanism")["pins"]["steps"] == stopped:
            assert time.monotonic() < deadline, "it never printed again"
            time.sleep(0.2)
        still(chip, 300, quiet=3.0)
        chip.control("image", path=str(tmp_path / "after.png"))
    from ocr import read_text

    text = " ".join(read_text(tmp_path / "after.png"))
    assert "COPY" in text and "Line 05" in text, text


# ---- tillroll sim --chip rp2040 ----------------------------------------------------------------


def test_tillroll_sim_chip_prints_through_the_pins_and_refuses_what_a_chip_cannot(tmp_path):
    import json
    import subprocess
    import sys

    from tillroll_host.sim import free_port

    data, control = free_port(), free_port()
    out = tmp_path / "receipts"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tillroll_host.cli", "sim", "--chip", "rp2040"]
        + ["--data-port", str(data), "--control-port", str(control)]
        + ["--state", str(tmp_path / "state"), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        for line in proc.stdout:  # pyright: ignore[reportOptionalIterable]
            lines.append(line)
            if line.startswith("ready:"):
                break
        send_until(data, RECEIPT + _MARKER + b"SC01", b"\x37\x22SC01")
        for line in proc.stdout:  # pyright: ignore[reportOptionalIterable]
            lines.append(line)
            if line.startswith("receipt 1: "):
                break
        png = out / "receipt-0001.png"
        assert png.exists(), "".join(lines)
        assert decode(png) == [("https://till.roll/42", "QRCode")]

        def ask(cmd: str, **args) -> dict:
            with socket.create_connection(("127.0.0.1", control), timeout=60) as s:
                s.sendall((json.dumps({"cmd": cmd, **args}) + "\n").encode())
                return json.loads(s.makefile().readline())

        assert ask("paper_out", after=0) == {"ok": True}  # the sim's commands, on the pins
        assert ask("load_paper") == {"ok": True}
        refused = ask("dead", dots=[5])
        assert not refused["ok"] and refused["error"].startswith("dead: "), refused
    finally:
        proc.terminate()
        proc.wait(timeout=60)
