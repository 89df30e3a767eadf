"""32-bit sequence number arithmetic (RFC 9293 3.4).

Sequence numbers live on a circle of 2**32; "a < b" means that b is less than half the circle ahead
of a. Exactly half the circle apart is ambiguous (RFC 1982 3.2 leaves it undefined); here both
numbers are then "greater" than each other, which keeps lt/ge and le/gt exact complements and
agrees with seq_diff, whose range is (-2**31, 2**31].

These functions are on the per-segment hot path, so each is one or two integer operations.
"""

from __future__ import annotations

SEQ_MOD = 1 << 32
SEQ_MASK = SEQ_MOD - 1
HALF = 1 << 31


def seq_add(a: int, n: int) -> int:
    """a + n on the circle (n may be negative)."""
    return (a + n) & SEQ_MASK


def seq_diff(a: int, b: int) -> int:
    """The signed distance a - b, in (-2**31, 2**31]."""
    d = (a - b) & SEQ_MASK
    return d - SEQ_MOD if d > HALF else d


def seq_lt(a: int, b: int) -> bool:
    """a < b, i.e. seq_diff(a, b) < 0."""
    return ((a - b) & SEQ_MASK) > HALF


def seq_le(a: int, b: int) -> bool:
    """a <= b, i.e. seq_diff(a, b) <= 0."""
    d = (a - b) & SEQ_MASK
    return d == 0 or d > HALF


def seq_gt(a: int, b: int) -> bool:
    """a > b, i.e. seq_diff(a, b) > 0."""
    d = (a - b) & SEQ_MASK
    return 0 < d <= HALF


def seq_ge(a: int, b: int) -> bool:
    """a >= b, i.e. seq_diff(a, b) >= 0."""
    return ((a - b) & SEQ_MASK) <= HALF


def in_window(seq: int, left: int, size: int) -> bool:
    """left <= seq < left + size on the circle; always false for an empty window.

    The zero-window special cases of the acceptability test (RFC 9293 3.10.7.4) belong to the
    caller, which knows whether the segment carries data.
    """
    return ((seq - left) & SEQ_MASK) < size
