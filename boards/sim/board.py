"""The simulated module: builds the models the firmware drives and the links it listens on.

WIRING (simulated)
    data link   TCP <host>:<data_port> (127.0.0.1:9100), senders one at a time in turn; or an
                ESC/POS file (render)
    line        TCP <host>:<line_port>: the data link as a serial line, for the pty bridge
    control     TCP 127.0.0.1:<control_port>, line-based JSON (docs/sim.md); its `stream`
                command pushes the printed dot lines (sim.stream, with --stream-rows N)
    head        sim.mechanism.Head via sim.sequencer.Sequencer (shift register, latch, strobe)
    motor       sim.mechanism.Stepper via the same sequencer (phases, steps per dot line)
    sensors     sim.mechanism.Sensors (supply, thermistor, paper sensor, cover switch)
    tear bar    sim.mechanism.TearBar -> <out>/receipt-NNNN.png
    clock       sim.clock.VirtualClock, or tillroll.clock.RealClock with --real-time
    storage     <state>/settings (tillroll/settings.py), <state>/journal.mark (the journal's
                mark), <state>/service.key (the service link's key), <state>/counters
                (maintenance counters), <state>/faults (the fault log)
    service     TCP <host>:<service_port>, the service link (docs/service-protocol.md); FEED
                held 5 s at power-on (--maintenance): maintenance mode
    flash       a directory standing for the module's flash (NV logos): <out>/flash or --flash
    journal     sim.flash.NorFlash in <journal file>, 4 KiB blocks (power cut at the Nth op)
    update slot sim.flash.NorFlash in <update file>, 48 blocks of 4 KiB as on the board; the
                boot code in main.py runs an update from it (tillroll/update/slot.py)
"""

import asyncio

from sim.clock import VirtualClock
from sim.flash import NorFlash, power_cut
from sim.mechanism import Head, Paper, Sensors, Stepper, Supply, TearBar
from sim.sequencer import Sequencer
from tillroll.clock import RealClock

MECHANISMS = {"ltp02-245": "ltp02_245", "jx-2r-01": "jx_2r_01", "pt486f-b": "pt486f_b"}


def mechanism(name):
    """The profile module of a mechanism, imported only when it is the one in use."""
    return __import__("mechanisms." + MECHANISMS[name], None, None, ("NAME",))


_RESTART = const(75)  # the exit status of a restart: `tillroll sim` starts the module again

# Head to tear bar on the sim's case: the last printed line must clear the bar (12 mm).
_TEAR_LINES = const(96)
# Connections the kernel completes before the module accepts them: a burst of POS jobs (a
# script, nc in a loop) must not be refused while one prints. asyncio's default is 5.
_BACKLOG = const(64)


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
        self,
        out_dir,
        font_dir,
        data_port=0,
        render_path=None,
        host="127.0.0.1",
        mechanism=None,
        control_port=0,
        state_dir=None,
        real_time=False,
        feed_held=False,
        nv_dir=None,
        journal_path=None,
        journal_blocks=16,
        cut_at=0,
        torn=False,
        stream_rows=0,
        first_receipt=1,
        tear_seed=0,
        keep_dots=False,
        update_flash=None,
        update_rom=None,
    ):
        if mechanism is None:
            mechanism = globals()["mechanism"]("ltp02-245")
        self.mechanism = mechanism
        self.font_dir = font_dir
        self.nv_dir = nv_dir or out_dir + "/flash"
        self.tear_lines = _TEAR_LINES
        self.clock = RealClock() if real_time else VirtualClock()
        self.supply = Supply(mechanism.RATED_MV)
        self.paper = Paper(out_dir, mechanism.ACTIVATIONS_PER_LINE, keep_dots)
        self.print_head = Head(mechanism, self.paper, self.supply, self.clock)
        self.stepper = Stepper(mechanism, self.paper, self.print_head, self.supply)
        self.sequencer = Sequencer(self.print_head, self.stepper, self.clock, mechanism)
        self.head = self.sequencer
        self.motor = self.sequencer
        self.sensors = Sensors(self.print_head, self.paper, self.supply)
        self.tear = TearBar(self.paper, self._on_receipt)
        # A count, not a list: a sim left running must not fill its heap. It starts past the
        # receipts of an earlier run when the host says so (--first-receipt).
        self.receipts = self.paper.receipts = first_receipt - 1
        self.stream = None  # the live stream to a host (sim.stream), made early: one piece
        if stream_rows:
            from sim.stream import LineStream

            self.stream = LineStream(stream_rows, self.paper)
            self.paper.tap = self.stream  # pyright: ignore[reportAttributeAccessIssue]
        self.settings_path = state_dir + "/settings" if state_dir else None
        # Kept apart from the journal's flash, as a board keeps it on its own filesystem.
        self.journal_mark_path = state_dir + "/journal.mark" if state_dir else None
        self.feed_held = feed_held  # FEED held at power-on: print the self-test page
        self.journal_flash = None
        if journal_path:
            self.journal_flash = NorFlash(
                journal_path, journal_blocks, cut_at=cut_at, torn=torn, tear_seed=tear_seed
            )
            self.journal_flash.on_cut = power_cut
        self.copy_banner = "COPY"
        self.resume_at_line = False
        self.idle_ms = 0
        self.idle_close_ms = 30000  # a sender idle this long while others wait is closed
        self.line_port = 0  # the data link as a serial line (the pty bridge's); 0: none
        self.service_port = 0  # the service link; 0: none
        self.service = False
        self.maintenance = False  # FEED held 5 s at power-on: a key may be provisioned
        self.serial = "SIM00001"
        self.name = "sim"  # what an update bundle names as its board
        self.update_flash = update_flash  # the update slot, opened by main.py's boot code
        self.rom = update_rom  # RAM for its image (main.py)
        self.wall_clock_known = True  # the host's clock: the sim knows the time from start
        self.service_key_path = state_dir + "/service.key" if state_dir else None
        self.counters_path = state_dir + "/counters" if state_dir else None
        self.fault_log_path = state_dir + "/faults" if state_dir else None
        self._data_port = data_port
        self._host = host
        self._control_port = control_port
        self._render_path = render_path

    def _on_receipt(self, path):
        self.receipts += 1
        print("receipt %d: %s" % (self.receipts, path))

    async def serve(self, app):
        """Run the data link: render one file and return, or listen until stopped."""
        if self._render_path:
            stream = FileStream(self._render_path)
            await app.receive(stream)
            stream.close()
            await app.engine.drain()
            return
        if self._control_port:
            import gc

            gc.collect()
            from sim.control import Control

            control = Control(self, app)
            await asyncio.start_server(control.client, "127.0.0.1", self._control_port)
            print("control on 127.0.0.1:%d" % self._control_port)
        await asyncio.start_server(
            lambda r, w: self._client(app, r, w), self._host, self._data_port, backlog=_BACKLOG
        )
        if self.line_port:
            await asyncio.start_server(
                lambda r, w: self._client(app, r, w, True), self._host, self.line_port
            )
            print("serial line on %s:%d" % (self._host, self.line_port))
        if self.service_port and app.service is not None:
            await asyncio.start_server(
                lambda r, w: self._service_client(app, r, w), self._host, self.service_port
            )
            print("service link on %s:%d" % (self._host, self.service_port))
        print("listening for ESC/POS on %s:%d" % (self._host, self._data_port))
        while True:
            await asyncio.sleep(3600)

    async def _client(self, app, reader, writer, line=False):
        # The app gives senders their turns and ends each connection by its rules
        # (docs/escpos.md, "Connections"); the socket goes once it is done with it.
        try:
            await app.receive(reader, line)
        finally:
            writer.close()
            await writer.wait_closed()

    async def _service_client(self, app, reader, writer):
        try:
            await app.service.serve(reader)
        finally:
            writer.close()
            await writer.wait_closed()

    def update_rom(self, size):
        """The update slot's image as a buffer (the chip's is flash, read in place): read into
        the RAM the boot code set aside, which no update uses while the frozen firmware runs."""
        from tillroll.update.slot import BLOCK, IMAGE_AT

        flash, rom = self.update_flash, self.rom
        assert flash is not None and rom is not None
        flash.readblocks(IMAGE_AT // BLOCK, rom)
        return rom

    def restart(self):
        """The module restarts itself (machine.reset() on a board)."""
        print("restart")
        raise SystemExit(_RESTART)

    def close(self):
        self.paper.close()
        if self.journal_flash is not None:
            self.journal_flash.close()
        if self.update_flash is not None:
            self.update_flash.close()
