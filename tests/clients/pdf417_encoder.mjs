// PDF417 codes through @point-of-sale/receipt-printer-encoder, one receipt per symbol in
// argv[3] (a JSON list of [text, options]), ESC/POS bytes to argv[2] (receipts split by cuts).
import { readFileSync, writeFileSync } from "node:fs";
import ReceiptPrinterEncoder from "@point-of-sale/receipt-printer-encoder";

const symbols = JSON.parse(readFileSync(process.argv[3], "utf8"));
const encoder = new ReceiptPrinterEncoder({ language: "esc-pos", columns: 32, errors: "strict" });
encoder.initialize();
for (const [text, options] of symbols) {
  encoder.align("center").pdf417(text, options).newline().line("after").cut();
}
writeFileSync(process.argv[2], encoder.encode());
