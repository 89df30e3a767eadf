"""The display dissector: a whole frame, layer by layer, never raising."""

from __future__ import annotations

import pytest
from hypothesis import given

from minternet.wire import (ARP, BROADCAST, ICMP, MSS, TCP, UDP, Dissection, Ethernet, IPFlags, IPv4,
                            MalformedPacket, TCPFlags, dissect)

from .strategies import REASONS, examples, fuzz_inputs, valid_frames

A, B = bytes.fromhex("020000000101"), bytes.fromhex("020000000202")
SRC, DST = "10.0.0.1", "10.0.0.2"


def ip_frame(proto: int, inner: bytes, **fields: int) -> bytes:
    return Ethernet(B, A, 0x0800, IPv4(SRC, DST, proto, inner, **fields).encode()).encode()


def test_arp() -> None:
    arp = ARP(1, A, SRC, b"\x00" * 6, DST)
    d = dissect(Ethernet(BROADCAST, A, 0x0806, arp.encode()).encode())
    assert d.error is None
    assert [type(layer) for layer in d.layers] == [Ethernet, ARP]
    assert d.layers[1] == arp
    assert d.summary() == "ARP who-has 10.0.0.2 tell 10.0.0.1"


def test_tcp() -> None:
    seg = TCP(40000, 80, 1, 0, TCPFlags.SYN, 1024, options=(MSS(1460),))
    d = dissect(ip_frame(6, seg.encode(SRC, DST)))
    assert [type(layer) for layer in d.layers] == [Ethernet, IPv4, TCP]
    assert d.get(TCP).option(MSS) == MSS(1460)
    assert d.summary() == "10.0.0.1 > 10.0.0.2 TCP 40000 > 80 [S] seq=1 win=1024 mss=1460 ttl=64"


def test_udp_and_icmp() -> None:
    d = dissect(ip_frame(17, UDP(5353, 53, b"q").encode(SRC, DST)))
    assert d.get(UDP) == UDP(5353, 53, b"q", d.get(UDP).checksum) and d.error is None
    d = dissect(ip_frame(1, ICMP.echo_request(7, 1, b"ping").encode()))
    assert d.get(ICMP).ident == 7
    assert d.summary() == "10.0.0.1 > 10.0.0.2 ICMP echo request id=7 seq=1 len=4 ttl=64"


def test_unknown_ethertype_and_protocol_stop_cleanly() -> None:
    d = dissect(Ethernet(B, A, 0x86DD, b"\x60" + b"\x00" * 39).encode())
    assert [type(layer) for layer in d.layers] == [Ethernet] and d.error is None
    d = dissect(ip_frame(47, b"gre"))
    assert [type(layer) for layer in d.layers] == [Ethernet, IPv4] and d.error is None
    assert d.get(TCP) is None


def test_fragments_carry_no_transport_header_to_decode() -> None:
    udp = UDP(1, 2, b"x" * 40).encode(SRC, DST)
    first = dissect(ip_frame(17, udp[:24], flags=IPFlags.MF, ident=9))
    assert [type(layer) for layer in first.layers] == [Ethernet, IPv4] and first.error is None
    later = dissect(ip_frame(17, udp[24:], frag_offset=3, ident=9))
    assert [type(layer) for layer in later.layers] == [Ethernet, IPv4] and later.error is None
    assert first.summary() == "IP 10.0.0.1 > 10.0.0.2 UDP ttl=64 id=9 len=44 frag off=0 +MF"


def test_ip_summary_of_fragment_around_transport() -> None:
    # A first fragment that is also the last (MF clear, offset 0) is a whole datagram.
    d = dissect(ip_frame(17, UDP(1, 2, b"x").encode(SRC, DST), flags=IPFlags.DF))
    assert d.summary() == "10.0.0.1 > 10.0.0.2 UDP 1 > 2 len=1 ttl=64"


@pytest.mark.parametrize("frame, layers, where", [
    (b"\x00" * 13, 0, ("ethernet", "truncated")),
    (Ethernet(B, A, 0x0806, b"\x00" * 10).encode(), 1, ("arp", "truncated")),
    (Ethernet(B, A, 0x0800, b"\x45" + b"\x00" * 10).encode(), 1, ("ipv4", "truncated")),
    (ip_frame(6, b"\x00" * 10), 2, ("tcp", "truncated")),
    (ip_frame(17, UDP(1, 2, b"abc").encode("9.9.9.9", DST)), 2, ("udp", "bad-checksum")),
    (ip_frame(1, b"\x08\x00\x00\x00\x00\x00\x00\x00"), 2, ("icmp", "bad-checksum")),
], ids=["ethernet", "arp", "ipv4", "tcp", "udp", "icmp"])
def test_errors_keep_the_layers_decoded_so_far(frame: bytes, layers: int, where: tuple[str, str]) -> None:
    d = dissect(frame)
    assert isinstance(d.error, MalformedPacket)
    assert (d.error.layer, d.error.reason) == where
    assert len(d.layers) == layers
    text = d.summary()
    assert (f"[malformed: {where[0]} {where[1]}]" in text) if layers else text.startswith("malformed frame")


def test_dissection_get() -> None:
    d = Dissection()
    assert d.get(IPv4) is None and d.error is None


@examples(400)
@given(fuzz_inputs(valid_frames(), max_random=120))
def test_never_raises(frame: bytes) -> None:
    d = dissect(frame)
    assert d.error is None or d.error.reason in REASONS
    assert dissect(memoryview(frame)).layers == d.layers  # type: ignore[arg-type]
    assert isinstance(d.summary(), str)


@examples(200)
@given(valid_frames())
def test_valid_frames_dissect_without_error(frame: bytes) -> None:
    d = dissect(frame)
    assert d.error is None
    eth = d.layers[0]
    assert eth.encode() == frame
    ip = d.get(IPv4)
    if ip is not None and not ip.is_fragment and ip.proto in (1, 6, 17):
        assert len(d.layers) == 3


def test_malformed_transport_summary_names_the_ip_addresses() -> None:
    d = dissect(ip_frame(6, b"\x00" * 10))
    assert d.summary() == "IP 10.0.0.1 > 10.0.0.2 TCP ttl=64 id=0 len=30 [malformed: tcp truncated]"
