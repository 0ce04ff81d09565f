# pyright: reportUndefinedVariable=false
"""Real-time commands, acted on as the bytes arrive, before the parser reaches them.

The link scans every byte it receives, ahead of the print, so a status request is answered
while the module prints, waits for paper, or has its print buffer full. The parser reads the
same bytes again later and skips them. As on every ESC/POS printer, the scan does not know
the data of other commands: DLE EOT n inside image data is answered too (GS ( D disables the
DLE DC4 pulse and power-off commands for hosts that send such data).

    DLE EOT n          10 04 n       n 1-4: one status byte; 7 and 8 (ink, slip) take one
                                     more byte and are not answered
    DLE ENQ n          10 05 n       1: recover, go on from the failed line; 2: recover after
                                     clearing the receive and print buffers
    DLE DC4 1 m t      10 14 01 m t  drawer pulse: no drawer on this module
    DLE DC4 2 1 8      10 14 02 01 08  power-off sequence: journal to flash, reply 3B 30 00
    DLE DC4 7 m        10 14 07 m    m 1: the four ASB bytes
    DLE DC4 8 1 3 20 1 6 2 8          clear the buffers, reply 37 25 00
"""

from ..native import load

load(__file__, globals())  # find_dle: realtime.vpy

_DLE = const(0x10)
_EOT = const(0x04)
_ENQ = const(0x05)
_DC4 = const(0x14)

_IDLE = const(0)
_PREFIX = const(1)  # DLE came
_EOT_N = const(2)
_EOT_A = const(3)  # DLE EOT 7/8: their a byte
_ENQ_N = const(4)
_DC4_FN = const(5)
_DC4_ARGS = const(6)

_CLEAR_KEY = b"\x01\x03\x14\x01\x06\x02\x08"  # DLE DC4 fn 8: d1 ... d7


class RealTime:
    def __init__(self, host):
        """`host` (the link) acts: status(n), asb_now(), recover(n), clear(), power_off()."""
        self._host = host
        self._state = _IDLE
        self._fn = 0
        self._args = bytearray(7)
        self._have = 0
        self._need = 0
        self.pulse_enabled = True  # GS ( D a = 1: DLE DC4 fn 1
        self.power_off_enabled = False  # GS ( D a = 2: DLE DC4 fn 2

    def restart(self):
        """A new connection: no command half scanned, and GS ( D's settings back to their
        defaults (Epson keeps them until ESC @ or a reset)."""
        self._state = _IDLE
        self.pulse_enabled = True
        self.power_off_enabled = False

    def enable(self, a: int, b: int):
        """GS ( D m = 20: enable (b 1/49) or disable (b 0/48) the real-time command a."""
        on = b == 1 or b == 49
        if a == 1:
            self.pulse_enabled = on
        elif a == 2:
            self.power_off_enabled = on

    def scan(self, buf, i: int, end: int) -> int:
        """Act on the real-time commands in buf[i:end], which may split anywhere. Returns
        end, or the index just after a command that cleared the buffers (the bytes before
        it are gone; scan the rest again)."""
        while i < end:
            state = self._state
            if state == _IDLE:
                i = find_dle(buf, i, end)  # pyright: ignore[reportArgumentType]
                if i == end:
                    return end
                self._state = _PREFIX
            elif self._byte(state, buf[i]):
                return i + 1
            i += 1
        return end

    def _byte(self, state: int, b: int) -> bool:
        """Take one byte after a DLE; True if it completed a command that cleared the
        buffers."""
        host = self._host
        self._state = _IDLE
        if state == _PREFIX:
            if b == _EOT:
                self._state = _EOT_N
            elif b == _ENQ:
                self._state = _ENQ_N
            elif b == _DC4:
                self._state = _DC4_FN
            elif b == _DLE:
                self._state = _PREFIX
        elif state == _EOT_N:
            if 1 <= b <= 4:
                host.status(b)
            elif b == 7 or b == 8:
                self._state = _EOT_A
        elif state == _ENQ_N:
            if b == 1 or b == 2:
                return host.recover(b)
        elif state == _DC4_FN:
            if b == 1 or b == 2:
                self._collect(b, 2)
            elif b == 7:
                self._collect(b, 1)
            elif b == 8:
                self._collect(b, 7)
        elif state == _DC4_ARGS:
            self._args[self._have] = b
            self._have += 1
            if self._have < self._need:
                self._state = _DC4_ARGS
            else:
                return self._dc4(self._fn, self._args)
        # _EOT_A: the a byte of DLE EOT 7/8, no reply
        return False

    def _collect(self, fn: int, n: int):
        self._fn = fn
        self._need = n
        self._have = 0
        self._state = _DC4_ARGS

    def _dc4(self, fn: int, a) -> bool:
        host = self._host
        if fn == 7:
            if a[0] == 1:
                host.asb_now()
        elif fn == 8:
            if a[:7] == _CLEAR_KEY:
                host.clear()
                return True
        elif fn == 2:
            if self.power_off_enabled and a[0] == 1 and a[1] == 8:
                host.power_off()
        # fn 1, the drawer pulse: there is no drawer connector on this module
        return False
