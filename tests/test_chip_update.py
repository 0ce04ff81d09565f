"""Signed updates on the emulated RP2040 (docs/update.md): the production image takes a bundle
over its service interface, checks the maker's signature with its own Ed25519 code, programs
the update slot through the boot ROM's flash routines, restarts by its watchdog into the
update, which runs in place from flash and confirms; the journal stays. A power cut in the
middle of the transfer leaves the frozen firmware running, and the bundle sent again
installs. (The sweep over every flash operation runs on the sim's flash model: test_update.py.)

These boot the UF2 files `make firmware` writes (`make test` builds them first)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from test_chip_service import tillroll, wait_running

from tillroll_host import bundle as bd
from tillroll_host.chip import ChipModule, image_path
from tillroll_host.sim import send

TESTS = Path(__file__).resolve().parent
TEST_KEY = TESTS / "keys" / "test-maker.key"
CUT = b"\x1dV\x00"


@pytest.fixture(scope="module")
def update_0_2_0(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "rp2_pico-0.2.0.bundle"
    path.write_bytes(bd.build("rp2_pico", TEST_KEY, "0.2.0").to_bytes())
    return path


def _printed(capsys, url: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 180
    while True:
        rows = json.loads(tillroll(capsys, "journal", "list", "-p", url, "--json")[1])
        if len(rows) >= count and all(r["state"] == "printed" for r in rows):
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(1)


def _runs(capsys, url: str) -> str:
    code, out, err = tillroll(capsys, "update", "--status", "-p", url)
    assert code == 0, err
    return out.strip().split(" ", 2)[2]  # after "module SERIAL"


def test_an_update_installs_on_the_chip_and_keeps_its_journal(
    tmp_path, monkeypatch, capsys, update_0_2_0
):
    monkeypatch.setenv("TILLROLL_KEYS", str(tmp_path / "keys"))
    chip = ChipModule(tmp_path / "flash.bin", uf2=image_path(), service=True, feed_held=True)
    with chip:
        url = f"socket://127.0.0.1:{chip.service_port}"
        wait_running(chip)
        code, _, err = tillroll(capsys, "provision", "-p", url)
        assert code == 0, err
        send(chip.data_port, b"\x1b@Corner Shop 1843\nTea 1.20\n" + CUT)
        before = _printed(capsys, url, 1)
        assert _runs(capsys, url) == "runs 0.1.0 from its frozen firmware"
        stats = chip.control("stats")
        boots = stats["boots"]
        started = time.monotonic()
        code, out, err = tillroll(capsys, "update", str(update_0_2_0), "-p", url, "--wait", "300")
        wall = time.monotonic() - started
        assert code == 0, err + chip.stop()[-3000:]
        took = chip.control("stats")["emulated_ms"] - stats["emulated_ms"]
        with capsys.disabled():
            print(
                f"\nupdate on the emulated chip: {took / 1000:.1f} s of its time, {wall:.0f} s wall"
            )
        assert out.splitlines()[-1].endswith("runs 0.2.0: confirmed a healthy start"), out
        assert chip.control("stats")["boots"] == boots + 1  # one watchdog reset, into it
        assert _runs(capsys, url) == "runs 0.2.0 from its update slot; slot: 0.2.0, good"
        code, out, err = tillroll(capsys, "status", "-p", url)
        assert "firmware 0.2.0" in out, out
        rows = _printed(capsys, url, 1)
        assert rows == before
        # The update prints, and keeps doing so after a power cycle.
        chip.restart()
        wait_running(chip)
        send(chip.data_port, b"\x1b@Corner Shop 1844\nCoffee 2.50\n" + CUT)
        rows = _printed(capsys, url, 2)
        assert [r["number"] for r in rows] == [before[0]["number"], before[0]["number"] + 1]
        assert _runs(capsys, url) == "runs 0.2.0 from its update slot; slot: 0.2.0, good"


def test_a_power_cut_in_the_middle_of_an_update_leaves_the_chip_on_its_frozen_firmware(
    tmp_path, monkeypatch, capsys, update_0_2_0
):
    monkeypatch.setenv("TILLROLL_KEYS", str(tmp_path / "keys"))
    chip = ChipModule(tmp_path / "flash.bin", uf2=image_path(), service=True, feed_held=True)
    with chip:
        url = f"socket://127.0.0.1:{chip.service_port}"
        wait_running(chip)
        code, _, err = tillroll(capsys, "provision", "-p", url)
        assert code == 0, err
        # The power goes at the 60th page program from now, torn: well into the image.
        chip.control("power_cut_at", n=60, effect="torn", op="program")
        code, out, err = tillroll(capsys, "update", str(update_0_2_0), "-p", url, "--wait", "5")
        assert code != 0
        assert any(line.startswith("power cut at") for line in chip.output), chip.output[-20:]
        chip.control("power_on")
        wait_running(chip)
        assert _runs(capsys, url) == "runs 0.1.0 from its frozen firmware; slot: 0.2.0, none"
        code, out, err = tillroll(capsys, "update", str(update_0_2_0), "-p", url, "--wait", "300")
        assert code == 0, err
        assert _runs(capsys, url) == "runs 0.2.0 from its update slot; slot: 0.2.0, good"


_SWEEP = os.environ.get("TILLROLL_SWEEP_FULL") == "1"


@pytest.mark.skipif(
    not _SWEEP,
    reason="about 15 minutes on the emulated chip: `make powercut` runs it "
    "(every operation is cut on the sim's flash model in test_update.py)",
)
def test_power_cuts_sampled_across_an_update_on_the_chip(
    tmp_path, monkeypatch, capsys, update_0_2_0
):
    """The power goes, torn, at flash operations spread over a whole update on the chip (its
    first, a quarter, half and three quarters in, and the last three: STAGED, TRYING, GOOD):
    each time the chip comes back on the old firmware or the new one, with its receipt."""
    monkeypatch.setenv("TILLROLL_KEYS", str(tmp_path / "keys"))
    base = tmp_path / "base.bin"
    chip = ChipModule(base, uf2=image_path(), service=True, feed_held=True)
    with chip:
        url = f"socket://127.0.0.1:{chip.service_port}"
        wait_running(chip)
        assert tillroll(capsys, "provision", "-p", url)[0] == 0
        send(chip.data_port, b"\x1b@Corner Shop 1843\nTea 1.20\n" + CUT)
        receipt = _printed(capsys, url, 1)
    # One uncut update counts its flash operations: the cut points are chosen from them.
    flash = tmp_path / "flash.bin"
    flash.write_bytes(base.read_bytes())
    with ChipModule(flash, service=True, feed_held=True) as chip:
        wait_running(chip)
        before = chip.control("stats")["flash_ops"]
        assert tillroll(capsys, "update", str(update_0_2_0), "-p", url_of(chip))[0] == 0
        total = chip.control("stats")["flash_ops"] - before
    points = sorted({1, total // 4, total // 2, 3 * total // 4, total - 2, total - 1, total})
    seen = []
    for n in points:
        flash.write_bytes(base.read_bytes())
        with ChipModule(flash, service=True, feed_held=True) as chip:
            url = url_of(chip)
            wait_running(chip)
            chip.control("power_cut_at", n=n, effect="torn", op="any")
            tillroll(capsys, "update", str(update_0_2_0), "-p", url, "--wait", "30")
            deadline = time.monotonic() + 300
            while not any(line.startswith("power cut at") for line in chip.output):
                assert time.monotonic() < deadline, f"cut {n} of {total} never came"
                time.sleep(1)
            chip.control("power_on")
            wait_running(chip)
            runs = _runs(capsys, url)
            assert runs.startswith(("runs 0.1.0 from its frozen", "runs 0.2.0 from its update")), (
                runs
            )
            assert _printed(capsys, url, 1) == receipt
            seen.append((n, runs))
    with capsys.disabled():
        print(f"\n{total} flash operations in an update; cut at:")
        for n, runs in seen:
            print(f"  {n}: {runs}")
    assert seen[0][1].startswith("runs 0.1.0") and seen[-1][1].startswith("runs 0.2.0")


def url_of(chip: ChipModule) -> str:
    return f"socket://127.0.0.1:{chip.service_port}"
