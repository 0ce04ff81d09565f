"""The code is kept in one shape: ruff's lint and format, line length 99."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tillroll_host.paths import ROOT

RUFF = Path(sys.executable).parent / "ruff"


def test_ruff_lint_is_clean():
    done = subprocess.run([str(RUFF), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_leaves_nothing_to_change():
    done = subprocess.run(
        [str(RUFF), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
