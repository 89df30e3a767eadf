"""The seam between the protocol stack and the world it runs in.

The stack (link .. application) never reads the wall clock, sleeps or draws unseeded random
numbers: it asks a :class:`Clock` for the time (integer nanoseconds) and to call it back later.
The simulator's scheduler and the real world's asyncio-driven clock both implement it.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_US = 1_000


class Clock(Protocol):
    """What the stack needs from time. ``now`` is integer nanoseconds since the world began."""

    now: int

    def call_at(self, when: int, callback: Callable[..., Any], *args: Any) -> None: ...

    def call_later(self, delay: int, callback: Callable[..., Any], *args: Any) -> None: ...


class Timer:
    """A re-armable timer with at most one pending callback in the clock's queue at a time.

    Re-arming to a later deadline (an RTO pushed back on every ACK) pushes nothing: the pending
    entry fires early, sees the moved deadline and re-schedules itself once. Cancelling just
    clears the deadline.
    """

    __slots__ = ("_clock", "_callback", "deadline", "_scheduled")

    def __init__(self, clock: Clock, callback: Callable[[], Any]) -> None:
        self._clock = clock
        self._callback = callback
        self.deadline: int | None = None
        self._scheduled: int | None = None

    @property
    def armed(self) -> bool:
        return self.deadline is not None

    def arm(self, when: int) -> None:
        """Fire at ``when`` (ns), replacing any earlier deadline."""
        self.deadline = when
        if self._scheduled is None or when < self._scheduled:
            self._scheduled = when
            self._clock.call_at(when, self._fire, when)

    def arm_in(self, delay: int) -> None:
        self.arm(self._clock.now + delay)

    def cancel(self) -> None:
        self.deadline = None

    def _fire(self, entry_time: int) -> None:
        if entry_time != self._scheduled:
            return  # superseded by an earlier entry
        self._scheduled = None
        deadline = self.deadline
        if deadline is None:
            return
        if deadline > self._clock.now:
            self._scheduled = deadline
            self._clock.call_at(deadline, self._fire, deadline)
            return
        self.deadline = None
        self._callback()
