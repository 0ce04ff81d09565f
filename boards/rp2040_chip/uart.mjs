// A serial line on an rp2040js UART. Bytes to the chip arrive at the line's own pace, one per
// character time at the baud rate the firmware set, in emulated time; a byte that finds the
// 32-byte RX FIFO full is lost and counted, as an overrun on the real UART (rp2040js has no
// RTS/CTS, so XON/XOFF in the byte stream is the only flow control); so is a byte sent while
// the firmware has not enabled the UART (then at 115200 baud).

const UARTDR = 0x00;
const UARTTXINTR = 1 << 5;
const UARTEN = 1 << 0;
const RXE = 1 << 9;
const DEFAULT_CHARACTER_NS = 10e9 / 115200;

export class UartLine {
  constructor() {
    this.onData = null; // (Uint8Array) what the chip sent since the last flush
    this.onDrain = null; // () every byte written has gone down the line
    this.pending = [];
    this.out = [];
    this.lost = 0; // bytes that found the UART off or its RX FIFO full
    this.uart = null;
    this.ticking = false; // an alarm is set for the next character
  }

  attach(mcu, uart) {
    this.uart = uart;
    this.alarm = mcu.clock.createAlarm(() => this._next());
    uart.onByte = (b) => this.out.push(b);
    this.ticking = false;
    this._start();
  }

  detach() {
    this.uart = null;
    this.out = [];
  }

  get queued() {
    return this.pending.length;
  }

  write(bytes) {
    for (const b of bytes) this.pending.push(b);
    this._start();
  }

  _start() {
    if (this.ticking || !this.uart || !this.pending.length) return;
    this.ticking = true;
    this.alarm.schedule(0);
  }

  /** Hands what the chip has sent to onData. */
  flush() {
    if (!this.out.length) return;
    const bytes = Uint8Array.from(this.out);
    this.out = [];
    this.onData?.(bytes);
  }

  _next() {
    const { uart } = this;
    if (!uart || !this.pending.length) {
      this.ticking = false;
      return;
    }
    const b = this.pending.shift();
    const on = uart.baudDivider && (uart.ctrlRegister & (UARTEN | RXE)) === (UARTEN | RXE);
    if (!on || uart.rxFIFO.full) this.lost++;
    else uart.feedByte(b);
    if (!this.pending.length) this.onDrain?.();
    this.alarm.schedule(on ? this._characterNs() : DEFAULT_CHARACTER_NS);
  }

  _characterNs() {
    const lcr = this.uart.lineCtrlRegister;
    const bits = 1 + this.uart.wordLength + (lcr & 0x2 ? 1 : 0) + (lcr & 0x8 ? 2 : 1);
    return (bits * 1e9) / this.uart.baudRate;
  }
}

/**
 * The PL011's transmit interrupt is raised by a transition: when written data has left the
 * FIFO (rp2040js sends a byte the moment it is written), not while the FIFO merely is empty;
 * clearing it (UARTICR) keeps it clear. rp2040js 1.4.1 raises it again on every register
 * access, and MicroPython's UART handler, which enables it, then never returns to the program.
 */
export function fixTxInterrupt(uart) {
  uart.checkInterrupts = () =>
    uart.rp2040.setInterrupt(uart.irq, !!(uart.interruptStatus & uart.interruptMask));
  const write = uart.writeUint32.bind(uart);
  uart.writeUint32 = (offset, value) => {
    write(offset, value);
    if (offset === UARTDR) {
      uart.interruptStatus |= UARTTXINTR;
      uart.checkInterrupts();
    }
  };
}
