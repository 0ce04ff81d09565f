"""`tillroll deploy` on the emulated chip: through mpremote's raw REPL, the working tree's
firmware goes into a development image's update slot and runs after the restart; stock
MicroPython is refused with the reason (docs/technician.md, "Deploying to a development
board").

Each test boots the chip once (`--idle skip`: waits take no wall time). The deploy takes
about two minutes of wall time on the emulated chip, most of it the image's 39 blocks
through the REPL; the refusal a few seconds.
"""

from __future__ import annotations

from test_chip import CUT, exchange

from tillroll_host import deploy
from tillroll_host.chip import ChipModule, image_path
from tillroll_host.chip_repl import ChipRepl
from tillroll_host.cli import main as tillroll
from tillroll_host.paths import ROOT

STOCK_UF2 = ROOT / "out" / "rp2" / "stock" / "firmware.uf2"


def test_a_deploy_runs_the_new_version_after_the_restart_and_it_prints(tmp_path, capsys):
    chip = ChipModule(
        tmp_path / "flash.bin",
        uf2=image_path(development=True),
        repl=True,
        extra_args=["--idle", "skip"],
    )
    with chip:
        url = f"socket://127.0.0.1:{chip.repl_port}"
        assert tillroll(["deploy", "-p", url, "--version", "0.2.0"]) == 0
        out = capsys.readouterr().out
        assert "Tillroll 0.1.0 (frozen in its image)" in out, out
        assert "fonts: the same as fonts.romfs (SHA-256), kept" in out, out
        assert "boot code: frozen in the image, kept" in out, out
        assert "the module runs 0.2.0: it confirmed a healthy start" in out, out

        receipt = b"\x1b@DEPLOYED 0.2.0\nTea 1.80\n" + CUT
        pid = b"DP01"
        reply = exchange(chip.data_port, receipt + b"\x1d(H\x06\x00\x30\x30" + pid, want=7)
        assert reply == b"\x37\x22" + pid + b"\x00", reply  # GS ( H: printed and on flash

        repl = ChipRepl(chip)
        repl.connect()  # stops the firmware: the receipt is done
        answer = repl.run(
            "import tillroll\nfrom tillroll.update import slot\n"
            "from rp2_pico.board import Rp2PicoBoard\n"
            "print(tillroll.VERSION, tillroll.__file__)\n"
            "import rp2\nfrom rp2_pico.flash_map import UPDATE_AT, UPDATE_BYTES\n"
            "print(slot.STATES[slot.state(rp2.Flash(start=UPDATE_AT, len=UPDATE_BYTES))[0]])\n"
        )
        repl.close()
    version, path, state = answer.split()
    assert (version, state) == ("0.2.0", "good"), answer
    assert path.startswith("/app/tillroll/"), answer  # from the slot, not the frozen modules


def test_stock_micropython_is_refused_with_the_reason(tmp_path, capsys):
    # The Pico's stock build has a REPL on its first CDC interface, no Tillroll and no ROMFS.
    with ChipModule(tmp_path / "flash.bin", uf2=STOCK_UF2, extra_args=["--idle", "skip"]) as chip:
        url = f"socket://127.0.0.1:{chip.data_port}"
        assert tillroll(["deploy", "-p", url]) == 2
        # and its REPL is as it was: nothing was installed
        assert b"42" in exchange(chip.data_port, b"\r\x02print(6 * 7)\r\n", quiet=1.0)
    err = capsys.readouterr().err
    assert "is stock MicroPython" in err and "no ROMFS partition" in err, err
    assert "bytes of heap free" in err, err
    assert "tillroll flash out/firmware/tillroll-rp2_pico-dev.uf2" in err, err
    assert err.count("\n") == 1, err  # one line, no traceback


def test_a_port_with_no_repl_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    # A production image: its data interface answers ESC/POS, never a REPL. (Its firmware is
    # up when the chip is ready: no need to wait the 20 s a starting firmware may take.)
    monkeypatch.setattr(deploy, "_ENTER_S", 3.0)
    with ChipModule(tmp_path / "flash.bin", uf2=image_path(), extra_args=["--idle", "skip"]) as c:
        assert tillroll(["deploy", "-p", f"socket://127.0.0.1:{c.data_port}"]) == 2
    err = capsys.readouterr().err
    assert "no MicroPython REPL answered" in err and "tillroll update" in err, err
    assert err.count("\n") == 1, err


def test_the_help_says_what_deploy_does(capsys):
    try:
        tillroll(["deploy", "--help"])
    except SystemExit:
        pass
    text = " ".join(capsys.readouterr().out.split())
    assert "development image" in text and "update slot" in text and "socket://" in text
