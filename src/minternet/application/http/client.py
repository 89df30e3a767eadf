"""An HTTP/1.1 client on h11: ``await fetch(host, url)`` for one request, :class:`HTTPClient` to
send several over kept-alive connections.

It runs on whatever ``host`` it is given: on a simulated Host it resolves the URL's name through
the host's DNS and connects with minternet's TCP; on an OSHost it uses the operating system's
sockets. With ``verbose=True`` it records the exchange the way ``curl -v`` shows it: ``*`` lines
for what the client does, ``>`` for the request head as sent, ``<`` for the response head.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Any, AsyncIterable, Callable
from urllib.parse import quote, urlsplit

import h11

from ... import __version__
from ...wire._addr import is_ipv4 as _is_ipv4
from .http2 import H2ClientConnection
from .message import Headers, HeaderInput, Response

USER_AGENT = f"minternet-curl/{__version__}"
READ_SIZE = 65536
CHUNK = 16 * 1024  # piece size when a bytes body is sent chunked
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
HTTP_VERSIONS = (None, "1.1", "2", "3", "3only")
# curl --http3: if the QUIC handshake has not finished after this long (or an ICMP error says
# nothing listens on UDP 443), try HTTPS over TCP instead; --http3-only ("3only") does not.
H3_FALLBACK_SECONDS = 3.0


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 this client can read."""


class _Stale(Exception):
    """A kept-alive connection turned out to be closed before any of the answer came."""


DEFAULT_PORTS = {"http": 80, "https": 443}


def url_scheme(url: str) -> str:
    """"http" or "https" (a URL without a scheme is http://, as curl takes it)."""
    return urlsplit(url).scheme.lower() if "://" in url else "http"


def split_url(url: str) -> tuple[str, int, str, str]:
    """(host name, port, request target, Host header) of an http:// or https:// URL. A URL without
    a scheme is taken as http://, like curl does. The path is sent as given (no removal of ``..``, like curl
    --path-as-is); characters that may not appear in a request are percent-encoded."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"{url}: only http:// and https:// URLs work here, not {parts.scheme}://")
    if not parts.hostname:
        raise ValueError(f"{url}: no host name in the URL (like http://www.example.com/)")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError(f"{url}: the port is not a number from 1 to 65535") from None
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    host_header = parts.hostname if port == DEFAULT_PORTS[scheme] else f"{parts.hostname}:{port}"
    return parts.hostname, port, target, host_header


class _Conn:
    """One kept-alive HTTP/1.1 connection to (name, port)."""

    version = "1.1"

    def __init__(self, number: int, name: str, address: str, port: int, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.number = number
        self.name = name
        self.address = address
        self.port = port
        self.reader = reader
        self.writer = writer
        self.h = h11.Connection(h11.CLIENT)

    def usable(self) -> bool:
        return (self.h.our_state is h11.IDLE and self.h.their_state is h11.IDLE
                and not self.reader.at_eof() and not self.writer.is_closing())


class HTTPClient:
    """A small HTTP/1.1 session on ``host``: one kept-alive connection per (name, port), reused by
    the next request to the same place.

    ``verbose=True`` records curl -v style lines in ``transcript`` (and each response's own
    ``transcript``); ``out`` gets each line as it happens. ``connections_opened`` counts TCP
    connections, ``requests`` requests. ``timeout`` (seconds) bounds connecting and each read.

    https:// URLs go over TLS 1.3; ``http_version`` is what to offer there by ALPN: None (h2, then
    http/1.1, as curl), "2" (curl --http2: the same) or "1.1" (curl --http1.1: http/1.1 only).
    Over HTTP/2, requests sent at once (``asyncio.gather``) share one connection, each on its
    own stream. ``http_version="3"`` (curl --http3) goes over HTTP/3 on QUIC (UDP 443), and
    falls back to TCP when QUIC does not get through; ``"3only"`` (curl --http3-only) does not
    fall back. ``verify=False`` is curl's -k; ``cafile`` (curl's --cacert) adds a CA to trust
    besides the host's own (a simulated host trusts the network's CA); ``keylog`` writes the TLS
    secrets in SSLKEYLOGFILE format (a simulated host writes them beside the pcaps, if any).
    """

    def __init__(self, host: Any, *, timeout: float = 30.0, verbose: bool = False,
                 out: Callable[[str], None] | None = None, headers: HeaderInput = None,
                 user_agent: str = USER_AGENT, max_body_bytes: int = 256 * 1024 * 1024,
                 http_version: str | None = None, verify: bool = True, cafile: str | None = None,
                 keylog: str | None = None, deterministic: bool = True,
                 sessions: dict[tuple[str, str, int], Any] | None = None) -> None:
        if http_version not in HTTP_VERSIONS:
            raise ValueError(f"http_version {http_version!r}: None, '1.1', '2', '3' or '3only'")
        self.host = host
        self.http_version = http_version
        self.verify = verify
        self.cafile = cafile
        self.keylog = keylog
        self.deterministic = deterministic  # HTTP/3: seed aioquic from the host (False on real sockets)
        self.timeout = timeout
        self.verbose = verbose or out is not None
        self.out = out
        self.default_headers = Headers(headers)
        self.user_agent = user_agent
        self.max_body_bytes = max_body_bytes
        self.transcript: list[str] = []
        self.connections_opened = 0
        self.requests = 0
        self._pool: dict[tuple[str, str, int], Any] = {}
        self._opening: dict[tuple[str, str, int], asyncio.Lock] = {}
        self._h3: dict[tuple[str, int], Any] = {}  # HTTP/3 connections (H3Client) by (name, port)
        self._no_h3: set[tuple[str, int]] = set()  # where HTTP/3 failed and TCP took over
        self.quic_connections_opened = 0
        self._keylog_file: Any = None
        # Session tickets by ("tls" or "h3", name, port), as a browser keeps them: the next
        # connection to the same server resumes (TLS 1.3 over TCP: no certificate; HTTP/3: 0-RTT,
        # the request in the first flight). Give the same dict to several clients (or fetch
        # calls) to share them.
        self.sessions: dict[tuple[str, str, int], Any] = sessions if sessions is not None else {}
        self.resumed = 0  # connections that resumed a session
        self._tls_objects: list[tuple[tuple[str, str, int], Any, Any]] = []  # their tickets come after the handshake

    async def __aenter__(self) -> "HTTPClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _keep_tls_sessions(self) -> None:
        """TLS 1.3 tickets arrive after the handshake (RFC 8446 4.6.1): take each connection's
        session once it has one."""
        left = []
        for key, so, ctx in self._tls_objects:
            session = so.session
            if session is not None and session.has_ticket:
                self.sessions[key] = (ctx, session)
            else:
                left.append((key, so, ctx))
        self._tls_objects = left

    async def close(self) -> None:
        """Close every kept-alive connection."""
        self._keep_tls_sessions()
        for conn in list(self._pool.values()):
            self._drop(conn)
        for (name, port), h3 in list(self._h3.items()):
            self._keep_ticket(name, port, h3)
            await h3.aclose()
        self._h3.clear()
        if self._keylog_file is not None:
            self._keylog_file.close()
            self._keylog_file = None

    async def get(self, url: str, **kw: Any) -> Response:
        return await self.request("GET", url, **kw)

    async def head(self, url: str, **kw: Any) -> Response:
        return await self.request("HEAD", url, **kw)

    async def post(self, url: str, body: bytes | AsyncIterable[bytes] = b"", **kw: Any) -> Response:
        return await self.request("POST", url, body=body, **kw)

    async def request(self, method: str, url: str, *, headers: HeaderInput = None,
                      body: bytes | AsyncIterable[bytes] | None = None) -> Response:
        """Send one request and read the whole response. A bytes body goes with Content-Length
        (or chunked, if ``headers`` say Transfer-Encoding: chunked); an async iterable of bytes
        always goes chunked."""
        method = method.upper()
        name, port, target, host_header = split_url(url)
        scheme = url_scheme(url)
        lines: list[str] = []
        self.requests += 1
        if scheme == "https" and self.http_version in ("3", "3only") and (name, port) not in self._no_h3:
            response = await self._request_h3(method, name, port, target, Headers(headers), body, lines)
            if response is not None:
                response.transcript = lines
                return response
        for attempt in (1, 2):
            conn, reused = await self._connection(scheme, name, port, lines)
            try:
                if isinstance(conn, H2ClientConnection):
                    response = await self._exchange_h2(conn, method, target, host_header, Headers(headers), body, lines)
                else:
                    response = await self._exchange(conn, method, target, host_header, Headers(headers), body, lines)
            except _Stale:
                self._drop(conn)
                # The server closed the idle connection as we reused it; a request it never saw
                # is safe to send again if repeating it would do no harm anyway.
                if reused and attempt == 1 and method in IDEMPOTENT and not _is_stream(body):
                    self._note(lines, f"* Connection #{conn.number} was closed by the server; retrying on a new one")
                    continue
                raise ConnectionResetError(errno.ECONNRESET, f"{name} closed the connection without answering") from None
            except BaseException:
                self._drop(conn)
                raise
            response.transcript = lines
            return response
        raise AssertionError("unreachable")

    # -- connections ----------------------------------------------------------------------------------
    async def _connection(self, scheme: str, name: str, port: int, lines: list[str]) -> tuple[Any, bool]:
        key = (scheme, name, port)
        lock = self._opening.setdefault(key, asyncio.Lock())
        async with lock:  # requests sent at once wait for one connection (HTTP/2 shares it)
            return await self._open(key, lines)

    async def _open(self, key: tuple[str, str, int], lines: list[str]) -> tuple[Any, bool]:
        scheme, name, port = key
        conn = self._pool.get(key)
        if conn is not None and conn.usable():
            self._note(lines, f"* Re-using existing connection #{conn.number} with host {name}")
            return conn, True
        if conn is not None:
            self._drop(conn)
        self._keep_tls_sessions()
        clock = self.host.clock
        address = name
        if not _is_ipv4(name) and hasattr(self.host, "resolve"):
            t0 = clock.now
            address = await asyncio.wait_for(self.host.resolve(name), self.timeout)
            self._note(lines, f"* Resolved {name} to {address} in {(clock.now - t0) / 1e6:.1f} ms")
        self._note(lines, f"*   Trying {address}:{port}...")
        t0 = clock.now
        try:
            reader, writer = await asyncio.wait_for(self.host.open_connection(address, port), self.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(errno.ETIMEDOUT, f"connecting to {name} ({address}) port {port} "
                                                f"timed out after {self.timeout:g} s") from None
        number = self.connections_opened
        self.connections_opened += 1
        self._note(lines, f"* Connected to {name} ({address}) port {port} (#{number}) "
                          f"in {(clock.now - t0) / 1e6:.1f} ms")
        version = "http/1.1"
        if scheme == "https":
            try:
                writer, version = await self._start_tls(name, writer, lines)
            except BaseException:
                writer.close()
                raise
        if version == "h2":
            conn = H2ClientConnection(number, name, address, port, reader, writer,
                                      lambda line: self._note(lines, line))
        else:
            conn = _Conn(number, name, address, port, reader, writer)
        self._pool[key] = conn
        return conn, False

    def _drop(self, conn: Any) -> None:
        for key, pooled in list(self._pool.items()):
            if pooled is conn:
                del self._pool[key]
        if isinstance(conn, H2ClientConnection):
            conn.close()
        else:
            conn.writer.close()

    # -- HTTP/3 ---------------------------------------------------------------------------------------
    async def _request_h3(self, method: str, name: str, port: int, target: str, headers: Headers,
                          body: bytes | AsyncIterable[bytes] | None, lines: list[str]) -> Response | None:
        """One request over HTTP/3; None when QUIC did not get through and --http3 may fall back."""
        client = await self._h3_connection(name, port, lines)
        if client is None:
            return None
        head = Headers([("User-Agent", self.user_agent), ("Accept", "*/*")])
        for k, v in [*self.default_headers, *headers]:
            head.set(k, v)
        if _is_stream(body):
            body = b"".join([piece async for piece in body])  # type: ignore[union-attr]
        try:
            response = await asyncio.wait_for(client.request(method, target, head, body or b""), self.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(errno.ETIMEDOUT, f"no answer from {name} for {self.timeout:g} s") from None
        except ConnectionError:
            self._h3.pop((name, port), None)
            raise
        self._note(lines, f"* Connection #{client.number} to host {name} left intact")
        return response

    async def _h3_connection(self, name: str, port: int, lines: list[str]) -> Any:
        from .h3 import H3Client
        key = (name, port)
        lock = self._opening.setdefault(("h3", name, port), asyncio.Lock())
        async with lock:  # requests sent at once share one QUIC connection, each on its stream
            client = self._h3.get(key)
            if client is not None and client._closed_error is None:
                self._note(lines, f"* Re-using existing connection #{client.number} with host {name}")
                return client
            if client is not None:
                self._keep_ticket(name, port, client)
            clock = self.host.clock
            address = name
            if not _is_ipv4(name) and hasattr(self.host, "resolve"):
                t0 = clock.now
                address = await asyncio.wait_for(self.host.resolve(name), self.timeout)
                self._note(lines, f"* Resolved {name} to {address} in {(clock.now - t0) / 1e6:.1f} ms")
            ticket = self.sessions.get(("h3", name, port))
            client = H3Client(self.host, name, address=address, port=port, cadata=self._h3_cadata(),
                              verify=self.verify, keylog=self._h3_keylog(), session_ticket=ticket,
                              out=(lambda line: self._note(lines, line)) if self.verbose else None,
                              number=self.connections_opened, deterministic=self.deterministic)
            if self.cafile:
                self._note(lines, f"*  CAfile: {self.cafile}")
            wait = self.timeout if self.http_version == "3only" else min(self.timeout, H3_FALLBACK_SECONDS)
            await client.connect()
            if ticket is not None:
                # 0-RTT (RFC 9001 4.6): the request goes now, with the first flight, not after
                # the handshake; it is the request's own wait that fails if QUIC does not get through.
                self._note(lines, "* QUIC: resuming with a session ticket; the request goes as 0-RTT data")
                self.connections_opened += 1
                self.quic_connections_opened += 1
                self.resumed += 1
                self._h3[key] = client
                return client
            try:
                await asyncio.wait_for(client.wait_connected(), wait)
            except (asyncio.TimeoutError, ConnectionError) as exc:
                await client.aclose()
                why = (f"no QUIC handshake after {wait:g} s" if isinstance(exc, asyncio.TimeoutError)
                       else exc.strerror or str(exc))
                if self.http_version == "3only":
                    if isinstance(exc, asyncio.TimeoutError):
                        raise TimeoutError(errno.ETIMEDOUT, f"QUIC connect to {name} ({address}) port {port} "
                                                            f"timed out after {wait:g} s") from None
                    raise
                self._note(lines, f"* HTTP/3 to {name} port {port} failed ({why}); falling back to TCP")
                self._no_h3.add(key)
                return None
            self.connections_opened += 1
            self.quic_connections_opened += 1
            self._h3[key] = client
            return client

    def _keep_ticket(self, name: str, port: int, h3: Any) -> None:
        if h3.session_ticket is not None:
            self.sessions[("h3", name, port)] = h3.session_ticket

    def _h3_cadata(self) -> str | None:
        """The CAs an HTTP/3 connection trusts: the host's (the simulated internet's CA) and
        --cacert's file."""
        pems = []
        pki = getattr(self.host, "pki", None)
        if pki is not None:
            pems.append(pki.ca.cert_pem)
        if self.cafile:
            with open(self.cafile, encoding="ascii") as f:
                pems.append(f.read())
        return "".join(pems) or None

    def _h3_keylog(self) -> Any:
        if self.keylog is None:
            return None  # the host's (beside the pcaps), if any
        if self._keylog_file is None:
            self._keylog_file = open(self.keylog, "a", encoding="ascii")  # appends, as ssl does
        return self._keylog_file

    # -- HTTPS ----------------------------------------------------------------------------------------
    def _tls_context(self, notes: Any) -> Any:
        from ..tls.contexts import ALPN, client_context
        pki = getattr(self.host, "pki", None)
        keylog = self.keylog or (pki.ca.keylog_file if pki is not None else None)
        alpn = ("http/1.1",) if self.http_version == "1.1" else ALPN  # --http3's fallback: h2, http/1.1
        return client_context(cadata=pki.ca.cert_pem if pki is not None else None, cafile=self.cafile,
                              verify=self.verify, alpn=alpn, keylog=keylog, notes=notes), alpn

    async def _start_tls(self, name: str, writer: asyncio.StreamWriter,
                         lines: list[str]) -> tuple[asyncio.StreamWriter, str]:
        """TLS 1.3 on a new connection, told as curl -v tells it; the protocol ALPN chose."""
        from ..tls.contexts import HandshakeNotes
        notes = HandshakeNotes((lambda line: self._note(lines, line)) if self.verbose else None)
        port = writer.get_extra_info("peername")[1] if writer.get_extra_info("peername") else 443
        key = ("tls", name, port)
        kept = self.sessions.get(key)
        if kept is not None:  # OpenSSL resumes a session only on the context that made it
            ctx, session = kept
            ctx.resume = session
            ctx._msg_callback = notes  # type: ignore[attr-defined]
            alpn = ctx.minternet_alpn
        else:
            ctx, alpn = self._tls_context(notes)
            ctx.minternet_alpn = alpn
        self._note(lines, f"* ALPN: offers {','.join(alpn)}")
        if self.cafile:
            self._note(lines, f"*  CAfile: {self.cafile}")
        tcp = writer.get_extra_info("tcp")
        if tcp is not None:
            tcp.opt.nodelay = True  # as curl (TCP_NODELAY): no Nagle wait behind the Finished
        clock = self.host.clock
        t0 = clock.now
        try:
            await asyncio.wait_for(writer.start_tls(ctx, server_hostname=name), self.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(errno.ETIMEDOUT, f"the TLS handshake with {name} timed out after "
                                                f"{self.timeout:g} s") from None
        so = writer.get_extra_info("ssl_object")
        chosen = so.selected_alpn_protocol()
        if so.session_reused:
            self.resumed += 1
            self._note(lines, "* SSL reusing session ID (TLS 1.3 resumption: the server sent no certificate)")
        self._tls_objects.append((key, so, ctx))
        cipher = so.cipher()
        self._note(lines, f"* SSL connection using {so.version()} / {cipher[0] if cipher else '?'} "
                          f"(handshake {(clock.now - t0) / 1e6:.1f} ms)")
        self._note(lines, f"* ALPN: server accepted {chosen}" if chosen else "* ALPN: server did not agree on a protocol")
        cert = so.getpeercert()
        if cert:
            subject = ", ".join(f"{k}={v}" for rdn in cert.get("subject", ()) for k, v in rdn)
            issuer = ", ".join(f"{k}={v}" for rdn in cert.get("issuer", ()) for k, v in rdn)
            self._note(lines, "* Server certificate:")
            self._note(lines, f"*  subject: {subject}")
            self._note(lines, f"*  start date: {cert.get('notBefore')}")
            self._note(lines, f"*  expire date: {cert.get('notAfter')}")
            self._note(lines, f"*  subjectAltName: host \"{name}\" matched cert's \"{name}\"")
            self._note(lines, f"*  issuer: {issuer}")
            self._note(lines, "*  SSL certificate verify ok.")
        elif not self.verify:
            self._note(lines, "*  SSL certificate verify result: not checked (-k), continuing anyway.")
        return writer, chosen or "http/1.1"

    async def _exchange_h2(self, conn: H2ClientConnection, method: str, target: str, host_header: str,
                           headers: Headers, body: bytes | AsyncIterable[bytes] | None,
                           lines: list[str]) -> Response:
        head = Headers([("User-Agent", self.user_agent), ("Accept", "*/*")])
        for k, v in [*self.default_headers, *headers]:
            head.set(k, v)
        if _is_stream(body):
            body = b"".join([piece async for piece in body])  # type: ignore[union-attr]
        try:
            response = await conn.request(method, target, host_header, head, body, self.timeout, self.verbose)  # type: ignore[arg-type]
        except ConnectionError:
            if conn.error is not None:
                raise _Stale from None  # the connection died: a reused one may be retried
            raise
        self._note(lines, f"* Connection #{conn.number} to host {conn.name} left intact")
        return response

    # -- one exchange -------------------------------------------------------------------------------
    async def _exchange(self, conn: _Conn, method: str, target: str, host_header: str, headers: Headers,
                        body: bytes | AsyncIterable[bytes] | None, lines: list[str]) -> Response:
        h = conn.h
        head = Headers([("Host", host_header), ("User-Agent", self.user_agent), ("Accept", "*/*")])
        for k, v in [*self.default_headers, *headers]:
            head.set(k, v)
        chunked = _is_stream(body) or "chunked" in (head.get("transfer-encoding") or "").lower()
        if chunked:
            head.set("Transfer-Encoding", "chunked")
            head.remove("Content-Length")
        elif body is not None and "content-length" not in head:
            head.set("Content-Length", str(len(body)))  # type: ignore[arg-type]
        try:
            data = h.send(h11.Request(method=method, target=target,
                                      headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in head]))
        except h11.LocalProtocolError as exc:
            raise ValueError(f"cannot send this request: {exc}") from None
        if self.verbose:
            for line in data.decode("latin-1").split("\r\n")[:-2]:
                self._note(lines, f"> {line}")
            self._note(lines, ">")
        writer = conn.writer
        writer.write(data)
        try:
            if isinstance(body, (bytes, bytearray, memoryview)):
                if chunked:
                    for i in range(0, len(body), CHUNK):
                        writer.write(h.send(h11.Data(data=body[i:i + CHUNK])))
                elif body:
                    writer.write(h.send(h11.Data(data=body)))
            elif body is not None:
                async for piece in body:
                    if piece:
                        writer.write(h.send(h11.Data(data=piece)))
                        await writer.drain()
            writer.write(h.send(h11.EndOfMessage()))
            await writer.drain()
        except ConnectionError:
            pass  # the server may have answered early (413, say) and closed: read what it said
        return await self._read_response(conn, method, lines)

    async def _read_response(self, conn: _Conn, method: str, lines: list[str]) -> Response:
        h = conn.h
        response: Response | None = None
        body = bytearray()
        while True:
            try:
                event = h.next_event()
            except h11.RemoteProtocolError as exc:
                if response is None and not h.trailing_data[0] and h.trailing_data[1]:
                    raise _Stale from None
                raise ProtocolError(f"the answer from {conn.name} is not valid HTTP/1.1: {exc}") from None
            if event is h11.NEED_DATA:
                try:
                    data = await asyncio.wait_for(conn.reader.read(READ_SIZE), self.timeout)
                except asyncio.TimeoutError:
                    raise TimeoutError(errno.ETIMEDOUT, f"no answer from {conn.name} for {self.timeout:g} s") from None
                except ConnectionError:
                    if response is None:
                        raise _Stale from None
                    raise
                h.receive_data(data)
                continue
            if isinstance(event, h11.InformationalResponse):
                self._note_head(lines, event)
            elif isinstance(event, h11.Response):
                self._note_head(lines, event)
                response = Response(event.status_code,
                                    Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers.raw_items()),
                                    b"", event.reason.decode("latin-1"), event.http_version.decode("ascii"))
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.max_body_bytes:
                    raise ProtocolError(f"the answer from {conn.name} is more than {self.max_body_bytes} bytes")
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise _Stale
        assert response is not None
        response.body = bytes(body)
        if h.our_state is h11.DONE and h.their_state is h11.DONE:
            h.start_next_cycle()
            self._note(lines, f"* Connection #{conn.number} to host {conn.name} left intact")
        else:
            self._drop(conn)
            self._note(lines, f"* Closing connection #{conn.number}")
        return response

    # -- verbose ------------------------------------------------------------------------------------
    def _note(self, lines: list[str], line: str) -> None:
        if not self.verbose:
            return
        lines.append(line)
        self.transcript.append(line)
        if self.out is not None:
            self.out(line)

    def _note_head(self, lines: list[str], event: h11.Response | h11.InformationalResponse) -> None:
        if not self.verbose:
            return
        self._note(lines, f"< HTTP/{event.http_version.decode()} {event.status_code} {event.reason.decode('latin-1')}".rstrip())
        for k, v in event.headers.raw_items():
            self._note(lines, f"< {k.decode('latin-1')}: {v.decode('latin-1')}")
        self._note(lines, "<")


async def fetch(host: Any, url: str, method: str = "GET", headers: HeaderInput = None,
                body: bytes | AsyncIterable[bytes] | None = None, *, timeout: float = 30.0,
                verbose: bool = False, out: Callable[[str], None] | None = None,
                http_version: str | None = None, verify: bool = True, cafile: str | None = None,
                keylog: str | None = None, sessions: dict | None = None) -> Response:
    """One request from ``host`` (a simulated Host or an OSHost): resolve the URL's name through
    the host's DNS, connect, send, read the whole answer, close. Returns the :class:`Response`
    (status, reason, headers, body; ``transcript`` holds curl -v lines when ``verbose``).
    https:// goes over TLS 1.3, HTTP/2 or HTTP/1.1 as ALPN agrees (``http_version``, ``verify``,
    ``cafile``, ``keylog``: as :class:`HTTPClient`; ``http_version="3"`` is HTTP/3 on QUIC).
    ``sessions``: a dict kept between calls for the session tickets (see :class:`HTTPClient`):
    the next fetch from the same dict to the same server resumes."""
    async with HTTPClient(host, timeout=timeout, verbose=verbose, out=out, http_version=http_version,
                          verify=verify, cafile=cafile, keylog=keylog, sessions=sessions) as client:
        return await client.request(method, url, headers=headers, body=body)


def _is_stream(body: object) -> bool:
    return body is not None and not isinstance(body, (bytes, bytearray, memoryview))



async def get(host: Any, url: str, **kw: Any) -> tuple[int, bytes]:
    """GET ``url`` from ``host``: (status, body). A shorthand for :func:`fetch`."""
    response = await fetch(host, url, **kw)
    return response.status, response.body  # type: ignore[return-value]
