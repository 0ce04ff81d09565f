"""GS ( E (user setup commands) and GS ( M (customize printer control values) under MicroPython:
the replies byte for byte as Epson's manual lays them out (header 37h, identifier, digits,
NUL), the settings they change, kept across a restart, and malformed or out-of-range
parameters ignored without a crash, whatever the chunking."""

import os

from recorder import LayoutRecorder
from tillroll.escpos.parser import Parser
from tillroll.settings import Settings

STATE = "/tmp/tillroll-mp-user-setup"


class Host:
    """Where the link stands: what the module sends back."""

    def __init__(self):
        self.sent = b""

    def send(self, data):
        self.sent += bytes(data)


def fresh(name):
    try:
        os.mkdir(STATE)
    except OSError:
        pass
    path = STATE + "/" + name
    for p in (path, path + ".saved"):
        try:
            os.remove(p)
        except OSError:
            pass
    return path


def module(path):
    out = LayoutRecorder()
    out.settings = Settings(path)
    p = Parser(out)
    p.host = Host()
    return p, out


def feed(p, data, step=1):
    buf = bytearray(data)
    i = 0
    while i < len(buf):  # split at every point when step is 1
        end = min(i + step, len(buf))
        assert p.feed(buf, i, end) == end
        i = end


def gs_e(fn, *params):
    body = bytes((fn,) + params)
    return b"\x1d(E" + bytes((len(body) & 0xFF, len(body) >> 8)) + body


ENTER = gs_e(1, 0x49, 0x4E)  # fn 1 "IN"
END = gs_e(2, 0x4F, 0x55, 0x54)  # fn 2 "OUT"


def test_user_setting_mode_replies_as_the_manual_lays_them_out():
    p, out = module(fresh("replies"))
    feed(p, ENTER)
    assert p.host.sent == bytes((0x37, 0x20, 0x00))  # mode change: header, identifier, NUL
    p.host.sent = b""
    feed(p, gs_e(6, 5))  # customized value 5, print density, at its default
    assert p.host.sent == bytes((0x37, 0x27, 0x35, 0x1F, 0x30, 0x00))
    p.host.sent = b""
    feed(p, gs_e(6, 6))  # customized value 6, print speed: level 9 (rated)
    assert p.host.sent == bytes((0x37, 0x27, 0x36, 0x1F, 0x39, 0x00))
    p.host.sent = b""
    feed(p, gs_e(4, 1))  # memory switch 1: bit 8 to bit 1, "0" for off
    assert p.host.sent == bytes((0x37, 0x21)) + b"\x30" * 8 + b"\x00"
    p.host.sent = b""
    feed(p, gs_e(12, 3))  # serial flow control: "0", Epson's hardware handshake
    assert p.host.sent == bytes((0x37, 0x33, 0x33, 0x1F, 0x30, 0x00))


def test_customized_values_are_kept_until_the_mode_ends_then_saved_and_the_printer_reset():
    path = fresh("values")
    p, out = module(path)
    feed(p, ENTER + b"before")
    # fn 5: density -2 (FFFEh, 90 %) and speed level 3, in one command of two groups
    feed(p, gs_e(5, 5, 0xFE, 0xFF, 6, 3, 0), step=3)
    assert out.settings.values["density"] == 100  # not yet: fn 2 makes them count
    p.host.sent = b""
    feed(p, gs_e(6, 5))  # the value set, as a 16-bit number in decimal: 65534
    assert p.host.sent == b"\x37\x27" + b"5" + b"\x1f" + b"65534" + b"\x00"
    feed(p, gs_e(11, 3, 0x31))  # flow control XON/XOFF
    p.host.sent = b""
    feed(p, gs_e(12, 3))
    assert p.host.sent == bytes((0x37, 0x33, 0x33, 0x1F, 0x31, 0x00))
    out.calls = []
    feed(p, END)
    assert out.commands() == [("reset",)]  # the software reset, as ESC @
    values = out.settings.values
    assert (values["density"], values["speed"], values["flow"]) == (90, 33, 2)
    again = Settings(path)  # a restart reads them back
    assert (again.values["density"], again.values["speed"], again.values["flow"]) == (90, 33, 2)


def test_outside_user_setting_mode_only_fn_1_and_fn_12_act():
    p, out = module(fresh("outside"))
    feed(p, gs_e(5, 5, 4, 0) + gs_e(6, 5) + gs_e(4, 1) + END + b"text")
    assert p.host.sent == b"" and out.settings.values["density"] == 100
    assert out.text() == "text"
    feed(p, gs_e(12, 3))
    assert p.host.sent == b"\x37\x33\x33\x1f\x30\x00"


def test_malformed_and_out_of_range_parameters_are_ignored_and_text_goes_on():
    p, out = module(fresh("malformed"))
    feed(p, ENTER)
    p.host.sent = b""
    junk = (
        gs_e(1, 0x49)  # fn 1 too short
        + gs_e(5, 5, 7, 0)  # density +7: above Epson's +6
        + gs_e(5, 5, 0xF0, 0xFF)  # density -16
        + gs_e(5, 6, 10, 0)  # speed level 10
        + gs_e(5, 99, 1, 0)  # a customized value this module does not have
        + gs_e(5, 5, 2)  # a group cut short
        + gs_e(6, 99)  # asks for a value it does not have: no reply
        + gs_e(6)  # no a at all
        + gs_e(4, 9)  # memory switch 9
        + gs_e(11, 3, 0x35)  # flow control 5
        + gs_e(11, 1, 0x39, 0x36, 0x30, 0x30)  # baud rate: not settable here
        + gs_e(77, 1, 2, 3)  # no such function
        + gs_e(2, 0x4F, 0x55)  # fn 2 too short: still in user setting mode
        + b"\x1d(E\x00\x00"  # no function at all
        + b"\x1d(E\xff\xff\x05"  # 64 KiB declared, 3 bytes given: the text below is data
    )
    feed(p, junk)
    assert p.host.sent == b"", p.host.sent
    assert p.feed(bytearray(b"x"), 0, 1) == 1  # still swallowing the declared data
    p2, out2 = module(fresh("malformed2"))
    feed(p2, ENTER + junk[:-6] + END + b"after")  # in user setting mode: nothing staged
    values = out2.settings.values
    assert (values["density"], values["speed"], values["flow"]) == (100, 100, 1)
    assert out2.text() == "after"


def test_a_huge_gs_e_streams_through_a_group_at_a_time():
    p, out = module(fresh("huge"))
    feed(p, ENTER)
    groups = b"\x05\x02\x00" * 2000  # 2000 density groups: 6 KiB of parameters
    body = b"\x05" + groups
    feed(p, b"\x1d(E" + bytes((len(body) & 0xFF, len(body) >> 8)) + body, step=97)
    feed(p, END + b"ok")
    assert out.settings.values["density"] == 110 and out.text() == "ok"


def gs_m(fn, m):
    return b"\x1d(M\x02\x00" + bytes((fn, m))


def test_gs_m_saves_loads_and_selects_the_settings_at_power_on():
    path = fresh("gs_m")
    p, out = module(path)
    s = out.settings
    s.set("density", 120)
    feed(p, gs_m(49, 49))  # fn 1: save the settings as they are
    s.set("density", 70)
    feed(p, gs_m(2, 1))  # fn 2 m 1: load the saved ones
    assert s.values["density"] == 120
    feed(p, gs_m(50, 48))  # fn 2 m 0: the factory values
    assert s.values["density"] == 100
    feed(p, gs_m(3, 1))  # fn 3 m 1: the saved settings at power-on
    s.set("density", 80)
    assert Settings(path).values["density"] == 120  # what a restart loads
    feed(p, gs_m(51, 0))  # fn 3 m 0: the settings as last set
    assert Settings(path).values["density"] == 80
    # out of range or malformed: nothing changes
    feed(p, gs_m(1, 0) + gs_m(4, 1) + gs_m(2, 2) + b"\x1d(M\x03\x00\x02\x01\x01" + b"t")
    assert s.values["density"] == 80 and out.text() == "t"


def test_a_copy_printed_from_the_journal_does_not_set_anything():
    out = LayoutRecorder()
    out.settings = Settings(fresh("copy"))
    p = Parser(out)  # the journal's own parser has no link: p.host is None
    feed(p, ENTER + gs_e(5, 5, 4, 0) + END + b"copy")
    assert out.settings.values["density"] == 100 and out.text() == "copy"
