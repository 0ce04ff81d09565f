"""The module under test, the same to a test on every target (docs/rig.md).

    sim    the unix-port sim (boards/sim): the firmware with the mechanism twin
    chip   the production image on the emulated RP2040, its pins driving the same twin
    rig    a module with the rig controller on its pins (emulated: two RP2040s), the paper
           rebuilt from what the controller captured

A test talks to the module as a POS terminal does, over its data link (a pyserial URL: a TCP
port here, a USB CDC port on a real module), and sees what came out on paper as a PNG. What a
target can do besides is in its `capabilities`; the pytest plugin (tillroll_host.pytest_plugin)
reports a test that needs more as not applicable.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import serial

from .errors import FatalError

# What a test may ask of a target, and what it means (the reason a test is not applicable).
CAPABILITIES = {
    "image": "see what was printed",
    "paper": "take the paper away and load it again",
    "cover": "open the printer's cover",
    "power": "cut the module's power and switch it on again",
    "service": "reach the module's service link",
    "update": "install a firmware update over the service link",
    "heat": "measure how long the head's strobes were",
    "reflash": "reflash the module through its boot ROM (BOOTSEL)",
}

_PROCESS_ID = b"\x1d(H\x06\x00\x30\x30"  # GS ( H fn 48: the ID comes back once printed
_PROCESS_ID_REPLY = b"\x37\x22"
_IDS = itertools.count(1)


def open_link(url: str, wait: float = 30.0, **options) -> serial.SerialBase:
    """A pyserial link to `url` with pyserial's `options`. A device that has just restarted (a
    power cut, an update) shows its port again only once it is up: opening is tried again for
    `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return serial.serial_for_url(url, **options)
        except (serial.SerialException, OSError) as e:
            if time.monotonic() > deadline:
                raise FatalError(f"no link at {url}: {e}") from e
            time.sleep(0.2)


class Target:
    """A module under test. `print(data)` sends a receipt and returns the paper it printed;
    `prints` keeps (what was sent, the PNG) for the report."""

    name = ""
    capabilities: frozenset[str] = frozenset()

    def __init__(self, work: Path):
        self.work = Path(work)
        self.prints: list[tuple[bytes, Path]] = []

    # ---- the links, as a POS terminal and a technician reach them --------------------------

    data_url = ""
    service_url = ""

    def open_data(self, timeout: float = 30.0) -> serial.SerialBase:
        """The data link, found again after a restart until `timeout` (open_link)."""
        return open_link(self.data_url, timeout, timeout=timeout)

    def send(self, data: bytes) -> None:
        with self.open_data() as link:
            link.write(data)
            link.flush()

    def ask(self, data: bytes, size: int, timeout: float = 10.0, link=None) -> bytes:
        """Send `data` and read the `size` bytes of its reply, on `link` if given (a sender
        waiting on a fault asks on its own link: the module serves one sender at a time)."""
        if link is None:
            with self.open_data() as link:
                return self.ask(data, size, timeout, link)
        link.timeout = timeout
        link.write(data)
        reply = link.read(size)
        if len(reply) < size:
            raise FatalError(f"{data!r} got {reply!r} in {timeout:.0f} s, not {size} bytes")
        return reply

    def print(self, data: bytes, timeout: float = 300.0) -> Path:
        """Send a receipt (its cut included), wait until the module says it is printed (its
        GS ( H process ID comes back) and return the paper that came out."""
        pid = b"H%03d" % (next(_IDS) % 1000)
        with self.open_data() as link:
            link.write(data + _PROCESS_ID + pid)
            link.timeout = timeout
            got = link.read_until(_PROCESS_ID_REPLY + pid)
        if not got.endswith(_PROCESS_ID_REPLY + pid):
            raise FatalError(f"the module did not print the receipt in {timeout:.0f} s: {got!r}")
        return self.next_paper(timeout, sent=data)

    def wait_online(self, timeout: float = 120.0) -> None:
        """Wait until DLE EOT 1 says online, as POS software does once a printer appears. A
        module whose USB is up before its firmware has started answers nothing yet; one that
        restarts meanwhile (its port hangs up) is found again."""
        deadline = time.monotonic() + timeout
        reply = b""
        while True:
            try:
                with self.open_data(max(1.0, deadline - time.monotonic())) as link:
                    while True:
                        # One question at a time: an answer that came after its reader gave up
                        # would be read as the next question's.
                        link.timeout = max(0.1, deadline - time.monotonic())
                        link.write(b"\x10\x04\x01")
                        reply = link.read(1)
                        if reply and not reply[0] & 0x08:
                            return
                        if time.monotonic() > deadline:
                            break
            except serial.SerialException:
                time.sleep(0.2)  # the port went away with a restart: open it again
            if time.monotonic() > deadline:
                raise FatalError(f"the module was not online in {timeout:.0f} s: {reply!r}")

    def next_paper(self, timeout: float = 300.0, sent: bytes = b"") -> Path:
        """The next receipt to come out (a copy after a fault is one), torn off, as a PNG."""
        png = self._paper(timeout)
        self.prints.append((sent, png))
        return png

    # ---- what each target does its own way -------------------------------------------------

    def start(self) -> Target:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def _paper(self, timeout: float) -> Path:
        raise NotImplementedError

    def steps(self) -> int:
        """The motor's steps so far: the paper moving."""
        raise NotImplementedError

    def heat(self) -> list[float]:
        """The last paper's activations: each one's strobe over the pulse the mechanism's
        datasheet asks for (tillroll_host.rig.energy_ratios)."""
        raise NotImplementedError

    def paper_out(self, after_lines: int = 0) -> None:
        raise NotImplementedError

    def load_paper(self) -> None:
        raise NotImplementedError

    def cover(self, is_open: bool) -> None:
        raise NotImplementedError

    def power_cycle(self) -> None:
        """Cut the power at once and switch it on again."""
        raise NotImplementedError

    def hold_feed(self, held: bool) -> None:
        """Press the FEED button (held) or let it go."""
        raise NotImplementedError

    def maintenance(self) -> None:
        """Start the module in maintenance mode, as a technician does to provision it: the
        power cut, FEED held down through power-on (5 s), let go once the module is online."""
        self.hold_feed(True)
        try:
            self.power_cycle()
            self.wait_online()
        finally:
            self.hold_feed(False)

    def wait_moving(self, steps: int, since: int, timeout: float = 120.0) -> None:
        """Wait until the paper has moved `steps` motor steps since `since` (a `steps()`)."""
        self._until(
            lambda: self.steps() - since >= steps,
            timeout,
            f"the paper did not move {steps} steps",
            every=0.1,
        )

    @staticmethod
    def _until(check, timeout: float, failure: str, every: float = 0.2) -> None:
        """Wait until `check()` holds, asking every `every` s; else "`failure` in T s"."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise FatalError(f"{failure} in {timeout:.0f} s")
            time.sleep(every)

    @staticmethod
    def _wait_rest(read, rest_s: float, deadline: float, settled=lambda now: True):
        """Wait until `read()` (the motor's steps, say) has stood `rest_s` and is `settled`."""
        last = read()
        while True:
            time.sleep(rest_s)
            now = read()
            if now == last and settled(now):
                return
            if time.monotonic() > deadline:
                raise FatalError(f"the paper did not come to rest in time: {now}")
            last = now

    def __enter__(self) -> Target:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class SimTarget(Target):
    """The unix-port sim with a journal, an update slot and a service link, at the
    mechanism's own pace. A power cut ends its process; it starts again on the same journal,
    its paper in a new folder (in maintenance mode while FEED is held)."""

    name = "sim"
    board = "sim"  # what an update bundle is built for
    capabilities = frozenset(CAPABILITIES) - {"heat", "reflash"}

    def __init__(self, work: Path):
        super().__init__(work)
        from .sim import free_port

        self.service_port = free_port()
        self.service_url = f"socket://127.0.0.1:{self.service_port}"
        self._data_port = free_port()
        self.data_url = f"socket://127.0.0.1:{self._data_port}"
        self._boots = 0
        self._taken = 0  # receipts of this boot returned so far
        self._sim = None
        self._feed_held = False

    @property
    def sim(self):
        """The running sim (tillroll_host.sim.SimModule)."""
        if self._sim is None:
            raise FatalError("the sim target has not been started")
        return self._sim

    def start(self) -> SimTarget:
        from .sim import SimModule

        self._boots += 1
        self._taken = 0
        args = ["--journal", str(self.work / "journal.img")]
        args += ["--update", str(self.work / "slot.img")]
        args += ["--maintenance"] if self._feed_held else []
        args += ["--service-port", str(self.service_port), "--serial", "SIM00001"]
        self._sim = SimModule(
            self.work / f"paper-{self._boots}",
            data_port=self._data_port,
            state_dir=self.work / "state",
            real_time=True,  # a fault or a power cut lands mid-receipt as on a module
            extra_args=args,
        ).start()
        return self

    def stop(self) -> None:
        if self._sim is not None:
            self._sim.stop()

    def _paper(self, timeout: float) -> Path:
        self._taken += 1
        return self.sim.wait_receipt(self._taken, timeout)

    def steps(self) -> int:
        return self.sim.counters()["twin"]["steps"]

    def paper_out(self, after_lines: int = 0) -> None:
        self.sim.paper_out(after_lines)

    def load_paper(self) -> None:
        self.sim.load_paper()

    def cover(self, is_open: bool) -> None:
        self.sim.open_cover(is_open)

    def power_cycle(self) -> None:
        self.sim.power_cut()
        self.start()

    def hold_feed(self, held: bool) -> None:
        self._feed_held = held  # the sim reads it at its start, as a board at power-on


class ChipTarget(Target):
    """The production image on the emulated RP2040, its head and motor pins printing on the
    sim's mechanism twin (docs/hardware.md, "The print path at the pins")."""

    name = "chip"
    board = "rp2_pico"
    capabilities = frozenset(CAPABILITIES) - {"heat", "reflash"}

    def __init__(self, work: Path, mechanism: str = "ltp02-245"):
        super().__init__(work)
        from .chip import ChipModule, image_path

        self.chip = ChipModule(
            self.work / "flash.bin",
            uf2=image_path(),
            twin=mechanism,
            paper=self.work / "paper",
            service=True,
        )
        self.data_url = f"socket://127.0.0.1:{self.chip.data_port}"
        self.service_url = f"socket://127.0.0.1:{self.chip.service_port}"
        self._pngs = itertools.count(1)
        self._torn_strobes = 0  # the head's strobes at the last tear-off

    def start(self) -> ChipTarget:
        self.chip.start()
        self.wait_online()  # its USB is up before the firmware has finished starting
        return self

    def stop(self) -> None:
        self.chip.stop()

    def _paper(self, timeout: float) -> Path:
        """Once the head has printed since the last tear-off and the paper has then stood a
        second and a half (the receipt and its feed to the bar done), what came out, torn
        off. (A chip that has just started moves its motor before it prints anything.)"""
        deadline = time.monotonic() + timeout
        self._until(lambda: self._strobes() != self._torn_strobes, timeout, "nothing was printed")
        self._wait_rest(self.steps, 1.5, deadline)
        png = self.work / f"receipt-{next(self._pngs):04d}.png"
        self._tear_off(png)
        return png

    def _tear_off(self, png: Path | None = None) -> None:
        if png is not None:
            self.chip.control("image", path=str(png))
        self.chip.control("tear_off")
        self._torn_strobes = self._strobes()

    def _strobes(self) -> int:
        return self.chip.control("mechanism")["twin"]["strobes"]

    def steps(self) -> int:
        return self.chip.control("mechanism")["pins"]["steps"]

    def paper_out(self, after_lines: int = 0) -> None:
        self.chip.control("paper_out", after=after_lines)

    def load_paper(self) -> None:
        self.chip.control("load_paper")

    def cover(self, is_open: bool) -> None:
        self.chip.control("cover", open=is_open)

    def power_cycle(self) -> None:
        """The paper that came out before the cut is torn off with it: what follows (a copy)
        is the next paper."""
        self._tear_off()
        self.chip.restart()

    def hold_feed(self, held: bool) -> None:
        self.chip.control("feed", held=held)


class RigTarget(Target):
    """A module and the rig controller wired to it (boards/rig_pico, docs/rig.md): the paper is
    what the controller captured on the head's lines, faults are its sensor lines and its power
    switch. Given the URLs of a real rig's links, those; else the production image and the
    controller's on two emulated RP2040s, their pins wired together."""

    name = "rig"
    board = "rp2_pico"
    capabilities = frozenset(CAPABILITIES)
    mechanism = "ltp02_245"  # what the module prints on: its steps a dot line, its heat
    REST_S = 3.0  # the paper is taken once the motor has stood so long (two chips emulated)

    def __init__(
        self,
        work: Path,
        data_url=None,
        service_url=None,
        rig_url=None,
        rig_drive=None,
        image: Path | None = None,
        twin: str | None = None,
    ):
        """Real: the three URLs, and where the host mounts the module's boot drive (default:
        the one RPI-RP2 drive mounted). Emulated: `image` (default: the production image) on
        the module, and with `twin` the sim's mechanism twin on its pins too, as an independent
        witness of what the rig saw."""
        super().__init__(work)
        self.drive = rig_drive
        self.chip = None
        if rig_url is None:
            from .rig import EmulatedRig

            emulated = EmulatedRig(self.work, image, twin)
            self.chip = emulated.module
            data_url, service_url, rig_url = emulated.urls().values()
        self.data_url, self.service_url, self.rig_url = data_url, service_url, rig_url
        self.rig = None
        self.captures = []  # (Capture, energy ratios) of each paper taken
        self._pngs = itertools.count(1)

    def start(self) -> RigTarget:
        from .rig import RigLink

        if self.chip is not None:
            self.chip.start()
        self.rig = RigLink(self.rig_url)
        for line, on in (("paper", True), ("near_end", True), ("cover", False), ("power", True)):
            self.rig.set(line, on)
        self.wait_online()
        self.rig.take()  # what the module did as it started
        return self

    def stop(self) -> None:
        if self.rig is not None:
            self.rig.close()
        if self.chip is not None:
            self.chip.stop()

    def _link(self):
        if self.rig is None:
            raise FatalError("the rig target has not been started")
        return self.rig

    def _paper(self, timeout: float) -> Path:
        from .rig import energy_ratios, head_temp_c, mechanism

        rig = self._link()
        if not rig.wait(lambda c: c.activations, timeout):
            raise FatalError(f"nothing was printed in {timeout:.0f} s")
        # Done once the motor has stood REST_S and the rig has sent every activation it saw
        # (its answer comes after them on the link).
        sent = ("activations", "overruns", "abandoned", "unstrobed")
        self._wait_rest(
            rig.counts,
            self.REST_S,
            time.monotonic() + timeout,
            settled=lambda now: now["latches"] == sum(now[k] for k in sent),
        )
        capture = rig.take()
        m, limit = mechanism(self.mechanism)
        temp = head_temp_c(rig.thermistor_mv(), m)
        ratios = energy_ratios(capture.activations, m, limit, rig.supply_mv(), temp)
        self.captures.append((capture, ratios))
        png = self.work / f"receipt-{next(self._pngs):04d}.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        png.write_bytes(capture.png(m.STEPS_PER_LINE, ratios))
        return png

    def steps(self) -> int:
        return self._link().steps()

    def heat(self) -> list[float]:
        if not self.captures:
            raise FatalError("no paper has been taken yet")
        return self.captures[-1][1]

    def paper_out(self, after_lines: int = 0) -> None:
        from .rig import mechanism

        rig = self._link()
        if not after_lines:
            rig.set("paper", False)
            return
        at = rig.steps() + after_lines * mechanism(self.mechanism)[0].STEPS_PER_LINE

        def roll_ends():
            if rig.wait(lambda c: c.steps >= at, 300):
                rig.set("paper", False)

        threading.Thread(target=roll_ends, daemon=True).start()

    def load_paper(self) -> None:
        self._link().set("paper", True)

    def cover(self, is_open: bool) -> None:
        self._link().set("cover", is_open)

    def power_cycle(self) -> None:
        """The power switched off and on again; the paper that came out before is torn off."""
        rig = self._link()
        rig.set("power", False)
        rig.take()
        time.sleep(0.2)
        rig.set("power", True)

    def hold_feed(self, held: bool) -> None:
        self._link().set("feed", held)

    def reflash(self, uf2: Path, timeout: float = 900.0) -> None:
        """Write `uf2` through the module's boot ROM, as a technician mends a module an update
        left unbootable: BOOTSEL held through a power cycle, let go once the ROM's drive is
        up, the file copied onto it. Returns once the ROM has taken every block and restarted
        (its drive gone) into the image, which may or may not come online."""
        rig = self._link()
        rig.set("bootsel", True)
        try:
            self.power_cycle()
            self._until(self._boot_drive, 60, "BOOTSEL held through a power-on: no boot drive")
        finally:
            rig.set("bootsel", False)
        if self.chip is not None:  # the emulator's USB host copies it, as a PC would
            self.chip.control("uf2_copy", timeout=timeout, path=str(Path(uf2).resolve()))
        else:
            from .flash import flash

            flash(Path(uf2), drive=self.drive, factory=True, yes=True, say=lambda line: None)
        self._until(lambda: not self._boot_drive(), 60, "the boot ROM did not restart")

    def _boot_drive(self) -> bool:
        """Whether the module's boot ROM is up as its USB drive (2e8a:0003, RPI-RP2)."""
        if self.chip is not None:
            return "2e8a:0003" in (self.chip.control("usb")["usb"] or "")
        from .flash import find_drives, is_bootsel_drive

        return is_bootsel_drive(Path(self.drive)) if self.drive else len(find_drives()) == 1


TARGETS = {"sim": SimTarget, "chip": ChipTarget, "rig": RigTarget}
