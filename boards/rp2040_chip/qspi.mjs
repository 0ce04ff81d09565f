// The path from the CPU to the flash part, in place of rp2040js's stubs: the SSI (XIP_SSI,
// 0x18000000) in standard SPI mode, the QSPI chip select (IO_QSPI GPIO_QSPI_SS_CTRL's output
// override) and the XIP controller's flush and status registers (0x14000000).
//
// A standard-SPI frame written to DR0 is clocked through the flash at once, and its answer
// lands in the RX FIFO. The chip select is low while software forces it low (the boot ROM and
// pico-sdk's flash_do_cmd do) or, with no override, from the first frame until software polls
// SR for the end of the transfer (boot2's read_flash_sreg / wait_ssi_ready), or disables the
// SSI. Quad/XIP frames are not clocked: rp2040js serves the XIP window from the flash array.

import { BasePeripheral } from 'rp2040js';

const SSI_CTRLR0 = 0x00;
const SSI_SSIENR = 0x08;
const SSI_SER = 0x10;
const SSI_BAUDR = 0x14;
const SSI_TXFLR = 0x20;
const SSI_RXFLR = 0x24;
const SSI_SR = 0x28;
const SSI_IDR = 0x58;
const SSI_VERSION_ID = 0x5c;
const SSI_DR0 = 0x60;
const SR_TFNF = 1 << 1;
const SR_TFE = 1 << 2;
const SR_RFNE = 1 << 3;
const TMOD_EEPROM_READ = 3; // the SSI's XIP mode: instruction and address out, data in
const OUTOVER_NORMAL = 0; // the SSI drives the chip select (INVERT and HIGH deselect)
const OUTOVER_LOW = 2;
const IO_QSPI_SS_CTRL = 0x0c;

export class Ssi extends BasePeripheral {
  constructor(rp2040, flash) {
    super(rp2040, 'SSI');
    this.flash = flash;
    this.regs = { [SSI_BAUDR]: 0, [SSI_CTRLR0]: 0x70000, [SSI_SER]: 0 };
    this.enabled = false;
    this.rx = [];
    this.outover = OUTOVER_NORMAL; // from IO_QSPI
    this.hwSelect = false; // the SSI's own chip select, in a transfer
    this.onModeChange = null; // () the XIP window may have stopped being served
  }

  /** The SSI is set up to serve XIP reads (whether the part answers them is the flash's). */
  get xipMode() {
    const tmod = (this.regs[SSI_CTRLR0] >> 8) & 3;
    return this.enabled && tmod === TMOD_EEPROM_READ && this.outover === OUTOVER_NORMAL;
  }

  get csLow() {
    return this.outover === OUTOVER_LOW || (this.outover === OUTOVER_NORMAL && this.hwSelect);
  }

  /** Drives the flash's chip select from the override and the SSI's own select. */
  setOutover(value) {
    if (value === this.outover) return;
    if (this.csLow) this.flash.deselect();
    this.outover = value;
    this.hwSelect = false; // transfers are instant: none is under way across an override change
    if (this.csLow) this.flash.select();
    this.onModeChange?.();
  }

  _endTransfer() {
    const was = this.csLow;
    this.hwSelect = false;
    this._chipSelect(was);
  }

  _chipSelect(was) {
    if (this.csLow && !was) this.flash.select();
    else if (!this.csLow && was) this.flash.deselect();
  }

  readUint32(offset) {
    switch (offset) {
      case SSI_SR:
        if (this.outover === OUTOVER_NORMAL && this.hwSelect) this._endTransfer();
        return SR_TFNF | SR_TFE | (this.rx.length ? SR_RFNE : 0);
      case SSI_TXFLR:
        return 0;
      case SSI_RXFLR:
        return this.rx.length;
      case SSI_DR0:
        return this.rx.length ? this.rx.shift() : 0;
      case SSI_SSIENR:
        return this.enabled ? 1 : 0;
      case SSI_IDR:
        return 0x51535049;
      case SSI_VERSION_ID:
        return 0x3430312a;
      default:
        return this.regs[offset] ?? 0; // interrupt and DMA registers: nothing pending
    }
  }

  writeUint32(offset, value) {
    switch (offset) {
      case SSI_SSIENR:
        this.enabled = !!(value & 1);
        if (!this.enabled) {
          this.rx.length = 0; // disabling clears the FIFOs and ends a transfer
          this._endTransfer();
        }
        return;
      case SSI_DR0:
        this._frame(value);
        return;
      default:
        this.regs[offset] = value;
    }
    this.onModeChange?.();
  }

  _frame(value) {
    const ctrlr0 = this.regs[SSI_CTRLR0];
    const standard = ((ctrlr0 >> 21) & 3) === 0;
    const txAndRx = ((ctrlr0 >> 8) & 3) === 0;
    if (!this.enabled || !standard || !txAndRx) return; // XIP set-up frames: see above
    if (this.outover === OUTOVER_NORMAL && !this.hwSelect) {
      this.hwSelect = true;
      this._chipSelect(false);
    }
    const bits = ((ctrlr0 >> 16) & 0x1f) + 1;
    const low = this.csLow;
    let answer = 0;
    for (let shift = bits - 8; shift >= 0; shift -= 8) {
      const b = low ? this.flash.transfer((value >>> shift) & 0xff) : 0xff;
      answer = ((answer << 8) | b) >>> 0;
    }
    if (this.rx.length < 16) this.rx.push(answer); // a fuller FIFO overflows and drops
  }
}

/** IO_QSPI: the six QSPI pins' STATUS/CTRL pairs; SS's output override is the chip select. */
export class IoQspi extends BasePeripheral {
  constructor(rp2040, ssi) {
    super(rp2040, 'IO_QSPI');
    this.ssi = ssi;
    this.ctrl = new Uint32Array(6);
  }

  readUint32(offset) {
    const pin = offset >> 3;
    if (pin >= 6) return 0;
    if (offset & 4) return this.ctrl[pin];
    return 0; // STATUS: nothing modelled
  }

  writeUint32(offset, value) {
    const pin = offset >> 3;
    if (pin >= 6 || !(offset & 4)) return;
    this.ctrl[pin] = value;
    if (offset === IO_QSPI_SS_CTRL) this.ssi.setOutover((value >> 8) & 3);
  }
}

/** XIP_CTRL: the cache is not modelled (the XIP window reads the flash array), so a flush is
 * done as soon as it is asked for. */
export class XipCtrl extends BasePeripheral {
  constructor(rp2040) {
    super(rp2040, 'XIP_CTRL');
    this.ctrl = 0x3;
  }

  readUint32(offset) {
    if (offset === 0x00) return this.ctrl;
    if (offset === 0x08) return 0x3; // STAT: flush ready, stream FIFO empty
    return 0;
  }

  writeUint32(offset, value) {
    if (offset === 0x00) this.ctrl = value;
  }
}

const XIP_SRAM = 0x15000000;
const XIP_SRAM_SIZE = 16 * 1024;

/** The XIP cache's 16 KB as RAM at 0x15000000 (datasheet 2.6.3.1: with the cache disabled it
 * is plain SRAM; the cache itself is not modelled). rp2040js maps nothing there; the boot
 * ROM's USB boot keeps its bitmaps of the UF2 blocks it has written and the sectors it has
 * erased there. Byte and halfword writes come through `mcu`'s own, which would otherwise hand
 * a peripheral the byte copied to all four. */
export class XipSram extends BasePeripheral {
  constructor(mcu) {
    super(mcu, 'XIP_SRAM');
    this.bytes = new Uint8Array(XIP_SRAM_SIZE);
    this.view = new DataView(this.bytes.buffer);
    for (const [name, set] of [
      ['writeUint8', (at, v) => this.view.setUint8(at, v)],
      ['writeUint16', (at, v) => this.view.setUint16(at, v, true)],
    ]) {
      const write = Object.getPrototypeOf(mcu)[name];
      mcu[name] = (address, value) => {
        const at = (address >>> 0) - XIP_SRAM;
        if (at >= 0 && at < XIP_SRAM_SIZE) set(at, value);
        else write.call(mcu, address, value);
      };
    }
  }

  readUint32(offset) {
    return this.view.getUint32(offset, true);
  }

  /** rp2040js splits a peripheral's address into an atomic alias (bits 12-13) and an offset;
   * this RAM has no aliases: both are its offset. */
  writeUint32Atomic(offset, value, alias) {
    this.view.setUint32((alias << 12) | offset, value, true);
  }
}

const XIP_START = 0x10000000;
const XIP_END = 0x14000000; // the window and its three aliases, as rp2040js maps them
const NO_FLASH = new Uint8Array(0);

/**
 * Serves the XIP window only while the SSI and the flash part can (see the top of this file).
 * While they may not, rp2040js's fast paths to the flash array are shut (an empty array in its
 * place) so every read of the window comes through `readUint32` here, and is either served (the
 * part has finished meanwhile: the fast paths open again) or locks the core up: `onLockup`
 * (address, why) is called and the read returns no data (all ones).
 */
export class XipGate {
  constructor(mcu, ssi, flash) {
    Object.assign(this, { mcu, ssi, flash });
    this.onLockup = null;
    this.shut = false;
    this._read = (address) => this._readUint32(address);
    ssi.onModeChange = () => this.check();
    flash.onBusy = () => this.check();
    this._open();
  }

  get serving() {
    return this.ssi.xipMode && !this.flash.busy;
  }

  /** Something changed: shut the fast paths if the window may not be served now. */
  check() {
    if (!this.shut && !this.serving) this._shut();
  }

  _open() {
    const { mcu, flash } = this;
    mcu.flash = flash.bytes;
    mcu.flash16 = new Uint16Array(flash.bytes.buffer);
    mcu.flashView = new DataView(flash.bytes.buffer);
    delete mcu.readUint32; // rp2040js's own again
    this.shut = false;
  }

  _shut() {
    const { mcu } = this;
    mcu.flash = NO_FLASH; // its readUint8/readUint16 fall through to readUint32
    mcu.readUint32 = this._read;
    this.shut = true;
  }

  _readUint32(address) {
    const a = address >>> 0;
    const read = Object.getPrototypeOf(this.mcu).readUint32;
    if (a < XIP_START || a >= XIP_END) return read.call(this.mcu, a);
    if (this.serving) {
      this._open();
      return read.call(this.mcu, a);
    }
    const why = this.flash.busy
      ? `while the flash part is busy (${this.flash.busyWith})`
      : 'while the SSI is not in XIP mode';
    this.onLockup?.(a, why);
    return 0xffffffff;
  }
}

/** Puts these in place of rp2040js's stubs on a fresh RP2040; the XIP window's gate. */
export function attachFlash(mcu, flash) {
  const ssi = new Ssi(mcu, flash);
  mcu.peripherals[0x18000] = ssi;
  mcu.peripherals[0x40018] = new IoQspi(mcu, ssi);
  mcu.peripherals[0x14000] = new XipCtrl(mcu);
  mcu.peripherals[0x15000] = new XipSram(mcu);
  return new XipGate(mcu, ssi, flash);
}
