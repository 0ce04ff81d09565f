"""The heat each dot line had, as the head's strobe line shows it, against what the
mechanism's datasheet asks at the supply and head temperature the rig measures: too little
prints grey, too much wears the head. Only a rig sees the strobe line."""

from __future__ import annotations

import pytest

from ocr import read_text
from tillroll_host.rig import heat_verdict

ESC, GS = b"\x1b", b"\x1d"


@pytest.mark.smoke
@pytest.mark.needs("heat", "image")
def test_every_line_gets_the_heat_the_datasheet_asks(printer, tesseract):
    receipt = (
        ESC + b"@" + ESC + b"!\x30" + b"HEAT\n" + ESC + b"!\x00"
        + b"".join(b"Line %d of the receipt\n" % i for i in range(4)) + GS + b"V\x00"
    )  # fmt: skip
    text = read_text(printer.print(receipt))
    assert "HEAT" in text and "Line 3 of the receipt" in text, text
    assert heat_verdict(printer.heat()) is None, heat_verdict(printer.heat())
