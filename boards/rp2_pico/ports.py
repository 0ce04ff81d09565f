"""The module's data ports and who may send on them: one sender at a time, as a printer's.

Three ports carry ESC/POS: the data CDC (the virtual COM port POS software opens), the USB
printer-class interface (operating systems' printing stacks) and the UART. Each is read like
a TCP connection (`await readinto(buf)`, `write`): a read returning 0 ends the sender, and
`App.receive` tears its receipt off.

- The data CDC's sender ends when the host closes the port (DTR drops), as a TCP sender
  closes its connection.
- The printer-class interface and the UART are lines that never close: their sender ends once
  it has sent nothing for `idle_ms` while another port has bytes waiting.
"""

import asyncio
import time

_POLL_MS = const(1)


class Port:
    """A stream over one port's driver (`any()`, `readinto(buf)`, `write(data)`)."""

    def __init__(self, name, driver, arbiter, idle_ms):
        self.name = name
        self._driver = driver
        self._arbiter = arbiter
        self._idle_ms = idle_ms
        self._last = time.ticks_ms()
        self.replies_dropped = 0

    def waiting(self) -> bool:
        return self._driver.any() > 0

    def open(self) -> bool:
        """Whether a sender is there now (bytes waiting, or a CDC host holding DTR)."""
        return self.waiting()

    def ended(self) -> bool:
        idle = time.ticks_diff(time.ticks_ms(), self._last) >= self._idle_ms
        return idle and self._arbiter.others_waiting(self)

    async def readinto(self, buf) -> int:
        driver = self._driver
        while True:
            if driver.any():
                n = driver.readinto(buf) or 0
                if n:
                    self._last = time.ticks_ms()
                    return n
            if self.ended():
                return 0
            await asyncio.sleep_ms(_POLL_MS)

    def write(self, data):
        # Never waits: a host that does not read its replies loses them, and only them.
        n = self._driver.write(data) or 0
        if n < len(data):
            self.replies_dropped += 1


class CdcPort(Port):
    """The data CDC: a sender is the host holding the port open (DTR), as a TCP connection."""

    def __init__(self, name, cdc, arbiter, idle_ms):
        super().__init__(name, _CdcDriver(cdc), arbiter, idle_ms)
        self._cdc = cdc

    def open(self) -> bool:
        return self._cdc.dtr or self.waiting()

    def ended(self) -> bool:
        if self.waiting():
            return False
        if not self._cdc.dtr:
            return True  # the host closed the port
        return super().ended()


class _CdcDriver:
    """micropython-lib's CDC with `any()`: its read buffer's level."""

    def __init__(self, cdc):
        self._cdc = cdc  # set up with timeout=0 (usb_ports.py): writes never block

    def any(self) -> int:
        return self._cdc._rb.readable()

    def readinto(self, buf):
        return self._cdc.readinto(buf)

    def write(self, data):
        return self._cdc.write(data)


class Arbiter:
    """Serves the ports one sender at a time, in the order they came."""

    def __init__(self, app):
        self._app = app
        self.ports = []
        self.current = None

    def add(self, port):
        self.ports.append(port)

    def others_waiting(self, port) -> bool:
        for p in self.ports:
            if p is not port and p.waiting():
                return True
        return False

    async def serve(self):
        ports = self.ports
        turn = 0
        while True:
            for i in range(len(ports)):
                port = ports[(turn + i) % len(ports)]
                if port.open():
                    turn = (turn + i + 1) % len(ports)  # the next look starts after it: fair
                    self.current = port
                    await self._app.receive(port)
                    self.current = None
                    break
            else:
                await asyncio.sleep_ms(_POLL_MS)
