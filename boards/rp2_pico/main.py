"""Runs Tillroll at power-on (frozen as the image's main.py).

A production image has no REPL anywhere: if the firmware ever stops, the module restarts
rather than fall through to one. A development image keeps its REPL on its own USB interface
(usb_ports.py) and stops there, so the fault can be looked at.
"""

from rp2_pico import variant

try:
    from rp2_pico.board import Rp2PicoBoard
    from tillroll.app import App

    App(Rp2PicoBoard()).run()
finally:
    if not variant.DEVELOPMENT:
        import time

        import machine

        time.sleep_ms(500)
        machine.reset()
