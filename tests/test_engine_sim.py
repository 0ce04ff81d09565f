"""The print engine on the mechanism twin, as a technician sees it through the sim's control
channel (docs/sim.md): speed, heat, faults, and what comes out on paper."""

from __future__ import annotations

import time
from pathlib import Path

from PIL import Image

from ocr import missing_lines
from tillroll_host.sim import SimModule, send

TEXT = b"\x1b@" + b"".join(b"Line %02d: the quick brown fox\n" % i for i in range(30))
CUT = b"\x1dV\x00"


def block(sim: SimModule, rows: int, byte: int = 0xFF) -> None:
    """A full-width block of dot lines, straight to the engine as the renderer hands them."""
    sim.control("dots", rows=rows, byte=byte, end=True)


def black(png: Path) -> int:
    im = Image.open(png).convert("L")
    return sum(1 for v in im.tobytes() if v < 128)


def rows(png: Path) -> list[bytes]:
    im = Image.open(png).convert("L")
    data = im.tobytes()
    return [data[y * im.width : (y + 1) * im.width] for y in range(im.height)]


def assert_same_print(got: list[bytes], reference: list[bytes]) -> None:
    """Every line came out: the same length, the same dots but for a few at the edge of
    burning (a pause changes the heat history, and with it which marginal dots burn)."""
    assert len(got) == len(reference)
    differ = sum(1 for a, b in zip(got, reference) for x, y in zip(a, b) if x != y)
    assert differ < sum(1 for r in reference for v in r if v < 128) * 0.02, differ


def test_a_text_receipt_prints_at_the_rated_speed(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        send(sim.data_port, TEXT + CUT)
        png = sim.wait_receipt()
        twin = sim.counters()["twin"]
    # The motor reached the mechanism's fastest step (100 mm/s on the LTP02), never a step
    # faster than its rating, and lost none.
    assert twin["fastest_step_us"] == twin["rated_step_us"]
    assert twin["overspeed_steps"] == 0 and twin["lost_steps"] == 0
    assert twin["overburnt"] == 0
    assert black(png) == twin["burnt"] > 0


def test_a_solid_block_slows_to_the_heat_limit_and_never_passes_the_cap(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        block(sim, 200)
        png = sim.wait_receipt()
        c = sim.counters()
    engine, twin = c["engine"], c["twin"]
    assert twin["max_dots_at_once"] <= engine["cap"] == 45
    # ceil(384 / 45) = 9 sub-strobes an activation, no more: counted on the twin's pins
    assert twin["strobes"] == 200 * 9 * 2
    # Heat-limited: nine sub-strobes a half line take far longer than the motor's 1.25 ms.
    assert twin["motion_us"] > 200 * 4 * 1250
    solid = [r for r in rows(png) if all(v < 128 for v in r)]
    assert len(solid) == 200  # every row of the block burnt edge to edge
    assert twin["overburnt"] == 0


def test_a_cold_head_gets_longer_pulses_than_a_warm_one(tmp_path: Path):
    pulses = {}
    with SimModule(tmp_path) as sim:
        for n, temp in enumerate((5, 50), start=1):
            sim.set_head_temp(temp)
            sim.control("reset_counters")
            block(sim, 4)
            png = sim.wait_receipt(n)
            pulses[temp] = sim.counters()["twin"]["pulse_max_us"]
            assert sum(1 for r in rows(png) if all(v < 128 for v in r)) == 4  # not faded
    assert pulses[5] > pulses[50], pulses


def test_underheating_shows_as_a_faded_receipt(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        block(sim, 20)
        full = black(sim.wait_receipt(1))
        send(sim.data_port, b"\x1b@\x12\x23\x02")  # DC2 # 2: 60 % density
        while sim.counters()["engine"]["density"] != 60:
            time.sleep(0.05)
        block(sim, 20)
        faded = black(sim.wait_receipt(2))
    assert full == 20 * 384
    assert 0 < faded < full * 0.9, (faded, full)


def test_removing_head_supply_gives_a_blank_receipt_and_says_why(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        sim.set_supply(0)
        send(sim.data_port, TEXT + CUT)
        status = sim.wait_status(lambda s: s["stopped"])
        assert status["flags"] == ["no_supply"]
        assert status["line"] == 0 and status["queued"] > 0  # nothing lost, nothing printed
        assert black(sim.image(tmp_path / "now.png")) == 0
        sim.set_supply(8500)
        png = sim.wait_receipt()
    missing, seen = missing_lines(["Line 00: the quick brown fox"], png)
    assert not missing, seen


def test_a_hot_head_pauses_and_resumes_without_losing_a_line(tmp_path: Path):
    with SimModule(tmp_path / "cool") as sim:
        send(sim.data_port, TEXT + CUT)
        reference = rows(sim.wait_receipt())
    with SimModule(tmp_path / "hot") as sim:
        sim.set_head_temp(80)
        send(sim.data_port, TEXT + CUT)
        png = sim.wait_receipt()  # it stopped, cooled below 60 C by itself, and went on
        c = sim.counters()
        assert c["engine"]["pauses"] == 1
        assert c["twin"]["time_s"] > 5  # virtual seconds of cooling from 80 to 60 C
        assert sim.status()["flags"] == []
    # the head is warmer now, the pulses shorter
    assert_same_print(rows(png), reference)


def test_paper_out_stops_at_the_line_and_resumes_when_loaded(tmp_path: Path):
    with SimModule(tmp_path / "a") as sim:
        send(sim.data_port, TEXT + CUT)
        reference = rows(sim.wait_receipt())
    with SimModule(tmp_path / "b") as sim:
        sim.paper_out(after_lines=100)
        send(sim.data_port, TEXT + CUT)
        status = sim.wait_status(lambda s: s["stopped"])
        assert status["flags"] == ["paper_out"] and status["line"] == 100
        sim.load_paper()
        png = sim.wait_receipt()
    assert_same_print(rows(png), reference)


def test_an_open_cover_stops_printing_until_closed(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        sim.open_cover()
        send(sim.data_port, TEXT + CUT)
        assert sim.wait_status(lambda s: s["stopped"])["flags"] == ["cover_open"]
        sim.open_cover(False)
        assert black(sim.wait_receipt()) > 0


def test_dead_elements_show_on_the_self_test_page(tmp_path: Path, tesseract):
    with SimModule(tmp_path) as sim:
        sim.kill_dots([100, 101])
        sim.self_test()
        png = sim.wait_receipt()
    missing, seen = missing_lines(["TILLROLL SELF-TEST", "Supply 8.50 V"], png)
    assert not missing, seen
    bars = [r for r in rows(png) if sum(1 for v in r if v < 128) >= 380]
    assert bars, "the solid bars came out"
    assert all(r[100] >= 128 and r[101] >= 128 and r[99] < 128 for r in bars)


def test_density_and_speed_persist_across_a_power_cut(tmp_path: Path):
    state = tmp_path / "state"
    with SimModule(tmp_path / "1", state_dir=state) as sim:
        send(sim.data_port, b"\x1b@\x1d(K\x02\x00\x31\x04\x1d(K\x02\x00\x32\x03x\n" + CUT)
        sim.wait_receipt()
        sim.power_cut()
    with SimModule(tmp_path / "2", state_dir=state) as sim:
        engine = sim.counters()["engine"]
    assert engine["density"] == 120 and engine["speed"] == 33


def test_feed_held_at_power_on_prints_the_self_test(tmp_path: Path, tesseract):
    with SimModule(tmp_path, feed_held=True) as sim:
        png = sim.wait_receipt()
    missing, seen = missing_lines(["TILLROLL SELF-TEST", "Density 100 %  Speed 100 %"], png)
    assert not missing, seen


def test_each_mechanism_prints_text(tmp_path: Path):
    for name in ("jx-2r-01", "pt486f-b"):
        with SimModule(tmp_path / name, mechanism=name) as sim:
            send(sim.data_port, TEXT + CUT)
            png = sim.wait_receipt()
            twin = sim.counters()["twin"]
        assert twin["fastest_step_us"] == twin["rated_step_us"], name
        assert twin["overspeed_steps"] == 0 and twin["ramp_violations"] == 0, name
        assert twin["overburnt"] == 0 and black(png) == twin["burnt"] > 0, name


def test_real_time_mode_prints_the_same_receipt(tmp_path: Path):
    with SimModule(tmp_path / "virtual") as sim:
        send(sim.data_port, TEXT + CUT)
        reference = rows(sim.wait_receipt())
    with SimModule(tmp_path / "real", real_time=True) as sim:
        send(sim.data_port, TEXT + CUT)
        png = sim.wait_receipt()
        assert sim.control("time")["time_s"] is None  # no virtual clock in this mode
    assert_same_print(rows(png), reference)


def test_a_low_supply_halves_dots_at_once_then_stops_and_says_why(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        sim.set_supply(5200)  # below the LTP02's 5.5 V
        block(sim, 50)
        png = sim.wait_receipt(1)
        c = sim.counters()
        assert sim.status()["flags"] == ["low_supply"]
        assert c["twin"]["max_dots_at_once"] <= 45 // 2
        assert black(png) == 50 * 384  # slower, but not faded
        sim.set_supply(4000)
        block(sim, 50)
        status = sim.wait_status(lambda s: s["stopped"])
        assert status["flags"] == ["undervoltage"] and status["line"] == 0
        sim.set_supply(8500)
        assert black(sim.wait_receipt(2)) == 50 * 384
