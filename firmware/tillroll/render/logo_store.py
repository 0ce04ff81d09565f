"""Logos kept in flash across reboots: FS q NV bit images and GS ( L NV graphics.

A logo is one file: a 5-byte header (kind, then two little-endian counts) and its dots as the
host sent them. A definition is written to a temporary file and renamed over the old one only
when complete, so a reset mid-definition leaves the old logo or none, never half of one. The
store needs only open/read/write/rename/remove on a directory, so it can move onto any
filesystem the board mounts.
"""

import os
import struct

RASTER = const(0)  # counts: bytes a row, rows (MSB left)
COLUMNS = const(1)  # counts: columns, bytes a column (MSB top)
HEADER = const(5)


class LogoStore:
    def __init__(self, directory: str):
        self._dir = directory
        try:
            os.mkdir(directory)
        except OSError:
            pass  # it exists
        self._file = None
        self._name = ""
        self._head = bytearray(HEADER)

    def _path(self, name: str) -> str:
        return self._dir + "/" + name

    def begin(self, name: str, kind: int, a: int, b: int):
        """Start writing logo `name` (a short file name). A flash that is full or failing
        drops the definition, never the receipt: every write below catches OSError."""
        self.abort()
        self._name = name
        try:
            self._file = open(self._path(name + ".tmp"), "wb")
            struct.pack_into("<BHH", self._head, 0, kind, a, b)
            self._file.write(self._head)
        except OSError:
            self.abort()

    def write(self, data):
        if self._file is not None:
            try:
                self._file.write(data)
            except OSError:
                self.abort()

    def commit(self):
        """The definition is complete: it replaces the old logo of that name."""
        if self._file is None:
            return
        try:
            self._file.close()
            self._file = None
            self.delete(self._name)
            os.rename(self._path(self._name + ".tmp"), self._path(self._name))
        except OSError:
            self.abort()

    def abort(self):
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
        if self._name:
            self._remove(self._name + ".tmp")

    def open(self, name: str):
        """(file, kind, a, b) of logo `name`, or None when there is no such logo."""
        try:
            f = open(self._path(name), "rb")
        except OSError:
            return None
        if f.readinto(self._head) != HEADER:
            f.close()
            return None
        kind, a, b = struct.unpack("<BHH", self._head)
        return f, kind, a, b

    def delete(self, name: str):
        self._remove(name)

    def delete_all(self, prefix: str):
        try:
            names = os.listdir(self._dir)
        except OSError:
            return
        for name in names:
            if name.startswith(prefix):
                self._remove(name)

    def _remove(self, name: str):
        try:
            os.remove(self._path(name))
        except OSError:
            pass  # not there
