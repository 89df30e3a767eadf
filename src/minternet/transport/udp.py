"""UDP on a host (RFC 768, RFC 1122 4.1): checksum verification, port demultiplexing, ICMP port
unreachable when nothing listens, and ICMP errors passed back to the socket that caused them.

An endpoint binds a local (address, port), the address "0.0.0.0" meaning any of ours, and may be
connected to one remote (address, port). A datagram goes to the most specific match, as on Linux:
a connected endpoint beats a bound one, a specific address beats the wildcard.
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING, Callable, Protocol

from ..wire.errors import MalformedPacket
from ..wire.icmp import ICMP, ICMPType, UnreachCode
from ..wire.ipv4 import IPProto, IPv4
from ..wire.udp import UDP

if TYPE_CHECKING:
    from ..host import Host
    from ..link.interface import Interface

EPHEMERAL_LOW, EPHEMERAL_HIGH = 49152, 65535  # RFC 6335 6
ANY = "0.0.0.0"


class UDPEndpoint(Protocol):
    def datagram_received(self, data: bytes, src: tuple[str, int], dst: tuple[str, int], ip: IPv4) -> None: ...

    def error_received(self, icmp: ICMP, ip: IPv4) -> None: ...


class CallbackEndpoint:
    """A UDPEndpoint made of two plain functions."""

    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int], tuple[str, int], IPv4], None],
                 on_error: Callable[[ICMP, IPv4], None] | None = None) -> None:
        self._on_datagram = on_datagram
        self._on_error = on_error

    def datagram_received(self, data, src, dst, ip):  # noqa: ANN001
        self._on_datagram(data, src, dst, ip)

    def error_received(self, icmp, ip):  # noqa: ANN001
        if self._on_error is not None:
            self._on_error(icmp, ip)


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
    def __init__(self, host: "Host") -> None:
        self.host = host
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
                                  f"UDP port {port} on {self.host.name}")
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
        rng = self.host.rng
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
        host = self.host
        if src is None or src == ANY:
            route = host.routes.lookup(socket.inet_aton(dst))
            if route is None:
                host.drop("udp", "no-route", None, text=f"no route to {dst}")
                return "no-route"
            src = route.iface.address
        segment = UDP(sport, dport, payload).encode(src, dst)
        host.stats["udp.out_datagrams"] += 1
        return host.ip.send(dst, IPProto.UDP, segment, src=src, ttl=ttl, df=df)

    def receive(self, ip: IPv4, iface: "Interface") -> None:
        host = self.host
        try:
            dgram = UDP.decode(ip.payload, ip.src, ip.dst)
        except MalformedPacket as exc:
            host.stats["udp.in_errors"] += 1
            host.drop("udp", exc.drop_reason,
                      iface.name, packet=ip.encode())
            return
        binding = self.lookup(ip.src, dgram.sport, ip.dst, dgram.dport)
        if binding is None:
            host.stats["udp.no_ports"] += 1
            host.drop("udp", "port-unreachable", iface.name, packet=ip.encode())
            if socket.inet_aton(ip.dst) not in host.ip.broadcasts:  # RFC 1122 3.2.2: not for broadcasts
                host.ip.icmp_error(ip.encode(), ICMPType.DEST_UNREACHABLE, UnreachCode.PORT, iface)
            return
        host.stats["udp.in_datagrams"] += 1
        binding.endpoint.datagram_received(dgram.payload, (ip.src, dgram.sport), (ip.dst, dgram.dport), ip)

    def error(self, ip: IPv4, icmp: ICMP, quoted: IPv4) -> None:
        """An ICMP error quoting a datagram we sent: give it to the endpoint that sent it."""
        if len(quoted.payload) < 4:
            return
        sport = int.from_bytes(quoted.payload[0:2], "big")
        dport = int.from_bytes(quoted.payload[2:4], "big")
        # The quoted datagram went from us (quoted.src, sport) to (quoted.dst, dport).
        binding = self.lookup(quoted.dst, dport, quoted.src, sport)
        if binding is not None:
            binding.endpoint.error_received(icmp, ip)
