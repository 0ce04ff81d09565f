"""Power cuts at the journal's own level, the way littlefs proves itself: a scenario of boots
(two that build a history until the region is full, one with receipts, an interruption and
copies, a recovery) loses power at every program and erase in turn, cleanly or cut short in a
tear shape drawn at random; then a recovery boot runs, is itself cut at each of its own
operations, and a second recovery boot finishes. After every cut:

- the journal mounts healthy: no gap, no damaged record, no receipt lost or suspect;
- every receipt acknowledged before the cut (end() returned its number) is still there, byte
  for byte, or went with a reclaimed block only after its print was on flash;
- every receipt the recovery prints again holds exactly the bytes sent for it;
- a receipt whose print was on flash is never printed again; nothing is left interrupted;
- the journal programmed whole pages only and never tried to set a bit.

What the POS and the cashier know (acknowledgements, prints) is kept in `World`, outside the
journal, as it happens, so a power cut cannot take it with the journal's RAM.

`sweep(...)` runs every cut point (`make powercut`) or, with a time budget, a sample drawn
from a fixed seed (the test suite). bugs.py holds deliberate bugs the sweep must catch.
"""

import gc
import os
import time

from sim.flash import NorFlash, PowerCut, Tear
from tillroll.journal import journal as jn
from tillroll.journal import record as r

_ROOT = os.getenv("TILLROLL_POWERCUT") or "/tmp"  # (a sweep of its own: its own files)
IMAGE = _ROOT + "/tillroll-journal-sweep.bin"
MARK = _ROOT + "/tillroll-journal-sweep.mark"
BLOCKS = const(3)
_PAN = b"4111 1111 1111 1111"


class SweepFailure(AssertionError):
    pass


class _Clock:
    """The receipts' time, fixed: a record's bytes, and so the shape a tear takes of them, are
    the same in every run."""

    @staticmethod
    def time():
        return 1767225600  # 2026-01-01


jn.time = _Clock


def receipt(k):
    return b"\x1b@Shop %d\nCard %s\n" % (k, _PAN) + (b"item %d\n" % k) * (k % 5 * 9) + b"\x1dV\x00"


def masked(data):
    return data.replace(_PAN, b"**** **** **** 1111")


class World:
    """What the POS and the cashier know, whatever the flash does."""

    def __init__(self):
        self.begun = {}  # number -> the bytes sent for it (known once its first record is on flash)
        self.acked = []  # numbers whose end() returned: acknowledged
        self.printed = []  # numbers whose print (or copy) is on flash
        self.compared = 0  # receipts whose stored bytes were compared with what was sent

    def copy(self):
        w = World()
        w.begun = dict(self.begun)
        w.acked = list(self.acked)
        w.printed = list(self.printed)
        return w


def _send(j, w, data):
    """A receipt: its first bytes go to flash first (so its number is known), then the rest,
    then its end. Returns its number once acknowledged."""
    j.text(data, 0, 7)
    j.flush()
    w.begun[j.numbers()[-1]] = data
    j.text(data, 7, len(data))
    if hasattr(j, "told"):
        j.told = w.acked.append  # a journal that acknowledges on its own (AckFirst)
    n = j.end(r.CUT)
    if n and n not in w.acked:
        w.acked.append(n)
    return n


def _printed(j, w, n, copy=False):
    j.printed(n, copy)
    w.printed.append(n)


def _history(first, count):
    def boot(j, w):
        for k in range(first, first + count):
            n = _send(j, w, receipt(k))
            _printed(j, w, n)

    return boot


def _main(j, w):
    numbers = []
    for k in range(5):
        n = _send(j, w, receipt(100 + k))
        numbers.append(n)
        if k == 2:
            j.interrupted(n, 0x01, 12)  # paper out: printed again as a copy
            _reprint(j, w, n)
        else:
            _printed(j, w, n)
    _reprint(j, w, numbers[0])  # a technician's copy


def _reprint(j, w, n):
    stored = bytearray()
    for chunk in j.chunks(n):
        stored.extend(chunk)
    if n in w.begun:
        _check(
            bytes(stored) == masked(w.begun[n]), "receipt %d printed again with other bytes" % n
        )
        w.compared += 1
    _printed(j, w, n, copy=True)


def _recovery(k):
    def boot(j, w):
        for n in j.interrupted_numbers():
            _check(n not in w.printed, "receipt %d printed again after its print was on flash" % n)
            _reprint(j, w, n)
        n = _send(j, w, receipt(k))  # the journal goes on
        _check(bool(n), "no receipt taken after the restart")
        _printed(j, w, n)

    return boot


SCENARIO = (_history(1, 7), _history(8, 7), _main)


def _check(ok, why):
    if not ok:
        raise SweepFailure(why)


HEALTH = [True]  # check the journal's own health report too (off: the other checks alone)


def _clean():
    for path in (IMAGE, MARK, MARK + ".new"):
        try:
            os.remove(path)
        except OSError:
            pass


_CHUNK = bytearray(1024)


def _copy(src_path, dst_path):
    """Copy a file a KiB at a time (one buffer for the whole sweep); False if there is none."""
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


def _save(tag):
    for path in (IMAGE, MARK):
        _copy(path, path + tag)


def _restore(tag):
    for path in (IMAGE, MARK):
        _copy(path + tag, path)


def _boot(journal, boot, w, cut=0, seed=-1):
    """One boot: mount and run `boot`, the power cut at its `cut`-th operation (0: none; a
    seed of -1: a clean cut, else a tear drawn from it). Returns (ops, tear shape or None,
    whether the power went)."""
    gc.collect()  # the last boot's journal is garbage now: one heap again, as at power-on
    f = NorFlash(IMAGE, BLOCKS, cut_at=cut, torn=seed >= 0, tear_seed=seed if seed >= 0 else 0)
    went = False
    try:
        j = journal(f, MARK)
        _check(j.mount(), "the journal does not mount: %s" % j.error)
        s = j.status()
        if HEALTH[0]:
            _check(s["healthy"], "the journal is not healthy: %r" % (s["problem_texts"],))
        boot(j, w)
    except PowerCut:
        went = True
    _check(f.refused == 0 and f.overwrites == 0, "programs refused or bits set again")
    shape = f.tear.shape if f.tear is not None and went else None
    f.close()
    return f.ops, shape, went


def _final(journal, w):
    """After the last boot: every acknowledged receipt is kept byte for byte and printed, or
    went with a block reclaimed after it printed."""
    f = NorFlash(IMAGE, BLOCKS)
    j = journal(f, MARK)
    _check(j.mount(), "the journal does not mount: %s" % j.error)
    s = j.status()
    if HEALTH[0]:
        _check(s["healthy"], "the journal is not healthy: %r" % (s["problem_texts"],))
    kept = j.numbers()
    for n in w.acked:
        if n in kept:
            stored = bytearray()
            for chunk in j.chunks(n):
                stored.extend(chunk)
            _check(bytes(stored) == masked(w.begun[n]), "receipt %d kept with other bytes" % n)
            _check(j.state(n) == jn.PRINTED, "receipt %d not printed: %d" % (n, j.state(n)))
            w.compared += 1
        else:
            _check(n in w.printed and kept and n < kept[0], "acknowledged receipt %d lost" % n)
    _check(not j.interrupted_numbers(), "receipts left interrupted")
    f.close()
    return len(w.acked)


class Tally:
    def __init__(self):
        self.first_cuts = 0
        self.recovery_cuts = 0
        self.shapes = {}
        self.compared = 0
        self.acked_checked = 0

    def shape(self, name):
        if name:
            self.shapes[name] = self.shapes.get(name, 0) + 1

    def report(self):
        print(
            "cut points: %d in the scenario, %d during recovery; receipts compared: %d; "
            "acknowledged receipts checked: %d"
            % (self.first_cuts, self.recovery_cuts, self.compared, self.acked_checked)
        )
        for name in sorted(self.shapes):
            print("  tear %s: %d" % (name, self.shapes[name]))


def reference(journal=jn.Journal):
    """The scenario without a cut: the operations of each boot."""
    _clean()
    w = World()
    ops = []
    for boot in SCENARIO:
        ops.append(_boot(journal, boot, w)[0])
    return ops


def _scenario_until(journal, cut, seed):
    """Run the scenario from an erased region until the power goes at its `cut`-th
    operation; return the world as the cut left it and the tear shape."""
    _clean()
    w = World()
    base = 0
    for boot in SCENARIO:
        local = cut - base if cut > base else 0
        ops, shape, went = _boot(journal, boot, w, local, seed)
        if went:
            return w, shape
        base += ops
    raise SweepFailure("cut %d is past the scenario" % cut)


def check_cut(journal, cut, seed, tally, recovery_points=None, recovery_seeds=(-1,)):
    """Cut the scenario at `cut`, then run the recovery boot cut at each of its operations
    (`recovery_points`: None for all, or a list) and a second recovery boot."""
    where = "cut %d%s" % (cut, "" if seed < 0 else " tear seed %d" % seed)
    try:
        w, shape = _scenario_until(journal, cut, seed)
    except SweepFailure as e:
        raise SweepFailure("%s: %s" % (where, e)) from None
    tally.first_cuts += 1
    tally.shape(shape)
    _save(".cut")
    try:
        w1 = w.copy()
        ops = _boot(journal, _recovery(300), w1)[0]
        _boot(journal, _recovery(301), w1)
        tally.acked_checked += _final(journal, w1)
        tally.compared += w1.compared
    except SweepFailure as e:
        raise SweepFailure("%s, then recovery: %s" % (where, e)) from None
    points = range(1, ops + 1) if recovery_points is None else recovery_points
    for m in points:
        if m > ops:
            continue
        for rseed in recovery_seeds:
            rseed = rseed if rseed < 0 else rseed + 7 * m
            there = "%s, then recovery cut %d%s" % (
                where,
                m,
                "" if rseed < 0 else " tear seed %d" % rseed,
            )
            _restore(".cut")
            w2 = w.copy()
            try:
                _, rshape, went = _boot(journal, _recovery(300), w2, m, rseed)
                _check(went, "the recovery boot ended before its cut")
                _boot(journal, _recovery(301), w2)
                tally.acked_checked += _final(journal, w2)
            except SweepFailure as e:
                raise SweepFailure("%s: %s" % (there, e)) from None
            tally.recovery_cuts += 1
            tally.shape(rshape)
            tally.compared += w2.compared


def sweep(journal=jn.Journal, seed=1, budget_ms=0, tears=1, progress=False):
    """Every cut point of the scenario, clean and with `tears` tear shapes each, each followed
    by a recovery boot cut at each of its operations (clean and torn); or, with a time budget,
    cut points drawn from `seed` until it is spent."""
    ops = reference(journal)
    total = sum(ops)
    tally = Tally()
    if progress:
        print("scenario: %d flash operations (boots: %s)" % (total, ops))
    start = time.ticks_ms()
    if budget_ms:
        draw = Tear(seed)
        while time.ticks_diff(time.ticks_ms(), start) < budget_ms:
            cut = 1 + draw.below(total)
            cseed = -1 if draw.below(3) == 0 else draw.below(1 << 30)
            rseed = -1 if draw.below(3) == 0 else draw.below(1 << 30)
            check_cut(journal, cut, cseed, tally, [1 + draw.below(12)], (rseed,))
    else:
        for cut in range(1, total + 1):
            seeds = [-1] + [seed * 7919 + cut * 31 + t for t in range(tears)]
            for cseed in seeds:
                check_cut(journal, cut, cseed, tally, None, (-1, seed * 104729 + cut))
            if progress:
                print("  cut %d/%d: %d recovery cuts so far" % (cut, total, tally.recovery_cuts))
    _clean()
    for path in (IMAGE, MARK):
        try:
            os.remove(path + ".cut")
        except OSError:
            pass
    return tally
