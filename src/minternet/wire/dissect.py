"""Decode a whole Ethernet frame, layer by layer, for display. Never raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from .arp import ARP
from .errors import MalformedPacket
from .ethernet import EtherType, Ethernet
from .icmp import ICMP
from .ipv4 import IPProto, IPv4
from .tcp import TCP
from .udp import UDP


@dataclass(slots=True)
class Dissection:
    """The layers decoded from a frame, outermost first, and the error that stopped decoding."""

    layers: list = field(default_factory=list)
    error: MalformedPacket | None = None

    def get(self, kind: type):
        for layer in self.layers:
            if isinstance(layer, kind):
                return layer
        return None

    def summary(self) -> str:
        """One line: the innermost meaningful layer, with the IP addresses when there are any."""
        if not self.layers:
            return f"malformed frame: {self.error}"
        ip = self.get(IPv4)
        inner = self.layers[-1]
        if ip is not None and inner is not ip:
            text = f"{ip.src} > {ip.dst} {inner.summary()} ttl={ip.ttl}"
            if ip.is_fragment:
                text += f" (fragment off={ip.frag_offset * 8}{' +MF' if ip.mf else ''})"
        else:
            text = inner.summary()
        if self.error is not None:
            text += f" [malformed: {self.error.layer} {self.error.reason}]"
        return text


def dissect(frame: bytes) -> Dissection:
    out = Dissection()
    try:
        eth = Ethernet.decode(frame)
        out.layers.append(eth)
        if eth.ethertype == EtherType.ARP:
            out.layers.append(ARP.decode(eth.payload))
        elif eth.ethertype == EtherType.IPV4:
            _dissect_ip_into(eth.payload, out.layers)
    except MalformedPacket as exc:
        out.error = exc
    return out


def dissect_ip(packet: bytes) -> list:
    """IPv4 and what it carries. A fragment carries no whole transport header to decode."""
    layers: list = []
    _dissect_ip_into(packet, layers)
    return layers


def _dissect_ip_into(packet: bytes, layers: list) -> None:
    # Appends each layer as soon as it decodes, so that when a transport header is malformed the
    # caller still has the IPv4 header that carried it.
    ip = IPv4.decode(packet)
    layers.append(ip)
    if ip.frag_offset or ip.mf:
        return
    if ip.proto == IPProto.ICMP:
        layers.append(ICMP.decode(ip.payload))
    elif ip.proto == IPProto.UDP:
        layers.append(UDP.decode(ip.payload, ip.src, ip.dst))
    elif ip.proto == IPProto.TCP:
        layers.append(TCP.decode(ip.payload, ip.src, ip.dst))
