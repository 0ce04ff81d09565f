"""The simulated module: builds the models the firmware drives and the links it listens on.

WIRING (simulated)
    data link   TCP 127.0.0.1:<data_port>, one sender at a time; or an ESC/POS file (render)
    head        sim.mechanism.Head   (shift register, latch, strobe)
    motor       sim.mechanism.Motor  (steps per dot line from the mechanism profile)
    tear bar    sim.mechanism.TearBar -> <out>/receipt-NNNN.png
    flash       a directory standing for the module's flash (NV logos): <out>/flash or --flash
"""

import asyncio

from mechanisms import ltp02_245
from sim.mechanism import Head, Motor, Paper, TearBar

# Head to tear bar on the sim's case: the last printed line must clear the bar (12 mm).
_TEAR_LINES = const(96)


class FileStream:
    """An ESC/POS file read like a link."""

    def __init__(self, path):
        self._file = open(path, "rb")

    async def readinto(self, buf):
        return self._file.readinto(buf)

    def close(self):
        self._file.close()


class SimBoard:
    def __init__(
        self, out_dir, font_dir, data_port=0, render_path=None, mechanism=ltp02_245, nv_dir=None
    ):
        self.mechanism = mechanism
        self.font_dir = font_dir
        self.nv_dir = nv_dir or out_dir + "/flash"
        self.tear_lines = _TEAR_LINES
        self.paper = Paper(out_dir)
        self.head = Head(self.paper)
        self.motor = Motor(self.paper, mechanism.STEPS_PER_LINE)
        self.tear = TearBar(self.paper, self._on_receipt)
        self._data_port = data_port
        self._render_path = render_path
        self._sender = asyncio.Lock()
        self.receipts = []

    def _on_receipt(self, path):
        self.receipts.append(path)
        print("receipt %d: %s" % (len(self.receipts), path))

    async def serve(self, app):
        """Run the data link: render one file and return, or listen until stopped."""
        if self._render_path:
            stream = FileStream(self._render_path)
            await app.receive(stream)
            stream.close()
            await app.engine.drain()
            return
        await asyncio.start_server(
            lambda r, w: self._client(app, r, w), "127.0.0.1", self._data_port
        )
        print("listening for ESC/POS on 127.0.0.1:%d" % self._data_port)
        while True:
            await asyncio.sleep(3600)

    async def _client(self, app, reader, writer):
        # One sender at a time, as a printer's raw port: the next waits for the receipt to end.
        async with self._sender:
            try:
                await app.receive(reader)
            finally:
                writer.close()
                await writer.wait_closed()

    def close(self):
        self.paper.close()
