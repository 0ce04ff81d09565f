// PIO stepped with the emulated clock.
//
// rp2040js runs each PIO block from a timer of its own (`RPPIO.run()`: 1000 steps of every
// state machine per setTimeout), apart from the emulated clock, with no clock divider and no
// delays. Here a block's run() only marks it running, and the emulator advances every enabled
// state machine in emulated time as the core's cycles go by (`advance`):
//
// - each machine has its own clock: a tick every INT + FRAC/256 system cycles (RP2040 datasheet
//   3.5.5), the fraction kept in an accumulator so that a tick comes INT or INT + 1 cycles after
//   the last one, in the proportion FRAC/256;
// - an instruction takes 1 + its delay ticks (as rp2040js counts them in `sm.cycles`);
// - a stalled instruction (a pull from an empty TX FIFO, a wait on an IRQ flag or a pin) retries
//   each tick; it completes on the first tick after the event that ends the stall, and its delay
//   follows. rp2040js ends a stall the moment the event happens (checkWait, called by the FIFO,
//   IRQ and GPIO input code), so a stalled machine is not stepped at all: it is parked, and when
//   it is woken its clock is moved on to that moment. A chip whose machines all wait on the
//   outside costs nothing more than one with PIO off.
//
// Machines due at the same cycle run in order (PIO0's SM0 first); one sees what another did in
// that cycle (an IRQ flag it set) at once, where the chip would see it a cycle later.

const CTRL = 0x000;
const WAIT_IRQ = 4; // rp2040js's WaitType.IRQ (not exported)

/** One state machine's place in time. */
class Machine {
  constructor(block, sm) {
    this.block = block;
    this.bit = 1 << block.index; // its block's bit in a mask of blocks
    this.sm = sm;
    this.on = false; // enabled, as last seen
    this.due = 0; // ns of its next clock tick
    this.acc = 0; // the fractional divider's accumulator (1/256 cycles)
    this.parked = false; // stalled: not stepped until woken
    this.wokeAt = null; // ns of the event that ended its stall
    this.finishing = false; // the next tick completes the stalled instruction
  }
}

export class PioClock {
  constructor(mcu) {
    this.mcu = mcu;
    this.clock = mcu.clock;
    this.blocks = mcu.pio;
    this.machines = [];
    this.live = []; // the enabled ones
    this.nextDue = Infinity; // ns of the next tick of a machine that is not parked
    this.dirty = true; // something may have changed what runs when: look again
    this.ns = 1e9 / mcu.clkSys; // a system cycle
    mcu.addClockListener((clkSys) => {
      this.ns = 1e9 / clkSys;
    });
    this.steps = 0;
    for (const block of this.blocks) this._take(block);
  }

  /** ns of the next PIO step, Infinity when every enabled machine waits on something else. */
  nextStep() {
    if (this.dirty) this._reschedule();
    return this.nextDue;
  }

  /**
   * Runs the clock to `target` ns, stepping the state machines at their ticks and firing the
   * clock's alarms (timers, DMA) in between, in time order. With `core`, returns early, the
   * clock at that moment, once the core no longer waits (a PIO or DMA interrupt woke it), and
   * after `budget` steps. Returns the steps done.
   */
  advance(target, core = null, budget = Infinity) {
    const clock = this.clock;
    if (!this.dirty && this.nextDue > target) {
      // Nothing to step before target (the common case: one core instruction's cycles).
      const alarm = clock.nextAlarm;
      if (!alarm || alarm.nanos > target) {
        clock.tick(target - clock.nanos);
        return 0;
      }
    }
    let steps = 0;
    for (;;) {
      if (this.dirty) this._reschedule();
      const alarm = clock.nextAlarm;
      const alarmAt = alarm ? alarm.nanos : Infinity;
      const due = this.nextDue;
      const next = Math.min(due, alarmAt);
      if (next > target || next === Infinity) {
        if (target !== Infinity && target > clock.nanos) clock.tick(target - clock.nanos);
        break;
      }
      if (alarmAt < due) {
        clock.tick(Math.max(0, alarmAt - clock.nanos));
        if (core && !core.waiting) break;
        continue;
      }
      clock.tick(Math.max(0, due - clock.nanos)); // alarms due at the same ns go first
      if (this.dirty) continue; // one of them fed or woke a machine
      let stepped = 0;
      for (const m of this.live) {
        if (!m.parked && m.due === due) {
          this._step(m);
          stepped |= m.bit;
        }
      }
      if (stepped & 1) this.blocks[0].checkChangedPins();
      if (stepped & 2) this.blocks[1].checkChangedPins();
      this._findNext();
      steps++;
      if ((core && !core.waiting) || steps >= budget) break;
    }
    this.steps += steps;
    return steps;
  }

  // ---- inside ---------------------------------------------------------------------------------

  _take(block) {
    block.run = () => {
      this.dirty = true; // started: advance() steps it from now on
    };
    const write = block.writeUint32.bind(block);
    block.writeUint32 = (offset, value) => {
      write(offset, value);
      if (offset === CTRL) this._seeEnables();
      this.dirty = true;
    };
    const stop = block.stop.bind(block);
    block.stop = () => {
      stop();
      this._seeEnables();
      this.dirty = true;
    };
    for (const sm of block.machines) {
      const m = new Machine(block, sm);
      this.machines.push(m);
      const checkWait = sm.checkWait.bind(sm);
      sm.checkWait = () => {
        const { waitType, waitPolarity } = sm;
        const was = sm.waiting;
        checkWait();
        if (!was || sm.waiting) return;
        if (m.parked) {
          m.wokeAt = this.clock.nanos;
          this.dirty = true;
        }
        // A `wait 1 irq` that ends clears its flag without telling the others (rp2040js): a
        // machine in `irq wait` on that flag, and the interrupt, must hear of it.
        if (waitType === WAIT_IRQ && waitPolarity) block.irqUpdated();
      };
      sm.clkDivRestart = () => {
        m.acc = 0;
      };
    }
  }

  /** A machine disabled is out of the schedule; enabled again, it starts at the next step. */
  _seeEnables() {
    for (const m of this.machines) if (!m.sm.enabled) m.on = false;
  }

  _reschedule() {
    this.dirty = false;
    const now = this.clock.nanos;
    this.live = this.machines.filter((m) => m.sm.enabled);
    for (const m of this.machines) {
      const sm = m.sm;
      if (!sm.enabled) {
        m.on = false;
        continue;
      }
      if (!m.on) {
        m.on = true;
        m.due = now;
        m.acc = 0;
        m.parked = sm.waiting;
        m.wokeAt = null;
        m.finishing = false;
      } else if (m.parked && !sm.waiting) {
        // The stall ended: the instruction completes on the first tick after that.
        this._tickAfter(m, m.wokeAt ?? now);
        m.parked = false;
        m.finishing = true;
      } else if (!m.parked && sm.waiting) {
        m.parked = true; // an instruction the core made it execute stalled
        m.wokeAt = null;
      }
    }
    this._findNext();
  }

  _findNext() {
    let next = Infinity;
    for (const m of this.live) {
      if (!m.parked && m.due < next) next = m.due;
    }
    this.nextDue = next;
  }

  _step(m) {
    const sm = m.sm;
    if (m.finishing) {
      // The retry that completes a stalled instruction, then the instruction's delay.
      m.finishing = false;
      this._tick(m, 1 + Math.max(0, sm.waitDelay));
      return;
    }
    const before = sm.cycles;
    sm.step();
    if (sm.waiting) {
      m.parked = true; // it retries each tick until woken: see _reschedule
      m.wokeAt = null;
      this._tick(m, 1);
    } else {
      this._tick(m, Math.max(1, sm.cycles - before));
    }
  }

  /** Moves m's clock on by n of its ticks. */
  _tick(m, n) {
    const { sm } = m;
    const whole = sm.clockDivInt || 65536;
    const frac = sm.clockDivFrac;
    let cycles = n * whole;
    if (frac) {
      const acc = m.acc + n * frac;
      cycles += Math.floor(acc / 256);
      m.acc = acc % 256;
    }
    m.due += cycles * this.ns;
  }

  /** Moves m's clock on to its first tick after `time` ns (none, if it is already past it). */
  _tickAfter(m, time) {
    if (m.due > time) return;
    const { sm } = m;
    const period = ((sm.clockDivInt || 65536) + sm.clockDivFrac / 256) * this.ns;
    const n = Math.max(0, Math.floor((time - m.due) / period) - 1);
    if (n) this._tick(m, n);
    while (m.due <= time) this._tick(m, 1);
  }
}
