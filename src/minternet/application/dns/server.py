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
from .authority import answer
from .resolver import RecursiveResolver
from .zone import Zone

UDP_LIMIT = 512  # RFC 1035 4.2.1: larger answers are truncated (TC) and retried over TCP


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
    """Answers from its zones with the AA bit, referrals with glue, NXDOMAIN with the SOA."""

    def __init__(self, zones: Iterable[Zone] = ()) -> None:
        self.zones: list[Zone] = list(zones)
        self.stats = {"queries": 0, "malformed": 0, "truncated": 0}

    def add_zone(self, zone: Zone) -> None:
        self.zones.append(zone)

    def zone(self, origin: str) -> Zone | None:
        for z in self.zones:
            if name_eq(z.origin, origin):
                return z
        return None

    def handle(self, data: bytes, limit: int = UDP_LIMIT) -> bytes | None:
        """One query's bytes in, the response's bytes out (None: stay silent)."""
        try:
            query = DNSMessage.decode(data)
        except MalformedPacket:
            self.stats["malformed"] += 1
            return _formerr(data)
        if query.qr:
            return None  # never answer a response (reflection loops)
        self.stats["queries"] += 1
        response = answer(self.zones, query)
        wire = encode_limited(response, limit)
        if wire[2] & 0x02:
            self.stats["truncated"] += 1
        return wire

    async def serve(self, host: Any, port: int = 53, address: str = "0.0.0.0",
                    started: asyncio.Future | None = None, tcp: bool = True) -> None:
        """UDP on ``port``, and TCP on the same port for answers too big for UDP (RFC 7766)."""
        server = None
        if tcp and hasattr(host, "start_server"):
            async def over_tcp(data: bytes) -> bytes | None:
                return self.handle(data, limit=65535)
            server = await serve_tcp(host, port, address, over_tcp, stats=self.stats)
        try:
            await serve_udp(host, port, address, lambda data, addr: self.handle(data), started, stats=self.stats)
        finally:
            if server is not None:
                server.close()


class ResolverService:
    """A recursive resolver as a server: clients send RD queries, it walks the hierarchy for them."""

    def __init__(self, resolver: RecursiveResolver) -> None:
        self.resolver = resolver
        self.stats = {"queries": 0, "malformed": 0}

    async def handle(self, data: bytes) -> bytes | None:
        try:
            query = DNSMessage.decode(data)
        except MalformedPacket:
            self.stats["malformed"] += 1
            return _formerr(data)
        if query.qr:
            return None
        self.stats["queries"] += 1
        if query.opcode != Opcode.QUERY:
            return make_response(query, rcode=Rcode.NOTIMP, ra=True).encode()
        if len(query.questions) != 1:
            return make_response(query, rcode=Rcode.FORMERR, ra=True).encode()
        if not query.rd:
            return make_response(query, rcode=Rcode.REFUSED, ra=True).encode()
        q = query.questions[0]
        result = await self.resolver.resolve(q.name, q.type)
        response = make_response(query, rcode=result.rcode, ra=True, answers=tuple(result.answers),
                                 authority=tuple(result.authority))
        return encode_limited(response, UDP_LIMIT)

    async def serve(self, host: Any, port: int = 53, address: str = "0.0.0.0",
                    started: asyncio.Future | None = None, tcp: bool = True) -> None:
        server = await serve_tcp(host, port, address, self.handle) if tcp and hasattr(host, "start_server") else None
        try:
            await serve_udp(host, port, address, self.handle, started, concurrent=True, stats=self.stats)
        finally:
            if server is not None:
                server.close()


async def serve_udp(host: Any, port: int, address: str, handler, started: asyncio.Future | None = None,
                    concurrent: bool = False, stats: dict | None = None,
                    on_error: Callable[[str], None] | None = None) -> None:
    """Receive datagrams on (address, port) forever; answer each with ``handler(data, addr)``
    (a coroutine function when ``concurrent``, each query then handled in its own task).

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
                task = asyncio.ensure_future(answer_one(data, addr))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            else:
                reply = handler(data, addr)
                if reply is not None:
                    reply_to(reply, addr)
    finally:
        sock.close()


TCP_IDLE_TIMEOUT = 10.0  # seconds a connection may sit idle or mid-message (RFC 7766 6.2.3: seconds)
TCP_MAX_CLIENTS = 150  # connections held at once, like BIND's tcp-clients


async def serve_tcp(host: Any, port: int, address: str, handler, idle_timeout: float = TCP_IDLE_TIMEOUT,
                    max_clients: int = TCP_MAX_CLIENTS, stats: dict | None = None):
    """DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message has a two-byte length in front;
    several queries may come on one connection. A connection idle (or stalled mid-message) for
    ``idle_timeout`` seconds is closed, and at most ``max_clients`` are held: one beyond that is
    closed at once, so silent or slow clients cannot use up the server. Returns the server
    (close() stops it)."""
    active = [0]

    def count(what: str) -> None:
        if stats is not None:
            stats[what] = stats.get(what, 0) + 1

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if active[0] >= max_clients:
            count("tcp_refused")
            writer.close()
            return
        active[0] += 1
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), idle_timeout)
                data = await asyncio.wait_for(reader.readexactly(int.from_bytes(head, "big")), idle_timeout)
                reply = await handler(data)
                if reply is None:
                    break
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await asyncio.wait_for(writer.drain(), idle_timeout)
        except asyncio.TimeoutError:
            count("tcp_idle_closed")
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            active[0] -= 1
            writer.close()

    return await host.start_server(client, port=port, host=address)
