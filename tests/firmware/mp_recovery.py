"""Recovery's watch of the engine under MicroPython: a fault interrupts the receipt it stops
part-way (printed again whole, as a copy, once it clears), and a receipt it holds before any
of it is on paper is not interrupted: it comes out whole once the fault clears, no copy. The
second is the case of a receipt that arrives before the watch's tick has seen the cover open."""

import os

from sim.flash import NorFlash
from tillroll.engine import status as st
from tillroll.journal import journal as jn
from tillroll.journal import record as r
from tillroll.journal.recovery import Recovery

_IMAGE = "/tmp/tillroll-mp-recovery.bin"
_RECEIPT = b"\x1b@Corner Shop\nTea 1.20\n"
_LINES = 40  # engine units the receipt takes


class _Status:
    flags = 0


class _Engine:
    """What the watch reads of the engine: units done and pushed, its status and queue."""

    def __init__(self):
        self.status = _Status()
        self.queue = []
        self.units_done = 0
        self.units_pushed = 0

    def done(self):
        return self.units_done

    def pushed(self):
        return self.units_pushed

    def standing(self):
        return True

    def stand(self):
        pass


class _Layout:
    def has_content(self):
        return False


def _watch():
    try:
        os.remove(_IMAGE)
    except OSError:
        pass
    journal = jn.Journal(NorFlash(_IMAGE, 8))
    assert journal.mount(), journal.error
    engine = _Engine()
    return Recovery(journal, engine, _Layout()), engine, journal


def _receive(recovery, engine):
    """A receipt taken from the link and laid out: its units pushed, its cut the boundary."""
    recovery.take(_RECEIPT, 0, len(_RECEIPT), True)
    engine.units_pushed += _LINES
    number = recovery.boundary(r.CUT)
    assert number
    return number


def test_a_fault_before_any_of_the_receipt_is_on_paper_does_not_interrupt_it():
    recovery, engine, journal = _watch()
    engine.status.flags = st.COVER_OPEN  # opened; the watch has not ticked since
    number = _receive(recovery, engine)
    recovery.tick()
    assert journal.state(number) != jn.INTERRUPTED
    engine.status.flags = 0  # closed: the engine prints it whole
    engine.units_done = _LINES
    recovery.tick()
    assert journal.state(number) == jn.PRINTED, journal.state(number)


def test_a_fault_part_way_through_the_receipt_interrupts_it():
    recovery, engine, journal = _watch()
    number = _receive(recovery, engine)
    recovery.tick()
    engine.units_done = _LINES // 2
    engine.status.flags = st.COVER_OPEN
    recovery.tick()
    assert journal.state(number) == jn.INTERRUPTED, journal.state(number)
    engine.status.flags = 0
    engine.units_done = _LINES  # the rest came out: a whole copy is still due
    recovery.tick()
    assert journal.state(number) == jn.INTERRUPTED, journal.state(number)
