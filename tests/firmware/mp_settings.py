"""Print density, speed and the self-test page: ESC/POS commands reach the layout, and the
settings store keeps them across a restart."""

import os

from recorder import LayoutRecorder
from tillroll.escpos.parser import Parser
from tillroll.settings import Settings

STATE = "/tmp/tillroll-mp-settings"


def parse(data):
    out = LayoutRecorder()
    p = Parser(out)
    buf = bytearray(data)
    for i in range(len(buf)):  # one byte at a time: every command split at every point
        assert p.feed(buf, i, i + 1) == i + 1
    return out


def test_density_speed_and_self_test_commands_reach_the_layout():
    out = parse(
        b"\x1b7\x07\x64\x02"  # ESC 7: 64 dots at once, 1 ms heat, interval
        b"\x12#\x0a"  # DC2 #: density 50 + 5 x 10 %
        b"\x1d(K\x02\x00\x31\xfe"  # GS ( K fn 49: density -2
        b"\x1d(K\x02\x00\x32\x09"  # GS ( K fn 50: speed level 9
        b"\x1d(A\x02\x00\x00\x02"  # GS ( A: test print
        b"\x12T"  # DC2 T: self-test
        b"after"
    )
    assert out.commands() == [
        ("set_heating", 7, 100, 2),
        ("set_density", 100),
        ("set_density", 90),
        ("set_speed", 100),
        ("self_test",),
        ("self_test",),
    ]
    assert out.text() == "after"


def test_other_gs_paren_functions_are_skipped_by_their_length():
    out = parse(b"\x1d(K\x03\x00\x31\x01\x02" + b"\x1d(E\x02\x00\x01\x02" + b"ok")
    assert out.commands() == []
    assert out.text() == "ok"


class Engine:
    def __init__(self):
        self.density = None
        self.speed = None

    def set_density(self, percent):
        self.density = percent

    def set_speed(self, percent):
        self.speed = percent


def test_settings_persist_and_reach_the_engine():
    try:
        os.mkdir(STATE)
    except OSError:
        pass
    path = STATE + "/settings"
    try:
        os.remove(path)
    except OSError:
        pass
    engine = Engine()
    settings = Settings(path, engine)
    assert (engine.density, engine.speed) == (100, 100)  # defaults with no file
    settings.set("density", 120)
    settings.set("speed", 55)
    again = Engine()
    Settings(path, again)  # a restart reads them back
    assert (again.density, again.speed) == (120, 55)


def test_a_torn_settings_file_keeps_the_defaults():
    path = STATE + "/torn"
    with open(path, "w") as f:
        f.write("density=1")
        f.write("\nspeed=x")
    engine = Engine()
    Settings(path, engine)
    assert engine.speed == 100
