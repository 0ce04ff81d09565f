"""PIO on the emulated chip (boards/rp2040_chip/pio_clock.mjs): state machines run with the
chip's clock, each at its clock divider, each instruction 1 + its delay cycles, so what the
firmware's PIO drivers put on the pins (strobe widths, step periods, shift clocks) can be judged
to the PIO cycle.

The stock MicroPython image runs PIO programs from its REPL (`rp2.StateMachine`); the harness
records the edges on the pins (`trace`/`edges` on the control channel). The times are checked
against the RP2040 datasheet's arithmetic (cycles x divider / clk_sys) and against an
independent cycle-exact PIO emulator (PyPI `rp2040-pio-emulator`) running the same opcodes, as
the chip's MicroPython assembled them.
"""

from __future__ import annotations

import ast
import math
import re
from collections import deque

import pytest
from pioemu import State, clock_cycles_reached, emulate
from test_chip_harness import ChipProcess, stock_image

_PIO0 = 0x50200000
_CLK_SYS = 125_000_000  # what MicroPython's rp2 port sets clk_sys to on an RP2040
_NS_PER_CYCLE = 1e9 / _CLK_SYS

# After the program has run: clk_sys, SM0's CLKDIV and EXECCTRL, the program's start address,
# and its opcodes as assembled (PIO instruction memory is write-only).
_READ_BACK = f"""
print(machine.freq(), machine.mem32[{_PIO0 + 0xC8}], machine.mem32[{_PIO0 + 0xCC}], start)
print(list(%s[0]))
"""


class Run:
    """What a program did on the chip: its SM0 configuration and the edges on the pins."""

    def __init__(self, read_back: str, edges: list):
        config, opcodes = read_back.split("\n")[-2:]
        freq, clkdiv, execctrl, start = map(int, config.split())
        self.freq = freq
        self.divider = (clkdiv >> 16 or 65536) + ((clkdiv >> 8) & 0xFF) / 256
        # Where the program was loaded, taken off: its own addresses, as its opcodes have them.
        self.wrap_top = ((execctrl >> 12) & 0x1F) - start
        self.wrap_bottom = ((execctrl >> 7) & 0x1F) - start
        self.opcodes = ast.literal_eval(opcodes)
        self.edges = edges

    def levels(self, pin: int) -> list[tuple[int, float]]:
        """(level, ns) at each change of the level driven on pin, from its first rising edge."""
        out: list[tuple[int, float]] = []
        for p, level, ns in self.edges:
            if p != pin or level is None:
                continue
            if (not out and level == 1) or (out and level != out[-1][0]):
                out.append((level, ns))
        return out

    def widths_ns(self, pin: int) -> list[float]:
        """ns between consecutive edges on pin."""
        times = [ns for _, ns in self.levels(pin)]
        return [b - a for a, b in zip(times, times[1:])]

    def edge_cycles(self, pin: int) -> list[float]:
        """Each edge's time in the state machine's cycles, from the first rising edge."""
        edges = self.levels(pin)
        period = self.divider * 1e9 / self.freq
        return [round((ns - edges[0][1]) / period, 6) for _, ns in edges]


@pytest.fixture
def chip(tmp_path):
    """The stock image booted on the emulated chip, its USB configured."""
    chip = ChipProcess(tmp_path / "flash.bin", uf2=stock_image())
    try:
        chip.wait_for("^ready")
        yield chip
    finally:
        chip.kill()


def _run(chip: ChipProcess, pins: list[int], program: str, run: str = "", trace=True) -> Run:
    """Defines `program` (a @rp2.asm_pio and `sm = rp2.StateMachine(0, ...)`) on the chip,
    runs it for `run` (default: 2 ms of sleep), and returns what the pins did (from a new
    trace of them, or, trace False, from the one going on)."""
    if trace:
        chip.control("trace", pins=pins)
    repl = chip.repl()
    head = "import machine, rp2, time\nfrom machine import Pin\n"
    start = f"start = machine.mem32[{_PIO0 + 0xD4}]\nsm.active(1)\n"
    body = run or "time.sleep_ms(2)\n"
    name = re.search(r"def (\w+)\(", program).group(1)
    read_back = repl.exec(head + program + start + body + "sm.active(0)\n" + _READ_BACK % name)
    repl.close()
    taken = chip.control("edges")
    assert taken["lost"] == 0
    return Run(read_back.replace("\r", "").strip(), taken["edges"])


def _oracle_edges(
    run: Run, cycles: int, *, set_pins: int = 1, side_pins: int = 0, fifo: list[int] = ()
) -> dict[int, list[float]]:
    """The reference emulator's edges of the same program, in cycles from its first rising
    edge, by pin bit (set pins from bit 0, side-set pins after them)."""
    states = emulate(
        run.opcodes,
        stop_when=clock_cycles_reached(cycles),
        initial_state=State(transmit_fifo=deque(fifo)),
        set_base=0,
        set_count=set_pins,
        side_set_base=set_pins,
        side_set_count=side_pins,
        wrap_target=run.wrap_bottom,
        wrap_top=run.wrap_top,
    )
    edges: dict[int, list[int]] = {bit: [] for bit in range(set_pins + side_pins)}
    for before, after in states:
        for bit, times in edges.items():
            level = (after.pin_values >> bit) & 1
            if level != ((before.pin_values >> bit) & 1) and (times or level):
                times.append(before.clock)
    return {bit: [t - times[0] for t in times] for bit, times in edges.items() if times}


def test_clk_sys_and_a_square_wave_at_an_integer_divider(chip):
    run = _run(
        chip,
        [10],
        """
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def square():
    set(pins, 1) [31]
    set(pins, 0) [20]
sm = rp2.StateMachine(0, square, freq=1_000_000, set_base=Pin(10))
""",
    )
    assert run.freq == _CLK_SYS
    assert run.divider == 125
    widths = run.widths_ns(10)
    assert len(widths) > 50, widths  # 2 ms of 53 us periods
    # High 1 + 31 cycles, low 1 + 20, each cycle 125 system clocks of 8 ns.
    assert set(widths[0::2]) == {32 * 125 * _NS_PER_CYCLE}, widths
    assert set(widths[1::2]) == {21 * 125 * _NS_PER_CYCLE}, widths


def test_a_fractional_divider_stretches_cycles_as_the_datasheet_says(chip):
    # freq=2_000_000: 62.5 system clocks a cycle (CLKDIV INT 62, FRAC 128). The divider gives
    # each cycle 62 or 63 clocks, 62.5 on average: a half-period of n cycles is floor or ceil of
    # n x 62.5 clocks, and any run of them adds up to the exact sum, give or take one clock.
    run = _run(
        chip,
        [10],
        """
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def square():
    set(pins, 1) [4]
    set(pins, 0) [1]
sm = rp2.StateMachine(0, square, freq=2_000_000, set_base=Pin(10))
""",
    )
    assert run.divider == 62.5
    cycles = [w / _NS_PER_CYCLE for w in run.widths_ns(10)]
    assert len(cycles) > 100
    for i, n in enumerate(cycles):
        ideal = (5 if i % 2 == 0 else 2) * 62.5
        assert math.floor(ideal) <= n <= math.ceil(ideal), (i, n)
    total = sum(cycles[:100])  # 50 periods of 7 cycles
    assert abs(total - 50 * 7 * 62.5) <= 1, total


_PULSE_AND_CLOCK = """
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW, sideset_init=rp2.PIO.OUT_LOW)
def pulse_and_clock():
    wrap_target()
    set(x, 20)          .side(1) [2]
    set(pins, 1)        .side(0)
    label("high")
    jmp(x_dec, "high")  .side(1) [1]
    set(pins, 0)        .side(0) [7]
    set(y, 9)           .side(1)
    label("low")
    jmp(y_dec, "low")   .side(0) [3]
    wrap()
sm = rp2.StateMachine(0, pulse_and_clock, freq=25_000_000, set_base=Pin(10), sideset_base=Pin(11))
"""


def test_set_and_side_set_edges_match_a_reference_pio_emulator(chip):
    # A pulse timed by a `jmp x--` loop on a set pin, a side-set clock beside it: the opcodes,
    # as assembled on the chip, run on pioemu give the same edges to the cycle.
    run = _run(chip, [10, 11], _PULSE_AND_CLOCK)
    assert run.divider == 5
    harness = {0: run.edge_cycles(10), 1: run.edge_cycles(11)}
    period = 3 + 1 + 21 * 2 + 8 + 1 + 10 * 4  # one pass of the program, in cycles
    assert harness[0][2] == period  # the second rising edge of the pulse
    oracle = _oracle_edges(run, 20 * period, side_pins=1)
    for bit in (0, 1):
        n = min(len(oracle[bit]), len(harness[bit]))
        assert n > 20, (bit, oracle[bit], harness[bit])
        assert harness[bit][:n] == oracle[bit][:n], bit


_PULSES_FED = """
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def pulses():
    pull(block)
    mov(x, osr)
    set(pins, 1)
    label("high")
    jmp(x_dec, "high")
    set(pins, 0) [3]
sm = rp2.StateMachine(0, pulses, freq=12_500_000, set_base=Pin(10))
"""


def test_a_pull_block_program_puts_out_what_the_repl_feeds_and_waits_for_free(chip):
    words = [5, 40, 0, 13, 100]
    feed = "".join(f"sm.put({w})\ntime.sleep_ms(1)\n" for w in words)
    run = _run(chip, [10], _PULSES_FED, feed)
    assert run.divider == 10
    high = run.widths_ns(10)[0::2]
    # set pins 1, then the jmp x-- loop x + 1 times: high for x + 2 cycles of 80 ns.
    assert high == [(w + 2) * 10 * _NS_PER_CYCLE for w in words], high
    # Stalled on `pull block`, the machine is not stepped: a sleeping chip with it waiting costs
    # what one without PIO does.
    repl = chip.repl()
    repl.exec(_PULSES_FED + "sm.active(1)\nsm.put(3)\ntime.sleep_ms(1)")
    before = chip.control("stats")
    repl.exec("time.sleep_ms(200)")
    after = chip.control("stats")
    assert after["pio_steps"] == before["pio_steps"], (before["pio_steps"], after["pio_steps"])
    assert after["since_power_on_ms"] - before["since_power_on_ms"] >= 200
    repl.close()


def test_the_core_runs_on_while_a_state_machine_toggles(chip):
    # A square wave of 4 + 4 cycles at 25 MHz goes on, edge after edge at its period, while the
    # REPL compiles and runs code and while the core sleeps between USB packets.
    chip.control("trace", pins=[10])
    repl = chip.repl()
    repl.exec(
        """
import rp2
from machine import Pin
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def square():
    set(pins, 1) [3]
    set(pins, 0) [3]
sm = rp2.StateMachine(0, square, freq=25_000_000, set_base=Pin(10))
sm.active(1)
"""
    )
    chip.control("edges")  # from here on
    for n in (10, 100, 1000):
        assert (
            repl.exec(f"print(sum(i * i for i in range({n})))")
            == f"{sum(i * i for i in range(n))}\r\n"
        )
    repl.exec("sm.active(0)")
    edges = chip.control("edges")["edges"]
    repl.close()
    times = [ns for _, level, ns in edges]
    assert len(times) > 1000
    # Each half-period 4 cycles x 5 clocks of 8 ns, none longer: the PIO never paused.
    # (The emulated clock counts ns in a double: far from power-on its sums carry rounding.)
    assert {round(b - a, 3) for a, b in zip(times, times[1:])} == {4 * 5 * _NS_PER_CYCLE}


_IRQ_PAIR = """
import rp2
from machine import Pin
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def follower():
    wait(1, irq, 0) [7]
    set(pins, 1)
    set(pins, 0)
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def leader():
    pull(block)
    irq(0)
    set(pins, 1)
    set(pins, 0)
follower_sm = rp2.StateMachine(0, follower, freq=125_000_000, set_base=Pin(10))
leader_sm = rp2.StateMachine(1, leader, freq=125_000_000, set_base=Pin(11))
follower_sm.active(1)
leader_sm.active(1)
"""


def test_a_stalled_wait_completes_the_cycle_after_the_irq_and_then_takes_its_delay(chip):
    # The leader sets IRQ 0 in cycle t and raises its pin in t + 1. The follower, stalled on
    # `wait 1 irq 0 [7]`, sees the flag in t + 1, which completes the wait; its 7 delay cycles
    # follow and its pin rises in t + 9: 8 cycles (64 ns) after the leader's.
    chip.control("trace", pins=[10, 11])
    repl = chip.repl()
    repl.exec(_IRQ_PAIR)
    chip.control("edges")
    for _ in range(3):
        repl.exec("leader_sm.put(0)")
    edges = chip.control("edges")["edges"]
    repl.close()
    rises = {pin: [ns for p, level, ns in edges if p == pin and level == 1] for pin in (10, 11)}
    assert len(rises[11]) == 3, edges
    assert [f - lead for f, lead in zip(rises[10], rises[11])] == [8 * _NS_PER_CYCLE] * 3
    # Both machines wait in between (the follower on the flag, the leader on its FIFO): the
    # chip is stepped only for the instructions they run.
    assert chip.control("stats")["pio_steps"] < 100


_DMA_FED = """
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def pulses():
    pull(block)
    mov(x, osr)
    set(pins, 1)
    label("high")
    jmp(x_dec, "high")
    set(pins, 0) [2]
sm = rp2.StateMachine(0, pulses, freq=25_000_000, set_base=Pin(10))
"""
_WORDS = [3, 10, 1, 25, 0, 7, 2, 2, 18, 4, 0, 30, 6, 1, 9, 5]
_DMA_RUN = f"""
from array import array
words = array("I", {_WORDS})
dma = rp2.DMA()
ctrl = dma.pack_ctrl(size=2, inc_write=False, treq_sel=0)  # DREQ_PIO0_TX0
dma.config(read=words, write={_PIO0 + 0x10}, count=len(words), ctrl=ctrl, trigger=True)
time.sleep_ms(2)
print(dma.count, dma.active())
dma.close()
"""


def test_a_state_machine_fed_by_dma_puts_out_at_its_own_pace(chip):
    # DMA fills the TX FIFO as soon as it has room (DREQ), far faster than the program takes
    # the words: the pulses come back to back at the program's pace, as from a FIFO that never
    # runs dry (the reference emulator with every word in its FIFO from the start).
    run = _run(chip, [10], _DMA_FED, _DMA_RUN)
    harness = run.edge_cycles(10)
    assert len(harness) == 2 * len(_WORDS), harness
    # Rising edge to rising edge: x + 2 cycles high, 3 low, pull and mov: x + 7 cycles.
    rises = harness[0::2]
    assert [b - a for a, b in zip(rises, rises[1:])] == [w + 7 for w in _WORDS[:-1]]
    period = sum(w + 7 for w in _WORDS)
    oracle = _oracle_edges(run, period + 10, fifo=_WORDS)[0]
    assert harness == oracle


@pytest.mark.parametrize("restart", ["restart", "power_on"])
def test_the_trace_follows_the_chip_through_a_power_cycle(chip, restart):
    chip.control("trace", pins=[10])
    if restart == "restart":
        chip.control("restart")
    else:
        chip.control("power_off")
        chip.control("power_on")
    chip.wait_for("^ready")
    run = _run(
        chip,
        [10],
        """
@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def square():
    set(pins, 1) [9]
    set(pins, 0) [9]
sm = rp2.StateMachine(0, square, freq=12_500_000, set_base=Pin(10))
""",
        trace=False,  # the one started before the power cycle
    )
    assert set(run.widths_ns(10)) == {10 * 10 * _NS_PER_CYCLE}
