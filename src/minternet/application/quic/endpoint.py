"""aioquic's sans-IO QUIC on a host's UDP socket and clock.

aioquic's own ``connect()``/``serve()`` open operating-system sockets and read the asyncio loop's
float clock; here the protocol objects are built directly. A :class:`QuicEndpoint` is the asyncio
DatagramProtocol of one UDP socket (``host.create_datagram_endpoint``); each QUIC connection on it
is a :class:`QuicPeer`, which feeds datagrams to its ``QuicConnection``, sends what it produces and
wakes it at its timer through the host's clock, in integer nanoseconds. A server endpoint demuxes
datagrams by destination connection ID and creates a connection for each new client Initial, as
aioquic's ``QuicServer`` does.

In a simulation every call into aioquic runs with a seeded source (:mod:`.determinism`) drawn from
the host's random generator, so a run with the same seed puts the same bytes on the wire.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, Callable

from aioquic.buffer import Buffer
from aioquic.quic import events
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.packet import QuicPacketType, encode_quic_version_negotiation, pull_quic_header

from ...observe.keylog import KeyLog
from ...runtime import NS_PER_S, Timer
from . import determinism

# RFC 9000 14.1: a client's Initial datagram is at least 1200 bytes; smaller ones open nothing.
MIN_INITIAL_DATAGRAM = 1200

__all__ = ["KeyLog", "QuicEndpoint", "QuicPeer", "describe_event", "ns_at_or_after"]

EventHandler = Callable[["QuicPeer", events.QuicEvent], None]


def ns_at_or_after(t: float) -> int:
    """The smallest integer nanosecond whose float seconds (``ns / 1e9``) is >= ``t``.

    aioquic compares float deadlines (``ack_at <= now``, ``now >= loss_at``) in handle_timer and
    datagrams_to_send: woken at ``ceil(t * 1e9)`` ns, whose ``ns / 1e9`` can round a hair below
    ``t``, it does nothing and asks for the same timer again, for ever."""
    ns = math.ceil(t * NS_PER_S)
    while ns / NS_PER_S < t:
        ns += 1
    return ns


class QuicPeer:
    """One QUIC connection on an endpoint: datagrams in, datagrams out, timer, events."""

    def __init__(self, endpoint: "QuicEndpoint", quic: QuicConnection, addr: tuple[str, int]) -> None:
        self.endpoint = endpoint
        self.quic = quic
        self.addr = addr
        self.on_event: EventHandler | None = None
        self.closed = False
        self.terminated: events.ConnectionTerminated | None = None
        self._clock = endpoint.clock
        self._timer = Timer(self._clock, self._timer_fired)

    @property
    def now(self) -> float:
        return self._clock.now / NS_PER_S

    def _call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        return determinism.call(self.endpoint.source, fn, *args, **kw)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._call(self.quic.receive_datagram, data, addr, now=self.now)
        self.process()

    def _timer_fired(self) -> None:
        self._call(self.quic.handle_timer, now=self.now)
        self.process()

    def process(self) -> None:
        """Hand aioquic's events to the handler, then send what is due and re-arm the timer.
        Call it after anything that gives the connection work (a request sent, say)."""
        quic = self.quic
        while (event := quic.next_event()) is not None:
            self.endpoint._event(self, event)
            if self.on_event is not None:
                self.on_event(self, event)
        self.transmit()

    def transmit(self) -> None:
        if self.closed:
            return
        transport = self.endpoint.transport
        for data, addr in self._call(self.quic.datagrams_to_send, now=self.now):
            if transport is not None and not transport.is_closing():
                transport.sendto(data, addr)
        deadline = self.quic.get_timer()
        if deadline is None:
            self._timer.cancel()
        else:
            self._timer.arm(max(self._clock.now, ns_at_or_after(deadline)))
        if self.terminated is not None:
            self._finish()

    def close(self, error_code: int = 0, reason: str = "") -> None:
        """Close the connection (CONNECTION_CLOSE is sent now)."""
        if not self.closed:
            self.quic.close(error_code=error_code, reason_phrase=reason)
            self.transmit()

    def _finish(self) -> None:
        self.closed = True
        self._timer.cancel()
        self.endpoint._forget(self)


class QuicEndpoint(asyncio.DatagramProtocol):
    """The QUIC connections of one UDP socket: a client's one, or a server's many.

    ``server_configuration`` makes it a server: each new client Initial opens a connection, and
    ``on_connection(peer)`` is called for it (set ``peer.on_event`` there). ``deterministic``:
    seed aioquic from the host's random source and clock (simulations; off for the real world).
    """

    def __init__(self, host: Any, *, server_configuration: QuicConfiguration | None = None,
                 on_connection: Callable[[QuicPeer], None] | None = None, deterministic: bool = True,
                 session_tickets: dict | None = None) -> None:
        self.host = host
        self.clock = host.clock
        self.server_configuration = server_configuration
        self.on_connection = on_connection
        self.transport: asyncio.DatagramTransport | None = None
        self.peers: list[QuicPeer] = []
        self._by_cid: dict[bytes, QuicPeer] = {}
        self._tickets = session_tickets if session_tickets is not None else {}
        self.dropped = 0
        self.on_error: Callable[[Exception], None] | None = None
        self.source: determinism.Source | None = None
        if deterministic:
            clock = self.clock
            self.source = determinism.Source(host.rng.getrandbits(64), lambda: clock.now / NS_PER_S)

    # -- asyncio DatagramProtocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def error_received(self, exc: Exception) -> None:
        # QUIC's loss recovery deals with what an ICMP error would tell; a client that wants to
        # give up early (curl --http3 falling back to TCP) may listen.
        if self.on_error is not None:
            self.on_error(exc)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.server_configuration is None:
            for peer in self.peers:  # a client endpoint has one connection
                peer.datagram_received(data, addr)
            return
        cid_len = self.server_configuration.connection_id_length
        try:
            header = pull_quic_header(Buffer(data=data), host_cid_length=cid_len)
        except ValueError:
            self._drop("quic-malformed")
            return
        supported = self.server_configuration.supported_versions
        if (header.packet_type != QuicPacketType.VERSION_NEGOTIATION and header.version is not None
                and header.version not in supported):
            if self.transport is not None:  # RFC 9000 6.1
                self.transport.sendto(encode_quic_version_negotiation(
                    source_cid=header.destination_cid, destination_cid=header.source_cid,
                    supported_versions=supported), addr)
            return
        peer = self._by_cid.get(header.destination_cid)
        if peer is None:
            if header.packet_type != QuicPacketType.INITIAL or len(data) < MIN_INITIAL_DATAGRAM:
                self._drop("quic-unknown-connection")
                return
            peer = self._accept(header.destination_cid, addr)
        peer.datagram_received(data, addr)

    # -- connections ----------------------------------------------------------------------------
    def connect(self, configuration: QuicConfiguration, addr: tuple[str, int],
                session_ticket_handler: Callable[[Any], None] | None = None,
                connection_class: Callable[..., QuicConnection] = QuicConnection) -> QuicPeer:
        """Open a client connection to ``addr``; nothing is sent until ``peer.process()`` (so
        requests queued first can go out as 0-RTT data with a session ticket).
        ``connection_class``: a QuicConnection subclass (one that tells its handshake, say)."""
        quic = determinism.call(self.source, connection_class, configuration=configuration,
                                session_ticket_handler=session_ticket_handler)
        peer = QuicPeer(self, quic, addr)
        self.peers.append(peer)
        determinism.call(self.source, quic.connect, addr, now=peer.now)
        return peer

    def _accept(self, original_dcid: bytes, addr: tuple[str, int]) -> QuicPeer:
        tickets = self._tickets
        quic = determinism.call(
            self.source, QuicConnection, configuration=self.server_configuration,
            original_destination_connection_id=original_dcid,
            session_ticket_fetcher=tickets.pop,  # RFC 8446 8.1: a ticket is good for one use
            session_ticket_handler=lambda ticket: tickets.__setitem__(ticket.ticket, ticket))
        peer = QuicPeer(self, quic, addr)
        self.peers.append(peer)
        self._by_cid[original_dcid] = peer
        self._by_cid[quic.host_cid] = peer
        if self.on_connection is not None:
            self.on_connection(peer)
        return peer

    def _event(self, peer: QuicPeer, event: events.QuicEvent) -> None:
        if isinstance(event, events.ConnectionIdIssued):
            self._by_cid[event.connection_id] = peer
        elif isinstance(event, events.ConnectionIdRetired):
            if self._by_cid.get(event.connection_id) is peer:
                del self._by_cid[event.connection_id]
        elif isinstance(event, events.ConnectionTerminated):
            peer.terminated = event
        tracer = self.host.tracer
        if tracer.enabled and isinstance(event, (events.HandshakeCompleted, events.ConnectionTerminated)):
            tracer.emit(self.host.name, None, "quic", "handshake" if isinstance(event, events.HandshakeCompleted)
                        else "close", text=describe_event(event))

    def _forget(self, peer: QuicPeer) -> None:
        for cid in [c for c, p in self._by_cid.items() if p is peer]:
            del self._by_cid[cid]
        if peer in self.peers:
            self.peers.remove(peer)

    def _drop(self, reason: str) -> None:
        self.dropped += 1
        self.host.obs.drop("quic", reason)

    def close(self) -> None:
        """Close every connection and the socket."""
        for peer in list(self.peers):
            peer.close()
        if self.transport is not None:
            self.transport.close()


def describe_event(event: events.QuicEvent) -> str:
    """One line for the trace / curl -v."""
    if isinstance(event, events.HandshakeCompleted):
        extra = ""
        if event.session_resumed:
            extra = ", resumed" + (", 0-RTT accepted" if event.early_data_accepted else ", 0-RTT not accepted")
        return f"QUIC handshake complete, ALPN {event.alpn_protocol}{extra}"
    if isinstance(event, events.ConnectionTerminated):
        return f"QUIC connection closed, error {event.error_code:#x} {event.reason_phrase!r}"
    return type(event).__name__
