// node-thermal-printer (Epson) as a Chinese shop sets it up: character set CHINA (ESC R 15 and
// GB 2312 bytes, no FS &), then code128() and printQR() with their defaults (module 3,
// height 162; QR cell size 3, level M). Usage: node codes_thermal_printer.mjs OUT.bin JSON
import { writeFileSync } from "node:fs";
import { CharacterSet, PrinterTypes, ThermalPrinter } from "node-thermal-printer";

const spec = JSON.parse(process.argv[3]);
const printer = new ThermalPrinter({
  type: PrinterTypes.EPSON,
  interface: "tcp://127.0.0.1",
  characterSet: CharacterSet.CHINA,
});
printer.alignCenter();
for (const line of spec.text) printer.println(line);
printer.code128(spec.code128);
printer.newLine();
printer.printQR(spec.qr);
printer.newLine();
printer.cut();
writeFileSync(process.argv[2], printer.getBuffer());
