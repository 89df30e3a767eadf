"""The retransmission timer's estimator (RFC 6298 2 and 5.5, in Linux's form): SRTT, the mean
deviation and RTO, in integer nanoseconds; and the minimum RTT that RACK's reordering window
uses (RFC 8985 6.1, Linux's tcp_min_rtt).

Karn's algorithm (RFC 6298 3: no samples from retransmitted segments) and the timer itself are the
connection's business; this module only turns samples into an RTO.

The RTO is Linux's (tcp_rtt_estimator, __tcp_set_rto): RTO = SRTT + max(4 * mdev_max, rto_min),
where mdev_max is the largest mean deviation seen in the last round trip, and the variance term
falls toward it by a quarter per round trip rather than per sample. So rto_min is a floor on the
*variance term*, not on the RTO: on a 50 ms path the RTO is at least 250 ms, and a delayed ACK or
a little queueing does not fire it spuriously, which RFC 6298's max(RTO, 1 s) floor cut down to
200 ms (what deployed stacks wanted) would. rto_min defaults to 200 ms as Linux's TCP_RTO_MIN;
pass min_rto=1_000_000_000 (topology: ``tcp = { rto_min = "1s" }``) for RFC 6298 2.4's value.
The ceiling is Linux's TCP_RTO_MAX, 120 s.
"""

from __future__ import annotations

from .seq import seq_gt

MS = 1_000_000  # nanoseconds
MIN_RTT_WINDOW = 300_000 * MS  # Linux's net.ipv4.tcp_min_rtt_wlen: 300 s


class RTTEstimator:
    """SRTT, the mean deviation and RTO as Linux's tcp_rtt_estimator, with exponential backoff
    (RFC 6298 5.5).

    srtt and rttvar (the smoothed mean deviation, RFC 6298's RTTVAR, Linux's tcpi_rttvar) are None
    until the first sample; rto is initial_rto until then. min_rtt is the least sample of the
    last MIN_RTT_WINDOW (None before any).
    """

    __slots__ = ("srtt", "mdev", "mdev_max", "var", "rtt_seq", "rto", "backoffs", "initial_rto",
                 "min_rto", "max_rto", "min_rtt", "min_rtt_time")

    def __init__(self, initial_rto: int = 1000 * MS, min_rto: int = 200 * MS,
                 max_rto: int = 120_000 * MS) -> None:
        if not 0 < min_rto <= max_rto:
            raise ValueError(f"need 0 < min_rto <= max_rto, got min_rto={min_rto}, max_rto={max_rto}")
        self.initial_rto = initial_rto
        self.min_rto = min_rto
        self.max_rto = max_rto
        self.srtt: int | None = None
        self.mdev = 0  # 4 x the smoothed mean deviation (Linux's mdev_us)
        self.mdev_max = 0  # the largest mdev in this round trip (mdev_max_us), at least min_rto
        self.var = 0  # the variance term of the RTO (rttvar_us): at least min_rto
        self.rtt_seq: int | None = None  # the round trip ends when snd_una passes this
        self.rto = initial_rto  # RFC 6298 2.1
        self.backoffs = 0
        self.min_rtt: int | None = None
        self.min_rtt_time = 0

    @property
    def rttvar(self) -> int | None:
        """The smoothed mean deviation (RFC 6298's RTTVAR; Linux reports mdev_us / 4)."""
        return None if self.srtt is None else self.mdev // 4

    def sample(self, rtt_ns: int, snd_una: int | None = None, snd_nxt: int | None = None,
               now: int | None = None) -> int:
        """Take one RTT measurement (RFC 6298 2.2, 2.3 as Linux's tcp_rtt_estimator); returns the
        new RTO. snd_una/snd_nxt mark the round trips over which the variance term is kept (without
        them every sample is a round of its own); now (ns) ages min_rtt.

        The RTO computed from a fresh measurement replaces a backed-off one (RFC 6298 3, Karn:
        the backoff is kept until a segment that was not retransmitted is acknowledged).
        """
        if rtt_ns < 0:
            raise ValueError(f"negative RTT sample {rtt_ns}")
        m = rtt_ns
        if now is not None:
            if self.min_rtt is None or m <= self.min_rtt or now - self.min_rtt_time > MIN_RTT_WINDOW:
                self.min_rtt, self.min_rtt_time = m, now
        elif self.min_rtt is None or m < self.min_rtt:
            self.min_rtt = m
        srtt = self.srtt
        min_rto = self.min_rto
        if srtt is None:
            self.srtt = m  # 2.2: SRTT <- R, RTTVAR <- R/2, so 4*RTTVAR = 2R
            self.mdev = 2 * m
            self.var = self.mdev_max = max(self.mdev, min_rto)
            self.rtt_seq = snd_nxt
        else:
            err = m - srtt
            self.srtt = srtt + err // 8  # 2.3: SRTT <- 7/8 SRTT + 1/8 R'
            mdev = self.mdev
            if err < 0:
                # Linux: a falling RTT moves the deviation with a gain of 1/32, not 1/4, so that
                # a sudden drop does not inflate the RTO (like Eifel's RTO, without its shrinking).
                d = -err - mdev // 4
                if d > 0:
                    d //= 8
            else:
                d = err - mdev // 4
            mdev += d  # 2.3: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'| (times 4)
            self.mdev = mdev
            if mdev > self.mdev_max:
                self.mdev_max = mdev
                if mdev > self.var:
                    self.var = mdev
            rtt_seq = self.rtt_seq
            if snd_una is None or rtt_seq is None or seq_gt(snd_una, rtt_seq):
                # A round trip is over: the variance term decays toward this one's largest.
                if self.mdev_max < self.var:
                    self.var -= (self.var - self.mdev_max) // 4
                self.rtt_seq = snd_nxt
                self.mdev_max = min_rto
        self.backoffs = 0
        rto = self.srtt + self.var  # type: ignore[operator]  # __tcp_set_rto; var >= min_rto
        self.rto = rto if rto < self.max_rto else self.max_rto  # tcp_bound_rto
        return self.rto

    def backoff(self) -> int:
        """The retransmission timer expired: RTO <- RTO * 2, at most max_rto (5.5)."""
        self.rto = min(self.rto * 2, self.max_rto)
        self.backoffs += 1
        return self.rto
