"""ARP for IPv4 over Ethernet (RFC 826)."""

from __future__ import annotations

import pytest
from hypothesis import given

from minternet.wire import ARP, ARPOp, BROADCAST, MalformedPacket

from .strategies import arp_messages, decodes_or_malformed, examples, fuzz_inputs

MAC_A = bytes.fromhex("020000000101")
# A who-has 10.0.0.2 tell 10.0.0.1, as a capture shows it (RFC 826 layout).
REQUEST = bytes.fromhex("0001 0800 06 04 0001 020000000101 0a000001 000000000000 0a000002")


def test_encode_known_bytes() -> None:
    arp = ARP(ARPOp.REQUEST, MAC_A, "10.0.0.1", b"\x00" * 6, "10.0.0.2")
    assert arp.encode() == REQUEST
    assert len(REQUEST) == 28


def test_decode_known_bytes() -> None:
    assert ARP.decode(REQUEST) == ARP(1, MAC_A, "10.0.0.1", b"\x00" * 6, "10.0.0.2")


def test_ethernet_padding_is_ignored() -> None:
    # Ethernet pads a 28-byte ARP to the 46-byte minimum payload.
    assert ARP.decode(REQUEST + b"\x00" * 18) == ARP.decode(REQUEST)


@examples(200)
@given(arp_messages)
def test_round_trip(arp: ARP) -> None:
    assert ARP.decode(arp.encode()) == arp


@pytest.mark.parametrize("size", [0, 1, 8, 27])
def test_truncated(size: int) -> None:
    with pytest.raises(MalformedPacket) as exc:
        ARP.decode(REQUEST[:size])
    assert (exc.value.layer, exc.value.reason) == ("arp", "truncated")


@pytest.mark.parametrize("offset, value", [
    (0, b"\x00\x06"),  # htype IEEE 802
    (2, b"\x86\xdd"),  # ptype IPv6
    (4, b"\x08"),  # hlen
    (5, b"\x10"),  # plen
])
def test_unsupported_hardware_or_protocol(offset: int, value: bytes) -> None:
    data = REQUEST[:offset] + value + REQUEST[offset + len(value):]
    with pytest.raises(MalformedPacket) as exc:
        ARP.decode(data)
    assert exc.value.reason == "unsupported"


@pytest.mark.parametrize("op", [0, 3, 4, 0xFFFF])
def test_bad_op(op: int) -> None:
    with pytest.raises(MalformedPacket) as exc:
        ARP.decode(REQUEST[:6] + op.to_bytes(2, "big") + REQUEST[8:])
    assert exc.value.reason == "bad-op"


@examples(300)
@given(fuzz_inputs(arp_messages.map(ARP.encode), max_random=40))
def test_decode_never_raises_anything_but_malformed(data: bytes) -> None:
    arp = decodes_or_malformed(ARP.decode, data, "arp")
    if arp is not None:
        assert arp.encode() == data[:28]


def test_summary() -> None:
    assert ARP.decode(REQUEST).summary() == "ARP who-has 10.0.0.2 tell 10.0.0.1"
    reply = ARP(ARPOp.REPLY, MAC_A, "10.0.0.1", bytes.fromhex("020000000202"), "10.0.0.2")
    assert reply.summary() == "ARP reply 10.0.0.1 is-at 02:00:00:00:01:01"
    announce = ARP(ARPOp.REQUEST, MAC_A, "10.0.0.1", BROADCAST, "10.0.0.1")
    assert announce.is_gratuitous and not reply.is_gratuitous
    assert "gratuitous" in announce.summary()
