"""The sim's live stream: every dot line the paper takes, each tear-off and each change of the
module's status, pushed to a host through the control channel (docs/sim.md, "The stream").

The paper hands each row to `row()` as it leaves the head, and each tear-off to `torn()`: both
copy into buffers made once, at start, and never wait. They keep from power-on, so a host
that connects a moment later still gets the first receipt whole. A task on the control
connection sends what they hold. When the ring is full (no host yet, or one that reads too
slowly) nothing more is kept until a host has read all of it; then one `resync` message says
which receipts and rows went unstreamed (their PNGs still hold them). So the firmware never
waits for a host, and the sim's memory never grows with one.

On the wire, after the reply to {"cmd": "stream"}, one JSON object a line:
  {"ev": "hello"|"resync", "receipts": R, "rows": N}   R receipts were torn off before what
                                                       follows, and the paper held N dot lines
                                                       before it that the stream does not carry
  {"ev": "rows", "n": N}                               followed by N dot lines, 48 bytes each
  {"ev": "tear", "receipt": R, "path": P}              receipt R torn off, written to P
  {"ev": "status", ...}                                the lights, when one changes
"""

import asyncio
import json

from tillroll.engine import status as st

_ROW = const(48)
_TEARS = const(16)  # tear-offs waiting to be sent; at least 96 rows apart (the tear bar)
_POLL_MS = const(2)
_STATUS_EVERY = const(10)  # polls between status checks (floats: the twin allocates there)
_SOL_SOCKET = const(1)  # Linux, where the sim runs
_SO_SNDBUF = const(7)


class LineStream:
    def __init__(self, rows, paper):
        self._paper = paper
        self._rows = rows
        self._ring = bytearray(rows * _ROW)
        self._mv = memoryview(self._ring)
        self._tears = [0] * (2 * _TEARS)  # (row count at the tear, receipt number) pairs
        self._head = 0  # rows kept (ring position = count % rows)
        self._tail = 0  # rows sent
        self._tear_head = 0
        self._tear_tail = 0
        self._stalled = False
        # Where the ring's unsent part starts: receipts torn off and rows on the paper then.
        self._sent_receipts = paper.receipts
        self._sent_rows = paper.rows
        self.dropped = 0  # rows the stream did not carry: no room in the ring
        self._serving = 0  # the connection now streaming (a new one takes over)
        self.sndbuf = 0  # the stream socket's send buffer, bytes (0: the system's default)

    # ---- the paper's side: copy and return, never wait ----------------------------------------

    def row(self, row):
        if self._stalled or self._head - self._tail >= self._rows:
            self._stalled = True
            self.dropped += 1
            return
        at = (self._head % self._rows) * _ROW
        self._ring[at : at + _ROW] = row
        self._head += 1

    def torn(self, receipt):
        if self._stalled or self._tear_head - self._tear_tail >= _TEARS:
            self._stalled = True
            return
        i = (self._tear_head % _TEARS) * 2
        self._tears[i] = self._head
        self._tears[i + 1] = receipt
        self._tear_head += 1

    # ---- the control connection's side --------------------------------------------------------

    async def serve(self, writer, board, app):
        """Stream to `writer` until the host goes or another connection takes over."""
        self._serving += 1
        me = self._serving
        if self.sndbuf:
            writer.s.setsockopt(_SOL_SOCKET, _SO_SNDBUF, self.sndbuf)
        if self._stalled:
            self._restart()
        self._hello(writer, "hello")
        polls = 0
        last = None
        try:
            while me == self._serving:
                idle = self._tail == self._head and self._tear_tail == self._tear_head
                if idle and self._stalled:
                    self._restart()
                    self._hello(writer, "resync")
                elif not idle:
                    self._send(writer)
                if polls % _STATUS_EVERY == 0:
                    now = _status(app, self.dropped)
                    if now != last:
                        last = now
                        writer.write(json.dumps(now).encode() + b"\n")
                polls += 1
                await writer.drain()
                if idle:
                    await asyncio.sleep_ms(_POLL_MS)
        except OSError:
            pass  # the host went; the ring keeps filling for the next one

    def _restart(self):
        # What was kept is void: keep again from the paper as it is now.
        self._tail = self._head = 0
        self._tear_tail = self._tear_head = 0
        self._sent_receipts = self._paper.receipts
        self._sent_rows = self._paper.rows
        self._stalled = False

    def _hello(self, writer, ev):
        msg = {"ev": ev, "receipts": self._sent_receipts, "rows": self._sent_rows}
        msg["row_bytes"] = _ROW
        writer.write(json.dumps(msg).encode() + b"\n")

    def _send(self, writer):
        """The rows up to the next tear-off (or all kept), then that tear-off."""
        end = self._head
        tear = self._tear_tail != self._tear_head
        i = (self._tear_tail % _TEARS) * 2
        if tear:
            end = self._tears[i]
        n = end - self._tail
        if n:
            writer.write(('{"ev": "rows", "n": %d}\n' % n).encode())
            at = self._tail % self._rows
            first = n if at + n <= self._rows else self._rows - at
            writer.write(self._mv[at * _ROW : (at + first) * _ROW])
            if first < n:
                writer.write(self._mv[: (n - first) * _ROW])
            self._tail = end
            self._sent_rows += n
        if tear:
            receipt = self._tears[i + 1]
            msg = {"ev": "tear", "receipt": receipt, "path": self._paper.receipt_path(receipt)}
            writer.write(json.dumps(msg).encode() + b"\n")
            self._tear_tail += 1
            self._sent_receipts = receipt
            self._sent_rows = 0


def _status(app, dropped):
    """What the module shows: its faults as the status replies read them, online, paper near
    end, the head's temperature as the engine measured it, and whether it is printing."""
    report = app.link.report
    faults = report.faults()
    engine = app.engine
    journal = app.journal
    return {
        "ev": "status",
        "flags": [name for bit, name in st.NAMES if faults & bit],
        "online": not report.offline(faults),
        "near_end": report.near_end(),
        "error": bool(faults & st.STOPS),
        "head_c": engine.status.head_c,
        "printing": len(engine.queue) > 0,
        "journal": journal is not None and journal.mounted,
        "dropped": dropped,
    }
