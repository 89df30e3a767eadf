"""UDP on a node (RFC 768, RFC 1122 4.1): checksum verification, port demultiplexing (IP answers
"port unreachable" with ICMP when nothing listens), and transport errors passed back to the
endpoint that sent the datagram.

An endpoint binds a local (address, port), the address "0.0.0.0" meaning any of ours, and may be
connected to one remote (address, port). A datagram goes to the most specific match, as on Linux:
a connected endpoint beats a bound one, a specific address beats the wildcard.
"""

from __future__ import annotations

import errno
import random
from typing import TYPE_CHECKING, Callable, Protocol

from ..stack.errors import TransportError
from ..stack.seams import Disposition
from ..wire.errors import MalformedPacket
from ..wire.ipv4 import IPProto, IPv4
from ..wire.udp import UDP

if TYPE_CHECKING:
    from ..link.interface import Interface
    from ..stack.observer import Observer
    from ..stack.seams import NetworkSender

EPHEMERAL_LOW, EPHEMERAL_HIGH = 49152, 65535  # RFC 6335 6
ANY = "0.0.0.0"


class UDPEndpoint(Protocol):
    def datagram_received(self, data: bytes, src: tuple[str, int], dst: tuple[str, int], ip: IPv4) -> None: ...

    def error_received(self, err: TransportError) -> None: ...


class CallbackEndpoint:
    """A UDPEndpoint made of two plain functions."""

    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int], tuple[str, int], IPv4], None],
                 on_error: Callable[[TransportError], None] | None = None) -> None:
        self._on_datagram = on_datagram
        self._on_error = on_error

    def datagram_received(self, data, src, dst, ip):  # noqa: ANN001
        self._on_datagram(data, src, dst, ip)

    def error_received(self, err):  # noqa: ANN001
        if self._on_error is not None:
            self._on_error(err)


class Binding:
    """One endpoint's place in the port table."""

    __slots__ = ("endpoint", "addr", "port", "remote", "reuse")

    def __init__(self, endpoint: UDPEndpoint, addr: str, port: int, reuse: bool) -> None:
        self.endpoint = endpoint
        self.addr = addr
        self.port = port
        self.remote: tuple[str, int] | None = None
        self.reuse = reuse

    def matches(self, src: str, sport: int, dst: str) -> int:
        """-1 if this binding does not take the datagram, else how specific the match is."""
        score = 0
        if self.addr != ANY:
            if self.addr != dst:
                return -1
            score += 1
        if self.remote is not None:
            if self.remote != (src, sport):
                return -1
            score += 2
        return score


class UDPLayer:
    """The transport registered with IP for protocol 17."""

    def __init__(self, rng: random.Random, obs: "Observer", ip: "NetworkSender") -> None:
        self.rng = rng
        self.obs = obs
        self.ip = ip
        self.ports: dict[int, list[Binding]] = {}

    # -- the port table -------------------------------------------------------------------------
    def bind(self, port: int, endpoint: UDPEndpoint, addr: str = ANY, reuse: bool = False) -> int:
        """Bind ``endpoint`` to (addr, port); port 0 picks a free ephemeral port. Returns the port.
        Raises OSError(EADDRINUSE) when the place is taken (unless both sides asked to reuse)."""
        if port == 0:
            port = self.ephemeral_port(addr)
        else:
            for b in self.ports.get(port, ()):
                if (b.addr == ANY or addr == ANY or b.addr == addr) and not (b.reuse and reuse):
                    raise OSError(errno.EADDRINUSE, f"[Errno {errno.EADDRINUSE}] Address already in use: "
                                  f"UDP port {port} on {self.obs.name}")
        self.ports.setdefault(port, []).append(Binding(endpoint, addr, port, reuse))
        return port

    def binding(self, endpoint: UDPEndpoint) -> Binding | None:
        for bindings in self.ports.values():
            for b in bindings:
                if b.endpoint is endpoint:
                    return b
        return None

    def unbind(self, port: int, endpoint: UDPEndpoint | None = None) -> None:
        bindings = self.ports.get(port)
        if not bindings:
            return
        kept = [b for b in bindings if endpoint is not None and b.endpoint is not endpoint]
        if kept:
            self.ports[port] = kept
        else:
            del self.ports[port]

    def ephemeral_port(self, addr: str = ANY) -> int:
        """A free port from 49152-65535, chosen at random (RFC 6056: unpredictable ports make
        blind spoofing harder)."""
        rng = self.rng
        for _ in range(64):
            port = rng.randint(EPHEMERAL_LOW, EPHEMERAL_HIGH)
            if port not in self.ports:
                return port
        for port in range(EPHEMERAL_LOW, EPHEMERAL_HIGH + 1):
            if port not in self.ports:
                return port
        raise OSError(errno.EADDRINUSE, "no free ephemeral UDP port")

    @property
    def bindings(self) -> dict[int, UDPEndpoint]:
        """port -> the first endpoint bound there (a simple view for display and tests)."""
        return {port: bs[0].endpoint for port, bs in self.ports.items() if bs}

    def lookup(self, src: str, sport: int, dst: str, dport: int) -> Binding | None:
        best, best_score = None, -1
        for b in self.ports.get(dport, ()):
            score = b.matches(src, sport, dst)
            if score > best_score:
                best, best_score = b, score
        return best

    # -- datagrams ------------------------------------------------------------------------------
    def send(self, sport: int, dst: str, dport: int, payload: bytes, src: str | None = None,
             ttl: int | None = None, df: bool = False) -> str | None:
        """Send a datagram. Returns None, or why it could not leave ("no-route", "frag-needed")."""
        obs = self.obs
        route = self.ip.route_to(dst, None if src is None or src == ANY else src)
        if route is None:
            obs.drop("udp", "no-route", None, text=f"no route to {dst}")
            return "no-route"
        src = route.source
        segment = UDP(sport, dport, payload).encode(src, dst)
        obs.stats["udp.out_datagrams"] += 1
        return self.ip.send_via(route, IPProto.UDP, segment, src=src, ttl=ttl, df=df)

    def receive(self, ip: IPv4, iface: "Interface") -> Disposition:
        obs = self.obs
        try:
            dgram = UDP.decode(ip.payload, ip.src, ip.dst)
        except MalformedPacket as exc:
            obs.stats["udp.in_errors"] += 1
            obs.drop("udp", exc.drop_reason, iface.name, packet=ip.encode())
            return Disposition.MALFORMED
        binding = self.lookup(ip.src, dgram.sport, ip.dst, dgram.dport)
        if binding is None:
            obs.stats["udp.no_ports"] += 1
            obs.drop("udp", "port-unreachable", iface.name, packet=ip.encode())
            return Disposition.PORT_UNREACHABLE
        obs.stats["udp.in_datagrams"] += 1
        binding.endpoint.datagram_received(dgram.payload, (ip.src, dgram.sport), (ip.dst, dgram.dport), ip)
        return Disposition.DELIVERED

    def error(self, err: TransportError) -> bool:
        """An error about a datagram we sent from (err.src, err.sport) to (err.dst, err.dport):
        give it to the endpoint that sent it. True if there was one."""
        binding = self.lookup(err.dst, err.dport, err.src, err.sport)
        if binding is None:
            return False
        binding.endpoint.error_received(err)
        return True
