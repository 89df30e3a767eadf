"""How fast is HTTP over minternet? Run by hand: ``python bench/http.py [--requests N]``.

Method. The same server (minternet.application.http: HTTP/1.1 on h11, HTTP/2 on h2, TLS 1.3 on
Python's ssl, HTTP/3 on aioquic) serves a 1 KB page, and the same client (HTTPClient) asks for it
N times, one request after another on one kept-alive connection (no pipelining), after one
warm-up request that pays for ARP, the handshakes and first-use costs. We count requests per
wall-clock second in two worlds, in one run, for each of:

- HTTP/1.1 on TCP (h11);
- HTTPS: HTTP/1.1 over TLS 1.3 over TCP (ssl + h11), and HTTP/2 over TLS (ssl + h2);
- HTTP/3 over QUIC over UDP (aioquic's QUIC and H3).

(a) simulated: two hosts on one link (1 Gbit/s, 50 us), client -> server through the whole
    minternet stack (HTTP, TLS or QUIC, asyncio streams or datagrams, our TCP or UDP, IPv4, ARP,
    Ethernet, the link) on the virtual-time loop, tracing off; certificates from the simulated
    CA, and for HTTP/3 aioquic seeded from the host (minternet.application.quic.determinism, the
    simulation's default: same seed, same bytes). Each request costs a simulated round trip too,
    but virtual time is free: only the Python work counts.
(b) loopback: the same server and client on an OSHost, i.e. asyncio's own streams on the kernel's
    TCP over 127.0.0.1 (TLS by asyncio's start_tls on the same ssl contexts), and for HTTP/3 our
    QUIC endpoint on an asyncio UDP socket bound to 127.0.0.1 (aioquic unseeded, as a real program
    runs it), on asyncio's default event loop.

The ratio (a)/(b) is what simulating the network below HTTP (and, for HTTP/3, seeding aioquic)
costs compared with handing the bytes to the kernel. Each figure is the best of --repeat runs
(default 3), to damp noise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time

# This file is named http.py: with bench/ first on the path, `import http` (the standard library's,
# which h11 and our messages use) would find this file. Put src/ in bench/'s place.
sys.path[0] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

from minternet.application.http import HTTPClient, Request, Response, serve  # noqa: E402
from minternet.application.tls import CertificateAuthority  # noqa: E402
from minternet.application.tls.contexts import server_context  # noqa: E402
from minternet.observe.trace import Tracer  # noqa: E402
from minternet.programs.vtime import REAL  # noqa: E402
from minternet.real.ossocket import OSHost  # noqa: E402
from minternet.stack.observer import Observer  # noqa: E402
from minternet.sim.network import Network  # noqa: E402



def _wall_clock():
    """The wall clock. Not time.perf_counter: while a simulation's loop runs, programs.vtime makes
    the time module's clocks, and every module global that holds one, read the simulated time
    (which made the "wall" seconds of (a) the simulated seconds). A closure's cell is not a
    module global."""
    real = REAL["perf_counter"]
    return lambda: real()


wall_clock = _wall_clock()

PAGE = (b"<!DOCTYPE html><title>bench</title><p>" + b"x" * 1024)[:1024]

# name: (scheme, HTTPClient's http_version, what carries it)
PROTOCOLS = {
    "http": ("http", "1.1", "HTTP/1.1 on TCP (h11)"),
    "https": ("https", "1.1", "HTTPS: HTTP/1.1 over TLS 1.3 (ssl + h11)"),
    "h2": ("https", "2", "HTTPS: HTTP/2 over TLS 1.3 (ssl + h2)"),
    "h3": ("https", "3only", "HTTP/3 over QUIC on UDP (aioquic)"),
}


async def page(request: Request) -> Response:
    return Response(200, {"Content-Type": "text/html"}, PAGE)


async def run_requests(client: HTTPClient, url: str, n: int, now, version: str) -> float:
    """Warm up, then n keep-alive GETs; the wall-clock seconds they took."""
    first = await client.get(url)
    assert first.status == 200 and first.body == PAGE
    assert first.http_version == version.removesuffix("only"), first.http_version
    t0 = now()
    for _ in range(n):
        response = await client.get(url)
        assert response.status == 200 and len(response.body) == len(PAGE)
    elapsed = now() - t0
    assert client.connections_opened == 1, "the requests should share one connection"
    return elapsed


def simulated(n: int, protocol: str) -> tuple[float, float]:
    """(wall seconds, simulated seconds) for n requests across the simulated link."""
    scheme, version, _ = PROTOCOLS[protocol]
    net = Network(seed=1)
    net.add_host("client", {"eth0": "10.0.0.1/24"})
    net.add_host("server", {"eth0": "10.0.0.2/24"})
    net.connect("client:eth0", "server:eth0", delay="50us", bandwidth="1Gbps")
    port = 443 if scheme == "https" else 80

    async def main() -> tuple[float, float]:
        server = await serve(net["server"], port, page, tls=True if scheme == "https" else None,
                             http3=version == "3only")
        async with HTTPClient(net["client"], http_version=version) as client:
            sim0 = net.now
            wall = await run_requests(client, f"{scheme}://10.0.0.2/", n, wall_clock, version)
            sim = (net.now - sim0) / 1e9
        await server.aclose()
        return wall, sim
    try:
        return net.run_app(main())
    finally:
        net.close()


class LoopbackHost(OSHost):
    """An OSHost with asyncio's UDP endpoints, and the (silent) tracer and counters the QUIC
    endpoint reports to, as a simulated Host has them."""

    def __init__(self) -> None:
        super().__init__()
        self.tracer = Tracer(self.clock)
        self.obs = Observer(self.name, self.tracer)

    async def create_datagram_endpoint(self, factory, **kw):
        return await asyncio.get_running_loop().create_datagram_endpoint(factory, **kw)


def loopback(n: int, protocol: str, ca: CertificateAuthority, cafile: str) -> float:
    """Wall seconds for n requests over the kernel's loopback."""
    scheme, version, _ = PROTOCOLS[protocol]
    issued = ca.issue(["127.0.0.1"])

    async def main() -> float:
        host = LoopbackHost()
        options = {}
        if scheme == "https":
            options = {"tls": server_context(issued, alpn=("h2", "http/1.1"))}
        if version == "3only":
            options.update(http3=True, h3_certificate=(issued.cert_pem, issued.key_pem))
        port = 0
        if version == "3only":  # TCP and UDP on the same port number: find one free for both
            import socket
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        server = await serve(host, port, page, address="127.0.0.1", unix_time=time.time, **options)
        try:
            async with HTTPClient(host, http_version=version, cafile=cafile, deterministic=False) as client:
                url = f"{scheme}://127.0.0.1:{server.address[1]}/"
                return await run_requests(client, url, n, wall_clock, version)
        finally:
            await server.aclose()
    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per world; the best counts (default 3)")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS),
                        help=f"which, comma-separated (default {','.join(PROTOCOLS)})")
    args = parser.parse_args()
    n = args.requests
    ca = CertificateAuthority()
    with tempfile.TemporaryDirectory() as tmp:
        cafile = ca.write_pem(os.path.join(tmp, "ca.pem"))
        print(f"keep-alive GETs of a {len(PAGE)}-byte page, {n} requests on one connection, best of {args.repeat}")
        for protocol in args.protocols.split(","):
            label = PROTOCOLS[protocol][2]
            sims = [simulated(n, protocol) for _ in range(args.repeat)]
            sim_wall = min(w for w, _ in sims)
            sim_time = sims[0][1]
            real_wall = min(loopback(n, protocol, ca, cafile) for _ in range(args.repeat))
            sim_rate, real_rate = n / sim_wall, n / real_wall
            print(f"\n{label}")
            print(f"(a) simulated network : {sim_rate:9,.0f} requests/s wall clock "
                  f"({sim_time:.3f} s simulated, {sim_time / n * 1e3:.3f} ms per request)")
            print(f"(b) loopback OS socket: {real_rate:9,.0f} requests/s wall clock")
            print(f"ratio (a)/(b): {sim_rate / real_rate:.2f}")


if __name__ == "__main__":
    main()
