"""Runs Tillroll at power-on (frozen as the image's main.py).

First the boot code: an update in the slot that is staged or good runs ahead of the frozen
firmware, one on trial that never confirmed is rolled back (tillroll/update/slot.py,
docs/update.md). This code is frozen and no update replaces it.

A production image has no REPL anywhere: if the firmware ever stops, the module restarts
rather than fall through to one. A development image keeps its REPL on its own USB interface
(usb_ports.py) and stops there, so the fault can be looked at.
"""

from rp2_pico import variant


def _boot():
    import rp2

    from rp2_pico.flash_map import UPDATE_AT, UPDATE_BYTES
    from tillroll import VERSION
    from tillroll.update import slot

    image = None
    try:
        if slot.choose(rp2.Flash(start=UPDATE_AT, len=UPDATE_BYTES), VERSION) is not None:
            image = rp2.Flash(start=UPDATE_AT + slot.IMAGE_AT, len=UPDATE_BYTES - slot.IMAGE_AT)
    except Exception as e:  # the slot must never keep the frozen firmware from running
        print("boot: update slot: %r" % e)
    if image is not None:
        slot.run_from(image)
    else:  # the frozen firmware: the boot code's modules leave the heap
        import sys

        for name in list(sys.modules):
            if name.startswith("tillroll"):
                del sys.modules[name]


try:
    _boot()
    from rp2_pico.board import Rp2PicoBoard
    from tillroll.app import App

    App(Rp2PicoBoard()).run()
finally:
    if not variant.DEVELOPMENT:
        import time

        import machine

        time.sleep_ms(500)
        machine.reset()
