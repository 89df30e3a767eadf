"""UDP datagrams (RFC 768)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.wire import UDP, MalformedPacket, is_valid, ones_sum
from minternet.wire.checksum import pseudo_header_sum

from .strategies import decodes_or_malformed, examples, fuzz_inputs, ipv4_addrs, udp_datagrams

SRC, DST = "10.0.0.1", "10.0.0.2"
_SRC_B, _DST_B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])


def malformed(data: bytes, reason: str, src: str = SRC, dst: str = DST) -> None:
    with pytest.raises(MalformedPacket) as exc:
        UDP.decode(data, src, dst)
    assert (exc.value.layer, exc.value.reason) == ("udp", reason)


def test_known_bytes() -> None:
    # Pseudo-header 0a00+0001+0a00+0002+0011+000a, header 3039+0035+000a, data 6869 ("hi"),
    # summed below the slow way, with the carry folded back in.
    data = UDP(12345, 53, b"hi").encode(SRC, DST)
    assert data[:6] == bytes.fromhex("3039 0035 000a")
    words = [0x0A00, 0x0001, 0x0A00, 0x0002, 0x0011, 0x000A, 0x3039, 0x0035, 0x000A, 0x6869]
    total = sum(words)
    total = (total & 0xFFFF) + (total >> 16)
    assert int.from_bytes(data[6:8], "big") == ~total & 0xFFFF
    assert data[8:] == b"hi"


def test_decode_fields() -> None:
    data = UDP(12345, 53, b"query").encode(SRC, DST)
    assert UDP.decode(data, SRC, DST) == UDP(12345, 53, b"query", int.from_bytes(data[6:8], "big"))
    assert is_valid(data, pseudo_header_sum(_SRC_B, _DST_B, 17, len(data)))


def test_no_checksum() -> None:
    data = UDP(1, 2, b"abc").encode(SRC, DST, with_checksum=False)
    assert data[6:8] == b"\x00\x00"
    # Zero means "not computed": accepted whatever the addresses (RFC 768).
    assert UDP.decode(data, "1.1.1.1", "2.2.2.2") == UDP(1, 2, b"abc", 0)


def test_computed_zero_is_sent_as_all_ones() -> None:
    rest = ones_sum(UDP(7, 9, b"\x00\x00").encode(SRC, DST, with_checksum=False),
                    pseudo_header_sum(_SRC_B, _DST_B, 17, 10))
    data = UDP(7, 9, (0xFFFF - rest).to_bytes(2, "big")).encode(SRC, DST)
    assert data[6:8] == b"\xff\xff"
    assert UDP.decode(data, SRC, DST).checksum == 0xFFFF


@pytest.mark.parametrize("size", [0, 1, 7])
def test_truncated(size: int) -> None:
    malformed(UDP(1, 2).encode(SRC, DST)[:size], "truncated")


@pytest.mark.parametrize("length", [0, 7, 14])
def test_bad_length(length: int) -> None:
    data = UDP(1, 2, b"abcde").encode(SRC, DST, with_checksum=False)  # 13 bytes
    malformed(data[:4] + length.to_bytes(2, "big") + data[6:], "bad-length")


def test_length_shorter_than_data_ignores_the_rest() -> None:
    data = UDP(1, 2, b"abc").encode(SRC, DST)
    assert UDP.decode(data + b"\x00\x00junk", SRC, DST).payload == b"abc"


def test_bad_checksum() -> None:
    data = bytearray(UDP(1, 2, b"abcd").encode(SRC, DST))
    data[-1] ^= 0x80
    malformed(bytes(data), "bad-checksum")
    assert UDP.decode(bytes(data), SRC, DST, verify=False).payload == b"abc\xe4"


def test_checksum_covers_the_pseudo_header() -> None:
    data = UDP(1, 2, b"abcd").encode(SRC, DST)
    malformed(data, "bad-checksum", src="10.0.0.3")
    malformed(data, "bad-checksum", dst="10.0.1.2")


def test_too_long() -> None:
    with pytest.raises(ValueError):
        UDP(1, 2, b"x" * 65528).encode(SRC, DST)


@examples(300)
@given(udp_datagrams, ipv4_addrs, ipv4_addrs)
def test_round_trip(udp: UDP, src: str, dst: str) -> None:
    data = udp.encode(src, dst)
    back = UDP.decode(data, src, dst)
    assert back == udp._replace(checksum=int.from_bytes(data[6:8], "big"))
    assert back.checksum != 0
    assert back.encode(src, dst) == data


@examples(300)
@given(fuzz_inputs(udp_datagrams.map(lambda u: u.encode(SRC, DST))), st.booleans())
def test_decode_never_raises_anything_but_malformed(data: bytes, verify: bool) -> None:
    udp = decodes_or_malformed(lambda b: UDP.decode(b, SRC, DST, verify=verify), data, "udp")
    if udp is not None and verify and udp.checksum not in (0, 0xFFFF):
        assert udp.encode(SRC, DST) == data[:8 + len(udp.payload)]


def test_summary() -> None:
    assert UDP(5353, 53, b"abc").summary() == "UDP 5353 (mdns) > 53 (domain) len=3"
    assert UDP(50000, 40000, b"").summary() == "UDP 50000 > 40000 len=0"
