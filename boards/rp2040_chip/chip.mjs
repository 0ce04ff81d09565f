#!/usr/bin/env node
// The emulated chip: a MicroPython UF2 image booted on rp2040js with the RP2040 boot ROM, its
// flash kept in a file, its USB CDC interfaces and UART0 on TCP ports (README.md).
//
//   node boards/rp2040_chip/chip.mjs --uf2 X --flash F --data-port N [--host 127.0.0.1]
//       [--bootrom third_party/rp2040-bootrom-b1.bin] [--repl-port K] [--service-port M]
//       [--uart-port U] [--printer-port P] [--control-port C] [--cdc-order data,repl,service]
//       [--board rp2_pico|none] [--idle real|skip] [--flash-timing typical|none] [--strict-flash]
//       [--gc-symbols JSON] [--twin ltp02-245|jx-2r-01|pt486f-b --paper DIR
//       [--tear-idle-ms MS] [--micropython PATH]] [--rig-uf2 R --rig-port N] [--verbose]
//   node boards/rp2040_chip/chip.mjs --uf2 X --flash F --write-only
//
// Prints `listening for NAME on HOST:PORT ...` for each port, `ready: ...` once the USB host has
// configured the device (again after each boot), `stats: {...}` on SIGUSR1 and on exit
// (SIGTERM, SIGINT: the flash is saved first, and the exit status is 0).

import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { applyBoard, BOARDS } from './board_pins.mjs';
import { serveControl } from './control.mjs';
import { Emulator } from './emulator.mjs';
import { NorFlash } from './flash.mjs';
import { GcProbe } from './gc_probe.mjs';
import { MechanismPins, Twin } from './mechanism_pins.mjs';
import { RigWiring } from './rig_pins.mjs';
import { readBootrom } from './rom.mjs';
import { TcpPort } from './tcp_bridge.mjs';
import { uf2Blocks } from './uf2.mjs';

const DEFAULT_BOOTROM = fileURLToPath(
  new URL('../../third_party/rp2040-bootrom-b1.bin', import.meta.url),
);
const USB_PORTS = ['data', 'repl', 'service', 'printer'];

const OPTIONS = {
  uf2: { type: 'string' },
  bootrom: { type: 'string', default: DEFAULT_BOOTROM },
  flash: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  'data-port': { type: 'string' },
  'repl-port': { type: 'string' },
  'service-port': { type: 'string' },
  'printer-port': { type: 'string' },
  'uart-port': { type: 'string' },
  'control-port': { type: 'string' },
  'cdc-order': { type: 'string', default: 'data,repl,service' },
  board: { type: 'string', default: 'rp2_pico' },
  idle: { type: 'string', default: 'real' },
  'flash-timing': { type: 'string', default: 'typical' },
  'strict-flash': { type: 'boolean', default: false },
  'gc-symbols': { type: 'string' },
  'write-only': { type: 'boolean', default: false },
  twin: { type: 'string' },
  paper: { type: 'string' },
  micropython: { type: 'string', default: 'micropython' },
  'tear-idle-ms': { type: 'string', default: '0' },
  'rig-uf2': { type: 'string' },
  'rig-port': { type: 'string', default: '0' },
  verbose: { type: 'boolean', default: false },
};

const say = (line) => process.stdout.write(`${line}\n`);
const log = (line) => process.stderr.write(`${line}\n`);

function fail(message) {
  log(`chip: ${message}`);
  process.exit(2);
}

/** The flash: the kept file, with the UF2 written over it as a UF2 flasher would (each sector
 * it touches erased first; a whole-module image replaces the filesystem too), or a new one. */
function openFlash(args) {
  const flash = new NorFlash({ log });
  const kept = args.flash ? flash.load(args.flash) : false;
  if (!kept && !args.uf2) fail('no flash image: give --uf2 (and --flash FILE to keep the flash)');
  if (args.uf2) flash.place(uf2Blocks(readFileSync(args.uf2)));
  if (args.flash) {
    flash.save(args.flash);
    const how = !kept ? `new, from ${args.uf2}` : args.uf2 ? `kept, ${args.uf2} written` : 'kept';
    say(`flash: ${args.flash} (${how})`);
  }
  return flash;
}

async function main() {
  const { values: args } = parseArgs({ options: OPTIONS, strict: true });
  if (!['real', 'skip'].includes(args.idle)) fail(`--idle ${args.idle}: real or skip`);
  if (!['typical', 'none'].includes(args['flash-timing'])) fail('--flash-timing: typical or none');
  if (!BOARDS[args.board]) fail(`--board ${args.board}: one of ${Object.keys(BOARDS).join(', ')}`);
  const board = structuredClone(BOARDS[args.board]); // the control port's `feed` changes it
  if (args['write-only'] && !(args.uf2 && args.flash)) fail('--write-only: give --uf2 and --flash');
  const flash = openFlash(args);
  if (args['write-only']) return; // the UF2 is in the flash file, as a flasher leaves it
  const emulator = new Emulator({
    rom: readBootrom(args.bootrom),
    flash,
    log,
    idle: args.idle,
    strictFlash: args['strict-flash'],
    flashTiming: args['flash-timing'] === 'typical',
    verbose: args.verbose,
    gcProbe: args['gc-symbols'] ? new GcProbe(JSON.parse(args['gc-symbols'])) : null,
  });
  const wake = () => emulator.wake();
  const rig = args['rig-uf2'] ? await startRig(args, emulator) : null;
  const mechanism = args.twin ? startTwin(args, !args['rig-uf2']) : null;
  emulator.mechanism = mechanism;
  emulator.board = board; // what the board drives at each power-on
  const order = args['cdc-order'].split(',');
  const ports = {};
  for (const name of [...USB_PORTS, 'uart']) {
    const port = args[`${name}-port`];
    if (port === undefined) continue;
    ports[name] = await new TcpPort({ host: args.host, port: Number(port), wake }).listen();
    const what = { uart: 'UART0', printer: 'USB printer interface' }[name];
    const where = what ?? `USB CDC ${order.indexOf(name)}`;
    say(`listening for ${name} on ${args.host}:${ports[name].port} (${where})`);
  }
  ports.uart?.attach(emulator.uart);
  if (args['control-port'] !== undefined) {
    const server = await serveControl(emulator, '127.0.0.1', Number(args['control-port']));
    say(`control on 127.0.0.1:${server.address().port}`);
  }

  let bootWall = 0;
  emulator.onPower = (on, why) => {
    if (on) {
      bootWall = performance.now();
      applyBoard(emulator.mcu, board);
      mechanism?.attach(emulator.mcu, emulator.totals.ns);
      rig?.wiring.moduleOn(emulator.mcu);
    }
    else {
      rig?.wiring.moduleOff();
      for (const name of USB_PORTS) ports[name]?.detach({ hangUp: true });
      if (args.flash && flash.dirty) flash.save(args.flash);
    }
    say(why);
  };
  emulator.onUsbGone = () => {
    for (const name of USB_PORTS) ports[name]?.detach({ hangUp: true });
    say('usb: disconnected');
  };
  emulator.onReady = (usb) => {
    const cdc = usb.cdc;
    order.forEach((name, i) => cdc[i] && ports[name]?.attach(cdc[i]));
    if (usb.printer) ports.printer?.attach(usb.printer);
    const ms = (emulator.mcu.clock.nanos / 1e6).toFixed(1);
    const wallS = ((performance.now() - bootWall) / 1000).toFixed(2);
    say(`ready: ${usb.describe()} (${ms} emulated ms, ${wallS} s wall after power on)`);
  };
  let opsSeen = flash.ops;
  emulator.onSlice = () => {
    // Save once a burst of programs and erases is over (a slice with none).
    if (args.flash && flash.dirty && flash.ops === opsSeen) flash.save(args.flash);
    opsSeen = flash.ops;
    mechanism?.tick();
    rig?.wiring.analog();
    rig?.emulator.wake();
  };

  const stop = () => {
    rig?.emulator.powerOff('exit');
    emulator.powerOff('exit');
    mechanism?.twin.close();
    if (args.flash && flash.dirty) flash.save(args.flash);
    say(`stats: ${JSON.stringify(emulator.stats())}`);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR1', () => say(`stats: ${JSON.stringify(emulator.stats())}`));
  if (rig) rig.emulator.powerOn(); // the rig switches the module on
  else emulator.powerOn();
}

/** The rig controller (boards/rig_pico) on a second emulated chip, its pins wired to the
 * module's (rig_pins.mjs), its USB CDC on --rig-port. */
async function startRig(args, module) {
  const flash = new NorFlash({ log });
  flash.place(uf2Blocks(readFileSync(args['rig-uf2'])));
  const emulator = new Emulator({ rom: readBootrom(args.bootrom), flash, log, verbose: args.verbose });
  const wiring = new RigWiring(module, emulator, log);
  const port = await new TcpPort({ host: args.host, port: Number(args['rig-port']), wake: () => emulator.wake() }).listen();
  say(`listening for rig on ${args.host}:${port.port} (the rig controller's USB CDC 0)`);
  emulator.onPower = (on, why) => {
    if (on) wiring.rigOn(emulator.mcu);
    else port.detach({ hangUp: true });
    say(`rig: ${why}`);
  };
  emulator.onReady = (usb) => {
    port.attach(usb.cdc[0]);
    say(`rig ready: ${usb.describe()}`);
  };
  return { emulator, wiring };
}

/** The mechanism twin on the chip's pins (mechanism_pins.mjs): the sim's models, in a
 * MicroPython process, fed what the head's and the motor's pins did. */
function startTwin(args, drivesSensors) {
  if (!args.paper) fail('--twin: give --paper DIR for what it prints');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const env = {
    ...process.env,
    MICROPYPATH: process.env.MICROPYPATH ?? `${root}out/mpy:${root}boards:.frozen`,
  };
  const script = `${root}boards/sim/pin_twin.py`;
  const argv = [args.micropython, '-X', 'heapsize=512k', script, args.twin, args.paper];
  const twin = new Twin({ argv, env, log });
  const onReceipt = (n, path, rows) => say(`receipt ${n}: ${path} (${rows} dot lines)`);
  const pins = new MechanismPins(twin, { tearIdleMs: Number(args['tear-idle-ms']), onReceipt });
  // With the rig controller on the pins the paper sensors are its lines; the twin witnesses.
  twin.onSense = (ohms, paper, nearEnd) =>
    drivesSensors ? pins.sense(ohms, paper, nearEnd) : pins.sense(ohms, null, null);
  say(`twin: ${args.twin} on the pins, paper in ${args.paper}`);
  return pins;
}

main().catch((e) => fail(e.message));
