"""The retransmission timer's estimator (RFC 6298 2 and 5.5): SRTT, RTTVAR and RTO, in integer
nanoseconds.

Karn's algorithm (RFC 6298 3: no samples from retransmitted segments) and the timer itself are the
connection's business; this module only turns samples into an RTO.

min_rto defaults to 200 ms, as Linux (TCP_RTO_MIN), not RFC 6298's 1 s. RFC 6298 2.4 says the RTO
SHOULD be rounded up to 1 s, a SHOULD chosen in 2000 to avoid spurious retransmissions with the
coarse clocks of the day; with fine timers and delayed ACKs capped at 200 ms, a 1 s floor mostly
makes loss recovery on short paths slow, which is why deployed stacks use 200 ms. Pass
min_rto=1_000_000_000 for the RFC's value.
"""

from __future__ import annotations

MS = 1_000_000  # nanoseconds


class RTTEstimator:
    """SRTT/RTTVAR/RTO per RFC 6298, with exponential backoff (5.5).

    srtt and rttvar are None until the first sample; rto is initial_rto until then. Arithmetic is
    integer nanoseconds: alpha = 1/8 and beta = 1/4 are applied with floor division, losing at
    most a nanosecond per sample.
    """

    __slots__ = ("srtt", "rttvar", "rto", "backoffs", "initial_rto", "min_rto", "max_rto",
                 "granularity")

    def __init__(self, initial_rto: int = 1000 * MS, min_rto: int = 200 * MS,
                 max_rto: int = 60_000 * MS, granularity: int = 1 * MS) -> None:
        if not 0 < min_rto <= max_rto:
            raise ValueError(f"need 0 < min_rto <= max_rto, got min_rto={min_rto}, max_rto={max_rto}")
        self.initial_rto = initial_rto
        self.min_rto = min_rto
        self.max_rto = max_rto
        self.granularity = granularity
        self.srtt: int | None = None
        self.rttvar: int | None = None
        self.rto = initial_rto  # RFC 6298 2.1
        self.backoffs = 0

    def sample(self, rtt_ns: int) -> int:
        """Take one RTT measurement R (RFC 6298 2.2, 2.3); returns the new RTO.

        The RTO computed from a fresh measurement replaces a backed-off one (RFC 6298 3, Karn:
        the backoff is kept until a segment that was not retransmitted is acknowledged).
        """
        if rtt_ns < 0:
            raise ValueError(f"negative RTT sample {rtt_ns}")
        srtt = self.srtt
        if srtt is None:
            srtt = rtt_ns  # 2.2: SRTT <- R, RTTVAR <- R/2
            rttvar = rtt_ns // 2
        else:
            # 2.3: RTTVAR uses the old SRTT, so it is updated first.
            rttvar = (3 * self.rttvar + abs(srtt - rtt_ns)) // 4  # type: ignore[operator]
            srtt = (7 * srtt + rtt_ns) // 8
        self.srtt = srtt
        self.rttvar = rttvar
        self.backoffs = 0
        rto = srtt + max(self.granularity, 4 * rttvar)  # 2.2/2.3: K = 4
        # 2.4 (floor, see the module docstring) and 2.5 (ceiling).
        self.rto = self.min_rto if rto < self.min_rto else self.max_rto if rto > self.max_rto else rto
        return self.rto

    def backoff(self) -> int:
        """The retransmission timer expired: RTO <- RTO * 2, at most max_rto (5.5)."""
        self.rto = min(self.rto * 2, self.max_rto)
        self.backoffs += 1
        return self.rto
