"""ICMP on a host: answering echo requests and passing errors to whoever is listening."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Callable

from ..wire.errors import MalformedPacket
from ..wire.icmp import ICMP, ICMPType
from ..wire.ipv4 import IPProto, IPv4

if TYPE_CHECKING:
    from ..host import Host
    from ..link.interface import Interface

Listener = Callable[[IPv4, ICMP], None]


def type_name(t: int) -> str:
    try:
        return ICMPType(t).name.lower()
    except ValueError:
        return f"type{t}"


class ICMPService:
    def __init__(self, host: "Host") -> None:
        self.host = host
        self.echo_ignore = False  # like net.ipv4.icmp_echo_ignore_all
        self.listeners: list[Listener] = []  # raw-socket-like: ping, traceroute

    def receive(self, ip: IPv4, iface: "Interface") -> None:
        host = self.host
        try:
            msg = ICMP.decode(ip.payload)
        except MalformedPacket as exc:
            host.drop("icmp", exc.drop_reason,
                      iface.name, packet=ip.encode())
            return
        host.stats[f"icmp.in.{type_name(msg.type)}"] += 1
        if msg.type == ICMPType.ECHO_REQUEST and not self.echo_ignore:
            # Like Linux (icmp_echo_ignore_broadcasts=1), no answer to a broadcast ping.
            if socket.inet_aton(ip.dst) not in host.ip.broadcasts:
                reply = ICMP.echo_reply(msg.ident, msg.seq, msg.payload)
                host.stats["icmp.out.echo_reply"] += 1
                host.ip.send(ip.src, IPProto.ICMP, reply.encode(), src=ip.dst)
        for listener in list(self.listeners):
            listener(ip, msg)
        if msg.is_error:
            host.transport_error(ip, msg)
