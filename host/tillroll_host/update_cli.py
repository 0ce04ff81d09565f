"""`tillroll keygen`, `bundle` and `update` (docs/update.md, docs/technician.md).

`update` sends a bundle over the service link in 1 KiB blocks (each frame has its CRC) and
picks up where it stopped after a dropped link; a power cut on the way costs the blocks, never
the module: it runs its old firmware until the switch, which is one page on its flash.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
import time
from pathlib import Path

from . import bundle as bd
from .errors import FatalError
from .service import OK, ServiceError, ServiceLink
from .service_cli import Progress, _link

UPDATE_STATUS = 0x60
UPDATE_MANIFEST = 0x61
UPDATE_BEGIN = 0x62
UPDATE_BLOCK = 0x63
UPDATE_FINISH = 0x64
UPDATE_CLEAR = 0x65
BLOCK = 1024
_PIECE = 1024
_SLOW_S = 120.0  # the longest a module takes over a check
_CONFIRM_S = 5.0  # the module confirms a healthy boot after this long (tillroll/app.py)


def _call(link: ServiceLink, command: int, payload: bytes = b"") -> dict:
    status, body = link.request(command, payload)
    reply = json.loads(body) if body else {}
    if status != OK:
        raise ServiceError(reply.get("error", f"status {status}"), status, reply)
    return reply


def _connect(args, deadline: float) -> tuple[ServiceLink, dict]:
    """The module's service link and its update status, again and again until it answers:
    after a restart it is gone for a while (a USB port re-enumerates, a sim starts again),
    and a link taken just as the module restarts drops on its first request."""
    while True:
        link = None
        try:
            link = _link(args)
            return link, _call(link, UPDATE_STATUS)
        except ServiceError:
            if link is not None:
                link.close()
            raise
        except FatalError:
            if link is not None:
                link.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _begin(link: ServiceLink, b: bd.Bundle, force: bool) -> bool:
    """Send the manifest and its signature; True if the module restarts first."""
    for off in range(0, len(b.manifest), _PIECE):
        _call(link, UPDATE_MANIFEST, struct.pack("<I", off) + b.manifest[off : off + _PIECE])
    with link.patient(_SLOW_S):  # the module checks the signature: about 1.2 s on an RP2040
        reply = _call(link, UPDATE_BEGIN, b.signature + bytes([1 if force else 0]))
    return bool(reply.get("restart"))


def _describe(st: dict) -> str:
    where = "its update slot" if st["from"] == "update" else "its frozen firmware"
    text = f"runs {st['running']} from {where}"
    slot = st.get("slot")
    if slot:
        text += f"; slot: {slot['version']}, {slot['state']}"
    return text


def cmd_update(args) -> int:
    wait_s = args.wait
    if args.status or args.remove:
        with _link(args) as link:
            st = _call(link, UPDATE_CLEAR if args.remove else UPDATE_STATUS)
            serial = link.serial_number
        if args.json:
            print(json.dumps(st, indent=2, sort_keys=True))
        elif args.remove and st["from"] == "update":
            print(f"module {serial}: update slot cleared; restarting into its frozen firmware")
        elif args.remove:
            print(f"module {serial}: update slot cleared; it runs its frozen firmware")
        else:
            print(f"module {serial} {_describe(st)}")
        return 0
    if not args.bundle:
        raise FatalError("update: which bundle? (tillroll bundle makes one)")
    b = bd.Bundle.read(Path(args.bundle))
    digest = hashlib.sha256(b.manifest).hexdigest()
    progress = Progress(f"update {b.version}")
    link, st = _connect(args, time.monotonic() + wait_s)
    serial = link.serial_number
    print(f"module {serial} {_describe(st)}; sending {b.version} ({len(b.image)} bytes)")
    have = None
    while True:
        try:
            if have is None:
                rx = st.get("receiving")
                if rx and rx["manifest"] == digest:
                    have = rx["have"]
                    print(f"resuming at byte {have}")
                elif _begin(link, b, args.force):
                    print(f"module {serial} restarts into its frozen firmware to take the update")
                    link.close()
                    time.sleep(1.0)
                    link, st = _connect(args, time.monotonic() + wait_s)
                    continue
                else:
                    have = 0
            while have < len(b.image):
                piece = b.image[have : have + BLOCK]
                have = _call(link, UPDATE_BLOCK, struct.pack("<I", have) + piece)["have"]
                progress(have, len(b.image))
            with link.patient(_SLOW_S):  # the module hashes the image and every file
                _call(link, UPDATE_FINISH)
            break
        except ServiceError:
            raise
        except FatalError as e:  # the link dropped: take it up again where the module is
            print(f"link lost ({e}); reconnecting", file=sys.stderr)
            link.close()
            link, st = _connect(args, time.monotonic() + wait_s)
            have = None
    link.close()
    print(f"module {serial}: {b.version} checked and staged; restarting into it")
    return _confirmed(args, b.version, serial, wait_s)


def _confirmed(args, version: str, serial: str, wait_s: float) -> int:
    deadline = time.monotonic() + wait_s + _CONFIRM_S
    time.sleep(1.0)
    while True:
        link, st = _connect(args, deadline)
        link.close()
        slot = st.get("slot") or {}
        if st["from"] == "update" and st["running"] == version and slot.get("state") == "good":
            print(f"module {serial} runs {version}: confirmed a healthy start")
            return 0
        if st["from"] == "frozen" and slot.get("state") == "failed":
            raise FatalError(
                f"module {serial} rolled back to {st['running']}: {version} did not confirm a "
                "healthy start"
            )
        if time.monotonic() > deadline:
            raise FatalError(f"module {serial} {_describe(st)}: {version} not confirmed in time")
        time.sleep(1.0)


def cmd_bundle(args) -> int:
    b = bd.build(
        args.board,
        Path(args.key),
        args.version,
        development=args.development,
        progress=Progress("compiling"),
    )
    out = Path(args.output or f"tillroll-{args.board}-{b.version}.bundle")
    out.write_bytes(b.to_bytes())
    files = len(b.info["files"])
    print(
        f"{out}: {args.board} {b.version}, {files} files, image {len(b.image)} bytes (slot "
        f"{bd.SLOT_IMAGE_BYTES}), signed by {bd.public_key(bd.load_signing_key(Path(args.key))).hex()}"
    )
    return 0


def cmd_keygen(args) -> int:
    out = Path(args.output)
    if out.exists() and not args.force:
        raise FatalError(f"{out} exists: a maker key is never overwritten (--force to do it)")
    seed = bd.new_signing_key()
    out.write_text(
        "# Tillroll maker key (Ed25519 seed, hex). Keep it secret.\n" + seed.hex() + "\n"
    )
    out.chmod(0o600)
    pub = bd.public_key(bd.load_signing_key(out)).hex()
    pub_path = out.with_suffix(".pub")
    pub_path.write_text(pub + "\n")
    print(f"maker key in {out}; public key {pub} in {pub_path}")
    print(f"build images that take its updates: make firmware MAKER_KEY={pub_path}")
    return 0


def add_commands(sub, port) -> None:
    p = sub.add_parser(
        "update",
        parents=[port],
        help="update a module's firmware over the service link (signed bundle)",
        description="Send a signed bundle to a module. It checks the signature against its "
        "maker key, the board and the version, takes the image in blocks (a dropped link "
        "resumes), checks every file's SHA-256, then restarts into it; if the new firmware "
        "does not confirm a healthy start, the module rolls back to its frozen firmware.",
    )
    p.add_argument("bundle", nargs="?", help="the bundle file (tillroll bundle)")
    p.add_argument("--force", action="store_true", help="install an older or the same version")
    p.add_argument("--status", action="store_true", help="what the module runs and its slot")
    p.add_argument(
        "--remove", action="store_true", help="clear the slot: the frozen firmware runs"
    )
    p.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a restart")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser(
        "bundle",
        help="make a signed update bundle of the firmware",
        description="Compile the firmware for a board into the ROMFS image its update slot runs "
        "in place, with a manifest (version, SHA-256 of the image and of every file) signed "
        "with the maker's Ed25519 key.",
    )
    p.add_argument("--board", default="rp2_pico", choices=sorted(bd.BOARDS))
    p.add_argument("--version", help="the version it reports (default: the firmware's own)")
    p.add_argument("--key", required=True, help="the maker's private key (tillroll keygen)")
    p.add_argument("--development", action="store_true", help="a development build (its REPL on)")
    p.add_argument(
        "-o", "--output", help="the bundle file (default tillroll-BOARD-VERSION.bundle)"
    )
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser("keygen", help="make a maker key for signing updates")
    p.add_argument("-o", "--output", required=True, help="the private key file (and FILE.pub)")
    p.add_argument("--force", action="store_true", help="overwrite an existing key")
    p.set_defaults(func=cmd_keygen)
