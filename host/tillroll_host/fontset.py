"""The firmware's font set: which sources each file is built from, and how.

`tillroll fonts -o firmware/fonts` (`make font`) rebuilds them all; a test checks that the
committed files are exactly what this makes from the Debian packages named here.
"""

from __future__ import annotations

import struct
from pathlib import Path

from . import cjkc, codepages, fontc
from .errors import FatalError

MISC = Path("/usr/share/fonts/X11/misc")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_SC = 2  # the Simplified Chinese face in the collection
LATIN = "0x20-0x7e,0xa0-0xff"

# file -> (Debian package, sources in priority order, cell height or None)
BITMAP = {
    "font_a_12x24.trf": (
        "xfonts-base xfonts-terminus",
        [MISC / "12x24.pcf.gz", MISC / "ter-u24n_unicode.pcf.gz"],
        None,
    ),
    "font_b_9x17.trf": ("xfonts-base", [MISC / "9x18.pcf.gz"], 17),
}


def build(out_dir: Path) -> list[str]:
    """Write every font file and the code page tables into `out_dir`; one line each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = []
    for name, (package, sources, height) in BITMAP.items():
        for s in sources:
            if not s.exists():
                raise FatalError(f"{s} missing: apt-get install {package}")
        font = fontc.merge([fontc.load_font(s) for s in sources], height)
        keep = set(fontc.parse_ranges(LATIN)) | codepages.codepoints()
        data = fontc.encode(font, sorted(keep))
        (out_dir / name).write_bytes(data)
        count = struct.unpack_from("<H", data, 8)[0]
        report.append(f"{name}: {font.width}x{font.height}, {count} glyphs, {len(data)} bytes")
    if not NOTO_CJK.exists():
        raise FatalError(f"{NOTO_CJK} missing: apt-get install fonts-noto-cjk")
    data = cjkc.compile_font(NOTO_CJK, NOTO_SC)
    (out_dir / "cjk_24x24.tcj").write_bytes(data)
    report.append(f"cjk_24x24.tcj: {cjkc.report(data)}")
    data = codepages.encode()
    (out_dir / "codepages.bin").write_bytes(data)
    report.append(f"codepages.bin: {len(codepages.CODE_PAGES)} code pages, {len(data)} bytes")
    return report
