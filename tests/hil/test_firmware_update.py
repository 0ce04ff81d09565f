"""A firmware update as a technician installs it, on every target that takes one: the module
provisioned with its key, the maker's signed bundle sent over the service link with
`tillroll update`, and the module printing on the new firmware with its journal kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocr import read_text
from tillroll_host import bundle as bd
from tillroll_host import cli

TEST_KEY = Path(__file__).resolve().parents[1] / "keys" / "test-maker.key"


def tillroll(capsys, *argv: str) -> str:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


@pytest.mark.needs("update", "service", "image", "power")
def test_an_update_installs_and_the_module_prints_on_it(
    printer, tmp_path, monkeypatch, capsys, tesseract
):
    monkeypatch.setenv("TILLROLL_KEYS", str(tmp_path / "keys"))
    url = printer.service_url
    printer.maintenance()  # provisioning asks for it
    tillroll(capsys, "provision", "-p", url)
    before = read_text(printer.print(b"\x1b@BEFORE UPDATE\nTea 1.20\n\x1dV\x00"))
    assert before == ["BEFORE UPDATE", "Tea 1.20"], before
    bundle = tmp_path / "update.bundle"
    bundle.write_bytes(bd.build(printer.board, TEST_KEY, "0.2.0").to_bytes())
    out = tillroll(capsys, "update", str(bundle), "-p", url, "--wait", "300")
    assert out.splitlines()[-1].endswith("runs 0.2.0: confirmed a healthy start"), out
    status = json.loads(tillroll(capsys, "status", "-p", url, "--json"))
    assert status["firmware"] == "0.2.0", status
    after = read_text(printer.print(b"\x1b@AFTER UPDATE\nCoffee 2.50\n\x1dV\x00"))
    assert after == ["AFTER UPDATE", "Coffee 2.50"], after
    rows = json.loads(tillroll(capsys, "journal", "list", "-p", url, "--json"))
    assert [r["first_line"] for r in rows] == ["BEFORE UPDATE", "AFTER UPDATE"], rows
