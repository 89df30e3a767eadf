"""The simulation's single event heap: virtual time in integer nanoseconds.

Entries are plain tuples (time, sequence, callback, args); the sequence number breaks ties so
that two runs with the same seed execute events in exactly the same order.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable


class Scheduler:
    """A virtual-time event queue. Implements the stack's :class:`~minternet.runtime.Clock`."""

    __slots__ = ("now", "_heap", "_seq", "events_run", "ready")

    def __init__(self) -> None:
        self.now = 0
        self._heap: list[tuple[int, int, Callable[..., Any], tuple]] = []
        self._seq = itertools.count()
        self.events_run = 0
        # The asyncio loop's queue of ready callbacks (set by the loop that runs programs): an
        # event that stands for several (a broadcast's deliveries) stops between them when one
        # woke a program, as separate events would.
        self.ready: Any = ()

    def reserve(self) -> int:
        """A sequence number for an event pushed later with :meth:`call_at_seq`: it runs where
        an event scheduled now would."""
        return next(self._seq)

    def call_at_seq(self, when: int, seq: int, callback: Callable[..., Any], *args: Any) -> None:
        """Schedule with a sequence number from :meth:`reserve` (or the one of the running
        event, to resume it in its own place)."""
        heapq.heappush(self._heap, (when if when > self.now else self.now, seq, callback, args))

    def call_at(self, when: int, callback: Callable[..., Any], *args: Any) -> None:
        if when < self.now:
            when = self.now
        heapq.heappush(self._heap, (when, next(self._seq), callback, args))

    def call_later(self, delay: int, callback: Callable[..., Any], *args: Any) -> None:
        heapq.heappush(self._heap, (self.now + (delay if delay > 0 else 0), next(self._seq), callback, args))

    def next_time(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)

    def run_until(self, limit: int | None, stop: Callable[[], bool] | None = None) -> None:
        """Run events up to and including time ``limit`` (all of them when None); the clock ends
        at ``limit``. ``stop`` is asked after each event and ends the run early when true."""
        heap = self._heap
        pop = heapq.heappop
        n = 0
        try:
            while heap:
                if limit is not None and heap[0][0] > limit:
                    break
                when, _, callback, args = pop(heap)
                self.now = when
                callback(*args)
                n += 1
                if stop is not None and stop():
                    return
        finally:
            self.events_run += n
        if limit is not None and limit > self.now:
            self.now = limit
