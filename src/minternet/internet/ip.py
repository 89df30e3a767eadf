"""IPv4 on one node: sending through route handles, receiving, forwarding (with TTL and ICMP
errors), fragmenting, dispatching to the transports and sending the ICMP errors their
dispositions call for, and passing errors back up to the transport of the flow they concern.

Forwarding has a fast path that never builds packet objects: it reads the header fields from the
bytes, decrements the TTL, patches the header checksum incrementally (RFC 1624) and hands the
bytes to the link layer. Anything unusual (options, fragmentation, errors) takes the slow path
through the codecs.
"""

from __future__ import annotations

import dataclasses
import random
import socket
from typing import TYPE_CHECKING

from ..runtime import NS_PER_S, Clock
from ..stack.errors import ErrorKind, TransportError
from ..stack.route import RouteHandle
from ..stack.seams import Disposition, LinkOutput, TransportProtocol
from ..wire.checksum import incremental_update, ones_sum
from ..wire.errors import MalformedPacket
from ..wire.fields import (ETH_DST_FIRST, IPV4_CHECKSUM, IPV4_DF_BIT, IPV4_DST, IPV4_FLAGS, IPV4_FRAG_LOW, IPV4_LENGTH, IPV4_MIN_HEADER_LEN,
                           IPV4_PROTOCOL, IPV4_SRC, IPV4_TTL, IPV4_VER_IHL, IPV4_VER_IHL_PLAIN)
from ..wire.icmp import ERROR_TYPES, ICMP, ICMPType, TimeExceededCode, UnreachCode
from ..wire.ipv4 import IPFlags, IPProto, IPv4
from .fragment import Reassembler, fragment
from .routing import Route, RoutingTable

if TYPE_CHECKING:
    from ..link.interface import Interface
    from ..stack.observer import Observer

LIMITED_BROADCAST = b"\xff\xff\xff\xff"
_MF, _DF = int(IPFlags.MF), int(IPFlags.DF)  # plain ints: IntFlag's & is a Python call per packet
_TCP = int(IPProto.TCP)
# The fast path reads single bytes: the high and low bytes of the two-byte fields, as plain ints.
_LEN_HI, _LEN_LO = IPV4_LENGTH.start, IPV4_LENGTH.start + 1
_CSUM_HI, _CSUM_LO = IPV4_CHECKSUM.start, IPV4_CHECKSUM.start + 1
_SRC_FIRST, _DST_FIRST = IPV4_SRC.start, IPV4_DST.start  # 127/8: the first byte
_inet_aton = socket.inet_aton
_inet_ntoa = socket.inet_ntoa
PMTU_EXPIRES = 600 * NS_PER_S  # a learned path MTU is forgotten after 10 minutes (Linux's mtu_expires)
MIN_PMTU = 552  # Linux's min_pmtu: a frag-needed below it is taken as this
PMTU_MAX_ENTRIES = 4096  # the path MTU cache is bounded, as Linux's exception buckets are


class IPLayer:
    """The internet layer of one node (a router when ``forwarding``)."""

    def __init__(self, clock: Clock, rng: random.Random, obs: "Observer", routes: RoutingTable,
                 interfaces: "dict[str, Interface]", link: LinkOutput, forwarding: bool = False,
                 default_ttl: int = 64) -> None:
        self.clock = clock
        self.obs = obs
        self.routes = routes
        self.interfaces = interfaces
        self.link = link
        self.forwarding = forwarding
        self.default_ttl = default_ttl
        self.transports: dict[int, TransportProtocol] = {}
        self.reassembler = Reassembler(clock, obs, on_timeout=self._reassembly_timed_out)
        self.local: set[bytes] = set()  # addresses delivered locally (ours, broadcasts)
        self.broadcasts: set[bytes] = {LIMITED_BROADCAST}
        # destination -> (path MTU, expires at, locked: reported below min_pmtu, so sent without DF)
        self.pmtu: dict[bytes, tuple[int, int, bool]] = {}
        self._ident = rng.randrange(65536)
        # The loopback interface (lo, 127.0.0.1/8), set by the host. As in Linux's local routing
        # table, all of 127.0.0.0/8 goes to it ahead of the main table, and nothing sent there
        # touches a link.
        self.loopback: "Interface | None" = None

    def register(self, proto: int, transport: TransportProtocol) -> None:
        """Deliver datagrams of protocol number ``proto`` (and errors about them) to ``transport``."""
        self.transports[proto] = transport

    def update_addresses(self) -> None:
        self.broadcasts = {LIMITED_BROADCAST}
        self.local = {LIMITED_BROADCAST}
        for iface in self.interfaces.values():
            if iface.ip is not None:
                self.local.add(iface.ip)
                if iface.prefixlen < 31:
                    self.local.add(iface.broadcast)
                    self.broadcasts.add(iface.broadcast)

    def next_ident(self) -> int:
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    # -- routes for transports --------------------------------------------------------------------
    def route_to(self, dst: str, src: str | None = None) -> RouteHandle | None:
        """A handle for sending to ``dst``: None when there is no route."""
        dst4 = _inet_aton(dst)
        lo = self.loopback
        if dst4[0] == 127 and lo is not None:
            return RouteHandle(lo, dst4, src or lo.address or "127.0.0.1", lo.mtu, 0, dst4, self.routes.generation)
        route = self.routes.lookup(dst4)
        if route is None:
            return None
        iface = route.iface
        mtu = iface.mtu
        locked = False
        learned = self.pmtu.get(dst4)
        if learned is not None:
            if learned[1] > self.clock.now:
                if learned[0] < mtu:
                    mtu, locked = learned[0], learned[2]
            else:
                del self.pmtu[dst4]
        return RouteHandle(iface, route.gateway or dst4, src or iface.address or "0.0.0.0", mtu,
                           iface.tso_max, dst4, self.routes.generation, locked)

    def path_mtu_for(self, dst: str, mtu: int) -> int:
        """The path MTU to ``dst`` once a router has said ``mtu`` (RFC 1191), as Linux's
        __ip_rt_update_pmtu computes it: never below min_pmtu, never above the interface's MTU
        or a path MTU already learned (a frag-needed cannot raise it)."""
        mtu = max(mtu, MIN_PMTU) if mtu else MIN_PMTU
        dst4 = _inet_aton(dst)
        route = self.routes.lookup(dst4)
        if route is not None:
            mtu = min(mtu, route.iface.mtu)
        learned = self.pmtu.get(dst4)
        if learned is not None and learned[1] > self.clock.now:
            mtu = min(mtu, learned[0])
        return mtu

    def _remember_pmtu(self, dst: str, mtu: int, locked: bool = False) -> None:
        pmtu = self.pmtu
        dst4 = _inet_aton(dst)
        if dst4 not in pmtu and len(pmtu) >= PMTU_MAX_ENTRIES:
            now = self.clock.now
            for key in [k for k, (_, expires, _) in pmtu.items() if expires <= now]:
                del pmtu[key]
            if len(pmtu) >= PMTU_MAX_ENTRIES:
                del pmtu[next(iter(pmtu))]  # the oldest learned
        pmtu.pop(dst4, None)
        pmtu[dst4] = (mtu, self.clock.now + PMTU_EXPIRES, locked)

    # -- sending ----------------------------------------------------------------------------------
    def send(self, dst: str, proto: int, payload: bytes, src: str | None = None, ttl: int | None = None,
             df: bool = False, tos: int = 0) -> str | None:
        """Send a datagram from this node, looking up the route. Returns None when it left, or the
        reason it could not (``"no-route"``, ``"frag-needed"``, ``"node-down"``), so sockets can
        raise the right errno."""
        if not self.obs.up:
            return "node-down"
        dst4 = _inet_aton(dst)
        if dst4[0] == 127 and self.loopback is not None:
            lo = self.loopback
            return self._send_route(lo, dst4, dst, dst4, proto, payload, src or lo.address, ttl, df, tos, lo.mtu)
        route = self.routes.lookup(dst4)
        if route is None:
            self.obs.drop("ip", "no-route", None, text=f"no route to {dst}")
            return "no-route"
        return self._send_route(route.iface, route.gateway or dst4, dst, dst4, proto, payload, src, ttl, df, tos,
                                route.iface.mtu)

    def send_via(self, handle: RouteHandle, proto: int, payload: bytes, src: str | None = None,
                 ttl: int | None = None, df: bool = False, tos: int = 0) -> str | None:
        """Send a datagram along a route handle the transport keeps (no route lookup)."""
        if not self.obs.up:
            return "node-down"
        dst4 = handle.dst
        return self._send_route(handle.iface, handle.next_hop, _inet_ntoa(dst4), dst4, proto, payload,
                                src or handle.source, ttl, df, tos, handle.mtu)

    def _send_route(self, iface: "Interface", next_hop: bytes, dst: str, dst4: bytes, proto: int, payload: bytes,
                    src: str | None, ttl: int | None, df: bool, tos: int, mtu: int) -> str | None:
        obs = self.obs
        if src is None:
            src = iface.address
        ip = IPv4(src, dst, proto, payload, self.default_ttl if ttl is None else ttl, tos,
                  self.next_ident(), _DF if df else 0)
        obs.stats["ip.out_requests"] += 1
        mtu = min(mtu, iface.mtu)  # the path's (a learned PMTU), and never above the interface's
        if ip.total_length > mtu and df and \
                not (proto == _TCP and ip.total_length <= iface.tso_max):  # (TSO: the device cuts it)
            obs.drop("ip", "frag-needed", iface.name,
                     text=f"{ip.total_length} bytes > MTU {mtu} with DF set")
            return "frag-needed"
        packet = ip.encode()
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, iface.name, "ip", "send", packet=packet)
        if iface is self.loopback or (dst4 in self.local and dst4 not in self.broadcasts):
            # Our own address or lo: loop back, as the kernel does, without touching the wire.
            self.clock.call_later(0, self._deliver, iface, packet)
            return None
        self._output(ip, packet, iface, next_hop)
        return None

    def _output(self, ip: IPv4 | None, packet: bytes, iface: "Interface", next_hop: bytes) -> None:
        if len(packet) <= iface.mtu or (packet[IPV4_PROTOCOL] == _TCP and len(packet) <= iface.tso_max):
            self.link.output(iface, next_hop, packet)  # (a TCP super-segment: the device cuts it up)
            return
        if ip is None:
            ip = IPv4.decode(packet, verify=False)
        frags = fragment(ip, iface.mtu)
        obs = self.obs
        obs.stats["ip.fragments_created"] += len(frags)
        obs.stats["ip.fragmented"] += 1
        for f in frags:
            raw = f.encode()
            if obs.tracer.enabled:
                obs.tracer.emit(obs.name, iface.name, "ip", "fragment", packet=raw)
            self.link.output(iface, next_hop, raw)

    # -- receiving --------------------------------------------------------------------------------
    def receive(self, iface: "Interface", packet: bytes, frame: bytes) -> None:
        """An IPv4 packet arrived on ``iface``. ``frame`` is the Ethernet frame it came in, kept
        only so that a drop's trace shows the whole frame."""
        obs = self.obs
        n = len(packet)
        if n < IPV4_MIN_HEADER_LEN or packet[IPV4_VER_IHL] != IPV4_VER_IHL_PLAIN:
            self._receive_slow(iface, packet, frame)  # short, options, or not IPv4 at all
            return
        total = (packet[_LEN_HI] << 8) | packet[_LEN_LO]
        if total < IPV4_MIN_HEADER_LEN or total > n:
            obs.drop("ip", "malformed-bad-length", iface.name, frame=frame)
            return
        if ones_sum(packet[:IPV4_MIN_HEADER_LEN]) != 0xFFFF:
            obs.drop("ip", "bad-checksum", iface.name, frame=frame)
            return
        obs.stats["ip.received"] += 1
        if packet[_SRC_FIRST] == 127 or packet[_DST_FIRST] == 127:
            self._martian(iface, packet[_SRC_FIRST] == 127, frame)  # lo's packets never come here
            return
        if total != n:
            packet = packet[:total]  # Ethernet padding
        dst = packet[IPV4_DST]
        if dst in self.local:
            self._deliver(iface, packet)
            return
        if not self.forwarding or frame[ETH_DST_FIRST] & 1 or dst[0] >= 224:
            # Not a router; or sent to the link's broadcast/multicast MAC (Linux forwards only
            # PACKET_HOST frames); or to a multicast group (never unicast-forwarded).
            obs.drop("ip", "not-for-us", iface.name, frame=frame)
            return
        ttl = packet[IPV4_TTL]
        if ttl <= 1:
            obs.drop("ip", "ttl-exceeded", iface.name, frame=frame)
            self.icmp_error(packet, ICMPType.TIME_EXCEEDED, TimeExceededCode.TTL, iface)
            return
        route = self.routes.lookup(dst)
        if route is None:
            obs.drop("ip", "no-route", iface.name, frame=frame)
            self.icmp_error(packet, ICMPType.DEST_UNREACHABLE, UnreachCode.NET, iface)
            return
        out = route.iface
        proto = packet[IPV4_PROTOCOL]
        old = (ttl << 8) | proto  # TTL and protocol: one 16-bit word of the header checksum
        csum = incremental_update((packet[_CSUM_HI] << 8) | packet[_CSUM_LO], old, old - 0x100)
        forwarded = packet[:IPV4_TTL] + bytes((ttl - 1, proto, csum >> 8, csum & 0xFF)) + packet[IPV4_SRC.start:]
        if total > out.mtu:
            self._forward_too_big(iface, route, forwarded, packet)
            return
        obs.stats["ip.forwarded"] += 1
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, out.name, "ip", "forward", packet=forwarded)
        self.link.output(out, route.gateway or dst, forwarded)

    def _receive_slow(self, iface: "Interface", packet: bytes, frame: bytes) -> None:
        obs = self.obs
        try:
            ip = IPv4.decode(memoryview(packet))
        except MalformedPacket as exc:
            obs.drop("ip", exc.drop_reason, iface.name, frame=frame)
            return
        obs.stats["ip.received"] += 1
        if packet[_SRC_FIRST] == 127 or packet[_DST_FIRST] == 127:
            self._martian(iface, packet[_SRC_FIRST] == 127, frame)
            return
        original = packet[:ip.total_length]
        dst4 = _inet_aton(ip.dst)
        if dst4 in self.local:
            self._deliver(iface, original)
            return
        if not self.forwarding or frame[ETH_DST_FIRST] & 1 or dst4[0] >= 224:
            obs.drop("ip", "not-for-us", iface.name, frame=frame)
            return
        if ip.ttl <= 1:
            obs.drop("ip", "ttl-exceeded", iface.name, frame=frame)
            self.icmp_error(original, ICMPType.TIME_EXCEEDED, TimeExceededCode.TTL, iface)
            return
        route = self.routes.lookup(dst4)
        if route is None:
            obs.drop("ip", "no-route", iface.name, frame=frame)
            self.icmp_error(original, ICMPType.DEST_UNREACHABLE, UnreachCode.NET, iface)
            return
        fwd = ip._replace(ttl=ip.ttl - 1)
        forwarded = fwd.encode()
        if len(forwarded) > route.iface.mtu:
            self._forward_too_big(iface, route, forwarded, original, fwd)
            return
        obs.stats["ip.forwarded"] += 1
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, route.iface.name, "ip", "forward", packet=forwarded)
        self.link.output(route.iface, route.gateway or dst4, forwarded)

    def _martian(self, iface: "Interface", source: bool, frame: bytes) -> None:
        """127.0.0.0/8 from a link (RFC 1122 3.2.1.3, RFC 1812 5.3.7: never on a wire): dropped
        with no ICMP, as Linux's ip_route_input_slow does ("martian source" / "martian
        destination", without net.ipv4.conf.*.route_localnet); a spoofed 127.0.0.1 from the
        network must not look like a program of this host."""
        self.obs.drop("ip", "martian-source" if source else "martian-destination", iface.name, frame=frame)

    def _forward_too_big(self, in_iface: "Interface", route: Route, packet: bytes, original: bytes,
                         ip: IPv4 | None = None) -> None:
        obs = self.obs
        if packet[IPV4_FLAGS] & IPV4_DF_BIT:  # DF: RFC 1191 path MTU discovery
            obs.drop("ip", "frag-needed", route.iface.name, packet=packet)
            self.icmp_error(original, ICMPType.DEST_UNREACHABLE, UnreachCode.FRAG_NEEDED, in_iface,
                            mtu=route.iface.mtu)
            return
        obs.stats["ip.forwarded"] += 1
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, route.iface.name, "ip", "forward", packet=packet)
        self._output(ip, packet, route.iface, route.gateway or packet[IPV4_DST])

    def _deliver(self, iface: "Interface", packet: bytes) -> None:
        """A datagram for this node: reassemble it, hand it to its transport, and answer with the
        ICMP error the transport's disposition calls for."""
        obs = self.obs
        if not obs.up:
            return
        try:
            ip = IPv4.decode(packet, verify=False)
        except MalformedPacket as exc:  # only reachable for looped-back bytes we built ourselves
            obs.drop("ip", exc.drop_reason, iface.name, packet=packet)
            return
        if ip.flags & _MF or ip.frag_offset:
            if obs.tracer.enabled:
                obs.tracer.emit(obs.name, iface.name, "ip", "recv-fragment", packet=packet)
            whole = self.reassembler.add(ip, iface.name)
            if whole is None:
                return
            ip = whole
            if obs.tracer.enabled:
                obs.tracer.emit(obs.name, iface.name, "ip", "reassembled",
                                text=f"{ip.src} > {ip.dst} {ip.total_length} bytes reassembled")
        obs.stats["ip.delivered"] += 1
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, iface.name, "ip", "deliver",
                            packet=packet if ip.frag_offset == 0 and not ip.mf and len(packet) == ip.total_length
                            else ip.encode())
        transport = self.transports.get(ip.proto)
        if transport is None:
            obs.drop("ip", "protocol-unreachable", iface.name, packet=packet)
            self.icmp_error(ip.encode(), ICMPType.DEST_UNREACHABLE, UnreachCode.PROTOCOL, iface)
            return
        disposition = transport.receive(ip, iface)
        if disposition is Disposition.PORT_UNREACHABLE:
            # RFC 1122 3.2.2: no ICMP error about a datagram sent to a broadcast address.
            if _inet_aton(ip.dst) not in self.broadcasts:
                self.icmp_error(ip.encode(), ICMPType.DEST_UNREACHABLE, UnreachCode.PORT, iface)
        elif disposition is Disposition.PROTOCOL_UNREACHABLE:
            self.icmp_error(ip.encode(), ICMPType.DEST_UNREACHABLE, UnreachCode.PROTOCOL, iface)
        elif disposition is not Disposition.DELIVERED and disposition is not Disposition.MALFORMED \
                and disposition is not Disposition.CONSUMED:
            obs.drop("ip", "bad-disposition", iface.name, packet=packet,
                     text=f"protocol {ip.proto}'s transport answered {disposition!r}")

    # -- errors up --------------------------------------------------------------------------------
    def transport_error(self, err: TransportError) -> None:
        """An error about a datagram we sent: to the transport of its protocol. A frag-needed
        carries the path MTU now in force; it is remembered only if an endpoint of ours sent the
        datagram (Linux updates the PMTU from the socket's error handler), so forged errors about
        flows we never had leave no state."""
        transport = self.transports.get(err.proto)
        if transport is None:
            return
        if err.kind is ErrorKind.FRAG_NEEDED and err.reporter is not None:
            # Linux's __ip_rt_update_pmtu: a report below min_pmtu (or none) is floored there and
            # locks the route's MTU, and a locked route sends without DF (the path fragments).
            pmtu = self.pmtu
            dst4 = _inet_aton(err.dst)
            before = pmtu.get(dst4)
            if before is not None and before[2] and before[1] > self.clock.now:
                # Locked: Linux changes nothing until it expires (ip_mtu_locked returns at once).
                transport.error(dataclasses.replace(err, mtu=before[0]))
                return
            locked = not err.mtu or err.mtu < MIN_PMTU
            err = dataclasses.replace(err, mtu=self.path_mtu_for(err.dst, err.mtu))
            # In force while the transport reacts (it resends at once, along a fresh handle);
            # kept only if it took the error, else what was there is put back in its place (an
            # entry's place is its age when the bounded cache evicts).
            entry = pmtu[dst4] = (err.mtu, self.clock.now + PMTU_EXPIRES, locked)
            taken = transport.error(err)
            now_there = pmtu.get(dst4)
            if now_there is not None and now_there is not entry:
                # An error about the same destination came while the transport reacted and was
                # taken: what it learned (no higher than ours, which was in force) stands.
                return
            # (Or one about another evicted ours from the full cache: no KeyError.)
            if taken:
                pmtu.pop(dst4, None)
                self._remember_pmtu(err.dst, err.mtu, locked)
            elif before is not None:
                pmtu[dst4] = before
            else:
                pmtu.pop(dst4, None)
            return
        transport.error(err)

    def link_resolution_failed(self, packet: bytes) -> None:
        """The link layer gave up on a packet's next hop (ARP got no answer). A datagram we
        forwarded: tell its sender with ICMP host unreachable (RFC 1812 4.3.3.1). One of ours:
        the transport of its flow gets the host unreachable Linux sends itself (ipv4_link_failure):
        EHOSTUNREACH, not fatal, so a connecting TCP fails and a UDP socket hears nothing."""
        if packet[IPV4_SRC] not in self.local:
            self.icmp_error(packet, ICMPType.DEST_UNREACHABLE, UnreachCode.HOST)
            return
        # The message Linux sends itself, so that ping's raw socket hears it too.
        err = flow_error(packet, ErrorKind.HOST_UNREACHABLE, None, 0,
                         ICMP.dest_unreachable(UnreachCode.HOST, packet), code=int(UnreachCode.HOST))
        if err is not None:
            self.transport_error(err)

    # -- ICMP errors out --------------------------------------------------------------------------
    def icmp_error(self, original: bytes, type_: int, code: int, iface: "Interface | None" = None,
                   mtu: int = 0) -> None:
        """Tell the sender of ``original`` (an IPv4 datagram's bytes) what went wrong.

        RFC 1122 3.2.2 / RFC 1812 4.3.2.7: never about an ICMP error, a non-first fragment, or a
        datagram from or to a broadcast or unspecified address."""
        if len(original) < 20:
            return
        src, dst = original[IPV4_SRC], original[IPV4_DST]
        if src == b"\x00\x00\x00\x00" or src in self.broadcasts or src[0] >= 224 or dst in self.broadcasts \
                or dst[0] >= 224:
            return
        if ((original[IPV4_FLAGS] & 0x1F) << 8 | original[IPV4_FRAG_LOW]) != 0:
            return  # not the first fragment
        hl = (original[IPV4_VER_IHL] & 0x0F) * 4
        if original[IPV4_PROTOCOL] == IPProto.ICMP and len(original) > hl and original[hl] in ERROR_TYPES:
            return
        if type_ == ICMPType.TIME_EXCEEDED:
            msg = ICMP.time_exceeded(code, original)
        else:
            msg = ICMP.dest_unreachable(code, original, mtu)
        # The source is the address of the interface the datagram came in on, so that traceroute
        # names the router's address on the path.
        source = iface.address if iface is not None and iface.address else None
        self.obs.stats[f"icmp.out.{ICMPType(type_).name.lower()}"] += 1
        self.send(_inet_ntoa(src), IPProto.ICMP, msg.encode(), src=source)

    def _reassembly_timed_out(self, first: IPv4, iface: str) -> None:
        self.icmp_error(first.encode(), ICMPType.TIME_EXCEEDED, TimeExceededCode.REASSEMBLY,
                        self.interfaces.get(iface))


def flow_error(packet: bytes, kind: ErrorKind, reporter: str | None = None, mtu: int = 0,
               icmp: ICMP | None = None, errno: int | None = None, fatal: bool | None = None,
               code: int = 0) -> TransportError | None:
    """The transport error for the flow of ``packet`` (an IPv4 datagram we sent, or the part of it
    an ICMP error quotes: the header and at least 8 bytes, RFC 792); None if too short for ports."""
    if len(packet) < 20:
        return None
    hl = (packet[IPV4_VER_IHL] & 0x0F) * 4
    proto = packet[IPV4_PROTOCOL]
    ports = packet[hl:hl + 4]  # the source and destination ports lead both UDP's and TCP's header
    if len(ports) < 4:
        return None
    return TransportError(kind, proto, _inet_ntoa(packet[IPV4_SRC]), (ports[0] << 8) | ports[1],
                          _inet_ntoa(packet[IPV4_DST]), (ports[2] << 8) | ports[3], reporter, mtu, icmp,
                          errno or 0, fatal, bytes(packet[hl:hl + 8]), code)
