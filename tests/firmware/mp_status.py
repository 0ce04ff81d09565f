"""Status replies and real-time commands, against the byte values of the ESC/POS manual."""

from recorder import LayoutRecorder
from tillroll.engine import status as st
from tillroll.escpos.parser import Parser
from tillroll.escpos.realtime import RealTime
from tillroll.escpos.replies import Report


class Mechanism:
    SUPPLY_MIN_MV = 4200


class Engine:
    def __init__(self):
        self.status = st.Status()
        self.mechanism = Mechanism()


class Sensors:
    def __init__(self):
        self.paper_in = True
        self.near = False
        self.closed = True
        self.mv = 8500

    def supply_mv(self):
        return self.mv

    def paper(self):
        return self.paper_in

    def paper_near_end(self):
        return self.near

    def cover_closed(self):
        return self.closed


class Journal:
    offline = False


def report():
    engine = Engine()
    sensors = Sensors()
    journal = Journal()
    return Report(engine, sensors, journal, "TR0042"), engine, sensors, journal


def eot(r, waiting=False):
    return [r.realtime(n, waiting) for n in (1, 2, 3, 4)]


def asb(r):
    out = bytearray(4)
    r.asb(out)
    return bytes(out)


# ---- DLE EOT n, ASB, GS r, ESC v --------------------------------------------------------------


def test_an_idle_module_with_paper_is_online_with_only_the_fixed_bits():
    r = report()[0]
    assert eot(r) == [0x12, 0x12, 0x12, 0x12]
    assert asb(r) == b"\x10\x00\x00\x00"
    assert r.paper_sensor() == 0x00


def test_paper_near_its_end_sets_the_near_end_bits_and_stays_online():
    r, _, sensors, _ = report()
    sensors.near = True
    assert eot(r) == [0x12, 0x12, 0x12, 0x1E]
    assert asb(r) == b"\x10\x00\x03\x00"
    assert r.paper_sensor() == 0x03


def test_paper_out_is_offline_stopped_by_the_paper_end():
    r, _, sensors, _ = report()
    sensors.paper_in = False
    sensors.near = True
    assert eot(r) == [0x1A, 0x32, 0x12, 0x7E]
    assert asb(r) == b"\x18\x00\x0f\x00"
    assert r.paper_sensor() == 0x0F


def test_an_open_cover_is_offline_with_the_cover_bit():
    r, _, sensors, _ = report()
    sensors.closed = False
    assert eot(r) == [0x1A, 0x16, 0x12, 0x12]
    assert asb(r) == b"\x38\x00\x00\x00"


def test_a_hot_head_or_a_bad_supply_is_an_automatically_recoverable_error():
    r, engine, sensors, _ = report()
    engine.status.flags = st.OVERHEAT  # the engine's reading, with its hysteresis
    assert eot(r) == [0x1A, 0x52, 0x52, 0x12]
    assert asb(r) == b"\x18\x40\x00\x00"
    for mv in (0, 3700):  # no head supply; 12 % under the range: read now, idle or not
        r, engine, sensors, _ = report()
        sensors.mv = mv
        assert eot(r) == [0x1A, 0x52, 0x52, 0x12], mv
        assert asb(r) == b"\x18\x40\x00\x00", mv


def test_a_head_fault_is_an_unrecoverable_error():
    # DLE EOT 1: offline (0x08). DLE EOT 2: an error (bit 6, 0x40). DLE EOT 3: unrecoverable
    # (bit 5, 0x20), not automatically recoverable (bit 6). ASB: offline in the first byte,
    # unrecoverable (bit 5) in the second.
    r, engine, _, _ = report()
    engine.status.flags = st.HEAD_FAULT
    assert eot(r) == [0x1A, 0x52, 0x32, 0x12]
    assert asb(r) == b"\x18\x20\x00\x00"
    engine.status.flags = st.HEAD_FAULT | st.OVERHEAT  # both kinds at once: both bits
    assert r.realtime(3) == 0x72 and asb(r)[1] == 0x60


def test_a_low_supply_prints_on_and_is_no_error():
    r, _, sensors, _ = report()
    sensors.mv = 4000  # under the range by less than 10 %: fewer dots at once
    assert eot(r) == [0x12, 0x12, 0x12, 0x12]


def test_a_full_journal_is_offline_and_waiting_data_sets_bit_5():
    r, _, _, journal = report()
    journal.offline = True
    assert r.realtime(1) == 0x1A
    journal.offline = False
    assert r.realtime(1, waiting=True) == 0x32


def test_every_reply_keeps_the_identification_bits():
    # DLE EOT: 0xx1xx10b. ASB: first byte 0xx1xx00b, then 0xx0xxxx. GS r: 0xx0xxxx.
    r, engine, sensors, _ = report()
    for paper_in in (True, False):
        for near in (True, False):
            for closed in (True, False):
                for flags in (0, st.OVERHEAT, st.HEAD_FAULT):
                    sensors.paper_in, sensors.near, sensors.closed = paper_in, near, closed
                    engine.status.flags = flags
                    for b in eot(r):
                        assert b & 0x93 == 0x12, hex(b)
                    a = asb(r)
                    assert a[0] & 0x93 == 0x10 and all(b & 0x90 == 0 for b in a[1:]), a
                    assert r.paper_sensor() & 0x90 == 0


def test_dle_eot_outside_1_to_4_has_no_reply():
    r = report()[0]
    assert r.realtime(0) == -1 and r.realtime(5) == -1 and r.realtime(7) == -1


# ---- GS I -------------------------------------------------------------------------------------


def test_gs_i_answers_ids_and_strings():
    from tillroll import VERSION

    r = report()[0]
    assert r.identity(1) == r.identity(49) == 0x20
    assert r.identity(2) == r.identity(50) == 0x01  # two-byte characters, no cutter
    assert r.identity(3) & 0x90 == 0
    assert r.identity(65) == b"_" + VERSION.encode() + b"\x00"
    assert r.identity(66) == b"_Tillroll\x00"
    assert r.identity(67) == b"_Tillroll 58\x00"
    assert r.identity(68) == b"_TR0042\x00"
    assert r.identity(69) == b"_CHINA GB18030\x00"
    assert r.identity(4) is None and r.identity(112) is None


# ---- real-time commands: the scan -----------------------------------------------------------


class Host:
    """Stands where the link stands behind the real-time scan; logs every call."""

    def __init__(self):
        self.calls = []

    def status(self, n):
        self.calls.append(("status", n))

    def asb_now(self):
        self.calls.append(("asb",))

    def recover(self, n):
        self.calls.append(("recover", n))
        return n == 2

    def clear(self):
        self.calls.append(("clear",))

    def power_off(self):
        self.calls.append(("power_off",))


CLEAR = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
STREAM = (
    b"text\x10\x04\x01more\x10\x04\x04"
    + b"\x10\x04\x07\x01"  # DLE EOT 7 a: ink, no reply
    + b"\x10\x05\x01"
    + b"\x10\x14\x01\x00\x05"  # drawer pulse: no drawer
    + b"\x10\x14\x02\x01\x08"  # power off: disabled by default
    + b"\x10\x14\x07\x01"
    + b"\x10\x10\x04\x02"  # DLE DLE: the second DLE starts the command
    + b"\x10\x04\x09"  # out of range: nothing
)


def scan(data, chunk):
    host = Host()
    rt = RealTime(host)
    buf = bytearray(data)
    for i in range(0, len(buf), chunk):
        end = min(i + chunk, len(buf))
        assert rt.scan(buf, i, end) == end
    return host.calls


def test_real_time_commands_act_in_any_chunking():
    want = [
        ("status", 1),
        ("status", 4),
        ("recover", 1),
        ("asb",),
        ("status", 2),
    ]
    for chunk in (1, 2, 3, 5, 7, len(STREAM)):
        assert scan(STREAM, chunk) == want, chunk


def test_gs_paren_d_switches_the_power_off_command():
    host = Host()
    rt = RealTime(host)
    off = bytearray(b"\x10\x14\x02\x01\x08")
    rt.scan(off, 0, len(off))
    rt.enable(2, 49)
    rt.scan(off, 0, len(off))
    rt.enable(2, 0)
    rt.scan(off, 0, len(off))
    assert host.calls == [("power_off",)]


def test_a_clear_stops_the_scan_just_after_it():
    host = Host()
    rt = RealTime(host)
    buf = bytearray(b"old" + CLEAR + b"new\x10\x04\x01")
    i = rt.scan(buf, 0, len(buf))
    assert i == 3 + len(CLEAR) and host.calls == [("clear",)]
    assert rt.scan(buf, i, len(buf)) == len(buf)
    assert host.calls == [("clear",), ("status", 1)]


def test_a_clear_needs_its_exact_key_and_dle_enq_2_clears():
    host = Host()
    rt = RealTime(host)
    wrong = bytearray(b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x07")
    assert rt.scan(wrong, 0, len(wrong)) == len(wrong) and host.calls == []
    enq = bytearray(b"ab\x10\x05\x02cd")
    assert rt.scan(enq, 0, len(enq)) == 5 and host.calls == [("recover", 2)]


# ---- the parser: status requests in sequence ------------------------------------------------


class ParserHost:
    def __init__(self):
        self.calls = []

    def set_asb(self, n):
        self.calls.append(("asb", n))

    def status_after_print(self, n):
        self.calls.append(("gs_r", n))

    def identify(self, n):
        self.calls.append(("gs_i", n))

    def paper_status(self):
        self.calls.append(("esc_v",))

    def enable_realtime(self, a, b):
        self.calls.append(("gs_d", a, b))


def parse(data):
    out = LayoutRecorder()
    p = Parser(out)
    p.host = ParserHost()
    buf = bytearray(data)
    assert p.feed(buf, 0, len(buf)) == len(buf)
    return out, p.host.calls


def test_status_requests_reach_the_link_and_print_nothing():
    out, calls = parse(
        b"\x1da\xff\x1dr1\x1dI\x42\x1bv\x1d(D\x05\x00\x14\x01\x00\x02\x31"
        + b"\x10\x04\x01\x10\x04\x07\x01\x10\x14\x07\x01\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
        + b"A"
    )
    assert calls == [
        ("asb", 0xFF),
        ("gs_r", 0x31),
        ("gs_i", 0x42),
        ("esc_v",),
        ("gs_d", 1, 0),
        ("gs_d", 2, 0x31),
    ]
    assert out.text() == "A"  # the real-time commands were skipped whole


def test_esc_equals_0_ignores_everything_until_esc_equals_1():
    out, calls = parse(b"A\x1b=\x00B\x1dr1\x1b@C\x1b=\x01D")
    assert out.text() == "AD" and calls == []
    out, _ = parse(b"\x1b=\x00\x1b\x1b=\x03E")  # ESC ESC = 3: odd n selects it again
    assert out.text() == "E"
