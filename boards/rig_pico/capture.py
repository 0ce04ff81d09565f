# pyright: reportUndefinedVariable=false, reportCallIssue=false, reportArgumentType=false
"""What the module under test printed, taken from its head's and motor's lines.

The head is a 384-bit shift register: DAT is taken at each rising CLK, /LAT low copies it into
the latch, and the latched dots heat for as long as STB is high. So an *activation* is the 384
bits shifted before a latch, how long STB stayed high after it, and how far the motor had
turned then. The module shifts the next activation's bits while the strobe before heats, so
"the bits before the latch" is counted, not timed: the n-th activation takes the n-th 48 bytes.
A latch no strobe follows before the next latch is not an activation: a module that resets
lets its pins fall, /LAT with them (a watchdog reset after an update, say).

- PIO SM 0 takes DAT at each rising CLK, 32 bits a word, and DMA writes the words round a
  16 KiB ring without the CPU: the head shifts at 8 MHz, 12 words in 48 us, faster than Python
  could read a FIFO.
- PIO SM 1 times each STB pulse at the system clock (a pulse of one cycle is seen), counting
  in 32-cycle loops (256 ns at 125 MHz); a second DMA channel keeps the widths round a ring of
  256, so none is lost while the CPU is busy writing to USB.
- Hard interrupts count the motor's steps (a change of its four phase levels) and note each
  /LAT falling edge: the step count, the time and the strobe widths taken so far.

`Capture.poll()` pairs each latch with the first strobe after it. `restart()` forgets what was
half shifted: the rig calls it when it switches the module's power.
"""

import array
import time

import machine
import rp2
import uctypes
from micropython import const

_RING_BITS = const(14)  # the DMA ring: 16 KiB, 341 activations behind before it wraps
_RING = const(1 << _RING_BITS)
_LINE = const(48)  # bytes of one activation
_PIO0_RXF = const(0x50200020)  # SM n's RX FIFO: + 4 n
_DREQ_PIO0_RX0 = const(4)
_WIDTH_RING_BITS = const(10)  # 256 strobe widths
_WIDTHS = const(256)
_FOREVER = const(0x7FFFFFFF)  # a DMA count that does not run out
# The strobes' DMA count: 2**30 strobes, and what is left of it a small int, which the latch
# interrupt may read (an interrupt may not allocate).
_STROBES = const(0x3FFFFFFF)
_SIO_GPIO_IN = const(0xD0000004)
_LOOP_CYCLES = const(32)  # the strobe timer's loop
_EVENTS = const(256)  # latches noted and not yet taken (three words each)


@rp2.asm_pio(
    in_shiftdir=rp2.PIO.SHIFT_LEFT, autopush=True, push_thresh=32, fifo_join=rp2.PIO.JOIN_RX
)
def _shift_in():
    # in_base: DAT; CLK is the next pin (the wiring table).
    wrap_target()
    wait(0, pin, 1)
    wait(1, pin, 1)
    in_(pins, 1)
    wrap()


@rp2.asm_pio(fifo_join=rp2.PIO.JOIN_RX)
def _strobe_timer():
    # in_base and jmp_pin: STB. Counts 32-cycle loops while STB is high, then pushes how many.
    # The wait costs nothing in the emulator; the delay keeps the loop to two instructions.
    wrap_target()
    wait(1, pin, 0)
    mov(x, invert(null))
    label("high")
    jmp(pin, "count")
    jmp("done")
    label("count")
    jmp(x_dec, "high")[30]
    label("done")
    mov(isr, invert(x))
    push(noblock)
    wrap()


class Capture:
    """pins: the rig's Pin objects for `phases` (four, in order), `lat`, `stb` and `dat` (CLK on
    the pin after DAT). `emit(step, us, width_ns, dots)` gets each activation: the motor's step
    count and time.ticks_us() at its latch, how long its strobe was, its 48 bytes of dots."""

    def __init__(self, phases, lat, stb, dat, emit):
        self._emit = emit
        self._phase_mask = 0
        for p in phases:
            self._phase_mask |= 1 << _pin_number(p)
        self._ns_a_count = _LOOP_CYCLES * 1_000_000_000 // machine.freq()
        self.steps = 0
        self.activations = 0
        self.latches = 0  # since the capture started, restarts included
        self.abandoned = 0  # latches restart() found with no strobe yet (the power went)
        self.unstrobed = 0  # latches the next latch came after with no strobe between
        self._put = 0  # latches noted (by the interrupt) since restart()
        self._got = 0  # latches taken by poll()
        self._lines = 0  # activations since restart(): the next one's bytes
        self.overruns = 0  # latches the interrupts noted faster than poll() took them
        self._ring_mem = bytearray(2 * _RING)
        base = uctypes.addressof(self._ring_mem)
        self._ring_at = (base + _RING - 1) & ~(_RING - 1)
        self._ring = uctypes.bytearray_at(self._ring_at, _RING)
        self._line = bytearray(_LINE)
        self._width_mem = array.array("I", bytes(8 * _WIDTHS))
        base = uctypes.addressof(self._width_mem)
        self._widths_at = (base + 4 * _WIDTHS - 1) & ~(4 * _WIDTHS - 1)
        self._widths = uctypes.struct(
            self._widths_at, {"w": (uctypes.ARRAY | 0, uctypes.UINT32 | _WIDTHS)}
        ).w
        # (step, ticks_us, strobes left in the DMA count) for each latch, by the interrupt.
        self._events = array.array("i", bytes(12 * _EVENTS))
        self._shift = rp2.StateMachine(0, _shift_in, freq=machine.freq(), in_base=dat)
        self._strobe = rp2.StateMachine(
            1, _strobe_timer, freq=machine.freq(), in_base=stb, jmp_pin=stb
        )
        self._dma = rp2.DMA()
        self._width_dma = rp2.DMA()
        self._ctrl = [
            dma.pack_ctrl(
                size=2,
                inc_read=False,
                inc_write=True,
                ring_sel=True,
                ring_size=bits,
                treq_sel=_DREQ_PIO0_RX0 + sm,
                bswap=not sm,  # the head's first bit, the word's top one, first in memory
            )
            for dma, bits, sm in (
                (self._dma, _RING_BITS, 0),
                (self._width_dma, _WIDTH_RING_BITS, 1),
            )
        ]
        self._width_regs = self._width_dma.registers  # pyright: ignore[reportAttributeAccessIssue]  (not in the stubs)
        self._phases = machine.mem32[_SIO_GPIO_IN] & self._phase_mask
        for p in phases:
            p.irq(self._on_phase, machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING, hard=True)
        lat.irq(self._on_latch, machine.Pin.IRQ_FALLING, hard=True)
        self.restart()

    def restart(self):
        """Start again with nothing shifted: the n-th latch from now takes the n-th 48 bytes."""
        self._shift.active(0)
        self._strobe.active(0)
        self._dma.active(0)
        self._width_dma.active(0)
        self.abandoned += self._put - self._got
        self._put = 0
        self._got = 0
        self._lines = 0
        for sm in (self._shift, self._strobe):
            sm.restart()
            while sm.rx_fifo():
                sm.get()
        self._dma.config(read=_PIO0_RXF, write=self._ring_at, count=_FOREVER, ctrl=self._ctrl[0])
        self._width_dma.config(
            read=_PIO0_RXF + 4, write=self._widths_at, count=_STROBES, ctrl=self._ctrl[1]
        )
        self._dma.active(1)
        self._width_dma.active(1)
        self._strobe.active(1)
        self._shift.active(1)

    def _on_phase(self, _pin):
        # Both pins of a full step move in one cycle: the first interrupt sees both, the second
        # no change.
        now = machine.mem32[_SIO_GPIO_IN] & self._phase_mask
        if now != self._phases:
            self._phases = now
            if now:  # all phases off: the motor let go, no step
                self.steps += 1

    def _on_latch(self, _pin):
        i = 3 * (self._put % _EVENTS)
        self._events[i] = self.steps
        self._events[i + 1] = time.ticks_us()
        # A strobe's width is in memory a few cycles after it ends, long before this runs.
        self._events[i + 2] = self._width_regs[2]  # TRANS_COUNT: strobes left
        self._put += 1
        self.latches += 1

    def poll(self):
        """Emits each activation whose strobe has ended. Call often: the rings hold 256
        latches and widths, 341 activations' dots."""
        if self._put - self._got > _EVENTS:
            # The interrupt went round the events before they were taken: those are lost.
            lost = self._put - self._got - _EVENTS
            self.overruns += lost
            self._got += lost
        strobes = _STROBES - self._width_regs[2]  # TRANS_COUNT: transfers left
        while self._got < self._put:
            i = 3 * (self._got % _EVENTS)
            strobe = _STROBES - self._events[i + 2]  # the first strobe after the latch
            if strobe >= strobes:
                return  # not ended yet
            # A strobe always ends before the next latch: one with the same count took it.
            nxt = 3 * ((self._got + 1) % _EVENTS)
            if self._got + 1 < self._put and _STROBES - self._events[nxt + 2] == strobe:
                self.unstrobed += 1
            else:
                width = (self._widths[strobe % _WIDTHS] + 1) * self._ns_a_count
                self._lines += 1
                self._take(_LINE * self._lines)
                self._emit(self._events[i], self._events[i + 1], width, self._line)
                self.activations += 1
            self._got += 1

    def _take(self, end):
        # end: bytes shifted in since restart() to the latch's last bit. The DMA swaps each
        # word's bytes, so the ring holds the bits in the order the head took them.
        at = (end - _LINE) & (_RING - 1)
        first = _RING - at
        if first >= _LINE:
            self._line[:] = self._ring[at : at + _LINE]
        else:
            self._line[:first] = self._ring[at:]
            self._line[first:] = self._ring[: _LINE - first]


def _pin_number(pin):
    # machine.Pin's repr is "Pin(GPIOn, ...)" on the rp2 port.
    text = repr(pin)
    start = text.index("GPIO") + 4
    end = start
    while text[end].isdigit():
        end += 1
    return int(text[start:end])
