"""Tillroll 58 on a Raspberry Pi Pico: builds every piece of hardware and hands it to the App.

WIRING (GPIO numbers of the RP2040; docs/hardware.md has the schematic notes)
    USB           data CDC (interface 0-1, the POS's COM port), printer class (interface 2),
                  REPL CDC on a development image only (interfaces 3-4), service CDC last
    FEED          at power-on: released within 5 s, the self-test page; held 5 s, maintenance
                  mode (the service link accepts a key: `tillroll provision`)
    UART0         GP0 TX, GP1 RX, GP2 CTS, GP3 RTS: ESC/POS at 115200 8N1; flow control by
                  the `flow` setting: hardware RTS/CTS (the default), XON/XOFF or none
    head          GP10 CLK, GP11 DAT, GP12 /LAT, GP13 STB (all strobe blocks, one line: the
                  engine divides by masking data), GP14 VH enable (head supply switch)
    motor         GP6 A+, GP7 A-, GP8 B+, GP9 B- (to the stepper driver's inputs)
    thermistor    ADC0 (GP26): head NTC (30 kOhm, B 3950) to GND, 30 kOhm to 3.3 V
    head supply   ADC1 (GP27): VH through 47 kOhm over 10 kOhm to GND
    head current  ADC2 (GP28): a 20 mOhm shunt in VH's ground return, amplified x20 (INA181A1):
                  0.4 mV a mA, 8.25 A full scale, 2 mA an LSB (a dot draws about 44 mA);
                  to be sampled once in each strobe (engine/sense.py): the head driver
                  (print_drivers.py) does not sample it yet, so it offers no `sense` and the
                  engine checks no head current on this board
    paper         GP20: photo sensor, high while paper is under it
    near end      GP21: roll sensor, high while more than the near-end length is left
    cover         GP22: switch to GND, low while the cover is closed
    FEED          GP19: button to GND (low while pressed)
    flash         2 MiB QSPI: firmware, fonts (ROMFS at /rom), littlefs at / (settings, the
                  journal's mark), the journal's own region (flash_map.py)
"""

import machine
import rp2

from rp2_pico import variant
from rp2_pico.flash_map import JOURNAL_AT, JOURNAL_BYTES, UPDATE_AT, UPDATE_BYTES
from tillroll.clock import RealClock

_ADC_FULL = const(65535)
_VREF_MV = const(3300)
_NTC_PULLUP = const(30000)  # ohms
_SUPPLY_TOP = const(47)  # the supply divider, kOhm
_SUPPLY_BOTTOM = const(10)
_TEAR_LINES = const(96)  # head to tear bar: 12 mm
_IDLE_MS = const(2000)
_UART_RXBUF = const(4096)  # a line's sender yields to another port after this long silent
_MAINTENANCE_MS = const(5000)  # FEED held this long at power-on: maintenance mode


class Sensors:
    """Paper, near end, cover, supply and thermistor, read when the engine asks."""

    def __init__(self, paper, near_end, cover, thermistor, supply):
        self._paper = paper
        self._near_end = near_end
        self._cover = cover
        self._thermistor = thermistor
        self._supply = supply

    def paper(self) -> bool:
        return self._paper.value() == 1

    def paper_near_end(self) -> bool:
        return self._near_end.value() == 0

    def cover_closed(self) -> bool:
        return self._cover.value() == 0

    def supply_mv(self) -> int:
        raw = self._supply.read_u16()
        return raw * _VREF_MV * (_SUPPLY_TOP + _SUPPLY_BOTTOM) // (_ADC_FULL * _SUPPLY_BOTTOM)

    def head_ohms(self) -> int:
        raw = self._thermistor.read_u16()
        if raw >= _ADC_FULL:
            return 10000000  # open: as cold as the table goes
        return _NTC_PULLUP * raw // (_ADC_FULL - raw)


class TearCounter:
    def __init__(self):
        self.receipts = 0

    def tear_off(self):
        self.receipts += 1


class Rp2PicoBoard:
    def __init__(self, mechanism="ltp02_245"):
        from rp2_pico.usb_ports import start_usb

        self.serial = "%08X" % (int.from_bytes(machine.unique_id(), "big") & 0xFFFFFFFF)
        # USB first: a development image's REPL is there even if what follows fails.
        self.usb = start_usb(self.serial, development=variant.DEVELOPMENT)
        self.mechanism = __import__("mechanisms." + mechanism, None, None, ("NAME",))
        self.clock = RealClock()
        from rp2_pico.print_drivers import PrintDrivers

        machine.Pin(14, machine.Pin.OUT, value=1)  # VH: the head's supply on
        drivers = PrintDrivers(self.mechanism, current=machine.ADC(28))
        self.head = drivers
        self.motor = drivers
        self.tear = TearCounter()
        self.tear_lines = _TEAR_LINES
        pull_up = machine.Pin.PULL_UP
        self.sensors = Sensors(
            machine.Pin(20, machine.Pin.IN),
            machine.Pin(21, machine.Pin.IN),
            machine.Pin(22, machine.Pin.IN, pull_up),
            machine.ADC(26),
            machine.ADC(27),
        )
        self.feed_held, self.maintenance = _feed_at_power_on(
            machine.Pin(19, machine.Pin.IN, pull_up)
        )
        self.font_dir = "/rom/fonts"
        self.settings_path = "/settings"
        self.nv_dir = "/nv"
        self.journal_flash = rp2.Flash(start=JOURNAL_AT, len=JOURNAL_BYTES)
        self.journal_mark_path = "/journal.mark"  # on littlefs, apart from the journal's region
        self.name = "rp2_pico"  # what an update bundle names as its board
        self.update_flash = rp2.Flash(start=UPDATE_AT, len=UPDATE_BYTES)
        self.copy_banner = "COPY"
        self.resume_at_line = False
        self.idle_ms = 0
        self.service = True  # the service link on its own CDC (docs/service-protocol.md)
        self.service_key_path = "/service.key"
        self.counters_path = "/counters"
        self.fault_log_path = "/faults"  # written only on a new fault (service/fault_log.py)
        self.wall_clock_known = False  # no battery clock: the host sets it
        self.uart = None  # made in serve(), with the flow control the settings name
        self._nv_dir_made()

    def update_rom(self, size):
        """The update slot's image, read in place (a buffer over flash)."""
        from tillroll.update.slot import IMAGE_AT

        return rp2.Flash(start=UPDATE_AT + IMAGE_AT, len=UPDATE_BYTES - IMAGE_AT)

    def restart(self):
        machine.reset()

    def _uart(self, flow: str):
        """UART0 with the `flow` setting's flow control: RTS/CTS by the UART itself (it
        deasserts RTS when its buffer fills), XON/XOFF by uart_stream.py, or none."""
        hardware = machine.UART.RTS | machine.UART.CTS if flow == "rtscts" else 0
        return machine.UART(
            0,
            115200,
            tx=machine.Pin(0),
            rx=machine.Pin(1),
            cts=machine.Pin(2),
            rts=machine.Pin(3),
            flow=hardware,
            rxbuf=_UART_RXBUF,
            timeout=0,
        )

    def _nv_dir_made(self):
        import os

        try:
            os.mkdir(self.nv_dir)
        except OSError:
            pass  # there already

    async def serve(self, app):
        from rp2_pico.ports import CdcPort, Port, UartPort, serve
        from tillroll.uart_stream import UartStream

        usb = self.usb
        if usb.repl is not None:
            import asyncio

            asyncio.create_task(usb.watch_repl())
        from tillroll.uart_stream import FLOWS

        flow = FLOWS[app.settings.values["flow"]]
        self.uart = self._uart(flow)
        uart = UartStream(self.uart, flow=flow, rxbuf=_UART_RXBUF)
        self.ports = [
            CdcPort("usb-cdc", usb.data, _IDLE_MS),
            Port("usb-printer", usb.printer, _IDLE_MS),
            UartPort("uart", uart, self.uart, _IDLE_MS),
        ]
        if app.service is not None and usb.service is not None:
            import asyncio

            from rp2_pico.ports import ServicePort, serve_service

            asyncio.create_task(serve_service(app.service, ServicePort(usb.service)))
        await serve(app, self.ports)


def _feed_at_power_on(feed):
    """(self-test, maintenance): FEED pressed at power-on and let go within 5 s prints the
    self-test page, as before; held 5 s, the module starts in maintenance mode instead."""
    import time

    if feed.value() != 0:
        return False, False
    start = time.ticks_ms()
    while feed.value() == 0:
        if time.ticks_diff(time.ticks_ms(), start) >= _MAINTENANCE_MS:
            return False, True
        time.sleep_ms(20)
    return True, False
