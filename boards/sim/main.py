"""Start the simulated module: `micropython boards/sim/main.py [options]`.

--data-port N      listen for ESC/POS on port N (default 9100)
--host ADDRESS     ... on this loopback address (default 127.0.0.1; any 127.x.y.z works)
--control-port N   line-based JSON control channel on 127.0.0.1:N (docs/sim.md; default off)
--render FILE      print one ESC/POS file instead, then exit
--out DIR          where receipt PNGs go (default out)
--fonts DIR        compiled fonts (default firmware/fonts)
--flash DIR        the module's flash, where NV logos stay across restarts (default OUT/flash)
--state DIR        where settings persist (default: not persisted)
--chars MODE       the power-on character mode setting: gb18030 (Chinese, the default) or
                   single-byte (code pages); kept in the settings
--fit on|off       fit symbols too wide for the paper (default on); kept in the settings
--mechanism NAME   ltp02-245 (default), jx-2r-01, pt486f-b
--real-time        run the mechanism in real time (demos); default virtual time
--feed-held        FEED held at power-on: print the self-test page first
--journal FILE     the journal's NOR flash image (kept between runs; default: no journal)
--journal-blocks N its size in 4 KiB blocks (default 16)
--copy-banner TEXT printed above and below a receipt printed again (default COPY)
--resume-at-line   after a fault, finish the receipt from the failed line instead of a copy
--idle-ms N        a receipt with no bytes for N ms ends there (default 0: never)
--idle-close-ms N  a sender idle for N ms while others wait is closed (default 30000; 0: never)
--line-port N      the data link as a serial line on <host>:N, for the pty bridge (default off)
--cut-at N         power cut at the Nth flash program or erase (tests)
--torn             ... and that operation is cut short, in a shape drawn from
--tear-seed N      this seed (default 0)
--stream-rows N    keep up to N dot lines for the control channel's live stream (0: no stream)
--first-receipt N  number the receipts from N (receipt-NNNN.png; default 1)
--service-port N   the service link on <host>:N (docs/service-protocol.md; default off)
--maintenance      FEED held 5 s at power-on: maintenance mode (a service key may be set)
--serial TEXT      the module's serial number (default SIM00001)
--update FILE      the update slot's NOR flash image (kept between runs; default: no slot)
--update-cut-at N  power cut at the Nth program or erase of the update slot (tests)

Exit status 75: the module restarted itself (an update); `tillroll sim` starts it again.
"""

import gc
import sys

_UPDATE_BLOCKS = const(48)  # the update slot: 192 KiB, as on the board (rp2_pico/flash_map.py)
_FLAGS = ("--real-time", "--feed-held", "--resume-at-line", "--torn", "--maintenance")


def _options(argv):
    opts = {
        "--data-port": "9100",
        "--host": "127.0.0.1",
        "--control-port": "0",
        "--render": None,
        "--out": "out",
        "--fonts": "firmware/fonts",
        "--flash": None,
        "--state": None,
        "--mechanism": "ltp02-245",
        "--journal": None,
        "--journal-blocks": "16",
        "--copy-banner": "COPY",
        "--idle-ms": "0",
        "--idle-close-ms": "30000",
        "--line-port": "0",
        "--cut-at": "0",
        "--chars": None,
        "--fit": None,
        "--stream-rows": "0",
        "--first-receipt": "1",
        "--tear-seed": "0",
        "--service-port": "0",
        "--serial": "SIM00001",
        "--update": None,
        "--update-cut-at": "0",
    }
    flags = set()
    i = 0
    while i < len(argv):
        if argv[i] in _FLAGS:
            flags.add(argv[i])
            i += 1
            continue
        if argv[i] not in opts or i + 1 >= len(argv):
            print(__doc__)
            raise SystemExit(2)
        opts[argv[i]] = argv[i + 1]
        i += 2
    for name, allowed in (("--chars", ("gb18030", "single-byte")), ("--fit", ("on", "off"))):
        if opts[name] is not None and opts[name] not in allowed:
            print("%s is one of %s" % (name, ", ".join(allowed)))
            raise SystemExit(2)
    return opts, flags


def _boot(opts, flags):
    """The board's boot code: the update slot's update, if it is to run, ahead of the firmware
    (tillroll/update/slot.py). Runs before any of the firmware's modules is imported."""
    from sim.flash import NorFlash, power_cut
    from tillroll import VERSION
    from tillroll.update import slot

    flash = NorFlash(
        opts["--update"],
        _UPDATE_BLOCKS,
        cut_at=int(opts["--update-cut-at"]),
        torn="--torn" in flags,
        tear_seed=int(opts["--tear-seed"]),
    )
    flash.on_cut = power_cut
    # The chip runs the image in place from flash; the unix port from a copy in RAM, made now
    # while the heap is in one piece. A module running its frozen firmware reads an update it
    # receives into it, to check its files.
    rom = bytearray(_UPDATE_BLOCKS * slot.BLOCK - slot.IMAGE_AT)
    ticket = slot.choose(flash, VERSION)
    if ticket is not None:
        flash.readblocks(slot.IMAGE_AT // slot.BLOCK, rom)
        slot.run_from(rom)
    return flash, rom


def main():
    opts, flags = _options(sys.argv[1:])
    update_flash, update_rom = _boot(opts, flags) if opts["--update"] else (None, None)
    from sim.board import MECHANISMS, SimBoard, mechanism
    from tillroll.app import App

    if opts["--mechanism"] not in MECHANISMS:
        print("unknown mechanism %s; one of %s" % (opts["--mechanism"], ", ".join(MECHANISMS)))
        raise SystemExit(2)
    try:
        board = _board(opts, flags, SimBoard, mechanism, update_flash, update_rom)
    except ValueError as e:  # a journal file that is not the size of its region
        print("tillroll sim: %s" % e)
        raise SystemExit(2) from None
    board.copy_banner = opts["--copy-banner"]
    board.resume_at_line = "--resume-at-line" in flags
    board.idle_ms = int(opts["--idle-ms"])
    board.idle_close_ms = int(opts["--idle-close-ms"])
    board.line_port = int(opts["--line-port"])
    board.service_port = int(opts["--service-port"])
    board.service = board.service_port > 0
    board.maintenance = "--maintenance" in flags
    board.serial = opts["--serial"]
    if int(opts["--control-port"]):
        # The control channel's code, compiled now while the heap is in one piece: after the
        # App it could not find the few KB in one piece its compiler asks for.
        import sim.control  # noqa: F401
    if board.service:
        # So is the service link's native CRC (frame.vpy), which the unix port compiles when
        # it is imported; a board has it frozen.
        import tillroll.service.frame  # noqa: F401
    gc.collect()  # compiling the modules left the heap in pieces: one piece again
    try:
        app = App(board)
        # Settings given on the command line are set as a technician sets them, then the
        # module starts as from power-on with them.
        if opts["--chars"] is not None:
            app.settings.set("chinese", 1 if opts["--chars"] == "gb18030" else 0)
        if opts["--fit"] is not None:
            app.settings.set("fit", 1 if opts["--fit"] == "on" else 0)
        app.layout.reset()
        app.run()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        board.close()


def _board(opts, flags, SimBoard, mechanism, update_flash, update_rom):
    return SimBoard(
        update_flash=update_flash,
        update_rom=update_rom,
        out_dir=opts["--out"],
        font_dir=opts["--fonts"],
        data_port=int(opts["--data-port"]),
        host=opts["--host"],
        render_path=opts["--render"],
        mechanism=mechanism(opts["--mechanism"]),
        control_port=int(opts["--control-port"]),
        state_dir=opts["--state"],
        real_time="--real-time" in flags,
        feed_held="--feed-held" in flags,
        nv_dir=opts["--flash"],
        journal_path=opts["--journal"],
        journal_blocks=int(opts["--journal-blocks"]),
        cut_at=int(opts["--cut-at"]),
        torn="--torn" in flags,
        stream_rows=int(opts["--stream-rows"]),
        first_receipt=int(opts["--first-receipt"]),
        tear_seed=int(opts["--tear-seed"]),
    )


def _start():
    try:
        main()
    except Exception as e:
        # A board resets when its firmware stops, and its boot code rolls an update on
        # trial back; the sim restarts when it was running one.
        import tillroll

        sys.print_exception(e)
        if tillroll.__file__.startswith("/app/"):
            print("restart")
            raise SystemExit(75) from None
        raise


_start()
