"""A UART data link never loses a byte: with XON/XOFF or RTS/CTS, megabytes from a POS that
sends faster than the printer prints arrive whole, through a UART model that drops what its
receive buffer cannot hold, as the hardware does. Without flow control the same line loses
bytes, which shows the model would see a loss.

asyncio runs on virtual milliseconds here: a sleep moves the clock on at once, so minutes of
line time take seconds.
"""

import asyncio
import hashlib
import time
from asyncio import core

from tillroll.uart_stream import UartStream

_XON = 0x11
_XOFF = 0x13
_RXBUF = 4096  # as given to machine.UART(rxbuf=...)
_MB = 1024 * 1024


def virtual_time():
    """Make asyncio's clock virtual: when every task sleeps, time jumps to the next wake-up.
    create_task keys a task by the real clock, which virtual time runs ahead of: it runs at
    once, as it would in real time."""
    now = [time.ticks_ms()]

    def ticks():
        return now[0]

    def wait_io_event(dt):
        if dt < 0:
            raise RuntimeError("every task waits forever")
        now[0] = time.ticks_add(now[0], dt)

    core.ticks = ticks
    core._io_queue.wait_io_event = wait_io_event
    return ticks


def _pattern(size):
    # Pseudo-random bytes with a prime period, XON and XOFF among them. A loss always shows in
    # the count; the hash shows bytes out of order.
    out = bytearray(size)
    x = 1
    for i in range(size):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = x >> 16 & 0xFF
    return out


_DATA = _pattern(8191)


class Uart:
    """machine.UART as the firmware sees it: a receive ring of `rxbuf` bytes that drops what
    arrives when it is full; what is written goes to the host."""

    def __init__(self, rxbuf):
        self._ring = bytearray(rxbuf)
        self._head = 0
        self._count = 0
        self.dropped = 0
        self.peak = 0
        self.tx = bytearray()
        self.host = None

    def any(self):
        return self._count

    def arrive(self, data):
        ring = self._ring
        size = len(ring)
        k = min(len(data), size - self._count)
        self.dropped += len(data) - k
        tail = (self._head + self._count) % size
        first = min(k, size - tail)
        ring[tail : tail + first] = data[:first]
        ring[: k - first] = data[first:k]
        self._count += k
        self.peak = max(self.peak, self._count)

    def readinto(self, buf, n=None):
        ring = self._ring
        size = len(ring)
        n = min(len(buf) if n is None else n, self._count)
        first = min(n, size - self._head)
        buf[:first] = ring[self._head : self._head + first]
        buf[first:n] = ring[: n - first]
        self._head = (self._head + n) % size
        self._count -= n
        return n or None

    def write(self, data):
        self.tx.extend(data)
        if self.host is not None:
            self.host.receive(data)
        return len(data)


class Host:
    """The POS terminal: sends `total` bytes at `baud` (10 bits a byte), one millisecond's
    worth at a time. Told to stop, it still sends `lag` bytes: after XOFF its UART's FIFO and
    its reaction time, after RTS the byte on the wire and the one behind it."""

    def __init__(self, uart, total, baud=115200, xoff_lag=64, rts_lag=2):
        self._uart = uart
        uart.host = self
        self.total = total
        self.baud = baud
        self.xoff_lag = xoff_lag
        self.rts_lag = rts_lag
        self.sent = 0
        self.hash = hashlib.sha256()
        self.left = -1  # bytes it may still send once stopped; -1: not stopped
        self.done = False
        self.received = bytearray()  # the printer's replies, flow control bytes taken out

    def stop(self, lag):
        if self.left < 0:
            self.left = lag

    def go(self):
        self.left = -1

    def receive(self, data):
        # A host with IXON acts on XON and XOFF wherever they come in its input.
        for c in data:
            if c == _XOFF:
                self.stop(self.xoff_lag)
            elif c == _XON:
                self.go()
            else:
                self.received.append(c)

    async def send(self):
        acc = 0
        size = len(_DATA)
        while self.sent < self.total:
            acc += self.baud
            k = acc // 10000  # bytes this millisecond
            acc -= k * 10000
            if self.left >= 0:
                k = min(k, self.left)
                self.left -= k
            k = min(k, self.total - self.sent)
            if k:
                i = self.sent % size
                chunk = _DATA[i : i + k]
                if len(chunk) < k:
                    chunk += _DATA[: k - len(chunk)]
                self.hash.update(chunk)
                self.sent += k
                self._uart.arrive(chunk)
            await asyncio.sleep_ms(1)
        self.done = True


class RtsPin:
    """The printer's RTS output wired to the host's CTS input: high stops the host."""

    def __init__(self, host):
        self._host = host
        self.changes = []

    def value(self, v):
        self.changes.append(v)
        if v:
            self._host.stop(self._host.rts_lag)
        else:
            self._host.go()


class SlowLink:
    """Stands in for the data link: reads 512 bytes at a time in bursts of four, then prints
    for 250 ms; every 50th burst waits 3 s for paper. On average 8 KB/s, slower than the
    11.5 KB/s of 115200 baud, so the sender has to be held back again and again."""

    def __init__(self, stream, uart, host):
        self._stream = stream
        self._uart = uart
        self._host = host
        self.received = 0
        self.hash = hashlib.sha256()

    def _finished(self):
        return self._host.done and not self._uart.any()

    async def run(self, burst=4, pause_ms=250, paper_every=50, paper_ms=3000):
        buf = bytearray(512)
        bursts = 0
        while not self._finished():
            for _ in range(burst):
                if self._finished():
                    break
                n = await self._stream.readinto(buf)
                self.hash.update(buf[:n])
                self.received += n
            bursts += 1
            await asyncio.sleep_ms(paper_ms if bursts % paper_every == 0 else pause_ms)


def transfer(flow, total, **line):
    """Send `total` bytes through a UartStream with `flow` to the slow link."""
    ticks = virtual_time()
    uart = Uart(_RXBUF)
    host = Host(uart, total, **line)
    rts = RtsPin(host) if flow == "rtscts" else None
    stream = UartStream(uart, flow, rts=rts, rxbuf=_RXBUF)
    link = SlowLink(stream, uart, host)
    start = ticks()

    async def main():
        sender = asyncio.create_task(host.send())
        await link.run()
        await sender
        stream.close()

    asyncio.run(main())
    seconds = time.ticks_diff(ticks(), start) // 1000
    return uart, host, link, rts, seconds


def _assert_whole(uart, host, link):
    assert host.sent == host.total
    assert uart.dropped == 0, "%d bytes dropped" % uart.dropped
    assert link.received == host.total, (link.received, host.total)
    assert link.hash.digest() == host.hash.digest()
    assert uart.peak < _RXBUF


def test_two_megabytes_with_xon_xoff_arrive_byte_for_byte():
    uart, host, link, _, seconds = transfer("xonxoff", 2 * _MB)
    _assert_whole(uart, host, link)
    assert uart.tx.count(bytes([_XOFF])) > 100  # held back again and again
    assert seconds > 2 * _MB // 11520  # slower than the line: the link set the pace


def test_two_megabytes_with_an_rts_pin_arrive_byte_for_byte():
    uart, host, link, rts, _ = transfer("rtscts", 2 * _MB)
    _assert_whole(uart, host, link)
    assert rts.changes.count(1) > 100
    assert not uart.tx  # RTS/CTS sends no XON/XOFF into the host's input


def test_without_flow_control_the_slow_link_loses_bytes():
    # The control case: the model sees a loss when there is one.
    uart, host, link, _, _ = transfer("none", _MB // 4)
    assert host.sent == host.total
    assert uart.dropped > 0
    assert link.received == host.total - uart.dropped
    assert link.hash.digest() != host.hash.digest()
    assert not uart.tx


def test_xon_and_xoff_go_once_per_crossing():
    uart, _, _, _, _ = transfer("xonxoff", _MB // 4)
    tx = bytes(uart.tx)
    assert tx[:1] == bytes([_XOFF])
    # Strictly alternating: never a second XOFF while stopped, nor a second XON while going.
    for i in range(len(tx)):
        assert tx[i] == (_XOFF if i % 2 == 0 else _XON), (i, tx[i])
    assert len(tx) > 20


def test_a_link_that_stops_reading_sends_one_xoff_and_one_xon():
    virtual_time()
    uart = Uart(_RXBUF)
    host = Host(uart, 64 * 1024)
    stream = UartStream(uart, "xonxoff", rxbuf=_RXBUF)
    buf = bytearray(512)

    async def main():
        sender = asyncio.create_task(host.send())
        await stream.readinto(buf)  # the watcher starts with the first read
        await asyncio.sleep_ms(5000)  # out of paper: the link reads nothing
        assert bytes(uart.tx) == bytes([_XOFF])
        assert stream.stopped and host.left == 0
        assert uart.dropped == 0
        while uart.any() > 1024:
            await stream.readinto(buf)
        assert bytes(uart.tx) == bytes([_XOFF, _XON])
        sender.cancel()
        stream.close()

    asyncio.run(main())


def test_replies_go_out_while_the_sender_is_held_back():
    virtual_time()
    uart = Uart(_RXBUF)
    host = Host(uart, 64 * 1024)
    stream = UartStream(uart, "xonxoff", rxbuf=_RXBUF)
    buf = bytearray(512)
    reply = b"\x37\x22" + b"0042" + b"\x00"  # GS ( H: receipt 0042 is safe

    async def main():
        sender = asyncio.create_task(host.send())
        await stream.readinto(buf)
        await asyncio.sleep_ms(2000)
        assert stream.stopped
        stream.write(reply)
        await stream.drain()
        assert bytes(host.received) == reply
        assert host.left == 0  # and the host is still held back
        sender.cancel()
        stream.close()

    asyncio.run(main())


def test_water_marks_are_checked():
    for flow, rxbuf, high, low in (
        ("bogus", 4096, 0, 0),
        ("xonxoff", 100, 0, 0),
        ("xonxoff", 4096, 4096, 10),
    ):
        try:
            UartStream(Uart(rxbuf), flow, rts=None, rxbuf=rxbuf, high=high, low=low)
        except ValueError:
            continue
        raise AssertionError((flow, rxbuf, high, low))


def test_the_flow_setting_names_the_flow_control_the_board_builds_the_stream_with():
    from tillroll.settings import Settings
    from tillroll.uart_stream import FLOWS

    settings = Settings(None)
    assert settings.values["flow"] == 1 and FLOWS[1] == "rtscts"  # as the board's wiring is
    built = []
    for value in (0, 1, 2):
        settings.set("flow", value)
        flow = FLOWS[settings.values["flow"]]  # as boards/rp2_pico/board.py serve() does
        UartStream(Uart(_RXBUF), flow, rxbuf=_RXBUF).close()
        built.append(flow)
    assert built == ["none", "rtscts", "xonxoff"]
