"""The module's USB device, set up at run time (the image has no built-in USB serial).

Interfaces, in this order, so POS software that opens "the first COM port" gets the data link:
    0-1  data CDC: ESC/POS in, status replies out
    2    printer class: ESC/POS for operating systems' printing stacks
    3-4  REPL CDC: on a development image only (its REPL through os.dupterm)
    then the service CDC: the technician's link (docs/service-protocol.md), the last interface
A production image offers no REPL on any interface.
"""

import asyncio
import os

import usb.device
from usb.device.cdc import CDCInterface

from rp2_pico.printer_class import PrinterInterface

_REPL_POLL_MS = const(20)
DEVICE_ID = "MFG:Tillroll;MDL:Tillroll 58;CMD:ESC/POS;CLS:PRINTER;DES:Tillroll 58 receipt printer;"


class UsbPorts:
    def __init__(self, data, printer, repl, service=None):
        self.data = data
        self.printer = printer
        self.repl = repl
        self.service = service

    async def watch_repl(self):
        """While the firmware runs, MicroPython reads a dupterm stream only when told: hand it
        what arrives on the REPL CDC, so Ctrl-C (03h) stops the firmware and leaves the REPL
        there, as on any MicroPython board. From a task, not from the USB callback, so the
        KeyboardInterrupt lands in the firmware's main loop rather than in that callback."""
        repl = self.repl
        while True:
            if repl._rb.readable():
                os.dupterm_notify(None)  # pyright: ignore[reportAttributeAccessIssue]
            await asyncio.sleep_ms(_REPL_POLL_MS)


def start_usb(serial: str, development: bool) -> UsbPorts:
    data = CDCInterface()
    data.init(timeout=0, rxbuf=1024, txbuf=1024)  # never block: a reply that won't fit is dropped
    printer = PrinterInterface(DEVICE_ID)
    itfs = [data, printer]
    repl = None
    if development:
        repl = CDCInterface()
        repl.init(timeout=0)
        itfs.append(repl)
    # Frames of up to 2 KB come and go through these buffers a piece at a time.
    service = CDCInterface()
    service.init(timeout=0, rxbuf=512, txbuf=512)
    itfs.append(service)
    usb.device.get().init(
        *itfs,
        builtin_driver=False,
        manufacturer_str="Tillroll",
        product_str="Tillroll 58",
        serial_str=serial,
        max_power_ma=100,
    )
    if repl is not None:
        os.dupterm(repl)
    return UsbPorts(data, printer, repl, service)
