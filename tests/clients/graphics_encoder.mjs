// Barcodes and QR codes through @point-of-sale/receipt-printer-encoder, ESC/POS bytes to argv[2].
import { writeFileSync } from "node:fs";
import ReceiptPrinterEncoder from "@point-of-sale/receipt-printer-encoder";

const encoder = new ReceiptPrinterEncoder({ language: "esc-pos", columns: 32 });
const bytes = encoder
  .initialize()
  .line("Encoder codes")
  .barcode("4006381333931", "ean13", 60)
  .newline()
  .barcode("TILL123", "code128", 60)
  .newline()
  .qrcode("https://example.com/r/encoder", 2, 6, "m")
  .newline()
  .encode();
writeFileSync(process.argv[2], bytes);
