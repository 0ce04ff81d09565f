// A text receipt from @point-of-sale/receipt-printer-encoder, as a web POS builds one, for a
// 58 mm Chinese module (384 dots, 32 columns). Usage: node encoder.mjs OUT.bin
import { writeFileSync } from 'node:fs';
import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';

const encoder = new ReceiptPrinterEncoder({ printerModel: 'pos-5890', columns: 32 });
const bytes = encoder
    .initialize()
    .codepage('auto')
    .align('center')
    .bold(true).line('HARBOUR BAKERY').bold(false)
    .line('Café au lait')
    .align('left')
    .line('Rye bread            2.80 €')
    .underline(true).line('Two croissants       3.10 €').underline(false)
    .invert(true).line(' PAID BY CARD ').invert(false)
    .size(2, 2).line('TOTAL 5.90').size(1, 1)
    .line('Спасибо')
    .newline(2)
    .cut()
    .encode();
writeFileSync(process.argv[2], bytes);
