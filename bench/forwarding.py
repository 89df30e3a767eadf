"""How fast does the simulator forward? Run by hand: ``python bench/forwarding.py``.

A chain client -- r1 -- ... -- r10 -- server (1 Gbit/s, 1 ms links). The client sends N UDP
datagrams of 1000 bytes; every router forwards each one (read header fields from the bytes,
decrement TTL, patch the checksum per RFC 1624, rewrite MACs, hand on). We count packet-hops
(one router forwarding one packet) per wall-clock second, with tracing off, and, as a reference
measured in the same run, the rate of the bare event loop doing nothing but heap push/pop of one
event per hop (the floor any design with one event per hop pays).

Target (issue 2): at least 100,000 packet-hops per second on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from minternet.sim.network import Network  # noqa: E402
from minternet.transport.udp import CallbackEndpoint  # noqa: E402

ROUTERS = 10


def build(routers: int = ROUTERS) -> Network:
    net = Network(seed=1)
    net.add_host("client", {"eth0": "10.0.0.10/24"}, gateway="10.0.0.1")
    for i in range(1, routers + 1):
        net.add_router(f"r{i}", {"eth0": "10.0.0.1/24" if i == 1 else f"10.1.{i - 1}.2/30",
                                 "eth1": "10.0.99.1/24" if i == routers else f"10.1.{i}.1/30"})
    net.add_host("server", {"eth0": "10.0.99.10/24"}, gateway="10.0.99.1")
    net.connect("client:eth0", "r1:eth0", delay="1ms", bandwidth="1Gbps", queue=10**6)
    for i in range(1, routers):
        net.connect(f"r{i}:eth1", f"r{i + 1}:eth0", delay="1ms", bandwidth="1Gbps", queue=10**6)
    net.connect(f"r{routers}:eth1", "server:eth0", delay="1ms", bandwidth="1Gbps", queue=10**6)
    return net


def measure_forwarding(n: int) -> tuple[float, int, int]:
    net = build()
    received = [0]
    net["server"].udp.bind(9, CallbackEndpoint(lambda *a: received.__setitem__(0, received[0] + 1)))
    client = net["client"]
    payload = bytes(1000)

    async def warm():  # resolve ARP along the path before timing
        client.udp.send(5000, "10.0.99.10", 9, payload)
        await asyncio.sleep(1)
    net.run_app(warm())
    before = sum(h.stats["ip.forwarded"] for h in net.hosts)

    async def blast():
        for _ in range(n // 100):
            for _ in range(100):
                client.udp.send(5000, "10.0.99.10", 9, payload)
            await asyncio.sleep(0.001)
        await asyncio.sleep(1)

    t0 = time.perf_counter()
    net.run_app(blast())
    wall = time.perf_counter() - t0
    hops = sum(h.stats["ip.forwarded"] for h in net.hosts) - before
    assert received[0] == n + 1, (received[0], n)
    return wall, hops, net.scheduler.events_run


def measure_bare_heap(events: int) -> float:
    """Reference: a bare heap event loop running one no-op event per hop."""
    heap: list = []
    seq = itertools.count()
    def noop(x):
        pass
    t0 = time.perf_counter()
    for i in range(events):
        heapq.heappush(heap, (i, next(seq), noop, (None,)))
        when, _, cb, args = heapq.heappop(heap)
        cb(*args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20000, help="datagrams to send (default 20000)")
    ap.add_argument("--profile", action="store_true", help="run under cProfile and print the top functions")
    args = ap.parse_args()
    if args.profile:
        import cProfile
        import pstats
        cProfile.run("measure_forwarding(args.n)", "/tmp/forwarding.prof")
        pstats.Stats("/tmp/forwarding.prof").sort_stats("tottime").print_stats(20)
        return
    best = None
    for _ in range(3):
        wall, hops, events = measure_forwarding(args.n)
        if best is None or wall < best[0]:
            best = (wall, hops, events)
    wall, hops, events = best
    bare = measure_bare_heap(hops + args.n * 2)
    rate = hops / wall
    print(f"chain of {ROUTERS} routers, {args.n} UDP datagrams of 1000 bytes, tracing off (best of 3)")
    print(f"  packet-hops forwarded:       {hops:,}")
    print(f"  wall time:                   {wall:.3f} s")
    print(f"  packet-hops per second:      {rate:,.0f}   (target >= 100,000: {'met' if rate >= 100_000 else 'NOT met'})")
    print(f"  wall us per packet-hop:      {wall / hops * 1e6:.2f}")
    print(f"  reference, bare heap loop:   {(hops + args.n * 2) / bare:,.0f} events/s "
          f"(we run at {rate / ((hops + args.n * 2) / bare) * 100:.1f}% of a loop that does nothing)")


if __name__ == "__main__":
    main()
