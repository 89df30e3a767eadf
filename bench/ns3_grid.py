#!/usr/bin/env python3
"""The grid of bench/scale.py in ns-3 (ns3==3.44.post0): N routers in a grid, point-to-point links
(1 Gbit/s, 1 ms), a host at two opposite corners, Ipv4GlobalRoutingHelper.PopulateRoutingTables;
a sample of routers each ping the far corner's host once. Prints one JSON line.
Run: /tmp/ns3venv/bin/python bench/ns3_grid.py ROUTERS [SAMPLE]
"""
import json
import math
import resource
import sys
import time


def shape(n):
    rows = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return rows, n // rows


def main():
    n = int(sys.argv[1])
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    from ns import ns
    rows, cols = shape(n)
    t0 = time.perf_counter()
    routers = ns.NodeContainer()
    routers.Create(n)
    hosts = ns.NodeContainer()
    hosts.Create(2)
    ns.InternetStackHelper().Install(routers)
    ns.InternetStackHelper().Install(hosts)
    p2p = ns.PointToPointHelper()
    p2p.SetDeviceAttribute("DataRate", ns.StringValue("1Gbps"))
    p2p.SetChannelAttribute("Delay", ns.StringValue("1ms"))
    addr = ns.Ipv4AddressHelper()
    k = 0

    def link(a, b):
        nonlocal k
        devs = p2p.Install(a, b)
        base = (10 << 24) + 4 * k
        k += 1
        addr.SetBase(ns.Ipv4Address(base), ns.Ipv4Mask("255.255.255.252"))
        return addr.Assign(devs)

    for i in range(rows):
        for j in range(cols):
            if j + 1 < cols:
                link(routers.Get(i * cols + j), routers.Get(i * cols + j + 1))
            if i + 1 < rows:
                link(routers.Get(i * cols + j), routers.Get((i + 1) * cols + j))
    link(hosts.Get(0), routers.Get(0))
    far = link(hosts.Get(1), routers.Get(n - 1)).GetAddress(0)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()
    start = time.perf_counter() - t0
    step = max(1, n // sample)
    chosen = list(range(0, n, step))[:sample]
    for idx, r in enumerate(chosen):
        helper = ns.PingHelper(far.ConvertTo())
        helper.SetAttribute("Count", ns.UintegerValue(1))
        apps = helper.Install(routers.Get(r))
        apps.Start(ns.Seconds(1.0 + idx / len(chosen)))
    t0 = time.perf_counter()
    ns.Simulator.Stop(ns.Seconds(10.0))
    ns.Simulator.Run()
    ping_s = time.perf_counter() - t0
    ns.Simulator.Destroy()
    print(json.dumps({"nodes": n + 2, "build_s": build, "start_s": start, "pings": len(chosen), "ping_s": ping_s,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
