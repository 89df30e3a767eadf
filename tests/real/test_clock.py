"""The real-time clock: zero-based nanoseconds, callbacks at and after a time, on the running loop."""

from __future__ import annotations

import asyncio

import pytest

from minternet.real.clock import RealtimeClock


def test_realtime_clock():
    async def main() -> tuple[int, int, int]:
        clock = RealtimeClock()
        start = clock.now
        fired = asyncio.get_running_loop().create_future()
        clock.call_later(20_000_000, lambda: fired.set_result(clock.now))
        at = asyncio.get_running_loop().create_future()
        clock.call_at(clock.now + 10_000_000, lambda: at.set_result(clock.now))
        return start, await at, await fired
    start, at, fired = asyncio.run(main())
    assert 0 <= start < 50_000_000
    assert 10_000_000 <= at < fired and fired >= 20_000_000


def test_one_clock_outlives_a_loop_and_says_when_it_has_none():
    clock = RealtimeClock()
    with pytest.raises(RuntimeError, match="no loop"):
        clock.call_later(0, print)

    async def tick() -> int:
        fired = asyncio.get_running_loop().create_future()
        clock.call_later(1_000_000, lambda: fired.set_result(clock.now))
        return await fired
    first = asyncio.run(tick())
    assert asyncio.run(tick()) > first  # a second asyncio.run(): the clock follows the new loop
