// The levels the chip drives on some pins, edge by edge, with the emulated time of each: what a
// logic analyser on those pins would record. rp2040js tells a pin's listeners when what drives
// it changes (an SIO write, a PIO step: PioClock steps the PIO at its own ticks, so an edge's
// time is the PIO cycle that made it).

import { GPIOPinState } from 'rp2040js';

/** The level a pin is driven to: 1, 0, or null when the chip does not drive it. */
function driven(state) {
  if (state === GPIOPinState.High) return 1;
  if (state === GPIOPinState.Low) return 0;
  return null;
}

export class PinTrace {
  /** pins: GPIO numbers; max: edges kept until read (those after are counted in `lost`). */
  constructor(pins, max = 100000) {
    this.pins = pins;
    this.max = max;
    this.edges = []; // [pin, level, ns]
    this.lost = 0;
    this.onEdge = null; // (pin, level, ns) for each edge, kept or not
    this.unlisten = [];
  }

  /** Listens on a powered chip's pins (again after each power-on: a new RP2040). */
  attach(mcu) {
    this.detach();
    for (const pin of this.pins) {
      const gpio = mcu.gpio[pin];
      let level = driven(gpio.value);
      this.unlisten.push(
        gpio.addListener((state) => {
          const now = driven(state);
          if (now === level) return; // a change between undriven states (pulls)
          level = now;
          this.record(pin, now, mcu.clock.nanos);
        }),
      );
    }
  }

  detach() {
    for (const unlisten of this.unlisten) unlisten();
    this.unlisten = [];
  }

  record(pin, level, ns) {
    if (this.edges.length < this.max) this.edges.push([pin, level, ns]);
    else this.lost++;
    this.onEdge?.(pin, level, ns);
  }

  /** The edges recorded since the last take, and how many did not fit. */
  take() {
    const taken = { edges: this.edges, lost: this.lost };
    this.edges = [];
    this.lost = 0;
    return taken;
  }
}
