"""The interfaces between layers, as typing.Protocols, and the transport's answer to IP."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..link.interface import Interface
    from ..wire.ipv4 import IPv4
    from .errors import TransportError
    from .route import RouteHandle


class Disposition(Enum):
    """What a transport did with a datagram IP handed it (gVisor's DeliverTransportPacket
    result). IP answers the sender with the ICMP error the disposition calls for."""

    DELIVERED = "delivered"
    PORT_UNREACHABLE = "port-unreachable"  # -> ICMP port unreachable (not for broadcasts)
    PROTOCOL_UNREACHABLE = "protocol-unreachable"  # -> ICMP protocol unreachable
    MALFORMED = "malformed"  # counted and traced by the transport; no answer
    CONSUMED = "consumed"  # handled without an endpoint (a RST answered a stray segment)


class TransportProtocol(Protocol):
    """A transport registered with IP for one protocol number."""

    def receive(self, ip: "IPv4", iface: "Interface") -> Disposition:
        """A datagram for us: deliver it, or say why not."""
        ...

    def error(self, err: "TransportError") -> bool:
        """A datagram we sent could not be delivered (ICMP error, or the next hop did not answer
        ARP). True if an endpoint of ours sent it (only then does IP learn a path MTU from it)."""
        ...


class NetworkSender(Protocol):
    """What a transport needs from IP to send: a route handle, and sending through it."""

    def route_to(self, dst: str, src: str | None = None) -> "RouteHandle | None": ...

    def send_via(self, route: "RouteHandle", proto: int, payload: bytes, src: str | None = None,
                 ttl: int | None = None, df: bool = False, tos: int = 0) -> str | None: ...


class LinkOutput(Protocol):
    """What IP needs from the link layer: hand it (interface, next hop, packet); it resolves the MAC
    and frames it."""

    def output(self, iface: "Interface", next_hop: bytes, packet: bytes) -> None: ...
