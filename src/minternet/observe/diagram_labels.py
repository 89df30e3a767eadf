"""Short labels and protocol classes for the arrows of a sequence diagram.

A label is what a person wants to read beside an arrow: ``ARP who-has 10.0.1.1``, ``ICMP echo
request seq=1``, ``DNS query A www.example.com``, ``TCP [S.] seq=0 ack=1``. TCP sequence and
acknowledgement numbers are relative to the first sequence number of each direction (the SYN's,
when the trace has it), as Wireshark shows them. The full one-line summary of the frame is kept too,
for a tooltip.
"""

from __future__ import annotations

import socket
import struct
from bisect import bisect_right
from typing import Any

from ..wire.arp import ARP, ARPOp
from ..wire.dissect import dissect
from ..wire.dns import DNSMessage, Rcode, RRType, rcode_text, type_text
from ..wire.errors import MalformedPacket
from ..wire.fields import (
    ETH_PAYLOAD,
    ETH_TYPE,
    ETH_TYPE_IPV4,
    FRAME_IPV4_LENGTH,
    FRAME_L4,
    IPV4_DST,
    IPV4_FLG_OFF,
    IPV4_LENGTH,
    IPV4_MIN_HEADER_LEN,
    IPV4_PROTOCOL,
    IPV4_SRC,
    IPV4_TTL,
    IPV4_VER_IHL,
    TCP_FLAGS,
    TCP_MIN_HEADER_LEN,
)
from ..wire.icmp import ICMP, ICMPType, UnreachCode
from ..wire.ipv4 import IPProto, IPv4
from ..wire.tcp import TCP, Sack, TCPFlags, flags_str
from ..wire.udp import UDP

# Protocol classes, in legend order. Each arrow has exactly one.
PROTOCOLS: tuple[str, ...] = ("arp", "icmp", "udp", "dns", "tcp", "http", "tls", "quic", "other")
PROTOCOL_NAMES: dict[str, str] = {"arp": "ARP", "icmp": "ICMP", "udp": "UDP", "dns": "DNS", "tcp": "TCP",
                                  "http": "HTTP", "tls": "TLS", "quic": "QUIC", "other": "other"}
DNS_PORTS = frozenset({53, 5353})
HTTP_PORTS = frozenset({80, 8080})
MAX_LABEL = 56  # characters; the full summary stays in the tooltip

_HTTP_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ", b"CONNECT ", b"TRACE ")
_MOD32 = 1 << 32
_PORTS_SEQ = struct.Struct("!HHI")
_addr = socket.inet_ntoa
_PROTOCOL_BYTE = slice(IPV4_PROTOCOL, IPV4_PROTOCOL + 1)


def shorten(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def ip_of(frame: bytes) -> bytes | None:
    """The IPv4 packet an Ethernet frame carries (trimmed to its total length), or None."""
    if len(frame) < FRAME_L4 or frame[ETH_TYPE] != ETH_TYPE_IPV4:
        return None
    total = int.from_bytes(frame[FRAME_IPV4_LENGTH], "big")
    return frame[ETH_PAYLOAD:ETH_PAYLOAD + total] if total >= IPV4_MIN_HEADER_LEN else frame[ETH_PAYLOAD:]


def ip_key(packet: bytes) -> bytes:
    """What identifies one IPv4 packet across hops: every byte but TTL and header checksum, which a
    router changes on the way."""
    total = int.from_bytes(packet[IPV4_LENGTH], "big") if len(packet) >= IPV4_LENGTH.stop else len(packet)
    return packet[:IPV4_TTL] + packet[_PROTOCOL_BYTE] + packet[IPV4_SRC.start:total]


class _Flows:
    """First sequence number of each TCP direction, over time (a 4-tuple may be reused)."""

    def __init__(self) -> None:
        self._base: dict[tuple, tuple[list[int], list[int]]] = {}

    def observe(self, t: int, flow: tuple, seq: int, syn: bool) -> None:
        times, bases = self._base.setdefault(flow, ([], []))
        if (syn and (not bases or bases[-1] != seq)) or not bases:
            times.append(t)
            bases.append(seq)

    def base(self, t: int, flow: tuple) -> int | None:
        entry = self._base.get(flow)
        if entry is None:
            return None
        times, bases = entry
        i = bisect_right(times, t) - 1
        return bases[max(i, 0)]


class Labeller:
    """Turns frames into (protocol, label, summary). Call :meth:`observe` on every frame in time
    order first, so that TCP numbers can be made relative to each direction's SYN.

    ``secure`` reads TLS records over TCP and QUIC packets over UDP (a
    :class:`~minternet.observe.secure.SecureDecoder`; give it the run's key log to open QUIC
    packets past the Initial ones): ``TLS ClientHello sni=...``, ``QUIC Initial CRYPTO ClientHello``."""

    def __init__(self, secure: Any = None) -> None:
        from .secure import SecureDecoder
        self._flows = _Flows()
        self.secure = secure if secure is not None else SecureDecoder()

    def observe(self, t: int, frame: bytes) -> None:
        packet = ip_of(frame)
        if (packet is None or len(packet) < IPV4_MIN_HEADER_LEN + TCP_MIN_HEADER_LEN
                or packet[IPV4_PROTOCOL] != IPProto.TCP):
            return
        if int.from_bytes(packet[IPV4_FLG_OFF], "big") & 0x3FFF:  # a fragment: no whole TCP header
            return
        hl = (packet[IPV4_VER_IHL] & 0x0F) * 4
        if len(packet) < hl + TCP_MIN_HEADER_LEN:
            return
        sport, dport, seq = _PORTS_SEQ.unpack_from(packet, hl)
        flags = packet[hl + TCP_FLAGS]
        flow = (_addr(packet[IPV4_SRC]), sport, _addr(packet[IPV4_DST]), dport)
        self._flows.observe(t, flow, seq, bool(flags & TCPFlags.SYN))

    def label(self, t: int, frame: bytes) -> tuple[str, str, str]:
        """(protocol class, short label, full summary) of a frame sent at time ``t``."""
        d = dissect(frame)
        summary = d.summary()
        if not d.layers:
            return "other", shorten(summary), summary
        inner = d.layers[-1]
        ip = d.get(IPv4)
        if isinstance(inner, ARP):
            return "arp", _arp_label(inner), summary
        if ip is None:
            return "other", shorten(summary), summary
        if inner is ip:  # a fragment, or a transport header that did not decode
            return _proto_class(ip.proto), shorten(_ip_label(ip, d.error)), summary
        if isinstance(inner, ICMP):
            return "icmp", _icmp_label(inner), summary
        if isinstance(inner, UDP):
            if inner.payload and not {inner.sport, inner.dport} & DNS_PORTS and self.secure.is_quic(
                    inner.sport, inner.dport, inner.payload):
                datagram = self.secure.quic_datagram(inner.payload)
                return "quic", shorten(datagram.short()), f"{summary}\n{datagram.describe()}"
            proto, text = _udp_label(inner)
            return proto, shorten(text), summary
        if isinstance(inner, TCP):
            proto, text = self._tcp_label(t, ip, inner)
            return proto, shorten(text), (f"{summary}\n{text}" if proto == "tls" else summary)
        return "other", shorten(summary), summary

    def _tcp_label(self, t: int, ip: IPv4, tcp: TCP) -> tuple[str, str]:
        fwd = self._flows.base(t, (ip.src, tcp.sport, ip.dst, tcp.dport))
        rev = self._flows.base(t, (ip.dst, tcp.dport, ip.src, tcp.sport))
        seq = (tcp.seq - fwd) % _MOD32 if fwd is not None else tcp.seq
        n = len(tcp.payload)
        ports = {tcp.sport, tcp.dport}
        proto = "http" if ports & HTTP_PORTS else "dns" if ports & DNS_PORTS else "tcp"
        if proto == "http" and n:
            line = _http_line(tcp.payload)
            if line:
                return proto, f"HTTP {line} ({n} B)"
        if n and proto == "tcp" and self.secure.is_tls(ip.src, tcp.sport, ip.dst, tcp.dport, tcp.payload):
            seg = self.secure.tls_segment(ip.src, tcp.sport, ip.dst, tcp.dport, tcp.seq, tcp.payload)
            return "tls", seg.describe()
        if proto == "dns" and n > 2 and int.from_bytes(tcp.payload[:2], "big") == n - 2:
            text = _dns_label(tcp.payload[2:])
            if text:
                return proto, text.replace("DNS", "DNS/TCP", 1)
        text = f"TCP [{flags_str(tcp.flags)}]"
        if n or tcp.flags & (TCPFlags.SYN | TCPFlags.FIN | TCPFlags.RST) or not tcp.flags & TCPFlags.ACK:
            text += f" seq={seq}:{(seq + n) % _MOD32}" if n else f" seq={seq}"
        if tcp.flags & TCPFlags.ACK:
            ack = (tcp.ack - rev) % _MOD32 if rev is not None else tcp.ack
            text += f" ack={ack}"
        if tcp.window == 0 and not tcp.flags & TCPFlags.RST:
            text += " win=0"
        for option in tcp.options:
            if isinstance(option, Sack) and option.blocks:
                base = rev if rev is not None else 0
                text += " sack=" + ",".join(f"{(l - base) % _MOD32}:{(r - base) % _MOD32}"
                                            for l, r in option.blocks)
        return proto, text


def _proto_class(proto: int) -> str:
    return {IPProto.ICMP: "icmp", IPProto.UDP: "udp", IPProto.TCP: "tcp"}.get(proto, "other")


def _arp_label(arp: ARP) -> str:
    if arp.op == ARPOp.REQUEST:
        return f"ARP announce {arp.spa}" if arp.is_gratuitous else f"ARP who-has {arp.tpa}"
    return f"ARP reply {arp.spa} is-at {arp.sha.hex(':')}"


def _ip_label(ip: IPv4, error: MalformedPacket | None) -> str:
    try:
        name = IPProto(ip.proto).name
    except ValueError:
        name = f"proto {ip.proto}"
    if ip.is_fragment:
        return f"IP fragment {name} off={ip.frag_offset * 8}{' +MF' if ip.mf else ''}"
    if error is not None:
        return f"IP {name} (malformed {error.layer}: {error.reason})"
    return f"IP {name} len={len(ip.payload)}"


def _icmp_label(icmp: ICMP) -> str:
    t = icmp.type
    if t == ICMPType.ECHO_REQUEST:
        return f"ICMP echo request seq={icmp.seq}"
    if t == ICMPType.ECHO_REPLY:
        return f"ICMP echo reply seq={icmp.seq}"
    if t == ICMPType.DEST_UNREACHABLE:
        if icmp.code == UnreachCode.FRAG_NEEDED:
            return f"ICMP frag needed mtu={icmp.next_hop_mtu}"
        try:
            return f"ICMP {UnreachCode(icmp.code).name.lower().replace('_', ' ')} unreachable"
        except ValueError:
            return f"ICMP unreachable code={icmp.code}"
    if t == ICMPType.TIME_EXCEEDED:
        return "ICMP time exceeded" if icmp.code == 0 else "ICMP reassembly time exceeded"
    try:
        return f"ICMP {ICMPType(t).name.lower().replace('_', ' ')}"
    except ValueError:
        return f"ICMP type={t} code={icmp.code}"


def _udp_label(udp: UDP) -> tuple[str, str]:
    if {udp.sport, udp.dport} & DNS_PORTS:
        text = _dns_label(udp.payload)
        if text:
            return "dns", text
        return "dns", f"UDP {udp.sport} > {udp.dport} len={len(udp.payload)}"
    return "udp", f"UDP {udp.sport} > {udp.dport} len={len(udp.payload)}"


def _dns_label(payload: bytes) -> str | None:
    try:
        m = DNSMessage.decode(payload)
    except (MalformedPacket, ValueError):
        return None
    if m.questions:
        q = m.questions[0]
        asked = f"{type_text(q.type)} {q.name or '.'}"
        qtype = q.type
    else:
        asked, qtype = "(no question)", None
    if not m.qr:
        return f"DNS query {asked}"
    if m.rcode != Rcode.NOERROR:
        return f"DNS response {rcode_text(m.rcode)} {asked}"
    if m.answers:
        wanted = [rr for rr in m.answers if rr.type == qtype] or list(m.answers)
        shown = ", ".join(rr.data.to_text() if rr.type == qtype else f"{type_text(rr.type)} {rr.data.to_text()}"
                          for rr in wanted[:2])
        more = f" +{len(wanted) - 2}" if len(wanted) > 2 else ""
        return f"DNS response {asked}: {shown}{more}"
    ns = [rr for rr in m.authority if rr.type == RRType.NS]
    if ns and not m.aa:
        return f"DNS response {asked}: referral to {ns[0].name or '.'}"
    return f"DNS response {asked}: no data"


def _http_line(payload: bytes) -> str | None:
    if payload.startswith(_HTTP_METHODS):
        line = payload.split(b"\r\n", 1)[0].decode("latin-1")
        return line.rsplit(" HTTP/", 1)[0]
    if payload.startswith(b"HTTP/"):
        line = payload.split(b"\r\n", 1)[0].decode("latin-1")
        return line.split(" ", 1)[1] if " " in line else line
    return None
