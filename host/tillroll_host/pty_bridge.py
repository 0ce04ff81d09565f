"""The module's ESC/POS data port as a serial device: a pseudo-terminal bridged to TCP.

Clients that want a device path (python-escpos `Serial`, pyserial, npm serialport) open
`bridge.path`, a /dev/pts/N in raw mode: ESC/POS is binary, so no echo, no XON/XOFF and no
CR/LF translation. The bridge keeps one TCP connection to the data port for its whole life,
as a serial line never closes, and opens it again if the module drops it.

Nothing is lost: while the data port takes no more, the bridge stops reading the pty, so the
client's writes wait in the kernel's pty buffer. What the module sends back (today the GS ( H
process-ID reply) goes to the client through the pty.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import termios
import threading
import tty

from .errors import FatalError

_CHUNK = 4096
_RECONNECT_S = 0.2


class PtyBridge:
    """with PtyBridge(9100) as bridge: serial.Serial(bridge.path).write(receipt)"""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.address = (host, port)
        self.path = ""
        self._master = self._slave = -1
        self._sock: socket.socket | None = None
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None

    def start(self) -> PtyBridge:
        self._sock = self._connect()  # fail here, at once, if nothing listens
        # The slave stays open here for the bridge's life: when no one has it open, reading
        # the master fails with EIO, and a client's close would hang up the line.
        self._master, self._slave = os.openpty()
        raw(self._slave)
        self.path = os.ttyname(self._slave)
        os.set_blocking(self._master, False)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._pump, name="pty-bridge", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            os.write(self._wake_w, b"x")
            self._thread.join()
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = self._wake_r = self._wake_w = -1

    def __enter__(self) -> PtyBridge:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection(self.address, timeout=5)
        except OSError as e:
            host, port = self.address
            raise FatalError(f"no ESC/POS data port on {host}:{port}: {e.strerror}") from e
        sock.setblocking(False)
        return sock

    def _pump(self) -> None:
        pending = b""  # read from the client, not yet taken by the data port
        while True:
            readers = [self._wake_r, self._sock] + ([] if pending else [self._master])
            writers = [self._sock] if pending else []
            readable, writable, _ = select.select(readers, writers, [])
            if self._wake_r in readable:
                return
            try:
                if self._sock in writable:
                    pending = pending[self._sock.send(pending) :]
                reply = self._sock.recv(_CHUNK) if self._sock in readable else None
            except OSError:
                reply = b""
            if reply == b"":  # the module dropped the line
                if not self._reconnect():
                    return
                continue
            if reply:
                self._to_client(reply)
            if self._master in readable:
                pending = self._from_client()

    def _from_client(self) -> bytes:
        try:
            return os.read(self._master, _CHUNK)
        except BlockingIOError:
            return b""
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            # No client has the slave open (only if our own fd were gone): wait for one.
            select.select([self._wake_r], [], [], _RECONNECT_S)
            return b""

    def _to_client(self, reply: bytes) -> None:
        try:
            os.write(self._master, reply)
        except BlockingIOError:
            pass  # no one reads the replies and the pty's 4 KB is full: as on a wire, lost

    def _reconnect(self) -> bool:
        """The module dropped the line (restarted, power cut): open it again once it listens.
        False if the bridge was stopped meanwhile."""
        self._sock.close()
        while True:
            try:
                self._sock = self._connect()
                return True
            except FatalError:
                if select.select([self._wake_r], [], [], _RECONNECT_S)[0]:
                    return False


def raw(fd: int) -> None:
    """Raw mode for binary data: 8 bits, no echo, no signals, no XON/XOFF, no CR/LF mapping."""
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[0] &= ~(termios.IXOFF | termios.IXANY | termios.INLCR | termios.IGNCR)
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
