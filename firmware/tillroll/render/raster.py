# pyright: reportUndefinedVariable=false
"""Raster images: rows of dots as they arrive -> justified, scaled dot lines for the engine.

GS v 0, GS ( L / GS 8 L raster graphics and NV logos all come as rows of bytes, MSB left. A row
is kept only as far as the paper shows it (48 bytes, 24 at double width), so an image of any
announced size streams through one row buffer; the rest of each row is counted past.
"""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false

import framebuf

from ..native import load
from .layout import DOTS

load(__file__, globals())  # its hot loops: raster.vpy

_LINE_BYTES = const(48)


def _doubled():
    # Each byte's 8 dots, each dot twice: 16 dots, for double-width images.
    table = bytearray(512)
    for v in range(256):
        d = 0
        for bit in range(8):
            if v & (0x80 >> bit):
                d |= 0xC000 >> (2 * bit)
        table[2 * v] = d >> 8
        table[2 * v + 1] = d & 0xFF
    return table


class Raster:
    def __init__(self, layout, engine):
        self._layout = layout
        self._engine = engine
        self.row = bytearray(_LINE_BYTES)  # the row as received (up to what the paper shows)
        self.row_view = memoryview(self.row)
        self._wide = bytearray(_LINE_BYTES)  # the row at double width
        self._wide_fb = framebuf.FrameBuffer(self._wide, DOTS, 1, framebuf.MONO_HLSB)
        self._row_fb = framebuf.FrameBuffer(self.row, DOTS, 1, framebuf.MONO_HLSB)
        self._line = bytearray(_LINE_BYTES)
        self._line_fb = framebuf.FrameBuffer(self._line, DOTS, 1, framebuf.MONO_HLSB)
        self._double = _doubled()
        self.done = True
        self._width = 0  # bytes a row, as announced
        self._keep = 0  # bytes a row that reach the paper
        self._rows = 0  # rows left
        self._col = 0  # bytes of the current row received
        self._xs = 1
        self._ys = 1
        self._offset = 0  # dots from the left edge, for ESC a

    def start(self, width: int, rows: int, xscale: int = 1, yscale: int = 1, justify=True):
        """Begin an image of `width` bytes x `rows` rows; print what is pending on the line
        first, as an image starts a line of its own."""
        self._layout.print_line(0)
        self._width = width
        self._rows = rows
        self._col = 0
        self._xs = xscale
        self._ys = yscale
        keep = _LINE_BYTES // xscale
        self._keep = width if width < keep else keep
        dots = self._keep * 8 * xscale
        offset = 0
        align = self._layout.align if justify else 0
        if align and dots < DOTS:
            offset = DOTS - dots
            if align == 1:
                offset >>= 1
        self._offset = offset
        self._clear_row()
        self.done = not (width and rows)

    def _clear_row(self):
        row = self.row
        for k in range(_LINE_BYTES):
            row[k] = 0

    def write(self, buf, i: int, end: int) -> int:
        """Take image bytes from buf[i:end]; return where it stopped: at `end`, at the image's
        end, or after a row when the engine's queue is too full for another."""
        keep = self._keep
        width = self._width
        row = self.row
        layout = self._layout
        while i < end and not self.done:
            col = self._col
            n = end - i
            if n > width - col:
                n = width - col
            if col < keep:
                m = keep - col if n > keep - col else n
                copy(row, col, buf, i, m)
            i += n
            col += n
            if col < width:
                self._col = col
                break
            self._col = 0
            self.emit_row()
            self._rows -= 1
            if not self._rows:
                self.done = True
            elif layout.busy():
                break
        return i

    def emit_row(self):
        """Push `row` (already filled) to the engine as this image's dot lines."""
        src = self._row_fb
        if self._xs == 2:
            wide = self._wide
            double = self._double
            row = self.row
            for k in range(self._keep):
                v = row[k]
                wide[2 * k] = double[2 * v]
                wide[2 * k + 1] = double[2 * v + 1]
            src = self._wide_fb
        line = self._line
        if self._offset:
            self._line_fb.fill(0)
            self._line_fb.blit(src, self._offset, 0)
        else:
            copy(line, 0, self._wide if self._xs == 2 else self.row, 0, _LINE_BYTES)
        self._layout.ink()
        engine = self._engine
        for _ in range(self._ys):
            engine.push_line(line, 0)

    def end(self):
        """The data ended (its count ran out) before the last row: stop the image there."""
        self.done = True
