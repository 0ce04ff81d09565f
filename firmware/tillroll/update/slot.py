"""The update slot (docs/update.md): one region of flash holding a signed update's ticket, its
state records and its image, a ROMFS of the update's `.mpy` files that runs in place.

    block 0   page 0: the ticket (what was signed: version, board, the image's size and
              SHA-256, the manifest's SHA-256, the signature); pages 1-15: state records
    block 1-  the image

Every page is programmed once, so a power cut spoils at most the page being programmed, and a
spoiled page reads as no record. The state is the last good record: STAGED is the switch (one
page), TRYING is written by the boot code before it runs the update, GOOD by the update once
it has run a while. A boot that finds TRYING writes FAILED and runs the frozen firmware: the
update did not confirm a healthy boot (rollback).

The slot speaks MicroPython's extended block protocol (rp2.Flash, the sim's NorFlash).
"""

import hashlib
import struct

BLOCK = const(4096)
PAGE = const(256)
IMAGE_AT = const(4096)
_RECORD_PAGES = const(15)

STAGED = const(1)  # every hash and the signature checked: it runs from the next boot
TRYING = const(2)  # the boot code started it
GOOD = const(3)  # it confirmed a healthy boot
FAILED = const(4)  # it did not, or its image changed: the frozen firmware runs
STATES = ("none", "staged", "trying", "good", "failed")

FORCED = const(1)  # a ticket's flag: installed over a newer version on purpose

# magic, version, board, image bytes, flags, image SHA-256, manifest SHA-256, signature
_TICKET = "<4s16s16sII32s32s64s"
_TICKET_BYTES = const(172)
_MAGIC = b"TRTK"
_RECORD = b"TRST"


def version_tuple(text):
    """(major, minor, patch) of "1.2.3"; ValueError for anything else."""
    parts = text.split(".")
    if len(parts) != 3:
        raise ValueError("version %r is not MAJOR.MINOR.PATCH" % text)
    return tuple(int(p) for p in parts)


class Ticket:
    def __init__(self, version, board, image_bytes, image_sha, manifest_sha, signature, flags=0):
        self.version = version
        self.board = board
        self.image_bytes = image_bytes
        self.image_sha = image_sha
        self.manifest_sha = manifest_sha
        self.signature = signature
        self.flags = flags

    def page(self):
        page = bytearray(b"\xff" * PAGE)
        struct.pack_into(
            _TICKET,
            page,
            0,
            _MAGIC,
            self.version.encode(),
            self.board.encode(),
            self.image_bytes,
            self.flags,
            self.image_sha,
            self.manifest_sha,
            self.signature,
        )
        page[_TICKET_BYTES : _TICKET_BYTES + 32] = hashlib.sha256(page[:_TICKET_BYTES]).digest()
        return page


def read_ticket(flash):
    """The slot's ticket, or None if there is none or it was spoiled."""
    page = bytearray(PAGE)
    flash.readblocks(0, page, 0)
    if page[:4] != _MAGIC:
        return None
    if hashlib.sha256(page[:_TICKET_BYTES]).digest() != page[_TICKET_BYTES : _TICKET_BYTES + 32]:
        return None
    _, version, board, size, flags, image_sha, manifest_sha, sig = struct.unpack_from(
        _TICKET, page, 0
    )
    return Ticket(_text(version), _text(board), size, image_sha, manifest_sha, sig, flags)


def _text(field):
    end = field.find(b"\x00")
    return (field if end < 0 else field[:end]).decode()


def write_ticket(flash, ticket):
    """A new update begins: the old ticket and records go, then this ticket is programmed. A
    power cut between the two leaves no ticket: the frozen firmware runs."""
    flash.ioctl(6, 0)
    flash.writeblocks(0, ticket.page(), 0)


def clear(flash):
    """No update: the frozen firmware runs from the next boot."""
    flash.ioctl(6, 0)


def state(flash):
    """(the last good record's state, the page the next record goes in, or 0 if none is left)."""
    head = bytearray(8)
    last = 0
    for i in range(1, 1 + _RECORD_PAGES):
        flash.readblocks(0, head, i * PAGE)
        if head == b"\xff\xff\xff\xff\xff\xff\xff\xff":
            return last, i
        kind = head[4]
        if head[:4] == _RECORD and head[5] == kind ^ 0xFF and STAGED <= kind <= FAILED:
            last = kind
    return last, 0


def record(flash, kind):
    """Append a state record; False if the slot has no page left for one (the boot code then
    treats the update as failed: it cannot be tracked)."""
    _, page = state(flash)
    if not page:
        return False
    buf = bytearray(b"\xff" * PAGE)
    buf[:4] = _RECORD
    buf[4] = kind
    buf[5] = kind ^ 0xFF
    flash.writeblocks(0, buf, page * PAGE)
    return True


def image_sha256(flash, size):
    h = hashlib.sha256()
    buf = bytearray(1024)
    mv = memoryview(buf)
    done = 0
    while done < size:
        n = min(1024, size - done)
        at = IMAGE_AT + done
        flash.readblocks(at // BLOCK, mv[:n], at % BLOCK)
        h.update(mv[:n])
        done += n
    return h.digest()


def newer(version, than):
    try:
        return version_tuple(version) > version_tuple(than)
    except ValueError:
        return False


def choose(flash, frozen_version):
    """At power-on: the ticket of the update to run, its records moved on, or None for the
    frozen firmware. Prints what it chose (the sim's log; nothing reads it on a board)."""
    ticket = read_ticket(flash)
    if ticket is None:
        return None
    now, _ = state(flash)
    if now == STAGED or now == GOOD:
        if not ticket.flags & FORCED and not newer(ticket.version, frozen_version):
            print("boot: frozen %s, newer than update %s" % (frozen_version, ticket.version))
            return None
        if image_sha256(flash, ticket.image_bytes) != ticket.image_sha:
            record(flash, FAILED)
            print("boot: update %s damaged; frozen %s" % (ticket.version, frozen_version))
            return None
        if now == STAGED and not record(flash, TRYING):
            return None
        print("boot: update %s%s" % (ticket.version, " (trial)" if now == STAGED else ""))
        return ticket
    if now == TRYING:
        record(flash, FAILED)
        print("boot: update %s did not confirm; frozen %s" % (ticket.version, frozen_version))
    return None


def run_from(rom):
    """Put the update's image (a ROMFS in `rom`, a buffer) ahead of the frozen modules, and
    forget the frozen ones already imported, the boot code's own among them."""
    import sys

    import vfs

    vfs.mount(vfs.VfsRom(rom), "/app")  # pyright: ignore[reportAttributeAccessIssue]
    sys.path.insert(0, "/app")
    for name in list(sys.modules):
        if name.split(".")[0] in ("tillroll", "mechanisms", "rp2_pico"):
            del sys.modules[name]


def running_from_slot():
    import tillroll

    return tillroll.__file__.startswith("/app/")


def confirm(flash):
    """The running update has come up healthy: GOOD, if it was on trial."""
    if running_from_slot() and state(flash)[0] == TRYING:
        record(flash, GOOD)
        print("update confirmed")
