"""The bulk TCP transfer of ../shared/anchors/ns3_bulk.py, in minternet. Run by hand:

    python bench/tcp.py                          # 128 KiB socket buffers (window-limited)
    python bench/tcp.py --buf 4194304            # 4 MiB: link-limited, must fill the link
    python bench/tcp.py --ns3 /tmp/ns3venv/bin/python   # also run the ns-3 anchor, same session

client -- router -- server, two point-to-point links of 100 Mbit/s and 5 ms, 50,000,000 bytes
over one TCP connection (CUBIC, SACK, timestamps, 1448-byte segments), tracing off. Prints the
simulated seconds, goodput, wall-clock seconds of the run, packets on the links and packets per
wall-clock second, medians of --runs; with --ns3, the same figures for ns-3 and the ratio.
Target (issue 4): wall-clock within 2x of ns-3's; with 4 MiB buffers, ~94 Mbit/s like ns-3.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from minternet.application.transfer import transfer  # noqa: E402
from minternet.sim.network import Network  # noqa: E402

ANCHOR = os.path.join(HERE, "..", "..", "shared", "anchors", "ns3_bulk.py")


def build() -> Network:
    net = Network(seed=1)
    net.add_host("client", {"eth0": "10.1.1.1/24"}, gateway="10.1.1.2")
    net.add_router("router", {"eth0": "10.1.1.2/24", "eth1": "10.1.2.1/24"})
    net.add_host("server", {"eth0": "10.1.2.2/24"}, gateway="10.1.2.1")
    # ns-3's point-to-point devices queue 100 packets by default (DropTail).
    net.connect("client:eth0", "router:eth0", delay="5ms", bandwidth="100Mbps", queue=100)
    net.connect("router:eth1", "server:eth0", delay="5ms", bandwidth="100Mbps", queue=100)
    return net


def one_run(nbytes: int, buf: int, profile: bool = False) -> dict:
    net = build()
    options = {"congestion": "cubic", "sack": True, "timestamps": True, "rcvbuf": buf, "sndbuf": buf}
    coro = transfer(net["client"], net["server"], nbytes, options=options)
    t0 = time.perf_counter()
    if profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        res = prof.runcall(net.run_app, coro)
        wall = time.perf_counter() - t0
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    else:
        res = net.run_app(coro)
        wall = time.perf_counter() - t0
    assert res.ok, res.report("client", "server")
    pkts = sum(ch.sent for link in net.links for ch in (link.ab, link.ba))
    net.close()
    return {"sim_s": res.seconds, "goodput": res.goodput_bps / 1e6, "wall_s": wall, "pkts": pkts,
            "pkts_per_wall_s": pkts / wall, "retrans": res.sender_stats["retransmissions"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bytes", type=int, default=50_000_000)
    ap.add_argument("--buf", type=int, default=131072, help="socket buffers (default 128 KiB, like ns-3)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ns3", metavar="PYTHON", help="a Python with ns3==3.44.post0 installed: run the anchor too")
    ap.add_argument("--profile", action="store_true", help="one run under cProfile")
    a = ap.parse_args()
    if a.profile:
        one_run(a.bytes, a.buf, profile=True)
        return
    runs = []
    for i in range(a.runs):
        r = one_run(a.bytes, a.buf)
        runs.append(r)
        print(f"minternet run {i}: sim={r['sim_s']:.3f}s goodput={r['goodput']:.2f} Mbit/s wall={r['wall_s']:.3f}s "
              f"pkts={r['pkts']} pkt/s={r['pkts_per_wall_s']:.0f} retransmissions={r['retrans']}", flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"minternet MEDIAN: sim_s={med['sim_s']:.4f} goodput={med['goodput']:.2f} Mbit/s "
          f"wall_s={med['wall_s']:.3f} pkts={med['pkts']:.0f} pkts_per_wall_s={med['pkts_per_wall_s']:.0f}")
    if a.ns3:
        out = subprocess.run([a.ns3, ANCHOR, "--runs", str(a.runs), "--bytes", str(a.bytes), "--buf", str(a.buf)],
                             capture_output=True, text=True)
        line = [l for l in out.stdout.splitlines() if l.startswith("MEDIAN")]
        print("\n".join(l for l in out.stdout.splitlines() if l.startswith("run")))
        if not line:
            print("ns-3 anchor failed:", out.stderr[-2000:], file=sys.stderr)
            sys.exit(1)
        print("ns-3 " + line[0])
        fields = dict(kv.split("=") for kv in line[0].split() if "=" in kv)
        ns3_wall = float(fields["wall_run_s"])
        print(f"ratio minternet/ns-3 wall-clock: {med['wall_s'] / ns3_wall:.2f}x (target <= 2x); "
              f"packets per wall second: {med['pkts_per_wall_s'] / float(fields['pkts_per_wall_s']):.2f}x of ns-3")


if __name__ == "__main__":
    main()
