"""Cross-validation against scapy, a codec we did not write: what we encode, scapy reads with the
same fields and recomputes the same checksums; what scapy builds from random fields, we decode to
those fields with every checksum verified."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

scapy_all = pytest.importorskip("scapy.all")
from scapy.layers.inet import TCPOptions  # noqa: E402  (after the importorskip)

from minternet.wire import (ARP, EOL, ICMP, MSS, NOP, TCP, UDP, Ethernet, IPv4, Sack,  # noqa: E402
                            SackPermitted, Timestamps, UnknownOption, WindowScale, dissect, mac_to_str)
from minternet.wire.tcp import TCPOption  # noqa: E402

from .strategies import (arp_messages, examples, ipv4_addrs, macs, options_after_round_trip,  # noqa: E402
                         payloads, u8, u16, u32)

S = scapy_all
# Kinds scapy interprets itself (MD5, user timeout, TFO, ...): give it only kinds it keeps raw,
# so that both sides treat them as opaque bytes.
_SCAPY_KINDS = set(TCPOptions[0])
scapy_unknown_kinds = st.integers(6, 255).filter(lambda k: k not in _SCAPY_KINDS | {8})
# ICMP types for which scapy reads more than an 8-byte header (timestamps, address masks, ...).
_LONG_ICMP_TYPES = {13, 14, 17, 18, 37, 38}
# IP options scapy parses and rebuilds as they were: router alert, NOP, EOL.
ip_options = st.sampled_from([b"", b"\x94\x04\x00\x00", b"\x01\x01\x01\x00", b"\x94\x04\x00\x00" * 2])


def ip_str(addr: str) -> str:
    return socket.inet_ntoa(socket.inet_aton(addr))


def payload_of(layer: object) -> bytes:
    """The bytes scapy dissected as the layer's payload, whatever it made of them (DNS, HTTP, ...)."""
    inner = layer.payload  # type: ignore[attr-defined]
    return b"" if isinstance(inner, S.NoPayload) else inner.original


def options_from_scapy(options: list[tuple[object, object]]) -> tuple[TCPOption, ...]:
    out: list[TCPOption] = []
    for name, value in options:
        if name == "EOL":
            out.append(EOL())
        elif name == "NOP":
            out.append(NOP())
        elif name == "MSS":
            out.append(MSS(value))  # type: ignore[arg-type]
        elif name == "WScale":
            out.append(WindowScale(value))  # type: ignore[arg-type]
        elif name == "SAckOK":
            out.append(SackPermitted())
        elif name == "SAck":
            out.append(Sack(tuple(zip(value[::2], value[1::2]))))  # type: ignore[index]
        elif name == "Timestamp":
            out.append(Timestamps(*value))  # type: ignore[misc]
        else:
            assert isinstance(name, int), name
            out.append(UnknownOption(name, value))  # type: ignore[arg-type]
    return tuple(out)


def rebuild_with_fresh_checksums(pkt: object, transport: type | None) -> bytes:
    """scapy's bytes for ``pkt`` with the IP and transport checksums deleted, so scapy computes
    them. The transport payload goes back as raw bytes, so that scapy re-encoding an application
    layer (DNS on port 53, say) cannot change them."""
    if transport is not None:
        layer = pkt[transport]  # type: ignore[index]
        load = payload_of(layer)
        layer.remove_payload()
        if load:
            layer.add_payload(S.Raw(load))
        del layer.chksum
    if S.IP in pkt:  # type: ignore[operator]
        del pkt[S.IP].chksum  # type: ignore[index]
    return bytes(pkt)  # type: ignore[call-overload]


# -- ours -> scapy --------------------------------------------------------------------------------------
scapy_tcp_option = st.one_of(
    st.just(NOP()), st.builds(MSS, u16), st.builds(WindowScale, u8), st.just(SackPermitted()),
    st.builds(Sack, st.lists(st.tuples(u32, u32), min_size=1, max_size=4).map(tuple)),
    st.builds(Timestamps, u32, u32),
    st.builds(UnknownOption, scapy_unknown_kinds, st.binary(max_size=10)))
scapy_tcp_options = st.lists(scapy_tcp_option, max_size=6).map(tuple).filter(
    lambda o: sum(len(x.encode()) for x in o) <= 40)


@st.composite
def our_ip(draw: st.DrawFn, proto: int, inner: bytes, whole: bool = True) -> IPv4:
    return IPv4(draw(ipv4_addrs), draw(ipv4_addrs), proto, inner, ttl=draw(u8), tos=draw(u8), ident=draw(u16),
                flags=draw(st.sampled_from([0, 2])) if whole else draw(st.integers(0, 7)),
                frag_offset=0 if whole else draw(st.integers(0, 0x1FFF)), options=draw(ip_options))


def check_ip(ip: IPv4, data: bytes, sip: object) -> None:
    assert (sip.version, sip.ihl, sip.tos, sip.len, sip.id) == (4, ip.header_length // 4, ip.tos,  # type: ignore[attr-defined]
                                                                len(data), ip.ident)
    assert (int(sip.flags), sip.frag, sip.ttl, sip.proto) == (ip.flags, ip.frag_offset, ip.ttl, ip.proto)  # type: ignore[attr-defined]
    assert (sip.src, sip.dst, sip.chksum) == (ip.src, ip.dst, int.from_bytes(data[10:12], "big"))  # type: ignore[attr-defined]


@examples(150)
@given(st.data(), macs, macs, st.builds(TCP, sport=u16, dport=u16, seq=u32, ack=u32, flags=u8, window=u16,
                                         payload=payloads, urgent=u16, options=scapy_tcp_options,
                                         reserved=st.integers(0, 15)))
def test_our_tcp_in_scapy(data: st.DataObject, dst: bytes, src: bytes, seg: TCP) -> None:
    ip = data.draw(our_ip(6, b""))
    ip = ip._replace(payload=seg.encode(ip.src, ip.dst))
    frame = Ethernet(dst, src, 0x0800, ip.encode()).encode()
    pkt = S.Ether(frame)
    assert (pkt.dst, pkt.src, pkt.type) == (mac_to_str(dst), mac_to_str(src), 0x0800)
    check_ip(ip, ip.encode(), pkt[S.IP])
    t = pkt[S.TCP]
    assert (t.sport, t.dport, t.seq, t.ack, t.window, t.urgptr) == (seg.sport, seg.dport, seg.seq, seg.ack,
                                                                    seg.window, seg.urgent)
    # scapy splits our 4 "reserved" bits into 3 reserved bits and the NS flag (its flag 0x100).
    assert int(t.flags) & 0xFF == seg.flags
    assert (t.reserved << 1) | (int(t.flags) >> 8) == seg.reserved
    assert t.dataofs * 4 == seg.header_length
    assert options_from_scapy(t.options) == options_after_round_trip(seg.options)
    assert payload_of(t) == seg.payload
    assert rebuild_with_fresh_checksums(pkt, S.TCP) == frame


@examples(150)
@given(st.data(), st.builds(UDP, sport=u16, dport=u16, payload=payloads))
def test_our_udp_in_scapy(data: st.DataObject, udp: UDP) -> None:
    ip = data.draw(our_ip(17, b""))
    ip = ip._replace(payload=udp.encode(ip.src, ip.dst))
    frame = Ethernet(b"\x02" * 6, b"\x04" * 6, 0x0800, ip.encode()).encode()
    pkt = S.Ether(frame)
    check_ip(ip, ip.encode(), pkt[S.IP])
    u = pkt[S.UDP]
    assert (u.sport, u.dport, u.len, u.chksum) == (udp.sport, udp.dport, 8 + len(udp.payload),
                                                   int.from_bytes(ip.payload[6:8], "big"))
    assert payload_of(u) == udp.payload
    assert rebuild_with_fresh_checksums(pkt, S.UDP) == frame


@examples(150)
@given(st.data(), st.builds(ICMP, type=u8.filter(lambda t: t not in _LONG_ICMP_TYPES), code=u8, rest=u32,
                            payload=payloads))
def test_our_icmp_in_scapy(data: st.DataObject, msg: ICMP) -> None:
    ip = data.draw(our_ip(1, msg.encode()))
    frame = Ethernet(b"\x02" * 6, b"\x04" * 6, 0x0800, ip.encode()).encode()
    pkt = S.Ether(frame)
    check_ip(ip, ip.encode(), pkt[S.IP])
    i = pkt[S.ICMP]
    assert (i.type, i.code, i.chksum) == (msg.type, msg.code, int.from_bytes(ip.payload[2:4], "big"))
    if msg.type in (0, 8):
        assert (i.id, i.seq) == (msg.ident, msg.seq)
    assert rebuild_with_fresh_checksums(pkt, S.ICMP) == frame


@examples(100)
@given(st.data(), st.sampled_from([6, 17, 47]), payloads)
def test_our_fragments_in_scapy(data: st.DataObject, ip_proto: int, inner: bytes) -> None:
    ip = data.draw(our_ip(ip_proto, inner, whole=False))
    raw = ip.encode()
    pkt = S.IP(raw)
    check_ip(ip, raw, pkt)
    del pkt.chksum
    pkt.remove_payload()
    pkt.add_payload(S.Raw(inner))
    assert bytes(pkt) == raw


@examples(100)
@given(arp_messages)
def test_our_arp_in_scapy(arp: ARP) -> None:
    a = S.ARP(arp.encode())
    assert (a.hwtype, a.ptype, a.hwlen, a.plen, a.op) == (1, 0x0800, 6, 4, arp.op)
    assert (a.hwsrc, a.psrc, a.hwdst, a.pdst) == (mac_to_str(arp.sha), arp.spa, mac_to_str(arp.tha), arp.tpa)


# -- scapy -> ours --------------------------------------------------------------------------------------
scapy_options = st.lists(st.one_of(
    st.just(("NOP", None)), st.just(("EOL", None)), st.tuples(st.just("MSS"), u16),
    st.tuples(st.just("WScale"), u8), st.just(("SAckOK", b"")),
    st.tuples(st.just("SAck"), st.lists(st.tuples(u32, u32), min_size=1, max_size=4).map(
        lambda pairs: tuple(x for pair in pairs for x in pair))),
    st.tuples(st.just("Timestamp"), st.tuples(u32, u32)),
    st.tuples(scapy_unknown_kinds, st.binary(max_size=8))), max_size=6)


def scapy_options_len(options: list[tuple[object, object]]) -> int:
    return len(S.TCP(options=options).build()) - 20


def expected_options(options: list[tuple[object, object]]) -> tuple[TCPOption, ...]:
    """Both stop reading at EOL; scapy pads the list with zero bytes, which read as one EOL."""
    ours = options_from_scapy(options)
    for i, o in enumerate(ours):
        if isinstance(o, EOL):
            return ours[:i + 1]
    return options_after_round_trip(ours)


@st.composite
def scapy_ip(draw: st.DrawFn) -> object:
    return S.IP(src=draw(ipv4_addrs), dst=draw(ipv4_addrs), ttl=draw(u8), id=draw(u16), tos=draw(u8),
                flags=draw(st.integers(0, 7)), frag=draw(st.integers(0, 0x1FFF)))


def decode_ip(sip: object, raw: bytes) -> IPv4:
    ip = IPv4.decode(raw)  # header checksum verified
    assert (ip.src, ip.dst, ip.ttl, ip.ident, ip.tos) == (sip.src, sip.dst, sip.ttl, sip.id, sip.tos)  # type: ignore[attr-defined]
    assert (ip.flags, ip.frag_offset) == (int(sip.flags), sip.frag)  # type: ignore[attr-defined]
    return ip


@examples(150)
@given(scapy_ip(), u16, u16, u32, u32, st.integers(0, 0x1FF), st.integers(0, 7), u16, u16,
       scapy_options.filter(lambda o: scapy_options_len(o) <= 40), payloads)
def test_scapy_tcp_in_ours(sip: object, sport: int, dport: int, seq: int, ack: int, flags: int, reserved: int,
                           window: int, urgent: int, options: list, payload: bytes) -> None:
    pkt = sip / S.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, reserved=reserved,  # type: ignore[operator]
                      window=window, urgptr=urgent, options=options) / S.Raw(payload)
    raw = bytes(pkt)
    ip = decode_ip(sip, raw)
    seg = TCP.decode(ip.payload, ip.src, ip.dst)  # checksum verified
    assert (seg.sport, seg.dport, seg.seq, seg.ack, seg.window, seg.urgent) == (sport, dport, seq, ack, window,
                                                                               urgent)
    assert (seg.flags, seg.reserved) == (flags & 0xFF, (reserved << 1) | (flags >> 8))
    assert seg.options == expected_options(options)
    assert seg.payload == payload


@examples(150)
@given(scapy_ip(), u16, u16, payloads)
def test_scapy_udp_in_ours(sip: object, sport: int, dport: int, payload: bytes) -> None:
    raw = bytes(sip / S.UDP(sport=sport, dport=dport) / S.Raw(payload))  # type: ignore[operator]
    ip = decode_ip(sip, raw)
    udp = UDP.decode(ip.payload, ip.src, ip.dst)  # checksum verified
    assert (udp.sport, udp.dport, udp.payload) == (sport, dport, payload)
    assert udp.checksum != 0


@examples(150)
@given(scapy_ip(), st.sampled_from([0, 3, 4, 5, 8, 11, 12]), u8, u16, u16, ipv4_addrs, payloads)
def test_scapy_icmp_in_ours(sip: object, type_: int, code: int, a: int, b: int, gw: str, payload: bytes) -> None:
    fields: dict[str, object] = {
        0: {"id": a, "seq": b}, 8: {"id": a, "seq": b}, 3: {"nexthopmtu": b}, 4: {},
        5: {"gw": gw}, 11: {"unused": a}, 12: {"ptr": a & 0xFF}}[type_]
    raw = bytes(sip / S.ICMP(type=type_, code=code, **fields) / S.Raw(payload))  # type: ignore[operator]
    ip = decode_ip(sip, raw)
    msg = ICMP.decode(ip.payload)  # checksum verified
    assert (msg.type, msg.code, msg.payload) == (type_, code, payload)
    expected_rest = {0: (a << 16) | b, 8: (a << 16) | b, 3: b, 4: 0, 5: int.from_bytes(socket.inet_aton(gw), "big"),
                     11: a, 12: (a & 0xFF) << 24}[type_]
    assert msg.rest == expected_rest


@examples(100)
@given(st.sampled_from([1, 2]), macs, ipv4_addrs, macs, ipv4_addrs)
def test_scapy_arp_in_ours(op: int, sha: bytes, spa: str, tha: bytes, tpa: str) -> None:
    frame = bytes(S.Ether(dst="ff:ff:ff:ff:ff:ff", src=mac_to_str(sha)) /
                  S.ARP(op=op, hwsrc=mac_to_str(sha), psrc=spa, hwdst=mac_to_str(tha), pdst=tpa))
    d = dissect(frame)
    assert d.error is None
    assert d.layers[1] == ARP(op, sha, spa, tha, tpa)


@examples(100)
@given(scapy_ip(), st.sampled_from(["tcp", "udp", "icmp"]), payloads)
def test_scapy_frames_dissect(sip: object, kind: str, payload: bytes) -> None:
    transport = {"tcp": S.TCP(options=[("MSS", 1460), ("NOP", None), ("WScale", 7)]), "udp": S.UDP(),
                 "icmp": S.ICMP()}[kind]
    frame = bytes(S.Ether() / sip / transport / S.Raw(payload))  # type: ignore[operator]
    d = dissect(frame)
    assert d.error is None
    ip = d.get(IPv4)
    if ip.is_fragment:
        assert len(d.layers) == 2
    else:
        assert type(d.layers[2]).__name__ == kind.upper() and d.layers[2].payload == payload
