"""RFC 6528 initial sequence numbers."""

from __future__ import annotations

import hashlib

from minternet.transport.tcp.isn import ISNGenerator

TUPLE = ("10.0.0.1", 49152, "10.0.0.2", 80)


def test_same_secret_same_isn() -> None:
    a = ISNGenerator(b"secret").isn(*TUPLE, now_ns=123_456_789)
    b = ISNGenerator(b"secret").isn(*TUPLE, now_ns=123_456_789)
    assert a == b
    assert ISNGenerator(b"other").isn(*TUPLE, now_ns=123_456_789) != a


def test_formula() -> None:
    ident = bytes([10, 0, 0, 1]) + (49152).to_bytes(2, "big") + bytes([10, 0, 0, 2]) + (80).to_bytes(2, "big")
    f = int.from_bytes(hashlib.blake2b(ident, digest_size=4, key=b"k").digest(), "big")
    assert ISNGenerator(b"k").isn(*TUPLE, now_ns=40_000) == (10 + f) % 2**32


def test_different_tuples_differ() -> None:
    gen = ISNGenerator(b"secret")
    tuples = [TUPLE, ("10.0.0.1", 49153, "10.0.0.2", 80), ("10.0.0.2", 80, "10.0.0.1", 49152),
              ("10.0.0.1", 49152, "10.0.0.3", 80), ("10.0.0.1", 49152, "10.0.0.2", 443)]
    isns = {gen.isn(*t, now_ns=0) for t in tuples}
    assert len(isns) == len(tuples)


def test_clock_advances_every_4us_and_wraps() -> None:
    gen = ISNGenerator(b"secret")
    base = gen.isn(*TUPLE, now_ns=0)
    assert gen.isn(*TUPLE, now_ns=3_999) == base
    assert gen.isn(*TUPLE, now_ns=4_000) == (base + 1) % 2**32
    assert gen.isn(*TUPLE, now_ns=1_000_000_000) == (base + 250_000) % 2**32
    # The 4 us clock wraps the 32-bit space in about 4.77 hours.
    assert gen.isn(*TUPLE, now_ns=4_000 * 2**32) == base


def test_long_secret_and_ipv6() -> None:
    gen = ISNGenerator(bytes(range(100)))
    isn = gen.isn("2001:db8::1", 1234, "2001:db8::2", 80, now_ns=0)
    assert 0 <= isn < 2**32
    assert gen.isn("2001:db8::1", 1234, "2001:db8::2", 80, now_ns=0) == isn
