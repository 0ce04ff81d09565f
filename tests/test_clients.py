"""Receipts from real POS client libraries come out readable.

Each client builds a text receipt as its users do (python-escpos with the ZJ-5870 profile for
a 58 mm module; receiptline in cp437 and gb18030; @point-of-sale/receipt-printer-encoder for
a POS-5890), the bytes go through `tillroll render`, and every expected line is read back by
tesseract (eng, or chi_sim for Chinese).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from escpos.printer import Dummy
from test_render import black, render

from ocr import missing_lines

CLIENTS = Path(__file__).parent / "clients"
ROOT = Path(__file__).parents[1]


def rendered(tmp_path: Path, data: bytes, settings: tuple[str, ...] = ()) -> Path:
    done = render(tmp_path, data, settings=settings)
    assert done.returncode == 0, done.stderr
    return tmp_path / "out.png"


def reads(png: Path, lines: list[str], lang: str = "eng") -> None:
    missing, seen = missing_lines(lines, png, lang)
    assert not missing, seen


def run_node(node: str, script: str, *args: str) -> None:
    done = subprocess.run(
        [node, str(CLIENTS / script), *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_python_escpos_text_receipt(tmp_path: Path, tesseract):
    p = Dummy(profile="ZJ-5870")
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("BAKERY\n")
    p.set(align="center", normal_textsize=True, bold=False)
    p.text("Café au lait\n")
    p.set(align="left")
    p.text("Rye bread           2.80\n")
    p.set(underline=1)
    p.text("Croissant x2        3.10\n")
    p.set(underline=0, invert=True)
    p.text(" PAID BY CARD \n")
    p.set(invert=False, bold=True)
    p.text("TOTAL EUR           5.90\n")
    p.cut()
    # python-escpos picks a code page for "é" (ESC t) and never leaves Kanji mode with FS .:
    # its users outside China set the module to one-byte code pages at power-on.
    png = rendered(tmp_path, p.output, ("--chars", "single-byte"))
    reads(png, ["BAKERY", "Café au lait", "Rye bread 2.80", "Croissant x2 3.10", "TOTAL EUR 5.90"])


def test_receiptline_cp437(tmp_path: Path, node, tesseract):
    doc = tmp_path / "receipt.txt"
    doc.write_text(
        "^^HARBOUR BAKERY\n"
        "Café au lait\n"
        "Rye bread | 2.80\n"
        "Croissant x2 | 3.10\n"
        "_Underlined note_\n"
        '"TOTAL" | "5.90"\n'
        "---\n"
        "{width:*,10}\n"
        "Item | Price\n"
    )
    run_node(node, "receiptline.mjs", "cp437", str(doc), str(tmp_path / "r.bin"))
    png = rendered(tmp_path, (tmp_path / "r.bin").read_bytes())
    reads(
        png,
        [
            "HARBOUR BAKERY",
            "Café au lait",
            "Rye bread 2.80",
            "Croissant x2 3.10",
            "Underlined note",
            "TOTAL 5.90",
            "Item Price",
        ],
    )
    # The rule (ESC t 1, bytes 0x95: Katakana page line graphics) is unbroken across the paper.
    assert any(row == list(range(384)) for row in black(png)), "no full-width rule"


def test_receiptline_gb18030(tmp_path: Path, node, tesseract):
    doc = tmp_path / "receipt.txt"
    doc.write_text("欢迎光临\n合计人民币\n12.00\n谢谢惠顾\n")
    run_node(node, "receiptline.mjs", "gb18030", str(doc), str(tmp_path / "r.bin"))
    png = rendered(tmp_path, (tmp_path / "r.bin").read_bytes())
    reads(png, ["欢迎光临", "合计人民币", "谢谢惠顾"], "chi_sim")
    reads(png, ["12.00"])


def test_receipt_printer_encoder(tmp_path: Path, node, tesseract):
    run_node(node, "encoder.mjs", str(tmp_path / "e.bin"))
    png = rendered(tmp_path, (tmp_path / "e.bin").read_bytes())
    reads(
        png,
        [
            "HARBOUR BAKERY",
            "Café au lait",
            "Rye bread 2.80 €",
            "Two croissants 3.10 €",
            "TOTAL 5.90",
        ],
    )
