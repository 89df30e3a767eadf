"""The named field offsets read what the codecs wrote: a frame built by our encoders, read back
through the names, gives the values it was built from."""

from __future__ import annotations

import socket

from minternet.wire import fields as F
from minternet.wire.arp import ARP, ARPOp
from minternet.wire.ethernet import Ethernet, EtherType
from minternet.wire.ipv4 import IPFlags, IPProto, IPv4
from minternet.wire.tcp import TCP, TCPFlags
from minternet.wire.udp import UDP

MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
A, B = "10.0.0.1", "10.0.0.2"


def _int(b: bytes) -> int:
    return int.from_bytes(b, "big")


def test_ethernet_ipv4_tcp_fields():
    tcp = TCP(5001, 80, 123456789, 987654321, TCPFlags.ACK | TCPFlags.PSH, 4321, b"hello")
    ip = IPv4(A, B, IPProto.TCP, tcp.encode(A, B), ttl=33, tos=0x10, ident=0xBEEF, flags=IPFlags.DF)
    frame = Ethernet(MAC_B, MAC_A, EtherType.IPV4, ip.encode()).encode()
    assert frame[F.ETH_DST] == MAC_B and frame[F.ETH_SRC] == MAC_A
    assert frame[F.ETH_TYPE] == F.ETH_TYPE_IPV4
    packet = frame[F.ETH_PAYLOAD:]
    assert packet[F.IPV4_VER_IHL] == F.IPV4_VER_IHL_PLAIN
    assert packet[F.IPV4_TOS] == 0x10 and packet[F.IPV4_TTL] == 33 and packet[F.IPV4_PROTOCOL] == 6
    assert _int(packet[F.IPV4_LENGTH]) == len(packet) and _int(packet[F.IPV4_IDENT]) == 0xBEEF
    assert packet[F.IPV4_FLAGS] & F.IPV4_DF_BIT and not packet[F.IPV4_FLAGS] & F.IPV4_FRAG_MASK
    assert _int(packet[F.IPV4_CHECKSUM]) == IPv4.decode(packet).checksum
    assert socket.inet_ntoa(packet[F.IPV4_SRC]) == A and socket.inet_ntoa(packet[F.IPV4_DST]) == B
    assert packet[F.IPV4_ADDRESSES] == packet[F.IPV4_SRC] + packet[F.IPV4_DST]
    seg = packet[F.IPV4_MIN_HEADER_LEN:]
    assert (_int(seg[F.TCP_SRC_PORT]), _int(seg[F.TCP_DST_PORT])) == (5001, 80)
    assert (_int(seg[F.TCP_SEQ]), _int(seg[F.TCP_ACK])) == (123456789, 987654321)
    assert seg[F.TCP_DATA_OFFSET] >> 4 == 5 and _int(seg[F.TCP_WINDOW]) == 4321
    assert seg[F.TCP_FLAGS] == F.TCP_ACK_BIT | F.TCP_PSH
    assert _int(seg[F.TCP_CHECKSUM]) == TCP.decode(seg, A, B).checksum
    # The frame-relative names are the same fields.
    for name in dir(F):
        if name.startswith("FRAME_IPV4_") and name[6:] in dir(F):
            assert frame[getattr(F, name)] == packet[getattr(F, name[6:])], name
        if name.startswith("FRAME_TCP_") and name[6:] in dir(F):
            assert frame[getattr(F, name)] == seg[getattr(F, name[6:])], name
    assert frame[F.FRAME_TCP_PORTS] == seg[:4] and len(frame) == F.FRAME_TCP_MIN + 5


def test_udp_and_arp_fields():
    dgram = UDP(53, 4000, b"xyz").encode(A, B)
    assert (_int(dgram[F.UDP_SRC_PORT]), _int(dgram[F.UDP_DST_PORT])) == (53, 4000)
    assert _int(dgram[F.UDP_LENGTH]) == F.UDP_HEADER_LEN + 3
    assert _int(dgram[F.UDP_CHECKSUM]) == UDP.decode(dgram, A, B).checksum
    arp = ARP(ARPOp.REQUEST, MAC_A, A, bytes(6), B).encode()
    frame = Ethernet(b"\xff" * 6, MAC_A, EtherType.ARP, arp).encode()
    assert frame[F.ETH_TYPE] == F.ETH_TYPE_ARP and len(frame) == F.FRAME_ARP_END
    assert _int(arp[F.ARP_OPER]) == ARPOp.REQUEST and arp[F.ARP_SHA] == MAC_A and arp[F.ARP_THA] == bytes(6)
    assert socket.inet_ntoa(frame[F.FRAME_ARP_SPA]) == A and socket.inet_ntoa(frame[F.FRAME_ARP_TPA]) == B
    assert arp[F.ARP_SPA] == frame[F.FRAME_ARP_SPA] and arp[F.ARP_TPA] == frame[F.FRAME_ARP_TPA]


def test_shifted():
    assert F.shifted(8, 14) == 22 and F.shifted(slice(12, 16), 14) == slice(26, 30)
