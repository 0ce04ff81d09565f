"""The sim's live stream of dot lines, tear-offs and status (boards/sim/stream.py), as the web
page's server reads it: what it carries is what came out on paper, and a host that stops
reading never holds the module up."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tillroll_host.sim import SimModule, SimStream, send

CUT = b"\x1dV\x00"


def long_receipt(title: bytes, lines: int) -> bytes:
    body = b"".join(b"Item %3d                    1.00\n" % n for n in range(lines))
    return b"\x1b@" + title + b"\n" + body + CUT


def rows_of(png: Path) -> bytes:
    """A receipt PNG as the stream carries it: 48 bytes a dot line, a set bit burnt."""
    image = Image.open(png).convert("1")
    return bytes(b ^ 0xFF for b in image.tobytes())  # PIL's mode 1: a set bit is white


def test_the_stream_carries_each_receipt_as_it_came_out(tmp_path: Path):
    with SimModule(tmp_path, extra_args=["--stream-rows", "64"]) as sim:
        stream = SimStream(sim.control_port, timeout=60)
        events = stream.events()
        hello, _ = next(events)
        assert hello == {"ev": "hello", "receipts": 0, "rows": 0, "row_bytes": 48}
        send(sim.data_port, long_receipt(b"FIRST", 40))
        send(sim.data_port, long_receipt(b"SECOND", 10))
        paper = b""
        torn = []
        for msg, rows in events:
            paper += rows
            if msg["ev"] == "tear":
                torn.append((msg["receipt"], Path(msg["path"]), paper))
                paper = b""
                if len(torn) == 2:
                    break
        stream.close()
    assert [n for n, _, _ in torn] == [1, 2]
    for number, path, streamed in torn:
        assert path == sim.receipts[number - 1]
        assert streamed == rows_of(path), f"receipt {number} streamed differs from its PNG"


class Follower:
    """Reads the stream as the page's server does: each receipt torn off, with the dot lines
    the stream carried of it (`first` is the line they start at: 0 when it carried all)."""

    def __init__(self, stream: SimStream):
        self.events = stream.events()
        self.torn: dict[int, tuple[int, bytes] | None] = {}  # None: torn off unstreamed
        self.dropped = 0
        self.resyncs = 0
        self._paper = b""
        self._first = 0
        self._next = 1

    def until(self, done) -> None:
        for msg, rows in self.events:
            ev = msg["ev"]
            if ev == "rows":
                self._paper += rows
            elif ev in ("hello", "resync"):
                self.resyncs += ev == "resync"
                while self._next <= msg["receipts"]:
                    self.torn[self._next] = None
                    self._next += 1
                    self._paper, self._first = b"", 0
                held = self._first + len(self._paper) // 48
                if msg["rows"] > held:  # lines it never carried: what follows starts later
                    self._paper, self._first = b"", msg["rows"]
            elif ev == "tear":
                assert msg["receipt"] == self._next, msg
                self.torn[self._next] = (self._first, self._paper)
                self._next += 1
                self._paper, self._first = b"", 0
            elif ev == "status":
                self.dropped = msg["dropped"]
            if done(self):
                return

    def assert_as_printed(self, sim: SimModule) -> None:
        """Every line the stream carried is the line on paper, in its place."""
        for number, got in self.torn.items():
            if got is not None:
                first, rows = got
                assert rows == rows_of(sim.receipts[number - 1])[first * 48 :], number


def test_a_host_that_stops_reading_never_holds_the_module_up(tmp_path: Path):
    with SimModule(tmp_path, extra_args=["--stream-rows", "64"]) as sim:
        # Little room between the module and a host that reads nothing for a while.
        slow = SimStream(sim.control_port, timeout=60, buffers=4096)
        send(sim.data_port, long_receipt(b"UNREAD", 300))
        sim.wait_receipt(1)  # printed whole while the host read nothing
        # Now it reads: what fitted, a resync past what did not, all of it told.
        host = Follower(slow)
        host.until(lambda h: 1 in h.torn and h.dropped)
        assert host.resyncs and host.dropped > 0
        host.assert_as_printed(sim)
        # A new stream takes over from there, and with room to spare it is whole again.
        fresh = Follower(SimStream(sim.control_port, timeout=60))
        slow.close()
        send(sim.data_port, long_receipt(b"READ", 10))
        fresh.until(lambda h: 2 in h.torn)
        assert fresh.torn[2] == (0, rows_of(sim.wait_receipt(2)))
