"""The sim's control channel: line-based JSON on a TCP port, for tests and demos (docs/sim.md).

Each request is one JSON object on a line, {"cmd": NAME, ...}; each reply is one JSON object on
a line, {"ok": true, ...} or {"ok": false, "error": why}.
"""

import asyncio
import json
import os

# Replies are built whole in RAM: pages small enough for a heap in pieces.
_PAGE = const(16)  # journal_list rows
_PAGE_MAX = const(64)
_PIECE = const(512)  # journal_show bytes
_PIECE_MAX = const(2048)


class Control:
    def __init__(self, board, app):
        self._board = board
        self._app = app

    async def client(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    reply = self.handle(json.loads(line))
                    text = json.dumps(reply)
                except Exception as e:  # a bad request gets an answer, never a dead channel
                    reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
                    text = json.dumps(reply)
                writer.write(text.encode() + b"\n")
                await writer.drain()
                if reply.get("streaming"):  # this connection is the live stream from now on
                    await self._board.stream.serve(writer, self._board, self._app)
                    break
        finally:
            writer.close()
            await writer.wait_closed()

    def handle(self, req):
        cmd = req.get("cmd")
        method = getattr(self, "cmd_" + str(cmd), None)
        if method is None:
            return {"ok": False, "error": "unknown command %r" % cmd}
        reply = method(req)
        reply["ok"] = True
        return reply

    # ---- faults -----------------------------------------------------------------------------

    def cmd_supply(self, req):
        """Head supply in mV; 0 removes it."""
        self._board.supply.mv = int(req["mv"])
        return {}

    def cmd_dead(self, req):
        """Heating elements (0 = leftmost) that no longer heat."""
        dead = self._board.print_head.dead
        for d in req["dots"]:
            dead[d >> 3] |= 0x80 >> (d & 7)
        return {}

    def cmd_head_fault(self, req):
        """Break the head or mend it (sim/head_faults.py)."""
        from sim.head_faults import set_fault

        b = self._board
        set_fault(b.print_head, b.paper, req.get("fault"), int(req.get("group", 0)))
        return {}

    def cmd_paper_out(self, req):
        """The roll ends after `after` more dot lines (0: now)."""
        self._board.paper.remaining = int(req.get("after", 0))
        return {}

    def cmd_load_paper(self, req):
        if "lines" in req:
            self._board.paper.load(int(req["lines"]))
        else:
            self._board.paper.load()
        return {}

    def cmd_cover(self, req):
        self._board.sensors.cover_open = bool(req["open"])
        return {}

    def cmd_head_temp(self, req):
        """Set the head's true temperature, in C (a hot or a cold head); with "hold": true
        it stays there until set again."""
        self._board.print_head.set_temp(req["c"], bool(req.get("hold", False)))
        return {}

    def cmd_power_cut(self, req):
        """The power goes: the process dies at once, nothing flushed or closed."""
        os.system("kill -9 $PPID")
        return {}

    # ---- reading back -----------------------------------------------------------------------

    def cmd_status(self, req):
        s = self._app.engine.status
        return {
            "flags": s.names(),
            "stopped": s.stopped(),
            "line": s.line,
            "receipts": s.receipts,
            "head_c": s.head_c,
            "supply_mv": s.supply_mv,
            "dead_elements": self._app.engine.dead_ranges(),
            "queued": len(self._app.engine.queue),
            # barcodes, QR and PDF417 codes too wide for the paper at any module size: their
            # text printed instead
            "symbols_unfit": self._app.graphics.unfit,
        }

    def cmd_counters(self, req):
        e = self._app.engine
        b = self._board
        head = b.print_head
        paper = b.paper
        link = self._app.link
        return {
            "engine": {
                "lines_printed": e.lines_printed,
                "lines_fed": e.lines_fed,
                "receipts": e.receipts,
                "strobes": e.strobes,
                "divisions": e.divisions,
                "pulse_us": e.pulse_us,
                "line_us": e.line_us,
                "pauses": e.pauses,
                "density": e.heat.density,
                "speed": e.speed,
                "cap": e.mechanism.MAX_DOTS_AT_ONCE,
            },
            "link": {
                "received": link.received,
                "ring_stops": link.rx.stops,
                "replies_dropped": link.replies_dropped,
            },
            "twin": {
                "mechanism": b.mechanism.NAME,
                "strobes": head.strobes,
                "probes": head.probes,
                "max_dots_at_once": head.max_dots_at_once,
                "pulse_us": head.pulse_us,
                "pulse_min_us": head.pulse_min_us,
                "pulse_max_us": head.pulse_max_us,
                "head_c": head.temp_c,
                "energy_j": head.energy_j,
                "steps": b.stepper.steps,
                "lost_steps": b.stepper.lost_steps,
                "fastest_step_us": b.stepper.fastest_step_us,
                "ramp_violations": b.stepper.ramp_violations,
                "overspeed_steps": b.stepper.overspeed_steps,
                "rated_step_us": -(-1000000 // b.mechanism.max_pps(b.mechanism.RATED_MV)),
                "motion_us": b.stepper.motion_us,
                "lines": b.stepper.lines,
                "burnt": paper.burnt,
                "overburnt": paper.overburnt,
                "paper_left": paper.remaining,
                "time_s": b.clock.now_s() if hasattr(b.clock, "now_s") else None,
            },
            "flash": self._flash_counters(),
        }

    def _flash_counters(self):
        f = self._board.journal_flash
        if f is None:
            return None
        return {
            "programs": f.programs,
            "erases": f.erases,
            "refused": f.refused,
            "overwrites": f.overwrites,
        }

    def cmd_reset_counters(self, req):
        head = self._board.print_head
        head.strobes = head.max_dots_at_once = head.pulse_min_us = head.pulse_max_us = 0
        stepper = self._board.stepper
        stepper.steps = stepper.lost_steps = stepper.motion_us = stepper.fastest_step_us = 0
        stepper.ramp_violations = stepper.overspeed_steps = 0
        return {}

    def cmd_image(self, req):
        """Write what came out since the last tear-off to `path` as a PNG."""
        rows = self._board.paper.image(req["path"])
        return {"rows": rows, "path": req["path"]}

    def cmd_self_test(self, req):
        self._app.request_self_test()
        return {}

    def cmd_dots(self, req):
        """Print `rows` dot lines of the byte `byte` (a block of raster straight to the engine,
        as the renderer would), then `feed` lines, and end the receipt if `end`."""
        asyncio.create_task(
            self._dots(
                int(req["rows"]),
                int(req.get("byte", 255)),
                int(req.get("feed", 0)),
                bool(req.get("end", True)),
            )
        )
        return {}

    async def _dots(self, rows, byte, feed, end):
        app = self._app
        engine = app.engine
        app.layout.held = True
        line = bytearray([byte & 0xFF] * 48)
        try:
            if rows:
                app.layout.ink()  # dots go to the engine: a receipt has begun
            for _ in range(rows):
                while engine.free() < 4:
                    await engine.wait_space()
                engine.push_line(line, 0)
            if feed:
                engine.feed(feed)
            if end:
                app.layout.tear_off()
        finally:
            app.layout.held = False

    # ---- journal ----------------------------------------------------------------------------

    def cmd_journal_status(self, req):
        journal = self._app.journal
        if journal is None:
            return {"mounted": False, "error": "no journal flash on this board"}
        return journal.status()

    def cmd_journal_list(self, req):
        """A page of the receipts kept: number, time, state, first line; `after` the last
        number of the page before, `next` the one to ask after (null at the end)."""
        journal = self._app.journal
        count = min(max(int(req.get("count", _PAGE)), 1), _PAGE_MAX)
        rows = []
        if journal is not None and journal.mounted:
            rows = journal.page(int(req.get("after", 0)), count + 1)
        more = len(rows) > count
        del rows[count:]
        return {
            "receipts": [
                {"number": n, "time": t, "state": s, "first_line": f} for n, t, s, f in rows
            ],
            "next": rows[-1][0] if more else None,
        }

    def cmd_journal_show(self, req):
        """A piece of one receipt's stored bytes (card numbers masked), as hex, with its
        state: `offset` into them, at most `size`; `next` the offset of the next piece."""
        journal = self._app.journal
        number = int(req["number"])
        info = journal.info(number) if journal is not None and journal.mounted else None
        if info is None:
            return {"found": False}
        from tillroll.journal.journal import STATE_NAMES  # loaded with the journal

        offset = max(int(req.get("offset", 0)), 0)
        buf = bytearray(min(max(int(req.get("size", _PIECE)), 1), _PIECE_MAX))
        n = journal.read(number, offset, buf)
        more = offset + n < info[4]
        return {
            "found": True,
            "state": STATE_NAMES[info[0]],
            "total": info[4],
            "bytes": buf[:n].hex(),
            "next": offset + n if more else None,
        }

    def cmd_journal_reprint(self, req):
        rec = self._app.recovery
        if rec is None:
            return {"queued": False, "error": "no journal"}
        return {"queued": rec.reprint(int(req["number"]))}

    def cmd_feed_button(self, req):
        """A press of the FEED button (twice within a second: the last receipt as a copy)."""
        if self._app.recovery is not None:
            self._app.recovery.feed_pressed()
        return {}

    def cmd_stream(self, req):
        """Turn this connection into the live stream of dot lines, tear-offs and status
        (sim/stream.py); the sim must keep a ring for it (--stream-rows). `sndbuf`: the
        socket's send buffer in bytes (the system's default otherwise)."""
        if self._board.stream is None:
            raise ValueError("no stream: start the sim with --stream-rows N")
        self._board.stream.sndbuf = int(req.get("sndbuf", 0))
        return {"streaming": True}

    def cmd_time(self, req):
        clock = self._board.clock
        return {"time_s": clock.now_s() if hasattr(clock, "now_s") else None}
