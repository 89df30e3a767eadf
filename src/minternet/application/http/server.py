"""An HTTP/1.1 server on h11, for a simulated host or the operating system's sockets.

h11 does the protocol (parsing, framing, keep-alive rules) without any I/O; this module feeds it
the bytes of an asyncio stream and writes back what it produces. The streams come from
``host.start_server``: minternet's TCP on a simulated :class:`~minternet.host.Host`, or asyncio's
own on an :class:`~minternet.real.ossocket.OSHost`; nothing here knows which.

A connection serves requests one after another (pipelined requests are answered in order), until
either side asks to close, the client goes quiet for ``idle_timeout`` seconds, or a request
breaks a rule, which gets a small 4xx/5xx page and a closed connection.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import h11

from ... import __version__
from .http2 import H2ServerConnection
from .message import NO_BODY_STATUSES, Headers, Request, Response, error_response, http_date

SERVER_NAME = f"minternet/{__version__}"
# Simulated time 0 is this moment (2026-01-01T00:00:00Z), so Date headers in a simulation are the
# same on every run; a server on real sockets is given the real time (``unix_time=time.time``).
SIM_EPOCH = 1_767_225_600

# RFC 9110 9.1 methods: a known one this server does not do is 405, an unknown one 501.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
READ_SIZE = 65536
LINGER_SECONDS = 2.0  # after an error, read what the client still sends for this long before closing
LINGER_BYTES = 4 * 1024 * 1024

Handler = Callable[[Request], Awaitable[Response]]
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Limits:
    """What the server accepts before it refuses (sizes in bytes, times in seconds)."""

    max_header_bytes: int = 16 * 1024  # request line and headers together; more is 431
    max_target_bytes: int = 8 * 1024  # the request target (URI); longer is 414
    max_body_bytes: int = 1024 * 1024  # request body; more is 413
    idle_timeout: float = 15.0  # keep-alive: close after this long without a new request
    read_timeout: float = 30.0  # a started request must be complete within this, else 408


class HTTPError(Exception):
    """Raise from a handler (or the server) to answer with an error page: ``HTTPError(404)``."""

    def __init__(self, status: int, detail: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {detail}".strip())
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class _Idle(Exception):
    """The client sent nothing for idle_timeout (or closed) between requests."""


def clf_time(unix_seconds: float) -> str:
    """Common Log Format time: 01/Jan/2026:00:00:00 +0000 (month names not from the locale)."""
    t = time.gmtime(unix_seconds)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


class HTTPServer:
    """Serves ``handler`` (an async function: :class:`Request` -> :class:`Response`) over HTTP/1.1.

    ``stats`` counts connections, requests, statuses ("status 200"), idle timeouts and errors;
    ``log`` (a function taking a line) gets one access-log line per response, Common Log Format
    with the connection number at the end, plus a line for each handler error.
    """

    def __init__(self, handler: Handler, *, limits: Limits | None = None,
                 log: Callable[[str], None] | None = None, unix_time: Callable[[], float] | None = None,
                 name: str = SERVER_NAME, methods: tuple[str, ...] = ("GET", "HEAD", "POST"),
                 tls: Any = None, alpn: tuple[str, ...] = ("h2", "http/1.1"), http3: bool = False,
                 h3_certificate: tuple[Any, Any] | None = None) -> None:
        self.handler = handler
        # HTTPS: None (plain HTTP), True (the host's certificates from the network's CA), or an
        # ssl.SSLContext of the caller's. ``alpn``: the versions offered, in order of preference.
        self.tls = tls
        self.alpn = tuple(alpn)
        self._tls_context: Any = None
        # HTTP/3 on the same port number over UDP, with the same handler; advertised by Alt-Svc.
        # ``h3_certificate``: (certificate, private key), PEM or cryptography objects; by default
        # the host's, from the network's CA, for every DNS name that points at it.
        self.http3 = http3
        self.h3_certificate = h3_certificate
        self.h3: Any = None  # the H3Server, once started
        self.alt_svc: str | None = None
        self.limits = limits or Limits()
        self.log = log
        self.name = name
        self.methods = tuple(m.upper() for m in methods)
        self.stats: Counter[str] = Counter()
        self.address: tuple[str, int] | None = None
        self._unix_time = unix_time
        self._listener: Any = None
        self._tasks: set[asyncio.Task] = set()

    def unix_time(self) -> float:
        """Seconds since 1970 for the Date header."""
        return self._unix_time() if self._unix_time is not None else float(SIM_EPOCH)

    async def start(self, host: Any, port: int = 80, address: str = "0.0.0.0") -> "HTTPServer":
        """Listen on ``host`` (a simulated Host or an OSHost) at ``address``:``port``; port 0 picks one."""
        if self._unix_time is None:
            clock = host.clock  # the host's clock: virtual time in a simulation
            self._unix_time = lambda: SIM_EPOCH + clock.now / 1e9
        if self.tls is not None and self.tls is not False:
            self._tls_context = self._make_tls_context(host)
        self._listener = await host.start_server(self.handle_connection, port=port, host=address)
        sock = self._listener.sockets[0]
        name = sock.getsockname() if hasattr(sock, "getsockname") else sock
        self.address = (name[0], name[1])
        if self.http3:
            await self._start_h3(host, self.address[1], address)
        return self

    async def _start_h3(self, host: Any, port: int, address: str) -> None:
        """HTTP/3 (QUIC) on UDP ``port`` beside the TCP listener, serving the same handler."""
        from .h3 import H3Server, alt_svc
        if self.tls is None or self.tls is False:
            raise ValueError("http3=True needs tls= too: HTTP/3 is always encrypted, and Alt-Svc is "
                             "only sent over HTTPS (RFC 7838 2.1)")
        if self.h3_certificate is not None:
            certificate, key = self.h3_certificate
        else:
            pki = getattr(host, "pki", None)
            if pki is None:
                raise ValueError(f"{getattr(host, 'name', host)} has no certificates: give h3_certificate="
                                 "(certificate PEM, key PEM)")
            issued = pki.for_all_names()
            certificate, key = issued.cert_pem, issued.key_pem
        self.h3 = await H3Server(self.handler, certificate=certificate, private_key=key, name=self.name,
                                 log=self.log, http=self).start(host, port, address)
        self.alt_svc = alt_svc(port)

    async def serve_forever(self) -> None:
        """Serve until cancelled; then stop listening and end every open connection."""
        if self._listener is None:
            raise RuntimeError("call start() first (or use serve())")
        try:
            # Not the listener's own serve_forever: asyncio's (3.12+) waits on cancel until every
            # connection has ended, and a kept-alive one ends only when aclose() ends it.
            await asyncio.get_running_loop().create_future()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Stop listening and end the connections being served."""
        if self._listener is not None:
            self._listener.close()
        if self.h3 is not None:
            await self.h3.aclose()
        tasks = [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection (the callback given to ``start_server``)."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.stats["connections"] += 1
        number = self.stats["connections"]
        try:
            version = "http/1.1"
            if self._tls_context is not None:
                writer, version = await self._start_tls(writer)
            if version == "h2":
                await H2ServerConnection(self, reader, writer, number).run()
            else:
                await _Connection(self, reader, writer, number).run()
        except ssl.SSLError as exc:
            self.stats["tls errors"] += 1  # a client that does not trust us, or speaks no TLS 1.3
            self._log(f"tls: connection {number}: {exc.reason or exc}")
        except (ConnectionError, OSError, TimeoutError):
            self.stats["connection errors"] += 1  # reset by the peer, say: nothing left to tell it
        except asyncio.CancelledError:
            # Stopped by aclose(). Nobody awaits this task but aclose(), and asyncio (3.11) calls
            # task.exception() on it, which would raise for a cancelled task: end it normally.
            pass
        except h11.LocalProtocolError as exc:
            # The handler's response broke HTTP (a Content-Length that does not match the body).
            self.stats["handler errors"] += 1
            self._log(f"error: the response could not be sent on connection {number}: {exc}")
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    def _log(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    async def answer(self, request: Request, request_line: str) -> Response:
        """The handler's response to ``request``, whichever HTTP version carried it: an
        HTTPError becomes its error page, a failing handler a 500 (logged; the server goes on)."""
        try:
            response = await self.handler(request)
            if not isinstance(response, Response):
                raise TypeError(f"the handler returned {type(response).__name__}, not a Response")
            return response
        except HTTPError as err:
            return error_response(err.status, err.detail, err.headers)
        except Exception as exc:  # noqa: BLE001 - a failing handler gets a 500, the server goes on
            self.stats["handler errors"] += 1
            self._log(f"error: the handler failed on {request_line}: {type(exc).__name__}: {exc}")
            return error_response(500, "The server failed while answering this request; its log says why.")

    # -- HTTPS --------------------------------------------------------------------------------------
    def _make_tls_context(self, host: Any) -> ssl.SSLContext:
        if isinstance(self.tls, ssl.SSLContext):
            return self.tls
        from ..tls.contexts import server_context
        pki = getattr(host, "pki", None)
        if pki is None:
            raise ValueError(f"{getattr(host, 'name', host)} has no certificates: give tls= an ssl.SSLContext "
                             "(application.tls.server_context(ca.issue([...])))")
        return server_context(pki, alpn=self.alpn, keylog=pki.ca.keylog_file)

    async def _start_tls(self, writer: asyncio.StreamWriter) -> tuple[asyncio.StreamWriter, str]:
        """The TLS handshake on an accepted connection; the application protocol ALPN chose."""
        tcp = writer.get_extra_info("tcp")
        if tcp is not None:
            tcp.opt.nodelay = True  # as asyncio does on every TCP transport: no Nagle wait between records
        await asyncio.wait_for(writer.start_tls(self._tls_context), self.limits.read_timeout)
        self.stats["tls handshakes"] += 1
        chosen = writer.get_extra_info("ssl_object").selected_alpn_protocol() or "http/1.1"
        return writer, chosen


class _Connection:
    """One client connection: an h11 state machine between a reader and a writer."""

    def __init__(self, server: HTTPServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 number: int) -> None:
        self.server = server
        self.limits = server.limits
        self.reader = reader
        self.writer = writer
        self.number = number
        peer = writer.get_extra_info("peername")
        self.peer: tuple[str, int] | None = (peer[0], peer[1]) if peer else None
        self.h = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
        self.deadline: float | None = None  # when the request being received must be complete
        self.request_line = "-"  # for the access log

    # -- the request/response cycle -----------------------------------------------------------------
    async def run(self) -> None:
        while True:
            try:
                request = await self.read_request()
            except _Idle:
                return
            except HTTPError as err:
                await self.refuse(err)
                return
            except h11.RemoteProtocolError as exc:
                await self.refuse(self.protocol_error(exc))
                return
            if not await self.respond(request):
                return

    async def read_request(self) -> Request:
        h, limits = self.h, self.limits
        loop = asyncio.get_running_loop()
        # Pipelined bytes already buffered: the next request has started.
        self.deadline = loop.time() + limits.read_timeout if h.trailing_data[0] else None
        self.request_line = "-"
        event = await self.next_event()
        if isinstance(event, h11.ConnectionClosed):
            raise _Idle
        assert isinstance(event, h11.Request), event
        method = event.method.decode("ascii")
        target = event.target.decode("ascii", "replace")
        version = event.http_version.decode("ascii")
        self.request_line = f"{method} {target} HTTP/{version}"
        self.server.stats["requests"] += 1
        raw = event.headers.raw_items()
        headers = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
        if not version.startswith("1."):
            raise HTTPError(505, f"This server speaks HTTP/1.1 (and 1.0); the request was HTTP/{version}.")
        if len(event.target) > limits.max_target_bytes:
            raise HTTPError(414, f"The request target is {len(event.target)} bytes long; "
                                 f"this server accepts up to {limits.max_target_bytes}.")
        # h11 enforces the limit only on a head that arrived in pieces; a whole one is measured here.
        head = len(method) + len(event.target) + 11 + sum(len(k) + len(v) + 4 for k, v in raw)
        if head > limits.max_header_bytes:
            raise HTTPError(431, f"The request line and headers are {head} bytes; "
                                 f"this server accepts up to {limits.max_header_bytes}.")
        if method not in self.server.methods:
            allow = ", ".join(self.server.methods)
            if method in KNOWN_METHODS:
                raise HTTPError(405, f"This server does not do {method}; it does {allow}.", {"Allow": allow})
            raise HTTPError(501, f"{method} is not an HTTP method this server knows; it does {allow}.")
        length = headers.get("content-length")
        if length is not None and int(length) > limits.max_body_bytes:
            # Refused before reading it: a client waiting for 100 Continue never sends the body.
            raise HTTPError(413, f"The request body is {int(length)} bytes; "
                                 f"this server accepts up to {limits.max_body_bytes}.")
        body = bytearray()
        while True:
            event = await self.next_event()
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > limits.max_body_bytes:
                    raise HTTPError(413, f"The request body is more than {limits.max_body_bytes} bytes, "
                                         "which is as much as this server accepts.")
            elif isinstance(event, h11.EndOfMessage):
                break
        return Request(method, target, headers, bytes(body), version, self.peer)

    async def next_event(self) -> Any:
        """The next h11 event, reading from the connection as needed (within the timeouts)."""
        h = self.h
        while True:
            event = h.next_event()
            if event is not h11.NEED_DATA:
                return event
            if h.they_are_waiting_for_100_continue:
                # The client holds its body back until told to go on (RFC 9110 10.1.1).
                self.writer.write(h.send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")))
            h.receive_data(await self.read_more())

    async def read_more(self) -> bytes:
        loop = asyncio.get_running_loop()
        if self.deadline is None:
            # Between requests: an idle keep-alive connection is closed quietly.
            try:
                data = await asyncio.wait_for(self.reader.read(READ_SIZE), self.limits.idle_timeout)
            except asyncio.TimeoutError:
                self.server.stats["idle timeouts"] += 1
                raise _Idle from None
            if not data and self.h.their_state is h11.IDLE:
                raise _Idle  # closed between requests: the normal end of a keep-alive connection
            self.deadline = loop.time() + self.limits.read_timeout
            return data
        try:
            return await asyncio.wait_for(self.reader.read(READ_SIZE), max(0.0, self.deadline - loop.time()))
        except asyncio.TimeoutError:
            raise HTTPError(408, f"The request was not complete after {self.limits.read_timeout:g} seconds.") from None

    async def respond(self, request: Request) -> bool:
        """Run the handler and send its response; True if the connection goes on."""
        response = await self.server.answer(request, self.request_line)
        sent = await self.send(response, request.method)
        self.access_log(response.status, sent)
        h = self.h
        if h.our_state is h11.DONE and h.their_state is h11.DONE:
            h.start_next_cycle()
            return True
        return False  # Connection: close, HTTP/1.0, or a body sent until close

    async def send(self, response: Response, method: str | None, close: bool = False) -> int:
        """Write ``response`` through h11; returns the number of body bytes sent."""
        h = self.h
        headers = Headers([("Server", self.server.name), ("Date", http_date(self.server.unix_time()))])
        for name, value in response.headers:
            if name.lower() in ("server", "date"):
                headers.set(name, value)
            else:
                headers.add(name, value)
        body = response.body
        has_body = response.status not in NO_BODY_STATUSES
        if isinstance(body, (bytes, bytearray, memoryview)) and has_body and "content-length" not in headers:
            headers.set("Content-Length", str(len(body)))
        if close:
            headers.set("Connection", "close")
        if self.server.alt_svc and "alt-svc" not in headers:
            headers.set("Alt-Svc", self.server.alt_svc)  # the same origin on HTTP/3 (RFC 7838)
        out = h.send(h11.Response(status_code=response.status, reason=(response.reason or "").encode("latin-1"),
                                  headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]))
        sent = 0
        if method != "HEAD" and has_body:
            if isinstance(body, (bytes, bytearray, memoryview)):
                if body:
                    out += h.send(h11.Data(data=body))
                    sent = len(body)
            else:
                self.writer.write(out)
                out = b""
                async for chunk in body:
                    if chunk:
                        self.writer.write(h.send(h11.Data(data=chunk)))
                        sent += len(chunk)
                        await self.writer.drain()
        out += h.send(h11.EndOfMessage())
        self.writer.write(out)
        await self.writer.drain()
        return sent

    # -- errors -------------------------------------------------------------------------------------
    def protocol_error(self, exc: h11.RemoteProtocolError) -> HTTPError:
        """Turn h11's complaint into the error page the client gets."""
        status = exc.error_status_hint
        if status == 431:
            # h11 gave up on a head longer than the limit; if the request line alone is that long,
            # what is too long is the URI.
            first = self.h.trailing_data[0].split(b"\n", 1)
            if len(first) == 1 or len(first[0]) > self.limits.max_target_bytes:
                return HTTPError(414, f"The request line is longer than {self.limits.max_target_bytes} bytes.")
            return HTTPError(431, f"The request line and headers are more than {self.limits.max_header_bytes} bytes.")
        reason = str(exc)
        if len(reason) > 200:
            reason = reason[:200] + "..."
        return HTTPError(status, f"The request is not valid HTTP/1.1: {reason}.")

    async def refuse(self, err: HTTPError) -> None:
        """Answer with an error page and close; the request cannot be followed by another."""
        h = self.h
        if h.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            sent = await self.send(error_response(err.status, err.detail, err.headers), None, close=True)
            self.access_log(err.status, sent)
        await self.linger()

    async def linger(self) -> None:
        """Close our side, then read (and drop) what the client is still sending for a moment:
        closing with unread data would reset the connection, and the client might lose our
        answer before reading it (a "lingering close", as Apache and nginx do)."""
        writer = self.writer
        try:
            if writer.can_write_eof():
                writer.write_eof()
            loop = asyncio.get_running_loop()
            end = loop.time() + LINGER_SECONDS
            received = 0
            while received < LINGER_BYTES:
                remaining = end - loop.time()
                if remaining <= 0:
                    break
                data = await asyncio.wait_for(self.reader.read(READ_SIZE), remaining)
                if not data:
                    break
                received += len(data)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass

    def access_log(self, status: int, sent: int) -> None:
        server = self.server
        server.stats[f"status {status}"] += 1
        if server.log is not None:
            who = self.peer[0] if self.peer else "-"
            server.log(f'{who} - - [{clf_time(server.unix_time())}] "{self.request_line}" {status} {sent} '
                       f"conn={self.number}")


async def serve(host: Any, port: int, handler: Handler, *, address: str = "0.0.0.0",
                **options: Any) -> HTTPServer:
    """Start an HTTP server for ``handler`` on ``host`` (a simulated Host, or an OSHost for real
    sockets) and return it once it listens. ``options`` go to :class:`HTTPServer` (limits, log,
    unix_time, name, methods, tls, alpn, http3, h3_certificate): ``serve(host, 443, handler,
    tls=True, http3=True)`` answers HTTPS over TCP (HTTP/2, HTTP/1.1) and HTTP/3 over UDP 443. ``await server.serve_forever()`` (or ``net.spawn`` it) to keep it
    until cancelled, ``await server.aclose()`` to stop it."""
    return await HTTPServer(handler, **options).start(host, port, address)


def pages_handler(pages: dict[str, bytes], content_type: str = "text/html; charset=utf-8") -> Handler:
    """A handler for a fixed set of pages: {"/": b"<html>..."}; anything else is 404."""
    async def handle(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise HTTPError(405, f"These pages are read with GET or HEAD, not {request.method}.",
                            {"Allow": "GET, HEAD"})
        body = pages.get(request.path)
        if body is None:
            raise HTTPError(404, f"There is no {request.path} here.")
        return Response(200, Headers({"Content-Type": content_type}), body)
    return handle


async def serve_pages(host: Any, pages: dict[str, bytes], port: int = 80, **options: Any) -> None:
    """Serve a fixed set of pages on ``host`` until cancelled (spawn it: ``net.spawn(serve_pages(...))``)."""
    server = await serve(host, port, pages_handler(pages), **options)
    await server.serve_forever()
