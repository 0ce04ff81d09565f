"""Receipt verification codes (the `verify` setting, `tillroll journal verify`; docs/journal.md,
"Verification codes") on the simulated module, as a shop, a customer and an auditor meet
them: the code read off the printed slip (OCR) or its QR symbol (zxing-cpp) verifies against
the journal, a copy carries the same code, and a mistyped code, a code from another module, a
forged code and a receipt edited in the journal each fail with a clear message."""

from __future__ import annotations

import binascii
import csv
import json
import os
import re
import struct
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageOps
from test_service import Module, receipt, tillroll

from ocr import read_text
from tillroll_host import slip_code
from tillroll_host.service import ServiceLink, load_key
from tillroll_host.sim import send

SALE = receipt(b"Corner Shop 1843", b"Tea 1.20", b"Card ************1111", b"Thank you")


# What tesseract reads in place of a character of this font (misc-fixed 12x24): the letter O
# for 0 (which the code takes, as Crockford's does), Y for V, A for 4, T for 7, long dashes.
_OCR_READS = str.maketrans({"O": "0", "Y": "V", "A": "4", "T": "7", "\u2014": "-"})


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def printed_code(png: Path, code: slip_code.Code) -> str:
    """The code printed at the slip's foot, as tesseract reads it off the paper, checked to be
    `code`: but for the characters this font makes it misread, at most three characters
    wrong, missing or extra (tesseract's noise: it has read "1-7NFH-GCXH" as "AZ7NFH-GCKH";
    a code not printed is about 15 away; the QR symbol is read exactly in its own test)."""
    lines = read_text(png)
    found = [line for line in lines if line.startswith("VERIFY ")]
    assert len(found) == 1, lines
    read = found[0].removeprefix("VERIFY ")
    want = str(code).translate(_OCR_READS)
    assert _distance(read.translate(_OCR_READS), want) <= 3, (read, str(code))
    return read


def journal_code(m: Module, number: int, serial: str = "SIM00001") -> slip_code.Code:
    """The code of receipt `number` worked out on the host from the journal's bytes (read from
    the sim's flash), its time and the key `tillroll provision` kept."""
    key = load_key(Path(os.environ["TILLROLL_KEYS"]) / f"{serial}.key")
    with ServiceLink.open(m.url) as link:
        link.authenticate(key, set_clock=False)
        t = link.journal_info(number)["time"]
    data = m.sim.journal_bytes(number)
    assert data is not None
    return slip_code.make(key, serial, number, slip_code.journal_time(t), data)


def qr_texts(png: Path | Image.Image) -> list[str]:
    im = png if isinstance(png, Image.Image) else Image.open(png)
    im = ImageOps.expand(im.convert("L"), border=40, fill=255)
    return [r.text for r in zxingcpp.read_barcodes(im)]


def shop_module(root: Path, capsys, verify: int, serial: str = "SIM00001") -> Module:
    m = Module(root, serial=serial).__enter__()
    assert tillroll(capsys, "provision", "-p", m.url)[0] == 0
    code, _, err = tillroll(capsys, "settings", "set", f"verify={verify}", "-p", m.url)
    assert code == 0, err
    return m


@pytest.fixture
def keys(tmp_path: Path, monkeypatch) -> Path:
    d = tmp_path / "keys"
    monkeypatch.setenv("TILLROLL_KEYS", str(d))
    monkeypatch.chdir(tmp_path)  # `journal verify` writes the journal's copy here
    return d


def test_a_slips_code_verifies_and_its_copy_carries_the_same_code(tmp_path, keys, capsys):
    m = shop_module(tmp_path / "shop", capsys, verify=0)
    try:
        send(m.sim.data_port, SALE)
        assert not any(line.startswith("VERIFY") for line in read_text(m.sim.wait_receipt(1)))
        assert tillroll(capsys, "settings", "set", "verify=1", "-p", m.url)[0] == 0
        send(m.sim.data_port, SALE)
        slip = m.sim.wait_receipt(2)
        lines = read_text(slip)
        # After the receipt's last line, before the tear-off.
        assert lines[-2:] == ["Thank you", lines[-1]] and lines[-1].startswith("VERIFY 2-")
        code = journal_code(m, 2)
        printed_code(slip, code)
        typed = str(code).lower()  # as a customer might type it: any case

        copy_png = tmp_path / "journal-copy.png"
        status, out, err = tillroll(
            capsys, "journal", "verify", typed, "-p", m.url, "-o", str(copy_png)
        )
        assert status == 0, err
        assert out.splitlines()[0].startswith(f"receipt 2 matches code {code}: printed by")
        assert out.splitlines()[1] == f"the journal's copy: {copy_png}"
        assert "Tea 1.20" in read_text(copy_png)

        # The technician's reprint: marked COPY, the same code.
        assert tillroll(capsys, "journal", "reprint", "2", "-p", m.url)[0] == 0
        lines = read_text(m.sim.wait_receipt(3))
        copy = Image.open(m.sim.receipts[2])
        assert "COPY" in " ".join(read_text(copy.crop((0, 0, copy.width, 50)))), lines
        assert "Tea 1.20" in lines
        printed_code(m.sim.receipts[2], code)
        status, out, _ = tillroll(capsys, "journal", "verify", typed, "-p", m.url, "--json")
        assert (
            json.loads(out)
            == {
                "number": 2,
                "serial": "SIM00001",
                "time": json.loads(out)["time"],
                "state": "printed",
                "copy": "receipt-2.png",
                "match": True,
            }
            and json.loads(out)["time"]
        )
    finally:
        m.__exit__()


def test_the_qr_symbol_decodes_and_verifies_from_a_photo_of_the_slip(tmp_path, keys, capsys):
    m = shop_module(tmp_path / "shop", capsys, verify=2)
    try:
        send(m.sim.data_port, SALE)
        slip = m.sim.wait_receipt(1)
        (text,) = qr_texts(slip)
        assert re.fullmatch(r"TILLROLL SIM00001 1-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-.", text)
        # The symbol and the text say the same: the code the journal gives.
        code = journal_code(m, 1)
        assert text == f"TILLROLL SIM00001 {code}"
        printed_code(slip, code)
        # A phone's photo: twice the size, grey, a little askew.
        photo = tmp_path / "photo.png"
        im = Image.open(slip).convert("L")
        im = im.resize((im.width * 2, im.height * 2), Image.Resampling.BILINEAR)
        im.rotate(4, expand=True, fillcolor=255).point(lambda v: 60 + v * 3 // 4).save(photo)
        out_png = tmp_path / "copy.png"
        status, out, err = tillroll(
            capsys, "journal", "verify", "--image", str(photo), "-p", m.url, "-o", str(out_png)
        )
        assert status == 0, err
        assert out.startswith(f"receipt 1 matches code {slip_code.parse(text)}")
        # The copy carries the same QR symbol.
        assert tillroll(capsys, "journal", "reprint", "1", "-p", m.url)[0] == 0
        assert qr_texts(m.sim.wait_receipt(2)) == [text]
        # A picture without the symbol is one clear line.
        status, _, err = tillroll(
            capsys, "journal", "verify", "--image", str(out_png), "-p", m.url
        )
        assert (status, err) == (
            2, f"tillroll: {out_png}: no Tillroll verification QR code found\n"
        )  # fmt: skip
    finally:
        m.__exit__()


def test_wrong_codes_fail_saying_what_is_wrong(tmp_path, keys, capsys):
    m = shop_module(tmp_path / "shop", capsys, verify=1)
    other = shop_module(tmp_path / "other", capsys, verify=1, serial="SIM00002")
    try:
        send(m.sim.data_port, SALE)
        send(other.sim.data_port, SALE)  # the same sale, on another module
        m.sim.wait_receipt(1)
        other.sim.wait_receipt(1)
        good = str(journal_code(m, 1))
        theirs = journal_code(other, 1, serial="SIM00002")
        printed_code(other.sim.receipts[0], theirs)

        def verify(code: str) -> str:
            status, out, err = tillroll(capsys, "journal", "verify", code, "-p", m.url)
            assert status == 2 and out == "", (code, out, err)
            return err.removeprefix("tillroll: ").rstrip("\n")

        # One character changed, wherever it is.
        compact = str(slip_code.parse(good)).replace("-", "")
        for at in range(len(compact)):
            c = compact[at]
            wrong = "7" if c != "7" else "8"
            typed = compact[:at] + wrong + compact[at + 1 :]
            assert "the check character does not match: a character is mistyped" in verify(
                typed
            ), typed
        # Malformed codes: what is wrong is said.
        assert "too short" in verify("1-7ND0-QS7N")
        assert "'U' (character 4) is not a code character" in verify("1-7NU0-QS7N-HX8D-2")
        assert verify("") == "journal verify: give the CODE printed on the slip, or --image PNG"
        assert "is not a number" in verify("X1-7ND0-QS7N-HX8D-2")

        # A code from another module (another serial and key).
        assert verify(str(theirs)) == (
            f"code {theirs} is from another module than SIM00001 (the module on {m.url}): "
            "its module characters (the two after the number) name another serial number"
        )
        # A code made up for this module without its key: right form, wrong MAC.
        forged = slip_code.make(os.urandom(32), "SIM00001", 1, 0, b"Corner Shop 1843\n")
        assert verify(str(forged)).startswith(
            f"NO MATCH: code {forged} does not match receipt 1 of module SIM00001"
        )
        # A receipt the journal does not hold.
        n = slip_code.parse(good)
        missing = slip_code.Code(
            7, n.module, n.mac, slip_code.check(f"7{n.module}{n.mac}")
        )  # fmt: skip
        assert verify(str(missing)).startswith(
            "receipt 7 is not in the journal of module SIM00001 (its oldest is receipt 1)"
        )
    finally:
        other.__exit__()
        m.__exit__()


def _fix_record_crc(image: bytearray, at: int) -> None:
    """Give the record holding byte `at` of the journal image a CRC that matches its bytes
    again, as a forger who knows the format would (docs/journal.md, "On flash")."""
    block = at - at % 4096
    pos = block + 16
    while pos < block + 4096:
        length = struct.unpack_from("<H", image, pos + 2)[0]
        end = pos + 48 + length
        if pos <= at < end:
            struct.pack_into("<I", image, end, binascii.crc32(image[pos:end]))
            return
        pos = end + 4
    raise AssertionError("no record holds the byte")


def test_a_receipt_edited_in_the_journal_no_longer_matches_its_slip(tmp_path, keys, capsys):
    root = tmp_path / "shop"
    m = shop_module(root, capsys, verify=1)
    try:
        send(m.sim.data_port, SALE)
        m.sim.wait_receipt(1)
        typed = str(journal_code(m, 1))
        assert tillroll(capsys, "journal", "verify", typed, "-p", m.url)[0] == 0
    finally:
        m.__exit__()
    # While the module is off, the journal's copy of the sale is edited: 1.20 becomes 9.20,
    # with a record CRC that matches again.
    path = root / "journal.img"
    image = bytearray(path.read_bytes())
    at = image.find(b"Tea 1.20")
    assert at > 0 and image.find(b"Tea 1.20", at + 1) < 0
    image[at + 4] = ord("9")
    _fix_record_crc(image, at)
    path.write_bytes(bytes(image))
    with Module(root, maintenance=False) as m:
        status, out, err = tillroll(capsys, "journal", "verify", typed, "-p", m.url)
        assert status == 2 and out == "", out
        assert err == (
            f"tillroll: NO MATCH: code {slip_code.parse(typed)} does not match receipt 1 of "
            "module SIM00001: the journal's copy of it is not what the code was made for. The "
            "slip is not this receipt, or the slip or the journal's copy was altered\n"
        )
        shown = tmp_path / "edited.png"
        assert tillroll(capsys, "journal", "show", "1", "-p", m.url, "-o", str(shown))[0] == 0
        assert "Tea 9.20" in read_text(shown)  # the edit is what the journal now shows


def test_an_export_carries_the_codes_and_verifies_them_offline(tmp_path, keys, capsys):
    m = shop_module(tmp_path / "shop", capsys, verify=1)
    try:
        send(m.sim.data_port, SALE)
        send(m.sim.data_port, receipt(b"Corner Shop 1844", b"Coffee 2.50"))
        m.sim.wait_receipt(2)
        slips = [str(journal_code(m, 2)), str(journal_code(m, 1))]
        export = tmp_path / "audit"
        assert tillroll(capsys, "journal", "export", str(export), "-p", m.url)[0] == 0
    finally:
        m.__exit__()
    with (export / "index.csv").open() as f:
        index = list(csv.DictReader(f))
    assert [r["code"] for r in index] == [
        str(slip_code.parse(slips[1])),
        str(slip_code.parse(slips[0])),
    ]
    assert [r["serial"] for r in index] == ["SIM00001", "SIM00001"]
    # The module is gone (the journal moved on): the export and the key are enough.
    status, out, err = tillroll(capsys, "journal", "verify", slips[0], "--export", str(export))
    assert status == 0, err
    assert out.splitlines()[1] == f"the journal's copy: {export / 'receipt-000002.png'}"
    assert "Coffee 2.50" in read_text(export / "receipt-000002.png")

    def fails(code: str) -> str:
        status, out, err = tillroll(capsys, "journal", "verify", code, "--export", str(export))
        assert status == 2 and out == "", err
        return err.removeprefix("tillroll: ").rstrip("\n")

    data = export / "receipt-000002.bin"
    data.write_bytes(data.read_bytes().replace(b"2.50", b"0.50"))
    assert fails(slips[0]).startswith("NO MATCH: code ")
    n = slip_code.parse(slips[1])
    later = slip_code.Code(9, n.module, n.mac, slip_code.check(f"9{n.module}{n.mac}"))
    assert fails(str(later)) == f"receipt 9 is not in the export {export} (it holds 1 to 2)"
    (keys / "SIM00001.key").unlink()
    assert fails(slips[1]) == f"no key for module SIM00001 in {keys}: give --key FILE"
