"""`tillroll sim --web PORT`: the simulated module in a browser.

The page shows the paper as it prints (the dot lines the sim streams through its control
channel, boards/sim/stream.py), each receipt torn off at its cut, the module's status lights,
buttons for FEED, the paper, the cover and the power, and the receipt journal.

The server is the standard library's `http.server` with server-sent events: the page only
receives (dot lines, tear-offs, status, the journal) and its buttons are plain POSTs, which
is what SSE is for; the browser reconnects by itself, and nothing beyond the standard
library has to be installed, kept up to date or trusted. One thread per connection is plenty
for the few pages of one developer's module on the loopback address.

    WebSim(out_dir, sim_args) -- runs the module, follows its stream, answers the page
    serve(web, host, port)    -- the HTTP server in front of it
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import shutil
import signal
import tempfile
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

from .errors import FatalError
from .render import render
from .sim import SimModule, SimStream

STATIC = Path(__file__).parent / "web"
ROW_BYTES = 48
_STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
STREAM_ROWS = 256  # dot lines (12 KB of its heap) the sim keeps for the stream: 75 ms of print
_KEPT_RECEIPTS = 200  # torn-off receipts listed for a page that connects later
_CLIENT_BACKLOG = 20000  # messages a slow page may fall behind before it is dropped
_JOURNAL_POLL_S = 1.0
_JOURNAL_GAP_S = 0.2  # at most five listings a second, however busy the module is
_KEEPALIVE_S = 15.0


class Hub:
    """What the page shows, and the pages that are watching. A page that connects gets the
    whole state first (`hello`), then every change in order."""

    def __init__(self):
        self._lock = threading.Lock()
        self._clients: list[queue.Queue] = []
        self.power = False
        self.status: dict | None = None
        self.paper = bytearray()  # dot lines since the last tear-off, as streamed
        self.paper_whole = True  # every dot line of the paper since the last tear-off is in it
        self.receipts: list[dict] = []
        self.journal: list[dict] = []
        self.info: dict = {}
        self.next_receipt = 1  # the number the next receipt torn off gets

    def connect(self) -> queue.Queue:
        q: queue.Queue = queue.Queue(_CLIENT_BACKLOG)
        with self._lock:
            q.put(("hello", self._snapshot()))
            self._clients.append(q)
        return q

    def disconnect(self, q: queue.Queue) -> None:
        with self._lock:
            if q in self._clients:
                self._clients.remove(q)

    def _snapshot(self) -> dict:
        return {
            "power": self.power,
            "status": self.status,
            "paper": base64.b64encode(self.paper).decode(),
            "paper_whole": self.paper_whole,
            "receipts": self.receipts,
            "journal": self.journal,
            **self.info,
        }

    def _publish(self, event: str, data) -> None:
        for q in list(self._clients):
            try:
                q.put_nowait((event, data))
            except queue.Full:  # too far behind: drop it; its page reconnects to a fresh hello
                self._clients.remove(q)
                with q.mutex:
                    q.queue.clear()
                q.put_nowait(("bye", None))

    # ---- changes ----------------------------------------------------------------------------

    def rows(self, rows: bytes) -> None:
        with self._lock:
            self.paper += rows
            self._publish("rows", rows)

    def resync(self, receipts: int, rows: int) -> None:
        """The stream starts (again): `receipts` have been torn off so far, and the paper
        holds `rows` dot lines since. Receipts torn off unseen are listed from their PNGs;
        dot lines the paper has and the page does not make its receipt come from its PNG."""
        with self._lock:
            while self.next_receipt <= receipts:
                self._tear(self.next_receipt, streamed=False)
            if rows > len(self.paper) // ROW_BYTES:
                self.paper_whole = False
                self._publish("gap", {"rows": rows - len(self.paper) // ROW_BYTES})

    def tear(self, number: int) -> None:
        with self._lock:
            self._tear(number, self.paper_whole)

    def _tear(self, number: int, streamed: bool) -> None:
        receipt = {"number": number, "url": f"/receipts/{number}.png", "streamed": streamed}
        self.receipts = (self.receipts + [receipt])[-_KEPT_RECEIPTS:]
        self.paper = bytearray()
        self.paper_whole = True
        self.next_receipt = number + 1
        self._publish("tear", receipt)

    def set_status(self, status: dict | None) -> None:
        with self._lock:
            self.status = status
            self._publish("status", status)

    def set_power(self, on: bool, why: str = "") -> None:
        with self._lock:
            self.power = on
            if not on:
                self.status = None
            else:  # the module starts with fresh paper under its head
                self.paper = bytearray()
                self.paper_whole = True
            self._publish("power", {"on": on, "why": why})

    def set_journal(self, rows: list[dict]) -> bool:
        with self._lock:
            if rows == self.journal:
                return False
            self.journal = rows
            self._publish("journal", rows)
            return True


class WebSim:
    """The simulated module behind the page: starts it, cuts and restores its power, follows
    its stream into the hub, and carries the page's button presses to its control channel."""

    def __init__(
        self,
        out_dir: Path,
        data_port: int = 9100,
        host: str = "127.0.0.1",
        sim_args: list[str] | None = None,
        real_time: bool = False,
        control_port: int = 0,
        echo: bool = True,
        nv_dir: Path | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.data_port = data_port
        self.host = host
        self.sim_args = list(sim_args or [])
        self.real_time = real_time
        self.control_port = control_port
        self.echo = echo
        self.nv_dir = Path(nv_dir) if nv_dir else self.out_dir / "flash"
        self.hub = Hub()
        self.hub.info = {
            "data_port": f"{host}:{data_port}",
            "time": "real" if real_time else "virtual",
        }
        self._sim: SimModule | None = None
        self._stream: SimStream | None = None
        self._control = threading.Lock()  # one request at a time on the control channel
        self._power = threading.Lock()
        self._poke = threading.Event()
        self._stopping = False
        self._cut = False
        self._renders = Path(tempfile.mkdtemp(prefix="tillroll-web-"))
        self._render_lock = threading.Lock()
        threading.Thread(target=self._watch_journal, daemon=True).start()

    # ---- power ------------------------------------------------------------------------------

    def power_on(self, feed_held: bool = False) -> None:
        with self._power:
            if self._sim is not None:
                return
            args = [*self.sim_args, "--stream-rows", str(STREAM_ROWS)]
            args += ["--first-receipt", str(self.hub.next_receipt)]
            sim = SimModule(
                self.out_dir,
                data_port=self.data_port,
                host=self.host,
                echo=self.echo,
                real_time=self.real_time,
                feed_held=feed_held,
                extra_args=args,
            )
            if self.control_port:
                sim.control_port = self.control_port
            sim.start(timeout=60)
            self._cut = False
            self._sim = sim
            self._stream = SimStream(sim.control_port)
            self.hub.set_power(True)
            threading.Thread(target=self._follow, args=(sim, self._stream), daemon=True).start()
            self._poke.set()

    def power_cut(self) -> None:
        with self._power:
            sim = self._sim
            if sim is None:
                return
            self._cut = True
            with self._control:
                sim.power_cut()
        # The stream ends with the process; _follow marks the power off.

    def stop(self) -> None:
        self._stopping = True
        with self._power:
            sim, self._sim = self._sim, None
            if self._stream is not None:
                self._stream.close()
            if sim is not None:
                sim.stop()
        shutil.rmtree(self._renders, ignore_errors=True)

    def _follow(self, sim: SimModule, stream: SimStream) -> None:
        hub = self.hub
        try:
            for msg, rows in stream.events():
                ev = msg["ev"]
                if ev == "rows":
                    hub.rows(rows)
                elif ev in ("hello", "resync"):
                    hub.resync(msg["receipts"], msg["rows"])
                elif ev == "tear":
                    hub.tear(msg["receipt"])
                    self._poke.set()
                elif ev == "status":
                    hub.set_status({k: v for k, v in msg.items() if k != "ev"})
                    self._poke.set()
        except OSError:
            pass
        stream.close()
        with self._power:
            if self._sim is sim:
                self._sim = None
                self._stream = None
        if not self._stopping:
            sim.stop()
            hub.set_power(False, "power cut" if self._cut else "the module stopped")

    # ---- the page's requests ----------------------------------------------------------------

    def press(self, button: str) -> None:
        """A button on the page."""
        if button == "power_on":
            self.power_on()
            return
        if button == "power_on_feed":
            self.power_on(feed_held=True)
            return
        if button == "power_cut":
            self.power_cut()
            return
        commands = {
            "feed": ("feed_button", {}),
            "paper_out": ("paper_out", {"after": 0}),
            "paper_in": ("load_paper", {}),
            "cover_open": ("cover", {"open": True}),
            "cover_close": ("cover", {"open": False}),
        }
        if button not in commands:
            raise FatalError(f"no button {button!r}")
        cmd, args = commands[button]
        self.control(cmd, **args)
        self._poke.set()

    def control(self, cmd: str, **args) -> dict:
        sim = self._sim
        if sim is None:
            raise FatalError("the module is off")
        with self._control:
            return sim.control(cmd, **args)

    def _sim_call(self, name: str, *args):
        """One of the SimModule's paged journal reads, as one exchange with the module."""
        sim = self._sim
        if sim is None:
            raise FatalError("the module is off")
        with self._control:
            return getattr(sim, name)(*args)

    def receipt_png(self, number: int) -> Path | None:
        path = self.out_dir / f"receipt-{number:04d}.png"
        return path if path.is_file() else None

    def journal_png(self, number: int) -> Path | None:
        """A journal receipt as it prints (its stored ESC/POS through the firmware, without the
        copy banners): rendered once per content, as `tillroll render` does."""
        data = self._sim_call("journal_bytes", number)
        if data is None:
            return None
        key = hashlib.sha256(data).hexdigest()[:16]
        png = self._renders / f"journal-{number}-{key}.png"
        with self._render_lock:
            if not png.is_file():
                source = self._renders / f"journal-{number}.bin"
                source.write_bytes(data)
                flash = self._renders / "flash"  # a copy: a render must not touch the module's
                shutil.rmtree(flash, ignore_errors=True)
                if self.nv_dir.is_dir():
                    shutil.copytree(self.nv_dir, flash)
                render(source, png, flash)
        return png

    def _watch_journal(self) -> None:
        # The journal changes at tear-offs, faults and button presses; a slow poll catches the
        # rest (a receipt received while nothing printed).
        while not self._stopping:
            self._poke.wait(_JOURNAL_POLL_S)
            self._poke.clear()
            if self._sim is None:
                continue
            try:
                rows = self._sim_call("journal_list")
            except (FatalError, OSError):
                continue
            self.hub.set_journal(rows)
            time.sleep(_JOURNAL_GAP_S)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # the module's own output is what matters here
        pass

    def do_GET(self):
        path = urlparse(self.path).path
        web = self.server.web
        if path == "/":
            return self._file(STATIC / "index.html")
        if path.startswith("/static/") and "/" not in path[len("/static/") :]:
            return self._file(STATIC / path[len("/static/") :])
        if path == "/events":
            return self._events()
        for prefix, find in (("/receipts/", web.receipt_png), ("/journal/", web.journal_png)):
            if path.startswith(prefix) and path.endswith(".png"):
                number = path[len(prefix) : -len(".png")]
                if not number.isdigit():
                    break
                try:
                    png = find(int(number))
                except FatalError as e:
                    return self._json({"ok": False, "error": str(e)}, HTTPStatus.CONFLICT)
                if png is None:
                    break
                name = "receipt" if prefix == "/receipts/" else "journal"
                return self._file(png, "image/png", f"{name}-{int(number):04d}.png")
        self._json({"ok": False, "error": "not found"}, HTTPStatus.NOT_FOUND)

    def do_POST(self):
        path = urlparse(self.path).path
        if path != "/api/press":
            return self._json({"ok": False, "error": "not found"}, HTTPStatus.NOT_FOUND)
        length = int(self.headers.get("Content-Length") or 0)
        try:
            button = json.loads(self.rfile.read(length) or b"{}").get("button", "")
            self.server.web.press(str(button))
        except (FatalError, ValueError) as e:
            return self._json({"ok": False, "error": str(e)}, HTTPStatus.CONFLICT)
        self._json({"ok": True})

    def _file(self, path: Path, kind: str | None = None, download: str = ""):
        if not path.is_file():
            return self._json({"ok": False, "error": "not found"}, HTTPStatus.NOT_FOUND)
        body = path.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", kind or _STATIC_TYPES.get(path.suffix, "text/plain"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if download:
            self.send_header("Content-Disposition", f'inline; filename="{download}"')
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data: dict, status: HTTPStatus = HTTPStatus.OK):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _events(self):
        """Server-sent events until the page goes: a hello with the whole state, then each
        change. Dot lines that queued up while writing go out as one message."""
        hub = self.server.web.hub
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        q = hub.connect()
        try:
            while not self.server.stopping:
                try:
                    batch = [q.get(timeout=_KEEPALIVE_S)]
                except queue.Empty:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    continue
                while len(batch) < 1000:
                    try:
                        batch.append(q.get_nowait())
                    except queue.Empty:
                        break
                out = []
                rows = b""
                for event, data in batch:
                    if event == "rows":
                        rows += data
                        continue
                    if rows:
                        out.append(_sse("rows", base64.b64encode(rows).decode()))
                        rows = b""
                    if event == "bye":
                        break
                    out.append(_sse(event, json.dumps(data)))
                if rows:
                    out.append(_sse("rows", base64.b64encode(rows).decode()))
                self.wfile.write(b"".join(out))
                self.wfile.flush()
                if batch[-1][0] == "bye":
                    return
        except OSError:
            pass  # the page went
        finally:
            hub.disconnect(q)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _sse(event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\n\n".encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, web: WebSim):
        super().__init__(address, _Handler)
        self.web = web
        self.stopping = False


def serve(web: WebSim, host: str, port: int) -> None:
    """Serve the page until Ctrl-C or SIGTERM, then stop the module."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        server = _Server((host, port), web)
    except OSError as e:
        raise FatalError(f"cannot serve the page on {host}:{port}: {e.strerror}") from e
    try:
        web.power_on()
        print(f"web page on http://{host}:{server.server_address[1]}/", flush=True)
        server.serve_forever(poll_interval=0.2)
    finally:
        server.stopping = True
        web.stop()
        server.server_close()
