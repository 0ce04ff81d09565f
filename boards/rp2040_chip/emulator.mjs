// The emulated Pico: an rp2040js RP2040 with the boot ROM, the flash part (kept across power
// cycles), a USB host and UART0's line, run in emulated time.
//
// Power on is a cold boot: a new RP2040 starts at the ROM's reset vector; the ROM checks the
// QSPI chip-select strap (high: BOOTSEL not held), reads boot2 from flash through the SSI,
// checks its CRC and enters it; boot2 sets up XIP and enters the image's vector table.
//
// Time: the core runs as fast as the emulator goes (slower than the real chip). When it waits
// (WFI/WFE), the emulated clock moves on to the next alarm, but with idle 'real' no faster than
// the wall clock: an idle chip sleeps instead of spinning, and a host's gaps between bytes look
// to the firmware as long as they were; time spent busy is not made up. With idle 'skip' a
// wait takes no wall time (and a chip with a timer always due spins the host CPU).

import { BasePeripheral, RP2040 } from 'rp2040js';
import { PinTrace } from './pin_trace.mjs';
import { PioClock } from './pio_clock.mjs';
import { attachFlash } from './qspi.mjs';
import { romFunction } from './rom.mjs';
import { fixTxInterrupt, UartLine } from './uart.mjs';
import { UsbHost } from './usb_host.mjs';

const SLICE_MS = 20; // wall time run between looks at sockets and timers
const MAX_SLEEP_MS = 100;
const AHEAD_NS = 2e6; // how far an idle chip's clock may run before the wall clock
const IDLE_PIO_STEPS = 1000; // PIO steps between looks at the slice's wall time, core waiting

/** VREG_AND_CHIP_RESET: a power-on reset (CHIP_RESET.HAD_POR), no debugger restart flag. */
class VregAndChipReset extends BasePeripheral {
  constructor(mcu) {
    super(mcu, 'VREG_AND_CHIP_RESET');
    this.regs = [0xb1, 0x91, 0x100];
  }

  readUint32(offset) {
    return this.regs[offset >> 2] ?? 0;
  }

  writeUint32(offset, value) {
    if (offset < 8) this.regs[offset >> 2] = value;
  }
}

/** rp2040js's messages: its errors always, its warnings (unmodelled registers) with --verbose. */
class Logger {
  constructor(verbose, log) {
    this.log = log;
    this.verbose = verbose;
  }

  debug() {}

  info() {}

  warn(component, message) {
    if (this.verbose) this.log(`${component}: ${message}`);
  }

  error(component, message) {
    this.log(`rp2040js ${component}: ${message}`);
  }
}

export class Emulator {
  /**
   * rom: the boot ROM's words; flash: a NorFlash; log(line): stderr-like.
   * idle: 'real' | 'skip'; strictFlash: refuse partial-page ROM programs instead of doing what
   * the chip does; flashTiming: false makes programs and erases instant; gcProbe: a GcProbe
   * (gc_probe.mjs) watching the image's heap, or null.
   */
  constructor({
    rom,
    flash,
    log,
    idle = 'real',
    strictFlash = false,
    flashTiming = true,
    verbose = false,
    gcProbe = null,
  }) {
    Object.assign(this, { rom, flash, log, idle, strictFlash, flashTiming, verbose, gcProbe });
    this.romProgram = romFunction(rom, 'RP');
    this.romErase = romFunction(rom, 'RE');
    this.uart = new UartLine();
    this.mcu = null;
    this.usb = null;
    this.pio = null; // PioClock: the PIO blocks stepped with the emulated clock
    this.pinTrace = null; // a PinTrace, on each power-on's chip
    this.onPower = null; // (on: bool, why)
    this.onReady = null; // (usbHost) when USB is configured
    this.onUsbGone = null; // () the device disconnected from USB (it is still powered)
    this.onSlice = null; // () after each run slice: flush I/O, save flash
    // () => ns: how far this chip's clock may run now (Infinity: no bound); a chip that only
    // watches another (the rig controller) waits for it there, so it sees each of the other's
    // edges at its own time (rig_pins.mjs).
    this.follow = null;
    this.timer = null;
    this.cut = null; // what the last power cut interrupted
    this.totals = { cycles: 0, ns: 0, wallMs: 0, boots: 0 };
    this.calls = { partial_programs: 0, partial_erases: 0, refused: 0, xip_lockups: 0 };
    this.locked = false; // the core locked up (an XIP read the flash could not serve)
    flash.onCut = (what) => this._powerCut(what);
  }

  get on() {
    return this.mcu !== null;
  }

  /** A cold boot; after a watchdog reset `kept` has the watchdog's scratch and reason
   * registers, which survive it (the boot ROM reads its scratch 4-7). */
  powerOn(kept = null) {
    if (this.on) return;
    const mcu = new RP2040();
    mcu.logger = new Logger(this.verbose, this.log);
    mcu.loadBootrom(this.rom);
    attachFlash(mcu, this.flash).onLockup = (address, why) => this._lockup(address, why);
    mcu.peripherals[0x40064] = new VregAndChipReset(mcu);
    mcu.qspi[1].rawInputValue = true; // CSn pulled up: BOOTSEL not held
    mcu.qspi[1].padValue = 0x5a;
    const probe = this.gcProbe;
    probe?.attach(mcu);
    mcu.core.blTaken = probe
      ? (core) => {
          this._romCall(core);
          probe.call(core.PC, core);
        }
      : (core) => this._romCall(core);
    mcu.uart.forEach(fixTxInterrupt);
    const watchdog = mcu.peripherals[0x40058];
    if (kept) Object.assign(watchdog, kept);
    watchdog.onWatchdogTrigger = () => this._watchdogReset(watchdog);
    this.flash.powerUp(this.flashTiming ? () => mcu.clock.nanos : null);
    this.usb = new UsbHost(mcu.usbCtrl, {
      log: this.log,
      trace: this.verbose ? this.log : undefined,
    });
    this.usb.onConfigured = (host) => this.onReady?.(host);
    this.usb.onDisconnected = () => this.onUsbGone?.();
    this.uart.attach(mcu, mcu.uart[0]);
    this.pio = new PioClock(mcu);
    this.pinTrace?.attach(mcu);
    this.mcu = mcu;
    this.cut = null;
    this.locked = false;
    this.totals.boots++;
    this.allowed = 0; // how far the clock may run while the core waits (idle 'real')
    this.wallAt = performance.now();
    // Cycles of the instructions run. rp2040js's core.cycles also adds 8 for each use of the
    // SIO divider, which the SDK's code already waits out in instructions: not counted here.
    this.cycles = 0;
    this.onPower?.(true, 'power on');
    this.wake();
  }

  powerOff(why = 'power off') {
    if (!this.on) return;
    const { clock } = this.mcu;
    this.totals.cycles += this.cycles;
    this.totals.ns += clock.nanos;
    this.mcu = null;
    this.usb = null;
    this.pio = null;
    this.uart.detach();
    clearTimeout(this.timer);
    this.timer = null;
    this.onPower?.(false, why);
  }

  /** Records the edges on `pins` from now on, on this chip and after each power-on (pin_trace.mjs);
   * no pins: stops recording. */
  trace(pins, max) {
    this.pinTrace?.detach();
    this.pinTrace = pins.length ? new PinTrace(pins, max) : null;
    if (this.mcu) this.pinTrace?.attach(this.mcu);
    return this.pinTrace;
  }

  restart() {
    this.powerOff('restart');
    this.powerOn();
  }

  /** Run soon: something came from outside (a socket, the control port). */
  wake() {
    if (!this.on) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._slice(), 0);
  }

  /** The power goes `ms` emulated milliseconds from now (the board's hold-up after its supply
   * fell), as a cut: the chip stays off until powered on. */
  cutIn(ms) {
    const mcu = this.mcu;
    if (!mcu) throw new Error('the chip is off');
    const at = mcu.clock.nanos + ms * 1e6;
    mcu.clock.createAlarm(() => {
      if (this.mcu === mcu) this._powerCut(`${ms} ms after the supply fell (${at / 1e6} ms)`);
    }).schedule(ms * 1e6);
  }

  stats() {
    const mcu = this.mcu;
    const cycles = this.totals.cycles + (mcu ? this.cycles : 0);
    const ns = this.totals.ns + (mcu ? mcu.clock.nanos : 0);
    const wallS = this.totals.wallMs / 1000;
    const cpu = process.cpuUsage();
    return {
      powered: this.on,
      boots: this.totals.boots, // power ons and watchdog resets
      usb_ready: !!this.usb?.configured,
      // Emulated ms from power-on to USB configured, and to each interface's first bytes in.
      usb_ready_ms: this.usb?.configuredNs != null ? this.usb.configuredNs / 1e6 : null,
      first_in_ms: Object.fromEntries(
        (this.usb?.streams ?? []).map((s) => [
          `${s.kind} ${s.iface}`,
          s.firstInNs != null ? s.firstInNs / 1e6 : null,
        ]),
      ),
      heap: this.gcProbe?.stats() ?? null,
      locked: this.locked,
      cycles,
      emulated_ms: ns / 1e6,
      since_power_on_ms: mcu ? mcu.clock.nanos / 1e6 : 0,
      run_wall_s: wallS, // wall time spent running the core (not sleeping)
      cycles_per_wall_s: wallS ? Math.round(cycles / wallS) : 0,
      process_cpu_s: (cpu.user + cpu.system) / 1e6,
      flash_ops: this.flash.ops,
      ...this.flash.stats,
      ...this.calls,
      uart_lost: this.uart.lost,
      pio_steps: this.pio?.steps ?? 0, // state machine steps since power-on
      cut: this.cut,
    };
  }

  // ---- running --------------------------------------------------------------------------------

  _slice() {
    this.timer = null;
    const mcu = this.mcu;
    if (!mcu) return;
    const { core, clock } = mcu;
    const start = performance.now();
    const nsPerCycle = 1e9 / mcu.clkSys;
    // Idle, the clock may go as far as the wall clock has since the last slice; busy, the
    // core is slower than the real chip and that time is not made up later.
    this.allowed = Math.max(this.allowed + (start - this.wallAt) * 1e6, clock.nanos);
    this.wallAt = start;
    const bound = this.follow ? this.follow() : Infinity;
    const limit = Math.min(this.idle === 'skip' ? Infinity : this.allowed + AHEAD_NS, bound);
    let sleep = 0;
    let cycles = 0;
    const pio = this.pio;
    const [pio0, pio1] = mcu.pio;
    run: for (;;) {
      for (let i = 0; i < 20000; i++) {
        if (clock.nanos >= bound) {
          sleep = MAX_SLEEP_MS; // until the chip it follows has run on (it wakes this one)
          break run;
        }
        if (!core.waiting && !this.locked) {
          const n = core.executeInstruction();
          cycles += n;
          if (pio0.stopped && pio1.stopped) clock.tick(n * nsPerCycle);
          else pio.advance(clock.nanos + n * nsPerCycle);
        } else {
          const alarmAt = clock.nextAlarm ? clock.nextAlarm.nanos : Infinity;
          const pioAt = pio0.stopped && pio1.stopped ? Infinity : pio.nextStep();
          if (pioAt < alarmAt && pioAt <= limit) {
            // The PIO runs on while the core waits: step it to the next alarm, or until it
            // raises an interrupt that wakes the core.
            const woken = this.locked ? null : core;
            i += pio.advance(Math.min(alarmAt, limit), woken, IDLE_PIO_STEPS);
          } else if (alarmAt === Infinity && pioAt === Infinity) {
            // Only the outside can wake it; meanwhile its time goes on as the wall clock's.
            const until = Math.min(this.allowed, bound);
            if (limit !== Infinity && until > clock.nanos) clock.tick(until - clock.nanos);
            sleep = MAX_SLEEP_MS;
            break run;
          } else {
            const next = Math.min(alarmAt, pioAt);
            if (next > limit) {
              sleep = Math.min(MAX_SLEEP_MS, Math.max(1, (next - limit) / 1e6));
              break run;
            }
            clock.tick(Math.max(0, alarmAt - clock.nanos));
          }
        }
        if (this.mcu !== mcu) break run; // the power went
      }
      if (performance.now() - start > SLICE_MS) break;
    }
    if (this.mcu === mcu) this.cycles += cycles;
    else this.totals.cycles += cycles; // the power went during the slice
    this.totals.wallMs += performance.now() - start;
    this.uart.flush();
    this.onSlice?.();
    if (this.mcu === mcu && !this.timer) this.timer = setTimeout(() => this._slice(), sleep);
  }

  _watchdogReset(watchdog) {
    // rp2040js's watchdog timer is periodic: a chip reset by its timer (the boot ROM's reboot
    // after a UF2 copy) would be reset again by the old chip's alarm. The old chip stops here.
    if (watchdog !== this.mcu?.peripherals[0x40058]) return;
    watchdog.writeUint32(0x00, 0); // CTRL: disabled
    const kept = { scratchData: watchdog.scratchData.slice(), reason: watchdog.reason };
    this.powerOff('watchdog reset');
    this.powerOn(kept);
  }

  /** The core read the XIP window while the flash could not serve it: it stops there, as the
   * chip's core locks up; its timers (a watchdog) go on. A power cycle starts it again. */
  _lockup(address, why) {
    if (this.locked) return;
    this.locked = true;
    this.calls.xip_lockups++;
    const pc = (this.mcu.core.PC - 2) >>> 0;
    this.log(
      `flash: XIP read at 0x${address.toString(16)} ${why} (PC 0x${pc.toString(16)}): ` +
        'no data; the core locks up',
    );
  }

  _powerCut(what) {
    this.cut = what;
    this.powerOff(`power cut at ${what}`);
  }

  // ---- the boot ROM's flash routines, as called -----------------------------------------------

  /** Reports (or, strict, refuses) a ROM program or erase call that is not whole pages or
   * sectors: the ROM programs whole 256-byte pages from the caller's buffer, bytes past its end
   * included, and a program at an offset inside a page wraps in the part. */
  _romCall(core) {
    const pc = core.PC;
    if (pc !== this.romProgram && pc !== this.romErase) return;
    const program = pc === this.romProgram;
    const addr = core.registers[0];
    const n = core.registers[program ? 2 : 1];
    const unit = program ? 256 : 4096;
    if (!(addr % unit) && !(n % unit)) return;
    this.calls[program ? 'partial_programs' : 'partial_erases']++;
    const call = `flash_range_${program ? 'program' : 'erase'}(0x${addr.toString(16)}, ${n} bytes)`;
    let line = `flash: ROM ${call} is not whole ${unit}-byte units`;
    if (program && n % unit)
      line += `: the ROM programs ${Math.ceil(n / unit) * unit} bytes, past the caller's buffer`;
    if (program && addr % unit) line += '; the part wraps the data inside the page';
    if (!program) line += ': the part erases whole sectors';
    if (this.strictFlash) {
      this.calls.refused++;
      core.PC = core.LR & ~1; // return at once: nothing reaches the flash
      line += ' -- refused (--strict-flash)';
    }
    this.log(line);
  }
}
