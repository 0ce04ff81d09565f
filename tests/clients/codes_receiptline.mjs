// A receipt in receiptline markdown with its default code options (Code 128 at width 2, its
// QR code as an image) and Chinese text, for a 58 mm module in GB18030.
// Usage: node codes_receiptline.mjs OUT.bin JSON ({"text": [...], "code128": "...", "qr": "..."})
import { writeFileSync } from "node:fs";
import receiptline from "receiptline";

const spec = JSON.parse(process.argv[3]);
const codes = [`{code:${spec.code128}}`, "", `{code:${spec.qr}; option:qrcode}`, ""];
const doc = [...spec.text, "", ...codes].join("\n");
const printer = { command: "escpos", cpl: 32, encoding: "gb18030", spacing: true };
const out = receiptline.transform(doc, printer);
writeFileSync(process.argv[2], Buffer.from(out, "binary"));
