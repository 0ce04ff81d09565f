// An image through @point-of-sale/receipt-printer-encoder: ESC/POS bytes to argv[2], the
// image's black dots (one array of x a row) to argv[2] + ".json"; argv[3]: raster or column.
import { writeFileSync } from "node:fs";
import ReceiptPrinterEncoder from "@point-of-sale/receipt-printer-encoder";

const width = 96;
const height = 48;
const data = new Uint8ClampedArray(width * height * 4).fill(255);
const rows = [];
for (let y = 0; y < height; y++) {
  const row = [];
  for (let x = 0; x < width; x++) {
    // A ring, a diagonal and a frame: shapes that show any shift or flip.
    const r = Math.hypot(x - 24, y - 24);
    const black = (r > 12 && r < 20) || Math.abs(x - 2 * y) < 2 || x === 0 || y === height - 1;
    if (black) {
      data.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3);
      row.push(x);
    }
  }
  rows.push(row);
}
const encoder = new ReceiptPrinterEncoder({ language: "esc-pos", imageMode: process.argv[3] });
const bytes = encoder.initialize().image({ data, width, height }, width, height).encode();
writeFileSync(process.argv[2], bytes);
writeFileSync(process.argv[2] + ".json", JSON.stringify(rows));
