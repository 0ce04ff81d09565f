"""`tillroll render IN.bin -o OUT.png`: an ESC/POS file through the same firmware, no network."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from PIL import Image

from ocr import missing_lines
from tillroll_host.paths import FONTS

ESC, GS = b"\x1b", b"\x1d"


def render(
    tmp_path: Path, data: bytes, name: str = "in.bin", settings: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """`tillroll render` of `data`; `settings` are its setting options (`--chars`, `--fit`)."""
    source = tmp_path / name
    source.write_bytes(data)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tillroll_host.cli",
            "render",
            str(source),
            "-o",
            str(tmp_path / "out.png"),
            *settings,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def font_a_glyph(char: str) -> list[list[int]]:
    """The dots of one Font A glyph, read from the committed font file."""
    data = (FONTS / "font_a_12x24.trf").read_bytes()
    _, w, h, stride, _, count, _ = struct.unpack_from("<4sBBBBHH", data)
    index = struct.unpack_from(f"<{count}H", data, 12).index(ord(char))
    at = 12 + 2 * count + index * h * stride
    rows = [int.from_bytes(data[at + y * stride : at + (y + 1) * stride], "big") for y in range(h)]
    return [[x for x in range(w) if row & (0x80 << 8 * (stride - 1)) >> x] for row in rows]


def black(png: Path) -> list[list[int]]:
    im = Image.open(png).convert("L")
    return [[x for x in range(im.width) if im.getpixel((x, y)) < 128] for y in range(im.height)]


def test_a_character_comes_out_dot_for_dot(tmp_path: Path):
    done = render(tmp_path, ESC + b"@" + b"R\n" + GS + b"V\x00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{tmp_path / 'out.png'}: 1 receipt"
    rows = black(tmp_path / "out.png")
    assert rows[:24] == font_a_glyph("R")
    assert not any(rows[24:])  # then only paper feed


def test_styled_text_reads_back(tmp_path: Path, tesseract):
    data = (
        ESC
        + b"@"
        + ESC
        + b"a\x01"
        + ESC
        + b"E\x01"
        + b"CORNER SHOP\n"
        + ESC
        + b"E\x00"
        + ESC
        + b"a\x00"
        + b"Milk                 1.09\n"
        + ESC
        + b"-\x01"
        + b"Bread                2.35\n"
        + ESC
        + b"-\x00"
        + GS
        + b"!\x11"
        + b"TOTAL 3.44\n"
        + GS
        + b"!\x00"
        + ESC
        + b"d\x02"
        + GS
        + b"VA\x00"
    )
    done = render(tmp_path, data)
    assert done.returncode == 0, done.stderr
    png = tmp_path / "out.png"
    assert Image.open(png).width == 384
    missing, seen = missing_lines(["CORNER SHOP", "Milk 1.09", "Bread 2.35", "TOTAL 3.44"], png)
    assert not missing, seen


def test_several_receipts_come_out_as_one_strip(tmp_path: Path):
    one = ESC + b"@" + b"X\n" + GS + b"V\x00"
    done = render(tmp_path, one * 3)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("3 receipts")
    rows = black(tmp_path / "out.png")
    starts = [y for y in range(1, len(rows)) if rows[y] and not rows[y - 1]]
    assert len(starts) + (1 if rows[0] else 0) == 3


def test_a_long_receipt_fits_the_board_heap(tmp_path: Path):
    # 1000 text lines, 30 000 dot lines: paper and PNG are streamed, never held in RAM.
    data = ESC + b"@" + b"".join(b"line %04d\n" % i for i in range(1000)) + GS + b"V\x00"
    done = render(tmp_path, data)
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "out.png").size == (384, 1000 * 30 + 96)


def test_a_missing_file_is_one_clear_line(tmp_path: Path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tillroll_host.cli",
            "render",
            str(tmp_path / "nope.bin"),
            "-o",
            "x.png",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"tillroll: {tmp_path / 'nope.bin'}: no such file"


def test_a_file_that_prints_nothing_says_so(tmp_path: Path):
    done = render(tmp_path, ESC + b"@" + ESC + b"E\x01")
    assert done.returncode == 2
    assert "printed nothing" in done.stderr


def test_a_line_feed_after_the_cut_makes_no_blank_receipt(tmp_path: Path):
    # receipt-printer-encoder ends with a cut and then "\n\r"; a raw job then closes.
    done = render(tmp_path, ESC + b"@" + b"Paid\n" + GS + b"VA\x00" + b"\n\r")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(": 1 receipt")
