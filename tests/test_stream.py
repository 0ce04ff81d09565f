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


def test_a_host_that_stops_reading_never_holds_the_module_up(tmp_path: Path):
    with SimModule(tmp_path, extra_args=["--stream-rows", "64"]) as sim:
        # Little room between the module and a host that reads nothing for a while.
        stream = SimStream(sim.control_port, timeout=60, buffers=4096)
        send(sim.data_port, long_receipt(b"UNREAD", 300))
        sim.wait_receipt(1)  # printed whole while the host read nothing
        # Now the host reads: what fitted, then a resync past the rest.
        events = stream.events()
        resync = dropped = None
        for msg, _ in events:
            if msg["ev"] == "resync":
                resync = msg
            if msg["ev"] == "status" and msg["dropped"]:
                dropped = msg["dropped"]
            if resync and dropped:
                break
        assert resync["receipts"] == 1 and resync["rows"] == 0, resync
        assert dropped > 0
        # From there on it is whole again.
        send(sim.data_port, long_receipt(b"READ", 10))
        paper = b""
        for msg, rows in events:
            paper += rows
            if msg["ev"] == "tear":
                assert msg["receipt"] == 2
                break
        stream.close()
        assert paper == rows_of(sim.wait_receipt(2))
