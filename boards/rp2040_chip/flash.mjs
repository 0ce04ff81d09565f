// The Pico's QSPI flash, a Winbond W25Q16JV (2 MiB), at the level of its SPI commands: the boot
// ROM's own routines (flash_range_program, flash_range_erase, flash_read_data, ...) drive it
// through the SSI, so it programs and erases exactly what they send, as the part would:
// - a page program (02h) only clears bits, and its data wraps inside the 256-byte page;
// - erases set 4 KiB (20h), 32 KiB (52h) or 64 KiB (D8h) to 0xFF; the address's low bits are
//   ignored, as the part does;
// - program and erase need write enable (06h) first, and keep the part busy for its typical
//   datasheet time, which the ROM waits out by polling the status register (05h); while busy
//   the part answers only status reads: a read command (03h, 0Bh) gets no data (all ones), and
//   the XIP window is not served (qspi.mjs, XipGate).
// Every program and erase is counted; a power cut can be set at the Nth one. The array is kept
// in a file (written whole, atomically: temp file and rename).

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export const FLASH_SIZE = 2 * 1024 * 1024;
const XIP_WINDOW = 16 * 1024 * 1024; // what rp2040js maps at 0x10000000
const PAGE = 256;
const SECTOR = 4096;
const ERASED = 0xff;

// W25Q16JV datasheet, typical times (tPP, tSE, tBE1, tBE2, tCE, tW), in ns of emulated time.
const BUSY_NS = { program: 0.4e6, 0x20: 45e6, 0x52: 120e6, 0xd8: 150e6, chip: 5e9, status: 10e6 };
const ERASE_SIZE = { 0x20: SECTOR, 0x52: 32 * 1024, 0xd8: 64 * 1024 };
const JEDEC_ID = [0xef, 0x40, 0x15];
const STATUS_READS = new Set([0x05, 0x35, 0x15]);

export class NorFlash {
  /** log(line): where irregular operations are reported. */
  constructor({ size = FLASH_SIZE, log = console.error, uniqueId = 0xe660583883344d2bn }) {
    this.size = size;
    this.bytes = new Uint8Array(XIP_WINDOW).fill(ERASED);
    this.now = null; // emulated ns, from powerUp
    this.log = log;
    this.uniqueId = [...Array(8)].map((_, i) => Number((uniqueId >> BigInt(56 - 8 * i)) & 0xffn));
    this.sr = [0x00, 0x02, 0x60]; // status registers 1-3; QE set, as boot2 leaves it
    this.busyUntil = 0;
    this.busyWith = ''; // what keeps it busy, for reports
    this.onBusy = null; // () a program, erase or status write has made the part busy
    this.stats = {
      programs: 0, // page programs done (or cut)
      erases: 0, // sector/block/chip erases done (or cut)
      erased_bytes: 0,
      wrapped_programs: 0, // page programs whose data ran past the page's end and wrapped
      overwrites: 0, // bytes a program tried to turn from 0 back to 1
      ignored: 0, // programs/erases sent without write enable, or while busy
    };
    this.cut = null; // {at, effect, kind}: the power goes at that program/erase (cutAt)
    this.onCut = null; // called with a description when the power goes
    this.dead = false;
    this.dirty = false;
    this.selected = false;
    this._page = new Uint8Array(PAGE);
  }

  /** Power comes on: nothing selected, not busy, write enable clear. now(): emulated ns, for
   * busy times, or null (every operation is instant). */
  powerUp(now) {
    this.now = now;
    this.dead = false;
    this.selected = false;
    this.busyUntil = 0;
    this.sr[0] &= ~0x03;
  }

  get ops() {
    return this.stats.programs + this.stats.erases;
  }

  // ---- the file -----------------------------------------------------------------------------

  /** Loads the array from path if it exists; true if it did. */
  load(path) {
    if (!existsSync(path)) return false;
    const data = readFileSync(path);
    if (data.length !== this.size) {
      throw new Error(`${path}: ${data.length} bytes, the flash has ${this.size}`);
    }
    this.bytes.set(data);
    return true;
  }

  /** Writes an image in as a UF2 flasher does: each sector it touches erased, then written. */
  place(blocks) {
    const sectors = new Set();
    for (const { offset, data } of blocks) {
      if (offset + data.length > this.size) {
        throw new Error(`image block at 0x${offset.toString(16)} is past the flash's end`);
      }
      for (let s = offset & ~(SECTOR - 1); s < offset + data.length; s += SECTOR) {
        if (!sectors.has(s)) this.bytes.fill(ERASED, s, s + SECTOR);
        sectors.add(s);
      }
      this.bytes.set(data, offset);
    }
    this.dirty = true;
  }

  save(path) {
    const temp = `${path}.tmp`;
    writeFileSync(temp, this.bytes.subarray(0, this.size));
    renameSync(temp, path);
    this.dirty = false;
  }

  /** The Nth program or erase from now (of `kind` 'any', 'program' or 'erase') does not
   * complete: effect 'none' (nothing of it happens), 'torn' (half of it does, as the sim's NOR
   * model tears) or 'done' (all of it, but the power goes before anything learns of it). */
  cutAt(n, effect = 'none', kind = 'any') {
    if (!['none', 'torn', 'done'].includes(effect)) throw new Error(`effect ${effect}?`);
    if (!['any', 'program', 'erase'].includes(kind)) throw new Error(`kind ${kind}?`);
    this.cut = n > 0 ? { at: this._count(kind) + n, effect, kind } : null;
  }

  _count(kind) {
    return kind === 'program'
      ? this.stats.programs
      : kind === 'erase'
        ? this.stats.erases
        : this.ops;
  }

  // ---- the SPI side -------------------------------------------------------------------------

  get busy() {
    return this.now !== null && this.now() < this.busyUntil;
  }

  select() {
    this.selected = true;
    this.cmd = -1;
    this.count = 0; // bytes after the command byte
    this.addr = 0;
    this.sent = 0; // page program data bytes
    this.newSr = [];
  }

  /** One byte each way while selected (standard SPI, MSB first). */
  transfer(b) {
    if (!this.selected || this.dead) return ERASED;
    if (this.cmd < 0) {
      this.cmd = b;
      return ERASED;
    }
    const i = ++this.count;
    if (this.busy && !STATUS_READS.has(this.cmd)) return ERASED; // the part ignores it
    switch (this.cmd) {
      case 0x05:
        return this.sr[0] | (this.busy ? 1 : 0);
      case 0x35:
        return this.sr[1];
      case 0x15:
        return this.sr[2];
      case 0x03: // read
        return i <= 3 ? this._address(b) : this.bytes[(this.addr + i - 4) % this.size];
      case 0x0b: // fast read: one dummy byte
        return i <= 3
          ? this._address(b)
          : i === 4
            ? ERASED
            : this.bytes[(this.addr + i - 5) % this.size];
      case 0x02:
        if (i <= 3) return this._address(b);
        this._page[(this.addr + this.sent++) % PAGE] = b;
        return ERASED;
      case 0x20:
      case 0x52:
      case 0xd8:
        return i <= 3 ? this._address(b) : ERASED;
      case 0x01:
      case 0x31:
        this.newSr.push(b);
        return ERASED;
      case 0x4b: // unique ID after four dummy bytes
        return i <= 4 ? ERASED : this.uniqueId[(i - 5) % 8];
      case 0x9f:
        return JEDEC_ID[(i - 1) % 3];
      case 0x90: // manufacturer/device ID after a 24-bit address
        return i <= 3 ? ERASED : (i - 4) % 2 ? 0x14 : 0xef;
      case 0xab: // release power-down / device ID after three dummy bytes
        return i <= 3 ? ERASED : 0x14;
      default:
        return ERASED; // SFDP, resets, continuous-read reset (FFh): nothing modelled
    }
  }

  deselect() {
    if (!this.selected) return;
    this.selected = false;
    if (this.dead || this.cmd < 0) return;
    const { cmd, count } = this;
    if (this.busy && !STATUS_READS.has(cmd)) {
      if (cmd === 0x02 || cmd in ERASE_SIZE) {
        this._irregular('ignored', `command ${cmd.toString(16).padStart(2, '0')}h while busy`);
      }
      return;
    }
    if (cmd === 0x06) this.sr[0] |= 0x02;
    else if (cmd === 0x04) this.sr[0] &= ~0x02;
    else if (cmd === 0x02 && count >= 4) this._write((e) => this._program(e), 'program');
    else if (cmd in ERASE_SIZE && count === 3) this._write((e) => this._erase(cmd, e), 'erase');
    else if ((cmd === 0x60 || cmd === 0xc7) && count === 0) {
      this._write((e) => this._erase(cmd, e), 'erase');
    } else if ((cmd === 0x01 || cmd === 0x31) && this.newSr.length) this._writeStatus(cmd);
  }

  _address(b) {
    this.addr = ((this.addr << 8) | b) & 0xffffff;
    return ERASED;
  }

  _write(op, what) {
    if (!(this.sr[0] & 0x02)) {
      this._irregular('ignored', `${what} at 0x${hex(this.addr)} without write enable`);
      return;
    }
    this.sr[0] &= ~0x02;
    const { cut } = this;
    const cutHere =
      cut && (cut.kind === 'any' || cut.kind === what) && this._count(cut.kind) + 1 === cut.at;
    const at = this.addr;
    const busyNs = op(cutHere ? cut.effect : 'done');
    this.dirty = true;
    this._busyFor(busyNs, `${what} at 0x${hex(at)}`);
    if (cutHere) {
      this.dead = true;
      this.cut = null;
      this.onCut?.(`${what} ${this._count(what)} at 0x${hex(this.addr)} (${cut.effect})`);
    }
  }

  _program(effect = 'done') {
    this.stats.programs++;
    const start = this.addr % this.size;
    const page = start & ~(PAGE - 1);
    const first = start - page;
    const n = Math.min(this.sent, PAGE); // past 256 bytes the last 256 count
    const from = this.sent > PAGE ? (first + this.sent) % PAGE : first;
    if (first + this.sent > PAGE) {
      this.stats.wrapped_programs++;
      this._irregular(
        null,
        `page program at 0x${hex(start)}: ${this.sent} bytes wrapped inside the page`,
      );
    }
    const done = effect === 'done' ? n : effect === 'torn' ? n >> 1 : 0;
    for (let k = 0; k < done; k++) {
      const pos = (from + k) % PAGE;
      const old = this.bytes[page + pos];
      const b = this._page[pos];
      if (b & ~old & 0xff) this.stats.overwrites++;
      this.bytes[page + pos] = old & b;
    }
    if (effect === 'torn' && done < n) {
      const pos = (from + done) % PAGE; // the next byte: only some of its bits got cleared
      this.bytes[page + pos] &= this._page[pos] | 0x0f;
    }
    return BUSY_NS.program;
  }

  _erase(cmd, effect = 'done') {
    this.stats.erases++;
    const size = ERASE_SIZE[cmd] ?? this.size;
    const start = size === this.size ? 0 : (this.addr % this.size) & ~(size - 1);
    const n = effect === 'done' ? size : effect === 'torn' ? size >> 1 : 0;
    this.bytes.fill(ERASED, start, start + n);
    this.stats.erased_bytes += n;
    return BUSY_NS[cmd] ?? BUSY_NS.chip;
  }

  _writeStatus(cmd) {
    if (!(this.sr[0] & 0x02)) return;
    const [a, b] = this.newSr;
    if (cmd === 0x31) this.sr[1] = a;
    else {
      this.sr[0] = a & ~0x03;
      if (b !== undefined) this.sr[1] = b;
    }
    this.sr[0] &= ~0x02;
    this._busyFor(BUSY_NS.status, 'status register write');
  }

  _busyFor(ns, what) {
    if (this.now === null) return;
    this.busyUntil = this.now() + ns;
    this.busyWith = what;
    this.onBusy?.();
  }

  _irregular(counter, what) {
    if (counter) this.stats[counter]++;
    this.log(`flash: ${what}`);
  }
}

function hex(n) {
  return n.toString(16).padStart(6, '0');
}
