// receiptline's printing path with its status check, as its users print over the network:
// transform markdown for ESC/POS, write it to the printer's port, and wait for the printer's
// answer to the GS r 1 that receiptline puts after the cut. Prints "printed" when it comes.
// Usage: node receiptline_print.mjs HOST PORT IN.txt
import { readFileSync } from 'node:fs';
import net from 'node:net';
import receiptline from 'receiptline';

const [host, port, source] = process.argv.slice(2);
const printer = { cpl: 32, encoding: 'cp437', command: 'escpos', spacing: true, cutting: true };
const command = receiptline.transform(readFileSync(source, 'utf8'), printer);
const socket = net.connect(Number(port), host, () => socket.write(command, 'binary'));
const timer = setTimeout(() => { console.log('timeout'); process.exit(1); }, 60000);
socket.on('data', data => {
    // GS r replies are 0xx0xxxx; the paper-end bits (2, 3) must be clear.
    for (const b of data) {
        if ((b & 0x90) === 0) {
            clearTimeout(timer);
            console.log((b & 0x0c) === 0 ? 'printed' : 'paper end');
            socket.destroy();
            return;
        }
    }
});
socket.on('error', err => { console.log(`error ${err.message}`); process.exit(1); });
