"""ICMP for IPv4 (RFC 792, RFC 1191, RFC 1812)."""

from __future__ import annotations

import pytest
from hypothesis import given

from minternet.wire import ICMP, ICMPType, IPv4, MalformedPacket, TimeExceededCode, UnreachCode, is_valid

from .strategies import decodes_or_malformed, examples, fuzz_inputs, icmp_messages, ipv4_packets

# An echo request id=0x1234 seq=1 with 4 bytes of data; checksum worked by hand:
# 0800 + 1234 + 0001 + 6162 + 6364 = 0xdefb (no carry) -> complement 0x2104.
ECHO = bytes.fromhex("0800 2104 1234 0001 61626364")


def test_echo_request_known_bytes() -> None:
    assert ICMP.echo_request(0x1234, 1, b"abcd").encode() == ECHO


def test_decode_echo_request() -> None:
    msg = ICMP.decode(ECHO)
    assert msg == ICMP(ICMPType.ECHO_REQUEST, 0, 0x12340001, b"abcd", 0x2104)
    assert (msg.ident, msg.seq, msg.is_error) == (0x1234, 1, False)


def test_echo_reply_constructor() -> None:
    msg = ICMP.echo_reply(65535, 65535, b"z")
    assert (msg.type, msg.ident, msg.seq) == (0, 65535, 65535)
    assert is_valid(msg.encode())


def test_odd_length_payload_checksum() -> None:
    data = ICMP.echo_request(1, 2, b"abc").encode()
    assert is_valid(data) and ICMP.decode(data).payload == b"abc"


def test_all_zero_message_checksum_is_all_ones() -> None:
    data = ICMP(ICMPType.ECHO_REPLY).encode()
    assert data == b"\x00\x00\xff\xff\x00\x00\x00\x00"
    assert ICMP.decode(data).checksum == 0xFFFF


def test_dest_unreachable_frag_needed() -> None:
    original = IPv4("10.0.0.1", "10.0.0.2", 17, b"u" * 1000).encode()
    msg = ICMP.dest_unreachable(UnreachCode.FRAG_NEEDED, original, next_hop_mtu=1400)
    # RFC 1812 4.3.2.3: the whole ICMP datagram stays within 576 bytes.
    assert len(msg.payload) == 576 - 20 - 8 and msg.payload == original[:548]
    back = ICMP.decode(msg.encode())
    assert (back.type, back.code, back.next_hop_mtu, back.is_error) == (3, 4, 1400, True)
    assert back.summary() == "ICMP destination unreachable: fragmentation needed (next-hop MTU 1400)"


def test_time_exceeded() -> None:
    msg = ICMP.time_exceeded(TimeExceededCode.TTL, b"hdr")
    assert ICMP.decode(msg.encode()) == msg._replace(checksum=ICMP.decode(msg.encode()).checksum)
    assert msg.is_error and msg.summary() == "ICMP time exceeded: TTL exceeded in transit"
    assert ICMP.time_exceeded(TimeExceededCode.REASSEMBLY, b"").summary().endswith("reassembly time exceeded")


@pytest.mark.parametrize("size", [0, 1, 7])
def test_truncated(size: int) -> None:
    with pytest.raises(MalformedPacket) as exc:
        ICMP.decode(ECHO[:size])
    assert (exc.value.layer, exc.value.reason) == ("icmp", "truncated")


@pytest.mark.parametrize("index", range(len(ECHO)))
def test_any_byte_change_is_a_bad_checksum(index: int) -> None:
    bad = bytearray(ECHO)
    bad[index] ^= 0x01
    with pytest.raises(MalformedPacket) as exc:
        ICMP.decode(bytes(bad))
    assert (exc.value.layer, exc.value.reason) == ("icmp", "bad-checksum")
    assert ICMP.decode(bytes(bad), verify=False).payload == bytes(bad[8:])


def test_checksum_covers_the_payload() -> None:
    with pytest.raises(MalformedPacket):
        ICMP.decode(ECHO + b"\x00\x01")


@examples(300)
@given(icmp_messages)
def test_round_trip(msg: ICMP) -> None:
    data = msg.encode()
    assert is_valid(data)
    back = ICMP.decode(data)
    assert back == msg._replace(checksum=int.from_bytes(data[2:4], "big"))
    assert back.encode() == data


@examples(300)
@given(fuzz_inputs(icmp_messages.map(ICMP.encode)))
def test_decode_never_raises_anything_but_malformed(data: bytes) -> None:
    decodes_or_malformed(ICMP.decode, data, "icmp")
    decodes_or_malformed(lambda b: ICMP.decode(b, verify=False), data, "icmp")


@pytest.mark.parametrize("msg, text", [
    (ICMP.echo_request(1, 2, b"xy"), "ICMP echo request id=1 seq=2 len=2"),
    (ICMP.echo_reply(1, 2), "ICMP echo reply id=1 seq=2 len=0"),
    (ICMP.dest_unreachable(UnreachCode.PORT, b""), "ICMP destination unreachable: port unreachable"),
    (ICMP(3, 99), "ICMP destination unreachable (code 99)"),
    (ICMP(ICMPType.REDIRECT, 1), "ICMP redirect code=1"),
    (ICMP(200, 3), "ICMP type=200 code=3"),
])
def test_summary(msg: ICMP, text: str) -> None:
    assert msg.summary() == text


# -- the datagram an error quotes -----------------------------------------------------------------
def test_quoted_datagram_of_a_time_exceeded() -> None:
    original = IPv4("10.0.0.1", "10.0.9.9", 17, b"\x9c\x40\x82\x9b\x00\x10\xab\xcd" + b"x" * 100, ttl=1,
                    ident=77, flags=2, options=b"\x94\x04\x00\x00").encode()
    msg = ICMP.decode(ICMP.time_exceeded(TimeExceededCode.TTL, original[:24 + 8]).encode())
    quoted = msg.quoted()
    assert (quoted.src, quoted.dst, quoted.proto, quoted.ttl, quoted.ident, quoted.flags) == (
        "10.0.0.1", "10.0.9.9", 17, 1, 77, 2)
    assert quoted.options == b"\x94\x04\x00\x00"
    assert quoted.payload == original[24:32]  # only what was quoted, though total length says more


@pytest.mark.parametrize("payload", [b"", b"\x45" + bytes(18), b"\x65" + bytes(19), b"\x44" + bytes(19),
                                     b"\x46" + bytes(22)])
def test_quoted_without_a_whole_header(payload: bytes) -> None:
    with pytest.raises(MalformedPacket) as exc:
        ICMP.dest_unreachable(UnreachCode.PORT, payload).quoted()
    assert (exc.value.layer, exc.value.reason) == ("icmp", "bad-quoted-datagram")


@examples(300)
@given(fuzz_inputs(ipv4_packets().map(IPv4.encode)))
def test_quoted_never_raises_anything_but_malformed(data: bytes) -> None:
    try:
        ICMP(ICMPType.DEST_UNREACHABLE, 3, 0, data).quoted()
    except MalformedPacket as exc:
        assert exc.reason == "bad-quoted-datagram"
