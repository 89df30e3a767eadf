"""The live view's server: the page, its files, exports, and one WebSocket per open page.

The server paces the session: while playing, every tick it advances virtual time by
``speed`` x the wall time that passed (speed 0.1 = ten times slower than real time), then sends
the new events to every page.

The WebSocket speaks JSON objects. From the page (``cmd``): ``play``, ``pause``,
``speed {value}`` (virtual seconds per wall second), ``step`` (run the next moment), ``run_to {t}``
(ns), ``detail {i}`` (one event's layers), ``tour {n}`` (the guided tour's stage n), and the actions ``node {name, up}``,
``link {link, up}``, ``set_link {link, loss?, delay?}``, ``run {app, host, target}``. From the
server (``type``): ``hello`` (mode, topology, features, now), ``events`` (new events in order,
each with its index ``i``, and ``now``), ``state`` (playing, speed, now), ``topology`` (after an
action), ``detail``, ``tour`` (a stage of the tour: its events, focus packets and narration),
``status`` (an action's result), ``error`` (a message for the user). A page
that connects gets every event so far, then the stream.

Beside the socket, ``GET /tcpplot.json?i=N`` (or ``?conn=a:p-b:q``) returns the series of the TCP
plot (observe/tcpplot.py) of the connection event N belongs to, for the page's TCP panel.

Why aiohttp: one dependency gives the HTTP server, static files and WebSockets on asyncio, with
no ASGI server to pick and configure (Starlette needs uvicorn beside it), and it starts in-process
on any port, which the tests need.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from .i18n import Message, best_language
from .session import ActionError, BaseSession, ReplaySession

TICK = 0.05  # s of wall time between two advances while playing
MAX_TICK = 0.25  # a slow tick (a busy simulation) never jumps further than this much wall time
DEFAULT_SPEED = 0.1  # virtual seconds per wall second
CHUNK = 5000  # events per message when a page catches up
log = logging.getLogger(__name__)
COMMANDS = ("play", "pause", "speed", "step", "run_to", "detail", "node", "link", "set_link", "run", "tour")


def static_dir() -> Any:
    return resources.files("minternet").joinpath("web", "static")


class LiveServer:
    """Serves one session to any number of pages."""

    def __init__(self, session: BaseSession, speed: float = DEFAULT_SPEED, lang: str | None = None,
                 tour: Any = None) -> None:
        self.session = session
        # The guided tour (web/tour.py) at /tour: a session of its own, made when first opened.
        self._tour_factory = tour
        self._tour: LiveServer | None = None
        self.lang = lang  # --lang; None: the browser's language
        self.playing = False
        self.speed = speed
        self.clients: set[web.WebSocketResponse] = set()
        self._busy = asyncio.Lock()  # one simulation call at a time, in order
        self._pacer: asyncio.Task | None = None
        self.app = web.Application()
        self.app.add_routes([
            web.get("/", self.index),
            web.get("/ws", self.websocket),
            web.get("/tour", self.index),
            web.get("/tour/ws", self.tour_websocket),
            web.get("/export/trace.jsonl", self.export_trace),
            web.get("/export/run.pcap", self.export_pcap),
            web.get("/export/diagram.svg", self.export_diagram),
            web.get("/tcpplot.json", self.tcpplot),
            web.get("/static/{name:.+}", self.static),
            web.get("/favicon.ico", self.favicon),
        ])
        self.app.on_startup.append(self._start)
        self.app.on_shutdown.append(self._stop)

    # -- life -------------------------------------------------------------------------------------
    async def _start(self, app: web.Application) -> None:
        self._pacer = asyncio.ensure_future(self._pace())

    async def _stop(self, app: web.Application) -> None:
        if self._pacer:
            self._pacer.cancel()
        for ws in list(self.clients):
            await ws.close()
        if self._tour is not None:
            for ws in list(self._tour.clients):
                await ws.close()
            self._tour.session.close()

    async def _sim(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` on the simulation's thread, then send what happened to every page."""
        async with self._busy:
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(self.session.executor, fn, *args)
            finally:
                await self._flush()

    async def _flush(self) -> None:
        events = self.session.drain()
        for i in range(0, max(len(events), 1), CHUNK):
            await self.broadcast({"type": "events", "events": events[i:i + CHUNK], "now": self.session.now})

    async def broadcast(self, msg: dict[str, Any]) -> None:
        text = json.dumps(msg, separators=(",", ":"))
        for ws in list(self.clients):
            try:
                await ws.send_str(text)
            except (ConnectionError, RuntimeError):
                self.clients.discard(ws)

    def state(self) -> dict[str, Any]:
        return {"type": "state", "playing": self.playing, "speed": self.speed, "now": self.session.now,
                "mode": self.session.mode}

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        target = float(self.session.now)
        while True:
            await asyncio.sleep(TICK)
            wall = loop.time()
            dt, last = min(wall - last, MAX_TICK), wall
            if not self.playing:
                target = float(self.session.now)
                continue
            target = max(target, float(self.session.now)) + dt * self.speed * 1e9
            try:
                await self._sim(self.session.advance, int(target))
            except Exception as exc:  # noqa: BLE001 - keep serving; tell the pages
                self.playing = False
                log.exception("the simulation failed")
                await self.broadcast({"type": "error", **Message("err.sim-stopped", error=repr(exc)).to_json(), "stopped": True})
                await self.broadcast(self.state())
            if isinstance(self.session, ReplaySession) and self.session.now >= self.session.end:
                self.playing = False
                await self.broadcast(self.state())

    # -- commands -----------------------------------------------------------------------------------
    async def command(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        """Carry out one command from a page; returns the reply for that page (if any)."""
        cmd = msg.get("cmd")
        s = self.session
        if cmd == "play":
            self.playing = True
            await self.broadcast(self.state())
        elif cmd == "pause":
            self.playing = False
            await self.broadcast(self.state())
        elif cmd == "speed":
            value = float(msg.get("value", DEFAULT_SPEED))
            if not 1e-6 <= value <= 1000:
                raise ActionError("err.speed", value=value)
            self.speed = value
            await self.broadcast(self.state())
        elif cmd == "step":
            self.playing = False
            await self._sim(s.step)
            await self.broadcast(self.state())
        elif cmd == "run_to":
            t = int(msg.get("t", 0))
            if t > s.now:
                await self._sim(s.advance, t)
            await self.broadcast(self.state())
        elif cmd == "detail":
            d = s.detail(int(msg.get("i", -1)))
            d["type"] = "detail"
            return d
        elif cmd == "tour" and s.mode == "tour":
            msg_ = await self._sim(s.goto, int(msg.get("n", 1)))
            await self.broadcast(msg_)
        elif cmd in ("node", "link", "set_link", "run"):
            text = await self._sim(s.act, msg)
            await self.broadcast({"type": "topology", "topology": s.topology()})
            return {"type": "status", **(text.to_json() if isinstance(text, Message) else {"message": text})}
        else:
            raise ActionError("err.unknown-command", cmd=cmd, known=", ".join(COMMANDS))
        return None

    # -- HTTP -------------------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.Response:
        # The language: --lang, else the browser's (Accept-Language); the page's switch (?lang=)
        # overrides both, and without either the page asks navigator.languages.
        html = static_dir().joinpath("index.html").read_text(encoding="utf-8")
        lang = self.lang or best_language(request.headers.get("Accept-Language"))
        if lang:
            html = html.replace('<html lang="en">', f'<html lang="{lang}" data-chosen="{lang}">', 1)
        return web.Response(text=html, content_type="text/html")

    async def favicon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)  # no icon; say so instead of a 404 in the console

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if ".." in name.split("/"):
            raise web.HTTPNotFound()
        f = static_dir().joinpath(*name.split("/"))
        if not f.is_file():
            raise web.HTTPNotFound()
        kind = {"js": "text/javascript", "css": "text/css", "json": "application/json", "html": "text/html", "svg": "image/svg+xml",
                "png": "image/png"}.get(name.rsplit(".", 1)[-1], "application/octet-stream")
        return web.Response(body=f.read_bytes(), content_type=kind)

    async def export_trace(self, request: web.Request) -> web.Response:
        return web.Response(text=self.session.trace_jsonl(), content_type="application/x-ndjson",
                            headers={"Content-Disposition": 'attachment; filename="trace.jsonl"'})

    async def export_pcap(self, request: web.Request) -> web.Response:
        return web.Response(body=self.session.pcap(), content_type="application/vnd.tcpdump.pcap",
                            headers={"Content-Disposition": 'attachment; filename="run.pcap"'})

    async def export_diagram(self, request: web.Request) -> web.Response:
        try:
            svg = self.session.diagram_svg()
        except ActionError as exc:
            raise web.HTTPNotFound(text=str(exc))
        return web.Response(text=svg, content_type="image/svg+xml")

    async def tour_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if self._tour_factory is None and self.session.mode != "tour":
            raise web.HTTPNotFound(text="this server has no guided tour")
        if self.session.mode == "tour":
            return await self.websocket(request)
        if self._tour is None:
            self._tour = LiveServer(self._tour_factory(), speed=self.speed, lang=self.lang)
        return await self._tour.websocket(request)

    async def tcpplot(self, request: web.Request) -> web.Response:
        """The TCP plot's series of a connection: ``?i=EVENT`` (the one that packet belongs to)
        or ``?conn=a:p-b:q``."""
        q = request.query
        try:
            index = int(q["i"]) if "i" in q else None
        except ValueError:
            raise web.HTTPBadRequest(text=f"i={q['i']!r} is not an event number") from None
        try:
            series = self.session.tcp_series(index, q.get("conn"))
        except ActionError as exc:  # the page says it in its own language (the message's key)
            return web.json_response({"error": exc.to_json()}, status=404)
        return web.json_response(series, dumps=lambda o: json.dumps(o, separators=(",", ":")))

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            # Another site open in the same browser must not drive the simulation (cross-site
            # WebSocket hijacking): browsers send Origin, and ours is the page's own address.
            raise web.HTTPForbidden(text=f"WebSocket from {origin} refused: only the page served here may connect")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        s = self.session
        async with self._busy:  # a consistent snapshot: no events slip between it and the stream
            await self._flush()
            await ws.send_json({"type": "hello", "mode": s.mode, "topology": s.topology(),
                                "features": s.features(), "now": s.now})
            events = list(s.encoded)
            for i in range(0, len(events), CHUNK):
                await ws.send_str(json.dumps({"type": "events", "events": events[i:i + CHUNK], "now": s.now},
                                             separators=(",", ":")))
            await ws.send_json(self.state())
            tour = getattr(s, "current", None)
            if s.mode == "tour" and tour is not None:
                await ws.send_str(json.dumps(await asyncio.get_running_loop().run_in_executor(
                    s.executor, s.goto, tour.number), separators=(",", ":")))
            self.clients.add(ws)
        try:
            async for m in ws:
                if m.type != WSMsgType.TEXT:
                    continue
                try:
                    msg = json.loads(m.data)
                    reply = await self.command(msg)
                except ActionError as exc:
                    reply = {"type": "error", **exc.to_json()}
                except (ValueError, TypeError, KeyError) as exc:
                    reply = {"type": "error", "message": str(exc)}
                except Exception as exc:  # noqa: BLE001 - one bad command must not close the page
                    log.exception("command %r failed", m.data)
                    reply = {"type": "error", **Message("err.server", error=repr(exc)).to_json()}
                if reply is not None:
                    reply.setdefault("req", msg.get("req") if isinstance(msg, dict) else None)
                    await ws.send_json(reply)
        finally:
            self.clients.discard(ws)
        return ws


async def start(session: BaseSession, host: str = "127.0.0.1", port: int = 8765,
                speed: float = DEFAULT_SPEED, lang: str | None = None,
                tour: Any = None) -> tuple[web.AppRunner, str, LiveServer]:
    """Start serving; returns the runner (``await runner.cleanup()`` stops it) and the URL.
    ``tour``: makes the guided tour's session (TourSession) when /tour is first opened."""
    server = LiveServer(session, speed=speed, lang=lang, tour=tour)
    runner = web.AppRunner(server.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    real_port = sockets[0].getsockname()[1] if sockets else port
    shown = f"[{host}]" if ":" in host else host
    return runner, f"http://{shown}:{real_port}/", server


class ServerThread:
    """The server on a thread of its own (for tests, and for programs that embed the view)."""

    def __init__(self, session: BaseSession, host: str = "127.0.0.1", port: int = 0,
                 speed: float = DEFAULT_SPEED, lang: str | None = None, tour: Any = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.url = ""
        self.server: LiveServer | None = None
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, args=(session, host, port, speed, lang, tour), daemon=True,
                                        name="minternet-web")
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        if not self.url:
            raise RuntimeError("the web server did not start within 30 s")

    def _main(self, session: BaseSession, host: str, port: int, speed: float, lang: str | None, tour: Any) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._runner, self.url, self.server = self.loop.run_until_complete(start(session, host, port, speed, lang, tour))
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self._runner is not None:
            self.call(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
