"""DNS servers as programs on a host: an authoritative server (zones in, answers out) and a
recursive resolver service (answers clients' RD queries by walking the hierarchy). The client
side of the same exchanges (UDP, and TCP for truncated answers) is in :mod:`.exchange`.

Both speak UDP on port 53 through the host's sockets, so they run unchanged on a simulated host
and, through :class:`minternet.real.ossocket.OSHost`, on the operating system's loopback.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Iterable

from ...wire.dns import DNSMessage, Opcode, Rcode, encode_limited, make_response, name_eq
from ...wire.errors import MalformedPacket
from ...runtime import NS_PER_S
from .authority import answer, needed_glue
from .edns import EDNS_PAYLOAD, EdnsResponder
from .resolver import RecursiveResolver
from .zone import Zone

UDP_LIMIT = 512  # RFC 1035 4.2.1: larger answers are truncated (TC) and retried over TCP
TCP_IDLE_TIMEOUT = 10.0  # seconds a connection may sit idle or mid-message (RFC 7766 6.2.3: seconds)
TCP_MAX_CLIENTS = 150  # connections held at once, like BIND's tcp-clients
RECURSIVE_CLIENTS = 1000  # UDP queries a resolver works on at once, BIND's recursive-clients default


def _formerr(data: bytes) -> bytes | None:
    """A FORMERR answer to a message we cannot parse, if at least its header is there."""
    if len(data) < 12 or data[2] & 0x80:  # too short, or a response: never answer those
        return None
    header = bytearray(data[:12])
    header[2] = 0x80 | (header[2] & 0x79)  # QR=1, keep opcode and RD
    header[3] = Rcode.FORMERR
    header[4:12] = bytes(8)  # no sections
    return bytes(header)


class AuthoritativeServer:
    """Answers from its zones with the AA bit, referrals with glue, NXDOMAIN with the SOA; speaks
    EDNS(0) (see :mod:`.edns`): ``max_udp`` is the UDP payload size it offers (1232 as DNS Flag Day
    2020 settled), ``nsid`` what it answers an NSID request with, ``cookie_secret`` the 16 bytes its
    DNS cookies are made with (drawn from the host's random source by :meth:`serve` if not given)
    and ``now`` the wall clock in seconds for their timestamps (the host's clock by default)."""

    def __init__(self, zones: Iterable[Zone] = (), max_udp: int = EDNS_PAYLOAD, nsid: bytes | None = None,
                 cookie_secret: bytes | None = None, now: Callable[[], float] | None = None) -> None:
        self.zones: list[Zone] = list(zones)
        self.stats = {"queries": 0, "malformed": 0, "truncated": 0}
        self.edns = EdnsResponder(max_udp, nsid, cookie_secret, now, self.stats)

    def add_zone(self, zone: Zone) -> None:
        self.zones.append(zone)

    def zone(self, origin: str) -> Zone | None:
        for z in self.zones:
            if name_eq(z.origin, origin):
                return z
        return None

    def handle(self, data: bytes, limit: int | None = None, client: tuple[str, int] | None = None) -> bytes | None:
        """One query's bytes in, the response's bytes out (None: stay silent). ``limit``: the most
        bytes the response may take, None for UDP (512, or what EDNS negotiated); ``client``: who
        asked (for DNS cookies)."""
        try:
            query = DNSMessage.decode(data)
        except MalformedPacket:
            self.stats["malformed"] += 1
            return _formerr(data)
        if query.qr:
            return None  # never answer a response (reflection loops)
        self.stats["queries"] += 1
        client_ip = client[0] if client else None
        response = self.edns.reject(query) or self.edns.cookie_query(query, client_ip) or answer(self.zones, query)
        response, udp_limit = self.edns.finish(query, response, client_ip)
        wire = encode_limited(response, udp_limit if limit is None else limit, needed_glue(response))
        if wire[2] & 0x02:
            self.stats["truncated"] += 1
        return wire

    async def serve(self, host: Any, port: int = 53, address: str = "0.0.0.0",
                    started: asyncio.Future | None = None, tcp: bool = True,
                    tcp_idle_timeout: float = TCP_IDLE_TIMEOUT, tcp_clients: int = TCP_MAX_CLIENTS) -> None:
        """UDP on ``port``, and TCP on the same port for answers too big for UDP (RFC 7766)."""
        if self.edns.cookie_secret is None:
            self.edns.cookie_secret = bytes(host.rng.getrandbits(8) for _ in range(16))
        if self.edns.now is None:
            clock = host.clock
            self.edns.now = lambda: clock.now / NS_PER_S
        server = None
        if tcp and hasattr(host, "start_server"):
            async def over_tcp(data: bytes, client: tuple[str, int] | None = None) -> bytes | None:
                return self.handle(data, limit=65535, client=client)
            server = await serve_tcp(host, port, address, over_tcp, tcp_idle_timeout, tcp_clients, stats=self.stats)
        try:
            await serve_udp(host, port, address, lambda data, addr: self.handle(data, client=addr), started,
                            stats=self.stats)
        finally:
            if server is not None:
                server.close()


class ResolverService:
    """A recursive resolver as a server: clients send RD queries, it walks the hierarchy for them.
    At most ``recursive_clients`` UDP queries are in progress at once (BIND's recursive-clients);
    one more is dropped and counted in ``stats["recursive_clients_exceeded"]``; the client tries
    again later. (TCP is bounded by its connections, each answered one query at a time.)"""

    def __init__(self, resolver: RecursiveResolver, recursive_clients: int = RECURSIVE_CLIENTS) -> None:
        self.resolver = resolver
        self.recursive_clients = recursive_clients
        self.stats = {"queries": 0, "malformed": 0}
        self.edns = EdnsResponder(stats=self.stats)  # no NSID, no cookies

    async def handle(self, data: bytes, limit: int | None = None) -> bytes | None:
        try:
            query = DNSMessage.decode(data)
        except MalformedPacket:
            self.stats["malformed"] += 1
            return _formerr(data)
        if query.qr:
            return None
        self.stats["queries"] += 1
        response = self.edns.reject(query) or await self._answer(query)
        response, udp_limit = self.edns.finish(query, response)
        return encode_limited(response, udp_limit if limit is None else limit)

    async def _answer(self, query: DNSMessage) -> DNSMessage:
        if query.opcode != Opcode.QUERY:
            return make_response(query, rcode=Rcode.NOTIMP, ra=True)
        if len(query.questions) != 1:
            return make_response(query, rcode=Rcode.FORMERR, ra=True)
        if not query.rd:
            return make_response(query, rcode=Rcode.REFUSED, ra=True)
        q = query.questions[0]
        result = await self.resolver.resolve(q.name, q.type)
        return make_response(query, rcode=result.rcode, ra=True, answers=tuple(result.answers),
                             authority=tuple(result.authority))

    async def serve(self, host: Any, port: int = 53, address: str = "0.0.0.0",
                    started: asyncio.Future | None = None, tcp: bool = True) -> None:
        async def over_tcp(data: bytes, client: tuple[str, int] | None = None) -> bytes | None:
            return await self.handle(data, limit=65535)
        server = await serve_tcp(host, port, address, over_tcp) if tcp and hasattr(host, "start_server") else None
        try:
            await serve_udp(host, port, address, self.handle, started, concurrent=True, stats=self.stats,
                            max_in_progress=self.recursive_clients)
        finally:
            if server is not None:
                server.close()


async def serve_udp(host: Any, port: int, address: str, handler, started: asyncio.Future | None = None,
                    concurrent: bool = False, stats: dict | None = None,
                    on_error: Callable[[str], None] | None = None, max_in_progress: int | None = None) -> None:
    """Receive datagrams on (address, port) forever; answer each with ``handler(data, addr)``
    (a coroutine function when ``concurrent``, each query then handled in its own task, at most
    ``max_in_progress`` of them at once: a datagram beyond is dropped, counted in
    ``stats["recursive_clients_exceeded"]`` and traced, as BIND drops a query over its
    recursive-clients quota).

    A reply that cannot be sent (a query from port 0, an unreachable asker) is counted in
    ``stats["send_errors"]``, traced as a drop where the host traces, told to ``on_error``, and
    the server goes on: one datagram must never stop it."""
    sock = host.socket()
    sock.bind((address, port))
    if started is not None and not started.done():
        started.set_result(sock.getsockname())
    tasks: set[asyncio.Task] = set()
    drop = getattr(host, "drop", None)

    def reply_to(reply: bytes, addr: tuple[str, int]) -> None:
        try:
            sock.sendto(reply, addr)
        except OSError as exc:
            text = f"reply to {addr[0]}#{addr[1]} not sent: {exc.strerror or exc}"
            if stats is not None:
                stats["send_errors"] = stats.get("send_errors", 0) + 1
            if drop is not None:
                drop("dns", "send-error", text=text)
            if on_error is not None:
                on_error(text)

    async def answer_one(data: bytes, addr: tuple[str, int]) -> None:
        reply = await handler(data)
        if reply is not None:
            reply_to(reply, addr)

    try:
        while True:
            data, addr = await sock.recvfrom(65535)
            if concurrent:
                if max_in_progress is not None and len(tasks) >= max_in_progress:
                    if stats is not None:
                        stats["recursive_clients_exceeded"] = stats.get("recursive_clients_exceeded", 0) + 1
                    if drop is not None:
                        drop("dns", "recursive-clients", text=f"query from {addr[0]}#{addr[1]} dropped: "
                                                             f"{max_in_progress} in progress")
                    continue
                task = asyncio.ensure_future(answer_one(data, addr))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            else:
                reply = handler(data, addr)
                if reply is not None:
                    reply_to(reply, addr)
    finally:
        sock.close()


async def serve_tcp(host: Any, port: int, address: str, handler, idle_timeout: float = TCP_IDLE_TIMEOUT,
                    max_clients: int = TCP_MAX_CLIENTS, stats: dict | None = None):
    """DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message has a two-byte length in front;
    several queries may come on one connection; ``handler(data, client)`` answers each. A
    connection idle (or stalled mid-message, or not reading its answers) for ``idle_timeout``
    seconds is closed, and at most ``max_clients`` are held: when one more comes, the connection
    idle the longest among those waiting for their client -- to send a query, or to take an
    answer off our hands -- is closed to make room (RFC 7766 6.2.3: a server frees resources by
    closing idle connections), so silent, slow or non-reading clients cannot lock the others out
    and a client that keeps querying on its connection is not the one closed. Only when every
    connection is busy in ``handler`` is the new one closed at once. Returns the server (close()
    stops it)."""
    # Each client's task -> whether it is waiting for its client (True) or in the handler (False);
    # a task moves to the end on each complete query, so the order is least recently active first
    # and the first waiting one is the one idle the longest.
    clients: dict[asyncio.Task, bool] = {}

    def count(what: str) -> None:
        if stats is not None:
            stats[what] = stats.get(what, 0) + 1

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        assert me is not None
        if len(clients) >= max_clients:
            victim = next((task for task, waiting in clients.items() if waiting), None)
            if victim is None:
                count("tcp_refused")
                writer.close()
                return
            del clients[victim]
            victim.cancel()
            count("tcp_evicted")
        clients[me] = True
        peer = writer.get_extra_info("peername")
        abort = False  # close with a RST: answers the client does not read are not worth sending
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), idle_timeout)
                data = await asyncio.wait_for(reader.readexactly(int.from_bytes(head, "big")), idle_timeout)
                del clients[me]
                clients[me] = False  # busy, and now the most recently active
                reply = await handler(data, peer)
                if reply is None:
                    break
                clients[me] = True  # waiting for the client to read: evictable like a silent one
                writer.write(len(reply).to_bytes(2, "big") + reply)
                abort = True
                await asyncio.wait_for(writer.drain(), idle_timeout)
                abort = False
        except asyncio.TimeoutError:
            count("tcp_idle_closed")
        except asyncio.CancelledError:
            if me in clients:  # not evicted by us: the server itself is going away
                raise
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            clients.pop(me, None)
            if abort:
                writer.transport.abort()
            else:
                writer.close()

    return await host.start_server(client, port=port, host=address)
