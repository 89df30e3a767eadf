"""UDP on a host (RFC 768, RFC 1122 4.1): checksum verification, port demultiplexing, ICMP port
unreachable when nothing listens, and ICMP errors passed back to the port that caused them."""

from __future__ import annotations

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


class UDPLayer:
    def __init__(self, host: "Host") -> None:
        self.host = host
        self.bindings: dict[int, UDPEndpoint] = {}

    def bind(self, port: int, endpoint: UDPEndpoint) -> int:
        """Bind ``endpoint`` to ``port`` (0: pick a free ephemeral port). Returns the port."""
        if port == 0:
            port = self.ephemeral_port()
        elif port in self.bindings:
            raise OSError(98, f"port {port} is already bound on {self.host.name}")
        self.bindings[port] = endpoint
        return port

    def unbind(self, port: int) -> None:
        self.bindings.pop(port, None)

    def ephemeral_port(self) -> int:
        rng = self.host.rng
        for _ in range(64):
            port = rng.randint(EPHEMERAL_LOW, EPHEMERAL_HIGH)
            if port not in self.bindings:
                return port
        for port in range(EPHEMERAL_LOW, EPHEMERAL_HIGH + 1):
            if port not in self.bindings:
                return port
        raise OSError(98, "no free ephemeral UDP port")

    def send(self, sport: int, dst: str, dport: int, payload: bytes, src: str | None = None,
             ttl: int | None = None, df: bool = False) -> str | None:
        host = self.host
        if src is None:
            route = host.routes.lookup_str(dst)
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
            host.drop("udp", "bad-checksum" if exc.reason == "bad-checksum" else f"malformed-{exc.reason}",
                      iface.name, packet=ip.encode())
            return
        endpoint = self.bindings.get(dgram.dport)
        if endpoint is None:
            host.drop("udp", "port-unreachable", iface.name, packet=ip.encode())
            if socket.inet_aton(ip.dst) not in host.ip.broadcasts:  # RFC 1122 3.2.2
                host.ip.icmp_error(ip.encode(), ICMPType.DEST_UNREACHABLE, UnreachCode.PORT, iface)
            return
        host.stats["udp.in_datagrams"] += 1
        endpoint.datagram_received(dgram.payload, (ip.src, dgram.sport), (ip.dst, dgram.dport), ip)

    def error(self, ip: IPv4, icmp: ICMP, quoted: IPv4) -> None:
        """An ICMP error quoting a datagram we sent: give it to the port that sent it."""
        if len(quoted.payload) < 4:
            return
        sport = int.from_bytes(quoted.payload[0:2], "big")
        endpoint = self.bindings.get(sport)
        if endpoint is not None:
            endpoint.error_received(icmp, ip)
