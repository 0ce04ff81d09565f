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

    try:
        if slot.choose(rp2.Flash(start=UPDATE_AT, len=UPDATE_BYTES), VERSION) is None:
            return
        image = rp2.Flash(start=UPDATE_AT + slot.IMAGE_AT, len=UPDATE_BYTES - slot.IMAGE_AT)
    except Exception as e:  # the slot must never keep the frozen firmware from running
        print("boot: update slot: %r" % e)
        return
    slot.run_from(image)


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
