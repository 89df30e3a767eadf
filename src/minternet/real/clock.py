"""The real-time clock: the stack's :class:`~minternet.runtime.Clock` on an asyncio loop.

The one clock of the real world: a host on a TAP device, the TAP driver's delay line and
applications on the operating system's sockets (:class:`~minternet.real.ossocket.OSHost`) all
read it. The simulated world has its own, virtual one (:mod:`minternet.sim.scheduler`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


class RealtimeClock:
    """Integer nanoseconds of the monotonic clock since the clock was made (so traces start at
    zero, as in the simulator), with callbacks on an asyncio loop.

    Callbacks run on ``loop`` when one is given, else on the loop running at the time of the call
    (the last one seen when called from outside a running loop), so that one clock can outlive an
    ``asyncio.run()``."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._fixed = loop
        self._last = loop
        self._epoch = time.monotonic_ns()

    @property
    def now(self) -> int:
        return time.monotonic_ns() - self._epoch

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._fixed is not None:
            return self._fixed
        try:
            self._last = asyncio.get_running_loop()
        except RuntimeError:
            if self._last is None:
                raise RuntimeError("the real-time clock has no loop: call it from a running asyncio loop, "
                                   "or give it one (RealtimeClock(loop))") from None
        return self._last

    def call_at(self, when: int, callback: Callable[..., Any], *args: Any) -> None:
        # call_later rather than call_at: the loop's own clock need not be time.monotonic.
        self.loop.call_later(max(0, when - (time.monotonic_ns() - self._epoch)) / 1e9, callback, *args)

    def call_later(self, delay: int, callback: Callable[..., Any], *args: Any) -> None:
        self.loop.call_later(max(0, delay) / 1e9, callback, *args)
