"""The service link's pieces under MicroPython: HMAC-SHA256 and CRC-16 give the published
check values, frames are read across any split and refused when damaged, and wrong answers
cost waits that double."""

# heap: sim

import asyncio
import gc
import os
import struct
import time

from tillroll.service import frame as fr
from tillroll.service.auth import Auth, answer, hmac_sha256


def test_hmac_sha256_gives_the_rfc_4231_values():
    # RFC 4231 test cases 2 and 6 (a key longer than the block)
    got = hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert got.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    got = hmac_sha256(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First")
    assert got.hex() == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_crc16_gives_the_ccitt_false_check_value():
    data = b"123456789"
    assert fr.crc16(data, 0, len(data)) == 0x29B1


class Chunks:
    """A stream that hands over a byte at a time."""

    def __init__(self, data):
        self.data = data
        self.at = 0

    async def readinto(self, buf):
        if self.at >= len(self.data):
            return 0
        buf[0] = self.data[self.at]
        self.at += 1
        return 1


def frame(cmd, payload, crc_fix=0):
    body = struct.pack("<BBBH", 1, cmd, 7, len(payload)) + payload
    crc = fr.crc16(body, 0, len(body)) ^ crc_fix
    return b"TS" + body + struct.pack("<H", crc)


def test_a_frame_split_anywhere_is_read_and_a_damaged_one_refused():
    f = fr.Framer()
    stream = Chunks(b"noise" + frame(0x01, b"{}") + frame(0x20, b"x", 1) + frame(0x30, b""))

    async def read_all():
        got = []
        while True:
            r = await f.read(stream)
            if r is None:
                return got
            got.append((r, f.command, bytes(f.payload()) if r is True else b""))

    got = asyncio.run(read_all())
    assert got == [(True, 0x01, b"{}"), ("CRC", 0x20, b""), (True, 0x30, b"")], got
    out = f.reply(0x30, 0, b"ok")
    assert bytes(out[:2]) == b"TS" and out[3] == 0x30 and out[4] == 7
    assert fr.crc16(out, 2, len(out) - 2) == struct.unpack_from("<H", out, len(out) - 2)[0]


def test_wrong_answers_cost_doubling_waits_and_a_right_one_passes():
    auth = Auth(None, "SN1")
    key = b"k" * 32
    auth.provision(key)
    nonce = b"n" * 16
    waits = []
    for _ in range(3):
        waits.append(auth.check(nonce, b"x" * 32))
        assert auth.check(nonce, answer(key, nonce, "SN1")) == -1  # during the wait: unchecked
        auth._until = time.ticks_add(auth._until, -100000)  # the wait is over
    assert waits == [250, 500, 1000], waits
    assert auth.refused == 3
    assert auth.check(nonce, answer(key, nonce, "SN1")) == 0
    assert auth.failures == 0


def test_the_service_link_adds_little_to_the_apps_memory():
    from sim.board import SimBoard
    from tillroll.app import App
    from tillroll.escpos import graphics, replies  # noqa: F401
    from tillroll.journal import journal, recovery  # noqa: F401
    from tillroll.service import counters, server, wall  # noqa: F401

    board = SimBoard(out_dir="/tmp", font_dir=os.getenv("TILLROLL_FONTS"))
    board.service = True
    gc.collect()
    before = gc.mem_alloc()
    app = App(board)
    gc.collect()
    used = gc.mem_alloc() - before
    assert app.service is not None
    assert used < 96 * 1024, "the App with its service link holds %d bytes" % used
    gc.collect()
    before = gc.mem_alloc()
    service = server.Service(app, board)
    gc.collect()
    used = gc.mem_alloc() - before
    # Two frame buffers (2 KB each) and the fault log: nothing that grows with use.
    assert service is not None and used < 8 * 1024, "the service holds %d bytes" % used
