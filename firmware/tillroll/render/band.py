"""The band: one text line's dots, then the dot lines the engine prints.

Characters are drawn into the band bottom-aligned (ESC/POS aligns characters of different
heights on their bottom edge); at the end of the line its used rows go out as 48-byte dot
lines, straight from the band when nothing moves, else through a one-line buffer: shifted for
ESC a justification, and bottom row first with each row mirrored for ESC { (upside down).
Every buffer is made once.
"""

import framebuf

from .enlarge import mirror  # pyright: ignore[reportAttributeAccessIssue]

DOTS = const(384)
ROW_BYTES = const(48)
HEIGHT = const(192)  # tallest character: 24 dots at GS ! height x8


class Band:
    def __init__(self):
        self.buf = bytearray(ROW_BYTES * HEIGHT)
        self.fb = framebuf.FrameBuffer(self.buf, DOTS, HEIGHT, framebuf.MONO_HLSB)
        self._line_buf = bytearray(ROW_BYTES)
        self._line = framebuf.FrameBuffer(self._line_buf, DOTS, 1, framebuf.MONO_HLSB)
        self._flip = bytearray(ROW_BYTES)
        self._reversed_bits = bytes(_bit_reverse(b) for b in range(256))

    def emit(self, engine, h: int, offset: int, upside_down: bool):
        """Send the bottom `h` rows to the engine, moved `offset` dots right."""
        top = HEIGHT - h
        if upside_down:
            line = self._line_buf
            flip = self._flip
            rev = self._reversed_bits
            for row in range(HEIGHT - 1, top - 1, -1):
                self._shifted(row, offset)
                mirror(line, flip, rev)
                engine.push_line(flip, 0)
        elif offset:
            for row in range(top, HEIGHT):
                self._shifted(row, offset)
                engine.push_line(self._line_buf, 0)
        else:
            buf = self.buf
            for row in range(top, HEIGHT):
                engine.push_line(buf, row * ROW_BYTES)

    def clear(self, h: int):
        """Blank the bottom `h` rows for the next line."""
        if h:
            self.fb.fill_rect(0, HEIGHT - h, DOTS, h, 0)

    def _shifted(self, row, offset):
        self._line.fill(0)
        self._line.blit(self.fb, offset, -row)


def _bit_reverse(b):
    r = 0
    for _ in range(8):
        r = (r << 1) | (b & 1)
        b >>= 1
    return r
