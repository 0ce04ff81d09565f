"""Print an ESC/POS file through the firmware on the unix port, with no network."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PIL import Image

from .errors import FatalError
from .sim import run_firmware


def render(
    source: Path,
    output: Path,
    flash: Path | None = None,
    chars: str | None = None,
    fit: str | None = None,
) -> int:
    """Write what `source` prints to `output` (PNG, 384 dots wide); return the receipt count.

    Several receipts (several cuts) come out as one strip, in order, as on the roll. `flash`
    is the module's flash directory (NV logos), kept across renders; None starts empty.
    `chars` ("gb18030" or "single-byte") and `fit` ("on" or "off") are the module's settings
    (None: their defaults, GB18030 and on)."""
    if not source.is_file():
        raise FatalError(f"{source}: no such file")
    with tempfile.TemporaryDirectory(prefix="tillroll-render-") as tmp:
        args = ["--render", str(source.resolve()), "--out", tmp]
        if flash is not None:
            flash.mkdir(parents=True, exist_ok=True)
            args += ["--flash", str(flash.resolve())]
        if chars is not None:
            args += ["--chars", chars]
        if fit is not None:
            args += ["--fit", fit]
        done = run_firmware(args, capture_output=True, text=True)
        if done.returncode != 0:
            raise FatalError(f"the firmware failed on {source}:\n{done.stdout}{done.stderr}")
        pages = sorted(Path(tmp).glob("receipt-*.png"))
        if not pages:
            raise FatalError(f"{source} printed nothing: it holds no text, image or feed")
        output.parent.mkdir(parents=True, exist_ok=True)
        if len(pages) == 1:
            shutil.copyfile(pages[0], output)
        else:
            _stack(pages, output)
        return len(pages)


def _stack(pages: list[Path], output: Path) -> None:
    images = [Image.open(p) for p in pages]
    width = max((im.width for im in images), default=384)
    strip = Image.new("1", (width, sum(im.height for im in images)), 1)
    y = 0
    for im in images:
        strip.paste(im.convert("1"), (0, y))
        y += im.height
    strip.save(output)
