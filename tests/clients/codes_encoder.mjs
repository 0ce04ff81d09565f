// @point-of-sale/receipt-printer-encoder's barcode() and qrcode() with their defaults (Code 128
// at width 2, which it sends as GS w 3; QR size 6, level M) on a 58 mm module.
// Usage: node codes_encoder.mjs OUT.bin JSON ({"text": [...], "code128": "...", "qr": "..."})
import { writeFileSync } from "node:fs";
import ReceiptPrinterEncoder from "@point-of-sale/receipt-printer-encoder";

const spec = JSON.parse(process.argv[3]);
const encoder = new ReceiptPrinterEncoder({ language: "esc-pos", columns: 32 });
encoder.initialize().align("center");
for (const line of spec.text) encoder.line(line);
encoder.barcode(spec.code128, "code128").newline().qrcode(spec.qr).newline().cut();
writeFileSync(process.argv[2], encoder.encode());
