"""Tillroll's pytest plugin: one suite, `tests/hil`, for every target (docs/rig.md).

    pytest tests/hil --target=sim     the unix-port sim
    pytest tests/hil --target=chip    the production image on the emulated RP2040
    pytest tests/hil --target=rig     a module with the rig controller on its pins: emulated
                                      (two RP2040s), or real with --rig-url and --data-url,
                                      or a labgrid place with --lg-env (tillroll_host.lab)
    pytest tests/hil                  the sim, and the tests marked `smoke` on the chip and
                                      the emulated rig too

A test takes the `printer` fixture, the module under test (tillroll_host.hil.Target), or
`data_link` and `service_link` (open links to it), and says what it needs beyond
the data link with `@pytest.mark.needs("power", ...)` (hil.CAPABILITIES); on a target without
it the test is reported as skipped, not applicable, with the reason. A test is retried only
where it asks (`@pytest.mark.flaky(reruns=N)`, pytest-rerunfailures). With `--html` each
test's report shows what it sent beside the paper that came out; `--junitxml` writes JUnit.

The same `--target` places the firmware's own tests (tests/conftest.py).
"""

from __future__ import annotations

import base64
import os

import pytest

from .hil import CAPABILITIES, TARGETS

TARGET_CHOICES = ("default", *TARGETS)
_PRINTER = pytest.StashKey()  # the test's started target, for its report


def pytest_addoption(parser):
    parser.addoption(
        "--target",
        choices=TARGET_CHOICES,
        default="default",
        help="where the module under test is: sim (the unix-port sim), chip (the emulated "
        "RP2040), rig (a module and the rig controller on its pins); default: the sim, and the "
        "tests marked smoke on the chip and the emulated rig too",
    )
    for name, what in (
        ("rig-url", "the rig controller's USB link"),
        ("data-url", "the module's data link (its first USB CDC port)"),
        ("service-url", "the module's service link (its last USB CDC port)"),
    ):
        parser.addoption(
            f"--{name}",
            help=f"--target=rig on a real rig: {what}, a pyserial URL (/dev/ttyACM0, "
            "rfc2217://host:port); without --rig-url the rig is emulated",
        )
    parser.addoption(
        "--rig-drive",
        help="--target=rig on a real rig: where the host mounts the module's RPI-RP2 drive "
        "when the rig holds it in BOOTSEL (default: the one RPI-RP2 drive mounted)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*capabilities): what the test needs of a target")
    config.addinivalue_line("markers", "smoke: also runs on the emulated chip in plain pytest")
    # Racks (docs/rig.md): pytest-xdist's n-th worker takes the n-th of TILLROLL_PLACES as its
    # labgrid place (a run without workers, the first), before labgrid reads its environment
    # (whose RemotePlace is $LG_PLACE).
    places = os.environ.get("TILLROLL_PLACES", "").split()
    if places:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        n = int(worker.removeprefix("gw"))
        if n >= len(places):
            raise pytest.UsageError(f"worker {worker}: TILLROLL_PLACES names {len(places)} places")
        os.environ["LG_PLACE"] = places[n]


def targets_for(config, smoke: bool) -> list[str]:
    chosen = config.getoption("target")
    if chosen != "default":
        return [chosen]
    return ["sim", "chip", "rig"] if smoke else ["sim"]


def pytest_generate_tests(metafunc):
    if "printer" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        if "printer" in str(mark.args[0]):
            return  # a test of its own that names a parameter `printer`
    smoke = metafunc.definition.get_closest_marker("smoke") is not None
    names = targets_for(metafunc.config, smoke)
    metafunc.parametrize("printer", names, indirect=True, ids=names)


@pytest.fixture
def printer(request, tmp_path):
    """The module under test, started for this test and stopped after it."""
    target = TARGETS[request.param]
    for mark in request.node.iter_markers("needs"):
        for need in mark.args:
            if need not in CAPABILITIES:
                raise pytest.UsageError(f"needs({need!r}): no such capability")
            if need not in target.capabilities:
                pytest.skip(
                    f"not applicable on {target.name}: the target cannot {CAPABILITIES[need]}"
                )
    urls = _rig_urls(request) if request.param == "rig" else {}
    with target(tmp_path / target.name, **urls) as started:
        request.node.stash[_PRINTER] = started
        yield started


def _rig_urls(request) -> dict[str, str]:
    """A real rig's links: --rig-url and --data-url, or the place in labgrid's environment
    (`--lg-env`, in labgrid's virtualenv: tillroll_host.lab). None: the rig is emulated."""
    config = request.config
    if config.getoption("rig_url"):
        urls = {
            k: config.getoption(k) for k in ("rig_url", "data_url", "service_url", "rig_drive")
        }
        if not urls["data_url"]:
            raise pytest.UsageError("--rig-url: give the module's --data-url too")
        return urls
    try:
        from labgrid.pytestplugin.hooks import LABGRID_ENV_KEY
    except ImportError:
        return {}  # no labgrid here
    if config.stash.get(LABGRID_ENV_KEY, None) is None:
        return {}
    from .lab import place_urls

    return place_urls(request.getfixturevalue("env"))  # labgrid's fixture


@pytest.fixture
def data_link(printer):
    """The module's data link, open, as a POS terminal holds it."""
    with printer.open_data() as link:
        yield link


@pytest.fixture
def service_link(printer):
    """The module's service link (docs/service-protocol.md), open, not yet authenticated."""
    if "service" not in printer.capabilities:
        pytest.skip(
            f"not applicable on {printer.name}: the target cannot {CAPABILITIES['service']}"
        )
    from .service import ServiceLink

    with ServiceLink.open(printer.service_url) as link:
        yield link


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    target = item.stash.get(_PRINTER, None)
    if report.when != "call" or target is None or not item.config.pluginmanager.hasplugin("html"):
        return
    from pytest_html import extras

    shown = list(getattr(report, "extras", []))
    for sent, png in target.prints:
        shown.append(extras.text(_escaped(sent), name=f"sent to the {target.name}"))
        if png.exists():
            shown.append(extras.png(base64.b64encode(png.read_bytes()).decode(), name=png.name))
    report.extras = shown


def _escaped(data: bytes, limit: int = 4000) -> str:
    """What was sent, printable text as it is and the rest as escapes."""
    text = "".join(chr(b) if 32 <= b < 127 or b == 10 else f"\\x{b:02x}" for b in data[:limit])
    return text + (f"\n... {len(data) - limit} bytes more" if len(data) > limit else "")
