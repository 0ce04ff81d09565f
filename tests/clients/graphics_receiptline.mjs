// Barcodes and QR codes in receiptline markdown, ESC/POS bytes to argv[2].
import { writeFileSync } from "node:fs";
import receiptline from "receiptline";

const doc = `Receiptline codes
{code:4006381333931; option:ean,2,60,hri}
{code:TILL-39; option:code39,2,60}
Scan for the receipt
{code:https://example.com/r/receiptline; option:qrcode,5,m}
`;
const out = receiptline.transform(doc, { command: "escpos", cpl: 32, encoding: "cp437" });
writeFileSync(process.argv[2], Buffer.from(out, "binary"));
