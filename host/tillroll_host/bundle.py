"""Update bundles (docs/update.md): the firmware's files compiled for a board into a ROMFS image
the module runs in place, and a manifest (version, board, the image's and every file's
SHA-256) signed with the maker's Ed25519 key.

A bundle file is b"TRBN", a format byte (1), the manifest's length (u32 LE), the manifest, the
64-byte signature, the image's length (u32 LE) and the image. What the key signs is
b"tillroll update\\0" and the manifest's SHA-256 (the module hashes the manifest with its C
SHA-256 and checks the signature over 48 bytes).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import FatalError
from .image import FLASH, stage_frozen
from .paths import BOARDS as BOARD_DIRS

MAGIC = b"TRBN"
FORMAT = 1
SIGNED = b"tillroll update\x00"
SLOT_IMAGE_BYTES = FLASH.update - 4096  # the slot less its ticket and records block
BOARDS = {"rp2_pico": "armv6m", "sim": "x64"}  # mpy-cross's -march for each board's code
_BOOT_CODE = ("_boot.py", "main.py")  # frozen, never in an update: it does the rollback
_VERSION = re.compile(r'^VERSION = "[^"]*"$', re.M)


@dataclass
class Bundle:
    manifest: bytes
    signature: bytes
    image: bytes

    @property
    def info(self) -> dict:
        return json.loads(self.manifest)

    @property
    def version(self) -> str:
        return self.info["version"]

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                MAGIC,
                bytes([FORMAT]),
                struct.pack("<I", len(self.manifest)),
                self.manifest,
                self.signature,
                struct.pack("<I", len(self.image)),
                self.image,
            )
        )

    @classmethod
    def read(cls, path: Path) -> Bundle:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise FatalError(f"cannot read {path}: {e.strerror}") from None
        if data[:4] != MAGIC:
            raise FatalError(f"{path}: not a Tillroll update bundle")
        if data[4] != FORMAT:
            raise FatalError(f"{path}: bundle format {data[4]}; this tillroll reads {FORMAT}")
        try:
            (n,) = struct.unpack_from("<I", data, 5)
            manifest = data[9 : 9 + n]
            signature = data[9 + n : 9 + n + 64]
            (m,) = struct.unpack_from("<I", data, 9 + n + 64)
            image = data[13 + n + 64 :]
            json.loads(manifest)
        except (struct.error, ValueError):
            raise FatalError(f"{path}: a damaged bundle") from None
        if len(image) != m or len(signature) != 64:
            raise FatalError(f"{path}: cut short ({len(data)} bytes)")
        return cls(manifest, signature, image)


def load_signing_key(path: Path):
    """The maker's private key: a file of 64 hex digits (an Ed25519 seed), '#' comments."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        lines = Path(path).read_text().splitlines()
        text = "".join(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))
        seed = bytes.fromhex(text)
    except (OSError, ValueError) as e:
        raise FatalError(f"cannot read the maker key in {path}: {e}") from None
    if len(seed) != 32:
        raise FatalError(f"{path}: a maker key is 32 bytes (64 hex digits)")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(private) -> bytes:
    from cryptography.hazmat.primitives import serialization as s

    return private.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)


def new_signing_key() -> bytes:
    """A new maker key's seed."""
    import os

    return os.urandom(32)


def firmware_files(
    board: str, version: str | None, development: bool = False, maker_key: bytes | None = None
) -> dict[str, str]:
    """What an update carries for `board`, as sources (path -> text): the firmware package
    with its native code inlined (and `maker_key` as the key it takes updates from), the
    mechanism profiles and, on a real board, its package. The boot code is not among them."""
    if board not in BOARDS:
        raise FatalError(f"no board {board}; one of {', '.join(BOARDS)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stage_frozen(root, "rp2_pico", development, maker_key)
        files = {}
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel in _BOOT_CODE or (board != "rp2_pico" and rel.startswith("rp2_pico/")):
                continue
            files[rel] = path.read_text()
    if board == "sim":  # the twin's physical-limit model lives beside the profiles
        files["mechanisms/limit.py"] = (BOARD_DIRS / "mechanisms" / "limit.py").read_text()
    if version is not None:
        _check_version(version)
        init = files["tillroll/__init__.py"]
        if not _VERSION.search(init):
            raise FatalError("tillroll/__init__.py has no VERSION line to set")
        files["tillroll/__init__.py"] = _VERSION.sub(f'VERSION = "{version}"', init)
    return files


def _check_version(version: str) -> None:
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise FatalError(f"version {version!r}: give MAJOR.MINOR.PATCH, e.g. 0.2.0")


def compile_files(files: dict[str, str], arch: str, progress=None) -> dict[str, bytes]:
    """Each source as .mpy for `arch`, by the board's own mpy-cross."""
    from .chip_repl import MPY_CROSS

    if not MPY_CROSS.exists():
        raise FatalError(f"{MPY_CROSS} is missing: `make firmware` builds it")
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "m.py", Path(tmp) / "m.mpy"
        for i, (path, text) in enumerate(sorted(files.items())):
            src.write_text(text)
            done = subprocess.run(
                [str(MPY_CROSS), f"-march={arch}", "-s", path, "-o", str(dst), str(src)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise FatalError(f"mpy-cross failed on {path}:\n{done.stderr}")
            out[path[:-3] + ".mpy"] = dst.read_bytes()
            if progress:
                progress(i + 1, len(files))
    return out


def build(
    board: str, key_path: Path, version: str | None = None, development=False, progress=None
):
    """A signed bundle of the firmware for `board`. It takes later updates from the key that
    signs it."""
    public = public_key(load_signing_key(key_path))
    sources = firmware_files(board, version, development, public)
    return build_from(board, sources, key_path, progress)


def build_from(board: str, sources: dict[str, str], key_path: Path, progress=None) -> Bundle:
    """A signed bundle of `sources` (path -> text, as firmware_files gives) for `board`."""
    from .chip_repl import romfs

    found = re.search(r'^VERSION = "([^"]*)"$', sources.get("tillroll/__init__.py", ""), re.M)
    if not found:
        raise FatalError("tillroll/__init__.py has no VERSION line")
    files = compile_files(sources, BOARDS[board], progress)
    image = romfs(files)
    if len(image) > SLOT_IMAGE_BYTES:
        raise FatalError(
            f"the image is {len(image)} bytes; the update slot holds {SLOT_IMAGE_BYTES}"
        )
    manifest = {
        "format": FORMAT,
        "board": board,
        "version": found.group(1),
        "image": [len(image), hashlib.sha256(image).hexdigest()],
        "files": {p: hashlib.sha256(d).hexdigest() for p, d in sorted(files.items())},
    }
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    return sign(text, image, key_path)


def sign(manifest: bytes, image: bytes, key_path: Path) -> Bundle:
    key = load_signing_key(key_path)
    signature = key.sign(SIGNED + hashlib.sha256(manifest).digest())
    return Bundle(manifest, signature, image)
