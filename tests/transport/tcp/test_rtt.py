"""The RFC 6298 estimator in Linux's form (tcp_rtt_estimator, __tcp_set_rto), checked against
the formulas computed by hand."""

from __future__ import annotations

import pytest

from minternet.transport.tcp.rtt import RTTEstimator

MS = 1_000_000


def test_initial_state() -> None:
    est = RTTEstimator()
    assert est.srtt is None and est.rttvar is None
    assert est.rto == 1000 * MS
    assert est.backoffs == 0


def test_first_sample() -> None:
    est = RTTEstimator()
    # 2.2: SRTT = 100, RTTVAR = 50, RTO = 100 + 4*50 = 300 ms.
    assert est.sample(100 * MS) == 300 * MS
    assert (est.srtt, est.rttvar, est.rto) == (100 * MS, 50 * MS, 300 * MS)


def test_subsequent_samples() -> None:
    est = RTTEstimator()
    est.sample(100 * MS)
    # 2.3 with R' = 180: RTTVAR = 3/4*50 + 1/4*|100-180| = 57.5, SRTT = 110;
    # RTO = SRTT + max(4*RTTVAR, rto_min) = 110 + 230 = 340 (Linux's __tcp_set_rto).
    est.sample(180 * MS)
    assert est.rttvar == 57_500_000
    assert est.srtt == 110 * MS
    assert est.rto == 340 * MS
    # R' = 110: no error, RTTVAR = 3/4*57.5 = 43.125 ms; the variance term falls by a quarter of
    # its excess over this round's largest (200 ms, rto_min): 230 - 30/4 = 222.5; RTO = 332.5.
    est.sample(110 * MS)
    assert est.rttvar == 43_125_000
    assert est.srtt == 110 * MS
    assert est.rto == 332_500_000


def test_a_falling_rtt_moves_the_deviation_slowly_like_linux() -> None:
    est = RTTEstimator(min_rto=1)
    est.sample(100 * MS)  # 4*mdev = 200 ms
    est.sample(20 * MS)  # error -80: |e| - mdev = 80 - 50 = 30, times 1/8 (Linux's gain for a drop)
    assert est.srtt == 90 * MS
    assert est.mdev == 200 * MS + 30 * MS // 8


def test_rto_min_is_a_floor_on_the_variance_term_not_on_the_rto() -> None:
    est = RTTEstimator()
    est.sample(10 * MS)  # 10 + max(4*5, 200) = 210 ms: never below SRTT + rto_min
    assert est.rto == 210 * MS
    for _ in range(50):
        est.sample(50 * MS)
    assert est.rto == est.srtt + 200 * MS and 249 * MS < est.rto <= 250 * MS
    rfc = RTTEstimator(min_rto=1000 * MS)  # RFC 6298 2.4's 1 s, as tcp.rto_min = "1s" selects
    rfc.sample(10 * MS)
    assert rfc.rto == 1010 * MS


def test_the_variance_term_is_kept_for_a_round_trip() -> None:
    """Linux keeps the largest deviation of a round trip (mdev_max): a spike raises the RTO at
    once, and only the samples of later round trips bring it down."""
    est = RTTEstimator()
    est.sample(100 * MS, snd_una=0, snd_nxt=10_000)
    est.sample(300 * MS, snd_una=1000, snd_nxt=10_000)  # a spike in the same round trip
    spiked = est.rto
    assert spiked == est.srtt + est.mdev
    for una in (2000, 3000, 4000):  # calm samples, still the same round trip: the term stays
        est.sample(125 * MS, snd_una=una, snd_nxt=10_000)
    assert est.rto - est.srtt == spiked - 125 * MS
    est.sample(125 * MS, snd_una=10_001, snd_nxt=20_000)  # that round's largest was the spike
    assert est.rto - est.srtt == spiked - 125 * MS
    est.sample(125 * MS, snd_una=20_001, snd_nxt=30_000)  # a calm round: it decays by a quarter
    assert est.rto - est.srtt < spiked - 125 * MS


def test_min_rtt_is_the_least_sample_of_the_window() -> None:
    est = RTTEstimator()
    est.sample(50 * MS, now=0)
    est.sample(20 * MS, now=MS)
    est.sample(80 * MS, now=2 * MS)
    assert est.min_rtt == 20 * MS
    est.sample(90 * MS, now=301_000 * MS)  # older than net.ipv4.tcp_min_rtt_wlen (300 s)
    assert est.min_rtt == 90 * MS


def test_max_rto_ceiling() -> None:
    est = RTTEstimator()
    est.sample(50_000 * MS)  # 50 s + 100 s, beyond TCP_RTO_MAX
    assert est.rto == 120_000 * MS


def test_backoff_doubles_and_caps_then_sample_clears() -> None:
    est = RTTEstimator()
    est.sample(100 * MS)
    assert est.backoff() == 600 * MS
    assert est.backoff() == 1200 * MS
    assert est.backoffs == 2
    for _ in range(10):
        est.backoff()
    assert est.rto == 120_000 * MS
    assert est.backoffs == 12
    # A sample of 100 again: SRTT 100, 4*RTTVAR = 150, the term decays from 200 by nothing (its
    # excess over this round's 200 is 0): RTO = 300 ms, the backoff gone.
    est.sample(100 * MS)
    assert est.rto == 300 * MS
    assert est.backoffs == 0


def test_backoff_before_any_sample() -> None:
    est = RTTEstimator()
    assert est.backoff() == 2000 * MS
    assert est.srtt is None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        RTTEstimator().sample(-1)
    with pytest.raises(ValueError):
        RTTEstimator(min_rto=2, max_rto=1)
