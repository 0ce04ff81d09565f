"""The chip's test lists (tests/chip_target.py) hold: what stays on the unix port names real
tests, and the smoke subset `make test` runs on the emulated RP2040 calls the native code of
every firmware module that has any."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

from chip_target import SMOKE, UNIX_ONLY
from tillroll_host.paths import FIRMWARE, FONTS, micropython, micropython_env

TESTS = Path(__file__).parent
FIRMWARE_TESTS = TESTS / "firmware"


def _tests(module: str) -> set[str]:
    tree = ast.parse((FIRMWARE_TESTS / f"{module}.py").read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name[:5] == "test_"}


def test_what_stays_on_the_unix_port_and_the_smoke_subset_name_real_tests():
    for key in UNIX_ONLY:
        module, _, test = key.partition(".")
        assert (FIRMWARE_TESTS / f"{module}.py").exists(), key
        assert not test or test in _tests(module), key
    for module, tests in SMOKE.items():
        assert tests and set(tests) <= _tests(module), (module, set(tests) - _tests(module))
        assert module not in UNIX_ONLY and not {f"{module}.{t}" for t in tests} & set(UNIX_ONLY)


def _native_calls(module: str, test: str) -> set[str]:
    """The firmware's .vpy files whose viper functions `test` calls, on the unix port."""
    env = {**os.environ, **micropython_env(), "TILLROLL_NATIVE_CALLS": "1"}
    env["MICROPYPATH"] = f"{FIRMWARE_TESTS}:{TESTS}:" + env["MICROPYPATH"]
    env["TILLROLL_FONTS"] = str(FONTS)
    done = subprocess.run(
        [micropython(), "-X", "heapsize=384k", str(TESTS / "mp_runner.py"), module, test],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=FIRMWARE_TESTS,
    )
    assert "PASS" in done.stdout, done.stdout + done.stderr
    found = set()
    for line in done.stdout.splitlines():
        if line.startswith("native: ") and "/tillroll/" in line:
            found.add("tillroll/" + line.split("/tillroll/", 1)[1].removesuffix(".vpy"))
    return found


def test_the_smoke_subset_calls_every_firmware_module_with_native_code():
    # The same test code runs on the chip, so what it calls here it calls there: every viper
    # and native module runs on the Cortex-M0+ in `make test`.
    wanted = {
        str(p.relative_to(FIRMWARE).with_suffix(""))
        for p in (FIRMWARE / "tillroll").rglob("*.vpy")
    }
    assert len(wanted) > 10, wanted
    covered: set[str] = set()
    for module, tests in SMOKE.items():
        for test in tests:
            covered |= _native_calls(module, test)
    assert wanted <= covered, f"no smoke test calls the native code of {sorted(wanted - covered)}"


def test_the_native_call_report_names_nothing_for_a_test_without_native_code():
    # The control for the test above: a test of a table alone reports no native code called.
    test = "test_every_pattern_is_4_bars_and_4_spaces_of_1_to_6_modules_in_its_cluster"
    assert _native_calls("mp_pdf417_tables", test) == set()
