"""RFC 6298 estimator, checked against the formulas computed by hand."""

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
    # 2.3 with R' = 180: RTTVAR = 3/4*50 + 1/4*|100-180| = 37.5 + 20 = 57.5
    #                    SRTT = 7/8*100 + 1/8*180 = 110;  RTO = 110 + 230 = 340
    est.sample(180 * MS)
    assert est.rttvar == 57_500_000
    assert est.srtt == 110 * MS
    assert est.rto == 340 * MS
    # R' = 110: RTTVAR = 3/4*57.5 + 0 = 43.125; SRTT = 110; RTO = 110 + 172.5 = 282.5
    est.sample(110 * MS)
    assert est.rttvar == 43_125_000
    assert est.srtt == 110 * MS
    assert est.rto == 282_500_000


def test_min_rto_floor_and_granularity() -> None:
    est = RTTEstimator()
    est.sample(10 * MS)  # 10 + 4*5 = 30 ms, below 200 ms
    assert est.rto == 200 * MS
    rfc = RTTEstimator(min_rto=1000 * MS)
    rfc.sample(10 * MS)
    assert rfc.rto == 1000 * MS
    # With RTTVAR at 0, the clock granularity G keeps the RTO above SRTT (2.3: max(G, K*RTTVAR)).
    tiny = RTTEstimator(min_rto=1, granularity=MS)
    tiny.sample(0)
    assert tiny.rto == MS
    for _ in range(100):
        tiny.sample(500 * MS)
    assert 500 * MS < tiny.rto


def test_max_rto_ceiling() -> None:
    est = RTTEstimator()
    est.sample(50_000 * MS)  # 50 s + 100 s
    assert est.rto == 60_000 * MS


def test_backoff_doubles_and_caps_then_sample_clears() -> None:
    est = RTTEstimator()
    est.sample(100 * MS)
    assert est.backoff() == 600 * MS
    assert est.backoff() == 1200 * MS
    assert est.backoffs == 2
    for _ in range(10):
        est.backoff()
    assert est.rto == 60_000 * MS
    assert est.backoffs == 12
    # 2.3 again with R' = 100: RTTVAR = 37.5, SRTT = 100, RTO = 250 ms, backoff gone.
    est.sample(100 * MS)
    assert est.rto == 250 * MS
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
