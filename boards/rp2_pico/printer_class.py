"""A USB printer-class interface (class 07h, subclass 01h, bidirectional protocol 02h).

Operating systems' printing stacks (CUPS' usb backend, Windows' usbprint) look for this
interface: ESC/POS comes in on its bulk OUT endpoint and status replies go out on bulk IN. The
class requests are GET_DEVICE_ID (the IEEE 1284 device ID), GET_PORT_STATUS and SOFT_RESET
(USB Device Class Definition for Printing Devices 1.1, section 4.2).
"""

import struct

from usb.device.core import Buffer, Interface

_CLASS_PRINTER = const(0x07)
_SUBCLASS_PRINTER = const(0x01)
_PROTOCOL_BIDIRECTIONAL = const(0x02)
_EP_IN = const(0x80)
_PACKET = const(64)
_REQ_TYPE_CLASS = const(1)
_GET_DEVICE_ID = const(0)
_GET_PORT_STATUS = const(1)
_SOFT_RESET = const(2)
_STAGE_SETUP = const(1)
_STAGE_ACK = const(3)
# GET_PORT_STATUS: bit 3 not error, bit 4 selected, bit 5 paper empty
_NOT_ERROR = const(0x08)
_SELECTED = const(0x10)
_PAPER_EMPTY = const(0x20)


class PrinterInterface(Interface):
    def __init__(self, device_id: str, rxbuf=512, txbuf=256):
        super().__init__()
        # The 1284 ID is sent with its length first, big-endian, the length counted in.
        ident = device_id.encode()
        self._device_id = struct.pack(">H", len(ident) + 2) + ident
        self._rb = Buffer(rxbuf)
        self._wb = Buffer(txbuf)
        self._status = bytearray(1)
        self.paper_empty = False  # set by the board from its sensor
        self.error = False
        self.resets = 0  # SOFT_RESET requests: the host restarted its job
        self.ep_out = self.ep_in = None

    def desc_cfg(self, desc, itf_num, ep_num, strs):
        desc.interface(itf_num, 2, _CLASS_PRINTER, _SUBCLASS_PRINTER, _PROTOCOL_BIDIRECTIONAL)
        self._itf = itf_num
        self.ep_out = ep_num
        self.ep_in = ep_num | _EP_IN
        desc.endpoint(self.ep_out, "bulk", _PACKET, 0)
        desc.endpoint(self.ep_in, "bulk", _PACKET, 0)

    def num_eps(self):  # pyright: ignore[reportIncompatibleMethodOverride]
        return 1  # one endpoint number, used in both directions

    def on_open(self):
        super().on_open()
        self._read()

    def on_interface_control_xfer(self, stage, request):  # pyright: ignore[reportIncompatibleMethodOverride]
        bm_request_type, b_request, _, w_index, _ = struct.unpack("BBHHH", request)
        if (bm_request_type >> 5) & 3 != _REQ_TYPE_CLASS:
            return False
        if b_request == _GET_DEVICE_ID:
            return self._device_id
        if b_request == _GET_PORT_STATUS:
            s = _SELECTED
            if not self.error:
                s |= _NOT_ERROR
            if self.paper_empty:
                s |= _PAPER_EMPTY
            self._status[0] = s
            return self._status
        if b_request == _SOFT_RESET:
            if stage == _STAGE_ACK:
                self.resets += 1
            return True
        return False

    # ---- the stream the board's port reads ---------------------------------------------------

    def _read(self):
        # Keep an OUT transfer pending while the buffer has room for a packet: the host is
        # NAKed otherwise, which is USB's own flow control.
        if (
            self.is_open()
            and not self.xfer_pending(self.ep_out)
            and self._rb.writable() >= _PACKET
        ):
            self.submit_xfer(self.ep_out, self._rb.pend_write(_PACKET), self._read_done)

    def _read_done(self, ep, result, n):
        if result == 0:
            self._rb.finish_write(n)
        self._read()

    def _send(self):
        if self.is_open() and not self.xfer_pending(self.ep_in) and self._wb.readable():
            self.submit_xfer(self.ep_in, self._wb.pend_read(), self._sent)

    def _sent(self, ep, result, n):
        if result == 0:
            self._wb.finish_read(n)
        self._send()

    def any(self) -> int:
        return self._rb.readable()

    def readinto(self, buf) -> int:
        n = self._rb.readinto(buf)
        self._read()
        return n

    def write(self, data) -> int:
        """Queue a reply; what does not fit is not sent (a host that never reads must not
        stop the module). Returns the bytes queued."""
        n = self._wb.write(data)
        self._send()
        return n
