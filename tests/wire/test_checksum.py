"""The Internet checksum (RFC 1071), the pseudo-header, and incremental update (RFC 1624)."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.wire import IPv4, UDP, incremental_update, internet_checksum, is_valid, ones_sum
from minternet.wire.checksum import ones_sum2, pseudo_header_sum, sum_mod_ffff

from .strategies import big_payloads, examples, ipv4_packets


def reference_sum(data: bytes, initial: int = 0) -> int:
    """RFC 1071 4.1, word by word with end-around carry: the slow, obvious definition."""
    if len(data) & 1:
        data += b"\x00"
    total = initial
    for (word,) in struct.iter_unpack("!H", data):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_rfc1071_example() -> None:
    # RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (carries folded back in).
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert ones_sum(data) == 0xDDF2
    assert internet_checksum(data) == 0x220D
    assert is_valid(data + (0x220D).to_bytes(2, "big"))


def test_wikipedia_ipv4_header() -> None:
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert internet_checksum(header) == 0xB861
    assert is_valid(header[:10] + b"\xb8\x61" + header[12:])
    assert not is_valid(header[:10] + b"\xb8\x62" + header[12:])


def test_zero_and_negative_zero() -> None:
    assert ones_sum(b"") == 0
    assert ones_sum(b"\x00" * 40) == 0  # positive zero: only when every word is zero
    assert internet_checksum(b"\x00" * 40) == 0xFFFF
    # A nonzero buffer whose sum is a multiple of 0xFFFF is "negative zero", 0xFFFF, never 0.
    assert ones_sum(b"\xff\xff") == 0xFFFF
    assert ones_sum(b"\x00\x01\xff\xfe") == 0xFFFF
    assert ones_sum(b"\xff\xff" * 1000) == 0xFFFF  # long enough to take the folding path
    assert internet_checksum(b"\x00\x01\xff\xfe") == 0
    assert ones_sum(b"", 0xFFFF) == 0xFFFF
    assert ones_sum(b"\x00\x00", 0x1FFFE) == 0xFFFF


def test_odd_lengths_pad_with_a_zero_byte() -> None:
    assert ones_sum(b"\x01") == 0x0100
    assert ones_sum(b"\x01\x02\x03") == 0x0102 + 0x0300
    assert ones_sum(b"\xab" * 7) == reference_sum(b"\xab" * 7)
    assert ones_sum2(b"\x00\x01", b"\x02") == 0x0001 + 0x0200


def test_initial_value_is_added() -> None:
    assert ones_sum(b"\x00\x01", 5) == 6
    assert ones_sum(b"\xff\xf0", 0x20) == 0x0011  # carry wraps around


def test_pseudo_header_sum() -> None:
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    # words: 0a00 0001 0a00 0002 0006 0014
    expected = 0x0A00 + 0x0001 + 0x0A00 + 0x0002 + 6 + 20
    assert ones_sum(b"", pseudo_header_sum(src, dst, 6, 20)) == expected


@examples(300)
@given(st.binary(max_size=2000), st.integers(0, 2**40))
def test_ones_sum_matches_reference(data: bytes, initial: int) -> None:
    assert ones_sum(data, initial) == reference_sum(data, initial)
    assert ones_sum(memoryview(data), initial) == reference_sum(data, initial)


def test_ones_sum_long_buffers_match_reference() -> None:
    # Jumbo sizes take several folds in _mod_ffff; deterministic data, every size class.
    rng = random.Random(1071)
    for size in (255, 256, 257, 1500, 4096, 9000, 65535):
        data = rng.randbytes(size)
        assert ones_sum(data) == reference_sum(data), size
    assert ones_sum(b"\xff" * 65535) == reference_sum(b"\xff" * 65535)


@examples(200)
@given(st.one_of(st.binary(max_size=700), big_payloads))
def test_sum_mod_ffff_is_the_sum_reduced(data: bytes) -> None:
    # The codecs' fast path: the ones' complement sum, but 0 where that is 0xFFFF.
    assert sum_mod_ffff(data) == reference_sum(data) % 0xFFFF
    assert sum_mod_ffff(memoryview(data)) == reference_sum(data) % 0xFFFF


@pytest.mark.parametrize("size", [0, 1, 2, 599, 600, 601, 602, 1460, 1461, 9001, 65535])
def test_sum_mod_ffff_sizes_around_the_fold_threshold(size: int) -> None:
    data = random.Random(size).randbytes(size)
    assert sum_mod_ffff(data) == reference_sum(data) % 0xFFFF
    assert sum_mod_ffff(b"\xff" * (size & ~1)) == 0  # 0xFFFF words: negative zero, reduced to 0


@examples(200)
@given(st.binary(max_size=600).map(lambda b: b[:len(b) & ~1]), st.binary(max_size=600),
       st.integers(0, 2**34))
def test_ones_sum2_equals_sum_of_concatenation(head: bytes, tail: bytes, initial: int) -> None:
    assert ones_sum2(head, tail, initial) == ones_sum(head + tail, initial)


@examples(200)
@given(st.binary(min_size=2, max_size=300).map(lambda b: b[:len(b) & ~1]), st.integers(0, 7))
def test_inserted_checksum_verifies_and_any_bit_flip_breaks_it(data: bytes, bit: int) -> None:
    body = b"\x00\x00" + data  # checksum field first, zeroed
    packet = internet_checksum(body).to_bytes(2, "big") + data
    assert is_valid(packet)
    damaged = bytearray(packet)
    damaged[len(packet) // 2] ^= 1 << bit
    assert not is_valid(bytes(damaged))


def test_udp_computed_zero_is_sent_as_all_ones() -> None:
    # Choose the payload word that makes the sum 0xFFFF, so the computed checksum is 0: RFC 768
    # says send 0xFFFF then, since 0 means "no checksum".
    src, dst = "10.0.0.1", "10.0.0.2"
    rest = ones_sum(UDP(1000, 2000, b"\x00\x00").encode(src, dst, with_checksum=False),
                    pseudo_header_sum(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), 17, 10))
    payload = (0xFFFF - rest).to_bytes(2, "big")
    wire = UDP(1000, 2000, payload).encode(src, dst)
    assert wire[6:8] == b"\xff\xff"
    assert UDP.decode(wire, src, dst).checksum == 0xFFFF  # and it verifies


def test_incremental_update_rfc1624_example() -> None:
    # RFC 1624 section 4: m = 0x5555 -> m' = 0x3285 with the rest summing to 0xCD7A. Eqn. 3 gives
    # 0x0000, as a full recompute does, where the older eqn. 2 gave 0xFFFF.
    assert incremental_update(0xDD2F, 0x5555, 0x3285) == 0x0000
    assert internet_checksum(bytes.fromhex("cd7a3285")) == 0x0000


def test_incremental_update_no_change_is_identity() -> None:
    for csum in (0x0000, 0x1234, 0xFFFE):
        assert incremental_update(csum, 0xBEEF, 0xBEEF) == csum


def _words(header: bytes) -> list[int]:
    return [w for (w,) in struct.iter_unpack("!H", header)]


@examples(300)
@given(ipv4_packets(payload=st.just(b"")), ipv4_packets(payload=st.just(b"")),
       st.sets(st.sampled_from(["ttl", "tos", "ident", "frag", "src", "dst", "proto"]), min_size=1))
def test_incremental_update_agrees_with_full_recompute(before: IPv4, other: IPv4, change: set[str]) -> None:
    # What a router does: change some header fields and patch the checksum word by word.
    fields = {"ttl": ["ttl"], "tos": ["tos"], "ident": ["ident"], "frag": ["flags", "frag_offset"],
              "src": ["src"], "dst": ["dst"], "proto": ["proto"]}
    after = before._replace(**{f: getattr(other, f) for c in change for f in fields[c]})
    old, new = before.encode(), after.encode()
    csum = int.from_bytes(old[10:12], "big")
    for i, (m, m2) in enumerate(zip(_words(old), _words(new))):
        if i != 5 and m != m2:  # word 5 is the checksum itself
            csum = incremental_update(csum, m, m2)
    assert csum == int.from_bytes(new[10:12], "big")
    assert is_valid(new[:after.header_length])


def test_incremental_ttl_decrement_then_decode() -> None:
    packet = bytearray(IPv4("192.0.2.1", "198.51.100.7", 6, b"x" * 10, ttl=64, ident=0x1c46).encode())
    old = int.from_bytes(packet[8:10], "big")
    packet[8] -= 1
    csum = incremental_update(int.from_bytes(packet[10:12], "big"), old, int.from_bytes(packet[8:10], "big"))
    packet[10:12] = csum.to_bytes(2, "big")
    assert IPv4.decode(bytes(packet)).ttl == 63


@pytest.mark.parametrize("initial", [0, 1, 0xFFFF, 0x10000, 2**33 + 7])
def test_internet_checksum_is_complement_of_sum(initial: int) -> None:
    data = bytes(range(1, 51))
    assert internet_checksum(data, initial) == ~reference_sum(data, initial) & 0xFFFF
