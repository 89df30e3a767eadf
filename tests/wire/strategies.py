"""Shared Hypothesis strategies and helpers for the wire tests: valid packets of every layer, and
mutations of their bytes (bit flips, truncations, insertions) for the robustness properties."""

from __future__ import annotations

import os
import random
import socket
from typing import Callable

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from minternet.wire import (ARP, EOL, ICMP, MSS, NOP, TCP, UDP, Ethernet, IPv4, MalformedPacket, Sack,
                            SackPermitted, Timestamps, UnknownOption, WindowScale)
from minternet.wire.tcp import TCPOption

# Deterministic by default (same examples every run). MINTERNET_FUZZ=N multiplies the example
# counts and draws fresh random examples, for a longer hunt by hand.
_FUZZ = int(os.environ.get("MINTERNET_FUZZ", "0"))


def examples(n: int) -> settings:
    return settings(max_examples=n * max(_FUZZ, 1), deadline=None, derandomize=not _FUZZ,
                    database=None, suppress_health_check=[HealthCheck.too_slow])


# Every reason a codec may give; a robustness property fails on any other tag.
REASONS = frozenset({"truncated", "bad-version", "bad-ihl", "bad-length", "bad-checksum",
                     "bad-data-offset", "bad-option", "unsupported", "bad-op"})

# -- fields -----------------------------------------------------------------------------------------
u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
macs = st.binary(min_size=6, max_size=6)
ipv4_addrs = u32.map(lambda i: socket.inet_ntoa(i.to_bytes(4, "big")))
# Mostly short; sometimes a full-sized segment or more, where the checksum code folds its big
# integer before reducing it (sizes odd and even, bytes from a seeded generator: cheap to draw).
big_payloads = st.tuples(st.integers(590, 9000), u32).map(lambda t: random.Random(t[1]).randbytes(t[0]))
payloads = st.one_of(st.binary(max_size=80), big_payloads)

# -- TCP options ------------------------------------------------------------------------------------
_KNOWN_KINDS = {0, 1, 2, 3, 4, 5, 8}
unknown_kinds = st.integers(2, 255).filter(lambda k: k not in _KNOWN_KINDS)
tcp_option_one: st.SearchStrategy[TCPOption] = st.one_of(
    st.just(NOP()),
    st.builds(MSS, u16),
    st.builds(WindowScale, u8),
    st.just(SackPermitted()),
    st.builds(Sack, st.lists(st.tuples(u32, u32), min_size=1, max_size=4).map(tuple)),
    st.builds(Timestamps, u32, u32),
    st.builds(UnknownOption, unknown_kinds, st.binary(max_size=10)),
)


def _options_len(options: tuple[TCPOption, ...]) -> int:
    return sum(len(o.encode()) for o in options)


# A list that fits in 40 bytes; EOL, when present, only at the end (a decoder stops there).
tcp_options = st.tuples(st.lists(tcp_option_one, max_size=6).map(tuple), st.booleans()).map(
    lambda t: t[0] + ((EOL(),) if t[1] else ())).filter(lambda o: _options_len(o) <= 40)


def options_after_round_trip(options: tuple[TCPOption, ...]) -> tuple[TCPOption, ...]:
    """What decode_options returns for encode_options(options): the zero padding reads as one EOL."""
    if options and isinstance(options[-1], EOL):
        return options
    return options + ((EOL(),) if _options_len(options) % 4 else ())


# -- headers ----------------------------------------------------------------------------------------
tcp_segments = st.builds(TCP, sport=u16, dport=u16, seq=u32, ack=u32, flags=u8, window=u16,
                         payload=payloads, urgent=u16, options=tcp_options,
                         reserved=st.integers(0, 15))
udp_datagrams = st.builds(UDP, sport=u16, dport=u16, payload=payloads)
icmp_messages = st.builds(ICMP, type=u8, code=u8, rest=u32, payload=payloads)
arp_messages = st.builds(ARP, op=st.sampled_from([1, 2]), sha=macs, spa=ipv4_addrs, tha=macs,
                         tpa=ipv4_addrs)
ip_options = st.integers(0, 10).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n))


def ipv4_packets(proto: st.SearchStrategy[int] = u8,
                 payload: st.SearchStrategy[bytes] = payloads) -> st.SearchStrategy[IPv4]:
    return st.builds(IPv4, src=ipv4_addrs, dst=ipv4_addrs, proto=proto, payload=payload, ttl=u8,
                     tos=u8, ident=u16, flags=st.integers(0, 7), frag_offset=st.integers(0, 0x1FFF),
                     options=ip_options)


@st.composite
def valid_frames(draw: st.DrawFn) -> bytes:
    """A whole, valid Ethernet frame: ARP, or IPv4 carrying TCP, UDP, ICMP or something else."""
    kind = draw(st.sampled_from(["arp", "tcp", "udp", "icmp", "other"]))
    dst, src = draw(macs), draw(macs)
    if kind == "arp":
        return Ethernet(dst, src, 0x0806, draw(arp_messages).encode()).encode()
    ip_src, ip_dst = draw(ipv4_addrs), draw(ipv4_addrs)
    if kind == "tcp":
        proto, inner = 6, draw(tcp_segments).encode(ip_src, ip_dst)
    elif kind == "udp":
        proto, inner = 17, draw(udp_datagrams).encode(ip_src, ip_dst)
    elif kind == "icmp":
        proto, inner = 1, draw(icmp_messages).encode()
    else:
        proto, inner = draw(st.sampled_from([0, 2, 47, 89, 132])), draw(payloads)
    unfragmented = draw(st.booleans())
    ip = IPv4(ip_src, ip_dst, proto, inner, ttl=draw(u8), ident=draw(u16),
              flags=draw(st.sampled_from([0, 2])) if unfragmented else draw(st.integers(0, 7)),
              frag_offset=0 if unfragmented else draw(st.integers(0, 0x1FFF)),
              options=draw(st.sampled_from([b"", b"\x94\x04\x00\x00", b"\x01\x01\x01\x00"])))
    return Ethernet(dst, src, 0x0800, ip.encode()).encode()


# -- mutations --------------------------------------------------------------------------------------
@st.composite
def mutated(draw: st.DrawFn, packets: st.SearchStrategy[bytes]) -> bytes:
    """A valid packet damaged by one to three bit flips, truncations, insertions or deletions."""
    data = bytearray(draw(packets))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        elif op == "overwrite" and at < len(data):
            data[at] = draw(u8)
    return bytes(data)


def fuzz_inputs(valid: st.SearchStrategy[bytes], max_random: int = 100) -> st.SearchStrategy[bytes]:
    """Random bytes, and valid packets with mutations: what the robustness properties feed."""
    return st.one_of(st.binary(max_size=max_random), mutated(valid))


def decodes_or_malformed(decode: Callable[[bytes | memoryview], object], data: bytes,
                         layer: str | None = None) -> object | None:
    """Decode ``data`` as bytes and as a memoryview: the results must agree, and the only exception
    allowed is MalformedPacket with a known reason (and, when given, the expected layer)."""
    try:
        result = decode(data)
    except MalformedPacket as exc:
        assert exc.reason in REASONS, exc
        if layer is not None:
            assert exc.layer == layer, exc
        try:
            decode(memoryview(data))
        except MalformedPacket as exc2:
            assert (exc2.layer, exc2.reason) == (exc.layer, exc.reason)
        else:
            raise AssertionError("memoryview input decoded where bytes did not")
        return None
    assert decode(memoryview(data)) == result
    return result
