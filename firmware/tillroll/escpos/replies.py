"""What the module answers: status bytes as the ESC/POS manual gives them, read at the moment
they are asked for.

Every status byte carries the fixed bits a host uses to tell the replies apart (ESC/POS
"transmission status identification"): DLE EOT replies are 0xx1xx10b, the first byte of an
Automatic Status Back is 0xx1xx00b and its other three 0xx0xxxx, GS r and GS I n = 1-3 replies
0xx0xxxx, and GS I strings come as 5Fh, text, NUL.

The module has no drawer connector, no cutter and no ink: the drawer bit reads low, the cutter
error never sets, DLE EOT 7 and 8 (ink, slip) are not answered. Errors map as Epson's thermal
models do: a hot head and a head supply out of range are automatically recoverable errors
(printing stops and resumes by itself). A head fault (strobes that draw no current: its cable
off, an element group dead) is an unrecoverable error: waiting or DLE ENQ does not mend a
head, a technician must (the module resumes by itself once its head checks good again).
"""

from .. import VERSION
from ..engine import status as st

_OFFLINE = const(0x08)
_COVER = const(0x04)  # DLE EOT 2
_PAPER_STOP = const(0x20)  # DLE EOT 2: printing stopped by the paper end
_ERROR = const(0x40)  # DLE EOT 2: an error occurred
_AUTO_RECOVERABLE = const(0x40)  # DLE EOT 3, second ASB byte
_UNRECOVERABLE = const(0x20)  # DLE EOT 3, second ASB byte
_NEAR_END = const(0x0C)  # DLE EOT 4
_PAPER_END = const(0x60)  # DLE EOT 4
_RT_FIXED = const(0x12)  # bits 1 and 4 of every DLE EOT reply
_ASB_FIXED = const(0x10)  # bit 4 of the first ASB byte
_AUTO_ERRORS = const(0x1C)  # OVERHEAT | NO_SUPPLY | UNDERVOLTAGE
_ERRORS = const(0x5C)  # the automatically recoverable ones and HEAD_FAULT
_NO_SUPPLY_MV = const(1000)  # as the engine: below this there is no head supply at all

MAKER = "Tillroll"
MODEL = "Tillroll 58"
_MODEL_ID = const(0x20)  # GS I 1: the model ID this module reports
_TYPE_ID = const(0x01)  # GS I 2: two-byte (GB18030) characters; no cutter


class Report:
    """Status of the module for replies: the engine's faults, the paper and cover sensors read
    now (the engine reads them only while it prints), and the journal's room."""

    def __init__(self, engine, sensors, journal=None, serial="0000000"):
        self._engine = engine
        self._sensors = sensors
        self._journal = journal
        self.serial = serial
        self.feeding = False  # paper fed by the FEED button

    # ---- the state -----------------------------------------------------------------------

    def faults(self) -> int:
        """engine.status flags, with paper, cover and supply as the sensors read them now
        (the engine reads them only while it prints; the head's temperature keeps the
        engine's stop-and-resume hysteresis)."""
        s = self._sensors
        flags = self._engine.status.flags & (st.OVERHEAT | st.HEAD_FAULT)
        if not s.paper():
            flags |= st.PAPER_OUT
        if not s.cover_closed():
            flags |= st.COVER_OPEN
        mv = s.supply_mv()
        low = self._engine.mechanism.SUPPLY_MIN_MV
        if mv < _NO_SUPPLY_MV:
            flags |= st.NO_SUPPLY
        elif mv < low * 9 // 10:
            flags |= st.UNDERVOLTAGE
        elif mv < low:
            flags |= st.LOW_SUPPLY
        return flags

    def near_end(self) -> bool:
        near = getattr(self._sensors, "paper_near_end", None)
        return near is not None and near()

    def offline(self, faults: int) -> bool:
        j = self._journal
        return bool(faults & st.STOPS) or self.feeding or (j is not None and j.offline)

    # ---- DLE EOT n, GS r n, ESC v -----------------------------------------------------------

    def realtime(self, n: int, waiting: bool = False) -> int:
        """DLE EOT n (1-4); -1 for an n with no reply. `waiting`: a fault holds data back
        until it clears (DLE ENQ acts then)."""
        f = self.faults()
        b = _RT_FIXED
        if n == 1:
            if self.offline(f):
                b |= _OFFLINE
            if waiting:
                b |= 0x20
            if self.feeding:
                b |= 0x40
        elif n == 2:
            if f & st.COVER_OPEN:
                b |= _COVER
            if self.feeding:
                b |= 0x08
            if f & st.PAPER_OUT:
                b |= _PAPER_STOP
            if f & _ERRORS:
                b |= _ERROR
        elif n == 3:
            if f & _AUTO_ERRORS:
                b |= _AUTO_RECOVERABLE
            if f & st.HEAD_FAULT:
                b |= _UNRECOVERABLE
        elif n == 4:
            if self.near_end():
                b |= _NEAR_END
            if f & st.PAPER_OUT:
                b |= _PAPER_END
        else:
            return -1
        return b

    def paper_sensor(self) -> int:
        """GS r 1 and ESC v: near end in bits 0-1, paper end in bits 2-3."""
        b = 0
        if self.near_end():
            b |= 0x03
        if self.faults() & st.PAPER_OUT:
            b |= 0x0C
        return b

    # ---- GS a: Automatic Status Back --------------------------------------------------------

    def asb(self, out):
        """The four ASB bytes into `out`."""
        f = self.faults()
        b = _ASB_FIXED
        if self.offline(f):
            b |= _OFFLINE
        if f & st.COVER_OPEN:
            b |= 0x20
        if self.feeding:
            b |= 0x40
        out[0] = b
        b = _AUTO_RECOVERABLE if f & _AUTO_ERRORS else 0
        if f & st.HEAD_FAULT:
            b |= _UNRECOVERABLE
        out[1] = b
        b = 0
        if self.near_end():
            b |= 0x03
        if f & st.PAPER_OUT:
            b |= 0x0C
        out[2] = b
        out[3] = 0

    # ---- GS I n -----------------------------------------------------------------------------

    def identity(self, n: int):
        """GS I n: one byte (an int) for n = 1-3 / 49-51, a 5Fh ... NUL block (bytes) for
        65-69, None for an n this module does not answer."""
        if n == 1 or n == 49:
            return _MODEL_ID
        if n == 2 or n == 50:
            return _TYPE_ID
        if n == 3 or n == 51:
            return int(VERSION.split(".")[1]) & 0x0F  # firmware version ID: 0xx0xxxx
        text = None
        if n == 65:
            text = VERSION
        elif n == 66:
            text = MAKER
        elif n == 67:
            text = MODEL
        elif n == 68:
            text = self.serial
        elif n == 69:
            text = "CHINA GB18030"
        if text is None:
            return None
        return b"\x5f" + text.encode() + b"\x00"
