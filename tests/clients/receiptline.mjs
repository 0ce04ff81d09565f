// A receipt from receiptline's markdown, as its users print one on a 58 mm module
// (384 dots: 32 columns of Font A). Usage: node receiptline.mjs ENCODING IN.txt OUT.bin
import { readFileSync, writeFileSync } from 'node:fs';
import receiptline from 'receiptline';

const [encoding, source, out] = process.argv.slice(2);
const printer = { cpl: 32, encoding, command: 'escpos', spacing: true, cutting: true };
const command = receiptline.transform(readFileSync(source, 'utf8'), printer);
writeFileSync(out, Buffer.from(command, 'binary'));
