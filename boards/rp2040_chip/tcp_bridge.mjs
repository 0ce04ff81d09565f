// A TCP port standing for one of the chip's byte streams (a USB CDC interface, UART0), like a
// serial port server: one client at a time (the next waits its turn), bytes both ways.
//
// Flow control: the client is read only while a stream is attached and has taken what came
// before (the socket is paused past HIGH_WATER queued bytes), so nothing is dropped on the way
// in. What the chip sends while no client is connected is held (up to HOLD_MAX bytes) for the
// next one. When the chip's USB goes (power off, re-enumeration) the client is hung up, as a
// serial device that disappears.

import net from 'node:net';

const HIGH_WATER = 4096;
const HOLD_MAX = 64 * 1024;

export class TcpPort {
  /** wake(): the chip has bytes to take. */
  constructor({ host, port, wake }) {
    Object.assign(this, { host, port, wake });
    this.stream = null;
    this.client = null;
    this.waiting = [];
    this.held = [];
    this.heldBytes = 0;
    this.inbox = [];
  }

  listen() {
    this.server = net.createServer((socket) => this._accept(socket));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.port = this.server.address().port;
        resolve(this);
      });
    });
  }

  /** stream: write(bytes), queued, and the callbacks onData(bytes) and onDrain(). */
  attach(stream) {
    this.stream = stream;
    stream.onData = (bytes) => this._toClient(bytes);
    stream.onDrain = () => this.client?.resume();
    for (const chunk of this.inbox) stream.write(chunk);
    this.inbox = [];
    this.client?.resume();
  }

  detach({ hangUp = false } = {}) {
    this.stream = null;
    this.held = [];
    this.heldBytes = 0;
    if (hangUp) this.client?.destroy();
    else this.client?.pause();
  }

  _accept(socket) {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    if (this.client) {
      socket.pause();
      this.waiting.push(socket);
      socket.on('close', () => (this.waiting = this.waiting.filter((s) => s !== socket)));
      return;
    }
    this._use(socket);
  }

  _use(socket) {
    this.client = socket;
    for (const bytes of this.held) socket.write(bytes);
    this.held = [];
    this.heldBytes = 0;
    socket.on('data', (chunk) => {
      if (!this.stream) {
        this.inbox.push(chunk); // read before the pause took hold
        return socket.pause();
      }
      this.stream.write(chunk);
      if (this.stream.queued > HIGH_WATER) socket.pause();
      this.wake();
    });
    socket.on('close', () => {
      if (this.client !== socket) return;
      this.client = null;
      const next = this.waiting.shift();
      if (next) this._use(next);
    });
    if (this.stream) socket.resume();
    else socket.pause();
  }

  _toClient(bytes) {
    const copy = Buffer.from(bytes);
    if (this.client) this.client.write(copy);
    else if (this.heldBytes + copy.length <= HOLD_MAX) {
      this.held.push(copy);
      this.heldBytes += copy.length;
    }
  }
}
