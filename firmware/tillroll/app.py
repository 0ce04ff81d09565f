"""Wires a board to the parts: data link -> ESC/POS parser -> layout -> engine -> mechanism.

The board builds every piece of hardware (or its model) and hands it in; `App` only connects
them and runs them as asyncio tasks.

A board's links hand each connection to `receive` (a TCP sender's, or a serial line's in a
loop: `while True: await app.receive(stream, line=True)`). A stream says its connection has
ended by returning 0 from readinto (closed) or raising OSError (a reset; uart_stream.py raises
ECONNRESET at a break); a board that learns of it another way (a USB re-enumeration) calls
`hang_up`. The rule for what happens then is `_ended`, the same for every link.
"""

import asyncio
import gc
import sys

from . import VERSION, self_test
from .engine.engine import Engine
from .escpos.parser import Parser
from .link import CLOSED, DataLink
from .render.cjk import CjkFont
from .render.codepage import CodePages
from .render.font import Font
from .render.layout import Layout
from .render.logo_store import LogoStore
from .settings import Settings

_CONFIRM_MS = const(5000)  # an update on trial confirms a healthy boot after this long


class App:
    def __init__(self, board):
        self.board = board
        self.settings = Settings(board.settings_path)
        self.engine = Engine(
            board.head, board.motor, board.tear, board.sensors, board.clock, self._mechanism()
        )
        self.settings.attach(self.engine)
        fonts = board.font_dir
        self.font_a = Font(fonts + "/font_a_12x24.trf")
        self.layout = Layout(
            self.font_a,
            self.engine,
            board.tear_lines,
            font_b=Font(fonts + "/font_b_9x17.trf"),
            cjk=CjkFont(fonts + "/cjk_24x24.tcj"),
            pages=CodePages(fonts + "/codepages.bin"),
        )
        self.settings.pages = self.layout.codepages
        self.layout.attach(self.settings, self.request_self_test)
        # Imported once the large buffers above are made: compiling the graphics code first
        # would leave the heap too fragmented for them on a board-sized heap.
        from .escpos.graphics import Graphics

        nv_dir = getattr(board, "nv_dir", None)
        logos = LogoStore(nv_dir) if nv_dir else None
        self.graphics = Graphics(self.layout, self.engine, self.font_a, logos)
        self.parser = Parser(self.layout, self.graphics)
        # The journal's flash region comes from the board; without one the module prints
        # without the guarantee, and says so in its status. Imported after the large buffers
        # are made, so its compilation does not split the heap under them.
        gc.collect()
        from .journal.journal import Journal
        from .journal.recovery import Recovery

        flash = getattr(board, "journal_flash", None)
        mark = getattr(board, "journal_mark_path", None)  # on the board's own filesystem
        self.journal = Journal(flash, mark) if flash is not None else None
        self.recovery = None
        if self.journal is not None and self.journal.mount():
            self.recovery = Recovery(
                self.journal,
                self.engine,
                self.layout,
                banner=getattr(board, "copy_banner", "COPY"),
                resume=getattr(board, "resume_at_line", False),
                idle_ms=getattr(board, "idle_ms", 0),
            )
        from .escpos.replies import Report

        report = Report(
            self.engine, board.sensors, self.journal, getattr(board, "serial", "0000000")
        )
        self.link = DataLink(self.parser, self.engine, recovery=self.recovery, report=report)
        self.link.idle_close_ms = getattr(board, "idle_close_ms", self.link.idle_close_ms)
        if self.recovery is not None:
            self.recovery.attach(self.link, self.parser)
        self.errors = 0  # faults caught and logged by the tasks' supervisors
        # The service link (docs/service-protocol.md), on boards that offer one: last, so its
        # buffers and code come after the print path's.
        self.service = None
        if getattr(board, "service", False):
            gc.collect()
            from .service.server import Service

            self.service = Service(self, board)
            self.link.use_counters(self.service.counters)  # GS g 0 / GS g 2
            if self.journal is not None:
                self.journal.use_wall(self.service.wall.now)  # receipts carry the time when known
        if self.recovery is not None:  # its key signs receipts' verification codes
            self.recovery.sign_with(self.service.auth if self.service else None, self.graphics)
        self._turns = []  # senders waiting for the data link, first come first served
        self._taken = False  # a sender has the data link

    def _mechanism(self):
        """The board's mechanism profile, or the one the `mechanism` setting names (a module
        fitted with another mechanism than its board's default)."""
        from .settings import MECHANISMS

        name = MECHANISMS[self.settings.values["mechanism"]]
        m = self.board.mechanism
        if name is not None and not getattr(m, "__name__", "").endswith(name):
            try:
                m = __import__("mechanisms." + name, None, None, ("NAME",))
            except ImportError:
                print("tillroll: no mechanism profile %s: the board's own is used" % name)
        return m

    async def receive(self, stream, line: bool = False):
        """One connection, from a clean parser to its end: print what its sender sends.
        Senders take turns, first come first served. `line`: a serial line (UART, USB CDC,
        the sim's pty bridge), never closed for idling."""
        await self._take_turn()
        how = 0
        try:
            how = await self.link.pump(stream, line)
        finally:
            try:
                await self._ended(how)
            finally:
                self._next_turn()
        if how == CLOSED:
            await self.link.settle(stream)  # a half-closed sender still reads its replies

    def hang_up(self):
        """The sender's line broke and its stream cannot say so (a USB re-enumeration): end
        the connection as a reset would (see _ended)."""
        self.link.hang_up()

    async def _ended(self, how: int):
        """A connection ended. A command it cut off is dropped; what its receipt printed is
        torn off. The receipt ends there if the sender closed the connection after a whole
        command; otherwise (a reset, a break, a command cut off, closed for idling) it is
        incomplete in the journal and never acknowledged. The next connection starts clean
        (DataLink.pump, Parser.restart)."""
        cut = self.parser.cut_off()
        while self.link.hold or self.layout.held:  # a copy or the self-test page is printing
            await asyncio.sleep_ms(10)
        if self.layout.has_content():
            self.layout.tear_off()
        if self.recovery is not None:
            self.recovery.connection_ended(how == CLOSED and not cut)

    async def _take_turn(self):
        if self._taken:
            turn = asyncio.Event()
            self._turns.append(turn)
            self.link.senders_waiting = len(self._turns)
            try:
                await turn.wait()
            except asyncio.CancelledError:
                if turn in self._turns:
                    self._turns.remove(turn)
                    self.link.senders_waiting = len(self._turns)
                else:
                    self._next_turn()  # the turn came with the cancellation: pass it on
                raise
        self._taken = True

    def _next_turn(self):
        if self._turns:
            self._turns.pop(0).set()  # handed over: the link stays taken
        else:
            self._taken = False
        self.link.senders_waiting = len(self._turns)

    def start(self):
        """Start the background tasks; call from inside the event loop."""
        asyncio.get_event_loop().set_exception_handler(_log_exception)
        asyncio.create_task(self._run_engine())
        if self.recovery is not None:
            asyncio.create_task(self.recovery.run())
        if self.service is not None:
            asyncio.create_task(self.service.watch())
        if __file__.startswith("/app/"):  # an update runs (update/slot.py)
            asyncio.create_task(self._confirm_update())

    async def _confirm_update(self):
        # An update on trial has come up: its links are served and nothing has stopped it for
        # this long. Until then a restart rolls it back (update/slot.py).
        await asyncio.sleep_ms(_CONFIRM_MS)
        from .update import slot

        slot.confirm(self.board.update_flash)

    async def _run_engine(self):
        # The engine must outlive a fault in one dot line: log it, drop that line, go on.
        while True:
            try:
                await self.engine.run()
            except Exception as e:
                self.errors += 1
                _log_exception(None, {"message": "engine", "exception": e})
                self.engine.drop_current()

    def request_self_test(self):
        """Print the self-test page next; data waits until it is out."""
        self.layout.held = True
        asyncio.create_task(self.print_self_test())

    async def print_self_test(self):
        self.layout.held = True
        try:
            await self_test.print_page(self)
        finally:
            self.layout.held = False

    async def main(self):
        self.start()
        if getattr(self.board, "feed_held", False):
            await self.print_self_test()
        await self.board.serve(self)

    def run(self):
        asyncio.run(self.main())


def _log_exception(loop, context):
    # A task that dies must not take the module down silently: say what and where.
    print("tillroll %s: task error: %s" % (VERSION, context["message"]))
    exc = context.get("exception")
    if exc is not None:
        sys.print_exception(exc)
