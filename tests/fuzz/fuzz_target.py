"""Fuzz target, run under MicroPython: the whole firmware print path on the sim board.

Reads inputs from stdin, each framed as a line `LENGTH CHUNK` then LENGTH bytes, and prints
each one through App.receive on one simulated module, as a device would take one connection
after another — except that every input starts with a fresh parser and print modes, so each
finding replays on its own. The link is handed CHUNK bytes at a time, straight from stdin, so
no input is ever held whole in RAM. It answers one line: `=ok <dot lines printed>`, or
`=crash <exception>` followed by the traceback and a line `=end`. Lines without the `=` are
the board's own (receipts torn off).
"""

import asyncio
import gc
import io
import sys

from sim.board import SimBoard
from tillroll.app import App
from tillroll.escpos.parser import Parser


class StdinStream:
    """The next `length` bytes of stdin, at most `chunk` a read."""

    def __init__(self, stdin, length, chunk):
        self._stdin = stdin
        self._left = length
        self._chunk = chunk

    async def readinto(self, buf):
        n = self._left
        if n > self._chunk:
            n = self._chunk
        if n > len(buf):
            n = len(buf)
        if n <= 0:
            return 0
        got = self._stdin.readinto(memoryview(buf)[:n])
        self._left -= got
        return got

    def finish(self):
        while self._left > 0:  # what a crash left unread
            got = len(self._stdin.read(min(self._left, 512)))
            if not got:
                raise SystemExit  # the fuzzer is gone
            self._left -= got


async def drain(app, board):
    """Wait until everything queued has printed; a roll that runs out is replaced, as a
    cashier would, so a long input is not taken for a hang."""
    queue = app.engine.queue
    while len(queue):
        if board.paper.remaining <= 0:
            board.paper.load()
        await asyncio.sleep_ms(1)


async def main(app, board):
    stdin = sys.stdin.buffer
    app.start()
    while True:
        header = stdin.readline()
        if not header:
            return
        length, chunk = header.split()
        stream = StdinStream(stdin, int(length), int(chunk))
        board.paper.load()  # a fresh roll: thousands of inputs would run a real one out
        app.layout.reset()
        app.parser = Parser(app.layout, app.graphics)
        app.link.use(app.parser)  # the App's link, without a journal: its ring made once
        before = app.engine.lines_printed
        errors = app.errors
        try:
            await app.receive(stream)
            await drain(app, board)
            if app.errors != errors:
                raise RuntimeError("the engine logged a fault (above)")
            print("=ok", app.engine.lines_printed - before)
        except Exception as e:  # a crash is what the fuzzer looks for: report, go on
            buf = io.StringIO()
            sys.print_exception(e, buf)
            print("=crash", repr(e))
            print(buf.getvalue())
            print("=end")
        stream.finish()


if __name__ == "__main__":
    board = SimBoard(out_dir=sys.argv[1], font_dir=sys.argv[2])
    gc.collect()  # compiling the modules left garbage: the App's buffers want whole blocks
    asyncio.run(main(App(board), board))
