"""An asyncio event loop that runs on the simulator's virtual clock.

Applications are ordinary coroutines: ``await asyncio.sleep(5)`` costs no wall time. The loop
is asyncio's own BaseEventLoop; only its "wait for I/O" step is replaced: instead of blocking in
select() for ``timeout`` seconds, it runs the simulation's packet events up to that moment and
returns as soon as one of them woke a coroutine. Packets never go through asyncio.
"""

from __future__ import annotations

import asyncio
import heapq
import math

from .scheduler import Scheduler


class SimulationStalled(RuntimeError):
    """The program waits for something, but nothing is left in the simulation that could happen."""


class _VirtualSelector:
    def __init__(self, loop: "VirtualTimeLoop") -> None:
        self._loop = loop

    def select(self, timeout: float | None) -> list:
        self._loop._advance(timeout)
        return []

    def close(self) -> None:
        pass


class VirtualTimeLoop(asyncio.BaseEventLoop):
    """asyncio on virtual time. ``time()`` is the scheduler's clock in seconds."""

    def __init__(self, scheduler: Scheduler) -> None:
        super().__init__()
        self.scheduler = scheduler
        self._selector = _VirtualSelector(self)
        scheduler.ready = self._ready

    def time(self) -> float:
        return self.scheduler.now / 1e9

    def next_timer(self) -> float | None:
        """When the earliest pending asyncio timer (a sleeping program) is due, in loop time."""
        whens = [h.when() for h in self._scheduled if not h.cancelled()]
        return min(whens) if whens else None

    # BaseEventLoop leaves these to the selector-based subclasses; there is no I/O here.
    def _process_events(self, event_list: list) -> None:
        pass

    def _write_to_self(self) -> None:
        pass

    def _advance(self, timeout: float | None) -> None:
        if timeout is not None and timeout <= 0:
            return  # callbacks are ready now; let asyncio run them first
        sched = self.scheduler
        heap = sched._heap
        ready = self._ready  # asyncio's queue of callbacks to run
        limit = None if timeout is None else sched.now + math.ceil(timeout * 1e9)
        pop = heapq.heappop
        n = 0
        while heap:
            if limit is not None and heap[0][0] > limit:
                break
            when, _, callback, args = pop(heap)
            sched.now = when
            callback(*args)
            n += 1
            if ready:
                sched.events_run += n
                return
        sched.events_run += n
        if limit is None:
            raise SimulationStalled(
                "the program is waiting, but nothing is left to happen in the simulated network "
                "(no packets in flight, no timers); a receive without a timeout that can never complete?")
        if limit > sched.now:
            sched.now = limit
