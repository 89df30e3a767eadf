"""Congestion control behind one interface: NewReno (RFC 5681, RFC 6582) and CUBIC (RFC 9438).

The sender (sender.py) and its loss recovery (recovery.py) do the loss detection (duplicate ACK
counting, SACK, the NewReno recovery point, partial ACKs) and the retransmissions; they tell the
algorithm what happened:

- on_ack: new data was cumulatively ACKed outside loss recovery (also after an RTO, which is how
  slow start restarts from the loss window);
- on_loss: fast retransmit / entering fast recovery;
- on_timeout: the retransmission timer expired;
- on_recovery_exit: recovery ended with a full ACK.

and the algorithm keeps cwnd and ssthresh (bytes) right. Windows are bytes; CUBIC's formulas are
in segments, as in the RFC, and converted at the edges.

Not done here: the cwnd-limited check (RFC 7661, RFC 9438 5.8: do not grow cwnd while the
application sends less than it allows) needs the connection's view of what it was allowed to send;
in_flight is passed for it but not used to gate growth.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

INFINITE_SSTHRESH = 2**31 - 1  # RFC 5681 3.1: "arbitrarily high"; more than any window (2**30)


def initial_window(mss: int) -> int:
    """RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600))."""
    return min(10 * mss, max(2 * mss, 14600))


class CongestionControl(ABC):
    """cwnd and ssthresh in bytes, and the events that move them.

    Slow start is common to both algorithms: RFC 5681 3.1 with appropriate byte counting
    (RFC 3465 2.2) and the limit L = 2*SMSS, so that delayed ACKs (one per two segments) still
    double cwnd every RTT. Slow start stops at ssthresh; the rest of that ACK counts toward
    congestion avoidance (as Linux does), so the window lands on ssthresh exactly.
    """

    name: ClassVar[str] = ""
    __slots__ = ("mss", "cwnd", "ssthresh", "_rto_repeat")

    def __init__(self, mss: int, initial_window: int | None = None) -> None:
        if mss <= 0:
            raise ValueError(f"mss must be positive, got {mss}")
        self.mss = mss
        self.cwnd = _initial_window(mss) if initial_window is None else initial_window
        if self.cwnd <= 0:
            raise ValueError(f"initial window must be positive, got {self.cwnd}")
        self.ssthresh = INFINITE_SSTHRESH
        # True between an RTO and the next ACK of new data: a second timeout of the same segment
        # does not lower ssthresh again (RFC 5681 3.1, the paragraph after equation 4).
        self._rto_repeat = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} cwnd={self.cwnd} ssthresh={self.ssthresh} mss={self.mss}>"

    def in_slow_start(self) -> bool:
        """RFC 5681 3.1: slow start while cwnd < ssthresh."""
        return self.cwnd < self.ssthresh

    def on_ack(self, acked: int, now: int, rtt: int | None, in_flight: int) -> None:
        """acked bytes of new data were cumulatively ACKed outside recovery, at time now (ns);
        rtt is the smoothed RTT (ns) if known."""
        if acked <= 0:
            return
        self._rto_repeat = False
        cwnd = self.cwnd
        ssthresh = self.ssthresh
        if cwnd < ssthresh:
            inc = 2 * self.mss  # RFC 3465 2.2: cwnd += min(N, L*SMSS), L = 2
            if acked < inc:
                inc = acked
            if cwnd + inc <= ssthresh:
                self.cwnd = cwnd + inc
                return
            self.cwnd = ssthresh
            acked -= ssthresh - cwnd
            if acked <= 0:
                return
        self._congestion_avoidance(acked, now, rtt)

    @abstractmethod
    def _congestion_avoidance(self, acked: int, now: int, rtt: int | None) -> None:
        """Grow cwnd for acked bytes while cwnd >= ssthresh."""

    @abstractmethod
    def _ssthresh_after_loss(self, in_flight: int) -> int:
        """The new ssthresh after a congestion event with in_flight bytes outstanding."""

    def on_loss(self, in_flight: int, now: int) -> None:
        """Entering fast recovery (3 duplicate ACKs or SACK loss detection).

        cwnd = ssthresh: RFC 5681 3.2 step 3's "+ 3*SMSS" inflation, and the per-duplicate-ACK
        inflation after it, are left to the connection (a SACK sender uses pipe instead,
        RFC 6675 5).
        """
        self.ssthresh = self._ssthresh_after_loss(in_flight)
        self.cwnd = self.ssthresh

    def on_timeout(self, in_flight: int, now: int, reduce: bool = True) -> None:
        """The retransmission timer expired: cwnd = the loss window, 1 SMSS (RFC 5681 3.1).
        reduce=False: ssthresh was already lowered in this episode (a timeout during fast
        recovery, Linux's tcp_enter_loss)."""
        if not self._rto_repeat and reduce:
            self.ssthresh = self._ssthresh_after_loss(in_flight)
        self._rto_repeat = True
        self.cwnd = self.mss

    def on_recovery_exit(self, now: int) -> None:
        """A full ACK ended fast recovery: deflate, cwnd = ssthresh (RFC 6582 3.2 step 6,
        option 2)."""
        self.cwnd = self.ssthresh

    def undo(self, prior_cwnd: int, prior_ssthresh: int) -> None:
        """The last reduction was spurious (F-RTO, Eifel, D-SACK): back to the window before it
        (Linux's tcp_undo_cwnd_reduction with tcp_reno_undo_cwnd, which CUBIC uses too)."""
        self.cwnd = max(self.cwnd, prior_cwnd)
        if prior_ssthresh > self.ssthresh:
            self.ssthresh = prior_ssthresh
        self._rto_repeat = False


_initial_window = initial_window  # the parameter of the same name shadows it in __init__


class NewReno(CongestionControl):
    """RFC 5681 congestion avoidance with byte counting, halving on loss.

    Congestion avoidance (RFC 3465 2.1): count the bytes ACKed; each time the count reaches cwnd,
    take cwnd off it and add one SMSS to cwnd. That is exactly one SMSS per window of data
    ACKed, however the ACKs are spaced, which RFC 5681's per-ACK SMSS*SMSS/cwnd only
    approximates (and underestimates with delayed ACKs).
    """

    name = "reno"
    __slots__ = ("_bytes_acked",)

    def __init__(self, mss: int, initial_window: int | None = None) -> None:
        super().__init__(mss, initial_window)
        self._bytes_acked = 0

    def _congestion_avoidance(self, acked: int, now: int, rtt: int | None) -> None:
        bytes_acked = self._bytes_acked + acked
        if bytes_acked >= self.cwnd:
            bytes_acked -= self.cwnd
            self.cwnd += self.mss
        self._bytes_acked = bytes_acked

    def _ssthresh_after_loss(self, in_flight: int) -> int:
        return max(in_flight // 2, 2 * self.mss)  # RFC 5681 equation (4)

    def on_loss(self, in_flight: int, now: int) -> None:
        super().on_loss(in_flight, now)
        self._bytes_acked = 0

    def on_timeout(self, in_flight: int, now: int, reduce: bool = True) -> None:
        super().on_timeout(in_flight, now, reduce)
        self._bytes_acked = 0

    def on_recovery_exit(self, now: int) -> None:
        super().on_recovery_exit(now)
        self._bytes_acked = 0


C_CUBIC = 0.4  # RFC 9438 4.1, segments / second**3
BETA_CUBIC = 0.7  # RFC 9438 4.6
ALPHA_CUBIC = 3 * (1 - BETA_CUBIC) / (1 + BETA_CUBIC)  # RFC 9438 4.3, about 0.53


def _cbrt(x: float) -> float:
    return math.copysign(abs(x) ** (1 / 3), x)


class Cubic(CongestionControl):
    """RFC 9438 CUBIC.

    After a congestion event at window W_max the window follows, from the first ACK of the next
    congestion avoidance stage (the epoch, t = 0),

        W_cubic(t) = C * (t - K)**3 + W_max,   K = cbrt((W_max - cwnd_epoch) / C)   (4.2)

    concave up to W_max, then convex beyond it; each ACK moves cwnd a fraction of the way toward
    W_cubic(t + RTT), at most 1.5x per RTT (4.4, 4.5). Where Reno would be faster (W_est, 4.3),
    cwnd follows Reno's estimate instead. W_max, K, W_est and cwnd_epoch are in segments (floats),
    t in seconds, as in the RFC; cwnd stays bytes.

    Left out: the spurious-congestion undo (4.9) and HyStart++ (4.10 allows standard slow start).
    """

    name = "cubic"
    __slots__ = ("fast_convergence", "w_max", "k", "t_epoch", "cwnd_epoch", "w_est",
                 "cwnd_prior", "_alpha", "_frac", "_rtt", "_after_timeout")

    def __init__(self, mss: int, initial_window: int | None = None,
                 fast_convergence: bool = True) -> None:
        super().__init__(mss, initial_window)
        self.fast_convergence = fast_convergence
        self.w_max: float | None = None  # segments; None before the first congestion event
        self.k = 0.0  # seconds
        self.t_epoch: int | None = None  # ns; None until the first ACK after a congestion event
        self.cwnd_epoch = 0.0
        self.w_est = 0.0
        self.cwnd_prior: float | None = None  # cwnd (segments) when ssthresh was last set
        self._alpha = ALPHA_CUBIC
        self._frac = 0.0  # the fraction of a byte that cwnd's int dropped, carried to the next ACK
        self._rtt = 0  # the last smoothed RTT seen, ns
        self._after_timeout = False

    def w_cubic(self, t: float) -> float:
        """W_cubic(t) in segments, t in seconds since the epoch (RFC 9438 Figure 1)."""
        d = t - self.k
        return C_CUBIC * d * d * d + (self.w_max or 0.0)

    def _start_epoch(self, now: int) -> None:
        mss = self.mss
        cwnd_epoch = self.cwnd / mss
        self.t_epoch = now
        self.cwnd_epoch = cwnd_epoch
        self.w_est = cwnd_epoch  # 4.3
        self._frac = 0.0
        if self.w_max is None or self._after_timeout:
            # 4.8: the first congestion avoidance after a timeout starts at its own window,
            # K = 0; so does a flow that has not seen a congestion event.
            self.w_max = cwnd_epoch
            self.k = 0.0
            self._after_timeout = False
        else:
            # 4.2 Figure 2; negative when the epoch starts above W_max (already convex).
            self.k = _cbrt((self.w_max - cwnd_epoch) / C_CUBIC)
        prior = self.cwnd_prior
        self._alpha = 1.0 if prior is None or cwnd_epoch >= prior else ALPHA_CUBIC

    def _congestion_avoidance(self, acked: int, now: int, rtt: int | None) -> None:
        if rtt is not None:
            self._rtt = rtt
        if self.t_epoch is None:
            self._start_epoch(now)
        mss = self.mss
        cwnd = self.cwnd
        cwnd_seg = cwnd / mss
        segments_acked = acked / mss
        # 4.3: W_est grows like Reno with AIMD(alpha_cubic, beta_cubic); once it reaches the
        # window before the last reduction, with Reno's own alpha = 1.
        w_est = self.w_est + self._alpha * segments_acked / cwnd_seg
        self.w_est = w_est
        if self._alpha != 1.0 and self.cwnd_prior is not None and w_est >= self.cwnd_prior:
            self._alpha = 1.0
        t = (now - self.t_epoch) * 1e-9  # type: ignore[operator]
        if self.w_cubic(t) < w_est:
            # 4.3 Reno-friendly region: cwnd = W_est (never lowered by an ACK, as Linux).
            new = w_est * mss
            if new <= cwnd:
                return
        else:
            # 4.4/4.5: target = W_cubic(t + RTT) clamped to [cwnd, 1.5*cwnd]; cwnd grows by
            # (target - cwnd) / cwnd per segment ACKed.
            target = self.w_cubic(t + self._rtt * 1e-9)
            if target <= cwnd_seg:
                return
            if target > 1.5 * cwnd_seg:
                target = 1.5 * cwnd_seg
            new = cwnd + (target - cwnd_seg) / cwnd_seg * acked + self._frac
        whole = int(new)
        self._frac = new - whole
        self.cwnd = whole

    def _ssthresh_after_loss(self, in_flight: int) -> int:
        # 4.6: ssthresh = flight_size * beta_cubic, at least 2 segments.
        return max(int(in_flight * BETA_CUBIC), 2 * self.mss)

    def on_loss(self, in_flight: int, now: int) -> None:
        cwnd_seg = self.cwnd / self.mss
        # 4.7 fast convergence: a flow losing below its last W_max is releasing bandwidth to a
        # newcomer, so it aims lower.
        if self.fast_convergence and self.w_max is not None and cwnd_seg < self.w_max:
            self.w_max = cwnd_seg * (1 + BETA_CUBIC) / 2
        else:
            self.w_max = cwnd_seg
        self.cwnd_prior = cwnd_seg
        super().on_loss(in_flight, now)
        self.t_epoch = None
        self._after_timeout = False

    def on_timeout(self, in_flight: int, now: int, reduce: bool = True) -> None:
        if not self._rto_repeat and reduce:
            self.cwnd_prior = self.cwnd / self.mss
        super().on_timeout(in_flight, now, reduce)  # 4.8: Reno's loss window, ssthresh with beta_cubic
        self.t_epoch = None
        self._after_timeout = True

    def undo(self, prior_cwnd: int, prior_ssthresh: int) -> None:
        super().undo(prior_cwnd, prior_ssthresh)
        self.t_epoch = None  # the curve before the reduction (w_max) carries on
        self._after_timeout = False

    def on_recovery_exit(self, now: int) -> None:
        super().on_recovery_exit(now)
        self.t_epoch = None  # the epoch starts at the first ACK after the congestion event


_ALGORITHMS: dict[str, type[CongestionControl]] = {"reno": NewReno, "newreno": NewReno, "cubic": Cubic}


def make_congestion_control(name: str, mss: int) -> CongestionControl:
    """The algorithm called name ("reno", "newreno" or "cubic"; case does not matter)."""
    cls = _ALGORITHMS.get(name.lower())
    if cls is None:
        valid = ", ".join(sorted(_ALGORITHMS))
        raise ValueError(f"unknown congestion control {name!r}; valid: {valid}")
    return cls(mss)
