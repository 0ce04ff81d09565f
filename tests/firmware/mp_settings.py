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


def test_a_bad_name_or_value_is_refused_in_words_and_nothing_is_set():
    path = STATE + "/checked"
    try:
        os.remove(path)
    except OSError:
        pass
    settings = Settings(path, Engine())
    for name, value, said in (
        ("density", 200, "density 200: from 50 to 150"),
        ("flow", 3, "flow 3: from 0 to 2"),
        ("mechanism", -1, "mechanism -1: from 0 to 3"),
        ("colour", 1, "no setting colour; one of "),
    ):
        try:
            settings.set_all({"speed": 50, name: value})
        except ValueError as e:
            assert str(e).startswith(said), str(e)
        else:
            raise AssertionError("%s=%d was taken" % (name, value))
    assert settings.values["speed"] == 100  # checked before any was set
    assert Settings(path, Engine()).values["speed"] == 100


def test_every_setting_persists_and_factory_puts_them_back():
    path = STATE + "/all"
    try:
        os.remove(path)
    except OSError:
        pass
    settings = Settings(path, Engine())
    changed = {"code_page": 16, "copy_banner": 0, "flow": 2, "mechanism": 3, "fit": 0}
    settings.set_all(changed)
    again = Settings(path, Engine()).values
    assert {k: again[k] for k in changed} == changed
    settings.factory()
    again = Settings(path, Engine()).values
    assert (again["code_page"], again["copy_banner"], again["flow"], again["mechanism"]) == (
        0,
        1,
        1,
        0,
    )


def test_a_value_out_of_range_in_the_file_keeps_the_default():
    path = STATE + "/edited"
    with open(path, "w") as f:
        f.write("density=999\nflow=2\nunknown=1\n")
    values = Settings(path, Engine()).values
    assert (values["density"], values["flow"]) == (100, 2)
