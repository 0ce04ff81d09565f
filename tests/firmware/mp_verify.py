"""Receipt verification codes under MicroPython (firmware/tillroll/journal/verify.py): the
firmware makes the same code as the host (host/tillroll_host/slip_code.py gave the values
below), from a receipt's records as the journal holds them, and its check character catches a
wrong character or two swapped. The printed code and its checks end to end are in
tests/test_verify.py."""

import os

from sim.flash import NorFlash
from tillroll.journal import verify
from tillroll.journal.journal import Journal

_IMAGE = "/tmp/tillroll-mp-verify.bin"

KEY = bytes(range(32))
DATA = b"\x1b@Corner Shop 1843\nTea 1.20\n\x1dV\x00"


def test_the_code_is_the_one_the_host_computes():
    tag = verify.mac(KEY, "SIM00001", 1843, 99999, len(DATA), (DATA[:5], DATA[5:]))
    assert verify.code("SIM00001", 1843, tag) == "1843-7NX1-A27K-1VFV-T"
    assert verify.code(
        "E6614C311B7A2C2B", 1, verify.mac(KEY, "E6614C311B7A2C2B", 1, 0, 0, ())
    ) == ("1-MYMF-AF5A-QQ3K-F")
    assert verify.receipt_key(KEY).hex() == (
        "2c7254f4af02e633488b8cf1f859a80266b6a67eee6c200341162c1b7aa0c538"
    )


def test_a_receipts_code_comes_from_its_journal_records():
    try:
        os.remove(_IMAGE)
    except OSError:
        pass
    flash = NorFlash(_IMAGE, 4)
    j = Journal(flash)
    assert j.mount()
    j.use_wall(lambda: 0)  # time unknown: 0 in the code
    body = b"\x1b@Long receipt\n" + b"Item 123 4.50\n" * 40 + b"\x1dV\x00"  # three records
    j.raw(body, 0, len(body))
    n = j.end(1)
    assert n == 1 and j.info(1)[4] == len(body)
    got = verify.code_for(j, KEY, "SIM00001", 1)
    assert got == verify.code("SIM00001", 1, verify.mac(KEY, "SIM00001", 1, 0, len(body), (body,)))
    assert verify.code_for(j, KEY, "SIM00002", 1) != got  # another module's serial
    assert verify.code_for(j, bytes(32), "SIM00001", 1) != got  # another key
    assert verify.code_for(j, KEY, "SIM00001", 2) is None


def test_the_check_character_catches_one_wrong_character_or_two_swapped():
    text = "1843" + "7NX1A27K1VFV"
    c = verify.check(text)
    for i in range(len(text)):
        for v in verify.ALPHABET[:32]:
            if v != text[i]:
                assert verify.check(text[:i] + v + text[i + 1 :]) != c, (i, v)
        if i + 1 < len(text) and text[i] != text[i + 1]:
            swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
            assert verify.check(swapped) != c, i
