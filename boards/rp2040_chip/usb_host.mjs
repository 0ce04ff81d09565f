// A USB host for rp2040js's device-mode USB controller: it enumerates the device as a PC would
// (address, device and configuration descriptors, configuration), opens every CDC-ACM function
// (line coding 115200 8N1, DTR and RTS set) and offers each data interface as a byte stream.
// A printer-class interface (07h) is noted and offered the same way, and so is a bulk-only
// mass-storage interface (08h, protocol 50h) for mass_storage.mjs.
//
// rp2040js calls onEndpointWrite when the device has sent an IN packet and onEndpointRead when
// it has armed an OUT buffer; the host answers an armed OUT buffer only when it has bytes for
// it (a real host's NAK), so the device takes data at its own pace and none is dropped.
// The device connecting (its D+ pull-up coming on, SIE_CTRL.PULLUP_EN) makes the host reset
// the bus and enumerate again, as runtime USB (machine.USBDevice) does when it changes its
// descriptors.

import { DoubleBuffers } from './usb_buffers.mjs';

const MAX_PACKET = 64; // full speed, EP0 and bulk
const GAP_NS = 20e3; // between control transfers
const TIMEOUT_NS = 100e6; // for a control transfer (a stall is not seen: rp2040js reports none)
const DESC_DEVICE = 1;
const DESC_CONFIG = 2;
const DESC_INTERFACE = 4;
const DESC_ENDPOINT = 5;
const DESC_CS_INTERFACE = 0x24;
const CDC_UNION = 0x06;
const CLASS_CDC = 0x02;
const CLASS_CDC_DATA = 0x0a;
const CLASS_PRINTER = 0x07;
const CLASS_MASS_STORAGE = 0x08;
const OTHER_CLASSES = { 0xff: 'vendor' }; // named in describe()
const PULLUP_EN = 1 << 16;
const BUFFER_CONTROL = [0x80, 0x100]; // EP0_IN_BUFFER_CONTROL .. past EP15_OUT_BUFFER_CONTROL
const BUF_AVAILABLE = 1 << 10;
const LINE_CODING_115200_8N1 = Uint8Array.of(0x00, 0xc2, 0x01, 0x00, 0, 0, 8);

function setup(bmRequestType, bRequest, wValue, wIndex, wLength) {
  return Uint8Array.of(
    bmRequestType,
    bRequest,
    wValue & 0xff,
    wValue >> 8,
    wIndex & 0xff,
    wIndex >> 8,
    wLength & 0xff,
    wLength >> 8,
  );
}

/** One direction pair of bulk endpoints: bytes out to the device, bytes in from it. */
export class UsbStream {
  constructor(usb, kind, iface, inEp, outEp) {
    Object.assign(this, { usb, kind, iface, inEp, outEp });
    this.onData = null; // (Uint8Array) from the device
    this.onDrain = null; // () the device has taken everything written
    this.firstInNs = null; // emulated time of the first bytes from the device
    this.chunks = [];
    this.queued = 0;
    this.armed = []; // sizes of the OUT buffers the device has armed, in the order it takes them
  }

  write(bytes) {
    if (bytes.length) this.chunks.push(Uint8Array.from(bytes));
    this.queued += bytes.length;
    this._feed();
  }

  _arm(size) {
    this.armed.push(size);
    this._feed();
  }

  _feed() {
    while (this.armed.length && this.queued) this._packet(this.armed.shift());
  }

  _packet(size) {
    const n = Math.min(size, MAX_PACKET, this.queued);
    const packet = new Uint8Array(n);
    for (let k = 0; k < n;) {
      const head = this.chunks[0];
      const take = Math.min(head.length, n - k);
      packet.set(head.subarray(0, take), k);
      k += take;
      if (take === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(take);
    }
    this.queued -= n;
    this.usb.endpointReadDone(this.outEp, packet);
    if (!this.queued) this.onDrain?.();
  }
}

/** rp2040js, handed both buffers of a double-buffered IN endpoint in one write of its buffer
 * control, sends buffer 1 before buffer 0; the chip sends buffer 0 first. TinyUSB arms both for
 * a transfer longer than a packet, so the host got its last packet first (a 72-byte line came
 * out as its last 8 bytes, then its first 64). Put them back in the chip's order. */
export function fixDoubleBufferOrder(usb) {
  const updated = usb.DPRAMUpdated.bind(usb);
  usb.DPRAMUpdated = (offset, value) => {
    if (!(value & BUF_AVAILABLE) || offset < BUFFER_CONTROL[0] || offset >= BUFFER_CONTROL[1]) {
      return updated(offset, value);
    }
    const alarm = usb.endpointWriteAlarms[(offset - BUFFER_CONTROL[0]) >> 3];
    const before = alarm.buffers.length;
    updated(offset, value);
    const b = alarm.buffers;
    if (b.length === before + 2) [b[before], b[before + 1]] = [b[before + 1], b[before]];
  };
}

export class UsbHost {
  /** log(line): problems; trace(line): connects and disconnects. */
  constructor(usb, { log = () => {}, trace = () => {} } = {}) {
    this.usb = usb;
    this.log = log;
    this.trace = trace;
    this.onConfigured = null; // (host) when every CDC function is open
    this.onDisconnected = null;
    this.gap = usb.rp2040.clock.createAlarm(() => {
      this.gapping = false;
      if (!this.active) this._next();
    });
    this.timeout = usb.rp2040.clock.createAlarm(() => this._noAnswer());
    fixDoubleBufferOrder(usb);
    new DoubleBuffers(usb);
    this._reset();
    usb.onUSBEnabled = () => {};
    usb.onResetReceived = () => this._enumerate();
    usb.onEndpointWrite = (ep, buf) => (ep === 0 ? this._ep0In(buf) : this._in(ep, buf));
    usb.onEndpointRead = (ep, size) =>
      ep === 0 ? this._ep0Out(size) : this.byOut.get(ep)?._arm(size);
    const write = usb.handleSieCtrlWrite.bind(usb);
    usb.handleSieCtrlWrite = (value) => {
      const was = usb.sieCtrl & PULLUP_EN;
      write(value);
      if (value & PULLUP_EN && !was) this._connect();
      else if (!(value & PULLUP_EN) && was) this._disconnect();
    };
  }

  _in(ep, buf) {
    const stream = this.byIn.get(ep);
    if (!stream) return;
    if (buf.length && stream.firstInNs === null) stream.firstInNs = this.usb.rp2040.clock.nanos;
    stream.onData?.(buf);
  }

  _reset() {
    this.configured = false;
    this.configuredNs = null;
    this.device = null;
    this.streams = []; // CDC data interfaces in interface order, then a printer interface
    this.others = []; // interfaces of classes it does not speak
    this.byIn = new Map();
    this.byOut = new Map();
    this.transfers = [];
    this.active = null;
    this.gapping = false;
    this.gap.cancel();
    this.timeout.cancel();
    this.ep0Armed = -1;
  }

  get cdc() {
    return this.streams.filter((s) => s.kind === 'cdc');
  }

  get printer() {
    return this.streams.find((s) => s.kind === 'printer') ?? null;
  }

  /** A bulk-only mass-storage interface (the boot ROM's RPI-RP2 drive), or null. */
  get massStorage() {
    return this.streams.find((s) => s.kind === 'mass-storage') ?? null;
  }

  _connect() {
    this.trace('usb: device connected; bus reset');
    this._reset();
    this.usb.resetDevice();
  }

  _disconnect() {
    this.trace('usb: device disconnected');
    this._reset();
    this.onDisconnected?.();
  }

  // ---- control transfers, one at a time ----------------------------------------------------

  /** Queues a control transfer; a null packet only calls `then` when its turn comes. */
  _control(packet, { out = null, then = () => {} } = {}) {
    const length = packet ? packet[6] | (packet[7] << 8) : 0;
    this.transfers.push({ packet, out, then, data: [], length });
    if (!this.active && !this.gapping) this._next();
  }

  _next() {
    const t = (this.active = this.transfers.shift() ?? null);
    if (!t) return;
    if (!t.packet) {
      this.active = null;
      t.then();
      return this._next();
    }
    t.stage = t.packet[0] & 0x80 ? (t.length ? 'in' : 'status-in') : t.out ? 'out' : 'status-in';
    this.timeout.schedule(TIMEOUT_NS);
    this.usb.sendSetupPacket(t.packet);
  }

  /** A stalled or unanswered request: reported, and the next one goes. */
  _noAnswer() {
    const t = this.active;
    if (!t) return;
    this.log(`usb: no answer to SETUP ${Buffer.from(t.packet).toString('hex')} (${t.stage})`);
    this.active = null;
    this._next();
  }

  _ep0In(buf) {
    const t = this.active;
    if (!t) return;
    if (t.stage === 'in') {
      t.data.push(...buf);
      if (t.data.length >= t.length || buf.length < MAX_PACKET) {
        t.stage = 'status-out';
        if (this.ep0Armed >= 0) this._ep0Out(this.ep0Armed);
      }
    } else if (t.stage === 'status-in') {
      this._finish(t);
    }
  }

  _ep0Out(size) {
    const t = this.active;
    this.ep0Armed = -1;
    if (t?.stage === 'out') {
      t.stage = 'status-in';
      this.usb.endpointReadDone(0, t.out);
    } else if (t?.stage === 'status-out') {
      this.usb.endpointReadDone(0, new Uint8Array(0));
      this._finish(t);
    } else {
      this.ep0Armed = size; // answered when a transfer needs it
    }
  }

  _finish(t) {
    // The next SETUP goes once the device has had this transfer's status stage (rp2040js
    // delivers an OUT packet 10 us after the host gives it).
    this.active = null;
    this.timeout.cancel();
    this.gapping = true;
    this.gap.schedule(GAP_NS);
    t.then(Uint8Array.from(t.data));
  }

  // ---- enumeration --------------------------------------------------------------------------

  _enumerate() {
    this._reset();
    this._control(setup(0x00, 5, 1, 0, 0)); // SET_ADDRESS 1
    this._control(setup(0x80, 6, DESC_DEVICE << 8, 0, 18), {
      then: (d) => (this.device = { vid: d[8] | (d[9] << 8), pid: d[10] | (d[11] << 8) }),
    });
    this._control(setup(0x80, 6, DESC_CONFIG << 8, 0, 9), {
      then: (head) => {
        const total = head[2] | (head[3] << 8);
        this._control(setup(0x80, 6, DESC_CONFIG << 8, 0, total), {
          then: (config) => this._configure(config),
        });
      },
    });
  }

  _configure(config) {
    const interfaces = parseInterfaces(config);
    for (const comm of interfaces.filter((i) => i.cls === CLASS_CDC && i.subclass === 2)) {
      const data = interfaces.find(
        (i) => i.number === (comm.union ?? comm.number + 1) && i.cls === CLASS_CDC_DATA,
      );
      if (data) this._addStream('cdc', comm.number, data);
    }
    for (const p of interfaces.filter((i) => i.cls === CLASS_PRINTER))
      this._addStream('printer', p.number, p);
    for (const m of interfaces.filter((i) => i.cls === CLASS_MASS_STORAGE && i.protocol === 0x50))
      this._addStream('mass-storage', m.number, m); // bulk-only transport (mass_storage.mjs)
    // The rest this host does not speak: the boot ROM's PICOBOOT, say.
    this.others = interfaces.filter((i) => OTHER_CLASSES[i.cls]);
    this._control(setup(0x00, 9, config[5], 0, 0)); // SET_CONFIGURATION
    for (const s of this.cdc) {
      this._control(setup(0x21, 0x20, 0, s.iface, 7), { out: LINE_CODING_115200_8N1 });
      this._control(setup(0x21, 0x22, 0x3, s.iface, 0)); // DTR | RTS
    }
    this._control(null, {
      then: () => {
        this.configured = true;
        this.configuredNs = this.usb.rp2040.clock.nanos;
        this.onConfigured?.(this);
      },
    });
  }

  _addStream(kind, iface, data) {
    const bulk = data.endpoints.filter((e) => (e.attributes & 3) === 2);
    const number = (e) => (e ? e.address & 0xf : 0);
    const inEp = number(bulk.find((e) => e.address & 0x80));
    const outEp = number(bulk.find((e) => !(e.address & 0x80)));
    const s = new UsbStream(this.usb, kind, iface, inEp, outEp);
    this.streams.push(s);
    if (inEp) this.byIn.set(inEp, s);
    if (outEp) this.byOut.set(outEp, s);
  }

  describe() {
    const id = this.device ? `${hex4(this.device.vid)}:${hex4(this.device.pid)}` : '?';
    const parts = this.streams.map((s) => `${s.kind} interface ${s.iface}`);
    const others = this.others.map((i) => `; ${OTHER_CLASSES[i.cls]} interface ${i.number}`);
    return `usb ${id}: ${parts.join(', ') || 'no CDC or printer interface'}${others.join('')}`;
  }
}

/** Interfaces (alternate setting 0) of a configuration descriptor, with their endpoints and
 * a CDC union's data interface. */
function parseInterfaces(config) {
  const interfaces = [];
  let current = null;
  for (let at = 0; at + 1 < config.length && config[at] >= 2; at += config[at]) {
    const d = config.subarray(at, at + config[at]);
    if (d[1] === DESC_INTERFACE) {
      current =
        d[3] === 0
          ? { number: d[2], cls: d[5], subclass: d[6], protocol: d[7], endpoints: [] }
          : null;
      if (current) interfaces.push(current);
    } else if (current && d[1] === DESC_ENDPOINT) {
      current.endpoints.push({ address: d[2], attributes: d[3] });
    } else if (current && d[1] === DESC_CS_INTERFACE && d[2] === CDC_UNION) {
      current.union = d[4];
    }
  }
  return interfaces;
}

function hex4(n) {
  return n.toString(16).padStart(4, '0');
}
