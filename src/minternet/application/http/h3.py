"""HTTP/3 (RFC 9114) on QUIC on minternet's UDP: aioquic's H3Connection over the QUIC endpoint of
:mod:`minternet.application.quic.endpoint`, for a simulated host.

Server: ``server = await serve_h3(host, handler, certificate=..., private_key=...)`` -- the same
handlers as the HTTP/1.1 server (an async function: :class:`Request` -> :class:`Response`), on
UDP 443. Client: ``response = await fetch_h3(host, "https://www.example.com/", cadata=ca_pem)``, or
an :class:`H3Client` for several requests in flight on one connection, and a session ticket for
the next connection's 0-RTT.

The client advertises a QPACK dynamic table of 0 (SETTINGS_QPACK_MAX_TABLE_CAPACITY, RFC 9204
3.2.3): the server's response headers then use only the static table and literals, so a lost packet
of one response cannot hold up another's headers on the QPACK encoder stream -- without it, HTTP/3
keeps a head-of-line block of its own.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, urlsplit

from aioquic.h3.connection import H3_ALPN, H3Connection, Setting
from aioquic.h3.events import DataReceived, H3Event, HeadersReceived
from aioquic.quic import events as qe
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.tls import Epoch, SessionTicket

from ... import __version__
from ...runtime import NS_PER_S
from ...wire._addr import is_ipv4
from ..quic.endpoint import KeyLog, QuicEndpoint, QuicPeer, describe_event
from .message import Headers, HeaderInput, Request, Response, error_response, http_date
from .server import SERVER_NAME, SIM_EPOCH, Handler

USER_AGENT = f"minternet-curl/{__version__}"
H3_PORT = 443
CHUNK = 16 * 1024


class H3ConnectionNoDynamicTable(H3Connection):
    """An H3Connection that tells its peer QPACK_MAX_TABLE_CAPACITY = 0 (and no blocked streams):
    the peer's encoder then never makes our request streams wait on its encoder stream."""

    def _get_local_settings(self) -> dict[int, int]:  # aioquic's hook for the SETTINGS frame
        settings = super()._get_local_settings()
        settings[Setting.QPACK_MAX_TABLE_CAPACITY] = 0
        settings[Setting.QPACK_BLOCKED_STREAMS] = 0
        return settings


# IANA names of the TLS 1.3 cipher suites (what curl prints), by number.
_CIPHERS = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
            0x1303: "TLS_CHACHA20_POLY1305_SHA256", 0x1304: "TLS_AES_128_CCM_SHA256"}
_EPOCHS = {Epoch.INITIAL: "Initial", Epoch.ZERO_RTT: "0-RTT", Epoch.HANDSHAKE: "Handshake", Epoch.ONE_RTT: "1-RTT"}


def _handshake_messages(data: bytes) -> tuple[list[int], bytes]:
    """The TLS handshake message types in ``data`` (type, 3-byte length, body), and what is left
    of an incomplete last message."""
    types = []
    while len(data) >= 4:
        length = 4 + int.from_bytes(data[1:4], "big")
        if len(data) < length:
            break
        types.append(data[0])
        data = data[length:]
    return types, data


class TracedQuicConnection(QuicConnection):
    """A QuicConnection that tells its TLS handshake as curl -v does, one line per message
    (``* QUIC (OUT), Initial, TLS handshake, Client hello (1):``) to ``notes``: it watches
    what aioquic's TLS context takes from and puts into the CRYPTO streams. Nothing it sends
    changes."""

    def __init__(self, *args: Any, notes: Callable[[str], None], **kwargs: Any) -> None:
        self._notes = notes
        self._crypto_in = b""
        super().__init__(*args, **kwargs)

    def _initialize(self, peer_cid: bytes) -> None:
        super()._initialize(peer_cid)
        from ..tls.contexts import _HANDSHAKE
        tls = self.tls
        suites = ":".join(_CIPHERS.get(int(c), f"{int(c):#06x}") for c in tls._cipher_suites)
        self._notes(f"* QUIC cipher selection: {suites}")
        inner = tls.handle_message

        def handle_message(input_data: bytes, output_buf: dict) -> None:
            before = {epoch: buf.tell() for epoch, buf in output_buf.items()}
            inner(input_data, output_buf)
            received, self._crypto_in = _handshake_messages(self._crypto_in + input_data)
            for mt in received:
                self._notes(f"* QUIC (IN), TLS handshake, {_HANDSHAKE.get(mt, 'Unknown')} ({mt}):")
            for epoch, buf in output_buf.items():
                sent, _ = _handshake_messages(buf.data_slice(before.get(epoch, 0), buf.tell()))
                for mt in sent:
                    self._notes(f"* QUIC (OUT), {_EPOCHS.get(epoch, epoch)}, TLS handshake, "
                                f"{_HANDSHAKE.get(mt, 'Unknown')} ({mt}):")

        tls.handle_message = handle_message  # type: ignore[method-assign]


def _pem(value: Any) -> Any:
    return value.encode("ascii") if isinstance(value, str) else value


def _load_certificate(configuration: QuicConfiguration, certificate: Any, private_key: Any) -> None:
    """Certificate and key as cryptography objects or PEM (bytes or str; aioquic wants bytes)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    if isinstance(certificate, (bytes, str)):
        certs = x509.load_pem_x509_certificates(_pem(certificate))
        certificate, chain = certs[0], certs[1:]
        configuration.certificate_chain = chain
    if isinstance(private_key, (bytes, str)):
        private_key = load_pem_private_key(_pem(private_key), password=None)
    configuration.certificate = certificate
    configuration.private_key = private_key


# ----------------------------------------------------------------------------------------- server
class H3Server:
    """Serves ``handler`` over HTTP/3 on a host's UDP port (443 by default).

    ``stats`` counts connections, requests and statuses; ``keylog`` (a :class:`KeyLog`) collects
    the TLS secrets of every connection for Wireshark. Session tickets are issued, and a client
    coming back with one may send its requests as 0-RTT data."""

    def __init__(self, handler: Handler, *, certificate: Any, private_key: Any, keylog: KeyLog | None = None,
                 name: str = SERVER_NAME, log: Callable[[str], None] | None = None,
                 alt_svc: str | None = None, deterministic: bool = True, http: Any = None) -> None:
        from .server import HTTPServer
        self.handler = handler
        # Requests are answered by an HTTPServer's ``answer``, as over HTTP/1.1 and HTTP/2: the
        # same handler call, error pages, 405 for methods it does not do, 500 for a failing
        # handler. ``http``: the HTTPServer this one runs beside (serve(..., http3=True)); alone,
        # one of its own whose counters are this server's.
        if http is None:
            http = HTTPServer(handler, log=log, name=name)
            http.stats = self.stats = Counter()
        else:
            self.stats = Counter()
        self.http = http
        self.name = name
        self.log = log
        self.keylog = keylog
        self.alt_svc = alt_svc
        self.address: tuple[str, int] | None = None
        self.configuration = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN,
                                               secrets_log_file=keylog)
        _load_certificate(self.configuration, certificate, private_key)
        self._deterministic = deterministic
        self._endpoint: QuicEndpoint | None = None
        self._tasks: set[asyncio.Task] = set()
        self._clock: Any = None

    async def start(self, host: Any, port: int = H3_PORT, address: str = "0.0.0.0") -> "H3Server":
        self._clock = host.clock
        if self.http._unix_time is None:
            clock = host.clock
            self.http._unix_time = lambda: SIM_EPOCH + clock.now / 1e9
        if self.keylog is None and getattr(host, "keylog", None) is not None:
            self.configuration.secrets_log_file = host.keylog  # beside the run's pcaps
        endpoint = QuicEndpoint(host, server_configuration=self.configuration, on_connection=self._accept,
                                deterministic=self._deterministic)
        transport, _ = await host.create_datagram_endpoint(lambda: endpoint, local_addr=(address, port))
        self._endpoint = endpoint
        self.address = transport.get_extra_info("sockname")
        return self

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._endpoint is not None:
            self._endpoint.close()

    def _accept(self, peer: QuicPeer) -> None:
        self.stats["connections"] += 1
        state = _ServerConnection(self, peer)
        peer.on_event = state.quic_event


class _ServerConnection:
    def __init__(self, server: H3Server, peer: QuicPeer) -> None:
        self.server = server
        self.peer = peer
        self.h3: H3Connection | None = None
        self.pending: dict[int, tuple[list[tuple[bytes, bytes]], bytearray]] = {}

    def quic_event(self, peer: QuicPeer, event: qe.QuicEvent) -> None:
        if isinstance(event, qe.ProtocolNegotiated) and event.alpn_protocol in H3_ALPN:
            self.h3 = H3Connection(peer.quic)
        if self.h3 is None:
            return
        for h3_event in self.h3.handle_event(event):
            self.h3_event(h3_event)

    def h3_event(self, event: H3Event) -> None:
        if isinstance(event, HeadersReceived):
            self.pending[event.stream_id] = (event.headers, bytearray())
        elif isinstance(event, DataReceived) and event.stream_id in self.pending:
            self.pending[event.stream_id][1].extend(event.data)
        else:
            return
        if event.stream_ended and event.stream_id in self.pending:
            headers, body = self.pending.pop(event.stream_id)
            task = asyncio.get_running_loop().create_task(self.respond(event.stream_id, headers, bytes(body)))
            self.server._tasks.add(task)
            task.add_done_callback(self.server._tasks.discard)

    async def respond(self, stream_id: int, raw: list[tuple[bytes, bytes]], body: bytes) -> None:
        server = self.server
        pseudo = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw if k.startswith(b":")}
        headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw if not k.startswith(b":")])
        if ":authority" in pseudo and "host" not in headers:
            headers.add("Host", pseudo[":authority"])
        method, target = pseudo.get(":method", "GET"), pseudo.get(":path", "/")
        request = Request(method, target, headers, body, http_version="3", client=self.peer.addr)
        request_line = f"{method} {target} HTTP/3"
        server.stats["requests"] += 1
        http = server.http
        if method not in http.methods:  # as HTTP/1.1 and HTTP/2 answer it
            response = error_response(405, f"This server does not do {method}; it does {', '.join(http.methods)}.",
                                      {"Allow": ", ".join(http.methods)})
        else:
            response = await http.answer(request, request_line)
        server.stats[f"status {response.status}"] += 1
        await self.send(stream_id, method, response)
        if server.log is not None:
            from .server import clf_time
            who = self.peer.addr[0] if self.peer.addr else "-"
            size = len(response.body) if isinstance(response.body, (bytes, bytearray)) else "-"
            server.log(f'{who} - - [{clf_time(http.unix_time())}] "{request_line}" {response.status} {size} '
                       f"quic stream={stream_id}")

    async def send(self, stream_id: int, method: str, response: Response) -> None:
        h3, peer = self.h3, self.peer
        if h3 is None or peer.closed:
            return
        now = self.server._clock.now / NS_PER_S
        head = [(b":status", str(response.status).encode())]
        out = Headers(response.headers)
        out.setdefault("Server", self.server.name)
        out.setdefault("Date", http_date(SIM_EPOCH + now))
        if self.server.alt_svc:
            out.setdefault("Alt-Svc", self.server.alt_svc)
        body = response.body
        if isinstance(body, (bytes, bytearray)):
            out.setdefault("Content-Length", str(len(body)))
        # RFC 9114 4.2: field names in lower case; connection-specific fields are not allowed.
        head += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.items()
                 if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "upgrade")]
        no_body = method == "HEAD" or response.status in (204, 304)
        if isinstance(body, (bytes, bytearray)) or no_body:
            h3.send_headers(stream_id, head, end_stream=no_body or not body)
            if not no_body and body:
                h3.send_data(stream_id, bytes(body), end_stream=True)
            peer.process()
            return
        h3.send_headers(stream_id, head)
        peer.process()
        async for piece in body:  # type: ignore[union-attr]
            if peer.closed:
                return
            h3.send_data(stream_id, bytes(piece), end_stream=False)
            peer.process()
        h3.send_data(stream_id, b"", end_stream=True)
        peer.process()


async def serve_h3(host: Any, handler: Handler, *, port: int = H3_PORT, address: str = "0.0.0.0",
                   **options: Any) -> H3Server:
    """Start an HTTP/3 server for ``handler`` on ``host`` (UDP ``port``) and return it once it
    listens. ``options`` go to :class:`H3Server` (certificate and private_key are required)."""
    return await H3Server(handler, **options).start(host, port, address)


# ----------------------------------------------------------------------------------------- client
@dataclass
class Exchange:
    """One request on an :class:`H3Client` and when things happened (virtual ns)."""

    stream_id: int
    method: str
    target: str
    sent_at: int
    headers_at: int | None = None
    first_byte_at: int | None = None
    done_at: int | None = None
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)


class H3Client:
    """An HTTP/3 connection from ``host`` to ``server_name`` (resolved through the host's DNS,
    unless ``address`` is given) on UDP ``port``.

    ``cadata``: the PEM of the CA(s) to trust (the simulated internet's CA); ``verify=False`` is
    curl's ``-k``. ``session_ticket``: one received on an earlier connection (``.session_ticket``
    after it): the handshake resumes, and requests made right after :meth:`connect` go out as
    0-RTT data with the first flight. ``transcript`` holds curl -v style lines."""

    #: The HTTP/3 layer: no QPACK dynamic table by default (see the module's docstring); aioquic's
    #: H3Connection gives the server a 4096-byte table (and the QPACK blocking that comes with it).
    h3_connection_class: type[H3Connection] = H3ConnectionNoDynamicTable

    def __init__(self, host: Any, server_name: str, *, address: str | None = None, port: int = H3_PORT,
                 cadata: bytes | str | None = None, verify: bool = True,
                 session_ticket: SessionTicket | None = None, keylog: KeyLog | None = None,
                 deterministic: bool = True, verbose: bool = False,
                 out: Callable[[str], None] | None = None, number: int = 0) -> None:
        self.host = host
        self.server_name = server_name
        self.address = address
        self.port = port
        self.session_ticket: SessionTicket | None = None
        self.exchanges: dict[int, Exchange] = {}
        self.transcript: list[str] = []
        self.verbose = verbose or out is not None
        self.out = out  # gets each curl -v line as it happens
        self.number = number  # curl's connection number (#0), for the transcript
        self.connect_at: int | None = None
        self.handshake: qe.HandshakeCompleted | None = None
        self.handshake_at: int | None = None
        self._deterministic = deterministic
        if keylog is None:
            keylog = getattr(host, "keylog", None)  # set beside the pcaps by Network.capture
        config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name=server_name,
                                   secrets_log_file=keylog)
        if cadata is not None:
            config.load_verify_locations(cadata=_pem(cadata))
        if not verify:
            import ssl
            config.verify_mode = ssl.CERT_NONE
        config.session_ticket = session_ticket
        self.configuration = config
        self._peer: QuicPeer | None = None
        self._endpoint: QuicEndpoint | None = None
        self._h3: H3Connection | None = None
        self._waiters: dict[int, asyncio.Future] = {}
        self._connected: asyncio.Future | None = None
        self._closed_error: Exception | None = None

    def _say(self, line: str) -> None:
        if self.verbose:
            self.transcript.append(line)
            if self.out is not None:
                self.out(line)

    async def connect(self) -> "H3Client":
        """Open the connection. Returns at once (the handshake goes on; requests may be made at
        once and wait for it, or go as 0-RTT); :meth:`wait_connected` waits for the handshake."""
        address = self.address
        if address is None:
            address = self.server_name if is_ipv4(self.server_name) else await self.host.resolve(self.server_name)
        loop = asyncio.get_running_loop()
        self._connected = loop.create_future()
        self.address = address
        endpoint = QuicEndpoint(self.host, deterministic=self._deterministic)
        endpoint.on_error = self._socket_error
        await self.host.create_datagram_endpoint(lambda: endpoint, remote_addr=(address, self.port))
        self._endpoint = endpoint
        self.connect_at = self.host.clock.now
        self._say(f"*   Trying {address}:{self.port}...")
        self._say(f"* Connect socket over QUIC to {address}:{self.port}")
        self._say(f"* ALPN: offers {','.join(H3_ALPN)}")
        connection_class: Any = QuicConnection
        if self.verbose:
            def connection_class(**kw: Any) -> QuicConnection:
                return TracedQuicConnection(notes=self._say, **kw)
        peer = endpoint.connect(self.configuration, (address, self.port),
                                session_ticket_handler=self._ticket, connection_class=connection_class)
        peer.on_event = self._quic_event
        self._peer = peer
        self._h3 = self.h3_connection_class(peer.quic)
        loop.call_soon(peer.process)  # the first flight, with whatever requests were made by then
        return self

    async def wait_connected(self) -> qe.HandshakeCompleted:
        assert self._connected is not None, "connect() first"
        return await self._connected

    def _ticket(self, ticket: SessionTicket) -> None:
        self.session_ticket = ticket

    def _socket_error(self, exc: Exception) -> None:
        """An ICMP error for our datagrams (port unreachable: nothing listens on UDP 443): the
        handshake fails now, instead of after QUIC's retransmissions give up."""
        if self._connected is not None and not self._connected.done() and isinstance(exc, ConnectionError):
            self._say(f"* QUIC connect to {self.address} port {self.port} failed: {exc.strerror or exc}")
            self._connected.set_exception(exc)

    def _tell_handshake(self, event: qe.HandshakeCompleted) -> None:
        """What curl -v says once the handshake is done: cipher, ALPN, the server's certificate."""
        assert self._peer is not None
        tls = self._peer.quic.tls
        took = (self.handshake_at or 0) - (self.connect_at or 0)
        suite = tls.key_schedule.cipher_suite if tls.key_schedule is not None else None
        name = _CIPHERS.get(int(suite), "?") if suite is not None else "?"
        self._say(f"* SSL connection using TLSv1.3 / {name} (handshake {took / 1e6:.1f} ms)")
        self._say(f"* ALPN: server accepted {event.alpn_protocol}")
        cert = getattr(tls, "_peer_certificate", None)  # aioquic keeps the leaf it verified here
        if cert is not None:
            self._say("* Server certificate:")
            self._say(f"*  subject: {cert.subject.rfc4514_string()}")
            self._say(f"*  start date: {cert.not_valid_before_utc:%b %d %H:%M:%S %Y} GMT")
            self._say(f"*  expire date: {cert.not_valid_after_utc:%b %d %H:%M:%S %Y} GMT")
            self._say(f"*  issuer: {cert.issuer.rfc4514_string()}")
            import ssl
            if self.configuration.verify_mode == ssl.CERT_NONE:
                self._say("*  SSL certificate verify result: not checked (-k), continuing anyway.")
            else:
                self._say(f"*  subjectAltName: host \"{self.server_name}\" matched cert's \"{self.server_name}\"")
                self._say("*  SSL certificate verify ok.")
        self._say(f"* Connected to {self.server_name} ({self.address}) port {self.port} (#{self.number})")
        self._say("* using HTTP/3")

    def _quic_event(self, peer: QuicPeer, event: qe.QuicEvent) -> None:
        now = self.host.clock.now
        if isinstance(event, qe.HandshakeCompleted):
            self.handshake, self.handshake_at = event, now
            self._say(f"* {describe_event(event)}")
            if self.verbose:
                self._tell_handshake(event)
            if self._connected is not None and not self._connected.done():
                self._connected.set_result(event)
        elif isinstance(event, qe.ConnectionTerminated):
            self._say(f"* {describe_event(event)}")
            err = ConnectionError(f"QUIC connection closed: error {event.error_code:#x} {event.reason_phrase}")
            self._closed_error = err
            for fut in [self._connected, *self._waiters.values()]:
                if fut is not None and not fut.done():
                    fut.set_exception(err)
        assert self._h3 is not None
        for h3_event in self._h3.handle_event(event):
            self._h3_event(h3_event, now)

    def _h3_event(self, event: H3Event, now: int) -> None:
        ex = self.exchanges.get(getattr(event, "stream_id", -1))
        if ex is None:
            return
        if isinstance(event, HeadersReceived):
            if ex.headers_at is None:
                ex.headers_at = now
                ex.headers = list(event.headers)
                ex.status = int(dict(event.headers).get(b":status", b"0"))
            else:
                ex.headers += list(event.headers)  # trailers
        elif isinstance(event, DataReceived):
            if event.data and ex.first_byte_at is None:
                ex.first_byte_at = now
            ex.body.extend(event.data)
        if getattr(event, "stream_ended", False) and ex.done_at is None:
            ex.done_at = now
            fut = self._waiters.pop(ex.stream_id, None)
            if fut is not None and not fut.done():
                fut.set_result(ex)

    def send_request(self, method: str, target: str, headers: HeaderInput = None, body: bytes = b"") -> Exchange:
        """Put a request on a new stream now (no waiting); :meth:`response` waits for its answer."""
        if self._peer is None or self._h3 is None:
            raise RuntimeError("connect() first")
        if self._closed_error is not None:
            raise self._closed_error
        quic = self._peer.quic
        stream_id = quic.get_next_available_stream_id()
        authority = self.server_name if self.port == H3_PORT else f"{self.server_name}:{self.port}"
        head = [(b":method", method.encode()), (b":scheme", b"https"), (b":authority", authority.encode()),
                (b":path", target.encode())]
        extra = Headers(headers)
        extra.setdefault("User-Agent", USER_AGENT)
        head += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()
                 if k.lower() != "host"]
        self._h3.send_headers(stream_id, head, end_stream=not body)
        if body:
            self._h3.send_data(stream_id, body, end_stream=True)
        ex = Exchange(stream_id, method, target, self.host.clock.now)
        self.exchanges[stream_id] = ex
        self._waiters[stream_id] = asyncio.get_running_loop().create_future()
        if self.verbose:
            self._say(f"* [HTTP/3] [{stream_id}] OPENED stream for https://{authority}{target}")
            for k, v in head:
                self._say(f"* [HTTP/3] [{stream_id}] [{k.decode('latin-1')}: {v.decode('latin-1')}]")
            self._say(f"> {method} {target} HTTP/3")
            self._say(f"> Host: {authority}")  # sent as :authority (curl shows it so too)
            for k, v in extra.items():
                if k.lower() != "host":
                    self._say(f"> {k.lower()}: {v}")  # as sent: lower case (RFC 9114 4.2)
            self._say(">")
        self._peer.process()
        return ex

    async def response(self, exchange: Exchange) -> Response:
        fut = self._waiters.get(exchange.stream_id)
        if fut is not None:
            await fut
        headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in exchange.headers
                           if not k.startswith(b":")])
        if self.verbose:
            self._say(f"< HTTP/3 {exchange.status}")
            for k, v in headers:
                self._say(f"< {k}: {v}")
            self._say("<")
        # No reason phrase in HTTP/3 (RFC 9114 4.3.2: only :status), as HTTP/2's responses here.
        return Response(exchange.status or 0, headers, bytes(exchange.body), "", http_version="3",
                        transcript=self.transcript)

    async def request(self, method: str, target: str, headers: HeaderInput = None, body: bytes = b"") -> Response:
        return await self.response(self.send_request(method, target, headers, body))

    async def get(self, target: str, headers: HeaderInput = None) -> Response:
        return await self.request("GET", target, headers)

    async def aclose(self, linger: float = 0.0) -> None:
        """Close the connection (CONNECTION_CLOSE), after ``linger`` seconds in which late
        packets (the session ticket, ACKs) are still taken in."""
        if linger:
            await asyncio.sleep(linger)
        if self._endpoint is not None:
            self._endpoint.close()

    async def __aenter__(self) -> "H3Client":
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def alt_svc(port: int = H3_PORT, max_age: int = 86400) -> str:
    """The Alt-Svc field value (RFC 7838) an HTTP/1.1 or HTTP/2 server sends to say that the same
    origin speaks HTTP/3 on UDP ``port``: ``h3=":443"; ma=86400``."""
    return f'h3=":{port}"; ma={max_age}'


@dataclass(frozen=True)
class HTTPSService:
    """What an HTTPS record (RFC 9460) says about an origin: the protocols (ALPN ids), the port
    (443 unless given) and address hints; ``target`` is the name to connect to."""

    priority: int
    target: str
    alpn: tuple[str, ...]
    port: int
    ipv4hint: tuple[str, ...]

    @property
    def h3(self) -> bool:
        return "h3" in self.alpn


async def https_services(host: Any, name: str) -> list[HTTPSService]:
    """Look up ``name``'s HTTPS records through ``host``'s resolver (following CNAMEs), best
    (lowest priority) first; [] when there are none. AliasMode records (priority 0) are not
    followed here."""
    from ...wire.dns import SVC_KEYS, RRType, name_eq
    response = await host.stub_resolver.query(name.rstrip("."), RRType.HTTPS)
    current = name.rstrip(".")
    for _ in range(8):
        cname = [rr for rr in response.answers if name_eq(rr.name, current) and rr.type == RRType.CNAME]
        if not cname:
            break
        current = cname[0].data.target
    out = []
    for rr in response.answers:
        if rr.type != RRType.HTTPS or not name_eq(rr.name, current) or rr.data.priority == 0:
            continue
        params = dict(rr.data.params)
        raw, alpn = params.get(SVC_KEYS["alpn"], b""), []
        i = 0
        while i < len(raw):
            alpn.append(raw[i + 1:i + 1 + raw[i]].decode("ascii", "replace"))
            i += 1 + raw[i]
        port = int.from_bytes(params[SVC_KEYS["port"]], "big") if SVC_KEYS["port"] in params else H3_PORT
        hint = params.get(SVC_KEYS["ipv4hint"], b"")
        hints = tuple(".".join(str(b) for b in hint[j:j + 4]) for j in range(0, len(hint), 4))
        target = current if rr.data.target in ("", ".") else rr.data.target.rstrip(".")
        out.append(HTTPSService(rr.data.priority, target, tuple(alpn), port, hints))
    return sorted(out, key=lambda s: s.priority)


def split_https_url(url: str) -> tuple[str, int, str]:
    """(host name, port, request target) of an https:// URL (a URL without a scheme is https)."""
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        raise ValueError(f"{url}: HTTP/3 is for https:// URLs")
    if not parts.hostname:
        raise ValueError(f"{url}: no host name in the URL")
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return parts.hostname, parts.port or H3_PORT, target


async def fetch_h3(host: Any, url: str, *, method: str = "GET", headers: HeaderInput = None, body: bytes = b"",
                   timeout: float | None = 30.0, **options: Any) -> Response:
    """One HTTP/3 request from ``host``: ``await fetch_h3(host, "https://www.example.com/",
    cadata=ca_pem)``. ``options`` go to :class:`H3Client` (address, cadata, verify,
    session_ticket, keylog, verbose)."""
    name, port, target = split_https_url(url)
    client = H3Client(host, name, port=port, **options)
    await client.connect()
    try:
        return await asyncio.wait_for(client.request(method, target, headers, body), timeout)
    finally:
        await client.aclose()


__all__ = ["Exchange", "H3Client", "H3ConnectionNoDynamicTable", "H3Server", "HTTPSService", "KeyLog", "alt_svc",
           "fetch_h3", "https_services", "serve_h3", "split_https_url"]
