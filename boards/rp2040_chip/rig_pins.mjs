// The rig in emulation: the module's chip and the rig controller's chip (boards/rig_pico), two
// emulated RP2040s whose pins are wired as docs/rig.md's table wires the real ones.
//
// Module to rig: the head's and motor's pins, edge by edge, each reaching the rig's input at the
// module's emulated time of the edge. For that the two clocks are one timeline: at each module
// power-on the rig's time then is the module's 0, and the rig's clock may not run past the
// module's (Emulator.follow), so no edge ever arrives in the rig's past; a rig alarm puts each
// edge on its pin at its moment, and the rig's PIO sees CLK and DAT as the head would.
// Rig to module: the power switch, the paper, near-end and cover sensor lines, FEED and
// BOOTSEL; the head supply and the thermistor line on the rig's ADC. These are slow lines, applied when the rig's
// core drives them (the module's clock is ahead by at most one run slice).

import { GPIOPinState } from 'rp2040js';
import { PinTrace } from './pin_trace.mjs';

/** Module GPIO -> rig GPIO (boards/rig_pico/main.py's WIRING). */
export const HEAD_TO_RIG = { 6: 0, 7: 1, 8: 2, 9: 3, 12: 4, 13: 5, 11: 6, 10: 7 };
/** Rig outputs and what they drive on the module. */
const POWER = 16;
const SENSOR_LINES = { 17: 20, 18: 21, 19: 22 }; // paper, near end, cover: the level as driven
const FEED = 20; // high holds FEED (GP19, to GND) down
const BOOTSEL = 21; // high holds the module's QSPI /CS low through its next power-on
const SUPPLY_ADC = 0;
const THERMISTOR_ADC = 1; // the module's ADC0 line
const VH_MV = 8500;

const adc = (mv) => Math.max(0, Math.min(4095, Math.round((mv / 3300) * 4095)));
const high = (state) => state === GPIOPinState.High;

export class RigWiring {
  /** module, rig: Emulators; log(line). The rig's chip must be powered on after this. */
  constructor(module, rig, log) {
    this.module = module;
    this.rig = rig;
    this.log = log;
    this.offset = 0; // rig ns at the module's power-on
    this.queue = []; // [rigPin, level, rig ns], in time order
    this.head = 0;
    this.alarm = null;
    this.applied = 0;
    this.trace = new PinTrace(Object.keys(HEAD_TO_RIG).map(Number), Infinity);
    this.trace.onEdge = (pin, level, ns) => this._edge(HEAD_TO_RIG[pin], level, this.offset + ns);
    this.trace.record = (pin, level, ns) => this.trace.onEdge(pin, level, ns); // nothing kept
    rig.follow = () => (module.on ? this.offset + module.mcu.clock.nanos : Infinity);
  }

  /** A rig power-on (its first, or a watchdog reset): listen on its outputs. */
  rigOn(mcu) {
    this.alarm = mcu.clock.createAlarm(() => this._apply());
    this.queue = [];
    this.head = 0;
    for (const pin of [POWER, FEED, BOOTSEL, ...Object.keys(SENSOR_LINES).map(Number)]) {
      mcu.gpio[pin].addListener(() => this._rigDrove(pin));
    }
    for (const pin of Object.values(HEAD_TO_RIG)) mcu.gpio[pin].setInputValue(false);
    this.analog();
  }

  /** A module power-on: its time 0 is the rig's now; its sensors as the rig drives them. */
  moduleOn(mcu) {
    this.offset = this.rig.mcu ? this.rig.mcu.clock.nanos : 0;
    this.trace.attach(mcu);
    const rig = this.rig.mcu;
    for (const [from, to] of Object.entries(SENSOR_LINES)) {
      if (rig) mcu.gpio[to].setInputValue(high(rig.gpio[Number(from)].value));
    }
    if (rig) {
      mcu.gpio[19].setInputValue(!high(rig.gpio[FEED].value));
      mcu.qspi[1].rawInputValue = !high(rig.gpio[BOOTSEL].value);
    }
    this.analog();
  }

  /** The module lost power: its pins fall. */
  moduleOff() {
    this.trace.detach();
    const rig = this.rig.mcu;
    if (rig) for (const pin of Object.values(HEAD_TO_RIG)) this._edge(pin, 0, rig.clock.nanos);
    this.analog();
  }

  _edge(pin, level, ns) {
    const q = this.queue;
    const at = q.length > this.head ? Math.max(ns, q[q.length - 1][2]) : ns;
    q.push([pin, level === 1, at]);
    if (this.queue.length - this.head === 1) this._schedule();
  }

  _schedule() {
    const mcu = this.rig.mcu;
    if (!mcu || this.head >= this.queue.length) return;
    this.alarm.schedule(Math.max(0, this.queue[this.head][2] - mcu.clock.nanos));
  }

  _apply() {
    const mcu = this.rig.mcu;
    const now = mcu.clock.nanos;
    const q = this.queue;
    while (this.head < q.length && q[this.head][2] <= now) {
      const [pin, level] = q[this.head++];
      mcu.gpio[pin].setInputValue(level);
      this.applied++;
    }
    if (this.head > 4096 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    this._schedule();
  }

  _rigDrove(pin) {
    const rig = this.rig.mcu;
    const on = high(rig.gpio[pin].value);
    const module = this.module;
    if (pin === POWER) {
      if (on && !module.on) module.powerOn();
      else if (!on && module.on) module.powerOff('power switched off by the rig');
      return;
    }
    const mcu = module.mcu;
    if (!mcu) return; // applied at its next power-on
    if (pin === FEED) mcu.gpio[19].setInputValue(!on);
    else if (pin === BOOTSEL) mcu.qspi[1].rawInputValue = !on;
    else mcu.gpio[SENSOR_LINES[pin]].setInputValue(on);
    module.wake();
  }

  /** The rig's ADC: the module's head supply, and its thermistor line as the module sees it. */
  analog() {
    const rig = this.rig.mcu;
    if (!rig) return;
    const module = this.module.mcu;
    rig.adc.channelValues[SUPPLY_ADC] = module ? adc((VH_MV * 10) / 57) : 0;
    rig.adc.channelValues[THERMISTOR_ADC] = module ? module.adc.channelValues[0] : 0;
  }
}
