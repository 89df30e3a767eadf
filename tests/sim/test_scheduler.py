import asyncio

import pytest

from minternet.runtime import Timer
from minternet.sim.loop import SimulationStalled, VirtualTimeLoop
from minternet.sim.scheduler import Scheduler


def test_events_run_in_time_order_and_ties_in_insertion_order():
    s = Scheduler()
    seen = []
    s.call_at(30, seen.append, "c")
    s.call_at(10, seen.append, "a1")
    s.call_at(10, seen.append, "a2")
    s.call_later(20, seen.append, "b")
    s.run_until(None)
    assert seen == ["a1", "a2", "b", "c"]
    assert s.now == 30


def test_run_until_stops_at_limit_and_sets_clock():
    s = Scheduler()
    seen = []
    s.call_at(5, seen.append, 5)
    s.call_at(50, seen.append, 50)
    s.run_until(20)
    assert seen == [5] and s.now == 20
    s.run_until(100)
    assert seen == [5, 50] and s.now == 100


def test_past_times_are_clamped_to_now():
    s = Scheduler()
    s.run_until(100)
    seen = []
    s.call_at(10, lambda: seen.append(s.now))
    s.run_until(None)
    assert seen == [100]


def test_timer_rearm_later_keeps_one_heap_entry_and_fires_at_deadline():
    s = Scheduler()
    fired = []
    t = Timer(s, lambda: fired.append(s.now))
    t.arm(100)
    for when in range(110, 200, 10):
        t.arm(when)  # pushed back, like an RTO on every ACK
    assert len(s) == 1
    s.run_until(None)
    assert fired == [190]


def test_timer_rearm_earlier_and_cancel():
    s = Scheduler()
    fired = []
    t = Timer(s, lambda: fired.append(s.now))
    t.arm(100)
    t.arm(40)
    s.run_until(None)
    assert fired == [40]
    t.arm(500)
    t.cancel()
    s.run_until(None)
    assert fired == [40] and not t.armed


def test_asyncio_sleep_costs_no_wall_time_and_reads_virtual_clock():
    s = Scheduler()
    loop = VirtualTimeLoop(s)

    async def app():
        t0 = loop.time()
        await asyncio.sleep(3600)
        return loop.time() - t0

    import time
    wall = time.perf_counter()
    assert loop.run_until_complete(app()) == pytest.approx(3600)
    assert time.perf_counter() - wall < 1.0
    assert s.now == 3600 * 10**9


def test_packet_events_wake_coroutines_at_their_virtual_time():
    s = Scheduler()
    loop = VirtualTimeLoop(s)

    async def app():
        fut = loop.create_future()
        s.call_at(2_500_000_000, fut.set_result, "packet")  # as a link delivery would
        value = await asyncio.wait_for(fut, 10)
        return value, s.now

    assert loop.run_until_complete(app()) == ("packet", 2_500_000_000)


def test_waiting_forever_on_nothing_raises_stalled():
    s = Scheduler()
    loop = VirtualTimeLoop(s)

    async def app():
        await loop.create_future()

    with pytest.raises(SimulationStalled):
        loop.run_until_complete(app())
