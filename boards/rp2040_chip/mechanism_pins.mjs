// The mechanism at the chip's pins: what the head's logic and the motor do with the levels the
// emulated chip drives, turned into the events the mechanism twin takes (boards/sim/pin_twin.py).
//
// Here ends the harness: it is the head's electronics, not its physics. The 384-bit shift
// register takes DAT at each rising CLK (the first bit shifted in ends at dot 0 after 384
// clocks), /LAT low copies it into the latch, STB high heats the latched dots for as long as it
// stays high, and a change of the four phase levels is one motor step. Where the twin begins:
// which dots burn, how the paper moves and how warm the head gets (boards/sim/mechanism.py).
//
// Times are the emulated clock's, exact to the PIO cycle that moved the pin.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** boards/rp2_pico/board.py's WIRING table: the head's and the motor's pins, and the sensors
 * the twin answers for. */
export const PICO_MECHANISM = {
  clk: 10,
  dat: 11,
  lat: 12,
  stb: 13,
  phases: [6, 7, 8, 9], // A+, A-, B+, B-
  paper: 20,
  nearEnd: 21,
  thermistorAdc: 0,
  supplyAdc: 1,
};

const HIGH = 1; // rp2040js GPIOPinState.High
const SENSE_NS = 2e6; // the sensors are brought up to date this often (emulated)

/** A 12-bit reading of `mv` on a 3.3 V reference. */
const adc = (mv) => Math.max(0, Math.min(4095, Math.round((mv / 3300) * 4095)));

export class MechanismPins {
  /** twin: a Twin (below). tearIdleMs: the paper is torn off once it has stood this long after
   * moving (a cashier takes the receipt when the printer stops); 0: only when asked. */
  constructor(twin, { wiring = PICO_MECHANISM, tearIdleMs = 0, onReceipt = null } = {}) {
    this.twin = twin;
    this.tearIdleNs = tearIdleMs * 1e6;
    this.onReceipt = onReceipt; // (number, path, rows)
    this.receipts = 0;
    this.stepAt = 0; // the last step
    this.moved = false; // steps since the last tear-off
    this.wiring = wiring;
    this.shift = new Uint8Array(48);
    this.levels = new Map();
    this.strobeAt = -1;
    this.phaseAt = -1; // a phase change not yet sent (its pins move one at a time here)
    this.phases = 0;
    this.sensedAt = -SENSE_NS;
    this.baseNs = 0;
    this.mcu = null;
    this.counts = { clocks: 0, latches: 0, strobes: 0, steps: 0 };
  }

  /** Watch a newly powered chip's pins; `baseNs`: the emulated time of the power-ons before
   * (the twin's clock runs on across them; it stands while the chip is off). */
  attach(mcu, baseNs = 0) {
    this.mcu = mcu;
    this.baseNs = baseNs;
    const w = this.wiring;
    const watched = [w.clk, w.dat, w.lat, w.stb, ...w.phases];
    for (const pin of watched) {
      const gpio = mcu.gpio[pin];
      this.levels.set(pin, gpio.value === HIGH);
      gpio.addListener((value) => this.edge(pin, value === HIGH, baseNs + mcu.clock.nanos));
    }
    this.phases = this._phaseLevels();
    this.sensedAt = -SENSE_NS;
  }

  edge(pin, high, ns) {
    const w = this.wiring;
    if (this.levels.get(pin) === high) return;
    // A step's four pins move in one PIO cycle, one listener call each: the step is whole
    // once an edge of a later cycle comes (or the slice ends), before that edge counts.
    if (this.phaseAt >= 0 && ns !== this.phaseAt) this._step();
    this.levels.set(pin, high);
    if (pin === w.clk && high) this._clock();
    else if (pin === w.lat && !high) this._latch(ns);
    else if (pin === w.stb) this._strobe(high, ns);
    else if (w.phases.includes(pin)) this.phaseAt = ns;
  }

  /** After each run slice: a step whose pins all moved, and the sensors' levels. */
  tick() {
    const mcu = this.mcu;
    if (!mcu) return;
    if (this.phaseAt >= 0) this._step();
    const ns = this.baseNs + mcu.clock.nanos;
    if (ns - this.sensedAt >= SENSE_NS) {
      this.sensedAt = ns;
      this.twin.send(`T ${ns / 1000}`);
    }
    if (this.tearIdleNs && this.moved && ns - this.stepAt > this.tearIdleNs) this.tearOff();
    this.twin.flush();
  }

  /** Tear the paper off at the bar: the twin writes it as a receipt PNG. */
  async tearOff() {
    this.moved = false;
    const [rows, path] = await this.twin.ask('X');
    this.receipts++;
    this.onReceipt?.(this.receipts, path, Number(rows));
    return { rows: Number(rows), path };
  }

  /** The twin's answer to `T`: thermistor ohms, paper, near end, on the sensor pins (paper
   * null: something else drives the paper sensors, the rig controller). */
  sense(ohms, paper, nearEnd, pullUp = 30000) {
    const mcu = this.mcu;
    if (!mcu) return;
    const w = this.wiring;
    mcu.adc.channelValues[w.thermistorAdc] = adc((3300 * ohms) / (ohms + pullUp));
    if (paper === null) return;
    mcu.gpio[w.paper].setInputValue(paper);
    mcu.gpio[w.nearEnd].setInputValue(!nearEnd); // high while more than the near end is left
  }

  /** The head supply on its ADC pin (47 kOhm over 10 kOhm), and to the twin. */
  supply(mv) {
    if (this.mcu) this.mcu.adc.channelValues[this.wiring.supplyAdc] = adc((mv * 10) / 57);
    this.twin.send(`V ${mv}`);
  }

  _clock() {
    const s = this.shift;
    const bit = this.levels.get(this.wiring.dat) ? 1 : 0;
    for (let i = 0; i < 47; i++) s[i] = ((s[i] << 1) | (s[i + 1] >> 7)) & 0xff;
    s[47] = ((s[47] << 1) | bit) & 0xff;
    this.counts.clocks++;
  }

  _latch(ns) {
    this.counts.latches++;
    this.twin.send(`L ${ns / 1000} ${Buffer.from(this.shift).toString('hex')}`);
  }

  _strobe(high, ns) {
    if (high) {
      this.strobeAt = ns;
      return;
    }
    if (this.strobeAt < 0) return;
    this.counts.strobes++;
    this.twin.send(`S ${this.strobeAt / 1000} ${(ns - this.strobeAt) / 1000}`);
    this.strobeAt = -1;
  }

  _step() {
    const at = this.phaseAt;
    this.phaseAt = -1;
    const phases = this._phaseLevels();
    if (phases === this.phases) return;
    this.phases = phases;
    if (!phases) return; // the motor let go: no step
    this.counts.steps++;
    this.stepAt = at;
    this.moved = true;
    this.twin.send(`M ${at / 1000}`);
  }

  _phaseLevels() {
    let bits = 0;
    this.wiring.phases.forEach((pin, i) => {
      if (this.levels.get(pin)) bits |= 1 << i;
    });
    return bits;
  }
}

/** The twin: `micropython boards/sim/pin_twin.py MECHANISM OUT_DIR` as a child process. */
export class Twin {
  constructor({ argv, env, log }) {
    this.log = log;
    this.queue = [];
    this.waiting = []; // replies awaited, in order: resolve functions
    this.onSense = null; // (ohms, paper, nearEnd)
    this.proc = spawn(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.on('error', (e) => log(`twin: ${e.message}`));
    this.proc.on('exit', (code) => code && log(`twin: exited with ${code}`));
    this.proc.stdin.on('error', () => {});
    createInterface({ input: this.proc.stderr }).on('line', (line) => log(`twin: ${line}`));
    createInterface({ input: this.proc.stdout }).on('line', (line) => this._reply(line));
  }

  send(line) {
    this.queue.push(line);
    if (this.queue.length >= 256) this.flush();
  }

  flush() {
    if (!this.queue.length) return;
    this.proc.stdin.write(this.queue.join('\n') + '\n');
    this.queue = [];
  }

  /** A command with a reply (`I`, `C`): resolves with the reply's fields. */
  ask(line) {
    this.send(line);
    this.flush();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close() {
    this.flush();
    this.proc.stdin.end();
  }

  _reply(line) {
    const [kind, ...fields] = line.split(' ');
    if (kind === 'R') {
      const [ohms, paper, nearEnd] = fields.map(Number);
      this.onSense?.(ohms, !!paper, !!nearEnd);
    } else if (kind === 'E') {
      this.log(`twin: ${line}`);
    } else {
      this.waiting.shift()?.(fields);
    }
  }
}
