# pyright: reportUndefinedVariable=false, reportCallIssue=false, reportArgumentType=false, reportIndexIssue=false
"""The PIO programs of the head and motor drivers (print_drivers.py has what each does and the
words each takes). rp2.asm_pio's assembler names (out, jmp, set, wait, irq, ...) are defined
while it runs each function, which a type checker cannot see.
"""

import rp2


@rp2.asm_pio(
    out_init=rp2.PIO.OUT_LOW,
    set_init=rp2.PIO.OUT_HIGH,
    sideset_init=rp2.PIO.OUT_LOW,
    out_shiftdir=rp2.PIO.SHIFT_LEFT,
    autopull=True,
    pull_thresh=32,
    fifo_join=rp2.PIO.JOIN_TX,
)
def shifter():
    wrap_target()
    out(y, 1)  # 1: this group opens an activation
    out(x, 31)  # bits - 1
    label("bit")
    out(pins, 1).side(0)  # DAT, then CLK's rising edge
    jmp(x_dec, "bit").side(1)
    wait(1, irq, 1).side(0)  # DONE: the strobe before ended
    jmp(not_y, "latch")
    wait(1, irq, 0)  # STEP: the activation's step
    label("latch")
    set(pins, 0)[7]  # /LAT low: the head latches what was shifted in
    set(pins, 1)
    irq(2)  # START
    wrap()


@rp2.asm_pio(
    set_init=rp2.PIO.OUT_LOW,
    out_shiftdir=rp2.PIO.SHIFT_RIGHT,
    autopull=True,
    pull_thresh=32,
    fifo_join=rp2.PIO.JOIN_TX,
)
def strobe():
    irq(1)  # DONE: no strobe before the first
    wrap_target()
    out(x, 16)  # the pulse
    out(y, 16)  # the gap
    wait(1, irq, 2)  # START
    set(pins, 1)  # STB on
    label("heat")
    jmp(x_dec, "heat")
    set(pins, 0)  # STB off
    label("gap")
    jmp(y_dec, "gap")
    irq(1)  # DONE
    wrap()


@rp2.asm_pio(
    out_init=[rp2.PIO.OUT_LOW] * 4,
    out_shiftdir=rp2.PIO.SHIFT_RIGHT,
    autopull=True,
    pull_thresh=30,
    fifo_join=rp2.PIO.JOIN_TX,
)
def motor():
    wrap_target()
    out(y, 1)
    jmp(not_y, "period")
    irq(block, 0)  # STEP, and wait until the head took it: an activation opens
    label("period")
    out(x, 25)
    label("wait")
    jmp(x_dec, "wait")
    out(pins, 4)  # the step, at its period's end: the phases' new levels
    wrap()
