"""Power cuts on the whole simulated module (firmware, engine, mechanism twin), the way littlefs
proves itself; driven by tests/powercut.py (`make powercut`) and tests/test_journal_powercut.py.

The scenario is a run of boots on one journal flash image and one state directory (where the
journal's mark is kept): two boots that build a history of printed receipts until the region
is full (each acknowledged by a GS ( H marker); a boot with three receipts, the paper running
out in the middle of the second and loaded again, a technician's reprint of the first (it
must drop the oldest block and erase it); a recovery boot; and a last boot that restarts and
prints one more receipt. The power is cut at one program or erase of the first three boots
(`cut`), cleanly or torn in a shape drawn from a seed; then the recovery boot is itself cut
at one of its own operations (`recovery`, 0: not), and the last boot runs to the end.

After that, over the prints of every boot (and what each cut left on the paper):

- the journal mounts healthy: no gap, no damaged record, nothing lost or suspect;
- every receipt whose marker was answered came out whole at least once;
- no receipt came out whole twice without the COPY banners;
- every print is, dot for dot, the original or the copy of one receipt printed without a
  fault (a cut print: the beginning of one), compared on the dot lines latched into the head
  (`receipt-NNNN.dots`), which heat and paper do not change; and each copy is the original's
  dots between the two banners;
- nothing is left interrupted, and the journal programmed whole pages only.

Boots before the cut one are not run again: the state the reference run left after them
(image, mark, prints, acknowledgements) is restored. `micropython powercut.py reference`
runs the reference; `micropython powercut.py check CUT SEED RECOVERY RSEED` one cut point
(a seed of -1: a clean cut), printing "ok ..." or raising.
"""

import asyncio
import gc
import os
import sys

from sim.board import SimBoard
from sim.flash import NorFlash, PowerCut
from tillroll.app import App
from tillroll.journal import journal, record, recovery  # noqa: F401  compiled before any module

# The app imports these when it builds the module; imported here, their code sits below the
# module's buffers, so one boot after another finds the heap in one piece again.

FONTS = os.getenv("TILLROLL_FONTS") or "firmware/fonts"
ROOT = os.getenv("TILLROLL_POWERCUT") or "/tmp/tillroll-powercut"
IMAGE = ROOT + "/journal.bin"
STATE = ROOT + "/state"
MARK = STATE + "/journal.mark"
BLOCKS = const(3)
_STEPS_MAX = const(20000)
_LINE = const(48)

# Off only to show that the other checks catch a deliberate bug on their own.
HEALTH = os.getenv("TILLROLL_SWEEP_HEALTH") != "0"

HISTORY = (tuple(range(1, 10)), tuple(range(10, 19)))
MAIN = (31, 32, 33)
LAST = 40
BOOTS = ("history 1", "history 2", "main", "recovery", "last")


class _Clock:
    """A receipt's time, fixed: records, and so the shapes tears take of them, are the same in
    every run."""

    @staticmethod
    def time():
        return 1767225600


journal.time = _Clock


def receipt(k: int) -> bytes:
    """Receipt k and the GS ( H marker that acknowledges it. History receipts are mostly
    commands that print nothing (ESC ! 0), so they fill the flash with few dot lines."""
    if k < 30:
        body = b"\x1b@H%d\n" % k + b"\x1b!\x00" * 130 + b"paid\n"
    else:
        body = b"\x1b@R%d\n" % k + b"line %d\n" % k * (k % 10 + 1)
    return body + b"\x1dV\x00" + b"\x1d(H\x06\x00\x30\x30" + b"ID%02d" % k


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


def mkdirs(path):
    at = ""
    for part in path.split("/"):
        if not part:
            continue
        at += "/" + part
        try:
            os.mkdir(at)
        except OSError:
            pass


def clean(path):
    try:
        names = os.listdir(path)
    except OSError:
        mkdirs(path)
        return
    for name in names:
        entry = path + "/" + name
        try:
            os.remove(entry)
        except OSError:  # a folder, such as the sim's flash folder for NV logos
            clean(entry)
            os.rmdir(entry)


_CHUNK = bytearray(1024)


def copy(src_path, dst_path) -> bool:
    """Copy a file a KiB at a time; without a source, remove the destination."""
    try:
        src = open(src_path, "rb")
    except OSError:
        try:
            os.remove(dst_path)
        except OSError:
            pass
        return False
    with src, open(dst_path, "wb") as dst:
        mv = memoryview(_CHUNK)
        while True:
            n = src.readinto(_CHUNK)
            if not n:
                break
            dst.write(mv[:n])
    return True


def size(path) -> int:
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


class Boot:
    """One power-on of the module on the image and state directory, printing into `out`."""

    def __init__(self, out, cut_at=0, seed=-1, app_class=App):
        clean(out)
        self.out = out
        gc.collect()
        self.board = SimBoard(
            out_dir=out,
            font_dir=FONTS,
            state_dir=STATE,
            journal_path=IMAGE,
            journal_blocks=BLOCKS,
            cut_at=cut_at,
            torn=seed >= 0,
            tear_seed=seed if seed >= 0 else 0,
            keep_dots=True,
        )
        self.flash = self.board.journal_flash
        self.flash.on_cut = _no_kill  # the cut ends this boot, not the process of the sweep
        self.app = app_class(self.board)
        self.acked = []  # receipts whose marker was answered
        self.went = False  # the power went during this boot
        self.status = None  # the journal's status once started

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
            "the module never came to rest: queue %d, pending %r, requests %r, interrupted %r"
            % (
                len(self.app.engine.queue),
                rec._pending,
                rec._requests,
                rec.journal.interrupted_numbers(),
            )
        )

    async def send(self, k):
        s = Sender(receipt(k), self.flash)
        await self.app.receive(s)
        if s.replies:
            self.acked.append(k)
        if self.flash.dead:
            raise PowerCut("while receiving")

    def _start(self):
        j = self.app.journal
        self.status = j.status() if j is not None else {"mounted": False}
        self.app.start()

    async def history(self, ids):
        self._start()
        await self.settle()
        for k in ids:
            await self.send(k)
            await self.settle()

    async def main(self):
        app = self.app
        self._start()
        await self.settle()  # boot: copies of what a power cut interrupted come first
        await self.send(MAIN[0])
        await self.settle()
        self.board.paper.remaining = 40  # the roll ends in the middle of the second receipt
        sending = asyncio.create_task(self.send(MAIN[1]))  # it waits for its ID: printed
        for _ in range(_STEPS_MAX):
            await asyncio.sleep_ms(1)
            if app.engine.status.flags & 1 or self.flash.dead:
                break
        for _ in range(20):
            await asyncio.sleep_ms(1)  # the journal hears of the fault
        self.board.paper.remaining = 113000
        while not sending.done():  # its ID comes once it is out whole, unless the power goes
            if self.flash.dead:
                raise PowerCut("while printing")
            await asyncio.sleep_ms(1)
        await sending
        await self.settle()
        await self.send(MAIN[2])
        await self.settle()
        # the technician reprints the first: its number is the one the journal gave it
        first = [n for n in app.journal.numbers() if app.journal.first_line(n) == "R%d" % MAIN[0]]
        app.recovery.reprint(first[-1])
        await self.settle()

    async def recover(self):
        self._start()
        await self.settle()

    async def last(self):
        self._start()
        await self.settle()
        await self.send(LAST)
        await self.settle()

    def run(self, coro):
        asyncio.new_event_loop()
        try:
            asyncio.run(coro)
        except PowerCut:
            self.went = True
        if self.flash.dead:  # (a cut inside a task that carried on, the recovery's, counts)
            self.went = True
            self.board.paper.dots_so_far(self.out + "/cut.dots")
        asyncio.new_event_loop()  # the old tasks go, and the module with them
        # asyncio keeps the last task that died with an error (a PowerCut) for its handler:
        # let it go too, or it holds the whole old module.
        context = getattr(asyncio.core, "_exc_context", None)
        if context is not None:
            context["exception"] = None
            context["future"] = None
        f = self.flash
        assert f.refused == 0 and f.overwrites == 0, "programs refused %d, bits set again %d" % (
            f.refused,
            f.overwrites,
        )
        self.ops = f.ops
        self.shape = f.tear.shape if f.tear is not None and self.went else None
        self.board.close()
        self.board = None
        self.app = None
        self.flash = None


def _scenario(boot, i):
    if i < 2:
        return boot.history(HISTORY[i])
    if i == 2:
        return boot.main()
    if i == 3:
        return boot.recover()
    return boot.last()


def run_boot(i, out, cut_at=0, seed=-1, app_class=App):
    b = Boot(out, cut_at, seed, app_class)
    b.run(_scenario(b, i))
    gc.collect()
    return b


# ---- the images every print is compared with ---------------------------------------------


def _rows(path):
    n = size(path)
    return n // _LINE if n > 0 else 0


def _same(path_a, start_a, path_b, start_b, rows) -> bool:
    """Whether `rows` dot lines of a from row start_a equal those of b from row start_b."""
    buf_a = bytearray(_LINE * 16)
    buf_b = bytearray(_LINE * 16)
    with open(path_a, "rb") as fa, open(path_b, "rb") as fb:
        fa.seek(start_a * _LINE)
        fb.seek(start_b * _LINE)
        left = rows
        while left > 0:
            k = left if left < 16 else 16
            ma = memoryview(buf_a)[: k * _LINE]
            mb = memoryview(buf_b)[: k * _LINE]
            fa.readinto(ma)
            fb.readinto(mb)
            if ma != mb:
                return False
            left -= k
    return True


def _body(path):
    """Rows of a print up to its last dot line with a dot in it."""
    n = _rows(path)
    row = bytearray(_LINE)
    last = 0
    with open(path, "rb") as f:
        for i in range(n):
            f.readinto(row)
            for c in row:
                if c:
                    last = i + 1
                    break
    return last


def images(app_class=App):
    """Print every receipt of the scenario once without a fault, then again as a copy, on a
    module of its own: IMG/o-K.dots and IMG/c-K.dots. Check that each copy is the original's
    dot lines between the same two banners."""
    img = ROOT + "/img"
    clean(img)
    ids = HISTORY[0] + HISTORY[1] + MAIN + (LAST,)
    global IMAGE, STATE
    keep = IMAGE, STATE
    IMAGE, STATE = ROOT + "/img-journal.bin", ROOT + "/img-state"
    try:
        os.remove(IMAGE)
    except OSError:
        pass
    clean(STATE)
    try:
        for at in range(0, len(ids), 6):  # a few at a time: the journal must not fill up
            try:
                os.remove(IMAGE)
            except OSError:
                pass
            clean(STATE)
            b = Boot(ROOT + "/img-out", app_class=app_class)
            b.run(_originals_and_copies(b, ids[at : at + 6]))
            prints = sorted(n for n in os.listdir(b.out) if n.endswith(".dots"))
            for j, k in enumerate(ids[at : at + 6]):
                copy(b.out + "/" + prints[2 * j], img + "/o-%d.dots" % k)
                copy(b.out + "/" + prints[2 * j + 1], img + "/c-%d.dots" % k)
            gc.collect()
    finally:
        IMAGE, STATE = keep
    top = -1
    for k in ids:
        o, c = img + "/o-%d.dots" % k, img + "/c-%d.dots" % k
        body = _body(o)
        assert body > 0, "receipt %d printed nothing" % k
        if top < 0:  # the top banner: what comes before the original's dot lines in a copy
            for at in range(_rows(c) - body + 1):
                if _same(c, at, o, 0, body):
                    top = at
                    break
            assert top > 0, "no copy holds its original's dot lines"
        assert _same(c, top, o, 0, body), "the copy of %d is not its original's dots" % k
        first = img + "/c-%d.dots" % ids[0]
        assert _same(c, 0, first, 0, top), "the copy of %d has another top banner" % k
    return ids


async def _originals_and_copies(boot, ids):
    app = boot.app
    boot._start()
    await boot.settle()
    for k in ids:
        await boot.send(k)
        await boot.settle()
        app.recovery.reprint(app.journal.numbers()[-1])
        await boot.settle()


def classify(path, ids):
    """(k, kind, whole): the receipt a print is of, 'original' or 'copy', and whether all
    its dot lines with a dot came out; a cut print is the beginning of one. Raises if it is
    neither, dot for dot."""
    img = ROOT + "/img"
    n = _rows(path)
    for k in ids:
        for kind in ("original", "copy"):
            ref = img + ("/o-%d.dots" if kind == "original" else "/c-%d.dots") % k
            if n <= _rows(ref) and _same(path, 0, ref, 0, n):
                return k, kind, n >= _body(ref)
    raise AssertionError("%s (%d dot lines) is no receipt's print, dot for dot" % (path, n))


# ---- the reference run and the checks ------------------------------------------------------


def _snap(tag):
    mkdirs(ROOT + "/snap")
    copy(IMAGE, ROOT + "/snap/%s.bin" % tag)
    copy(MARK, ROOT + "/snap/%s.mark" % tag)


def _unsnap(tag):
    mkdirs(STATE)
    copy(ROOT + "/snap/%s.bin" % tag, IMAGE)
    copy(ROOT + "/snap/%s.mark" % tag, MARK)


def reference(app_class=App):
    """The scenario without a cut: each boot's operations, acknowledgements and prints, and
    the state after it (ROOT/snap/after-I, ROOT/ref-I)."""
    images(app_class)
    try:
        os.remove(IMAGE)
    except OSError:
        pass
    clean(STATE)
    _snap("after--1")
    ops = []
    for i in range(len(BOOTS)):
        b = run_boot(i, ROOT + "/ref-%d" % i, app_class=app_class)
        assert not b.went and b.status["healthy"], (BOOTS[i], b.status)
        with open(ROOT + "/ref-%d/acked" % i, "w") as f:
            f.write(" ".join(str(k) for k in b.acked))
        ops.append(b.ops)
        _snap("after-%d" % i)
    with open(ROOT + "/ops", "w") as f:
        f.write(" ".join(str(n) for n in ops))
    print("operations %s" % " ".join(str(n) for n in ops))
    return ops


def _ref_ops():
    with open(ROOT + "/ops") as f:
        return [int(n) for n in f.read().split()]


def _acked(path):
    with open(path) as f:
        return [int(k) for k in f.read().split()]


def check(cut, seed, rcut, rseed, app_class=App):
    """One cut point: the scenario from the state before the boot that holds operation
    `cut` (1-based, over the history and main boots), that boot cut there, the recovery boot
    cut at its operation `rcut` (0: not cut), the last boot; then every check. Returns a
    line for the report."""
    ops = _ref_ops()
    where = "cut %d%s" % (cut, "" if seed < 0 else " torn (seed %d)" % seed)
    if rcut:
        where += ", recovery cut %d%s" % (rcut, "" if rseed < 0 else " torn (seed %d)" % rseed)
    base = 0
    i = 0
    while i < 3 and cut > base + ops[i]:
        base += ops[i]
        i += 1
    assert i < 3, "cut %d is past the scenario's first three boots" % cut
    _unsnap("after-%d" % (i - 1))
    prints = []  # (boot, path)
    acked = []
    for before in range(i):
        prints += [
            ROOT + "/ref-%d/%s" % (before, n)
            for n in sorted(os.listdir(ROOT + "/ref-%d" % before))
            if n.endswith(".dots")
        ]
        acked += _acked(ROOT + "/ref-%d/acked" % before)
    shapes = []
    boots = ((i, cut - base, seed), (3, rcut, rseed), (4, 0, -1))
    for n, (boot, at, s) in enumerate(boots):
        b = run_boot(boot, ROOT + "/run-%d" % n, at, s, app_class)
        if at and n == 1 and not b.went:  # a recovery with fewer operations: not cut
            where = where[: where.index(", recovery cut")] + ", recovery not cut (%d ops)" % b.ops
        elif at:
            assert b.went, "%s: %s ended before its cut" % (where, BOOTS[boot])
            shapes.append(b.shape or "clean")
        if n:
            assert b.status["mounted"], (where, BOOTS[boot], b.status)
            assert b.status["healthy"] or not HEALTH, (where, BOOTS[boot], b.status)
        acked += b.acked
        for name in sorted(os.listdir(b.out)):
            if name.endswith(".dots") and name != "cut.dots":
                prints.append(b.out + "/" + name)
        if b.went:
            prints.append(b.out + "/cut.dots")
        # Each boot's prints are kept apart: the next boot cleans only its own folder.
    ids = HISTORY[0] + HISTORY[1] + MAIN + (LAST,)
    whole = {}
    unmarked = {}
    compared = 0
    for path in prints:
        if _rows(path) == 0:
            continue
        k, kind, done = classify(path, ids)
        compared += 1
        if done:
            whole[k] = whole.get(k, 0) + 1
            if kind == "original":
                unmarked[k] = unmarked.get(k, 0) + 1
    for k in acked:
        assert whole.get(k, 0) >= 1, "%s: receipt %d acknowledged, never came out whole" % (
            where,
            k,
        )
    for k, n in unmarked.items():
        assert n == 1, "%s: receipt %d came out whole %d times without COPY" % (where, k, n)
    assert LAST in acked, "%s: the last boot's receipt was not acknowledged" % where
    # The journal after the last boot: mounted, healthy, nothing left to print again.
    f = NorFlash(IMAGE, BLOCKS)
    j = journal.Journal(f, MARK)
    assert j.mount(), (where, j.error)
    s = j.status()
    f.close()
    assert s["healthy"] or not HEALTH, (where, s["problem_texts"])
    assert not j.interrupted_numbers(), (where, "left interrupted", j.interrupted_numbers())
    return "ok %s: %d prints compared, %d acknowledged, tears %s" % (
        where,
        compared,
        len(acked),
        "; ".join(shapes) if shapes else "-",
    )


def recovery_ops(cut, seed, app_class=App):
    """The operations of the recovery boot after a cut (it runs uncut)."""
    ops = _ref_ops()
    base = 0
    i = 0
    while i < 3 and cut > base + ops[i]:
        base += ops[i]
        i += 1
    _unsnap("after-%d" % (i - 1))
    run_boot(i, ROOT + "/run-0", cut - base, seed, app_class)
    return run_boot(3, ROOT + "/run-1", 0, -1, app_class).ops


def _app(name):
    if name == "commit-first":
        import bugs  # a deliberate bug the sweep must catch

        return bugs.commit_first_app
    return App


if __name__ == "__main__":
    # micropython powercut.py reference [BUG]
    # micropython powercut.py check CUT SEED RCUT RSEED [BUG]   (RCUT -1: every recovery op)
    args = sys.argv[1:]
    if args[0] == "reference":
        reference(_app(args[1] if len(args) > 1 else ""))
    else:
        cut, seed, rcut, rseed = (int(a) for a in args[1:5])
        app = _app(args[5] if len(args) > 5 else "")
        if rcut < 0:
            print("recovery operations %d" % recovery_ops(cut, seed, app))
        else:
            print(check(cut, seed, rcut, rseed, app))
