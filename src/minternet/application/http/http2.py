"""HTTP/2 on the ``h2`` library (sans-IO, as h11 is for HTTP/1.1): one connection carries many
requests at once, each on its own stream, their frames interleaved (RFC 9113).

:class:`H2ServerConnection` serves the same handlers as the HTTP/1.1 server (a :class:`Request`
in, a :class:`Response` out), each stream's handler running as its own task;
:class:`H2ClientConnection` sends requests on one connection, several at a time. Both run over an
asyncio stream pair: minternet's TCP wrapped in TLS (ALPN ``h2``), or the operating system's.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from .message import NO_BODY_STATUSES, Headers, Request, Response, error_response, http_date

if TYPE_CHECKING:
    from .server import HTTPServer

READ_SIZE = 65536


class _Flow:
    """Sending DATA within HTTP/2's flow-control windows (RFC 9113 5.2): wait for WINDOW_UPDATE."""

    def __init__(self, conn: h2.connection.H2Connection, writer: asyncio.StreamWriter) -> None:
        self.conn = conn
        self.writer = writer
        self.window_open = asyncio.Event()
        self.broken: BaseException | None = None

    async def send_data(self, stream_id: int, data: bytes, end_stream: bool) -> None:
        view = memoryview(data)
        while True:
            if self.broken is not None:
                raise self.broken
            room = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if room <= 0 and view:
                self.window_open.clear()
                await self.window_open.wait()
                continue
            piece, view = view[:room], view[room:]
            self.conn.send_data(stream_id, bytes(piece), end_stream=end_stream and not view)
            self.writer.write(self.conn.data_to_send())
            if not view:
                break
        await self.writer.drain()


# -- server ------------------------------------------------------------------------------------------
class H2ServerConnection:
    """One HTTP/2 connection of an :class:`~.server.HTTPServer`."""

    def __init__(self, server: "HTTPServer", reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 number: int) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.number = number
        peer = writer.get_extra_info("peername")
        self.peer: tuple[str, int] | None = (peer[0], peer[1]) if peer else None
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                                         header_encoding=None))
        self.flow = _Flow(self.conn, writer)
        self.streams: dict[int, tuple[list[tuple[bytes, bytes]], bytearray]] = {}
        self.tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        conn = self.conn
        limits = self.server.limits
        conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100})
        conn.initiate_connection()
        self.writer.write(conn.data_to_send())
        try:
            while True:
                try:
                    data = await asyncio.wait_for(self.reader.read(READ_SIZE), limits.idle_timeout)
                except asyncio.TimeoutError:
                    self.server.stats["idle timeouts"] += 1
                    conn.close_connection()
                    self.writer.write(conn.data_to_send())
                    return
                if not data:
                    return
                try:
                    events = conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    self.server.stats["protocol errors"] += 1
                    self.writer.write(conn.data_to_send())  # h2 has put a GOAWAY there
                    return
                for event in events:
                    self.event(event)
                self.writer.write(conn.data_to_send())
        finally:
            self.flow.broken = ConnectionResetError("the HTTP/2 connection ended")
            self.flow.window_open.set()
            for task in list(self.tasks):
                task.cancel()
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)

    def event(self, event: h2.events.Event) -> None:
        conn = self.conn
        if isinstance(event, h2.events.RequestReceived):
            self.streams[event.stream_id] = (list(event.headers), bytearray())
        elif isinstance(event, h2.events.DataReceived):
            entry = self.streams.get(event.stream_id)
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if entry is not None:
                entry[1].extend(event.data)
                if len(entry[1]) > self.server.limits.max_body_bytes:
                    del self.streams[event.stream_id]
                    conn.reset_stream(event.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
        elif isinstance(event, h2.events.StreamEnded):
            entry = self.streams.pop(event.stream_id, None)
            if entry is not None:
                task = asyncio.ensure_future(self.respond(event.stream_id, *entry))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        elif isinstance(event, h2.events.StreamReset):
            self.streams.pop(event.stream_id, None)
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self.flow.window_open.set()

    async def respond(self, stream_id: int, raw: list[tuple[bytes, bytes]], body: bytearray) -> None:
        server = self.server
        pseudo = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw if k.startswith(b":")}
        headers = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw if not k.startswith(b":"))
        method, target = pseudo.get(":method", "GET"), pseudo.get(":path", "/")
        if ":authority" in pseudo and "host" not in headers:
            headers.set("Host", pseudo[":authority"])  # handlers read Host whichever version came
        request_line = f"{method} {target} HTTP/2"
        server.stats["requests"] += 1
        request = Request(method, target, headers, bytes(body), "2", self.peer)
        if method not in server.methods:
            response = error_response(405, f"This server does not do {method}; it does {', '.join(server.methods)}.",
                                      {"Allow": ", ".join(server.methods)})
        else:
            response = await server.answer(request, request_line)
        sent = await self.send(stream_id, response, method)
        server.stats[f"status {response.status}"] += 1
        if server.log is not None:
            from .server import clf_time
            who = self.peer[0] if self.peer else "-"
            server.log(f'{who} - - [{clf_time(server.unix_time())}] "{request_line}" {response.status} {sent} '
                       f"conn={self.number} stream={stream_id}")

    async def send(self, stream_id: int, response: Response, method: str) -> int:
        server = self.server
        out = [(":status", str(response.status)), ("server", server.name), ("date", http_date(server.unix_time()))]
        hop = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "server", "date"}
        out += [(k.lower(), v) for k, v in response.headers if k.lower() not in hop]
        if server.alt_svc and not any(k == "alt-svc" for k, _ in out):
            out.append(("alt-svc", server.alt_svc))  # the same origin on HTTP/3 (RFC 7838)
        body = response.body
        has_body = response.status not in NO_BODY_STATUSES and method != "HEAD"
        chunks: list[bytes] = []
        if isinstance(body, (bytes, bytearray, memoryview)):
            chunks = [bytes(body)]
        else:
            async for piece in body:
                chunks.append(bytes(piece))
        whole = b"".join(chunks)
        if response.status not in NO_BODY_STATUSES and not any(k == "content-length" for k, _ in out):
            out.append(("content-length", str(len(whole))))
        end = not has_body or not whole
        self.conn.send_headers(stream_id, out, end_stream=end)
        self.writer.write(self.conn.data_to_send())
        if not end:
            await self.flow.send_data(stream_id, whole, end_stream=True)
            return len(whole)
        return 0


# -- client ------------------------------------------------------------------------------------------
class H2ClientConnection:
    """One HTTP/2 connection of an :class:`~.client.HTTPClient`: requests go out on new streams
    as they come, and a reader task hands each stream's answer to the request waiting for it."""

    version = "2"

    def __init__(self, number: int, name: str, address: str, port: int, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, note: Callable[[str], None]) -> None:
        self.number = number
        self.name = name
        self.address = address
        self.port = port
        self.reader = reader
        self.writer = writer
        self.note = note
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.flow = _Flow(self.conn, writer)
        self.waiting: dict[int, asyncio.Future] = {}
        self.answers: dict[int, tuple[list[tuple[bytes, bytes]], bytearray]] = {}
        self.error: BaseException | None = None
        self.conn.initiate_connection()
        writer.write(self.conn.data_to_send())
        self.reading = asyncio.ensure_future(self._read())

    def usable(self) -> bool:
        return self.error is None and not self.writer.is_closing() and self.conn.state_machine.state in (
            h2.connection.ConnectionState.IDLE, h2.connection.ConnectionState.CLIENT_OPEN)

    def close(self) -> None:
        if not self.writer.is_closing():
            try:
                self.conn.close_connection()
                self.writer.write(self.conn.data_to_send())
            except h2.exceptions.ProtocolError:
                pass
            self.writer.close()
        self.reading.cancel()

    async def request(self, method: str, target: str, authority: str, headers: Headers,
                      body: bytes | None, timeout: float, verbose: bool) -> Response:
        conn = self.conn
        stream_id = conn.get_next_available_stream_id()
        out = [(":method", method), (":scheme", "https"), (":authority", authority), (":path", target)]
        out += [(k.lower(), v) for k, v in headers if k.lower() not in ("host", "connection", "transfer-encoding")]
        if body and not any(k == "content-length" for k, _ in out):
            out.append(("content-length", str(len(body))))
        future = self.waiting[stream_id] = asyncio.get_running_loop().create_future()
        if verbose:
            self.note(f"* [HTTP/2] [{stream_id}] OPENED stream for https://{authority}{target}")
            for k, v in out:
                self.note(f"* [HTTP/2] [{stream_id}] [{k}: {v}]")
            self.note(f"> {method} {target} HTTP/2")
            self.note(f"> Host: {authority}")
            for k, v in out[4:]:
                self.note(f"> {k}: {v}")
            self.note(">")
        conn.send_headers(stream_id, out, end_stream=not body)
        self.writer.write(conn.data_to_send())
        if body:
            await self.flow.send_data(stream_id, bytes(body), end_stream=True)
        try:
            raw, data = await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no answer from {self.name} for {timeout:g} s") from None
        finally:
            self.waiting.pop(stream_id, None)
        status = 0
        resp_headers = Headers()
        for k, v in raw:
            if k == b":status":
                status = int(v)
            elif not k.startswith(b":"):
                resp_headers.add(k.decode("latin-1"), v.decode("latin-1"))
        if verbose:
            self.note(f"< HTTP/2 {status}")
            for k, v in resp_headers:
                self.note(f"< {k}: {v}")
            self.note("<")
        return Response(status, resp_headers, bytes(data), "", "2")

    async def _read(self) -> None:
        conn = self.conn
        try:
            while True:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    raise ConnectionResetError(f"{self.name} closed the HTTP/2 connection")
                for event in conn.receive_data(data):
                    self._event(event)
                self.writer.write(conn.data_to_send())
        except (ConnectionError, OSError, h2.exceptions.ProtocolError) as exc:
            self._fail(exc if isinstance(exc, OSError) else ConnectionResetError(f"HTTP/2 error from {self.name}: {exc}"))
        except asyncio.CancelledError:
            self._fail(ConnectionResetError("the HTTP/2 connection was closed"))

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        self.flow.broken = exc
        self.flow.window_open.set()
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(exc)

    def _event(self, event: Any) -> None:
        if isinstance(event, h2.events.ResponseReceived):
            self.answers[event.stream_id] = (list(event.headers), bytearray())
        elif isinstance(event, h2.events.DataReceived):
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            entry = self.answers.get(event.stream_id)
            if entry is not None:
                entry[1].extend(event.data)
        elif isinstance(event, h2.events.StreamEnded):
            entry = self.answers.pop(event.stream_id, None)
            future = self.waiting.get(event.stream_id)
            if future is not None and not future.done() and entry is not None:
                future.set_result(entry)
        elif isinstance(event, h2.events.StreamReset):
            future = self.waiting.get(event.stream_id)
            if future is not None and not future.done():
                future.set_exception(ConnectionResetError(f"{self.name} reset stream {event.stream_id} "
                                                          f"({event.error_code!r})"))
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self.flow.window_open.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self._fail(ConnectionResetError(f"{self.name} ended the HTTP/2 connection (GOAWAY)"))
