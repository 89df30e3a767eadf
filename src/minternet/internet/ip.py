"""IPv4 on one host: sending, receiving, forwarding (with TTL and ICMP errors), fragmenting.

Forwarding has a fast path that never builds packet objects: it reads the header fields from the
bytes, decrements the TTL, patches the header checksum incrementally (RFC 1624), rewrites the two
MAC addresses and hands the bytes on. Anything unusual (options, fragmentation, errors) takes the
slow path through the codecs.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from ..wire.checksum import incremental_update, ones_sum
from ..wire.errors import MalformedPacket
from ..wire.ethernet import BROADCAST
from ..wire.icmp import ERROR_TYPES, ICMP, ICMPType, TimeExceededCode, UnreachCode
from ..wire.ipv4 import IPFlags, IPProto, IPv4
from .fragment import Reassembler, fragment
from .routing import Route

if TYPE_CHECKING:
    from ..host import Host
    from ..link.interface import Interface

LIMITED_BROADCAST = b"\xff\xff\xff\xff"
_MF, _DF = int(IPFlags.MF), int(IPFlags.DF)  # plain ints: IntFlag's & is a Python call per packet
_inet_aton = socket.inet_aton
_inet_ntoa = socket.inet_ntoa


class IPLayer:
    def __init__(self, host: "Host", default_ttl: int = 64) -> None:
        self.host = host
        self.default_ttl = default_ttl
        self.routes = host.routes
        self.reassembler = Reassembler(host)
        self.reassembler.on_timeout = self._reassembly_timed_out
        self.local: set[bytes] = set()  # addresses delivered locally (ours, broadcasts)
        self.broadcasts: set[bytes] = {LIMITED_BROADCAST}
        self._ident = host.rng.randrange(65536)

    def update_addresses(self) -> None:
        self.broadcasts = {LIMITED_BROADCAST}
        self.local = {LIMITED_BROADCAST}
        for iface in self.host.interfaces.values():
            if iface.ip is not None:
                self.local.add(iface.ip)
                if iface.prefixlen < 31:
                    self.local.add(iface.broadcast)
                    self.broadcasts.add(iface.broadcast)

    def next_ident(self) -> int:
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    # -- sending ----------------------------------------------------------------------------------
    def send(self, dst: str, proto: int, payload: bytes, src: str | None = None, ttl: int | None = None,
             df: bool = False, tos: int = 0) -> str | None:
        """Send a datagram from this host. Returns None when it left, or the reason it could not
        (``"no-route"``, ``"frag-needed"``, ``"node-down"``), so sockets can raise the right errno."""
        host = self.host
        if not host.up:
            return "node-down"
        dst4 = _inet_aton(dst)
        route = self.routes.lookup(dst4)
        if route is None:
            host.drop("ip", "no-route", None, text=f"no route to {dst}")
            return "no-route"
        if src is None:
            src = route.iface.address
        ip = IPv4(src, dst, proto, payload, self.default_ttl if ttl is None else ttl, tos,
                  self.next_ident(), _DF if df else 0)
        host.stats["ip.out_requests"] += 1
        if ip.total_length > route.iface.mtu and df and \
                not (proto == IPProto.TCP and ip.total_length <= route.iface.tso_max):  # (TSO: the device cuts it)
            host.drop("ip", "frag-needed", route.iface.name,
                      text=f"{ip.total_length} bytes > MTU {route.iface.mtu} with DF set")
            return "frag-needed"
        packet = ip.encode()
        if host.tracer.enabled:
            host.tracer.emit(host.name, route.iface.name, "ip", "send", packet=packet)
        if dst4 in self.local and dst4 not in self.broadcasts:
            # Our own address: loop back, as the kernel does, without touching the wire.
            host.clock.call_later(0, self._deliver, route.iface, packet)
            return None
        self._output(ip, packet, route, dst4)
        return None

    def _output(self, ip: IPv4 | None, packet: bytes, route: Route, dst4: bytes) -> None:
        iface = route.iface
        next_hop = route.gateway or dst4
        if len(packet) <= iface.mtu or (packet[9] == IPProto.TCP and len(packet) <= iface.tso_max):
            self._to_link(iface, next_hop, packet)  # (a TCP super-segment: the device cuts it up)
            return
        if ip is None:
            ip = IPv4.decode(packet, verify=False)
        frags = fragment(ip, iface.mtu)
        self.host.stats["ip.fragments_created"] += len(frags)
        self.host.stats["ip.fragmented"] += 1
        for f in frags:
            raw = f.encode()
            if self.host.tracer.enabled:
                self.host.tracer.emit(self.host.name, iface.name, "ip", "fragment", packet=raw)
            self._to_link(iface, next_hop, raw)

    def _to_link(self, iface: "Interface", next_hop: bytes, packet: bytes) -> None:
        if next_hop in self.broadcasts:
            self.transmit_to(iface, BROADCAST, packet)
            return
        mac = self.host.arp.lookup(next_hop)
        if mac is None:
            self.host.arp.resolve_and_send(iface, next_hop, packet)
            return
        self.transmit_to(iface, mac, packet)

    def transmit_to(self, iface: "Interface", mac: bytes, packet: bytes) -> None:
        iface.transmit(mac + iface.eth_header_ip + packet)

    # -- receiving --------------------------------------------------------------------------------
    def receive(self, iface: "Interface", frame: bytes) -> None:
        """An Ethernet frame carrying IPv4 arrived on ``iface``."""
        host = self.host
        n = len(frame)
        if n < 34 or frame[14] != 0x45:
            self._receive_slow(iface, frame)  # short, options, or not IPv4 at all
            return
        total = (frame[16] << 8) | frame[17]
        if total < 20 or total + 14 > n:
            host.drop("ip", "malformed-bad-length", iface.name, frame=frame)
            return
        if ones_sum(frame[14:34]) != 0xFFFF:
            host.drop("ip", "bad-checksum", iface.name, frame=frame)
            return
        host.stats["ip.received"] += 1
        dst = frame[30:34]
        if dst in self.local:
            self._deliver(iface, frame[14:14 + total])
            return
        if not host.forwarding:
            host.drop("ip", "not-for-us", iface.name, frame=frame)
            return
        ttl = frame[22]
        if ttl <= 1:
            host.drop("ip", "ttl-exceeded", iface.name, frame=frame)
            self.icmp_error(frame[14:14 + total], ICMPType.TIME_EXCEEDED, TimeExceededCode.TTL, iface)
            return
        route = self.routes.lookup(dst)
        if route is None:
            host.drop("ip", "no-route", iface.name, frame=frame)
            self.icmp_error(frame[14:14 + total], ICMPType.DEST_UNREACHABLE, UnreachCode.NET, iface)
            return
        out = route.iface
        old = (ttl << 8) | frame[23]
        csum = incremental_update((frame[24] << 8) | frame[25], old, old - 0x100)
        packet = (frame[14:22] + bytes((ttl - 1, frame[23], csum >> 8, csum & 0xFF))
                  + frame[26:14 + total])
        if total > out.mtu:
            self._forward_too_big(iface, route, packet, frame[14:14 + total])
            return
        host.stats["ip.forwarded"] += 1
        if host.tracer.enabled:
            host.tracer.emit(host.name, out.name, "ip", "forward", packet=packet)
        next_hop = route.gateway or dst
        mac = host.arp.lookup(next_hop)
        if mac is None:
            host.arp.resolve_and_send(out, next_hop, packet)
            return
        out.transmit(mac + out.eth_header_ip + packet)

    def _receive_slow(self, iface: "Interface", frame: bytes) -> None:
        host = self.host
        try:
            ip = IPv4.decode(memoryview(frame)[14:])
        except MalformedPacket as exc:
            host.drop("ip", exc.drop_reason,
                      iface.name, frame=frame)
            return
        host.stats["ip.received"] += 1
        original = frame[14:14 + ip.total_length]
        dst4 = _inet_aton(ip.dst)
        if dst4 in self.local:
            self._deliver(iface, original)
            return
        if not host.forwarding:
            host.drop("ip", "not-for-us", iface.name, frame=frame)
            return
        if ip.ttl <= 1:
            host.drop("ip", "ttl-exceeded", iface.name, frame=frame)
            self.icmp_error(original, ICMPType.TIME_EXCEEDED, TimeExceededCode.TTL, iface)
            return
        route = self.routes.lookup(dst4)
        if route is None:
            host.drop("ip", "no-route", iface.name, frame=frame)
            self.icmp_error(original, ICMPType.DEST_UNREACHABLE, UnreachCode.NET, iface)
            return
        fwd = ip._replace(ttl=ip.ttl - 1)
        packet = fwd.encode()
        if len(packet) > route.iface.mtu:
            self._forward_too_big(iface, route, packet, original, fwd)
            return
        host.stats["ip.forwarded"] += 1
        if host.tracer.enabled:
            host.tracer.emit(host.name, route.iface.name, "ip", "forward", packet=packet)
        self._to_link(route.iface, route.gateway or dst4, packet)

    def _forward_too_big(self, in_iface: "Interface", route: Route, packet: bytes, original: bytes,
                         ip: IPv4 | None = None) -> None:
        host = self.host
        if packet[6] & 0x40:  # DF: RFC 1191 path MTU discovery
            host.drop("ip", "frag-needed", route.iface.name, packet=packet)
            self.icmp_error(original, ICMPType.DEST_UNREACHABLE, UnreachCode.FRAG_NEEDED, in_iface,
                            mtu=route.iface.mtu)
            return
        host.stats["ip.forwarded"] += 1
        if host.tracer.enabled:
            host.tracer.emit(host.name, route.iface.name, "ip", "forward", packet=packet)
        self._output(ip, packet, route, packet[16:20])

    def _deliver(self, iface: "Interface", packet: bytes) -> None:
        host = self.host
        if not host.up:
            return
        try:
            ip = IPv4.decode(packet, verify=False)
        except MalformedPacket as exc:  # only reachable for looped-back bytes we built ourselves
            host.drop("ip", exc.drop_reason, iface.name, packet=packet)
            return
        if ip.flags & _MF or ip.frag_offset:
            if host.tracer.enabled:
                host.tracer.emit(host.name, iface.name, "ip", "recv-fragment", packet=packet)
            whole = self.reassembler.add(ip, iface.name)
            if whole is None:
                return
            ip = whole
            if host.tracer.enabled:
                host.tracer.emit(host.name, iface.name, "ip", "reassembled",
                                 text=f"{ip.src} > {ip.dst} {ip.total_length} bytes reassembled")
        host.stats["ip.delivered"] += 1
        if host.tracer.enabled:
            host.tracer.emit(host.name, iface.name, "ip", "deliver", packet=packet if ip.frag_offset == 0 and not ip.mf and len(packet) == ip.total_length else ip.encode())
        handler = host.protocols.get(ip.proto)
        if handler is None:
            host.drop("ip", "protocol-unreachable", iface.name, packet=packet)
            self.icmp_error(ip.encode(), ICMPType.DEST_UNREACHABLE, UnreachCode.PROTOCOL, iface)
            return
        handler(ip, iface)

    # -- ICMP errors ------------------------------------------------------------------------------
    def icmp_error(self, original: bytes, type_: int, code: int, iface: "Interface | None" = None,
                   mtu: int = 0) -> None:
        """Tell the sender of ``original`` (an IPv4 datagram's bytes) what went wrong.

        RFC 1122 3.2.2 / RFC 1812 4.3.2.7: never about an ICMP error, a non-first fragment, or a
        datagram from or to a broadcast or unspecified address."""
        host = self.host
        if len(original) < 20:
            return
        src, dst = original[12:16], original[16:20]
        if src == b"\x00\x00\x00\x00" or src in self.broadcasts or src[0] >= 224 or dst in self.broadcasts:
            return
        if ((original[6] & 0x1F) << 8 | original[7]) != 0:
            return
        hl = (original[0] & 0x0F) * 4
        if original[9] == IPProto.ICMP and len(original) > hl and original[hl] in ERROR_TYPES:
            return
        if type_ == ICMPType.TIME_EXCEEDED:
            msg = ICMP.time_exceeded(code, original)
        else:
            msg = ICMP.dest_unreachable(code, original, mtu)
        # The source is the address of the interface the datagram came in on, so that traceroute
        # names the router's address on the path.
        source = iface.address if iface is not None and iface.address else None
        host.stats[f"icmp.out.{ICMPType(type_).name.lower()}"] += 1
        self.send(_inet_ntoa(src), IPProto.ICMP, msg.encode(), src=source)

    def unreachable_after_arp(self, packet: bytes) -> None:
        """ARP gave up on a next hop: tell the datagram's sender (unless it is us)."""
        if packet[12:16] not in self.local:
            self.icmp_error(packet, ICMPType.DEST_UNREACHABLE, UnreachCode.HOST)
        else:
            self.host.notify_local_unreachable(packet)

    def _reassembly_timed_out(self, first: IPv4, iface: str) -> None:
        self.icmp_error(first.encode(), ICMPType.TIME_EXCEEDED, TimeExceededCode.REASSEMBLY,
                        self.host.interfaces.get(iface))
