"""No client can break the printer for the next one (docs/escpos.md, "Connections"): a POS that
resets its connection, closes in the middle of a command, leaves modes or ESC = behind, sits
idle, or comes with 31 others at once, and the next sender's receipt still prints whole and
alone and gets its GS ( H. Each test drives the simulated module over real sockets."""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from tillroll_host.sim import SimModule

CUT = b"\x1dV\x00"
NEXT = b"\x1b@Next sender\nOrder 42\n" + CUT  # the receipt that must come out whole
ID = b"\x1d(H\x06\x00\x30\x30"


def marker(pid: bytes) -> bytes:
    return ID + pid


def reply_of(pid: bytes) -> bytes:
    return b"\x37\x22" + pid + b"\x00"


def connect(sim: SimModule) -> socket.socket:
    return socket.create_connection((sim.host, sim.data_port), timeout=30)


def read_exactly(s: socket.socket, n: int) -> bytes:
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def reset(s: socket.socket) -> None:
    """Close with a TCP reset (RST), as a POS process that is killed or aborts does."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def print_and_ack(sim: SimModule, data: bytes, pid: bytes) -> bytes:
    """Send a receipt with a process ID on a connection of its own; return the reply."""
    with connect(sim) as s:
        s.sendall(data + marker(pid))
        return read_exactly(s, 7)


def pixels(png: Path) -> tuple[tuple[int, int], bytes]:
    image = Image.open(png).convert("1")
    return image.size, image.tobytes()


def journaled(tmp_path: Path, *more: str) -> SimModule:
    return SimModule(tmp_path / "out", extra_args=["--journal", str(tmp_path / "j.bin"), *more])


def wait_journal(sim: SimModule, predicate, timeout: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        rows = sim.journal_list()
        if predicate(rows):
            return rows
        assert time.monotonic() < deadline, [(r["number"], r["state"]) for r in rows]
        time.sleep(0.05)


def assert_next_alone(sim: SimModule, reference: Path, receipt: int) -> None:
    """Receipt `receipt` came out exactly as NEXT did on its own (`reference`)."""
    assert pixels(sim.wait_receipt(receipt)) == pixels(reference)


# ---- a command cut off by the end of its connection ---------------------------------------

RASTER = b"\x1dv0\x00" + (48).to_bytes(2, "little") + (200).to_bytes(2, "little")
CUT_OFF = {
    # 20 whole rows print; the next sender's bytes would be the rest of the image
    "GS v 0 raster": RASTER + b"\xaa" * (48 * 20 + 10),
    "QR code store": b"\x1d(k" + (103).to_bytes(2, "little") + b"\x31\x50\x30" + b"Q" * 20,
    "PDF417 store": b"\x1d(k" + (503).to_bytes(2, "little") + b"\x30\x50\x30" + b"P" * 40,
    "FS q NV image": b"\x1cq\x01" + b"\x0a\x00\x05\x00" + b"\x55" * 50,
    "ESC * bit image": b"\x1b*\x21" + (100).to_bytes(2, "little") + b"\xff" * 30,
    "GS k Code 128": b"\x1dkI\x14{B12345",
    "a lone ESC": b"\x1b",
}


@pytest.mark.parametrize("command", list(CUT_OFF))
def test_a_command_cut_off_by_a_close_is_dropped_and_the_next_receipt_prints_alone(
    tmp_path: Path, command: str
):
    with journaled(tmp_path) as sim:
        assert print_and_ack(sim, NEXT, b"REF1") == reply_of(b"REF1")
        reference = sim.wait_receipt(1)
        with connect(sim) as s:  # closes in the middle of the command
            s.sendall(b"\x1b@Before the cut\n" + CUT_OFF[command])
        assert print_and_ack(sim, NEXT, b"ID42") == reply_of(b"ID42")
        assert_next_alone(sim, reference, 3)
        rows = wait_journal(sim, lambda rows: len(rows) == 3 and rows[2]["state"] == "printed")
        # What printed before the cut is kept, incomplete: never acknowledged, not reprinted.
        assert [(r["state"], r["first_line"]) for r in rows] == [
            ("printed", "Next sender"),
            ("incomplete", "Before the cut"),
            ("printed", "Next sender"),
        ]
        assert sim.journal_bytes(rows[2]["number"]) == NEXT  # nothing of the cut-off command
        assert len(sim.receipts) == 3


def test_a_reset_connection_leaves_the_port_to_the_next_sender(tmp_path: Path):
    with journaled(tmp_path) as sim:
        assert print_and_ack(sim, NEXT, b"REF1") == reply_of(b"REF1")
        reference = sim.wait_receipt(1)
        s = connect(sim)
        s.sendall(b"\x1b@Reset mid-receipt\nSecond line\n\x10\x04\x01")
        assert read_exactly(s, 1) == b"\x12"  # everything before it has arrived
        reset(s)
        assert print_and_ack(sim, NEXT, b"ID42") == reply_of(b"ID42")
        assert_next_alone(sim, reference, 3)
        rows = wait_journal(sim, lambda rows: len(rows) == 3 and rows[2]["state"] == "printed")
        # A reset says nothing of the receipt's end: what printed is kept, incomplete.
        assert [(r["state"], r["first_line"]) for r in rows] == [
            ("printed", "Next sender"),
            ("incomplete", "Reset mid-receipt"),
            ("printed", "Next sender"),
        ]


def test_clients_that_ask_for_status_and_close_without_reading_break_nothing(tmp_path: Path):
    with SimModule(tmp_path) as sim:
        for _ in range(5):
            with connect(sim) as s:
                s.sendall(b"\x1dI\x01\x10\x04\x01\x1dIB\x10\x04\x04")  # GS I, DLE EOT
        for _ in range(3):
            s = connect(sim)
            s.sendall(b"\x10\x04\x01\x1dI\x02")
            time.sleep(0.1)  # the replies wait, unread, as the client resets
            reset(s)
        with connect(sim) as s:
            s.sendall(b"\x10\x04\x01")
            assert read_exactly(s, 1) == b"\x12"
            s.sendall(NEXT + marker(b"ID42"))
            assert read_exactly(s, 7) == reply_of(b"ID42")  # its own, nobody else's
        sim.wait_receipt(1)
        assert len(sim.receipts) == 1


# ---- what one client leaves behind ---------------------------------------------------------


def test_modes_esc_equals_and_a_half_command_left_by_one_client_never_reach_the_next(
    tmp_path: Path,
):
    plain = b"Next sender\nOrder 42\n" + CUT  # no ESC @: it relies on a clean start
    leftovers = (
        b"\x1b!\x38"  # double width and height, emphasis
        b"\x1dB\x01"  # reverse
        b"\x1ba\x01\x1b{\x01"  # centred, upside down (at the start of a line)
        b"\x1d(K\x02\x00\x31\x06"  # print density +6 steps: a persisted setting
        b"\x1b=\x02"  # deselected: ignore everything until ESC = with an odd n
        b"\x10"  # the start of a real-time command
    )
    with SimModule(tmp_path) as sim:
        density = sim.counters()["engine"]["density"]
        assert print_and_ack(sim, plain, b"REF1") == reply_of(b"REF1")
        reference = sim.wait_receipt(1)
        with connect(sim) as s:
            s.sendall(leftovers)
        with connect(sim) as s:
            s.sendall(b"\x04\x01" + plain + marker(b"ID42"))  # "04 01" is not DLE EOT here
            assert read_exactly(s, 7) == reply_of(b"ID42")
        assert_next_alone(sim, reference, 2)
        # Settings that persist stay: the density the first client set.
        assert sim.counters()["engine"]["density"] == density + 30


# ---- many senders at once --------------------------------------------------------------------


def test_32_clients_that_send_and_close_at_once_all_print_exactly_once(tmp_path: Path):
    clients = 32
    start = threading.Barrier(clients)
    errors: list[BaseException] = []

    def client(k: int) -> None:
        try:
            start.wait()
            with socket.create_connection(("127.0.0.1", sim.data_port), timeout=30) as s:
                s.sendall(b"\x1b@Order %02d\nCoffee 2.50\n" % k + CUT)
        except BaseException as e:  # any failure of a client fails the test
            errors.append(e)

    with journaled(tmp_path) as sim:
        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        sim.wait_receipt(clients, timeout=120)
        rows = wait_journal(
            sim, lambda rows: len(rows) == clients and all(r["state"] == "printed" for r in rows)
        )
        time.sleep(0.5)
        assert len(sim.receipts) == clients  # and no more
    assert sorted(r["first_line"] for r in rows) == ["Order %02d" % k for k in range(clients)]


def test_senders_take_turns_in_the_order_they_came(tmp_path: Path):
    with journaled(tmp_path) as sim:
        first = connect(sim)
        first.sendall(b"\x1b@Sender 0\n")  # holds the port while it stays connected
        later = []
        for k in range(1, 6):
            s = connect(sim)
            s.sendall(b"\x1b@Sender %d\n" % k + CUT)
            later.append(s)
            time.sleep(0.05)  # each connects after the one before
        first.sendall(CUT)
        first.close()
        for s in later:
            s.close()
        rows = wait_journal(sim, lambda rows: len(rows) == 6)
    assert [r["first_line"] for r in rows] == ["Sender %d" % k for k in range(6)]


# ---- idle connections ------------------------------------------------------------------------


def test_an_idle_connection_is_closed_when_another_sender_waits(tmp_path: Path):
    with SimModule(tmp_path, extra_args=["--idle-close-ms", "300"]) as sim:
        idle = connect(sim)
        idle.sendall(b"\x10\x04\x01")
        assert read_exactly(idle, 1) == b"\x12"  # it has the port, and sends nothing more
        assert print_and_ack(sim, NEXT, b"ID42") == reply_of(b"ID42")
        assert idle.recv(16) == b""  # the module closed it
        sim.wait_receipt(1)


def test_an_idle_connection_is_never_closed_while_its_receipt_prints_or_its_reply_is_due(
    tmp_path: Path,
):
    with SimModule(tmp_path, extra_args=["--idle-close-ms", "200"]) as sim:
        sim.paper_out()
        holder = connect(sim)
        holder.sendall(b"\x1b@Waits for paper\n" + CUT + b"\x1dr1" + marker(b"ID01"))
        sim.wait_status(lambda st: st["queued"] > 0)
        waiting = connect(sim)
        waiting.sendall(NEXT + marker(b"ID42"))
        holder.settimeout(1.0)  # five times the idle time, while another sender waits
        with pytest.raises(TimeoutError):
            holder.recv(16)  # not closed: its receipt is still to print
        sim.load_paper()
        holder.settimeout(30)
        assert read_exactly(holder, 8) == b"\x00" + reply_of(b"ID01")  # GS r 1, then the ID
        # With nothing left to come, it is idle now: closed, and the next sender goes.
        assert holder.recv(16) == b""
        assert read_exactly(waiting, 7) == reply_of(b"ID42")
        waiting.close()
        sim.wait_receipt(2)


def test_automatic_status_back_keeps_a_connection_open_while_the_module_is_offline(
    tmp_path: Path,
):
    with SimModule(tmp_path, extra_args=["--idle-close-ms", "200"]) as sim:
        sim.open_cover()
        monitor = connect(sim)
        monitor.sendall(b"\x1da\x02")  # ASB for online/offline
        assert read_exactly(monitor, 4) == b"\x38\x00\x00\x00"  # offline, cover open
        waiting = connect(sim)
        waiting.sendall(NEXT + marker(b"ID42"))
        monitor.settimeout(1.0)
        with pytest.raises(TimeoutError):
            monitor.recv(16)  # open: it waits for the status that says the module is back
        sim.open_cover(False)
        monitor.settimeout(30)
        assert read_exactly(monitor, 4) == b"\x10\x00\x00\x00"  # back online
        assert monitor.recv(16) == b""  # then idle while another waits: closed
        assert read_exactly(waiting, 7) == reply_of(b"ID42")
        waiting.close()


def test_the_pty_bridges_line_is_never_closed_for_idling(tmp_path: Path):
    import serial

    with SimModule(tmp_path, pty=True, extra_args=["--idle-close-ms", "200"]) as sim:
        with serial.Serial(sim.pty_path, timeout=10) as port:
            port.write(b"\x10\x04\x01")
            assert port.read(1) == b"\x12"  # the line has the port
            tcp = connect(sim)
            tcp.sendall(NEXT)  # a TCP sender waits for its turn
            time.sleep(1.0)  # five times the idle time
            port.write(b"\x1b@Still on the line\n" + CUT + marker(b"PTY1"))
            assert port.read(7) == reply_of(b"PTY1")
            sim.wait_receipt(1)
            # Had the line been closed, the waiting sender's receipt would have come first.
            assert len(sim.receipts) == 1
        tcp.close()


# ---- a sender that only closes its sending side -----------------------------------------------


def test_a_half_closed_sender_gets_its_process_id_and_the_next_sender_only_its_own(
    tmp_path: Path,
):
    with SimModule(tmp_path) as sim:
        sim.paper_out()
        half = connect(sim)
        half.sendall(b"\x1b@Half closed\n" + CUT + marker(b"HALF"))
        half.shutdown(socket.SHUT_WR)  # as `nc -q` does: done sending, still reading
        sim.wait_status(lambda st: st["queued"] > 0)
        after = connect(sim)  # its turn comes while the first one's receipt waits for paper
        after.sendall(NEXT + marker(b"ID42"))
        sim.load_paper()
        assert read_exactly(half, 7) == reply_of(b"HALF")
        assert half.recv(16) == b""  # closed once its reply has gone
        assert read_exactly(after, 7) == reply_of(b"ID42")
        half.close()
        after.close()
        sim.wait_receipt(2)
