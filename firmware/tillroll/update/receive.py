"""Receiving an update over the service link (docs/update.md, "On the wire").

The manifest comes first, in pieces, then `begin` with its signature: nothing is written
until the signature, the board and the version check out. The image follows in blocks, in
order, each programmed as it comes; `finish` checks the image's SHA-256 and every file's
against the manifest, and only then programs STAGED, the switch. The slot being written is
never the one running: a module running an update restarts into its frozen firmware first.

Errors are ValueError with the text the technician sees.
"""

import hashlib
import json

from . import slot as sl

MANIFEST_MAX = const(12288)
_SIGNED = b"tillroll update\x00"  # then the manifest's SHA-256: what the maker's key signs


class Receiver:
    def __init__(self, flash, board_name, version, rom):
        self.flash = flash  # the update slot
        self.board_name = board_name
        self.version = version  # of the firmware running now
        self._rom = rom  # the image as a buffer, for its files: rom(size) -> bytes-like
        self._buf = None  # the manifest, made at the first one: one piece of heap, never grown
        self.manifest_bytes = 0
        self.ticket = None  # of the update being received
        self.have = 0  # image bytes programmed

    def capacity(self):
        return self.flash.ioctl(4, 0) * sl.BLOCK - sl.IMAGE_AT

    @property
    def manifest(self):
        return memoryview(self._buf)[: self.manifest_bytes] if self._buf else b""

    def manifest_piece(self, offset, data):
        if offset == 0:
            if self._buf is None:
                self._buf = bytearray(MANIFEST_MAX)
            self.manifest_bytes = 0
            self.ticket = None
        if offset != self.manifest_bytes:
            raise ValueError("manifest piece at %d, expected %d" % (offset, self.manifest_bytes))
        if offset + len(data) > MANIFEST_MAX:
            raise ValueError("manifest above %d bytes" % MANIFEST_MAX)
        self._buf[offset : offset + len(data)] = data  # pyright: ignore[reportOptionalSubscript]
        self.manifest_bytes += len(data)

    def begin(self, signature, force, key):
        """Check the manifest and its signature; True if the module must restart first (it
        runs the update in the slot), else the ticket is written and blocks may come."""
        from .ed25519 import verify

        digest = hashlib.sha256(self.manifest).digest()
        if not verify(key, _SIGNED + digest, bytes(signature)):
            raise ValueError("signature: not signed by this module's maker key")
        try:
            m = json.loads(self.manifest)  # pyright: ignore[reportArgumentType]
            version = m["version"]
            board = m["board"]
            size, image_hex = m["image"]
            sl.version_tuple(version)
        except (ValueError, KeyError, TypeError):
            raise ValueError("manifest: not an update manifest") from None
        if board != self.board_name:
            raise ValueError("bundle for board %s; this module is %s" % (board, self.board_name))
        if not force and not sl.newer(version, self.version):
            raise ValueError(
                "version %s is not newer than the running %s (tillroll update --force installs it)"
                % (version, self.version)
            )
        if size > self.capacity():
            raise ValueError("image of %d bytes; the slot holds %d" % (size, self.capacity()))
        if sl.running_from_slot():
            sl.clear(self.flash)  # the frozen firmware from the next boot: then write the slot
            return True
        self.ticket = sl.Ticket(
            version,
            board,
            size,
            _unhex(image_hex),
            digest,
            bytes(signature),
            sl.FORCED if force else 0,
        )
        sl.write_ticket(self.flash, self.ticket)
        self.have = 0
        return False

    def block(self, offset, data):
        """Program the next piece of the image (1 KiB, the last one shorter)."""
        t = self.ticket
        if t is None:
            raise ValueError("no update begun")
        if offset != self.have:
            raise ValueError("block at %d; the module has %d" % (offset, self.have))
        n = len(data)
        if offset + n > t.image_bytes or (n % sl.PAGE and offset + n != t.image_bytes):
            raise ValueError("block of %d bytes at %d does not fit the image" % (n, offset))
        at = sl.IMAGE_AT + offset
        if at % sl.BLOCK == 0:
            self.flash.ioctl(6, at // sl.BLOCK)
        whole = n - n % sl.PAGE
        if whole:
            self.flash.writeblocks(at // sl.BLOCK, data[:whole], at % sl.BLOCK)
        if whole < n:  # the image's last page, erased bytes after its end
            page = bytearray(b"\xff" * sl.PAGE)
            page[: n - whole] = data[whole:]
            at += whole
            self.flash.writeblocks(at // sl.BLOCK, page, at % sl.BLOCK)
        self.have += n

    def finish(self):
        """Check every hash, then program STAGED: the update runs from the next boot."""
        t = self.ticket
        if t is None or self.have != t.image_bytes:
            raise ValueError("the image is not all here (%d bytes)" % self.have)
        if sl.image_sha256(self.flash, t.image_bytes) != t.image_sha:
            raise ValueError("image: SHA-256 differs from the manifest's")
        self._check_files(t, json.loads(self.manifest)["files"])  # pyright: ignore[reportArgumentType]
        sl.record(self.flash, sl.STAGED)
        self.ticket = None
        self.manifest_bytes = 0
        return t.version

    def _check_files(self, t, files):
        import vfs

        rom = vfs.VfsRom(self._rom(t.image_bytes))  # pyright: ignore[reportAttributeAccessIssue]
        found = _files(rom, "")
        if sorted(found) != sorted(files):
            raise ValueError("image: its files are not the manifest's")
        buf = bytearray(512)
        for path, want in files.items():
            h = hashlib.sha256()
            with rom.open(path, "rb") as f:
                while True:
                    n = f.readinto(buf)
                    if not n:
                        break
                    h.update(memoryview(buf)[:n])
            if h.digest() != _unhex(want):
                raise ValueError("image: %s differs from the manifest" % path)

    def status(self):
        t = sl.read_ticket(self.flash)
        now, _ = sl.state(self.flash)
        out = {
            "running": self.version,
            "from": "update" if sl.running_from_slot() else "frozen",
            "slot": None if t is None else {"version": t.version, "state": sl.STATES[now]},
        }
        if self.ticket is not None:
            out["receiving"] = {
                "version": self.ticket.version,
                "manifest": _hex(self.ticket.manifest_sha),
                "have": self.have,
                "bytes": self.ticket.image_bytes,
            }
        return out


def _files(rom, path):
    out = []
    for entry in rom.ilistdir(path or "/"):
        name = path + "/" + entry[0] if path else entry[0]
        if entry[1] & 0x4000:
            out.extend(_files(rom, name))
        else:
            out.append(name)
    return out


def _unhex(text):
    import binascii

    return binascii.unhexlify(text)


def _hex(data):
    import binascii

    return binascii.hexlify(data).decode()
