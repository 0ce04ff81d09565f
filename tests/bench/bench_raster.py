"""Images and codes against the head: microseconds of parsing and rendering per dot line, for
GS v 0 rows (left, centred, double width) and the lines of a barcode, a QR code (its
encode included, and its rows alone) and a PDF417 code (its encode included). Values
are unix-port times times TILLROLL_K (the RP2040 slowdown factor); the goal is 1250 us, one
dot line at 100 mm/s (LTP02-245), so graphics never hold the head back."""

# heap: sim
# (a speed figure: the whole graphics stack as bytecode in the unix port's heap, a font and the
# image in flight do not fit a board's 160 KB here, as they do on the chip with its bytecode
# in flash)

import json
import os
import time

from tillroll.escpos.graphics import Graphics
from tillroll.escpos.parser import Parser
from tillroll.render.font import Font
from tillroll.render.layout import Layout

K = float(os.getenv("TILLROLL_K") or "1")
FONT_A = os.getenv("TILLROLL_FONTS") + "/font_a_12x24.trf"
GOAL_US = 1250
GS = b"\x1d"
ESC = b"\x1b"


class Engine:
    """Takes dot lines as fast as they come; counts them."""

    def __init__(self):
        self.lines = 0

    def free(self):
        return 256

    def push_line(self, buf, offset):
        self.lines += 1

    def feed(self, dots):
        pass


def per_line_us(data):
    font = Font(FONT_A)
    engine = Engine()
    layout = Layout(font, engine, 96)
    parser = Parser(layout, Graphics(layout, engine, font, None))
    buf = data
    t = time.ticks_us()
    i = 0
    while i < len(buf) or parser.pending():
        i = parser.feed(buf, i, len(buf))
    us = time.ticks_diff(time.ticks_us(), t)
    return us / engine.lines


def qr_rows_us(text, module):
    """The QR code's dot lines alone: encoded first, then its job stepped to the end."""
    font = Font(FONT_A)
    engine = Engine()
    layout = Layout(font, engine, 96)
    gfx = Graphics(layout, engine, font, None)
    layout.align = 1
    gfx.qr.module = module
    assert gfx.qr.encode(text, len(text))
    gfx.print_qr()
    t = time.ticks_us()
    while gfx.job is not None:
        gfx.step()
    us = time.ticks_diff(time.ticks_us(), t)
    return us / engine.lines


def raster(mode, width, rows):
    data = bytearray(b"\x5a" * (8 + width * rows))
    data[0:8] = GS + b"v0" + bytes((mode, width, 0, rows & 0xFF, rows >> 8))
    return data


def qr(text, size):
    n = len(text) + 3
    return (
        GS + b"(k\x03\x001C" + bytes((size,))
        + GS + b"(k" + bytes((n & 0xFF, n >> 8)) + b"1P0" + text
        + GS + b"(k\x03\x001Q0"
    )  # fmt: skip


def pdf417(data, module, level):
    n = len(data) + 3
    return (
        GS + b"(k\x03\x000C" + bytes((module,)) + GS + b"(k\x04\x000E0" + bytes((48 + level,))
        + GS + b"(k" + bytes((n & 0xFF, n >> 8)) + b"0P0" + data
        + GS + b"(k\x03\x000Q0"
    )  # fmt: skip


CASES = (  # made one at a time: the images alone would not fit the heap together
    ("GS v 0 384 dots, left", lambda: raster(0, 48, 400)),
    ("GS v 0 200 dots, centred", lambda: bytearray(ESC + b"a\x01") + raster(0, 25, 400)),
    ("GS v 0 double width", lambda: raster(1, 24, 400)),
    (
        "Code 128, HRI below",
        lambda: bytearray(GS + b"H\x02" + GS + b"w\x02" + GS + b"kI\x0c{BTill-12345"),
    ),
    ("QR 200 bytes, module 3", lambda: bytearray(ESC + b"a\x01" + qr(b"t" * 200, 3))),
    (
        "PDF417 200 bytes, module 2, level 5",
        lambda: bytearray(ESC + b"a\x01" + pdf417(bytes(range(200)), 2, 5)),
    ),
    (  # the costliest ECC: a degree-512 generator made, then divided by
        "PDF417 24 bytes, module 2, level 8",
        lambda: bytearray(ESC + b"a\x01" + pdf417(b"https://example.com/r/42", 2, 8)),
    ),
)


def main():
    cases = [(case, lambda make=make: per_line_us(make())) for case, make in CASES]
    # The same QR code without its encode (qr_encode_rp2040_ms in bench_qr.py): what each of
    # its dot lines costs once the symbol is made.
    cases.append(("QR rows alone, module 3", lambda: qr_rows_us(bytearray(b"t" * 200), 3)))
    for case, measure in cases:
        us = measure()
        print(
            json.dumps(
                {
                    "metric": "graphics_us_per_dot_line_rp2040",
                    "case": case,
                    "value": round(us * K, 1),
                    "goal": GOAL_US,
                    "unit": "us",
                }
            )
        )


main()
