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
operation is half done first: a program clears the first half of the bytes it changes and
only some bits of the byte after them (so a page programmed again tears in its new bytes);
an erase sets only the first half of the block back to 0xFF.
"""

import errno

_ERASED = const(0xFF)
_PAGE = const(256)
_SCRATCH = const(256)


def _nothing():
    pass


class PowerCut(Exception):
    """The supply went at this program or erase: nothing after it happens."""


class NorFlash:
    def __init__(self, path, blocks: int, block_size: int = 4096, cut_at=0, torn=False):
        self.block_size = block_size
        self.blocks = blocks
        self.cut_at = cut_at
        self.torn = torn
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
        self._file.seek(0, 2)
        have = self._file.tell()
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
        n = len(buf)
        if cut and self.torn:
            n = self._tear(at, buf)
        old = self._scratch
        mv = memoryview(old)
        for done in range(0, len(buf), _PAGE):
            self._file.seek(at + done)
            self._file.readinto(mv)
            for i in range(_PAGE):
                j = done + i
                if j < n:
                    b = buf[j]
                    if b & ~old[i] & 0xFF:
                        self.overwrites += 1
                    old[i] &= b
                elif j == n:
                    old[i] &= buf[j] | 0x0F  # torn: only some bits of this byte got cleared
            self._file.seek(at + done)
            self._file.write(mv)
        self._file.flush()
        if cut:
            self._cut("program %d" % self.ops)

    def _tear(self, at: int, buf) -> int:
        """Where a torn program stops: half way through the bytes it would change."""
        old = self._scratch
        first = -1
        last = -1
        for done in range(0, len(buf), _PAGE):
            self._file.seek(at + done)
            self._file.readinto(old)
            for i in range(_PAGE):
                if buf[done + i] & old[i] != old[i]:
                    if first < 0:
                        first = done + i
                    last = done + i
        if first < 0:
            return len(buf)  # it changes nothing: torn or not, the flash is the same
        return first + (last + 1 - first) // 2

    def ioctl(self, op: int, arg: int):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return self.block_size
        if op == 6:  # erase
            cut = self._op()
            self.erases += 1
            self.erases_per_block[arg] += 1
            n = self.block_size // 2 if cut and self.torn else self.block_size
            scratch = self._scratch
            for i in range(_SCRATCH):
                scratch[i] = _ERASED
            self._file.seek(arg * self.block_size)
            while n > 0:
                k = n if n < _SCRATCH else _SCRATCH
                self._file.write(memoryview(scratch)[:k])
                n -= k
            self._file.flush()
            if cut:
                self._cut("erase %d" % self.ops)
            return 0
        return 0  # 1 init, 2 deinit, 3 sync: nothing to do
