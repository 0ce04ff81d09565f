"""Start the simulated module: `micropython boards/sim/main.py [options]`.

--data-port N   listen for ESC/POS on 127.0.0.1:N (default 9100)
--render FILE   print one ESC/POS file instead, then exit
--out DIR       where receipt PNGs go (default out)
--fonts DIR     compiled fonts (default firmware/fonts)
--flash DIR     the module's flash, where NV logos stay across restarts (default OUT/flash)
"""

import sys

from sim.board import SimBoard
from tillroll.app import App


def _options(argv):
    opts = {
        "--data-port": "9100",
        "--render": None,
        "--out": "out",
        "--fonts": "firmware/fonts",
        "--flash": None,
    }
    i = 0
    while i < len(argv):
        if argv[i] not in opts or i + 1 >= len(argv):
            print(__doc__)
            raise SystemExit(2)
        opts[argv[i]] = argv[i + 1]
        i += 2
    return opts


def main():
    opts = _options(sys.argv[1:])
    board = SimBoard(
        out_dir=opts["--out"],
        font_dir=opts["--fonts"],
        data_port=int(opts["--data-port"]),
        render_path=opts["--render"],
        nv_dir=opts["--flash"],
    )
    try:
        App(board).run()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        board.close()


main()
