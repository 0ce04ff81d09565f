"""ESC t code pages and ESC R international character sets: a byte -> a Unicode code point.

The tables sit in `codepages.bin` on flash (made by host/tillroll_host/codepages.py); only the
selected code page (128 code points) and international set (12) are in RAM, read in with
`readinto` when ESC t or ESC R selects them. Fonts are looked up by code point, so one font
serves every code page.
"""

from array import array

_HEADER = const(8)
_PAGE_BYTES = const(256)
_SET_BYTES = const(24)
_NONE = const(0xFF)
# The bytes an international set replaces (Epson ESC R table), in file order.
_REPLACED = b"#$@[\\]^`{|}~"


class CodePages:
    def __init__(self, path):
        self._file = open(path, "rb")
        head = self._file.read(_HEADER)
        if head[:4] != b"TCP1":
            raise ValueError("%s is not a code page file" % path)
        self._pages = self._file.read(head[4])
        self._sets = self._file.read(head[5])
        self._tables_at = _HEADER + head[4] + head[5]
        self._upper = array("H", bytes(_PAGE_BYTES))
        self._intl = array("H", bytes(_SET_BYTES))
        self._slot = bytearray(b"\xff" * 0x80)  # byte -> position in the set, or _NONE
        for i in range(len(_REPLACED)):
            self._slot[_REPLACED[i]] = i
        self.page = -1
        self.charset = -1
        self.select(0)
        self.international(0)

    def select(self, n: int):
        """ESC t n. A code page the printer lacks leaves the current one (Epson: ignored)."""
        i = _find(self._pages, n)
        if i >= 0 and n != self.page:
            self._file.seek(self._tables_at + i * _PAGE_BYTES)
            self._file.readinto(self._upper)
            self.page = n

    def has(self, n: int) -> bool:
        """Whether ESC t n has a table here (the `code_page` setting is checked against it)."""
        return _find(self._pages, n) >= 0

    def international(self, n: int):
        """ESC R n."""
        i = _find(self._sets, n)
        if i >= 0 and n != self.charset:
            self._file.seek(self._tables_at + len(self._pages) * _PAGE_BYTES + i * _SET_BYTES)
            self._file.readinto(self._intl)
            self.charset = n

    def unicode(self, b: int) -> int:
        if b >= 0x80:
            return self._upper[b - 0x80]
        slot = self._slot[b]
        if slot != _NONE:
            return self._intl[slot]
        return b


def _find(ids, n):
    for i in range(len(ids)):
        if ids[i] == n:
            return i
    return -1
