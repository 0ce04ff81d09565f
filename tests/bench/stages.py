"""The firmware's work a dot line, stage by stage, for each bench receipt (receipts.py): the same
code on the unix port (tests/bench/run.py turns its time into the K estimate) and on the
emulated RP2040, where `time.ticks_us()` is the chip's own clock (125 cycles a microsecond).

Stages, each timed alone over the whole receipt after one run to warm it up:

- link: the data link (link.py: the rx ring, the real-time scan, the consumer) taking the
  receipt in 512-byte reads, with a parser stand-in that takes every byte at once;
- parser: the ESC/POS parser, with a layout stand-in that does nothing (its text runs are
  skipped by one viper scan) and no graphics (image and code data skipped by counting);
- parser+render: the parser with the layout and the graphics, each dot line copied out as the
  engine's queue would take it (render = this less the parser);
- journal: the journal taking the receipt's bytes as the link hands them (digit runs as text,
  the rest raw, so card numbers are masked) and ending it at its cut, on the board's flash
  (the chip: its journal region, programs and erases waited out; the unix port: the sim's
  NOR model in a file);
- engine: the engine printing the receipt's dot lines and feeds on drivers that only count,
  in virtual time (no waiting for the mechanism): its first `_KEEP` dot lines, kept in RAM.

Prints one JSON line a stage and receipt: {"stage", "case", "us", "lines"}.
"""

import asyncio
import gc
import json
import os
import sys
import time

import micropython
import receipts
from receipts import CASES

from mechanisms import ltp02_245
from sim.clock import VirtualClock
from tillroll.engine.engine import Engine
from tillroll.escpos.graphics import Graphics
from tillroll.escpos.parser import Parser
from tillroll.journal import record
from tillroll.journal.journal import Journal
from tillroll.link import DataLink
from tillroll.render.cjk import CjkFont
from tillroll.render.codepage import CodePages
from tillroll.render.font import Font
from tillroll.render.layout import Layout

FONTS = os.getenv("TILLROLL_FONTS")
_CHUNK = const(512)
_NOTHING = bytearray(0)
_KEEP = const(384)  # dot lines kept for the engine stage: 18 KB
_ON_CHIP = sys.platform == "rp2"


def emit(stage, case, us, lines):
    print(json.dumps({"stage": stage, "case": case, "us": us, "lines": lines}))


# ---- stand-ins --------------------------------------------------------------------------------


@micropython.viper
def _text_run(buf: ptr8, i: int, end: int) -> int:
    while i < end and buf[i] >= 0x20:
        i += 1
    return i


class NullLayout:
    """Where the layout stands behind the parser, doing nothing."""

    def busy(self):
        return False

    def chars(self, buf, i, end):
        return _text_run(buf, i, end)

    def add_tab(self, n):
        return True

    def print_line(self, lines):
        pass

    def tear_off(self, extra_dots=0):
        pass

    def set_heating(self, max_dots, heat_time, interval):
        pass

    def set_kanji_spacing(self, left, right):
        pass

    def _none(self):
        pass

    def _one(self, n):
        pass

    self_test = discard = tab = reset = default_spacing = clear_tabs = _none
    set_speed = set_kanji_mode = set_emphasis = set_density = set_upside_down = _one
    set_underline = set_spacing = set_rotate = set_reverse = set_print_mode = _one
    set_position = set_left_margin = set_kanji_underline = set_kanji_print_mode = _one
    set_font = set_encoding = set_char_spacing = set_char_size = set_area_width = _one
    set_align = select_international = select_code_page = move = feed_dots = _one


class Lines:
    """Where the engine stands behind the layout: counts the dot lines, and once asked to keep
    them, copies each into a buffer made beforehand (as the engine's queue copies it), with the
    feeds between them."""

    def __init__(self):
        self.buf = None
        self.cap = 0
        self.n = 0
        self.feeds = []  # (after line, dots)

    def keep(self, n):
        self.cap = n
        self.buf = bytearray(48 * n) if n else None

    def free(self):
        return 1024

    def push_line(self, buf, offset):
        if self.buf is not None and self.n < self.cap:
            at = 48 * self.n
            self.buf[at : at + 48] = memoryview(buf)[offset : offset + 48]
        self.n += 1

    def feed(self, dots):
        if self.buf is not None and self.n <= self.cap:
            self.feeds.append((self.n, dots))

    def end_receipt(self):
        pass


class TakeAll:
    """Where the parser stands behind the link: takes every byte at once."""

    boundary = 0
    marker = bytearray(4)

    def __init__(self):
        self.stop_at_boundary = False
        self.host = None

    def feed(self, buf, start, end):
        return end

    def busy(self):
        return False

    def pending(self):
        return False

    def in_text(self):
        return True

    def abort(self):
        pass

    def restart(self):
        pass

    def cut_off(self):
        return False


class Idle:
    """Where the engine stands behind the link when nothing prints."""

    def pushed(self):
        return 0

    def done(self):
        return 0

    async def wait_space(self):
        pass


class Stream:
    """The host: the receipt in reads of up to 512 bytes, then closed."""

    def __init__(self, data):
        self.data = data
        self.at = 0

    async def readinto(self, buf):
        n = len(self.data) - self.at
        if n > len(buf):
            n = len(buf)
        buf[:n] = memoryview(self.data)[self.at : self.at + n]
        self.at += n
        return n

    def write(self, data):
        pass


class Counting:
    """Head, motor, tear bar and sensors that only count: the engine's own work."""

    def fire(self, groups, k, first, pulse, activations, window):
        pass

    def run(self, steps, line_us, periods=None, at=0):
        pass

    def tear_off(self):
        pass

    def supply_mv(self):
        return ltp02_245.RATED_MV

    def head_ohms(self):
        return 30000

    def paper(self):
        return True

    def cover_closed(self):
        return True


# ---- stages -----------------------------------------------------------------------------------


def _chunks(data, feed):
    buf = bytearray(_CHUNK)
    for at in range(0, len(data), _CHUNK):
        n = min(_CHUNK, len(data) - at)
        buf[:n] = memoryview(data)[at : at + n]
        feed(buf, n)


def run_parser(data):
    parser = Parser(NullLayout(), None)
    t = time.ticks_us()
    _chunks(data, lambda buf, n: parser.feed(buf, 0, n))
    return time.ticks_diff(time.ticks_us(), t)


def run_render(data, layout, parser, sink):
    layout.reset()
    sink.n = 0
    del sink.feeds[:]

    def feed(buf, n):
        i = 0
        while i < n:
            i = parser.feed(buf, i, n)

    t = time.ticks_us()
    _chunks(data, feed)
    while parser.pending():  # a code or logo still printing, as the link feeds it
        parser.feed(_NOTHING, 0, 0)
    return time.ticks_diff(time.ticks_us(), t)


def run_link(data):
    link = DataLink(TakeAll(), Idle())
    t = time.ticks_us()
    asyncio.run(link.pump(Stream(data)))
    return time.ticks_diff(time.ticks_us(), t)


def _digit(c):
    return 0x30 <= c <= 0x39


def spans(data):
    """The runs the link hands the journal: digits (and the spaces and dashes between them)
    as text, everything else raw."""
    out = []
    i = 0
    n = len(data)
    while i < n:
        text = _digit(data[i])
        j = i + 1
        if text:
            while j < n and (_digit(data[j]) or data[j] == 0x20 or data[j] == 0x2D):
                j += 1
        else:
            while j < n and not _digit(data[j]):
                j += 1
        out.append((i, j, text))
        i = j
    return out


def run_journal(journal, data, runs):
    t = time.ticks_us()
    for start, end, text in runs:
        if text:
            journal.text(data, start, end)
        else:
            journal.raw(data, start, end)
    journal.end(record.CUT)
    return time.ticks_diff(time.ticks_us(), t)


def run_engine(engine, lines):
    """Prints the kept lines; the microseconds it took, and how many lines."""
    buf = lines.buf
    feeds = lines.feeds
    n = min(lines.n, lines.cap)

    async def produce():
        f = 0
        for j in range(n):
            while engine.free() < 4:
                await engine.wait_space()
            engine.push_line(buf, 48 * j)
            while f < len(feeds) and feeds[f][0] == j + 1:
                engine.feed(feeds[f][1])
                f += 1
        engine.end_receipt()
        await engine.drain()

    async def main():
        task = asyncio.create_task(engine.run())
        await produce()
        task.cancel()

    gc.collect()
    t = time.ticks_us()
    asyncio.run(main())
    return time.ticks_diff(time.ticks_us(), t), n


def journal_flash():
    if _ON_CHIP:
        import rp2

        from rp2_pico.flash_map import JOURNAL_AT, JOURNAL_BYTES

        return rp2.Flash(start=JOURNAL_AT, len=JOURNAL_BYTES)
    from sim.flash import NorFlash

    path = "/tmp/tillroll-bench-journal.bin"
    try:
        os.remove(path)
    except OSError:
        pass
    return NorFlash(path, 48)


def receipt(build):
    if build is receipts.raster_logo:
        return receipts.raster_logo()
    return bytes(build())


def main(only=None):
    # As the App builds them: the engine's buffers first, the graphics code after the fonts.
    hw = Counting()
    engine = Engine(hw, hw, hw, hw, VirtualClock(), ltp02_245)
    font_a = Font(FONTS + "/font_a_12x24.trf")
    sink = Lines()
    layout = Layout(
        font_a,
        sink,
        96,
        font_b=Font(FONTS + "/font_b_9x17.trf"),
        cjk=CjkFont(FONTS + "/cjk_24x24.tcj"),
        pages=CodePages(FONTS + "/codepages.bin"),
    )
    parser = Parser(layout, Graphics(layout, sink, font_a))
    journal = Journal(journal_flash())
    if not journal.mount():
        raise RuntimeError(journal.error)
    for name, build in CASES:
        if only and name not in only:
            continue
        data = receipt(build)
        gc.collect()
        run_render(data, layout, parser, sink)  # warm up, and count the dot lines
        n = sink.n
        sink.keep(min(n, _KEEP))
        gc.collect()
        emit("parser+render", name, run_render(data, layout, parser, sink), n)
        run_parser(data)
        gc.collect()
        emit("parser", name, run_parser(data), n)
        run_link(data)
        gc.collect()
        emit("link", name, run_link(data), n)
        runs = spans(data)
        run_journal(journal, data, runs)
        gc.collect()
        emit("journal", name, run_journal(journal, data, runs), n)
        run_engine(engine, sink)
        emit("engine", name, *run_engine(engine, sink))
        sink.keep(0)
        del data, runs
        gc.collect()


if __name__ == "__main__":
    main()
