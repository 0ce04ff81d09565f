"""An update cut by a power cut at each flash program and erase it makes (update/receive.py,
update/slot.py), under MicroPython: `micropython update_sweep.py DIR FIRST LAST STEP [TEARS]`.

DIR holds what the host made: `manifest`, `signature`, `image` of the new version, `key` (the
maker's public key), `frozen` (the frozen firmware's version) and, if the slot held an update
before, `slot.img` (its flash). Each cut point k from FIRST to LAST (every STEP-th) runs on a
fresh copy of the slot: the update is received, staged, booted on trial and confirmed, with
the power cut at the k-th operation, cleanly and then torn in TEARS shapes; then the module
boots twice more without a cut. What boots must be the old firmware or the new one, whole
(the boot code checks the image's SHA-256 before it runs it), both times; and the update,
sent again, must then install. One line per point: `k clean|torn:N -> FIRST SECOND`, the
versions the two boots ran.
The line `ops N` gives the number of operations of an uncut update (no cut at k > N).
"""

import os
import sys

from sim.flash import NorFlash, PowerCut
from tillroll.update import receive
from tillroll.update import slot as sl

_BLOCKS = const(48)
_PIECE = const(1024)


def _read(d, name):
    with open(d + "/" + name, "rb") as f:
        return f.read()


class Update:
    def __init__(self, d):
        self.d = d
        self.manifest = _read(d, "manifest")
        self.signature = _read(d, "signature")
        self.image = _read(d, "image")
        self.key = _read(d, "key")
        self.frozen = _read(d, "frozen").decode().strip()
        import json

        self.new_version = json.loads(self.manifest)["version"]
        self.old_base = None
        self.rom = bytearray(_BLOCKS * sl.BLOCK - sl.IMAGE_AT)
        try:
            self.base = _read(d, "slot.img")
        except OSError:
            self.base = None

    def fresh(self, path, cut_at=0, torn=False, seed=0):
        try:
            os.remove(path)
        except OSError:
            pass
        if self.base is not None:
            with open(path, "wb") as f:
                f.write(self.base)
        return NorFlash(path, _BLOCKS, cut_at=cut_at, torn=torn, tear_seed=seed)

    def old(self, path):
        """The version the module runs before the update."""
        flash = NorFlash(path, _BLOCKS)
        t = sl.read_ticket(flash)
        now, _ = sl.state(flash)
        flash.close()
        return t.version if t is not None and now == sl.GOOD else self.frozen

    def run(self, flash):
        """The whole update: received, staged, booted on trial, confirmed."""

        def rom(size):
            flash.readblocks(sl.IMAGE_AT // sl.BLOCK, memoryview(self.rom)[:size])
            return self.rom

        rx = receive.Receiver(flash, "sim", self.frozen, rom)
        for off in range(0, len(self.manifest), _PIECE):
            rx.manifest_piece(off, self.manifest[off : off + _PIECE])
        rx.begin(self.signature, False, self.key)
        for off in range(0, len(self.image), _PIECE):
            rx.block(off, self.image[off : off + _PIECE])
        rx.finish()
        t = sl.choose(flash, self.frozen)
        assert t is not None and t.version == self.new_version, "the staged update did not boot"
        assert sl.state(flash)[0] == sl.TRYING
        sl.record(flash, sl.GOOD)  # what confirm() does once the update has run a while

    def boot(self, path):
        """A power-on: the version that runs (the boot code's choice)."""
        flash = NorFlash(path, _BLOCKS)
        t = sl.choose(flash, self.frozen)
        flash.close()
        return self.frozen if t is None else t.version


def point(u, path, k, torn, seed):
    flash = u.fresh(path, k, torn, seed)
    try:
        u.run(flash)
        cut = False
    except PowerCut:
        cut = True
    flash.close()
    first = u.boot(path)
    second = u.boot(path)
    # Old or new, whole. The frozen firmware counts as old too: a slot that held an update
    # is cleared when the next one begins (docs/update.md, "One slot").
    allowed = (u.old_base, u.new_version, u.frozen)
    if first not in allowed or second not in allowed:
        raise AssertionError(
            "cut %d: boots %s then %s; old %s, new %s"
            % (k, first, second, u.old_base, u.new_version)
        )
    if not cut and first != u.new_version:
        raise AssertionError("no cut, yet %s boots" % first)
    # The technician sends it again: it installs.
    flash = NorFlash(path, _BLOCKS)
    u.run(flash)
    flash.close()
    again = u.boot(path)
    if again != u.new_version:
        raise AssertionError("cut %d: sent again, %s boots, not %s" % (k, again, u.new_version))
    return first, second


def main():
    d, first, last, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    tears = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    u = Update(d)
    path = d + "/sweep-slot.img"
    # The old version, from the slot the module starts with.
    flash = u.fresh(path)
    flash.close()
    u.old_base = u.old(path)
    # An uncut run counts the operations.
    flash = u.fresh(path)
    u.run(flash)
    ops = flash.ops
    flash.close()
    print("ops %d" % ops)
    for k in range(first, min(last, ops) + 1, step):
        first, second = point(u, path, k, False, 0)
        print("%d clean -> %s %s" % (k, first, second))
        for seed in range(1, tears + 1):
            first, second = point(u, path, k, True, seed * 1000 + k)
            print("%d torn:%d -> %s %s" % (k, seed, first, second))


main()
