"""IPv4 datagrams (RFC 791)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.wire import IPFlags, IPProto, IPv4, MalformedPacket, is_valid

from .strategies import decodes_or_malformed, examples, fuzz_inputs, ipv4_packets

# The example header from Wikipedia's "IPv4 header checksum" article: checksum 0xb861.
HEADER = bytes.fromhex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7")
PAYLOAD = bytes(range(0x73 - 20))
PACKET = HEADER + PAYLOAD


def malformed(data: bytes, reason: str, verify: bool = True) -> MalformedPacket:
    with pytest.raises(MalformedPacket) as exc:
        IPv4.decode(data, verify=verify)
    assert (exc.value.layer, exc.value.reason) == ("ipv4", reason)
    return exc.value


def test_encode_known_header() -> None:
    ip = IPv4("192.168.0.1", "192.168.0.199", IPProto.UDP, PAYLOAD, ttl=64, flags=IPFlags.DF)
    assert ip.encode() == PACKET


def test_decode_known_header() -> None:
    ip = IPv4.decode(PACKET)
    assert ip == IPv4("192.168.0.1", "192.168.0.199", 17, PAYLOAD, ttl=64, tos=0, ident=0,
                      flags=2, frag_offset=0, options=b"", checksum=0xB861)
    assert ip.df and not ip.mf and not ip.is_fragment
    assert (ip.header_length, ip.total_length) == (20, 0x73)


def test_encode_ignores_stale_checksum_field() -> None:
    ip = IPv4.decode(PACKET)._replace(ttl=63)
    assert is_valid(ip.encode()[:20])


def test_options_are_padded_to_a_multiple_of_four() -> None:
    ip = IPv4("10.0.0.1", "10.0.0.2", 1, b"x", options=b"\x94\x04\x00")  # 3 bytes
    data = ip.encode()
    assert data[0] == 0x46 and data[20:24] == b"\x94\x04\x00\x00"
    assert IPv4.decode(data).options == b"\x94\x04\x00\x00"


def test_fragment_fields() -> None:
    ip = IPv4("10.0.0.1", "10.0.0.2", 17, b"a" * 16, ident=0xBEEF, flags=IPFlags.MF, frag_offset=185)
    data = ip.encode()
    assert data[6:8] == (0x2000 | 185).to_bytes(2, "big")
    back = IPv4.decode(data)
    assert (back.mf, back.df, back.frag_offset, back.is_fragment) == (True, False, 185, True)
    last = IPv4.decode(ip._replace(flags=0).encode())
    assert last.is_fragment and not last.mf


def test_reserved_flag_round_trips() -> None:
    assert IPv4.decode(IPv4("1.2.3.4", "5.6.7.8", 6, flags=7, frag_offset=0x1FFF).encode()).flags == 7


def test_trailing_link_padding_is_ignored() -> None:
    data = IPv4("10.0.0.1", "10.0.0.2", 1, b"abc").encode()
    assert IPv4.decode(data + b"\x00" * 23).payload == b"abc"


def test_memoryview_input() -> None:
    assert IPv4.decode(memoryview(PACKET)) == IPv4.decode(PACKET)


@pytest.mark.parametrize("size", [0, 1, 19])
def test_truncated(size: int) -> None:
    malformed(PACKET[:size], "truncated")


@pytest.mark.parametrize("version", [0, 6, 15])
def test_bad_version(version: int) -> None:
    malformed(bytes([version << 4 | 5]) + PACKET[1:], "bad-version")


@pytest.mark.parametrize("ihl", [0, 1, 4])
def test_bad_ihl(ihl: int) -> None:
    malformed(bytes([0x40 | ihl]) + PACKET[1:], "bad-ihl")


def test_bad_length_total_beyond_data() -> None:
    malformed(PACKET[:-1], "bad-length")  # total length says 0x73, one byte missing


def test_bad_length_total_shorter_than_header() -> None:
    data = IPv4("10.0.0.1", "10.0.0.2", 1, options=b"\x01" * 8).encode()  # header 28 bytes
    bad = data[:2] + (24).to_bytes(2, "big") + data[4:]
    malformed(bad, "bad-length", verify=False)


def test_bad_length_header_beyond_data() -> None:
    # IHL 15 (60 bytes) in a 40-byte packet whose total length claims 40.
    data = bytes([0x4F]) + PACKET[1:2] + (40).to_bytes(2, "big") + PACKET[4:40]
    malformed(data, "bad-length", verify=False)


def test_bad_checksum() -> None:
    bad = PACKET[:10] + b"\xb8\x60" + PACKET[12:]
    exc = malformed(bad, "bad-checksum")
    assert "0xb860" in str(exc)
    assert IPv4.decode(bad, verify=False).checksum == 0xB860  # callers may opt out


def test_header_bit_flip_is_caught() -> None:
    for i in range(20):
        if i in (0, 2, 3):  # version/IHL and total length fail their own checks first
            continue
        bad = bytearray(PACKET)
        bad[i] ^= 0x10
        malformed(bytes(bad), "bad-checksum")


def test_payload_damage_is_not_the_header_checksum_business() -> None:
    bad = PACKET[:30] + b"\xff" + PACKET[31:]
    assert IPv4.decode(bad).payload[10] == 0xFF


def test_encode_limits() -> None:
    with pytest.raises(ValueError):
        IPv4("10.0.0.1", "10.0.0.2", 1, options=b"\x01" * 41).encode()
    with pytest.raises(ValueError):
        IPv4("10.0.0.1", "10.0.0.2", 1, b"x" * (65535 - 19)).encode()
    assert len(IPv4("10.0.0.1", "10.0.0.2", 1, b"x" * (65535 - 20)).encode()) == 65535


@examples(300)
@given(ipv4_packets())
def test_round_trip(ip: IPv4) -> None:
    data = ip.encode()
    back = IPv4.decode(data)
    assert back == ip._replace(checksum=int.from_bytes(data[10:12], "big"))
    assert back.encode() == data


@examples(400)
@given(fuzz_inputs(ipv4_packets().map(IPv4.encode)), st.booleans())
def test_decode_never_raises_anything_but_malformed(data: bytes, verify: bool) -> None:
    ip = decodes_or_malformed(lambda b: IPv4.decode(b, verify=verify), data, "ipv4")
    if ip is not None and verify:
        # What decoded re-encodes to the same header (but for the checksum's two representations
        # of zero) and payload.
        again = ip.encode()
        total = ip.total_length
        assert again[:10] + again[12:] == data[:10] + data[12:total]


def test_summary() -> None:
    assert IPv4.decode(PACKET).summary() == "IP 192.168.0.1 > 192.168.0.199 UDP ttl=64 id=0 len=115 DF"
    frag = IPv4("10.0.0.1", "10.0.0.2", 99, ident=7, flags=IPFlags.MF, frag_offset=3)
    assert frag.summary() == "IP 10.0.0.1 > 10.0.0.2 proto-99 ttl=64 id=7 len=20 frag off=24 +MF"
