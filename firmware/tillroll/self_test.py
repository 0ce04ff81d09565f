"""The self-test page: what the module is and how it is set, then a dot pattern in which a dead
heating element shows as a white streak down the solid bars and a gap in the staircase.

Before it prints, each element is checked alone with a safe pulse (engine.map_elements: too
short to mark the paper) on a board that senses the head's current; the elements that drew
none are listed on the page ("Dead 64-127") and in the technician's status.

Printed on FEED held at power-on, on GS ( A and DC2 T, and from the sim's control channel.
"""

from . import VERSION
from .settings import power_on

_BAR_LINES = const(24)
_STEP_LINES = const(4)


def report(app):
    """The page's text lines (allocates: printed once, never in the print path)."""
    engine = app.engine
    status = engine.status
    m = engine.mechanism
    return (
        "TILLROLL SELF-TEST",
        "Firmware %s" % VERSION,
        m.NAME,
        "Supply %d.%02d V" % (status.supply_mv // 1000, status.supply_mv % 1000 // 10),
        "Head %d C" % status.head_c,
        "Density %d %%  Speed %d %%" % (engine.heat.density, engine.speed),
        "Characters %s" % ("Chinese GB18030" if power_on(app.settings, "chinese") else "one-byte"),
        "Symbols %s, %d too wide"
        % ("fitted" if power_on(app.settings, "fit") else "not fitted", app.graphics.unfit),
        "Lines %d  Fed %d" % (engine.lines_printed, engine.lines_fed),
        "Receipts %d  Stops %d" % (engine.receipts, engine.pauses),
        dead_line(engine),
    )


def dead_line(engine):
    """The dead elements as the page says them: runs, the first few."""
    hs = engine.head_sense
    if hs is None or hs.dead is None:
        return "Elements not checked"
    if not hs.dead_count:
        return "Elements all alive"
    if hs.dead_count == len(hs.dead) * 8:
        return "Elements: no current (cable?)"
    runs = engine.dead_ranges()
    text = " ".join("%d" % a if a == b else "%d-%d" % (a, b) for a, b in runs[:4])
    return "Dead %s%s" % (text, " ..." if len(runs) > 4 else "")


async def print_page(app):
    engine = app.engine
    engine._check()  # fresh supply and temperature for the report
    await engine.drain()  # the probes go between lines, with nothing in flight
    engine.map_elements()
    engine.sensing(False)  # the page is there to show a faulty head, not to stop for one
    try:
        await _page(app)
    finally:
        await engine.drain()
        engine.sensing(True)


async def _page(app):
    layout = app.layout
    engine = app.engine
    for text in report(app):
        while engine.free() < 64:
            await engine.wait_space()
        for ch in text:
            layout.char(ord(ch))
        layout.print_line(1)
    line = bytearray(48)
    for i in range(48):
        line[i] = 0xFF
    await _lines(engine, line, _BAR_LINES)
    await _lines(engine, None, 0)
    engine.feed(8)
    for i in range(48):  # staircase: one byte of elements at a time, left to right
        for j in range(48):
            line[j] = 0xFF if j == i else 0
        await _lines(engine, line, _STEP_LINES)
    await _lines(engine, None, 0)
    engine.feed(8)
    for i in range(48):
        line[i] = 0xFF
    await _lines(engine, line, _BAR_LINES)
    while engine.free() < 4:
        await engine.wait_space()
    layout.tear_off()


async def _lines(engine, line, n):
    while engine.free() < 4:
        await engine.wait_space()
    for _ in range(n):
        while engine.free() < 2:
            await engine.wait_space()
        engine.push_line(line, 0)
