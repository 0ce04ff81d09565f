"""Memory: what the firmware allocates for itself fits a board's heap with room to spare."""

# heap: sim

import gc
import os

FONTS = os.getenv("TILLROLL_FONTS")
# RP2040: about 160 KB free with the firmware's bytecode in flash (ROMFS or frozen). The App's
# own buffers must leave most of it for receipts in flight, the stack and the link.
_APP_BUDGET = const(96 * 1024)


def test_the_apps_buffers_fit_a_boards_budget():
    from sim.board import SimBoard
    from tillroll.app import App

    # Code is not the App's data: the modules App imports on its way are imported first.
    # (Their bytecode sits in flash on a device; the heap peak `make bench` reports counts
    # everything, the native code compiled at start-up included.)
    from tillroll.escpos import graphics, replies  # noqa: F401
    from tillroll.journal import journal, recovery  # noqa: F401

    board = SimBoard(out_dir="/tmp", font_dir=FONTS)
    gc.collect()
    before = gc.mem_alloc()
    app = App(board)
    gc.collect()
    used = gc.mem_alloc() - before
    assert app.engine is not None
    assert used < _APP_BUDGET, "the App holds %d bytes, over %d" % (used, _APP_BUDGET)
