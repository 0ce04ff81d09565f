# pyright: reportUndefinedVariable=false
"""Logos kept in flash: FS q NV bit images as they arrive, and printing any stored logo.

FS q images come column by column (MSB top) and are stored as sent; printing one gathers, for
each band of 8 dot rows, one byte of every column. GS ( L NV graphics are stored as raster
rows and print row by row. Either way a logo prints through the raster path a row at a time,
read straight into its row buffer.
"""

# viper takes any buffer as ptr8; the stubs type ptr8 as a class of its own.
# pyright: reportArgumentType=false

from micropython import const

from ..native import load
from ..render.layout import DOTS
from ..render.logo_store import COLUMNS, HEADER, RASTER

load(__file__, globals())  # its hot loops: nv_images.vpy

_LINE_BYTES = const(48)


class NvImages:
    """FS q: one image, x * 8 columns of y bytes, written to flash as it comes."""

    def __init__(self, gfx):
        self._gfx = gfx
        self._index = 0
        self.done = True
        self._column_bytes = bytearray(DOTS)  # one byte of every column of an FS q logo
        self._one = bytearray(1)

    def start(self, x: int, y: int):
        store = self._gfx.logos
        self._columns = x * 8
        self._depth = y
        self._col = 0
        self._byte = 0
        self._index += 1
        self._ok = store is not None and 0 < x <= 1023 and 0 < y <= 288
        if self._ok:
            store.begin("q%d" % self._index, COLUMNS, self._columns, y)
        self.done = not (x and y)
        return self

    def begin_all(self):
        """FS q replaces every NV bit image."""
        self._index = 0
        if self._gfx.logos is not None:
            self._gfx.logos.delete_all("q")

    def write(self, buf, i: int, end: int) -> int:
        # Count whole columns (y bytes each) so no header can make a number beyond a small int.
        start = i
        while i < end and not self.done:
            n = end - i
            if n > self._depth - self._byte:
                n = self._depth - self._byte
            i += n
            self._byte += n
            if self._byte == self._depth:
                self._byte = 0
                self._col += 1
                if self._col == self._columns:
                    self.done = True
        if self._ok:
            self._gfx.logos.write(memoryview(buf)[start:i])
            if self.done:
                self._gfx.logos.commit()
        return i

    def end(self):
        self.done = True

    def print_job(self, found, xs: int, ys: int):
        f, kind, a, b = found
        r = self._gfx.raster
        row = r.row
        try:
            if kind == RASTER:  # a bytes a row, b rows
                r.start(a, b, xs, ys)
                yield True
                keep = a if a < _LINE_BYTES // xs else _LINE_BYTES // xs
                for k in range(b):
                    f.seek(HEADER + k * a)
                    f.readinto(r.row_view)  # 48 bytes; those past the image are cleared
                    for c in range(keep, _LINE_BYTES):
                        row[c] = 0
                    r.emit_row()
                    yield True
            elif kind == COLUMNS:  # a columns of b bytes: gather one byte of each a band
                r.start((a + 7) >> 3, b * 8, xs, ys)
                yield True
                shown = a if a < DOTS // xs else DOTS // xs
                col = self._column_bytes
                one = self._one
                for band in range(b):
                    for c in range(shown):
                        f.seek(HEADER + c * b + band)
                        f.readinto(one)
                        col[c] = one[0]
                    for bit in range(8):
                        _gather(row, col, shown, 0x80 >> bit)
                        r.emit_row()
                        yield True
        finally:
            f.close()
