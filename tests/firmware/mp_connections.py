"""The connection rules on a serial line, under MicroPython: a UART break or a USB
re-enumeration ends the sender's connection as a TCP reset does. The command it cut off is
dropped, what printed is kept and marked incomplete in the journal, and the next receipt
prints whole and alone (docs/escpos.md, "Connections")."""

# heap: sim
# (a whole simulated module: the App with its fonts, graphics and journal, and the twin)

import asyncio
import hashlib
import os
from errno import ECONNRESET

from tillroll.uart_stream import UartStream

FONTS = os.getenv("TILLROLL_FONTS")
OUT = "/tmp/tillroll-mp-connections"
JOURNAL = OUT + "/journal.bin"
CUT = b"\x1dV\x00"
NEXT = b"\x1b@Next sender\nOrder 42\n" + CUT
RASTER = b"\x1dv0\x00" + b"\x30\x00" + b"\xc8\x00"  # 48 bytes x 200 rows
CUT_OFF = b"\x1b@Before the break\n" + RASTER + b"\xaa" * (48 * 20 + 10)
_STEPS = const(20000)


def marker(pid):
    return b"\x1d(H\x06\x00\x30\x30" + pid


class Uart:
    """machine.UART as rp2 has it, for the firmware: a receive buffer, `any`, `readinto`,
    `write`, and `irq(handler, trigger)` with IRQ_BREAK, whose handler runs when the host
    holds the line in a break."""

    IRQ_BREAK = 0x200

    def __init__(self):
        self._rx = bytearray()
        self.tx = bytearray()
        self._handler = None
        self.error = None  # an OSError the driver raises on the next read
        self.arrived = 0

    def irq(self, handler=None, trigger=0, hard=False):
        if trigger & self.IRQ_BREAK:
            self._handler = handler

    def arrive(self, data):
        self._rx.extend(data)
        self.arrived += len(data)

    def send_break(self):
        if self._handler is not None:
            self._handler(self)

    def any(self):
        return len(self._rx)

    def readinto(self, buf, n=None):
        if self.error is not None:
            e = self.error
            self.error = None
            raise e
        n = min(len(buf) if n is None else n, len(self._rx))
        buf[:n] = self._rx[:n]
        self._rx[:n] = b""
        return n or None

    def write(self, data):
        self.tx.extend(data)
        return len(data)


class UsbCdc:
    """A USB CDC data interface as a stream: it never ends by itself; the board hears of a
    re-enumeration from the USB stack and tells the app."""

    def __init__(self):
        self._rx = bytearray()
        self.tx = bytearray()
        self.arrived = 0

    def arrive(self, data):
        self._rx.extend(data)
        self.arrived += len(data)

    async def readinto(self, buf):
        while not self._rx:
            await asyncio.sleep_ms(1)
        n = min(len(buf), len(self._rx))
        buf[:n] = self._rx[:n]
        self._rx[:n] = b""
        return n

    def write(self, data):
        self.tx.extend(data)


async def _read(stream, buf):
    try:
        return bytes(buf[: await stream.readinto(buf)])
    except OSError as e:
        return e.errno


async def _reads(stream, buf, n):
    got = []
    for _ in range(n):
        got.append(await _read(stream, buf))
    return got


def test_a_break_ends_the_connection_once_the_bytes_before_it_are_read():
    uart = Uart()
    stream = UartStream(uart)
    buf = bytearray(4)

    async def main():
        uart.arrive(b"before")
        uart.send_break()
        uart.arrive(b"after")  # the next connection's
        got = await _reads(stream, buf, 5)
        assert got == [b"befo", b"re", ECONNRESET, b"afte", b"r"], got
        uart.send_break()  # a break on an idle line
        uart.arrive(b"x")
        got = await _reads(stream, buf, 2)
        assert got == [ECONNRESET, b"x"], got

    asyncio.run(main())


def test_a_uart_error_ends_the_connection():
    uart = Uart()
    stream = UartStream(uart)
    uart.arrive(b"data")
    uart.error = OSError(5)  # EIO from the driver

    async def main():
        assert await _read(stream, bytearray(8)) == 5
        assert await _read(stream, bytearray(8)) == b"data"

    asyncio.run(main())


# ---- the whole module on a serial line -------------------------------------------------------


def _clean():
    try:
        os.mkdir(OUT)
    except OSError:
        pass
    for name in os.listdir(OUT):
        if name.endswith(".png") or name.endswith(".bin"):
            os.remove(OUT + "/" + name)


def _module():
    import gc

    from sim.board import SimBoard
    from tillroll.app import App

    _clean()
    board = SimBoard(out_dir=OUT, font_dir=FONTS, journal_path=JOURNAL, journal_blocks=4)
    gc.collect()
    return board, App(board)


async def _until(done, what):
    for _ in range(_STEPS):
        if done():
            return
        await asyncio.sleep_ms(2)
    raise AssertionError("never came: " + what)


def _all_parsed(app, line):
    """Every byte sent so far has been read and parsed: the link waits for more."""
    link = app.link
    return link.received == line.arrived and not link.rx.count


def _done(board, app, line):
    rows = app.journal.page()
    return board.receipts == 3 and len(line.tx) == 14 and rows[-1][2] == "printed"


def _png(n):
    """The SHA-256 of a receipt's PNG, read a piece at a time (the heap is the module's)."""
    h = hashlib.sha256()
    buf = bytearray(512)
    with open(OUT + "/receipt-%04d.png" % n, "rb") as f:
        while True:
            k = f.readinto(buf)
            if not k:
                return h.digest()
            h.update(buf[:k])


def _stored(journal, number):
    buf = bytearray(64)
    out = bytearray()
    while True:
        n = journal.read(number, len(out), buf)
        if not n:
            return bytes(out)
        out.extend(buf[:n])


def _check(board, app, line):
    assert board.receipts == 3, board.receipts
    assert _png(3) == _png(1), "the next receipt did not come out as it does alone"
    rows = app.journal.page()
    assert [(r[2], r[3]) for r in rows] == [
        ("printed", "Next sender"),
        ("incomplete", "Before the break"),
        ("printed", "Next sender"),
    ], rows
    assert _stored(app.journal, rows[2][0]) == NEXT
    assert bytes(line.tx) == b"\x37\x22REF1\x00\x37\x22ID42\x00", line.tx


def test_a_break_in_the_middle_of_a_raster_image_leaves_the_next_receipt_whole():
    board, app = _module()
    uart = Uart()
    stream = UartStream(uart)

    async def serve():
        while True:  # a serial line: one connection after another
            await app.receive(stream, line=True)

    async def main():
        app.start()
        asyncio.create_task(serve())
        uart.arrive(NEXT + marker(b"REF1"))
        await _until(lambda: board.receipts == 1 and len(uart.tx) == 7, "the first receipt")
        uart.arrive(CUT_OFF)
        await _until(lambda: _all_parsed(app, uart), "the rows before the break")
        uart.send_break()
        uart.arrive(NEXT + marker(b"ID42"))
        await _until(lambda: _done(board, app, uart), "the next receipt")

    asyncio.run(main())
    _check(board, app, uart)


def test_a_usb_re_enumeration_the_board_reports_acts_as_a_break():
    board, app = _module()
    cdc = UsbCdc()

    async def serve():
        while True:
            await app.receive(cdc, line=True)

    async def main():
        app.start()
        asyncio.create_task(serve())
        cdc.arrive(NEXT + marker(b"REF1"))
        await _until(lambda: board.receipts == 1 and len(cdc.tx) == 7, "the first receipt")
        cdc.arrive(CUT_OFF)
        await _until(lambda: _all_parsed(app, cdc), "the rows before it")
        app.hang_up()  # the USB stack saw the host enumerate the device again
        cdc.arrive(NEXT + marker(b"ID42"))
        await _until(lambda: _done(board, app, cdc), "the next receipt")

    asyncio.run(main())
    _check(board, app, cdc)
