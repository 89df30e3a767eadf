"""One big internet (issue 17): how build, start, a round of pings and memory grow with size.

    python bench/scale.py                    # grids of 100, 1,000, 2,500 routers; 1,000 and 10,000 hosts
    python bench/scale.py --quick            # smaller sizes, about a minute
    python bench/scale.py --ns3 /tmp/ns3venv/bin/python   # the same grids in ns-3 too, same run
    python bench/scale.py --grids 1000 --lans '' --profile  # one case under cProfile

Cases (built with minternet.sim.generate, the ordinary Python API):
- grid N: N routers in a grid (1 ms links), a host at two opposite corners; a sample of routers
  (--sample, spread evenly) each ping the far corner's host once.
- lans N: N hosts in LANs of 100 (one switch each) behind routers that form a grid; every host
  pings the server (host 0 of LAN 0) once, the pings spread over one virtual second.
Each case runs in a fresh process and prints build time (the Python calls that make the network),
start time (routes computed and installed, every interface's gratuitous ARP sent and delivered),
the ping round's wall time and events per wall second, and the process's peak memory (max RSS).
Then: memory per host (tracemalloc: a host added to a LAN, idle and after it pinged) and the cost
of a broadcast on a switch per delivered frame. With --ns3, the grids in ns-3 (point-to-point
links, Ipv4GlobalRoutingHelper.PopulateRoutingTables, the same pings) as the reference.
Targets (issue 17): a 1,000-router grid starts in < 5 s and within 3x of ns-3; 10,000 hosts start in
< 20 s; start time and memory grow linearly (within 1.5x) from 1,000 to 10,000 hosts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from minternet.application.ping import ping  # noqa: E402
from minternet.runtime import NS_PER_MS, NS_PER_S  # noqa: E402
from minternet.sim import generate  # noqa: E402
from minternet.sim.network import Network  # noqa: E402

NS3_SCRIPT = os.path.join(HERE, "ns3_grid.py")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ping_round(net: Network, pairs: list[tuple[str, str]], spread: int) -> int:
    """Each (source, destination) pings once, the starts spread over ``spread`` ns; replies."""
    async def one(i: int, src: str, dst: str) -> int:
        await asyncio.sleep(spread * i / max(1, len(pairs)) / NS_PER_S)
        res = await ping(net[src], dst, count=1, timeout=5 * NS_PER_S)
        return res.received

    async def everyone() -> int:
        return sum(await asyncio.gather(*(one(i, s, d) for i, (s, d) in enumerate(pairs))))
    return net.run_app(everyone())


def run_case(kind: str, size: int, sample: int, profile: bool) -> dict:
    t0 = time.perf_counter()
    if kind == "grid":
        net = generate.grid(size)
        # The far corner of a grid of 2,500 is 98 hops away, past Linux's default TTL of 64: every
        # node as with sysctl net.ipv4.ip_default_ttl=255, so the pings measure the network, not TTL.
        for node in net.hosts:
            node.ip.default_ttl = 255
        routers = [h.name for h in net.hosts if h.forwarding]
        step = max(1, len(routers) // sample)
        pairs = [(r, "192.168.1.10") for r in routers[::step][:sample]]
    else:
        if size % 100:
            raise SystemExit(f"lans: {size} hosts is not a whole number of LANs of 100")
        net = generate.lans(size // 100, 100)
        server = net.address_of("h0-0")
        pairs = [(h.name, server) for h in net.hosts if not h.forwarding and h.name != "h0-0"]
    build = time.perf_counter() - t0
    prof = None
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    net.start()
    net.run(net.now + 10 * NS_PER_MS)  # the gratuitous ARPs reach everyone
    start = time.perf_counter() - t0
    start_events = net.scheduler.events_run
    t0 = time.perf_counter()
    received = _ping_round(net, pairs, NS_PER_S)
    ping_wall = time.perf_counter() - t0
    events = net.scheduler.events_run - start_events
    if prof is not None:
        import pstats
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(20)
    routes = sum(len(h.routes) for h in net.hosts)
    return {"kind": kind, "size": size, "nodes": len(net.nodes), "routes": routes, "build_s": build,
            "start_s": start, "start_events": start_events, "pings": len(pairs), "replies": received,
            "ping_s": ping_wall, "events": events, "events_per_s": events / ping_wall if ping_wall else 0.0,
            "peak_mb": _peak_mb()}


def memory_per_host(lans: int = 10) -> dict:
    """tracemalloc: what one more host on a LAN costs (with its link and switch port), built,
    idle (started) and after it pinged: the difference between LANs of 100 and of 50 hosts, per
    added host; and a host alone (no link), started."""
    import gc
    import tracemalloc

    def measure(per_lan: int) -> tuple[int, int, int, int]:
        gc.collect()
        tracemalloc.start()
        net = generate.lans(lans, per_lan)
        gc.collect()
        built = tracemalloc.get_traced_memory()[0]
        net.start()
        net.run(net.now + 10 * NS_PER_MS)
        gc.collect()
        idle = tracemalloc.get_traced_memory()[0]
        server = net.address_of("h0-0")
        pairs = [(h.name, server) for h in net.hosts if not h.forwarding and h.name != "h0-0"]
        _ping_round(net, pairs, NS_PER_S)
        net.run(net.now + 10 * NS_PER_S)  # programs finished, timers quiet
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        arp = sum(len(h.arp.cache) for h in net.hosts if not h.forwarding)
        tracemalloc.stop()
        net.close()
        return built, idle, after, arp

    def alone(n: int) -> int:
        gc.collect()
        tracemalloc.start()
        net = Network(seed=1)
        for i in range(n):
            net.add_host(f"h{i}", {"eth0": f"10.{i >> 8}.{i & 0xFF}.1/8"})
        net.start()
        gc.collect()
        used = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        net.close()
        return used

    measure(10)  # the first network imports what it needs: not a cost per host
    alone(10)
    small, big = measure(50), measure(100)
    hosts = lans * 50
    return {"built_per_host": (big[0] - small[0]) / hosts, "idle_per_host": (big[1] - small[1]) / hosts,
            "after_ping_per_host": (big[2] - small[2]) / hosts, "arp_entries_per_host": (big[3] - small[3]) / hosts,
            "alone_per_host": (alone(1000) - alone(500)) / 500}


def broadcast_cost(ports: int = 1000, frames: int = 200) -> dict:
    """Wall time per delivered frame: one broadcast to ``ports`` ports vs. unicasts, one port each."""
    from minternet.sim.switch import Switch  # noqa: F401  (the thing measured)
    net = Network(seed=1)
    sw = net.add_switch("sw")
    sinks = []
    for i in range(ports):
        h = net.add_host(f"h{i}", {"eth0": f"10.{i >> 8}.{i & 0xFF}.1/8"})
        net.connect(h.interfaces["eth0"], sw, delay="1us")
        sinks.append(h)
    src_port = sw.ports[0]
    # EtherType 0x88B5 (IEEE local experimental): every host takes the frame and drops it unread,
    # so both figures include the same work at the receiver.
    bcast = b"\xff" * 6 + sinks[0].interfaces["eth0"].mac + b"\x88\xb5" + bytes(46)
    # Unicasts to a MAC the switch has learned, delivered to exactly one port each.
    dst_mac = sinks[1].interfaces["eth0"].mac
    sw.table[dst_mac] = (sw.ports[1], 1 << 62)
    ucast = dst_mac + sinks[0].interfaces["eth0"].mac + b"\x88\xb5" + bytes(46)

    def timed(frame: bytes, n: int) -> tuple[float, int]:
        before = sum(ch.delivered for link in net.links for ch in (link.ab, link.ba))
        t0 = time.perf_counter()
        for _ in range(n):
            sw.forward(src_port, frame)
        net.scheduler.run_until(None)
        wall = time.perf_counter() - t0
        return wall, sum(ch.delivered for link in net.links for ch in (link.ab, link.ba)) - before

    b_wall, b_frames = timed(bcast, frames)
    u_wall, u_frames = timed(ucast, 800)  # fewer than a queue (1000 frames) holds
    return {"broadcast_us_per_frame": 1e6 * b_wall / b_frames, "unicast_us_per_frame": 1e6 * u_wall / u_frames,
            "ports": ports}


def row(r: dict) -> str:
    label = f"{r['kind']} {r['size']:>6}"
    return (f"{label:<14} nodes={r['nodes']:>6} routes={r['routes']:>9} build={r['build_s']:7.2f}s "
            f"start={r['start_s']:7.2f}s pings={r['replies']:>5}/{r['pings']:<5} ping={r['ping_s']:6.2f}s "
            f"events/s={r['events_per_s']:>8.0f} peak={r['peak_mb']:7.0f} MB")


def child(args: list[str]) -> dict | None:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *args], capture_output=True, text=True)
    if out.stderr:
        sys.stderr.write(out.stderr)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        print(f"  ({' '.join(args)} failed, exit {out.returncode})")
        return None
    return json.loads(lines[-1])


def sizes(text: str) -> list[int]:
    try:
        found = [int(x.replace(",", "").replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give sizes as numbers separated by commas, like 100,1000")
    if any(n < 1 for n in found):
        raise argparse.ArgumentTypeError(f"{text!r}: sizes are counts, at least 1")
    return found


def positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number, at least 1")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--grids", type=sizes, default=None, help="router counts of the grids (default 100,1000,2500)")
    ap.add_argument("--lans", type=sizes, default=None,
                    help="host counts, in LANs of 100 (default 1000,10000); '' for none")
    ap.add_argument("--sample", type=positive, default=100, help="routers of a grid that ping (default 100)")
    ap.add_argument("--quick", action="store_true", help="grids of 100 and 1,000, 1,000 and 5,000 hosts")
    ap.add_argument("--ns3", metavar="PYTHON", help="a Python with ns3==3.44.post0: run the grids in ns-3 too")
    ap.add_argument("--ns3-max", type=int, default=1000, metavar="N",
                    help="only the grids of up to N routers in ns-3 (default 1000: its global routing takes "
                         "about two minutes there, and grows faster than N squared)")
    ap.add_argument("--profile", action="store_true", help="cProfile the start and pings of each case (stderr)")
    ap.add_argument("--no-extras", action="store_true", help="skip memory per host and the broadcast cost")
    ap.add_argument("--one", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    ap.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--broadcast", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_case(a.one[0], int(a.one[1]), a.sample, a.profile)))
        return
    if a.memory:
        print(json.dumps(memory_per_host()))
        return
    if a.broadcast:
        print(json.dumps(broadcast_cost()))
        return
    grids = a.grids if a.grids is not None else ([100, 1000] if a.quick else [100, 1000, 2500])
    hosts = a.lans if a.lans is not None else ([1000, 5000] if a.quick else [1000, 10000])
    for n in grids:
        if n > generate.MAX_ROUTERS:
            ap.error(f"--grids: {n} routers is more than a grid can have (10.0.0.0/8 in /30s: "
                     f"{generate.MAX_ROUTERS:,})")
    for n in hosts:
        if n % 100 or not 1 <= n // 100 <= 4096:
            ap.error(f"--lans: {n} hosts is not 1 to 4,096 LANs of 100")
    results: dict[tuple[str, int], dict] = {}
    extra = ["--sample", str(a.sample)] + (["--profile"] if a.profile else [])
    for kind, todo in (("grid", grids), ("lans", hosts)):
        for n in todo:
            r = child(["--one", kind, str(n), *extra])
            if r:
                results[(kind, n)] = r
                print(row(r), flush=True)
    if len(hosts) >= 2 and ("lans", hosts[0]) in results and ("lans", hosts[-1]) in results:
        lo, hi = results[("lans", hosts[0])], results[("lans", hosts[-1])]
        k = hosts[-1] / hosts[0]
        print(f"growth {hosts[0]} -> {hosts[-1]} hosts (x{k:g}): start x{hi['start_s'] / lo['start_s']:.2f} "
              f"({hi['start_s'] / lo['start_s'] / k:.2f} of linear), peak memory x{hi['peak_mb'] / lo['peak_mb']:.2f} "
              f"({hi['peak_mb'] / lo['peak_mb'] / k:.2f} of linear; target <= 1.5)")
    if a.ns3:
        for n in (g for g in grids if g <= a.ns3_max):
            out = subprocess.run([a.ns3, NS3_SCRIPT, str(n), str(a.sample)], capture_output=True, text=True)
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
            if out.returncode or not lines:
                print(f"ns-3 grid {n} failed: {out.stderr[-1500:]}")
                continue
            r = json.loads(lines[-1])
            mine = results.get(("grid", n))
            ratio = f" -> minternet/ns-3 start x{mine['start_s'] / r['start_s']:.2f} (target <= 3)" if mine else ""
            print(f"ns-3 grid {n:>6} nodes={r['nodes']:>6} build={r['build_s']:7.2f}s start={r['start_s']:7.2f}s "
                  f"pings={r['pings']:>5} ping={r['ping_s']:6.2f}s peak={r['peak_mb']:7.0f} MB{ratio}",
                  flush=True)
    if not a.no_extras:
        m = child(["--memory"])
        if m:
            print(f"memory per host (tracemalloc, LANs of 100 vs 50, with its link and switch port): built "
                  f"{m['built_per_host'] / 1024:.1f} KB, started {m['idle_per_host'] / 1024:.1f} KB, "
                  f"after a ping {m['after_ping_per_host'] / 1024:.1f} KB "
                  f"(x{m['after_ping_per_host'] / m['idle_per_host']:.2f}; {m['arp_entries_per_host']:.1f} ARP "
                  f"entries per host); a host alone, started: {m['alone_per_host'] / 1024:.1f} KB; "
                  f"target: idle < 8 KB", flush=True)
        b = child(["--broadcast"])
        if b:
            print(f"switch, {b['ports']} ports: {b['broadcast_us_per_frame']:.2f} us per frame delivered by a "
                  f"broadcast, {b['unicast_us_per_frame']:.2f} us per unicast frame "
                  f"(x{b['broadcast_us_per_frame'] / b['unicast_us_per_frame']:.2f})")


if __name__ == "__main__":
    main()
