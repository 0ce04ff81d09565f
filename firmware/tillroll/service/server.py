"""The service link's requests (docs/service-protocol.md): one connection at a time, each in
its own task, never in the print path. Replies are JSON except a nonce and receipt bytes;
building them allocates, which is why none of this runs while the data link needs the heap
more than a technician does: the link's buffers were all made at start.
"""

import asyncio
import json
import os
import time

from ..engine import status as st
from . import frame as fr
from .auth import NONCE_BYTES, Auth
from .counters import Counters
from .wall import Wall

# Commands (the frame's command byte)
STATUS = const(0x01)
CHALLENGE = const(0x02)
AUTH = const(0x03)
PROVISION = const(0x04)
CLOCK = const(0x05)
LOG = const(0x10)
COUNTERS = const(0x11)
JOURNAL_LIST = const(0x20)
JOURNAL_INFO = const(0x21)
JOURNAL_READ = const(0x22)
JOURNAL_REPRINT = const(0x23)
JOURNAL_WIPE = const(0x24)
SETTINGS_GET = const(0x30)
SETTINGS_SET = const(0x31)
SETTINGS_FACTORY = const(0x32)
LOGO_LIST = const(0x40)
LOGO_PUT = const(0x41)
LOGO_DELETE = const(0x42)
SELF_TEST = const(0x50)
UPDATE_STATUS = const(0x60)  # to UPDATE_CLEAR: update/commands.py
UPDATE_CLEAR = const(0x65)

# Reply status (the payload's first byte)
OK = const(0)
ERROR = const(1)
NEEDS_AUTH = const(2)
WAIT = const(3)

_PUBLIC = (STATUS, CHALLENGE, AUTH, PROVISION)
_POLL_MS = const(250)
_PAGE_MAX = const(32)


class _Session:
    def __init__(self):
        self.authenticated = False
        self.nonce = None


class Service:
    def __init__(self, app, board):
        self._app = app
        self._board = board
        self.serial = getattr(board, "serial", "0000000")
        self.maintenance = bool(getattr(board, "maintenance", False))
        self.auth = Auth(getattr(board, "service_key_path", None), self.serial)
        self.wall = Wall(getattr(board, "wall_clock_known", False))
        self.counters = Counters(app.engine, getattr(board, "counters_path", None))
        self._log = None  # the fault log (fault_log.py), read in when first needed
        self._flags = 0
        self.framer = fr.Framer()
        self._busy = False
        self._boot = time.ticks_ms()
        self.wipes = 0
        self.receiver = None  # an update being received (update/receive.py)

    # ---- the watch: faults into the log, counters to storage -------------------------------

    async def watch(self):
        report = self._app.link.report
        while True:
            f = report.faults() if report is not None else self._app.engine.status.flags
            if f != self._flags:
                self._flags = f
                self._note(f)
            self.counters.tick()
            if self._log is not None:
                self._log.flush()  # an entry held back by the log's write limit
            await asyncio.sleep_ms(_POLL_MS)

    def log(self):
        """The fault log, kept across power cuts. Imported and read in at the first fault or
        the first request for it: a module that has no fault spends no heap on it."""
        log = self._log
        if log is None:
            from .fault_log import FaultLog

            log = self._log = FaultLog(getattr(self._board, "fault_log_path", None))
        return log

    def _note(self, flags: int):
        self.log().note(self.wall.now(), self.uptime_s(), flags)

    def uptime_s(self) -> int:
        return time.ticks_diff(time.ticks_ms(), self._boot) // 1000

    # ---- a connection -----------------------------------------------------------------------

    async def serve(self, stream):
        """Answer one host's requests until it goes; one host at a time."""
        if self._busy:
            return  # another technician has the link
        self._busy = True
        session = _Session()
        framer = self.framer
        try:
            while True:
                got = await framer.read(stream)
                if got is None:
                    return
                if got is not True:
                    out = framer.reply(fr.BAD_FRAME, ERROR, _json({"error": "frame: " + got}))
                else:
                    out = await self._answer(session, framer)
                stream.write(out)
                drain = getattr(stream, "drain", None)
                if drain is not None:
                    await drain()
        except OSError:
            pass  # the host went mid-frame
        finally:
            self._busy = False

    async def _answer(self, session, framer):
        cmd = framer.command
        if cmd not in _PUBLIC and not session.authenticated:
            why = "authenticate first" if self.auth.key else "no key: provision the module"
            return framer.reply(cmd, NEEDS_AUTH, _json({"error": why}))
        try:
            if cmd == CHALLENGE:
                session.nonce = os.urandom(NONCE_BYTES)
                return framer.reply(cmd, OK, session.nonce)
            if cmd == AUTH:
                return self._auth(session, framer)
            if cmd == JOURNAL_READ:
                return self._journal_read(framer)
            if UPDATE_STATUS <= cmd <= UPDATE_CLEAR:
                from ..update.commands import answer  # imported by a module's first update

                return framer.reply(cmd, OK, _json(answer(self, cmd, framer.payload())))
            args = _args(framer.payload())
            reply = self._handle(cmd, args, session)
            if reply is None:
                return framer.reply(cmd, ERROR, _json({"error": "unknown command %d" % cmd}))
            return framer.reply(cmd, OK, _json(reply))
        except ValueError as e:  # a request the module refuses, in its own words
            return framer.reply(cmd, ERROR, _json({"error": str(e)}))
        except Exception as e:  # a bad request is answered, the link stays up
            return framer.reply(cmd, ERROR, _json({"error": "%s: %s" % (type(e).__name__, e)}))

    def _auth(self, session, framer):
        nonce = session.nonce
        session.nonce = None  # a nonce answers once, right or wrong
        if self.auth.key is None:
            return framer.reply(AUTH, NEEDS_AUTH, _json({"error": "no key: provision it"}))
        wait = self.auth.check(nonce, bytes(framer.payload()))
        if wait == 0:
            session.authenticated = True
            return framer.reply(AUTH, OK, _json({"authenticated": True}))
        if wait < 0:
            left = self.auth.wait_ms()
            return framer.reply(AUTH, WAIT, _json({"error": "wait", "retry_ms": left}))
        return framer.reply(AUTH, ERROR, _json({"error": "wrong key", "retry_ms": wait}))

    def _handle(self, cmd, args, session):
        app = self._app
        if cmd == STATUS:
            return self.status(session)
        if cmd == PROVISION:
            if not self.maintenance:
                raise ValueError("provisioning needs maintenance mode (FEED held at power-on)")
            self.auth.provision(bytes.fromhex(args["key"]))
            return {"provisioned": True}
        if cmd == CLOCK:
            self.wall.set(int(args["time"]))
            return {"time": self.wall.now()}
        if cmd == LOG:
            return {"entries": self.log_entries()}
        if cmd == COUNTERS:
            if args.get("reset"):
                if not self.counters.reset(int(args.get("n", 0))):
                    raise ValueError("no counter %d" % args.get("n"))
            return self.counters.table()
        if cmd == JOURNAL_LIST:
            j = self._journal()
            count = min(max(int(args.get("count", 16)), 1), _PAGE_MAX)
            rows = j.page(int(args.get("after", 0)), count)
            return {"receipts": [list(r) for r in rows]}
        if cmd == JOURNAL_INFO:
            return self._journal_info(int(args["number"]))
        if cmd == JOURNAL_REPRINT:
            rec = app.recovery
            if rec is None or not rec.reprint(int(args["number"])):
                raise ValueError("no receipt %d in the journal" % int(args["number"]))
            return {"queued": True}
        if cmd == JOURNAL_WIPE:
            if args.get("confirm") != self.serial:
                raise ValueError("confirm with the module's serial number")
            j = self._journal()
            kept = len(j.numbers())
            j.format()
            self.wipes += 1
            self._note(0x100 | self._flags)  # logged: a wipe is a fault-log event
            self.log().flush(True)  # at once, whatever the write limit: an audit record
            return {"wiped": kept}
        if cmd == SETTINGS_GET:
            return dict(app.settings.values)
        if cmd == SETTINGS_SET:
            for name in args:
                if type(args[name]) is not int:
                    raise ValueError("%s: a whole number" % name)
            app.settings.set_all(args)  # every one checked before any is set
            return dict(app.settings.values)
        if cmd == SETTINGS_FACTORY:
            app.settings.factory()
            return dict(app.settings.values)
        if cmd == LOGO_LIST:
            return {"logos": self._logos()}
        if cmd == LOGO_PUT:
            return self._logo_put(args, session)
        if cmd == LOGO_DELETE:
            self._store().delete(_logo_name(args["key"]))
            return {"deleted": args["key"]}
        if cmd == SELF_TEST:
            app.request_self_test()
            return {"printing": True}
        return None

    # ---- status and the log -----------------------------------------------------------------

    def status(self, session=None):
        app = self._app
        report = app.link.report
        s = self._board.sensors
        faults = report.faults() if report is not None else app.engine.status.flags
        j = app.journal
        journal = {"mounted": False}
        if j is not None:
            js = j.status()
            journal = {
                k: js[k] for k in ("mounted", "error", "offline", "fill_percent", "receipts")
            }
        near = getattr(s, "paper_near_end", None)
        return {
            "model": "Tillroll 58",
            "serial": self.serial,
            "firmware": _version(),
            "mechanism": app.engine.mechanism.NAME,
            "faults": [name for bit, name in st.NAMES if faults & bit],
            "paper": bool(s.paper()),
            "near_end": bool(near()) if near is not None else False,
            "cover_closed": bool(s.cover_closed()),
            "supply_mv": s.supply_mv(),
            "head_c": app.engine.status.head_c,
            # from the last check of each element alone (the self-test, a head fault); None
            # where the head's current is not sensed or no check ran yet
            "dead_elements": app.engine.dead_ranges(),
            "receipts_printed": app.engine.receipts,
            "errors": app.errors,
            "journal": journal,
            "time": self.wall.now() or None,
            "uptime_s": self.uptime_s(),
            "provisioned": self.auth.key is not None,
            "maintenance": self.maintenance,
            "authenticated": bool(session and session.authenticated),
            "auth_wait_ms": self.auth.wait_ms(),
            "auth_failures": self.auth.failures,
            "auth_refused": self.auth.refused,
            "auth_imposed_ms": self.auth.imposed_ms,
        }

    def log_entries(self):
        out = []
        log = self.log()
        now = log.power_on
        for wall, up, flags, power_on in log.entries():
            names = [name for bit, name in st.NAMES if flags & bit]
            if flags & 0x100:
                names.append("journal_wiped")
            out.append(
                {
                    "time": wall or None,
                    "uptime_s": up,
                    "faults": names,
                    "power_on": power_on,
                    "this_power_on": power_on == now,
                }
            )
        return out

    # ---- the journal ------------------------------------------------------------------------

    def _journal(self):
        j = self._app.journal
        if j is None or not j.mounted:
            raise ValueError("no journal on this module")
        return j

    def _journal_info(self, number):
        from ..journal.journal import STATE_NAMES

        info = self._journal().info(number)
        if info is None:
            raise ValueError("no receipt %d in the journal" % number)
        state, reason, copies, line, size, t = info
        return {
            "number": number,
            "state": STATE_NAMES[state],
            "reason": reason,
            "copies": copies,
            "line": line,
            "bytes": size,
            "time": t + 1704067200 if t else None,
        }

    def _journal_read(self, framer):
        """Raw stored bytes straight into the reply frame: no copy of a receipt in RAM."""
        args = _args(framer.payload())
        j = self._journal()
        body = framer.body()
        size = min(max(int(args.get("size", len(body))), 1), len(body))
        n = j.read(int(args["number"]), int(args.get("offset", 0)), body[:size])
        return framer.reply(JOURNAL_READ, OK, None, n)

    # ---- NV logos ---------------------------------------------------------------------------

    def _store(self):
        store = getattr(self, "_logo_store", None)
        if store is None:
            d = getattr(self._board, "nv_dir", None)
            if not d:
                raise ValueError("no logo storage on this module")
            from ..render.logo_store import LogoStore

            store = self._logo_store = LogoStore(d)
        return store

    def _logos(self):
        store = self._store()
        out = []
        for name in sorted(os.listdir(self._board.nv_dir)):
            if name.endswith(".tmp"):
                continue
            got = store.open(name)
            if got is None:
                continue
            f, kind, a, b = got
            f.close()
            if name[0] == "g" and len(name) == 5:
                key = chr(int(name[1:3], 16)) + chr(int(name[3:5], 16))
                out.append({"key": key, "kind": "raster", "width": a * 8, "height": b})
            else:
                out.append({"key": name, "kind": "fs-q", "width": a, "height": b * 8})
        return out

    def _logo_put(self, args, session):
        store = self._store()
        name = _logo_name(args["key"])
        if int(args.get("offset", 0)) == 0:
            store.begin(name, 0, int(args["row_bytes"]), int(args["rows"]))
        store.write(bytes.fromhex(args.get("data", "")))
        if args.get("last"):
            store.commit()
        return {"key": args["key"], "stored": bool(args.get("last"))}


def _logo_name(key: str) -> str:
    if len(key) != 2 or not all(32 <= ord(c) <= 126 for c in key):
        raise ValueError("a logo key is two printable characters, as GS ( L kc1 kc2")
    return "g%02x%02x" % (ord(key[0]), ord(key[1]))


def _args(payload):
    # Parsed where it lies in the frame's buffer: a copy would want a piece of heap as long as
    # the frame (2 KB for a logo's row data), which a heap in pieces may not have.
    return json.loads(payload) if len(payload) else {}  # pyright: ignore[reportArgumentType]


def _json(obj):
    return json.dumps(obj).encode()


def _version():
    from .. import VERSION

    return VERSION
