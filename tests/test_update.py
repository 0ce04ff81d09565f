"""Signed updates on the simulated module (docs/update.md), as a technician meets them through
`tillroll update`: a bundle installs, restarts the module into the new version, which
confirms a healthy start, and the journal and settings stay; bad bundles are refused with one
clear line and change nothing; an update that does not start, or whose trial a power cut
ends, is rolled back; a dropped link resumes. The power-cut sweep (tests/firmware/
update_sweep.py) cuts an update at its flash operations under MicroPython: a sample here,
every one with `make powercut`."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import time
from pathlib import Path

import pytest
from test_service import receipt, tillroll

from tillroll_host import bundle as bd
from tillroll_host.paths import micropython, micropython_env
from tillroll_host.service import ServiceLink, load_key
from tillroll_host.sim import SimModule, free_port, send
from tillroll_host.update_cli import UPDATE_BLOCK, _begin, _call

TESTS = Path(__file__).resolve().parent
TEST_KEY = TESTS / "keys" / "test-maker.key"
FROZEN = "0.1.0"  # the firmware's own version (firmware/tillroll/__init__.py)
SALE = receipt(b"Corner Shop 1843", b"Tea 1.20", b"Thank you")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    """The bundles the tests send, built once: good ones and each kind of bad one."""
    d = tmp_path_factory.mktemp("bundles")
    out: dict[str, Path] = {}

    def put(name: str, b: bd.Bundle) -> None:
        out[name] = d / f"{name}.bundle"
        out[name].write_bytes(b.to_bytes())

    good = bd.build("sim", TEST_KEY, "0.2.0")
    put("0.2.0", good)
    put("0.3.0", bd.build("sim", TEST_KEY, "0.3.0"))
    put("0.0.9", bd.build("sim", TEST_KEY, "0.0.9"))
    put("rp2_pico", bd.build("rp2_pico", TEST_KEY, "0.2.0"))
    image = bytearray(good.image)
    image[len(image) // 2] ^= 0x01
    put("image-byte", bd.Bundle(good.manifest, good.signature, bytes(image)))
    manifest = bytearray(good.manifest)
    manifest[manifest.index(b'"0.2.0"') + 3] = ord("9")  # the version says 0.9.0
    put("manifest-byte", bd.Bundle(bytes(manifest), good.signature, good.image))
    other = d / "other.key"
    other.write_text(bd.new_signing_key().hex() + "\n")
    put("other-key", bd.sign(good.manifest, good.image, other))
    # Signed by the maker, but one file's hash is not its file's: the module checks each.
    info = json.loads(good.manifest)
    info["files"]["tillroll/app.mpy"] = "00" * 32
    text = json.dumps(info, sort_keys=True, separators=(",", ":")).encode()
    put("file-hash", bd.sign(text, good.image, TEST_KEY))
    # A build that stops at start: its App module raises when imported.
    sources = bd.firmware_files("sim", "0.2.1")
    sources["tillroll/app.py"] += '\nraise RuntimeError("a build that does not start")\n'
    put("broken", bd.build_from("sim", sources, TEST_KEY))
    return out


class Shop:
    """A provisioned simulated module with a journal and an update slot."""

    def __init__(self, root: Path, cut_at: int = 0):
        self.root = root
        self.service_port = free_port()
        self.url = f"socket://127.0.0.1:{self.service_port}"
        self.cut_at = cut_at
        self.sim = self._sim()

    def _sim(self, cut_at: int = 0) -> SimModule:
        args = [
            "--journal",
            str(self.root / "journal.img"),
            "--update",
            str(self.root / "slot.img"),
        ]
        args += ["--service-port", str(self.service_port), "--maintenance"]
        if cut_at:
            args += ["--update-cut-at", str(cut_at)]
        return SimModule(self.root / "out", state_dir=self.root / "state", extra_args=args)

    def power_on(self, cut_at: int = 0) -> SimModule:
        self.sim = self._sim(cut_at)
        return self.sim.start()

    def status(self) -> dict:
        with ServiceLink.open(self.url) as link:
            return link.status()


@pytest.fixture
def shop(tmp_path: Path, keys: Path, capsys):
    s = Shop(tmp_path)
    s.sim.start()
    code, _, err = tillroll(capsys, "provision", "-p", s.url)
    assert code == 0, err
    send(s.sim.data_port, SALE)
    s.sim.wait_receipt(1)
    # The journal marks it printed at its watch's next tick, a moment after the paper is out.
    deadline = time.monotonic() + 10
    while "printed" not in _journal(capsys, s):
        assert time.monotonic() < deadline, _journal(capsys, s)
        time.sleep(0.1)
    yield s
    s.sim.stop()


@pytest.fixture
def keys(tmp_path: Path, monkeypatch) -> Path:
    d = tmp_path / "keys"
    monkeypatch.setenv("TILLROLL_KEYS", str(d))
    return d


def _runs(capsys, shop: Shop) -> str:
    code, out, err = tillroll(capsys, "update", "--status", "-p", shop.url)
    assert code == 0, err
    return out.strip()


def _journal(capsys, shop: Shop) -> str:
    code, out, err = tillroll(capsys, "journal", "list", "-p", shop.url)
    assert code == 0, err
    return out


def test_an_update_installs_confirms_its_start_and_keeps_the_journal(shop, bundles, capsys):
    before = _journal(capsys, shop)
    assert "Corner Shop 1843" in before
    code, out, err = tillroll(capsys, "settings", "set", "density=110", "-p", shop.url)
    assert code == 0, err
    code, out, err = tillroll(capsys, "update", str(bundles["0.2.0"]), "-p", shop.url)
    assert code == 0, err
    assert out.splitlines() == [
        f"module SIM00001 runs {FROZEN} from its frozen firmware; sending 0.2.0 "
        f"({len(bd.Bundle.read(bundles['0.2.0']).image)} bytes)",
        "module SIM00001: 0.2.0 checked and staged; restarting into it",
        "module SIM00001 runs 0.2.0: confirmed a healthy start",
    ]
    assert shop.sim.restarts == 1
    assert (
        _runs(capsys, shop) == "module SIM00001 runs 0.2.0 from its update slot; slot: 0.2.0, good"
    )
    assert shop.status()["firmware"] == "0.2.0"
    assert _journal(capsys, shop) == before
    code, out, err = tillroll(capsys, "settings", "get", "-p", shop.url, "--json")
    assert code == 0 and json.loads(out)["density"] == 110, err
    # The new firmware prints.
    send(shop.sim.data_port, receipt(b"Corner Shop 1844", b"Coffee 2.50"))
    assert shop.sim.wait_receipt(2).exists()
    assert "Corner Shop 1844" in _journal(capsys, shop)


@pytest.mark.parametrize(
    "name, message",
    [
        ("image-byte", "image: SHA-256 differs from the manifest's"),
        ("manifest-byte", "signature: not signed by this module's maker key"),
        ("other-key", "signature: not signed by this module's maker key"),
        ("file-hash", "image: tillroll/app.mpy differs from the manifest"),
        (
            "0.0.9",
            f"version 0.0.9 is not newer than the running {FROZEN} (tillroll update --force installs it)",
        ),
        ("rp2_pico", "bundle for board rp2_pico; this module is sim"),
    ],
)
def test_a_bad_bundle_is_refused_with_one_line_and_changes_nothing(
    shop, bundles, capsys, name, message
):
    code, out, err = tillroll(capsys, "update", str(bundles[name]), "-p", shop.url)
    assert code != 0
    assert err == f"tillroll: {message}\n"
    assert shop.sim.restarts == 0
    assert _runs(capsys, shop).startswith(
        f"module SIM00001 runs {FROZEN} from its frozen firmware"
    )
    assert shop.status()["firmware"] == FROZEN
    assert "Corner Shop 1843" in _journal(capsys, shop)


def test_a_damaged_bundle_file_is_refused_before_anything_is_sent(shop, bundles, capsys, tmp_path):
    cut = tmp_path / "cut.bundle"
    cut.write_bytes(bundles["0.2.0"].read_bytes()[:-100])
    code, out, err = tillroll(capsys, "update", str(cut), "-p", shop.url)
    assert (code, out) == (2, "")
    assert err.startswith(f"tillroll: {cut}: cut short")
    other = tmp_path / "receipt.bin"
    other.write_bytes(SALE)
    code, out, err = tillroll(capsys, "update", str(other), "-p", shop.url)
    assert err == f"tillroll: {other}: not a Tillroll update bundle\n"


def test_an_older_version_installs_when_forced(shop, bundles, capsys):
    code, out, err = tillroll(capsys, "update", str(bundles["0.0.9"]), "--force", "-p", shop.url)
    assert code == 0, err
    assert out.splitlines()[-1] == "module SIM00001 runs 0.0.9: confirmed a healthy start"


def test_an_update_that_does_not_start_is_rolled_back(shop, bundles, capsys):
    code, out, err = tillroll(capsys, "update", str(bundles["broken"]), "-p", shop.url)
    assert code != 0
    assert err.endswith(
        f"tillroll: module SIM00001 rolled back to {FROZEN}: 0.2.1 did not confirm a healthy start\n"
    )
    assert "a build that does not start" in "\n".join(shop.sim.output)
    assert _runs(capsys, shop) == (
        f"module SIM00001 runs {FROZEN} from its frozen firmware; slot: 0.2.1, failed"
    )
    # The module is as before: it prints, and a good update installs.
    send(shop.sim.data_port, receipt(b"Corner Shop 1845"))
    shop.sim.wait_receipt(2)
    code, out, err = tillroll(capsys, "update", str(bundles["0.2.0"]), "-p", shop.url)
    assert code == 0, err


def _send_all_but_wait(url: str, path: Path, upto: int | None = None) -> None:
    """Begin an update and send its blocks up to byte `upto` (all, and finish, if None)."""
    b = bd.Bundle.read(path)
    with ServiceLink.open(url) as link:
        st = link.status()
        link.authenticate(load_key(Path(os.environ["TILLROLL_KEYS"]) / f"{st['serial']}.key"))
        assert not _begin(link, b, False)
        end = len(b.image) if upto is None else upto
        for off in range(0, end, 1024):
            _call(link, UPDATE_BLOCK, struct.pack("<I", off) + b.image[off : off + 1024])
        if upto is None:
            _call(link, 0x64)  # UPDATE_FINISH


def test_a_dropped_link_resumes_where_it_stopped(shop, bundles, capsys):
    _send_all_but_wait(shop.url, bundles["0.2.0"], upto=40 * 1024)
    code, out, err = tillroll(capsys, "update", str(bundles["0.2.0"]), "-p", shop.url)
    assert code == 0, err
    assert "resuming at byte 40960" in out.splitlines()
    assert out.splitlines()[-1] == "module SIM00001 runs 0.2.0: confirmed a healthy start"


def test_a_power_cut_during_the_trial_start_rolls_back(shop, bundles, capsys):
    _send_all_but_wait(shop.url, bundles["0.2.0"])
    shop.sim.wait_restarted(1)
    assert "boot: update 0.2.0 (trial)" in shop.sim.output
    shop.sim.power_cut()  # within the 5 s before it confirms
    shop.power_on()
    assert f"boot: update 0.2.0 did not confirm; frozen {FROZEN}" in shop.sim.output
    assert _runs(capsys, shop) == (
        f"module SIM00001 runs {FROZEN} from its frozen firmware; slot: 0.2.0, failed"
    )
    assert "Corner Shop 1843" in _journal(capsys, shop)


def test_an_update_over_an_update_restarts_into_the_frozen_firmware_first(shop, bundles, capsys):
    code, out, err = tillroll(capsys, "update", str(bundles["0.2.0"]), "-p", shop.url)
    assert code == 0, err
    code, out, err = tillroll(capsys, "update", str(bundles["0.3.0"]), "-p", shop.url)
    assert code == 0, err
    lines = out.splitlines()
    assert "module SIM00001 restarts into its frozen firmware to take the update" in lines
    assert lines[-1] == "module SIM00001 runs 0.3.0: confirmed a healthy start"
    code, out, err = tillroll(capsys, "update", "--remove", "-p", shop.url)
    assert (code, out) == (
        0,
        "module SIM00001: update slot cleared; restarting into its frozen firmware\n",
    ), err
    shop.sim.wait_restarted(4)
    assert _runs(capsys, shop) == f"module SIM00001 runs {FROZEN} from its frozen firmware"


def test_a_power_cut_in_the_middle_of_an_update_boots_the_old_firmware(
    tmp_path, keys, bundles, capsys
):
    shop = Shop(tmp_path)
    shop.power_on(cut_at=60)  # the slot's 60th program or erase: about 45 KB in
    try:
        code, _, err = tillroll(capsys, "provision", "-p", shop.url)
        assert code == 0, err
        send(shop.sim.data_port, SALE)
        shop.sim.wait_receipt(1)
        code, out, err = tillroll(
            capsys, "update", str(bundles["0.2.0"]), "--wait", "3", "-p", shop.url
        )
        assert code != 0 and "power cut" in shop.sim.output
        shop.power_on()
        assert _runs(capsys, shop).startswith(f"module SIM00001 runs {FROZEN} from its frozen")
        assert "Corner Shop 1843" in _journal(capsys, shop)
        code, out, err = tillroll(capsys, "update", str(bundles["0.2.0"]), "-p", shop.url)
        assert code == 0, err
    finally:
        shop.sim.stop()


# ---- the power-cut sweep ------------------------------------------------------------------------


def _sweep(d: Path, b: bd.Bundle, every: int, tears: int, base: Path | None = None) -> list[str]:
    d.mkdir(parents=True, exist_ok=True)
    (d / "manifest").write_bytes(b.manifest)
    (d / "signature").write_bytes(b.signature)
    (d / "image").write_bytes(b.image)
    (d / "key").write_bytes(bd.public_key(bd.load_signing_key(TEST_KEY)))
    (d / "frozen").write_text(FROZEN + "\n")
    if base is not None:
        (d / "slot.img").write_bytes(base.read_bytes())
    env = {**os.environ, **micropython_env()}
    firmware_tests = TESTS / "firmware"
    env["MICROPYPATH"] = f"{firmware_tests}:{TESTS}:" + env["MICROPYPATH"]
    done = subprocess.run(
        [micropython(), "-X", "heapsize=1M", str(firmware_tests / "update_sweep.py"), str(d)]
        + ["1", "100000", str(every), str(tears)],
        capture_output=True,
        text=True,
        timeout=3600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    return [ln for ln in done.stdout.splitlines() if not ln.startswith(("boot:", "update "))]


_FULL = os.environ.get("TILLROLL_SWEEP_FULL") == "1"  # make powercut: every operation


def test_an_update_cut_at_its_flash_operations_boots_the_old_or_the_new_firmware(
    tmp_path, bundles
):
    every, tears = (1, int(os.environ.get("TEARS", "2"))) if _FULL else (9, 1)
    lines = _sweep(tmp_path / "fresh", bd.Bundle.read(bundles["0.2.0"]), every, tears)
    ops = int(lines[0].split()[1])
    points = [ln.split() for ln in lines[1:]]
    print(f"{len(points)} cut points of {ops} operations")
    assert len(points) >= ops // every * (1 + tears)
    boots = {(p[3], p[4]) for p in points}
    assert boots <= {(FROZEN, FROZEN), ("0.2.0", FROZEN), ("0.2.0", "0.2.0")}, boots
    # An update that was in the slot already: 0.3.0 over 0.2.0.
    base = tmp_path / "fresh" / "sweep-slot.img"  # 0.2.0, installed by the sweep's last step
    lines = _sweep(tmp_path / "over", bd.Bundle.read(bundles["0.3.0"]), every * 3, 0, base)
    boots = {(p[3], p[4]) for p in (ln.split() for ln in lines[1:])}
    assert boots <= {
        (v, w) for v in (FROZEN, "0.2.0", "0.3.0") for w in (FROZEN, "0.2.0", "0.3.0")
    }


def test_keygen_makes_a_maker_key_whose_bundles_carry_it(tmp_path, capsys):
    key = tmp_path / "maker.key"
    code, out, err = tillroll(capsys, "keygen", "-o", str(key))
    assert code == 0, err
    public = (tmp_path / "maker.pub").read_text().strip()
    assert out.splitlines() == [
        f"maker key in {key}; public key {public} in {tmp_path / 'maker.pub'}",
        f"build images that take its updates: make firmware MAKER_KEY={tmp_path / 'maker.pub'}",
    ]
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    code, out, err = tillroll(capsys, "keygen", "-o", str(key))
    assert (code, err) == (
        2,
        f"tillroll: {key} exists: a maker key is never overwritten (--force to do it)\n",
    )
    # An image staged with it, and a bundle it signs, take updates from it and from no other.
    files = bd.firmware_files("sim", None, maker_key=bytes.fromhex(public))
    text = files["tillroll/update/maker_key.py"]
    assert f'PUBLIC_KEY = "{public}"' in text and "TEST_KEY = False" in text
    from tillroll_host.image import main as image_main

    assert (
        image_main(["stage", str(tmp_path / "frozen"), "--maker-key", str(tmp_path / "maker.pub")])
        == 0
    )
    staged = (tmp_path / "frozen" / "tillroll" / "update" / "maker_key.py").read_text()
    assert staged == text


def test_a_link_taken_just_as_the_module_restarts_is_taken_again(monkeypatch):
    # The port is there a moment longer than the module: the first request on it drops
    # (seen on the emulated chip as it restarted into an update it had just staged).
    import time

    from tillroll_host import update_cli
    from tillroll_host.errors import FatalError
    from tillroll_host.service import OK

    class Dropping:
        closed = False

        def request(self, command, payload=b""):
            raise FatalError("read failed: socket disconnected")

        def close(self):
            self.closed = True

    class Answering(Dropping):
        def request(self, command, payload=b""):
            return OK, b'{"running": "0.2.0", "from": "update"}'

    links = [Dropping(), Answering()]
    dropped = links[0]
    monkeypatch.setattr(update_cli, "_link", lambda args: links.pop(0))
    link, st = update_cli._connect(None, time.monotonic() + 5)
    assert isinstance(link, Answering) and dropped.closed and not links
    assert st == {"running": "0.2.0", "from": "update"}
