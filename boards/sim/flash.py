"""The sim's NOR flash: 4 KiB erase blocks, programming only clears bits, kept in a file.

It speaks MicroPython's extended block protocol (readblocks/writeblocks with a byte offset,
ioctl 4/5/6), so the journal uses it as it would a device's flash region.

Programs follow the RP2040's rule: whole 256-byte pages at page-aligned offsets. On the chip
a program that is shorter than a page, or crosses into the next one, wraps around inside the
page and corrupts it; here it is refused with EINVAL, counted in `refused`, and changes
nothing. A page may be programmed again: bits only go from 1 to 0 (`overwrites` counts the
bytes in which a program tried otherwise).

Power cuts for tests: `cut_at=N` makes the N-th program or erase (counted together from 1) the
last thing the flash does: it raises PowerCut instead of finishing. With `torn=True` that
operation is cut short in a shape drawn from `tear_seed` (`Tear`), within what a NOR part can
do: a program clears any subset of the bits it would clear (so a page programmed again tears
only in its new bytes), an erase leaves some words erased and the others as they were.

The file must be exactly the region's size: a file cut short or grown is refused (ValueError),
never padded, so a damaged image is not silently taken for an erased one.
"""

import errno

_ERASED = const(0xFF)
_PAGE = const(256)
_SCRATCH = const(256)


def _nothing():
    pass


_torn = [bytearray(0)]  # made by the first flash that tears, while the heap is in one piece


def _torn_block(size: int):
    """A torn erase reshapes a whole block: one buffer for the process, so a sweep of many boots
    and cuts does not ask a fragmented heap for 4 KiB at each one."""
    block = _torn[0]
    if len(block) != size:
        block = _torn[0] = bytearray(size)
    return block


class PowerCut(Exception):
    """The supply went at this program or erase: nothing after it happens."""


class Tear:
    """How a program or an erase the power cut short leaves the flash, drawn from a seed (a
    xorshift generator of its own, so a seed gives the same shape on any port).

    A program: any subset of the bits it clears - each with a chance drawn at random, or in
    the order the part programs them (a prefix of the changed bytes, part of the next), none,
    or all but one bit. An erase: whole 32-bit words erased or left as they were - at random, a
    prefix of the block, the header kept over a half-erased body, or none."""

    PROGRAM = ("random bits", "in order", "nothing", "all but a bit")
    ERASE = ("random words", "in order", "header kept, body half erased", "nothing")

    def __init__(self, seed: int):
        self._x = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1
        self.shape = None  # the last shape drawn, for reports

    def _next(self) -> int:
        x = self._x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._x = x
        return x

    def below(self, n: int) -> int:
        return self._next() % n

    def _bits(self, mask: int, eighths: int) -> int:
        """Each bit of `mask` with a chance of eighths / 8."""
        out = 0
        for i in range(8):
            if mask & (1 << i) and self.below(8) < eighths:
                out |= 1 << i
        return out

    def program(self, old, new):
        """`old` (the flash as it was) becomes what the cut program left of `new`."""
        shape = self.below(len(self.PROGRAM))
        self.shape = "program: " + self.PROGRAM[shape]
        n = len(old)
        if shape == 2:
            return
        if shape == 0:
            eighths = 1 + self.below(7)
            for i in range(n):
                old[i] &= ~self._bits(old[i] & ~new[i], eighths) & 0xFF
            return
        # The bytes the program changes, counted and then walked again: no list of them (a
        # sweep of many boots on a board-sized heap has no room to spare for one).
        changed = 0
        for i in range(n):
            if old[i] & ~new[i] & 0xFF:
                changed += 1
        if shape == 1:
            k = self.below(changed + 1)  # the first k changed bytes done, the next one partly
            seen = 0
            for i in range(n):
                if old[i] & ~new[i] & 0xFF:
                    if seen < k:
                        old[i] &= new[i]
                    elif seen == k:
                        old[i] &= ~self._bits(old[i] & ~new[i], 4) & 0xFF
                        return
                    seen += 1
            return
        keep = self.below(changed) if changed else -1  # the one changed byte left partly done
        seen = 0
        for i in range(n):
            clear = old[i] & ~new[i] & 0xFF
            if clear:
                if seen == keep:
                    clear &= ~(1 << self.below(8)) & 0xFF  # (a bit of it, if set, stays 1)
                seen += 1
            old[i] &= ~clear & 0xFF

    def erase(self, block):
        """`block` (the flash as it was) becomes what the cut erase left."""
        shape = self.below(len(self.ERASE))
        self.shape = "erase: " + self.ERASE[shape]
        words = len(block) // 4
        if shape == 3:
            return
        if shape == 1:
            first, last, chance = 0, self.below(words + 1), 8
        elif shape == 2:
            first, last, chance = 4, words, 4  # bytes 0-15, the header, as they were
        else:
            first, last, chance = 0, words, 1 + self.below(7)
        for w in range(first, last):
            if self.below(8) < chance:
                for i in range(4 * w, 4 * w + 4):
                    block[i] = _ERASED


class NorFlash:
    def __init__(
        self, path, blocks: int, block_size: int = 4096, cut_at=0, torn=False, tear_seed=0
    ):
        self.block_size = block_size
        self.blocks = blocks
        self.cut_at = cut_at
        self.torn = torn
        self.tear = Tear(tear_seed) if torn else None
        if torn:
            _torn_block(block_size)  # now, not at the cut: a sweep's later boots find it made
        self.ops = 0  # programs and erases so far
        self.programs = 0
        self.erases = 0
        self.erases_per_block = [0] * blocks
        self.overwrites = 0  # bytes a program tried to set a cleared bit in (a caller's bug)
        self.refused = 0  # programs not of whole pages at page-aligned offsets (a bug too)
        self.on_cut = _nothing  # called at the cut (the sim stops its process there)
        self.dead = False  # after the cut nothing reaches the flash any more
        self._scratch = bytearray(_SCRATCH)  # programs and erases go through it in pieces
        size = blocks * block_size
        try:
            self._file = open(path, "r+b")
        except OSError:
            self._file = open(path, "w+b")
            new = True
        else:
            new = False
        self._file.seek(0, 2)
        have = self._file.tell()
        if have != size and not new:
            self._file.close()
            raise ValueError(
                "%s holds %d bytes, its region %d (%d blocks of %d): not this journal's flash"
                % (path, have, size, blocks, block_size)
            )
        if have < size:  # a new part comes erased
            chunk = bytes([_ERASED]) * _SCRATCH
            while have < size:
                n = size - have if size - have < _SCRATCH else _SCRATCH
                self._file.write(chunk[:n])
                have += n
            self._file.flush()

    def close(self):
        self._file.close()

    def _op(self) -> bool:
        """Count one program or erase; True if the power goes at this one."""
        if self.dead:
            raise PowerCut("no power")
        self.ops += 1
        return self.cut_at > 0 and self.ops == self.cut_at

    def _cut(self, what):
        self.dead = True
        self.on_cut()
        raise PowerCut(what)

    def readblocks(self, block: int, buf, offset: int = 0):
        self._file.seek(block * self.block_size + offset)
        self._file.readinto(buf)

    def writeblocks(self, block: int, buf, offset=None):
        if offset is None:  # the simple protocol: erase, then program whole blocks
            n = len(buf) // self.block_size
            for i in range(n):
                self.ioctl(6, block + i)
            offset = 0
        at = block * self.block_size + offset
        if at < 0 or at + len(buf) > self.blocks * self.block_size:
            raise OSError(errno.EINVAL)
        if at % _PAGE or len(buf) % _PAGE:
            self.refused += 1
            raise OSError(errno.EINVAL)
        cut = self._op()
        self.programs += 1
        old = self._scratch
        mv = memoryview(old)
        for done in range(0, len(buf), _PAGE):
            self._file.seek(at + done)
            self._file.readinto(mv)
            for i in range(_PAGE):
                b = buf[done + i]
                if b & ~old[i] & 0xFF:
                    self.overwrites += 1
            if cut and self.torn:
                self.tear.program(old, memoryview(buf)[done : done + _PAGE])  # pyright: ignore[reportOptionalMemberAccess]
            else:
                for i in range(_PAGE):
                    old[i] &= buf[done + i]
            self._file.seek(at + done)
            self._file.write(mv)
        self._file.flush()
        if cut:
            self._cut("program %d" % self.ops)

    def ioctl(self, op: int, arg: int):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return self.block_size
        if op == 6:  # erase
            cut = self._op()
            self.erases += 1
            self.erases_per_block[arg] += 1
            if cut and self.torn:
                block = _torn_block(self.block_size)
                self._file.seek(arg * self.block_size)
                self._file.readinto(block)
                self.tear.erase(block)  # pyright: ignore[reportOptionalMemberAccess]
                self._file.seek(arg * self.block_size)
                self._file.write(block)
            else:
                scratch = self._scratch
                for i in range(_SCRATCH):
                    scratch[i] = _ERASED
                self._file.seek(arg * self.block_size)
                n = self.block_size
                while n > 0:
                    k = n if n < _SCRATCH else _SCRATCH
                    self._file.write(memoryview(scratch)[:k])
                    n -= k
            self._file.flush()
            if cut:
                self._cut("erase %d" % self.ops)
            return 0
        return 0  # 1 init, 2 deinit, 3 sync: nothing to do


def power_cut():
    """The supply is gone: the process stops where it is, nothing flushed or closed."""
    import os

    print("power cut")
    os.system("kill -9 $PPID")
