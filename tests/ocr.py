"""Reading a printed receipt back: OCR with tesseract, compared line by line."""

from __future__ import annotations

import re
from pathlib import Path

import pytesseract
from PIL import Image, ImageOps


def read_text(png: Path | Image.Image, lang: str = "eng") -> list[str]:
    """The receipt's lines as tesseract reads them, white space folded. Chinese is read at
    twice the size: tesseract's chi_sim model wants strokes wider than one dot."""
    image = png if isinstance(png, Image.Image) else Image.open(png)
    image = ImageOps.expand(image.convert("L"), border=24, fill=255)
    if lang != "eng":
        image = image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST)
    text = pytesseract.image_to_string(image, lang=lang, config="--psm 6")
    return [fold(line, lang) for line in text.splitlines() if line.strip()]


def fold(line: str, lang: str = "eng") -> str:
    if lang != "eng":
        return re.sub(r"\s+", "", line)  # tesseract spaces Chinese characters at random
    return re.sub(r"\s+", " ", line).strip()


def missing_lines(
    expected: list[str], png: Path | Image.Image, lang: str = "eng"
) -> tuple[list[str], list[str]]:
    """The expected lines that OCR did not find, and what it did read."""
    seen = read_text(png, lang)
    return [line for line in expected if fold(line, lang) not in seen], seen
