"""Wires a board to the parts: data link -> ESC/POS parser -> layout -> engine -> mechanism.

The board builds every piece of hardware (or its model) and hands it in; `App` only connects
them and runs them as asyncio tasks.
"""

import asyncio
import sys

from . import VERSION
from .engine.engine import Engine
from .escpos.parser import Parser
from .link import DataLink
from .render.cjk import CjkFont
from .render.codepage import CodePages
from .render.font import Font
from .render.layout import Layout


class App:
    def __init__(self, board):
        self.board = board
        self.engine = Engine(board.head, board.motor, board.tear, board.mechanism)
        fonts = board.font_dir
        self.layout = Layout(
            Font(fonts + "/font_a_12x24.trf"),
            self.engine,
            board.tear_lines,
            font_b=Font(fonts + "/font_b_9x17.trf"),
            cjk=CjkFont(fonts + "/cjk_24x24.tcj"),
            pages=CodePages(fonts + "/codepages.bin"),
        )
        self.parser = Parser(self.layout)
        self.link = DataLink(self.parser, self.engine)

    async def receive(self, stream):
        """Print what one sender sends. A receipt it leaves open (no GS V) ends when it closes,
        so a raw TCP job without a cut still comes out."""
        await self.link.pump(stream)
        if self.layout.has_content():
            self.layout.tear_off()

    async def main(self):
        asyncio.get_event_loop().set_exception_handler(_log_exception)
        asyncio.create_task(self.engine.run())
        await self.board.serve(self)

    def run(self):
        asyncio.run(self.main())


def _log_exception(loop, context):
    # A task that dies must not take the module down silently: say what and where.
    print("tillroll %s: task error: %s" % (VERSION, context["message"]))
    exc = context.get("exception")
    if exc is not None:
        sys.print_exception(exc)
