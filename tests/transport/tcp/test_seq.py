"""32-bit sequence arithmetic, especially across the wrap at 2**32."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.transport.tcp.seq import (
    in_window, seq_add, seq_diff, seq_ge, seq_gt, seq_le, seq_lt,
)

TOP = 2**32 - 1
seqs = st.integers(0, TOP)


def test_wrap_around_ordering() -> None:
    assert seq_lt(TOP, 0)
    assert seq_lt(TOP - 10, 5)
    assert seq_gt(5, TOP - 10)
    assert seq_le(TOP, TOP) and seq_ge(0, 0)
    assert not seq_lt(0, TOP)
    assert seq_lt(100, 200) and not seq_lt(200, 100)


def test_add_wraps() -> None:
    assert seq_add(TOP, 1) == 0
    assert seq_add(TOP - 1, 10) == 8
    assert seq_add(3, -5) == TOP - 1


def test_diff_signed_and_range() -> None:
    assert seq_diff(5, TOP - 10) == 16
    assert seq_diff(TOP - 10, 5) == -16
    assert seq_diff(0, 0) == 0
    # Exactly half the circle apart: +2**31 either way, never -2**31.
    assert seq_diff(2**31, 0) == 2**31
    assert seq_diff(0, 2**31) == 2**31
    assert seq_gt(2**31, 0) and seq_gt(0, 2**31)


def test_in_window_across_wrap() -> None:
    left = TOP - 99  # a window of 200: TOP-99 .. TOP, then 0 .. 99
    assert in_window(TOP - 99, left, 200)
    assert in_window(TOP, left, 200)
    assert in_window(0, left, 200)
    assert in_window(99, left, 200)
    assert not in_window(100, left, 200)
    assert not in_window(TOP - 100, left, 200)
    assert not in_window(left, left, 0)


@settings(max_examples=300)
@given(seqs, st.integers(-(2**31) + 1, 2**31))
def test_diff_inverts_add(a: int, n: int) -> None:
    b = seq_add(a, n)
    assert seq_diff(b, a) == n
    assert seq_gt(b, a) == (n > 0)
    assert seq_ge(b, a) == (n >= 0)
    assert seq_lt(b, a) == (n < 0)
    assert seq_le(b, a) == (n <= 0)


@settings(max_examples=300)
@given(seqs, seqs)
def test_complements_and_consistency(a: int, b: int) -> None:
    assert seq_lt(a, b) != seq_ge(a, b)
    assert seq_le(a, b) != seq_gt(a, b)
    assert seq_lt(a, b) == (seq_diff(a, b) < 0)
    assert seq_gt(a, b) == (seq_diff(a, b) > 0)
    assert -(2**31) < seq_diff(a, b) <= 2**31
    assert seq_add(b, seq_diff(a, b)) == a


@settings(max_examples=300)
@given(seqs, seqs, st.integers(0, 2**30))
def test_in_window_matches_offset(seq: int, left: int, size: int) -> None:
    assert in_window(seq, left, size) == (0 <= (seq - left) % 2**32 < size)
