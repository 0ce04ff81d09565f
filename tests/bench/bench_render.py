"""Rendering speed and memory: parser + layout for each kind of receipt, on the unix port.

For each case it reports dot lines rendered per second here, the RP2040-equivalent CPU time
per dot line (unix time x K) against the 1.25 ms a line takes at 100 mm/s, the garbage left
per dot line in steady state (GC heap growth with the collector off), whether the same work
runs with the heap locked, and the heap's peak (the receipt in flight included) against the
160 KB of a board.

MicroPython puts a call's frame on the heap when it is larger than VM_MAX_STATE_ON_STACK and
frees it on return, falling back to the C stack when the heap is locked: that is why
`micropython.mem_total()` grows while the heap-locked run still succeeds. Those frames are not
garbage and never wake the collector, so the figure here is what is left behind.
"""

# heap: sim
# (the unix port keeps bytecode in the heap, the chip keeps it in flash: the render stack's
# peak here is above a board's 160 KB, so it runs with room and reports that peak against the
# goal; the chip's own figure is chip_heap_free_min in chip.py)

import gc
import json
import os
import sys
import time

import micropython
import receipts
from receipts import CASES

from tillroll.engine.dot_queue import DotQueue
from tillroll.escpos.parser import Parser
from tillroll.render.cjk import CjkFont
from tillroll.render.codepage import CodePages
from tillroll.render.font import Font
from tillroll.render.layout import Layout

K = float(os.getenv("TILLROLL_K"))
FONTS = os.getenv("TILLROLL_FONTS")
_LINE_MS_AT_100MM_S = 1.25


class Sink:
    """Where the engine would be: copies each line into a dot queue slot and frees it."""

    def __init__(self):
        self.queue = DotQueue(4)
        self.lines = 0

    def free(self):
        return 1024

    def push_line(self, buf, offset):
        self.queue.push_line(buf, offset)
        self.queue.pop()
        self.lines += 1

    def feed(self, dots):
        pass

    def end_receipt(self):
        pass


def emit(metric, case, value, goal, unit):
    print(json.dumps({"metric": metric, "case": case, "value": value, "goal": goal, "unit": unit}))


_CHUNK = bytearray(512)


def render(layout, parser, f):
    """Print the receipt in file `f` as the link would: 512 bytes at a time."""
    layout.reset()
    f.seek(0)
    while True:
        n = f.readinto(_CHUNK)
        if not n:
            break
        parser.feed(_CHUNK, 0, n)
    while parser.pending():  # a barcode, QR code or logo still printing, as the link does
        parser.feed(_CHUNK, 0, 0)


def save(name, build):
    """The receipt built once and kept in a file, so it does not sit in the heap; open."""
    path = "/tmp/tillroll-bench-%s.bin" % name
    with open(path, "wb") as f:
        if build is receipts.raster_logo:
            receipts.write_raster_logo(f)
        else:
            f.write(build())
    gc.collect()
    return open(path, "rb")


def main():
    # The receipts are built first, while the heap is empty: building one is not rendering it.
    files = [(name, save(name, build)) for name, build in CASES]
    sink = Sink()
    font_a = Font(FONTS + "/font_a_12x24.trf")
    layout = Layout(
        font_a,
        sink,
        96,
        font_b=Font(FONTS + "/font_b_9x17.trf"),
        cjk=CjkFont(FONTS + "/cjk_24x24.tcj"),
        pages=CodePages(FONTS + "/codepages.bin"),
    )
    # As the App does: the graphics code is imported once the large buffers are made, so its
    # compilation does not leave the heap in pieces under them.
    gc.collect()
    from tillroll.escpos.graphics import Graphics

    parser = Parser(layout, Graphics(layout, sink, font_a))
    peak = 0
    for name, data in files:
        render(layout, parser, data)  # warm up: caches, first-use paths
        gc.collect()
        sink.lines = 0
        t0 = time.ticks_us()
        repeats = 5
        for _ in range(repeats):
            render(layout, parser, data)
        us = time.ticks_diff(time.ticks_us(), t0)
        lines = sink.lines
        if not lines:
            print("%s: printed no dot lines" % name)
            continue
        per_line_us = us / lines
        emit("dot_lines_per_s_unix", name, round(1e6 / per_line_us), None, "lines/s")
        emit(
            "rp2040_cpu_per_line",
            name,
            round(per_line_us * K / 1000, 3),
            _LINE_MS_AT_100MM_S,
            "ms",
        )
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        render(layout, parser, data)
        garbage = gc.mem_alloc() - before
        # Nothing was collected during that render: the heap in use now bounds its peak.
        peak = max(peak, gc.mem_alloc())
        gc.enable()
        emit("garbage_per_line", name, round(garbage * repeats / lines, 2), 0, "bytes")
        micropython.heap_lock()
        try:
            render(layout, parser, data)
            locked = 1
        except MemoryError as e:
            locked = 0
            sys.print_exception(e)
        finally:
            micropython.heap_unlock()
        emit("renders_heap_locked", name, locked, 1, "yes=1")
    emit("heap_peak", "all", round(peak / 1024, 1), 160, "KB")


main()
