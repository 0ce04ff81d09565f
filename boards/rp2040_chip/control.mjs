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
//   {"cmd": "usb"}          the interfaces found when the device was enumerated
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

import net from 'node:net';

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
    usb: () => ({ usb: emulator.usb?.describe() ?? null }),
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
        if (line.trim()) socket.write(JSON.stringify(answer(commands, line)) + '\n');
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function answer(commands, line) {
  try {
    const req = JSON.parse(line);
    const command = commands[req.cmd];
    if (!command) return { ok: false, error: `unknown command ${JSON.stringify(req.cmd)}` };
    return { ok: true, ...command(req) };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}
