// A receipt from the npm escpos library's Printer with its default settings, as its users
// print one: GB18030 text (its default encoding, with no FS &), a Code 128 barcode and a QR
// code (sent with GS Z / ESC Z). Usage: node codes_escpos.mjs OUT.bin JSON
// JSON: {"text": [...lines], "code128": "...", "qr": "..."}
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const escpos = require("escpos");

const spec = JSON.parse(process.argv[3]);
const chunks = [];
const printer = new escpos.Printer({ write: (data) => chunks.push(data) });
printer.align("ct");
for (const line of spec.text) printer.text(line);
printer.barcode(spec.code128, "CODE128");
printer.qrcode(spec.qr);
printer.text("");
printer.cut();
printer.flush();
writeFileSync(process.argv[2], Buffer.concat(chunks.map((c) => Buffer.from(c))));
