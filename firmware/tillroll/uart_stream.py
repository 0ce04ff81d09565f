"""A UART as the data link's byte stream, with flow control, so no byte is ever lost.

The link reads a UART as it reads a TCP stream (`await readinto(buf)`, `write`, `drain`). When
the printer falls behind, the link stops reading, and the bytes pile up in the UART driver's
receive buffer (`rxbuf`, as given to machine.UART). That buffer drops what does not fit, so the
sender is stopped before it is full:

- "rtscts" with hardware flow (machine.UART(flow=UART.RTS | UART.CTS) on rp2 and esp32): the
  driver deasserts RTS itself when its buffer is full; there is nothing to do here.
- "rtscts" with an `rts` Pin (a board without hardware flow): RTS goes inactive (high) at the
  high-water mark and active (low) again at the low-water mark.
- "xonxoff": XOFF (13h) at the high-water mark, XON (11h) at the low-water mark, once per
  crossing. The sender's own data is binary and passes through untouched.
- "none": no flow control; a sender that outruns the printer loses bytes.

The level is looked at after every read and, every 2 ms, by a watcher task, since the link is
not reading when the buffer fills. High water leaves room for what arrives after the stop:
2 ms of bytes between two looks (23 at 115200 baud) plus what the sender still sends once
stopped. For RTS that is a byte or two. For XOFF it is the sender's transmit FIFO (16 bytes on
a PC's 16550) and its reaction time: a few ms, 40-60 bytes at 115200. So by default high water
is `rxbuf` - 128 and low water half of high water: rxbuf=4096 stops at 3968 and resumes at 1984.
A USB-serial adapter whose host driver handles XON/XOFF reacts only after its latency timer
(FTDI: 16 ms by default, 184 bytes at 115200) plus its own transmit buffer: give such a host
more room (`high`) or use RTS/CTS. Faster lines need proportionally more room.

A break on the line (the host held it low: a reset, a cable pulled and plugged) ends the
sender's connection, as a reset ends a TCP one: once the bytes that came before the break
are read, readinto raises OSError(ECONNRESET), so the app drops the command they left
unfinished, and the next read starts the next connection (docs/escpos.md, "Connections"). A
UART error raised by the driver ends it the same way. The break is seen by the UART's
IRQ_BREAK interrupt (rp2); a UART without one never reports a break.
"""

import asyncio
from errno import ECONNRESET

_POLL_MS = const(1)  # readinto on an idle line
_WATCH_MS = const(2)  # the watcher, while the link is busy
_HEADROOM = const(128)  # bytes above high water: see above
# The `flow` setting's values (settings.py), by number.
FLOWS = ("none", "rtscts", "xonxoff")
_XON = b"\x11"
_XOFF = b"\x13"


class UartStream:
    def __init__(self, uart, flow="none", rts=None, rxbuf=256, high=0, low=0, breaks=True):
        if flow not in FLOWS:
            raise ValueError("flow %r: none, rtscts or xonxoff" % flow)
        high = high or rxbuf - _HEADROOM
        low = low or high // 2
        self._uart = uart
        self._rts = rts if flow == "rtscts" else None  # None and rtscts: the hardware's RTS
        self._soft = flow == "xonxoff" or self._rts is not None
        if self._soft and not 0 < low < high < rxbuf:
            raise ValueError(
                "water marks: need 0 < low %d < high %d < rxbuf %d" % (low, high, rxbuf)
            )
        self._high = high
        self._low = low
        self.stopped = False  # the sender has been told to stop
        self._watcher = None
        if self._rts is not None:
            self._rts.value(0)  # active: send
        self._before_break = -1  # bytes still to read from before a break; -1: none seen
        self._breaks = getattr(uart, "IRQ_BREAK", 0) if breaks else 0
        if self._breaks:
            uart.irq(handler=self._on_break, trigger=self._breaks)

    async def readinto(self, buf) -> int:
        """Wait for at least one byte and read what is there, up to len(buf). A UART never
        closes: this never returns 0. After a break, once the bytes from before it are read,
        it raises OSError(ECONNRESET) once."""
        if self._soft and self._watcher is None:
            self._watcher = asyncio.create_task(self._watch())
        uart = self._uart
        while True:
            left = self._before_break
            if not left:
                self._before_break = -1
                raise OSError(ECONNRESET)
            n = uart.any()
            if 0 < left < n:
                n = left  # not a byte of the next connection
            if n:
                n = uart.readinto(buf, min(n, len(buf))) or 0  # never waits for more
                if n:
                    left = self._before_break  # (a break may have come during the read)
                    if left > 0:
                        self._before_break = left - n if left > n else 0
                    if self._soft:
                        self._level()
                    return n
            await asyncio.sleep_ms(_POLL_MS)

    def pending(self) -> bool:
        """Whether readinto would return (or raise) at once: bytes waiting or a break seen."""
        return self._before_break == 0 or self._uart.any() > 0

    def _on_break(self, uart):
        # The UART's break interrupt: only note how many bytes came before it.
        if self._before_break < 0:
            self._before_break = self._uart.any()

    def write(self, data):
        # XOFF stops the sender, not us: replies go out whatever the flow state.
        self._uart.write(data)

    async def drain(self):
        pass  # uart.write returns once the driver holds every byte, as a socket's drain

    def close(self):
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        if self._breaks:
            self._uart.irq(handler=None, trigger=0)
            self._breaks = 0

    async def _watch(self):
        while True:
            self._level()
            await asyncio.sleep_ms(_WATCH_MS)

    def _level(self):
        n = self._uart.any()
        if self.stopped:
            if n <= self._low:
                self.stopped = False
                self._signal(False)
        elif n >= self._high:
            self.stopped = True
            self._signal(True)

    def _signal(self, stop: bool):
        if self._rts is not None:
            self._rts.value(1 if stop else 0)  # inactive (high) stops the sender
        else:
            self._uart.write(_XOFF if stop else _XON)
