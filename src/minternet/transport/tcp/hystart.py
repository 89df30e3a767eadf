"""HyStart++ (RFC 9406) delay detection: leave slow start when the RTT starts to grow.

Slow start doubles the window every round trip until something breaks; on a path with a small
queue that is a burst of losses. HyStart++ watches the smallest RTT of each round: when it rises
by more than an eighth (clamped to 4-16 ms) above the previous round's, the queue is filling and
slow start ends there, as ns-3's and Linux's CUBIC do. (The RFC's conservative slow start phase
after the exit is not modelled: we go straight to congestion avoidance, like Linux's HyStart.)
"""

from __future__ import annotations

from .seq import seq_ge

MIN_RTT_THRESH = 4_000_000  # ns
MAX_RTT_THRESH = 16_000_000
N_RTT_SAMPLE = 8
INFINITY = 1 << 62


class HyStart:
    __slots__ = ("window_end", "last_round_min", "current_round_min", "samples", "exited")

    def __init__(self) -> None:
        self.window_end: int | None = None
        self.last_round_min = INFINITY
        self.current_round_min = INFINITY
        self.samples = 0
        self.exited = False

    def on_ack(self, ack: int, snd_nxt: int, rtt: int | None) -> bool:
        """Called for each ACK in slow start with its RTT sample; True: leave slow start now."""
        if self.window_end is None or seq_ge(ack, self.window_end):
            # RFC 9406 4.2: a new round starts when the ACK passes the end of the last one.
            self.last_round_min = self.current_round_min
            self.current_round_min = INFINITY
            self.samples = 0
            self.window_end = snd_nxt
        if rtt is None:
            return False
        if rtt < self.current_round_min:
            self.current_round_min = rtt
        self.samples += 1
        if self.samples >= N_RTT_SAMPLE and self.last_round_min != INFINITY:
            eta = min(max(self.last_round_min // 8, MIN_RTT_THRESH), MAX_RTT_THRESH)
            if self.current_round_min >= self.last_round_min + eta:
                self.exited = True
                return True
        return False
