"""The rig controller (boards/rig_pico) on an emulated RP2040 wired to the emulated module:
what it captures from the head's lines is what the module printed, a build with a fault in
its heat fails by what the capture shows, and its outputs are the module's power, sensors and
BOOTSEL.

The witness for the capture is independent of it: the harness's own model of the head's
logic (boards/rp2040_chip/mechanism_pins.mjs) on the same pins counts the latches, and the
paper the rig rebuilt is read back with OCR and zxing-cpp."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageOps

from ocr import read_text
from tillroll_host.chip import image_path
from tillroll_host.errors import FatalError
from tillroll_host.hil import RigTarget
from tillroll_host.image import FLASH, XIP_BASE, uf2_pages, uf2_write
from tillroll_host.paths import ROOT
from tillroll_host.rig import heat_verdict

ESC, GS, DLE = b"\x1b", b"\x1d", b"\x10"
STROBE_HALVED = ROOT / "out" / "firmware" / "tillroll-rp2_pico-strobe-halved.uf2"


def qr(data: bytes) -> bytes:
    n = len(data) + 3
    return (
        GS + b"(k\x03\x001C\x05"  # module size 5
        + GS + b"(k" + bytes([n & 0xFF, n >> 8]) + b"1P0" + data
        + GS + b"(k\x03\x001Q0"
    )  # fmt: skip


RECEIPT = (
    ESC + b"@" + b"RIG CAPTURE\n" + b"Coffee            2.40\n" + b"TOTAL             2.40\n"
    + ESC + b"a\x01" + qr(b"https://tillroll.example/r/42") + b"\n" + GS + b"V\x00"
)  # fmt: skip


def until(check, timeout: float = 10.0) -> bool:
    """Whether `check()` holds within `timeout`: the module reads its sensors every few ms."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def rig(tmp_path: Path, image: Path) -> RigTarget:
    if not image.exists():
        pytest.fail(f"{image.relative_to(ROOT)} is missing: run `make test` (it builds it)")
    return RigTarget(tmp_path, image=image, twin="ltp02-245")


def test_the_rig_captures_what_the_head_printed(tmp_path, tesseract):
    with rig(tmp_path, image_path()) as target:
        png = target.print(RECEIPT)
        capture, ratios = target.captures[-1]
        witness = target.chip.control("mechanism")["pins"]
        counts = target.rig.counts()
    # Every latch the head's logic saw, the rig saw and paired with its strobe.
    assert len(capture.activations) == witness["latches"] == witness["strobes"], (witness, counts)
    assert counts["latches"] == counts["activations"] == witness["latches"], counts
    text = read_text(png)
    assert [
        line for line in ("RIG CAPTURE", "Coffee 2.40", "TOTAL 2.40") if line not in text
    ] == []
    paper = ImageOps.expand(Image.open(png).convert("L"), border=40, fill=255)
    assert [r.text for r in zxingcpp.read_barcodes(paper)] == ["https://tillroll.example/r/42"]
    assert heat_verdict(ratios) is None, heat_verdict(ratios)


def test_a_build_with_its_strobes_halved_fails_on_the_rig(tmp_path):
    with rig(tmp_path, STROBE_HALVED) as target:
        target.print(RECEIPT)
        _, ratios = target.captures[-1]
    verdict = heat_verdict(ratios)
    assert verdict is not None and "median activation had 0.5" in verdict, verdict


def test_the_rig_switches_the_module_and_drives_its_sensors(tmp_path):
    with rig(tmp_path, image_path()) as target:
        assert 8000 <= target.rig.supply_mv() <= 9000  # VH 8.5 V, through the rig's ADC
        target.rig.set("cover", True)
        assert until(lambda: target.ask(DLE + b"\x04\x02", 1)[0] & 0x04)  # cover open
        target.rig.set("cover", False)
        target.rig.set("paper", False)
        assert until(lambda: target.ask(DLE + b"\x04\x04", 1)[0] & 0x60 == 0x60)  # paper end
        target.rig.set("paper", True)
        boots = target.chip.readies()
        target.rig.set("power", False)
        assert target.rig.supply_mv() < 100  # VH gone with the module's power
        target.rig.set("power", True)
        target.chip.wait_ready(after=boots)
        target.wait_online()
        # BOOTSEL held through a power-on: the RP2040's boot ROM starts its USB boot instead of
        # the image, its mass storage (the RPI-RP2 drive) and PICOBOOT interfaces; let go, the
        # image starts again.
        target.rig.set("bootsel", True)
        target.power_cycle()
        assert until(lambda: "2e8a:0003" in target.chip.control("usb")["usb"], 60)
        usb = target.chip.control("usb")["usb"]
        assert "mass-storage interface 0" in usb and "vendor interface 1" in usb, usb
        target.rig.set("bootsel", False)
        target.power_cycle()
        target.wait_online()
        assert "2e8a:0005" in target.chip.control("usb")["usb"]  # the image's own device
    assert "power switched off by the rig" in target.chip.output


def test_the_rig_reflashes_a_module_an_update_left_unbootable(tmp_path, tesseract):
    """Through the RP2040's own boot ROM: the rig holds BOOTSEL through a power-on, the ROM's
    drive takes the UF2 and starts what it wrote. First a torn first sector (its boot stage
    kept, the image's vector table erased), which leaves the module dead; then the whole image,
    which brings it back."""
    torn = tmp_path / "torn.uf2"
    torn.write_bytes(uf2_write({XIP_BASE: uf2_pages(image_path().read_bytes())[XIP_BASE]}))
    with rig(tmp_path, image_path()) as target:
        target.reflash(torn)
        with pytest.raises(FatalError, match="not online"):
            target.wait_online(timeout=20)
        usb = target.chip.control("usb")["usb"]
        assert "2e8a" not in usb, usb  # no USB device came up at all
        started = time.monotonic()
        target.reflash(image_path())
        target.wait_online()
        took = time.monotonic() - started
        png = target.print(ESC + b"@" + b"REFLASHED\n" + b"TOTAL  1.00\n" + GS + b"V\x00")
    assert "REFLASHED" in read_text(png), read_text(png)
    # What the ROM wrote is the file, page for page: firmware and fonts (past them, the
    # filesystem and journal, which the image has written to since).
    flash = target.chip.flash.read_bytes()
    wrong = [
        hex(address)
        for address, page in uf2_pages(image_path().read_bytes()).items()
        if address - XIP_BASE < FLASH.filesystem_at
        and flash[address - XIP_BASE : address - XIP_BASE + 256] != page
    ]
    assert wrong == [], f"{len(wrong)} pages differ from the file, first {wrong[:4]}"
    print(f"the whole image through the boot ROM's drive: {took:.0f} s")
