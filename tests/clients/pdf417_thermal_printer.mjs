// PDF417 codes through node-thermal-printer (Epson), one receipt per symbol in argv[3] (a JSON
// list of [text, settings]), ESC/POS bytes to argv[2] (receipts split by cuts).
import { readFileSync, writeFileSync } from "node:fs";
import { ThermalPrinter, PrinterTypes } from "node-thermal-printer";

const symbols = JSON.parse(readFileSync(process.argv[3], "utf8"));
const printer = new ThermalPrinter({ type: PrinterTypes.EPSON, interface: "tcp://127.0.0.1" });
for (const [text, settings] of symbols) {
  printer.alignCenter();
  printer.pdf417(text, settings);
  printer.newLine();
  printer.println("after");
  printer.cut();
}
writeFileSync(process.argv[2], printer.getBuffer());
