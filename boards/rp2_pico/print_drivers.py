# pyright: reportUndefinedVariable=false
"""The head and motor drivers of a Pico: three PIO state machines move the pins, three DMA
channels feed them, and the CPU only writes each dot line's words.

The engine hands over one dot line at a time, as to the sim's sequencer: `fire(groups, k,
first, pulse, activations, window)`, the strobe plan, then `run(steps, line_us, periods, at)`,
the motion with each step's period. Here that becomes words in three rings:

- the motor (SM 2, 16 MHz): a word a step, `opens | wait << 1 | phases << 26` (30 bits: a small
  int, so writing one allocates nothing); the step is the
  moment its four phase pins change, at the end of its period (as the sim's sequencer plays
  it: an activation heats, then its steps move the paper on). A step whose period opens a
  heating activation raises PIO IRQ 0 (STEP) as the period begins, and waits until the shifter
  has taken it: the motor never runs an activation ahead of the head (a late head shows as a
  pause of the paper, never as strobes on the wrong row).
- the shifter (SM 0, 16 MHz: the data clock is 8 MHz): a word `opens << 31 | (bits - 1)`, then the
  group's 48 bytes as 12 words, first dot first. It shifts them in on CLK/DAT (the head's latch
  still holds the group that heats), waits for the strobe before to end (IRQ 1, DONE) and, for
  an activation's first group, for its step (STEP), then latches (/LAT low 0.5 us) and starts
  the strobe (IRQ 2, START).
- the strobe (SM 1, 16 MHz): a word a group, `pulse | gap << 16` in cycles; it takes the word
  before it waits for START, so it never waits for data with the strobe on: STB is high for
  exactly the pulse (1/16 us), then low for at least the gap, then DONE.

A motor that stood since the last line (its state machine waits at its first instruction for a
word, none queued: the CPU was late, a collection or a flash write held it) starts again on the
ramp: until the engine's plan is as slow as the ramp allows, each step is held within one ramp
entry of the step before, as from rest (`restarts` counts these). The engine plans the lines
after such a stall from rest itself when it sees it in time (engine.py, `_stood`); this guard is
for the lines it had planned before it could.

The shifter and the strobe keep the engine's timing (engine.vpy, `activation_us`): the next
group's data shifts in while a group heats, so a group takes its pulse and the gap. A ring runs
dry only if the engine falls behind: the state machines stall where they wait for a word (the
motor holds its phases, the strobe is off), which the paper shows as a pause.

Nothing here allocates per line: the rings and the DMA channels are made once.
"""

import time
from array import array

import machine
import rp2
from micropython import const
from uctypes import addressof

from rp2_pico import pio_programs
from tillroll.native import load

_PIO_HZ = const(16_000_000)  # every state machine: 1/16 us a tick, the data clock 8 MHz
_BITS = const(384)
_LINE = const(48)
_PIO0_TXF = const(0x50200010)  # SM n's TX FIFO: + 4 n
_MOTOR_ADDR = const(0x50200104)  # SM 2's program counter
_DMA_BUSY = const(1 << 24)
_STROBE_ON = const(2)  # STB high to low: the heat loop's count + 2 cycles
_GAP_OVERHEAD = const(16)  # STB low to the next group's STB high, beyond the gap's count
_MOTOR_OVERHEAD = const(5)  # a step's instructions beyond its wait loop (+1 when it opens)

# The phase pins (A+, A-, B+, B-: bits 0-3) step by step: two phases on at a time (2-2) for a
# mechanism with 2 steps a dot line, one and two in turn (1-2, half steps) for one with 4.
_FULL = b"\x05\x06\x0a\x09"
_HALF = b"\x01\x05\x04\x06\x02\x0a\x08\x09"

load(__file__, globals())  # _put_group: print_drivers.vpy


class Feed:
    """A ring of words that a DMA channel moves into a state machine's TX FIFO, paced by its
    DREQ. The CPU writes at `w`; the channel is given the words written so far, up to the
    ring's end, and again at each segment's end (its interrupt)."""

    def __init__(self, sm: int, words: int):
        self.words = array("I", bytes(4 * words))  # words: a power of two
        self._base = addressof(self.words)
        self._mask = words - 1
        self.w = 0
        self._sent = 0  # words before this one were given to the channel
        dma = rp2.DMA()
        self._dma = dma
        self._regs = dma.registers  # pyright: ignore[reportAttributeAccessIssue]  (not in the stubs)
        dma.config(
            write=_PIO0_TXF + 4 * sm,
            ctrl=dma.pack_ctrl(size=2, inc_write=False, treq_sel=sm, irq_quiet=False),
        )
        dma.irq(handler=self._next, hard=True)  # hard: a segment follows the last at once

    def _next(self, _dma):
        self.send()

    def free(self) -> int:
        """Words the CPU may write: those the channel has read are free again."""
        return self._mask - self.pending()

    def send(self):
        """Give the channel the words written and not yet given, if it is idle."""
        regs = self._regs
        if regs[3] & _DMA_BUSY:
            return
        start = self._sent
        end = self.w
        if start == end:
            return
        n = (end - start) if end > start else (self._mask + 1 - start)
        self._sent = (start + n) & self._mask
        regs[14] = n  # AL3_TRANS_COUNT
        regs[15] = self._base + 4 * start  # AL3_READ_ADDR_TRIG: go

    def pending(self) -> int:
        """Words written and not yet read by the channel."""
        regs = self._regs
        done = (regs[0] - self._base) >> 2 if regs[3] & _DMA_BUSY else self._sent
        return (self.w - done) & self._mask

    def room(self, n: int):
        """Wait (asleep) until `n` words are free: only when the engine is further ahead of
        the mechanism than a ring holds."""
        while self.free() < n:
            self.send()
            machine.idle()

    def close(self):
        self._dma.irq(None)
        self._dma.close()


class PrintDrivers:
    """The head and the motor of one mechanism, on the pins of board.py's WIRING table."""

    def __init__(self, mechanism, clk=10, dat=11, lat=12, stb=13, phases=6, current=None):
        m = mechanism
        self.current = current  # the head-current ADC (not sampled yet)
        self._table = _HALF if m.STEPS_PER_LINE == 4 else _FULL
        self._ramp = array("H", m.ramp())
        self._last = 0  # the last step's period, as played (us)
        self._guard = False  # each step held within the ramp of the one before
        self.restarts = 0
        self._end = time.ticks_us()  # when the last step queued is played
        self._phase = 0
        self._gap = m.GAP_US * (_PIO_HZ // 1_000_000) - _GAP_OVERHEAD
        # A strobe's pulse is at least the data's shift (the next group shifts in while it
        # heats): a shorter one is stretched to it and counted. The profiles never plan one.
        self._min_pulse = _BITS * 2 + 16  # cycles
        self.stretched = 0
        self.lines = 0  # dot lines the engine handed the motor
        self.fired = 0  # dot lines with heat
        self.steps = 0
        self._groups = None
        self._k = 0
        self._first = 0
        self._pulse = 0
        self._activations = 1
        # 6 KiB in all: four dense LTP02 lines of the shifter's words (234 a line), which is
        # what the engine plans ahead (5 ms), and more of the others'.
        self.shift = Feed(0, 1024)
        self.strobes = Feed(1, 256)
        self.motor = Feed(2, 256)
        pin = machine.Pin
        self._sms = (
            rp2.StateMachine(
                0,
                pio_programs.shifter,
                freq=_PIO_HZ,
                out_base=pin(dat),
                set_base=pin(lat),
                sideset_base=pin(clk),
            ),
            rp2.StateMachine(1, pio_programs.strobe, freq=_PIO_HZ, set_base=pin(stb)),
            rp2.StateMachine(2, pio_programs.motor, freq=_PIO_HZ, out_base=pin(phases)),
        )
        for sm in self._sms:
            sm.active(1)
        self._waiting_at = machine.mem32[_MOTOR_ADDR]  # no word yet: it waits for one here

    # the head driver
    def fire(self, groups, k, first_us, pulse_us, activations, window_us):
        self._groups = groups
        self._k = k
        self._first = first_us
        self._pulse = pulse_us
        self._activations = activations

    # the motor driver
    def run(self, steps, line_us, periods=None, at=0):
        """The line's steps, and its strobes at its activations' first steps."""
        k = self._k
        acts = self._activations if k else 1
        per_act = steps // acts
        motor = self.motor
        motor.room(steps)
        ring = motor.words
        mask = len(ring) - 1
        w = motor.w
        table = self._table
        phase = self._phase
        if self.standing():
            self._guard = True
            self._last = 0
            self.restarts += 1
            self._end = time.ticks_us()
        total = 0
        for i in range(steps):
            period = periods[at + i] if periods is not None else line_us // steps
            if self._guard:
                period = self._on_ramp(period)
            total += period
            opens = 1 if k and i % per_act == 0 else 0
            phase = (phase + 1) % len(table)
            wait = period * (_PIO_HZ // 1_000_000) - _MOTOR_OVERHEAD - opens
            ring[w] = opens | (wait if wait > 0 else 0) << 1 | table[phase] << 26
            w = (w + 1) & mask
        self._phase = phase
        self._end = time.ticks_add(self._end, total)
        if k:
            self._heat(k, acts)
            self.fired += 1
        motor.w = w  # the steps go last: their STEP finds the groups queued
        motor.send()
        self.lines += 1
        self.steps += steps
        self._k = 0

    def standing(self) -> int:
        """How long (us, at least 1) the motor has stood, having played every step it had and
        waiting for the next; 0 while it moves."""
        if self.motor.pending() or self._sms[2].tx_fifo():
            return 0
        if machine.mem32[_MOTOR_ADDR] != self._waiting_at:
            return 0
        stood = time.ticks_diff(time.ticks_us(), self._end)
        return stood if stood > 0 else 1

    def drain(self):
        """Wait (asleep) until every word queued is played and the motor stands: before a
        flash erase, which holds the CPU and its interrupts for tens of ms."""
        while not self.standing():
            for feed in (self.shift, self.strobes, self.motor):
                feed.send()
            machine.idle()

    def _on_ramp(self, period: int) -> int:
        """`period`, held within one ramp entry of the last step (from rest: no faster than
        the ramp's first); the guard ends once the plan is within it by itself."""
        ramp = self._ramp
        last = self._last
        lo = ramp[0]
        hi = 0xFFFF
        if last:
            lo = 0
            for r in ramp:  # the next faster entry after the last step
                if r < last:
                    lo = r
                    break
            if last < ramp[0]:
                hi = ramp[0]
                for r in ramp:  # the next slower entry after it
                    if r <= last:
                        break
                    hi = r
        held = lo if period < lo else (hi if period > hi else period)
        if held == period and last:
            self._guard = False
        self._last = held
        return held

    def _heat(self, k, acts):
        shift = self.shift
        strobes = self.strobes
        shift.room(acts * k * (1 + _LINE // 4))
        strobes.room(acts * k)
        ring = shift.words
        mask = len(ring) - 1
        w = shift.w
        sring = strobes.words
        smask = len(sring) - 1
        sw = strobes.w
        groups = self._groups
        for a in range(acts):
            pulse = (self._first if a == 0 else self._pulse) * (_PIO_HZ // 1_000_000)
            if pulse < self._min_pulse:
                pulse = self._min_pulse
                self.stretched += 1
            for g in range(k):
                w = int(_put_group(ring, w, mask, 1 if g == 0 else 0, groups, g * _LINE))
                sring[sw] = (pulse - _STROBE_ON) | self._gap << 16
                sw = (sw + 1) & smask
        shift.w = w
        strobes.w = sw
        strobes.send()
        shift.send()

    def close(self):
        for sm in self._sms:
            sm.active(0)
        for feed in (self.shift, self.strobes, self.motor):
            feed.close()
