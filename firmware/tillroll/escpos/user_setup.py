"""GS ( E (user setup commands) and GS ( M (customize printer control values), mapped onto
the module's settings (settings.py); docs/escpos.md has the table.

The parser hands over the bytes its pL pH count covers, in any chunking; a function is read
into a 9-byte buffer (fn 3 and fn 5 a group at a time, however many groups come), so nothing is
allocated from a length. A function with the wrong length, a value out of range or one this
module has no use for is ignored, as Epson's printers ignore them. Imported the first time a
GS ( E or GS ( M comes: POS software sends them at installation, not with receipts.

GS ( E: fn 1 enters user setting mode (reply 37h 20h NUL); fn 2 ends it, saves what fn 5 and
fn 11 set and resets as ESC @ does; fn 3/4 set and send the memory switches (this module has
none of Epson's: fn 4 sends eight "0"); fn 5/6 set and send customized values 5 (density) and 6
(speed); fn 11/12 set and send the serial line's flow control (a = 3). Only fn 1 and fn 12 act
outside user setting mode.
"""

from micropython import const

from ..settings import SAVED

_E = const(0x45)
_MAX = const(9)  # the longest piece read at once: a memory switch group, a b8..b1
_DENSITY = const(5)  # Epson's customized value numbers
_SPEED = const(6)
_FLOW = const(3)  # GS ( E fn 11/12: communication condition 3, flow control


class UserSetup:
    def __init__(self, settings, send, reset):
        self._settings = settings
        self._send = send  # the link's send: replies to the sender
        self._reset = reset  # ESC @ (GS ( E fn 2 resets the printer)
        self._buf = bytearray(_MAX)
        self.user_mode = False
        self._staged = {}  # what fn 5 and fn 11 set, saved by fn 2
        self.done = True

    def start(self, kind: int, length: int):
        self._kind = kind
        self._len = length
        self._have = 0
        self._fn = -1
        self._seen = 0  # bytes after fn
        self.done = length == 0
        return self

    def write(self, buf, i: int, end: int) -> int:
        b = self._buf
        while i < end:
            c = buf[i]
            i += 1
            if self._fn < 0:
                self._fn = c
                continue
            self._seen += 1
            if self._have < _MAX:
                b[self._have] = c
                self._have += 1
            if self._kind == _E and self.user_mode:
                group = 9 if self._fn == 3 else (3 if self._fn == 5 else 0)
                if group and self._have == group:
                    if self._fn == 5:
                        self._customize(b[0], b[1] | (b[2] << 8))
                    self._have = 0  # fn 3: the memory switches are not this module's
        return i

    def end(self):
        self.done = True
        fn = self._fn
        n = self._seen
        b = self._buf
        if self._kind == _E:
            self._user_setup(fn, n, b)
            return
        # GS ( M fn m (fn 1-3 or 49-51; m 0, 1, 48 or 49)
        if n != 1 or fn not in (1, 2, 3, 49, 50, 51) or b[0] not in (0, 1, 48, 49):
            return
        m = b[0] & 1
        s = self._settings
        fn &= 0x0F
        saved = s.path + SAVED if s.path else None  # the storage area, next to the settings
        if fn == 1 and m == 1:
            s.save(saved)  # the settings as they are now
        elif fn == 2 and m == 0:
            s.factory()
        elif fn == 2:
            auto = s.values["autoload"]
            if s.read(saved):
                s.values["autoload"] = auto  # which ones load at power-on stays as it is
                s.apply()
                s.save()
        elif fn == 3:
            s.set("autoload", m)

    def _user_setup(self, fn: int, n: int, b):
        if fn == 1 and n == 2 and b[0] == 0x49 and b[1] == 0x4E:  # "IN"
            self.user_mode = True
            self._staged = {}
            self._send(b"\x37\x20\x00")
        elif fn == 12 and n == 1 and b[0] == _FLOW:
            self._flow_reply()
        elif not self.user_mode:
            return
        elif fn == 2 and n == 3 and b[0] == 0x4F and b[1] == 0x55 and b[2] == 0x54:  # "OUT"
            self.user_mode = False
            staged = self._staged
            self._staged = {}
            try:
                self._settings.set_all(staged)
            except ValueError:
                pass  # out of range: ignored, as every value here is checked when set
            self._reset()
        elif fn == 4 and n == 1 and 1 <= b[0] <= 8:
            self._send(b"\x37\x21" + b"0" * 8 + b"\x00")
        elif fn == 6 and n == 1:
            self._value_reply(b[0])
        elif fn == 11 and n == 2 and b[0] == _FLOW and b[1] in (48, 49):
            self._staged["flow"] = 1 if b[1] == 48 else 2  # Epson's DTR/DSR: our RTS/CTS

    def _customize(self, a: int, v: int):
        """fn 5: one customized value (kept until fn 2)."""
        if a == _DENSITY:
            step = v - 65536 if v >= 65530 else v
            if -6 <= step <= 6:
                self._staged["density"] = 100 + 5 * step
        elif a == _SPEED and 1 <= v <= 9:
            self._staged["speed"] = v * 100 // 9

    def _value(self, name: str) -> int:
        v = self._staged.get(name)
        return self._settings.values[name] if v is None else v

    def _value_reply(self, a: int):
        """fn 6: 37h 27h, a's digits, 1Fh, the value's digits, NUL."""
        if a == _DENSITY:
            step = (self._value("density") - 100 + 2) // 5
            step = -6 if step < -6 else (6 if step > 6 else step)
            v = step + 65536 if step < 0 else step
        elif a == _SPEED:
            v = (self._value("speed") * 9 + 50) // 100
            v = 1 if v < 1 else v
        else:
            return
        self._send(b"\x37\x27%d\x1f%d\x00" % (a, v))

    def _flow_reply(self):
        """fn 12 a = 3: 37h 33h "3" 1Fh, "0" (RTS/CTS, Epson's DTR/DSR) or "1" (XON/XOFF),
        NUL. No flow control is none of Epson's conditions: no reply then."""
        flow = self._value("flow")
        if flow:
            self._send(b"\x37\x33\x33\x1f%d\x00" % (flow - 1))
