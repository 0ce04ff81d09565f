// The control channel: line-based JSON on a TCP port, as the sim's (docs/sim.md). Each request
// is one object on a line, {"cmd": NAME, ...}; each reply one object on a line, {"ok": true, ...}
// or {"ok": false, "error": why}.
//
//   {"cmd": "stats"}        cycles, emulated time, flash programs/erases, irregular programs
//   {"cmd": "restart"}      power cycle: the chip starts cold, the flash keeps its contents
//   {"cmd": "power_off"}    / {"cmd": "power_on"}
//   {"cmd": "power_cut_at", "n": N, "effect": "none" | "torn" | "done",
//    "op": "any" | "program" | "erase"}
//                           the Nth flash program or erase (or of that op only) from now is
//                           where the power goes: none of it happens (default), half of it
//                           ("torn", or "torn": true), or all of it; then the chip stays off
//                           until power_on. n 0: no cut.
//   {"cmd": "power_cut_in", "ms": T}
//                           the power goes T emulated ms from now (a cut, as power_cut_at's)
//   {"cmd": "feed", "held": B}
//                           the FEED button pressed (held) or let go, and so through the next
//                           power-on too: held then, the module starts in maintenance mode
//   {"cmd": "usb"}          the interfaces found when the device was enumerated
//   {"cmd": "uf2_copy", "path": P}
//                           the UF2 file P copied onto the boot ROM's drive (BOOTSEL held
//                           through the power-on), as a PC copies it: {"sectors", "ms"} once
//                           the drive has taken every block (the ROM then starts the image)
//   {"cmd": "heap", "reset": false}
//                           with --gc-symbols: the image's free heap now, the lowest it has been
//                           (since power-on or the last reset), gc_alloc calls, collections;
//                           reset: true starts the lowest and the counts again from now
//   {"cmd": "trace", "pins": [10, 11], "max": N}
//                           records the level the chip drives on those pins at each change
//                           from now on (again after a power-on), up to N edges until read;
//                           no pins: stops
//   {"cmd": "edges"}        the edges recorded since the last read, [[pin, level, ns], ...]
//                           (level 1, 0, or null: not driven; ns: emulated time since power-on),
//                           `lost`: edges past max, and `now_ns`: the emulated time now
//
// With --twin (the mechanism twin on the head's and motor's pins), as the sim's commands:
//   {"cmd": "image", "path": P}   what came out since the last tear-off, as a PNG: {"rows"}
//   {"cmd": "tear_off"}           the paper is torn off at the bar
//   {"cmd": "mechanism"}          the twin's counters and the pins' (steps, strobes, ...)
//   {"cmd": "bench"}              since the tear-off: the limit model's time for the rows the
//                                 pins printed (limit_us), the first to the last step (took_us),
//                                 rows, black dots latched, starts from rest
//   {"cmd": "supply", "mv": N}    the head supply, on its ADC pin and in the twin
//   {"cmd": "paper_out", "after": N} / {"cmd": "load_paper", "lines": N}
//   {"cmd": "cover", "open": B}   the cover switch's pin
//   {"cmd": "head_temp", "c": C, "hold": B}
// Commands of the sim that a chip cannot take are refused by name (`refused` below).

import { readFileSync } from 'node:fs';
import net from 'node:net';

import { MassStorage } from './mass_storage.mjs';

const FEED_PIN = 19; // boards/rp2_pico/board.py

export function serveControl(emulator, host, port) {
  const commands = {
    stats: () => emulator.stats(),
    restart: () => (emulator.restart(), {}),
    power_off: () => (emulator.powerOff(), {}),
    power_on: () => (emulator.powerOn(), {}),
    power_cut_at: (req) => {
      const effect = req.effect ?? (req.torn ? 'torn' : 'none');
      emulator.flash.cutAt(Number(req.n), effect, req.op ?? 'any');
      return { cut: emulator.flash.cut };
    },
    power_cut_in: (req) => (emulator.cutIn(Number(req.ms)), {}),
    feed: (req) => {
      const level = !req.held; // FEED pulls GP19 to GND while pressed
      if (emulator.board) emulator.board.inputs[FEED_PIN] = level;
      emulator.mcu?.gpio[FEED_PIN].setInputValue(level);
      return {};
    },
    usb: () => ({ usb: emulator.usb?.describe() ?? null }),
    uf2_copy: async (req) => {
      const drive = emulator.usb?.massStorage;
      if (!drive) throw new Error('no drive: hold BOOTSEL through a power-on first');
      const image = readFileSync(req.path);
      const clock = emulator.mcu.clock;
      const since = clock.nanos;
      const sectors = await new MassStorage(drive, () => emulator.wake()).copy(image);
      return { sectors, ms: (clock.nanos - since) / 1e6 };
    },
    ...twinCommands(emulator),
    heap: (req) => {
      const probe = emulator.gcProbe;
      if (!probe) throw new Error('no heap probe: start the chip with --gc-symbols');
      const heap = probe.stats();
      if (req.reset) probe.reset();
      return { heap };
    },
    trace: (req) => {
      const pins = (req.pins ?? []).map(Number);
      if (pins.some((pin) => !(pin >= 0 && pin < 30))) throw new Error(`pins 0-29: ${req.pins}`);
      emulator.trace(pins, req.max ?? 100000);
      return { pins };
    },
    edges: () => {
      if (!emulator.pinTrace) throw new Error('no trace: send {"cmd": "trace", "pins": [...]}');
      return { ...emulator.pinTrace.take(), now_ns: emulator.mcu?.clock.nanos ?? null };
    },
  };
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
      let nl;
      while ((nl = text.indexOf('\n')) >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (line.trim())
          answer(commands, line).then((reply) => socket.write(JSON.stringify(reply) + '\n'));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function answer(commands, line) {
  try {
    const req = JSON.parse(line);
    const command = commands[req.cmd];
    if (REFUSED[req.cmd]) return { ok: false, error: `${req.cmd}: ${REFUSED[req.cmd]}` };
    if (!command) return { ok: false, error: `unknown command ${JSON.stringify(req.cmd)}` };
    return { ok: true, ...(await command(req)) };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

// The sim's commands a chip cannot take, and why.
const REFUSED = {
  dead: 'the chip cannot kill heating elements: it only drives the pins',
  head_fault: 'no head-current sense on the chip board yet (board.py, WIRING)',
  power_cut: 'the chip has power_cut_at (at a flash operation) and power_off instead',
  dots: 'the chip prints what comes over its links only',
  stream: 'no live row stream from the chip: read the image',
  time: 'the chip keeps its own clock; the host sets it over the service link',
};

/** The mechanism twin's commands (chip.mjs --twin): none without it. */
function twinCommands(emulator) {
  const pins = () => {
    if (!emulator.mechanism) throw new Error('no mechanism twin: start the chip with --twin');
    return emulator.mechanism;
  };
  const ask = async (line) => {
    const m = pins();
    m.tick(); // everything the pins did so far goes first
    return m.twin.ask(line);
  };
  return {
    image: async (req) => ({ rows: Number((await ask(`I ${req.path}`))[0]), path: req.path }),
    tear_off: () => (pins().tick(), pins().tearOff()),
    mechanism: async () => {
      const f = (await ask('C')).map(Number);
      const names = ['steps', 'lost_steps', 'ramp_violations', 'strobes', 'rows'];
      const twin = Object.fromEntries(names.map((n, i) => [n, f[i]]));
      Object.assign(twin, { overspeed_steps: f[5], pulse_min_us: f[6], pulse_max_us: f[7] });
      return { twin, pins: pins().counts };
    },
    bench: async () => {
      const [limitUs, tookUs, rows, black, starts] = (await ask('B')).map(Number);
      return { limit_us: limitUs, took_us: tookUs, rows, black, starts };
    },
    supply: (req) => (pins().supply(Number(req.mv)), {}),
    paper_out: (req) => (pins().twin.send(`O ${Number(req.after ?? 0)}`), {}),
    load_paper: (req) => (pins().twin.send(`O ${Number(req.lines ?? 113000)}`), {}),
    cover: (req) => {
      emulator.mcu?.gpio[22].setInputValue(!!req.open); // to GND: low while closed
      return {};
    },
    head_temp: (req) => {
      pins().twin.send(`H ${Number(req.c)}${req.hold ? ' hold' : ''}`);
      return {};
    },
  };
}
