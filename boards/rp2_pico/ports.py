"""The module's data ports: the data CDC (the virtual COM port POS software opens), the USB
printer-class interface (operating systems' printing stacks) and the UART. Each is read as a
connection (`await readinto(buf)`, `write`) and handed to `App.receive`, which gives senders
their turns, first come first served, and ends each connection by the rules of
docs/escpos.md ("Connections").

How a connection ends on each port:
- The data CDC: the host closing the port (DTR drops) is a close; the USB bus reset of a
  re-enumeration is a reset (readinto raises ECONNRESET).
- The UART: a break on the line is a reset (tillroll/uart_stream.py).
- The printer-class interface and the UART are lines that never close: their sender's turn ends
  once it has sent nothing for `idle_ms` while another port has bytes waiting.
"""

import asyncio
import time
from errno import ECONNRESET

_POLL_MS = const(1)
_PACKET = const(64)  # a full-speed USB bulk packet


class Port:
    """A stream over a driver with `any()`, `readinto(buf)` and `write(data)`."""

    def __init__(self, name, driver, idle_ms):
        self.name = name
        self._driver = driver
        self._idle_ms = idle_ms
        self._last = time.ticks_ms()
        self.ports = ()  # every port of the module, to see who else is waiting
        self.replies_dropped = 0

    def waiting(self) -> bool:
        return self._driver.any() > 0

    def open(self) -> bool:
        """Whether a sender is there now: bytes waiting (a CDC: or the host holding DTR)."""
        return self.waiting()

    def pending(self) -> bool:
        return self.waiting()

    def ended(self) -> bool:
        """The sender's turn is over: silent for idle_ms while another port has bytes."""
        if time.ticks_diff(time.ticks_ms(), self._last) < self._idle_ms:
            return False
        for port in self.ports:
            if port is not self and port.waiting():
                return True
        return False

    async def readinto(self, buf) -> int:
        while not self.pending():
            if self.ended():
                return 0
            await asyncio.sleep_ms(_POLL_MS)
        n = await self._read(buf)
        self._last = time.ticks_ms()
        return n

    async def _read(self, buf) -> int:
        return self._driver.readinto(buf) or 0

    def write(self, data):
        # Never waits: a host that does not read its replies loses them, and only them.
        n = self._driver.write(data) or 0
        if n < len(data):
            self.replies_dropped += 1


class CdcPort(Port):
    """The data CDC (micropython-lib's CDCInterface, set up with timeout=0 in usb_ports.py)."""

    def __init__(self, name, cdc, idle_ms):
        super().__init__(name, cdc, idle_ms)
        self._cdc = cdc

    def waiting(self) -> bool:
        return self._cdc._rb.readable() > 0

    def open(self) -> bool:
        return self._cdc.dtr or self.waiting()

    def pending(self) -> bool:
        return self.waiting() or not self._cdc.is_open()

    def ended(self) -> bool:
        return not self._cdc.dtr or super().ended()  # DTR dropped: the host closed the port

    async def _read(self, buf) -> int:
        if not self.waiting():
            raise OSError(ECONNRESET)  # the bus was reset: the host enumerates the device anew
        return self._cdc.readinto(buf) or 0


class UartPort(Port):
    """The UART through tillroll.uart_stream.UartStream, which reports a break as a reset."""

    def __init__(self, name, stream, uart, idle_ms):
        super().__init__(name, uart, idle_ms)
        self._stream = stream

    def pending(self) -> bool:
        return self._stream.pending()

    async def _read(self, buf) -> int:
        return await self._stream.readinto(buf)

    def write(self, data):
        self._stream.write(data)


async def serve(app, ports):
    """Each port waits for a sender and queues for its turn with the others."""
    for port in ports:
        port.ports = ports
    for port in ports[1:]:
        asyncio.create_task(_serve_port(app, port))
    await _serve_port(app, ports[0])


async def _serve_port(app, port):
    while True:
        while not port.open():
            await asyncio.sleep_ms(_POLL_MS * 10)
        await app.receive(port, True)  # a serial line: never closed for idling by the link


class ServicePort(CdcPort):
    """The service CDC: one technician's connection, open while the host holds DTR. Replies
    wait for room in the interface's buffer (a frame is larger than it), never dropped."""

    def __init__(self, cdc):
        super().__init__("usb-service", cdc, 0)
        self._out = None

    def ended(self) -> bool:
        return not self._cdc.dtr

    def write(self, data):
        self._out = data  # sent by drain(), before the next reply is built in that buffer

    async def drain(self):
        data = self._out
        self._out = None
        sent = 0
        cdc = self._cdc
        while data is not None and sent < len(data):
            if not cdc.dtr:
                raise OSError(ECONNRESET)  # the host went: the rest has nowhere to go
            # A packet at a time into an empty buffer: the driver's buffer moves what is left
            # down when a transfer ends, and a write that lands while one is in flight has
            # come out of order (seen with replies larger than the buffer).
            if not cdc._wb.readable():
                sent += cdc.write(data[sent : sent + _PACKET]) or 0
            if sent < len(data):
                await asyncio.sleep_ms(_POLL_MS)


async def serve_service(service, port):
    """The service link: each time a host opens the port, one session until it closes it."""
    while True:
        while not port.open():
            await asyncio.sleep_ms(_POLL_MS * 20)
        await service.serve(port)
        while port.open() and not port.waiting():
            await asyncio.sleep_ms(_POLL_MS * 20)  # a session ended by a bad frame: wait
