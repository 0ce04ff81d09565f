"""The journal's index in RAM: a few words a receipt, oldest first, read and written as one
flat sequence of ints (`ix[p + field]`).

It is kept in chunks of CHUNK receipts, made as receipts come and reused as the oldest go, so
it never asks the heap for more than one chunk (512 bytes) at a time, however fragmented the
heap is after days of printing, and never holds more than `receipts` receipts: a journal of
many short receipts cannot run a board's heap out. When it is full the journal gives up its
oldest block, as when the region is full (journal.py).
"""

from array import array

from micropython import const

CHUNK = const(16)  # receipts a chunk
_zero = [b""]  # a chunk's worth of zero bytes, made once: a new chunk is copied from it


class Index:
    def __init__(self, fields: int, receipts: int):
        self._fields = fields
        self._words = fields * CHUNK  # a chunk's words
        self._max = (receipts + CHUNK - 1) // CHUNK  # chunks at most
        self._chunks = []
        self._head = 0  # first word in use, in the first chunk
        self.n = 0  # words in use

    def __len__(self):
        return self.n

    def __getitem__(self, w: int) -> int:
        w += self._head
        return self._chunks[w // self._words][w % self._words]

    def __setitem__(self, w: int, value: int):
        w += self._head
        self._chunks[w // self._words][w % self._words] = value

    def full(self) -> bool:
        """No room for one more receipt without a chunk the index may not have."""
        return (
            self._head + self.n + self._fields > len(self._chunks) * self._words
            and len(self._chunks) >= self._max
        )

    def add(self, values) -> int:
        """Append a receipt's fields; its position. The caller makes room first (`full`)."""
        if self._head + self.n + self._fields > len(self._chunks) * self._words:
            if len(_zero[0]) != 4 * self._words:
                _zero[0] = bytes(4 * self._words)
            self._chunks.append(array("i", _zero[0]))
        p = self.n
        self.n += self._fields
        for i in range(self._fields):
            self[p + i] = values[i]
        return p

    def forget(self, n: int):
        """Take the first n words out: a chunk emptied goes to the end, to be filled again."""
        self._head += n
        self.n -= n
        chunks = self._chunks
        while self._head >= self._words:
            self._head -= self._words
            chunks.append(chunks.pop(0))

    def clear(self):
        self._head = 0
        self.n = 0
