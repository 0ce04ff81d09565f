// Double-buffered endpoints with an interrupt per buffer, as the RP2040's USB controller runs
// them (RP2040 datasheet 4.1.2.5.1, "Double buffering"), for the boot ROM's mass storage and
// PICOBOOT endpoints. rp2040js does not: it fills only buffer 0 of an OUT endpoint, sends
// buffer 1 of an IN endpoint only when buffer 0 is given in the same write, and reads
// BUFF_CPU_SHOULD_HANDLE as 0. The ROM gives its buffers one at a time, alternately (a 16-bit
// write of one half of the buffer control), and asks BUFF_CPU_SHOULD_HANDLE which one is done.
//
// Here, for those endpoints only:
// - a half of the buffer control written AVAILABLE is the next buffer the controller takes
//   (in the order given, which is the controller's alternation since the ROM gives them so);
// - an IN buffer goes to the host 10 us later; an OUT buffer is offered to the host
//   (onEndpointRead) and filled with the host's packet (endpointReadDone), FULL and its length
//   in its own half;
// - each done buffer sets BUFF_STATUS, BUFF_CPU_SHOULD_HANDLE saying which half; the next is
//   done only after the CPU has cleared that bit, as the controller holds a second completion
//   until the first is handled.
// Endpoints the device sets up otherwise (TinyUSB's in MicroPython) stay with rp2040js.

const BUFFER_CONTROL = 0x88; // EP1_IN_BUFFER_CONTROL; EP0's stay with rp2040js
const BUFFER_CONTROL_END = 0x100;
const DOUBLE_BUFFERED = 1 << 30;
const INTERRUPT_PER_BUFFER = 1 << 29;
const AVAILABLE = 1 << 10;
const FULL = 1 << 15;
const LENGTH = 0x3ff;
const BUFF_CPU_SHOULD_HANDLE = 0x5c;
const BUFFER_1 = 64; // a bulk endpoint's second buffer, after its first in the DPRAM
const PACKET_NS = 10e3; // as rp2040js's delay for a single-buffered packet

export class DoubleBuffers {
  constructor(usb) {
    this.usb = usb;
    this.shouldHandle = 0;
    this.endpoints = new Map(); // bit (ep * 2 + out) -> {ep, out, given: [], done: [], alarm}
    const updated = usb.DPRAMUpdated.bind(usb);
    usb.DPRAMUpdated = (offset, value) => {
      if (!this._give(offset, value)) updated(offset, value);
    };
    const readDone = usb.endpointReadDone.bind(usb);
    usb.endpointReadDone = (ep, buffer, delay) => {
      const e = this.endpoints.get(ep * 2 + 1);
      if (e?.given.length) this._finish(e, buffer);
      else readDone(ep, buffer, delay);
    };
    const read = usb.readUint32.bind(usb);
    usb.readUint32 = (offset) =>
      offset === BUFF_CPU_SHOULD_HANDLE ? this.shouldHandle : read(offset);
    const statusUpdated = usb.buffStatusUpdated.bind(usb);
    usb.buffStatusUpdated = () => {
      statusUpdated();
      for (const e of this.endpoints.values()) this._complete(e);
    };
  }

  /** A write of a buffer control: false if rp2040js is to take it. */
  _give(offset, value) {
    if (offset < BUFFER_CONTROL || offset >= BUFFER_CONTROL_END) return false;
    const ep = (offset - 0x80) >> 3;
    const out = (offset & 4) !== 0;
    const control = this.usb.readEndpointControlReg(ep, out);
    const modelled = DOUBLE_BUFFERED | INTERRUPT_PER_BUFFER;
    if ((control & modelled) !== modelled) return false;
    const e = this._endpoint(ep, out);
    if (!(value & (AVAILABLE | (AVAILABLE << 16)))) {
      if (!value) this._reset(e); // the device resets the endpoint's buffers
      return true;
    }
    const fresh = [];
    for (const half of [0, 1]) {
      const shift = half * 16;
      if (!((value >> shift) & AVAILABLE)) continue;
      value &= ~(AVAILABLE << shift);
      const length = (value >> shift) & LENGTH;
      const at = (control & 0xffc0) + half * BUFFER_1;
      const data = out ? null : this.usb.rp2040.usbDPRAM.slice(at, at + length);
      fresh.push({ half, length, at, data });
    }
    e.given.push(...fresh);
    this.usb.rp2040.usbDPRAMView.setUint32(offset, value, true);
    if (out) {
      for (const g of fresh) this.usb.onEndpointRead?.(ep, g.length);
    } else if (!e.alarm.busy) {
      e.alarm.busy = true;
      e.alarm.schedule(PACKET_NS);
    }
    return true;
  }

  _endpoint(ep, out) {
    const bit = ep * 2 + (out ? 1 : 0);
    let e = this.endpoints.get(bit);
    if (!e) {
      e = { ep, out, bit, given: [], done: [] };
      e.alarm = this.usb.rp2040.clock.createAlarm(() => this._send(e));
      this.endpoints.set(bit, e);
    }
    return e;
  }

  _reset(e) {
    e.given = [];
    e.done = [];
    e.alarm.cancel();
    e.alarm.busy = false;
  }

  /** The next IN buffer has gone to the host. */
  _send(e) {
    e.alarm.busy = false;
    const g = e.given.shift();
    if (!g) return;
    this.usb.onEndpointWrite?.(e.ep, g.data);
    e.done.push({ half: g.half, control: 0 });
    this._complete(e);
    if (e.given.length) {
      e.alarm.busy = true;
      e.alarm.schedule(PACKET_NS);
    }
  }

  /** The host's packet for the next OUT buffer. */
  _finish(e, packet) {
    const g = e.given.shift();
    const n = Math.min(packet.length, g.length);
    this.usb.rp2040.usbDPRAM.set(packet.subarray(0, n), g.at);
    e.done.push({ half: g.half, control: FULL | n });
    this._complete(e);
  }

  /** Reports the oldest done buffer once the CPU has handled the one before. */
  _complete(e) {
    const usb = this.usb;
    if (!e.done.length || usb.buffStatus & (1 << e.bit)) return;
    const { half, control } = e.done.shift();
    const offset = 0x80 + e.ep * 8 + (e.out ? 4 : 0);
    const shift = half * 16;
    const value = usb.rp2040.usbDPRAMView.getUint32(offset, true);
    const mask = (FULL | LENGTH) << shift;
    usb.rp2040.usbDPRAMView.setUint32(offset, ((value & ~mask) | (control << shift)) >>> 0, true);
    this.shouldHandle = half ? this.shouldHandle | (1 << e.bit) : this.shouldHandle & ~(1 << e.bit);
    usb.indicateBufferReady(e.ep, e.out);
  }
}
