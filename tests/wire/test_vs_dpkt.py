"""Cross-validation against dpkt, a second codec we did not write: what we encode, dpkt reads with
the same fields and recomputes the same checksums; what dpkt builds, we decode and verify."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

dpkt = pytest.importorskip("dpkt")

from minternet.wire import ARP, ICMP, TCP, UDP, Ethernet, IPv4, dissect  # noqa: E402
from minternet.wire.tcp import TCPOption, encode_options  # noqa: E402

from .strategies import (arp_messages, examples, icmp_messages, ipv4_addrs, macs, options_after_round_trip,  # noqa: E402
                         payloads, tcp_segments, u8, u16, u32, udp_datagrams)

ip_options = st.sampled_from([b"", b"\x94\x04\x00\x00", b"\x01\x01\x01\x00", b"\x07\x07\x04" + bytes(5)])


def aton(addr: str) -> bytes:
    return socket.inet_aton(addr)


def dpkt_options(options: tuple[TCPOption, ...]) -> list[tuple[int, bytes]]:
    """Our options as dpkt's parse_opts lists them: (kind, data after the length byte)."""
    return [(o.kind, o.encode()[2:] if o.kind > 1 else b"") for o in options]  # type: ignore[attr-defined]


def up_to_eol(parsed: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """dpkt reads on past EOL, into the padding; RFC 9293 3.2 says the list ends there."""
    for i, (kind, _) in enumerate(parsed):
        if kind == 0:
            return parsed[:i + 1]
    return parsed


@st.composite
def frames(draw: st.DrawFn, proto: int, inner: st.SearchStrategy[object]) -> tuple[IPv4, object, bytes]:
    """(ip, transport object, frame): an unfragmented datagram, so dpkt recomputes every checksum."""
    src, dst = draw(ipv4_addrs), draw(ipv4_addrs)
    obj = draw(inner)
    body = obj.encode(src, dst) if proto in (6, 17) else obj.encode()  # type: ignore[attr-defined]
    ip = IPv4(src, dst, proto, body, ttl=draw(u8), tos=draw(u8), ident=draw(u16),
              flags=draw(st.sampled_from([0, 2, 4, 6])), options=draw(ip_options))
    return ip, obj, Ethernet(draw(macs), draw(macs), 0x0800, ip.encode()).encode()


def check_ip(ip: IPv4, frame: bytes, eth: object) -> object:
    assert (eth.dst, eth.src, eth.type) == (frame[:6], frame[6:12], 0x0800)  # type: ignore[attr-defined]
    d = eth.data  # type: ignore[attr-defined]
    raw = frame[14:]
    assert (d.v, d.hl * 4, d.tos, d.len, d.id, d.ttl, d.p) == (4, ip.header_length, ip.tos, len(raw), ip.ident,
                                                               ip.ttl, ip.proto)
    assert ((d.rf << 2) | (d.df << 1) | d.mf, d.offset) == (ip.flags, ip.frag_offset)
    assert (d.src, d.dst, d.opts, d.sum) == (aton(ip.src), aton(ip.dst), ip.options, int.from_bytes(raw[10:12], "big"))
    return d


def recomputed(eth: object, transport: object | None) -> bytes:
    """dpkt's bytes with the checksums zeroed: dpkt then computes them itself."""
    eth.data.sum = 0  # type: ignore[attr-defined]
    if transport is not None:
        transport.sum = 0  # type: ignore[attr-defined]
    return bytes(eth)  # type: ignore[call-overload]


# -- ours -> dpkt ----------------------------------------------------------------------------------------
@examples(150)
@given(frames(6, tcp_segments))
def test_our_tcp_in_dpkt(case: tuple[IPv4, TCP, bytes]) -> None:
    ip, seg, frame = case
    eth = dpkt.ethernet.Ethernet(frame)
    t = check_ip(ip, frame, eth).data
    assert isinstance(t, dpkt.tcp.TCP)
    assert (t.sport, t.dport, t.seq, t.ack, t.win, t.urp) == (seg.sport, seg.dport, seg.seq, seg.ack, seg.window,
                                                              seg.urgent)
    # dpkt has 3 reserved bits and 9 flag bits (NS is its 0x100): our 4 reserved bits span both.
    assert (t.off * 4, t.flags & 0xFF, t.flags >> 8) == (seg.header_length, seg.flags, seg.reserved & 1)
    assert (t._off_flags >> 9) & 7 == seg.reserved >> 1
    assert t.opts == (encode_options(seg.options) if seg.options else b"")
    assert up_to_eol(dpkt.tcp.parse_opts(t.opts)) == dpkt_options(options_after_round_trip(seg.options))
    assert t.data == seg.payload
    assert recomputed(eth, t) == frame


@examples(150)
@given(frames(17, udp_datagrams))
def test_our_udp_in_dpkt(case: tuple[IPv4, UDP, bytes]) -> None:
    ip, udp, frame = case
    eth = dpkt.ethernet.Ethernet(frame)
    u = check_ip(ip, frame, eth).data
    assert isinstance(u, dpkt.udp.UDP)
    assert (u.sport, u.dport, u.ulen, u.data) == (udp.sport, udp.dport, 8 + len(udp.payload), udp.payload)
    assert recomputed(eth, u) == frame


@examples(150)
@given(frames(1, icmp_messages))
def test_our_icmp_in_dpkt(case: tuple[IPv4, ICMP, bytes]) -> None:
    ip, msg, frame = case
    eth = dpkt.ethernet.Ethernet(frame)
    i = check_ip(ip, frame, eth).data
    assert isinstance(i, dpkt.icmp.ICMP)
    assert (i.type, i.code, i.sum) == (msg.type, msg.code, int.from_bytes(frame[14 + ip.header_length + 2:][:2], "big"))
    if msg.type in (0, 8):
        assert (i.data.id, i.data.seq, i.data.data) == (msg.ident, msg.seq, msg.payload)
    assert recomputed(eth, i) == frame


@examples(100)
@given(arp_messages)
def test_our_arp_in_dpkt(arp: ARP) -> None:
    a = dpkt.arp.ARP(arp.encode())
    assert (a.hrd, a.pro, a.hln, a.pln, a.op) == (1, 0x0800, 6, 4, arp.op)
    assert (a.sha, a.spa, a.tha, a.tpa) == (arp.sha, aton(arp.spa), arp.tha, aton(arp.tpa))


# -- dpkt -> ours ----------------------------------------------------------------------------------------
@st.composite
def dpkt_ip(draw: st.DrawFn, proto: int, data: object) -> object:
    return dpkt.ip.IP(src=aton(draw(ipv4_addrs)), dst=aton(draw(ipv4_addrs)), p=proto, ttl=draw(u8), tos=draw(u8),
                      id=draw(u16), df=draw(st.integers(0, 1)), data=data)


def decode_frame(ip: object) -> tuple[IPv4, object]:
    frame = bytes(dpkt.ethernet.Ethernet(dst=b"\x02" * 6, src=b"\x04" * 6, type=0x0800, data=ip))
    d = dissect(frame)  # every checksum verified
    assert d.error is None, d.error
    ours = d.get(IPv4)
    assert (aton(ours.src), aton(ours.dst), ours.ttl, ours.tos, ours.ident, ours.df) == (
        ip.src, ip.dst, ip.ttl, ip.tos, ip.id, bool(ip.df))  # type: ignore[attr-defined]
    return ours, d.layers[-1]


@examples(150)
@given(st.data(), u16, u16, u32, u32, st.integers(0, 0x1FF), u16, st.sampled_from(
    [b"", b"\x01\x01\x08\x0a" + bytes(range(8)), b"\x02\x04\x05\xb4", b"\x1e\x06abcd\x01\x00"]), payloads)
def test_dpkt_tcp_in_ours(data: st.DataObject, sport: int, dport: int, seq: int, ack: int, flags: int, window: int,
                          opts: bytes, payload: bytes) -> None:
    seg = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, win=window, opts=opts,
                       off=5 + len(opts) // 4, data=payload)
    _, ours = decode_frame(data.draw(dpkt_ip(6, seg)))
    assert isinstance(ours, TCP)
    assert (ours.sport, ours.dport, ours.seq, ours.ack, ours.window) == (sport, dport, seq, ack, window)
    assert (ours.flags, ours.reserved & 1) == (flags & 0xFF, flags >> 8)
    assert encode_options(ours.options) == opts and ours.payload == payload


@examples(150)
@given(st.data(), u16, u16, payloads)
def test_dpkt_udp_in_ours(data: st.DataObject, sport: int, dport: int, payload: bytes) -> None:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, ulen=8 + len(payload), data=payload)
    _, ours = decode_frame(data.draw(dpkt_ip(17, udp)))
    assert ours == UDP(sport, dport, payload, udp.sum)


@examples(150)
@given(st.data(), st.sampled_from([0, 8]), u16, u16, payloads)
def test_dpkt_icmp_echo_in_ours(data: st.DataObject, type_: int, ident: int, seq: int, payload: bytes) -> None:
    msg = dpkt.icmp.ICMP(type=type_, data=dpkt.icmp.ICMP.Echo(id=ident, seq=seq, data=payload))
    _, ours = decode_frame(data.draw(dpkt_ip(1, msg)))
    assert isinstance(ours, ICMP)
    assert (ours.type, ours.ident, ours.seq, ours.payload) == (type_, ident, seq, payload)
