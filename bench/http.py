"""How fast is HTTP over minternet? Run by hand: ``python bench/http.py [--requests N]``.

Method. The same server (minternet.application.http, on h11) serves a 1 KB page, and the same
client (HTTPClient) asks for it N times, one request after another on one kept-alive connection
(no pipelining), after one warm-up request that pays for ARP, the handshake and first-use costs.
We count requests per wall-clock second in two worlds, in one run:

(a) simulated: two hosts on one link (1 Gbit/s, 50 us), client -> server through the whole
    minternet stack (HTTP on h11, asyncio streams, our TCP, IPv4, ARP, Ethernet, the link) on
    the virtual-time loop, tracing off. Each request costs a simulated round trip too, but
    virtual time is free: only the Python work counts.
(b) loopback: the same server and client on an OSHost, i.e. asyncio's own streams on the
    kernel's TCP over 127.0.0.1, on asyncio's default event loop.

The ratio (a)/(b) is what simulating the network below HTTP costs compared with handing the bytes
to the kernel. Each figure is the best of --repeat runs (default 3), to damp noise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

# This file is named http.py: with bench/ first on the path, `import http` (the standard library's,
# which h11 and our messages use) would find this file. Put src/ in bench/'s place.
sys.path[0] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

from minternet.application.http import HTTPClient, Request, Response, serve  # noqa: E402
from minternet.real.ossocket import OSHost  # noqa: E402
from minternet.sim.network import Network  # noqa: E402

PAGE = (b"<!DOCTYPE html><title>bench</title><p>" + b"x" * 1024)[:1024]


async def page(request: Request) -> Response:
    return Response(200, {"Content-Type": "text/html"}, PAGE)


async def run_requests(client: HTTPClient, url: str, n: int, now) -> float:
    """Warm up, then n keep-alive GETs; the wall-clock seconds they took."""
    first = await client.get(url)
    assert first.status == 200 and first.body == PAGE
    t0 = now()
    for _ in range(n):
        response = await client.get(url)
        assert response.status == 200 and len(response.body) == len(PAGE)
    elapsed = now() - t0
    assert client.connections_opened == 1, "the requests should share one connection"
    return elapsed


def simulated(n: int) -> tuple[float, float]:
    """(wall seconds, simulated seconds) for n requests across the simulated link."""
    net = Network(seed=1)
    net.add_host("client", {"eth0": "10.0.0.1/24"})
    net.add_host("server", {"eth0": "10.0.0.2/24"})
    net.connect("client:eth0", "server:eth0", delay="50us", bandwidth="1Gbps")

    async def main() -> tuple[float, float]:
        server = await serve(net["server"], 80, page)
        async with HTTPClient(net["client"]) as client:
            sim0 = net.now
            wall = await run_requests(client, "http://10.0.0.2/", n, time.perf_counter)
            sim = (net.now - sim0) / 1e9
        await server.aclose()
        return wall, sim
    try:
        return net.run_app(main())
    finally:
        net.close()


def loopback(n: int) -> float:
    """Wall seconds for n requests over the kernel's loopback."""
    async def main() -> float:
        host = OSHost()
        server = await serve(host, 0, page, address="127.0.0.1", unix_time=time.time)
        try:
            async with HTTPClient(host) as client:
                return await run_requests(client, f"http://127.0.0.1:{server.address[1]}/", n, time.perf_counter)
        finally:
            await server.aclose()
    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per world; the best counts (default 3)")
    args = parser.parse_args()
    n = args.requests
    sims = [simulated(n) for _ in range(args.repeat)]
    sim_wall = min(w for w, _ in sims)
    sim_time = sims[0][1]
    real_wall = min(loopback(n) for _ in range(args.repeat))
    sim_rate, real_rate = n / sim_wall, n / real_wall
    print(f"keep-alive GETs of a {len(PAGE)}-byte page, {n} requests on one connection, best of {args.repeat}")
    print(f"(a) simulated network : {sim_rate:9,.0f} requests/s wall clock "
          f"({sim_time:.3f} s simulated, {sim_time / n * 1e3:.3f} ms per request)")
    print(f"(b) loopback OS socket: {real_rate:9,.0f} requests/s wall clock")
    print(f"ratio (a)/(b): {sim_rate / real_rate:.2f}")


if __name__ == "__main__":
    main()
