"""Reading a printed receipt back: OCR with tesseract, compared line by line."""

from __future__ import annotations

import re
from pathlib import Path

import pytesseract
from PIL import Image, ImageOps


def read_text(png: Path) -> list[str]:
    """The receipt's lines as tesseract reads them, white space folded."""
    image = ImageOps.expand(Image.open(png).convert("L"), border=24, fill=255)
    text = pytesseract.image_to_string(image, lang="eng", config="--psm 6")
    return [fold(line) for line in text.splitlines() if line.strip()]


def fold(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


def missing_lines(expected: list[str], png: Path) -> tuple[list[str], list[str]]:
    """The expected lines that OCR did not find, and what it did read."""
    seen = read_text(png)
    return [line for line in expected if fold(line) not in seen], seen
