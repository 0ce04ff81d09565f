"""The service link on the emulated RP2040: the production image's own USB CDC interface, after
the data interface, answers `tillroll status` without a key and the journal only with the key
given in maintenance mode, which it keeps in its flash across a power cycle; the interface is
also a pseudo-terminal that the CLI opens as it would /dev/ttyACM1 (docs/service-protocol.md).

These boot the UF2 files `make firmware` writes (`make test` builds them first)."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

from tillroll_host import cli
from tillroll_host.chip import ChipModule, image_path
from tillroll_host.pty_bridge import PtyBridge
from tillroll_host.sim import send

CUT = b"\x1dV\x00"


def tillroll(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def wait_running(chip: ChipModule) -> None:
    """The firmware is up once it answers DLE EOT 1 on the data interface (USB is ready
    earlier, while the firmware is still starting)."""
    with socket.create_connection(("127.0.0.1", chip.data_port), timeout=120) as s:
        s.sendall(b"\x10\x04\x01")
        assert len(s.recv(1)) == 1


def test_status_and_journal_over_the_chips_service_interface(tmp_path: Path, monkeypatch, capsys):
    keys = tmp_path / "keys"
    monkeypatch.setenv("TILLROLL_KEYS", str(keys))
    chip = ChipModule(tmp_path / "flash.bin", uf2=image_path(), service=True, feed_held=True)
    with chip:
        usb = chip.control("usb")["usb"]
        # The data CDC stays the first interface; the service CDC comes after the printer's.
        assert "cdc interface 0" in usb and "printer interface 2" in usb, usb
        assert usb.count("cdc interface") == 2 and "cdc interface 3" in usb, usb
        url = f"socket://127.0.0.1:{chip.service_port}"
        wait_running(chip)

        code, out, err = tillroll(capsys, "status", "-p", url)
        assert code == 0, err
        lines = dict(line.split(None, 1) for line in out.splitlines())
        assert re.fullmatch(r"Tillroll 58 serial [0-9A-F]{8}, firmware \S+", lines["module"])
        serial = lines["module"].split()[3].rstrip(",")
        assert lines["faults"] == "none" and lines["paper"] == "loaded"
        assert lines["supply"] == "8.50 V" and lines["cover"] == "closed"
        assert lines["key"] == "NOT provisioned, maintenance mode"
        assert lines["clock"].startswith("time unknown")  # no battery clock, nobody set it

        code, _, err = tillroll(capsys, "journal", "list", "-p", url)
        assert (code, err) == (
            2,
            f"tillroll: no key for module {serial} in {keys}: give --key FILE\n",
        )
        code, out, err = tillroll(capsys, "provision", "-p", url)
        assert (
            code == 0
            and out == f"module {serial} provisioned; its key is in {keys}/{serial}.key\n"
        ), err

        send(chip.data_port, b"\x1b@Corner Shop 1843\nTea 1.20\n" + CUT)
        deadline = time.monotonic() + 120
        while True:  # until it is on paper and the journal says so
            rows = json.loads(tillroll(capsys, "journal", "list", "-p", url, "--json")[1])
            if rows and rows[0]["state"] == "printed":
                break
            assert time.monotonic() < deadline, rows
            time.sleep(1)
        chip.restart()  # the key is in the chip's littlefs; the journal in its own region
        wait_running(chip)

        bridge = PtyBridge(chip.service_port).start()
        try:
            code, out, err = tillroll(capsys, "journal", "list", "-p", bridge.path)
        finally:
            bridge.stop()
        assert code == 0, err
        # Printed before any host set the clock (provisioning does not): no time on it.
        assert out.split() == ["1", "time", "unknown", "printed", "Corner", "Shop", "1843"]
        code, out, err = tillroll(capsys, "status", "-p", url)
        assert "clock      20" in out  # the CLI set the clock on authenticating
