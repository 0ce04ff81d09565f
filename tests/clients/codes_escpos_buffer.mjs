// escpos-buffer's qrcode() with its default size (4) on an Epson model, and its text.
// Usage: node codes_escpos_buffer.mjs OUT.bin JSON ({"text": [...], "qr": "..."})
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { InMemory, Printer } = require("escpos-buffer");

const spec = JSON.parse(process.argv[3]);
const connection = new InMemory();
const printer = await Printer.CONNECT("TM-T20", connection);
for (const line of spec.text) await printer.writeln(line);
await printer.qrcode(spec.qr);
await printer.feed(2);
await printer.cutter();
writeFileSync(process.argv[2], connection.buffer());
