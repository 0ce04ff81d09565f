"""The service link's update commands (docs/update.md, "On the wire"), apart from the server:
a module's heap holds their code only once an update has begun."""

import asyncio

from .. import VERSION

MANIFEST = const(0x61)  # u32 offset, a piece of the manifest
BEGIN = const(0x62)  # the 64-byte signature, u8 flags (1: force)
BLOCK = const(0x63)  # u32 offset, a block of the image
FINISH = const(0x64)
CLEAR = const(0x65)
_RESTART_MS = const(300)  # for the reply to reach the host before the module restarts


def answer(service, cmd, payload):
    """The reply to update command `cmd` (0x60 status to 0x65 clear), as a dict."""
    rx = service.receiver
    board = service._board
    if rx is None:
        flash = getattr(board, "update_flash", None)
        if flash is None:
            raise ValueError("no update slot on this module")
        from .receive import Receiver

        rx = service.receiver = Receiver(flash, board.name, VERSION, board.update_rom)
    if cmd == MANIFEST or cmd == BLOCK:
        offset = int.from_bytes(payload[:4], "little")
        if cmd == BLOCK:
            rx.block(offset, payload[4:])
            return {"have": rx.have}
        rx.manifest_piece(offset, payload[4:])
        return {"manifest": rx.manifest_bytes}
    if cmd == BEGIN:
        import binascii

        from .maker_key import PUBLIC_KEY

        key = binascii.unhexlify(PUBLIC_KEY)
        if rx.begin(payload[:64], len(payload) > 64 and payload[64] & 1, key):
            _restart(board)
            return {"restart": True}
        return {"have": 0}
    if cmd == FINISH:
        version = rx.finish()
        _restart(board)
        return {"staged": version, "restart": True}
    if cmd == CLEAR:
        from . import slot

        slot.clear(rx.flash)
        if slot.running_from_slot():
            _restart(board)  # into the frozen firmware
    return rx.status()


def _restart(board):
    """Restart the module once this reply is out."""

    async def later():
        await asyncio.sleep_ms(_RESTART_MS)
        board.restart()

    asyncio.create_task(later())
