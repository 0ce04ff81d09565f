"""Deliberate bugs the power-cut sweeps must catch (tests/firmware/journal_sweep.py,
tests/firmware/powercut.py): journals that are right as long as the power stays on. They live
here, in the tests, never behind a switch in the firmware."""

from tillroll.journal import journal as jn
from tillroll.journal import record as r


class CommitFirst(jn.Journal):
    """A deliberate bug: the receipt's END (its commit, with the receipt's whole length) goes
    to flash before its last bytes. Without a power cut nothing shows: mounting checks the
    lengths once every record is read, and `chunks` reads the receipt's bytes past its END.
    A cut between the two leaves an acknowledged-looking receipt without its last bytes."""

    def end(self, boundary, marker=b""):
        if not self.mounted or self.offline:
            return 0
        self.mask.flush()
        if self._open < 0:
            return super().end(boundary, marker)
        held = bytes(self._page[: self._fill])
        self._fill = 0
        ix = self._ix
        p = self._open
        number = ix[p]
        length = ix[p + 3] + len(held)  # _BYTES, with the bytes still to be written
        if self.mark is not None:
            self._write_mark(number, -1)
        self._tp[0:4] = b"\x00\x00\x00\x00"
        self.log.append(r.END, boundary, number, length, self._tp, 4)
        self._page[: len(held)] = held
        self._fill = len(held)
        self._write_data()  # the bytes after their commit: the bug
        self._open = -1
        ix[self._find(number) + 5] = jn.ACKNOWLEDGED  # _INFO
        return number

    def chunks(self, number):
        p = self._find(number)
        if p < 0 or not self.mounted:
            return
        loc = self._ix[p + 1]  # _LOC
        for kind, _, receipt, _, payload in self.log.records_from(loc >> 16, loc & 0xFFFF):
            if receipt == number and kind == r.DATA:
                yield payload


class AckFirst(jn.Journal):
    """A deliberate bug: the POS hears the acknowledgement before the receipt's END is on
    flash. Without a power cut nothing shows."""

    told = None  # told(number): the acknowledgement reaches the POS

    def end(self, boundary, marker=b""):
        if self.mounted and not self.offline and self._open >= 0 and self.told is not None:
            self.told(self._ix[self._open])
        return super().end(boundary, marker)


def commit_first_app(board):
    """The whole module with the CommitFirst journal."""
    from tillroll.app import App

    real = jn.Journal
    jn.Journal = CommitFirst  # App imports it by name while it builds the module
    try:
        return App(board)
    finally:
        jn.Journal = real
