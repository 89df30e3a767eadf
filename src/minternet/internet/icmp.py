"""ICMP on a node: answering echo requests, raw-socket-like listeners (ping, traceroute), and
turning ICMP error messages into transport errors for the flow they quote."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Callable

from ..stack.errors import ErrorKind, TransportError
from ..stack.seams import Disposition
from ..wire.errors import MalformedPacket
from ..wire.icmp import ICMP, ICMPType
from ..wire.ipv4 import IPProto, IPv4

from .ip import flow_error

if TYPE_CHECKING:
    from ..link.interface import Interface
    from ..stack.observer import Observer
    from .ip import IPLayer

Listener = Callable[[IPv4, ICMP], None]


def type_name(t: int) -> str:
    try:
        return ICMPType(t).name.lower()
    except ValueError:
        return f"type{t}"


class ICMPService:
    """The transport registered with IP for protocol 1."""

    def __init__(self, obs: "Observer", ip: "IPLayer") -> None:
        self.obs = obs
        self.ip = ip
        self.echo_ignore = False  # like net.ipv4.icmp_echo_ignore_all
        self.listeners: list[Listener] = []  # raw-socket-like: ping, traceroute

    def receive(self, ip: IPv4, iface: "Interface") -> Disposition:
        obs = self.obs
        try:
            msg = ICMP.decode(ip.payload)
        except MalformedPacket as exc:
            obs.drop("icmp", exc.drop_reason, iface.name, packet=ip.encode())
            return Disposition.MALFORMED
        obs.stats[f"icmp.in.{type_name(msg.type)}"] += 1
        if msg.type == ICMPType.ECHO_REQUEST and not self.echo_ignore:
            # Like Linux (icmp_echo_ignore_broadcasts=1), no answer to a broadcast ping.
            if socket.inet_aton(ip.dst) not in self.ip.broadcasts:
                reply = ICMP.echo_reply(msg.ident, msg.seq, msg.payload)
                obs.stats["icmp.out.echo_reply"] += 1
                self.ip.send(ip.src, IPProto.ICMP, reply.encode(), src=ip.dst)
        for listener in list(self.listeners):
            listener(ip, msg)
        if msg.is_error:
            dst4 = socket.inet_aton(ip.dst)
            if dst4 in self.ip.broadcasts or dst4[0] >= 224:
                # Linux's icmp_rcv: an error sent to a broadcast or multicast address is dropped.
                obs.drop("icmp", "error-to-broadcast", iface.name, packet=ip.encode())
            else:
                self._error_up(ip, msg)
        return Disposition.DELIVERED

    def _error_up(self, ip: IPv4, msg: ICMP) -> None:
        """An ICMP error: the transport of the datagram it quotes is told (RFC 1122 3.2.2)."""
        classified = TransportError.classify(msg.type, msg.code)
        if classified is None:
            return
        kind, errno_, fatal = classified
        try:
            msg.quoted()  # checks the quoted header is there
        except MalformedPacket:
            return
        err = flow_error(bytes(msg.payload), kind, ip.src, msg.next_hop_mtu if kind is ErrorKind.FRAG_NEEDED else 0,
                         msg, errno_, fatal, msg.code)
        if err is not None:
            self.ip.transport_error(err)

    def error(self, err: TransportError) -> bool:
        """An error about ICMP we sent (an echo request). From a router it already reached the
        listeners as the ICMP message it is; found here (ARP gave up), the listeners hear the host
        unreachable Linux sends itself, from our own address, as ping prints it."""
        if err.local and err.icmp is not None:
            me = IPv4(err.src, err.src, IPProto.ICMP, err.icmp.encode())
            for listener in list(self.listeners):
                listener(me, err.icmp)
            return bool(self.listeners)
        return False
