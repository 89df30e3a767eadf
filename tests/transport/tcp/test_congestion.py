"""NewReno and CUBIC: windows after simulated rounds of ACKs, against the RFC formulas."""

from __future__ import annotations

import math

import pytest

from minternet.transport.tcp.congestion import (
    INFINITE_SSTHRESH, Cubic, NewReno, initial_window, make_congestion_control,
)

MSS = 1000
MS = 1_000_000


def one_rtt(cc, now: int, rtt: int, per_ack: int = 1) -> int:
    """ACK exactly one window of data (cwnd bytes as it was when the round began), per_ack
    segments per ACK, the ACKs spread over one RTT."""
    window = cc.cwnd
    size = per_ack * MSS
    acks = -(-window // size)
    step = rtt // acks
    t = now
    for _ in range(acks):
        t += step
        n = min(size, window)
        window -= n
        cc.on_ack(n, t, rtt, cc.cwnd)
    return now + rtt


def in_avoidance(cls, segments: int):
    cc = cls(MSS)
    cc.cwnd = segments * MSS
    cc.ssthresh = segments * MSS
    return cc


@pytest.mark.parametrize("mss, iw", [(1460, 14600), (1000, 10000), (536, 5360), (9000, 18000)])
def test_rfc6928_initial_window(mss: int, iw: int) -> None:
    assert initial_window(mss) == iw
    assert NewReno(mss).cwnd == iw
    assert Cubic(mss).cwnd == iw
    assert NewReno(mss, initial_window=2 * mss).cwnd == 2 * mss
    assert NewReno(mss).ssthresh == INFINITE_SSTHRESH


@pytest.mark.parametrize("cls", [NewReno, Cubic])
@pytest.mark.parametrize("per_ack", [1, 2])
def test_slow_start_doubles_per_rtt(cls, per_ack: int) -> None:
    cc = cls(MSS)
    now = 0
    for expected in (20_000, 40_000, 80_000, 160_000):
        assert cc.in_slow_start()
        now = one_rtt(cc, now, 100 * MS, per_ack)
        assert cc.cwnd == expected


def test_slow_start_byte_counting_limit() -> None:
    cc = NewReno(MSS)
    cc.on_ack(10 * MSS, 0, None, 10 * MSS)  # a stretch ACK: L = 2*SMSS (RFC 3465 2.2)
    assert cc.cwnd == 12 * MSS
    cc.on_ack(500, 0, None, 0)  # a small ACK counts its bytes, not a whole segment
    assert cc.cwnd == 12 * MSS + 500
    cc.on_ack(0, 0, None, 0)
    assert cc.cwnd == 12 * MSS + 500


def test_slow_start_stops_at_ssthresh() -> None:
    cc = NewReno(MSS)
    cc.ssthresh = 11_500
    cc.on_ack(2 * MSS, 0, None, 0)
    assert cc.cwnd == 11_500 and not cc.in_slow_start()
    # The 500 bytes left over went to congestion avoidance's byte count.
    for _ in range(11):
        cc.on_ack(MSS, 0, None, 0)
    assert cc.cwnd == 12_500


@pytest.mark.parametrize("per_ack", [1, 2])
def test_reno_congestion_avoidance_one_mss_per_rtt(per_ack: int) -> None:
    cc = in_avoidance(NewReno, 20)
    now = 0
    for rounds in range(1, 11):
        now = one_rtt(cc, now, 100 * MS, per_ack)
        assert cc.cwnd == (20 + rounds) * MSS


def test_reno_loss_and_recovery_exit() -> None:
    cc = in_avoidance(NewReno, 40)
    cc.on_loss(30_000, 0)  # RFC 5681 equation (4): FlightSize / 2
    assert (cc.ssthresh, cc.cwnd) == (15_000, 15_000)
    cc.cwnd += 3 * MSS  # the connection's inflation during recovery
    cc.on_recovery_exit(0)
    assert cc.cwnd == 15_000
    cc.on_loss(3000, 0)  # but at least 2*SMSS
    assert (cc.ssthresh, cc.cwnd) == (2000, 2000)


def test_reno_timeout() -> None:
    cc = in_avoidance(NewReno, 40)
    cc.on_timeout(40_000, 0)
    assert (cc.ssthresh, cc.cwnd) == (20_000, MSS)
    # The same segment timing out again keeps ssthresh (RFC 5681 3.1), cwnd stays 1 SMSS.
    cc.on_timeout(MSS, 0)
    assert (cc.ssthresh, cc.cwnd) == (20_000, MSS)
    # Slow start from the loss window, and a later, new timeout lowers ssthresh again.
    cc.on_ack(MSS, 0, None, MSS)
    assert cc.cwnd == 2 * MSS and cc.in_slow_start()
    cc.on_timeout(2 * MSS, 0)
    assert (cc.ssthresh, cc.cwnd) == (2 * MSS, MSS)


def test_make_congestion_control() -> None:
    assert isinstance(make_congestion_control("reno", MSS), NewReno)
    assert isinstance(make_congestion_control("newreno", MSS), NewReno)
    assert isinstance(make_congestion_control("CUBIC", MSS), Cubic)
    assert make_congestion_control("cubic", 1460).mss == 1460
    assert NewReno.name == "reno" and Cubic.name == "cubic"
    with pytest.raises(ValueError, match="cubic, newreno, reno"):
        make_congestion_control("bbr", MSS)


def cubic_after_loss(w_max: int, in_flight: int | None = None, **kw) -> Cubic:
    cc = in_avoidance(lambda mss: Cubic(mss, **kw), w_max)
    cc.on_loss(w_max * MSS if in_flight is None else in_flight, 0)
    cc.on_recovery_exit(0)
    return cc


def test_cubic_multiplicative_decrease() -> None:
    cc = cubic_after_loss(100)
    assert cc.w_max == 100
    assert (cc.ssthresh, cc.cwnd) == (70_000, 70_000)  # RFC 9438 4.6: beta_cubic = 0.7
    assert cc.t_epoch is None  # the epoch starts with the next ACK
    small = cubic_after_loss(2)
    assert (small.ssthresh, small.cwnd) == (2 * MSS, 2 * MSS)
    cc.on_timeout(50_000, 0)
    assert (cc.ssthresh, cc.cwnd) == (35_000, MSS)  # 4.8: ssthresh with beta_cubic, Reno's LW


def test_cubic_k_and_curve() -> None:
    cc = cubic_after_loss(100)
    rtt = 100 * MS
    cc.on_ack(MSS, 0, rtt, cc.cwnd)
    # RFC 9438 Figure 2: K = cbrt((W_max - cwnd_epoch) / C) = cbrt((100 - 70) / 0.4) = cbrt(75)
    assert cc.k == pytest.approx(4.217163, abs=1e-6)
    assert cc.cwnd_epoch == 70
    # Figure 1: W_cubic(t) = C (t - K)^3 + W_max; by hand: (1 - 4.217163)^3 = -33.29809.
    assert cc.w_cubic(0) == pytest.approx(70)
    assert cc.w_cubic(1.0) == pytest.approx(100 - 0.4 * 33.29809, abs=1e-4)
    assert cc.w_cubic(cc.k) == pytest.approx(100)
    assert cc.w_cubic(6.0) == pytest.approx(100 + 0.4 * (6 - 4.217163) ** 3)
    # The window follows the curve (concave, flat at W_max, convex) while the curve is ahead of
    # Reno's estimate, and Reno's estimate where it is not (4.3).
    now = 0
    regions = set()
    seen = {}
    while now < 10_000 * MS:
        now = one_rtt(cc, now, rtt)
        t = now / 1e9
        seen[round(t, 1)] = cc.cwnd / MSS
        expected = max(cc.w_cubic(t), cc.w_est)
        regions.add("cubic" if cc.w_cubic(t) >= cc.w_est else "reno")
        assert abs(cc.cwnd / MSS - expected) < 1, (t, cc.cwnd, cc.w_cubic(t), cc.w_est)
    assert regions == {"cubic", "reno"}
    assert seen[1.0] == pytest.approx(86.68, abs=0.5)
    assert seen[4.2] == pytest.approx(100, abs=0.5)
    assert cc.cwnd > 150 * MSS  # convex beyond W_max


def test_cubic_epoch_starting_above_w_max() -> None:
    # More in flight than cwnd: the window after the decrease is above W_max, K is negative and
    # the curve is already convex at t = 0.
    cc = cubic_after_loss(100, in_flight=200_000)
    assert cc.cwnd == 140_000
    cc.on_ack(MSS, 0, 100 * MS, cc.cwnd)
    assert cc.k == pytest.approx(-math.cbrt(100))
    assert cc.w_cubic(0) == pytest.approx(140)


def test_cubic_reno_friendly_region() -> None:
    # A small window on a short path: Reno's estimate outgrows the cubic curve (RFC 9438 4.3).
    cc = cubic_after_loss(10)
    rtt = 1 * MS
    now = 0
    for _ in range(100):
        now = one_rtt(cc, now, rtt)
    t = (now - cc.t_epoch) / 1e9
    assert cc.w_cubic(t) < 8
    assert cc.cwnd / MSS == pytest.approx(cc.w_est, abs=1)
    # alpha_cubic = 3(1 - 0.7)/(1 + 0.7) until W_est reaches cwnd_prior = 10 (from 7: about 6
    # RTTs), then 1 segment per RTT: about 100 - 6 + 10 segments after 100 RTTs.
    assert 100 <= cc.cwnd / MSS <= 106


def test_cubic_fast_convergence() -> None:
    cc = cubic_after_loss(100)
    cc.cwnd = 80_000
    cc.on_loss(80_000, 0)  # below the last W_max: W_max = cwnd (1 + beta) / 2 (RFC 9438 4.7)
    assert cc.w_max == pytest.approx(68)
    cc.cwnd = 90_000
    cc.on_loss(90_000, 0)  # above it: W_max = cwnd
    assert cc.w_max == pytest.approx(90)
    slow = cubic_after_loss(100, fast_convergence=False)
    slow.cwnd = 80_000
    slow.on_loss(80_000, 0)
    assert slow.w_max == pytest.approx(80)


def test_cubic_after_timeout_k_zero() -> None:
    cc = cubic_after_loss(100)
    cc.on_timeout(100_000, 0)
    assert (cc.ssthresh, cc.cwnd) == (70_000, MSS)
    now = 0
    while cc.in_slow_start():
        now = one_rtt(cc, now, 100 * MS)
    cc.on_ack(MSS, now, 100 * MS, cc.cwnd)
    # RFC 9438 4.8: K = 0 and W_max = the window at the start of congestion avoidance.
    assert cc.k == 0
    assert cc.w_max == cc.cwnd_epoch == 70


def test_cubic_beats_reno_on_a_long_fat_path() -> None:
    rtt = 100 * MS
    cubic, reno = cubic_after_loss(500), in_avoidance(NewReno, 500)
    reno.on_loss(500_000, 0)
    reno.on_recovery_exit(0)
    now = 0
    while now < 20_000 * MS:
        before = cubic.cwnd
        one_rtt(reno, now, rtt, per_ack=4)
        now = one_rtt(cubic, now, rtt, per_ack=4)
        assert cubic.cwnd <= 1.5 * before + MSS  # 4.4/4.5: target at most 1.5 cwnd
    assert reno.cwnd == pytest.approx(450_000, abs=5 * MSS)  # 250 + 1 per RTT for 200 RTTs
    # W_cubic(20 s) = 0.4 (20 - cbrt(375))^3 + 500, about 1340 segments.
    assert cubic.cwnd / MSS == pytest.approx(cubic.w_cubic(20.0), rel=0.05)
    assert cubic.cwnd > 2.5 * reno.cwnd


def test_cubic_target_clamped_to_one_and_a_half_cwnd() -> None:
    cc = cubic_after_loss(100)
    cc.on_ack(MSS, 0, 100 * MS, cc.cwnd)
    before = cc.cwnd
    # 20 s later W_cubic is far above cwnd, but target <= 1.5 cwnd (RFC 9438 4.2): one segment
    # ACKed grows cwnd by at most (1.5 cwnd - cwnd) / cwnd = half a segment.
    cc.on_ack(MSS, 20_000 * MS, 100 * MS, cc.cwnd)
    assert before < cc.cwnd <= before + MSS // 2


def test_cubic_ack_never_lowers_cwnd_to_w_est() -> None:
    cc = cubic_after_loss(10)
    now = 0
    for _ in range(20):
        now = one_rtt(cc, now, 1 * MS)
    assert cc.w_cubic((now - cc.t_epoch) / 1e9) < cc.w_est  # Reno-friendly region
    cc.cwnd += 10 * MSS  # e.g. the connection moved it
    before = cc.cwnd
    cc.on_ack(MSS, now, 1 * MS, cc.cwnd)
    assert cc.cwnd == before
