"""Topologies whose route tables and traces were recorded with the routing code of before issue 17
(tests/sim/data/routes_before.json), so the faster code is held to the same answers: same routes,
same equal-cost tie breaks, same trace.

Regenerate (only when a route change is meant): python tests/sim/route_topologies.py --write
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from minternet.application.ping import ping
from minternet.application.traceroute import traceroute
from minternet.sim.example import load_example
from minternet.sim.generate import grid, lans
from minternet.sim.network import Network

FIXTURE = Path(__file__).parent / "data" / "routes_before.json"


def odd() -> Network:
    """Everything the shortest-path code has a rule for: fractional and asymmetric costs (sums
    that round), parallel links, a transit LAN shared by three routers, a multi-homed host without a
    gateway (it gets computed routes but forwards nothing), a zero-delay link, a dead router and a
    dead link, equal-cost paths everywhere."""
    net = Network(seed=7)
    delays = ["100us", "300us", "1ms", "700us", "200us", "1ms"]
    n = 6
    for i in range(n):
        ifs = {f"eth{k}": f"10.{i}.{k}.1/24" for k in range(4)}
        net.add_router(f"r{i}", ifs)
    k = 0
    for i in range(n):  # a ring with chords: many ties, some broken by float rounding
        j = (i + 1) % n
        net.connect(f"r{i}:eth0", f"r{j}:eth1", delay=delays[k % len(delays)],
                    cost=None if i % 3 else (0.1 * (i + 1), 0.3))
        k += 1
    # addresses of the ring links: reuse r{i}:eth0's /24 on the neighbour's eth1 side
    for i in range(n):
        j = (i + 1) % n
        net.host(f"r{j}").set_address("eth1", f"10.{i}.0.2/24")
    net.connect("r0:eth2", "r3:eth3", delay="300us")  # chord
    net.host("r3").set_address("eth3", "10.0.2.2/24")
    net.connect("r1:eth2", "r4:eth3", delay="0ms")  # zero-cost chord
    net.host("r4").set_address("eth3", "10.1.2.2/24")
    sw = net.add_switch("transit")
    for i in (2, 4, 5):
        net.host(f"r{i}").set_address("eth2", f"10.99.0.{i}/24")
        net.connect(f"r{i}:eth2", sw, delay="200us")
    net.add_host("multi", {"eth0": "10.1.3.10/24", "eth1": "10.5.3.10/24"})
    net.host("r1").set_address("eth3", "10.1.3.1/24")
    net.host("r5").set_address("eth3", "10.5.3.1/24")
    net.connect("multi:eth0", "r1:eth3", delay="300us")
    net.connect("multi:eth1", "r5:eth3", delay="300us")
    net.add_host("gw", {"eth0": "10.3.3.10/24"}, gateway="10.3.3.1")
    net.host("r3").set_address("eth2", "10.3.3.1/24")
    net.connect("gw:eth0", "r3:eth2", delay="100us")
    net.add_router("p", {"eth0": "10.77.0.1/30", "eth1": "10.77.1.1/30"})
    net.add_router("q", {"eth0": "10.77.0.2/30", "eth1": "10.77.1.2/30", "eth2": "10.2.3.2/24"})
    net.host("r2").set_address("eth3", "10.2.3.1/24")
    net.connect("p:eth0", "q:eth0", delay="1ms")  # two parallel links of equal cost
    net.connect("p:eth1", "q:eth1", delay="1ms")
    net.connect("q:eth2", "r2:eth3", delay="1ms")
    return net


def odd_failed() -> Network:
    net = odd()
    net.start()
    net.link_down("r0:eth2")
    net.node_down("r5")
    net.run("3s")
    return net


def topologies() -> dict[str, Network]:
    return {
        "example": load_example(seed=1, out=lambda line: None).network,
        "grid-4x5": grid(rows=4, cols=5),
        "grid-8x8": grid(rows=8, cols=8),
        "grid-3x3-300us": grid(rows=3, cols=3, delay="300us"),
        "lans-4x5": lans(4, 5),
        "odd": odd(),
    }


def route_tables(net: Network) -> dict[str, list[str]]:
    net.start()
    tables = {node.name: [str(r) for r in node.routes] for node in net.hosts}
    net.close()
    return tables


def trace_digest(net: Network, src: str, dst: str) -> str:
    """sha256 of the JSON-lines trace of a ping and a traceroute from src to dst."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.jsonl")
        net.trace_to(path)

        async def go() -> None:
            await ping(net[src], net.address_of(dst), count=2)
            await traceroute(net[src], net.address_of(dst), probes=1)
        net.run_app(go())
        net.close()
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record() -> dict:
    data: dict = {"routes": {name: route_tables(net) for name, net in topologies().items()}}
    data["routes"]["odd-after-failure"] = route_tables(odd_failed())
    data["traces"] = {
        "example": trace_digest(load_example(seed=1, out=lambda line: None).network, "client", "server"),
        "grid-4x5": trace_digest(grid(rows=4, cols=5), "a", "b"),
        "odd": trace_digest(odd(), "multi", "gw"),
    }
    return data


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}")
