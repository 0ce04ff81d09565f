"""The rig controller: a second RP2040 wired to the module under test (docs/rig.md).

WIRING (GPIO numbers of the rig's RP2040; the module's pins are boards/rp2_pico/board.py's)
    GP0-GP3   in    the module's motor phases A+, A-, B+, B- (its GP6-GP9)
    GP4       in    the head's /LAT (the module's GP12)
    GP5       in    the head's STB (GP13)
    GP6       in    the head's DAT (GP11)
    GP7       in    the head's CLK (GP10)
    GP16      out   the module's power switch (a load switch in its 5 V and VH feed): high on
    GP17      out   the paper sensor's line (GP20): high, paper under the sensor
    GP18      out   the near-end sensor's line (GP21): high, more than the near end left
    GP19      out   the cover switch's line (GP22): high, cover open
    GP20      out   FEED (GP19) through an open-drain transistor: high holds the button down
    GP21      out   BOOTSEL (the module's QSPI /CS) through an open-drain transistor: high holds
    ADC0 GP26 in    the module's head supply VH through 47 kOhm over 10 kOhm
    ADC1 GP27 in    the module's thermistor line (its ADC0: the NTC under a 30 kOhm pull-up)

The host talks to it over USB (the stock image's CDC), a command a line, each answered by one
line: `ok ...` or `error ...`. What the head printed comes unasked, as it happens:
    A <step> <us> <strobe ns> <96 hex>     an activation: the motor's step count and the rig's
                                           microsecond clock at its latch, how long STB was
                                           high, the 384 dots latched
    M <step>                               the step count, every 20 ms while the motor turns
Commands:
    id                        ok tillroll-rig 1
    power 0|1                 switch the module off or on
    paper 0|1, near_end 0|1, cover 0|1, feed 0|1, bootsel 0|1
                              drive a sensor line or hold a button (1: paper there, more than
                              the near end left, cover open, held)
    supply                    ok supply <mV>: the module's VH
    thermistor                ok thermistor <mV>: the head's NTC line
    counts                    ok counts <steps> <latches> <activations> <overruns> <abandoned>
                              <unstrobed>
                              (latches lost to a full ring; cut off by a power switch; with
                              no strobe before the next: a module resetting)
"""

import select
import sys
import time
from binascii import hexlify

import machine

from capture import Capture

_IDLE_MS = 20
_BUSY_MS = 2
_VH_SCALE = 57 / 10  # 47 kOhm over 10 kOhm

_OUT = {
    "power": (16, 1),
    "paper": (17, 1),
    "near_end": (18, 1),
    "cover": (19, 0),
    "feed": (20, 0),
    "bootsel": (21, 0),
}


def main():
    pin = machine.Pin
    outputs = {name: pin(n, pin.OUT, value=v) for name, (n, v) in _OUT.items()}
    adcs = (machine.ADC(26), machine.ADC(27))
    out = sys.stdout.buffer

    def emit(step, us, width, dots):
        out.write(b"A %d %d %d %s\n" % (step, us, width, hexlify(dots)))

    capture = Capture(
        [pin(n, pin.IN) for n in (0, 1, 2, 3)],
        pin(4, pin.IN),
        pin(5, pin.IN),
        pin(6, pin.IN),
        emit,
    )
    pin(7, pin.IN)  # CLK: its state machine waits on it
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    line = bytearray()
    steps_said = 0
    said_at = time.ticks_ms()
    while True:
        capture.poll()
        steps = capture.steps
        now = time.ticks_ms()
        if steps != steps_said and time.ticks_diff(now, said_at) >= _IDLE_MS:
            out.write(b"M %d\n" % steps)
            steps_said = steps
            said_at = now
        # While the module prints, look every 2 ms (the rings hold 64 activations, 32 ms at
        # the fastest); standing, every 20 ms, and the rig's CPU mostly sleeps.
        if not poller.poll(_BUSY_MS if steps != steps_said else _IDLE_MS):
            continue
        c = sys.stdin.buffer.read(1)
        if c != b"\n":
            line += c
            continue
        out.write(command(bytes(line).decode().split(), outputs, adcs, capture).encode() + b"\n")
        line = bytearray()


def command(words, outputs, adcs, capture):
    if not words:
        return "error empty command"
    name, args = words[0], words[1:]
    if name == "id":
        return "ok tillroll-rig 1"
    if name == "supply":
        return "ok supply %d" % (adcs[0].read_u16() * 3300 * _VH_SCALE // 65535)
    if name == "thermistor":
        return "ok thermistor %d" % (adcs[1].read_u16() * 3300 // 65535)
    if name == "counts":
        c = capture
        return "ok counts %d %d %d %d %d %d" % (
            c.steps,
            c.latches,
            c.activations,
            c.overruns,
            c.abandoned,
            c.unstrobed,
        )
    if name in outputs:
        if args not in (["0"], ["1"]):
            return "error %s takes 0 or 1" % name
        outputs[name].value(int(args[0]))
        if name == "power":
            # What was half shifted when the power went is no activation: count afresh.
            time.sleep_ms(2)
            capture.restart()
        return "ok %s %s" % (name, args[0])
    return "error unknown command %s" % name


main()
