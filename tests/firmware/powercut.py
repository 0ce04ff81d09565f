"""A power-cut scenario on the whole simulated module (firmware, engine, mechanism twin, PNGs),
for tests/firmware/mp_journal_powercut.py.

Boot 1: three receipts, each followed by a GS ( H marker whose reply acknowledges it; the
paper runs out in the middle of the second and is loaded again; a technician reprints the
first. The flash may lose power at its Nth program or erase. Boot 2 starts the firmware on the
same flash image and runs until nothing is left to print. Each boot writes its PNGs to a
directory of its own; a receipt is told apart by its length in dot lines. In every boot the
journal programs only whole, page-aligned pages and only clears bits (the flash model counts
what it refuses and every attempt to set a bit).
"""

import asyncio
import gc
import os
import struct

from sim.board import SimBoard
from sim.flash import NorFlash, PowerCut
from tillroll.app import App
from tillroll.journal import journal, record, recovery  # noqa: F401  compiled before any module

# The app imports these when it builds the module; imported here, their code sits below the
# module's buffers, so one boot after another finds the heap in one piece again.

FONTS = os.getenv("TILLROLL_FONTS") or "firmware/fonts"
IMAGE = "/tmp/tillroll-powercut.bin"
OUT = "/tmp/tillroll-powercut"
BLOCKS = const(3)
_STEPS_MAX = const(20000)


def receipt(k: int) -> bytes:
    return (
        b"\x1b@R%d\n" % k
        + b"line\n" * k
        + b"\x1dV\x00"
        + b"\x1d(H\x06\x00\x30\x30"
        + b"ID%02d" % k
    )


class Sender:
    """One POS connection: sends its bytes in small chunks and keeps what comes back."""

    def __init__(self, data, flash, chunk=16):
        self._flash = flash
        self._data = data
        self._at = 0
        self._chunk = chunk
        self.replies = bytearray()

    async def readinto(self, buf):
        if self._at == len(self._data):
            # A POS terminal waits for its process ID (sent once the receipt has printed)
            # before it closes the connection.
            for _ in range(_STEPS_MAX):
                if len(self.replies) >= 7 or self._flash.dead:
                    break
                await asyncio.sleep_ms(1)
            return 0
        n = len(self._data) - self._at
        if n > self._chunk:
            n = self._chunk
        buf[:n] = self._data[self._at : self._at + n]
        self._at += n
        return n

    def write(self, data):
        if not self._flash.dead:  # with the power gone nothing reaches the POS
            self.replies.extend(data)

    async def drain(self):
        pass


def _no_kill():
    pass


def _clean(path):
    try:
        names = os.listdir(path)
    except OSError:
        os.mkdir(path)
        return
    for name in names:
        entry = path + "/" + name
        try:
            os.remove(entry)
        except OSError:  # a folder, such as the sim's flash folder for NV logos
            _clean(entry)
            os.rmdir(entry)


def heights(path):
    """Dot lines of each receipt PNG in a directory, in the order they came out."""
    out = []
    for name in sorted(os.listdir(path)):
        if name.startswith("receipt-") and name.endswith(".png"):
            with open(path + "/" + name, "rb") as f:
                head = f.read(24)
            out.append(struct.unpack(">I", head[20:24])[0])
    return out


class Boot:
    def __init__(self, out, cut_at=0, torn=False):
        _clean(out)
        gc.collect()
        self.board = SimBoard(
            out_dir=out,
            font_dir=FONTS,
            journal_path=IMAGE,
            journal_blocks=BLOCKS,
            cut_at=cut_at,
            torn=torn,
        )
        self.flash = self.board.journal_flash
        self.flash.on_cut = _no_kill  # the cut ends this boot, not the process of the sweep
        self.app = App(self.board)
        self.acked = []  # marker ids answered
        self.numbers = {}  # the journal's number of each acknowledged receipt

    def idle(self) -> bool:
        app = self.app
        rec = app.recovery
        if len(app.engine.queue):
            return False
        if rec is None:
            return True
        if rec._pending or rec._requests:
            return False
        return not app.journal.interrupted_numbers() or bool(rec._fault)

    async def settle(self):
        for _ in range(_STEPS_MAX):
            if self.flash.dead:
                raise PowerCut("during printing")
            await asyncio.sleep_ms(1)
            if self.idle():
                return
        rec = self.app.recovery
        raise AssertionError(
            "the module never came to rest: queue %d, pending %r, requests %r, interrupted %r, "
            "fault %d, link hold %r reading %r, units %d, receipts %r"
            % (
                len(self.app.engine.queue),
                rec._pending,
                rec._requests,
                self.app.journal.interrupted_numbers(),
                rec._fault,
                self.app.link.hold,
                self.app.link.reading,
                rec.units(),
                [(n, self.app.journal.info(n)) for n in self.app.journal.numbers()][-3:],
            )
        )

    async def send(self, k):
        s = Sender(receipt(k), self.flash)
        await self.app.receive(s)
        if s.replies:
            self.acked.append(k)
            self.numbers[k] = self.app.journal.last_acknowledged()
        if self.flash.dead:
            raise PowerCut("while receiving")

    async def scenario(self):
        app = self.app
        app.start()
        await self.settle()  # boot: copies of what a power cut interrupted come first
        await self.send(1)
        await self.settle()
        self.board.paper.remaining = 40  # the roll ends in the middle of receipt 2
        sending = asyncio.create_task(self.send(2))  # it waits for its ID: printed
        for _ in range(_STEPS_MAX):
            await asyncio.sleep_ms(1)
            if app.engine.status.flags & 1 or self.flash.dead:
                break
        for _ in range(20):
            await asyncio.sleep_ms(1)  # the journal hears of the fault
        self.board.paper.remaining = 113000
        await sending
        await self.settle()
        await self.send(3)
        await self.settle()
        app.recovery.reprint(self.numbers[1])
        await self.settle()

    async def restart(self):
        self.app.start()
        await self.settle()

    def run(self, coro):
        asyncio.new_event_loop()
        try:
            asyncio.run(coro)
        except PowerCut:
            pass
        asyncio.new_event_loop()  # the old tasks go, and the module with them
        # asyncio keeps the last task that died with an error (a PowerCut) for its handler:
        # let it go too, or it holds the whole old module.
        context = getattr(asyncio.core, "_exc_context", None)
        if context is not None:
            context["exception"] = None
            context["future"] = None
        self.board.close()


def boot(out, scenario=True, cut_at=0, torn=False):
    b = Boot(out, cut_at, torn)
    b.run(b.scenario() if scenario else b.restart())
    return b


def whole_pages(flash, where):
    assert flash.refused == 0 and flash.overwrites == 0, (
        where,
        "programs refused %d, bits set again %d" % (flash.refused, flash.overwrites),
    )


def _history():
    """A journal already full of printed receipts, so the scenario must drop the oldest block
    and erase it: its cuts include a block change and a reclaim."""
    try:
        os.remove(IMAGE + ".base")
    except OSError:
        pass
    flash = NorFlash(IMAGE + ".base", BLOCKS)
    j = journal.Journal(flash)
    assert j.mount()
    data = b"\x1b@History\n" + b"past receipt line\n" * 24 + b"\x1dV\x00"
    log = j.log
    while len(log.order) < BLOCKS or log.head_at < log.block_size - 300:
        j.text(data, 0, len(data))
        j.printed(j.end(record.CUT))
    whole_pages(flash, "history")
    flash.close()


def _fresh_image():
    with open(IMAGE + ".base", "rb") as src, open(IMAGE, "wb") as dst:
        dst.write(src.read())


def reference():
    """The scenario without a cut: its flash operations and each receipt's length on paper,
    as printed (k: original) and as a copy (-k)."""
    _history()
    _fresh_image()
    try:
        os.mkdir(OUT)
    except OSError:
        pass
    b = boot(OUT + "/ref")
    whole_pages(b.flash, "reference")
    o1, o2, c2, o3, c1 = heights(OUT + "/ref")
    banners = c1 - o1
    assert c2 - o2 == banners, (c1, o1, c2, o2)
    table = {o1: 1, o2: 2, o3: 3, c1: -1, c2: -2, o3 + banners: -3}
    assert len(table) == 6, table  # every kind of print tells itself apart by its length
    assert b.acked == [1, 2, 3], b.acked
    return b.flash.ops, table


def check(cut, torn, table):
    """Cut at one operation, restart, and check what came out and what the journal holds."""
    _fresh_image()
    where = "cut %d%s" % (cut, " torn" if torn else "")
    first = boot(OUT + "/b1", True, cut, torn)
    acked = first.acked
    whole_pages(first.flash, where)
    first = None  # a board's heap holds one module at a time
    second = boot(OUT + "/b2", False)
    whole_pages(second.flash, where + ", after the restart")
    j = second.app.journal
    status = j.status()
    assert status["mounted"] and status["problems"] == 0, (where, status)
    originals = {}
    copies = {}
    for h in heights(OUT + "/b1") + heights(OUT + "/b2"):
        assert h in table, (where, "a print of %d dot lines is no whole receipt" % h)
        k = table[h]
        if k > 0:
            originals[k] = originals.get(k, 0) + 1
        else:
            copies[-k] = copies.get(-k, 0) + 1
    for k in acked:
        assert originals.get(k, 0) + copies.get(k, 0) >= 1, (where, "receipt %d lost" % k)
    for k, n in originals.items():
        assert n == 1, (where, "receipt %d printed %d times unmarked" % (k, n))
    for n in j.numbers():
        assert j.state(n) != 3, (where, "receipt %d still interrupted" % n)  # INTERRUPTED
    return where


def sweep(first, last, torn):
    """Check cut points first..last (1-based, clipped to the scenario's operations)."""
    ops, table = reference()
    print("operations %d" % ops)
    for cut in range(first, (last if last < ops else ops) + 1):
        print("ok", check(cut, torn, table))
        gc.collect()


if __name__ == "__main__":
    # micropython powercut.py FIRST LAST [torn]
    import sys

    sweep(int(sys.argv[1]), int(sys.argv[2]), len(sys.argv) > 3 and sys.argv[3] == "torn")
