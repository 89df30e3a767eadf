"""TCP under loss: minternet's TCP against the Linux kernel's, over a TAP device. Run by hand, as root:

    python bench/loss.py                       # 1%, 3%, 5% loss each way, 10 ms each way, 1 MB, 5 runs
    python bench/loss.py --loss 3 --runs 9     # one loss rate, more runs
    python bench/loss.py --sim-only            # only the simulated part (no root needed)

For each loss rate, the driver's own faults (``minternet attach --no-offload --loss P --delay 10ms``:
per segment, each way, so the RTT is 20 ms) sit between a network namespace made for the run
(10.77.252.0/24, removed afterwards; nothing leaves it) and a minternet host in this process.
1 MB is sent five times each way:

- Linux -> minternet: a kernel socket sends, our host receives;
- minternet -> Linux: our host sends, a kernel socket receives.

Each is timed on the receiving side from the accepted connection to the sender's FIN. For the
sender the figures are its retransmitted segments and retransmission timeouts: the kernel's from
``nstat`` in its namespace (TcpRetransSegs, TcpExtTCPTimeouts, TcpExtTCPLossProbes), ours from
our host's counters. The kernel namespace saves no per-route metrics between runs
(net.ipv4.tcp_no_metrics_save=1), so every run starts cold, like ours, and uses CUBIC, as ours does
(TCP_CONGESTION on the socket; CUBIC is Linux's and Debian's default, but a machine may default to
another, e.g. BBR, which does not slow down on loss at all: --kernel-cc bbr shows it).

Printed per loss rate: the median time and goodput of each sender, the medians of its
retransmissions and timeouts per MB, and the ratio of our median time to Linux's. Targets (issue
11): ratio at most 1.25, and our timeouts per MB at most Linux's plus one.

Then, in the simulator (no root): the same path (two hosts, 10 ms each way, the same loss each
way, 1 Gbit/s so that loss and not the line limits), a longer transfer (--sim-bytes, 10 MB) whose
goodput is compared with the Mathis model, MSS/RTT x 1.22/sqrt(p): the steady-state rate of a
Reno-like TCP under random loss (CUBIC on a 20 ms path is in its Reno-friendly region).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Any, Iterator

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from minternet.application.transfer import transfer  # noqa: E402
from minternet.real.attach import make_host  # noqa: E402
from minternet.real.device import open_tap, tap_problem  # noqa: E402
from minternet.real.driver import LinkFaults, TapDriver  # noqa: E402
from minternet.sim.network import Network  # noqa: E402
from minternet.transport.tcp.connection import Options  # noqa: E402

import tap  # noqa: E402  (bench/tap.py: the namespace helpers)
from tap import sh  # noqa: E402

NS, TAP = "mtloss", "mtloss0"
KERNEL, OURS = "10.77.252.1", "10.77.252.2"
MB = 1_000_000
MS = 1_000_000  # ns
TARGET_RATIO = 1.25
KERNEL_CC = "cubic"  # set by --kernel-cc
KERNEL_COUNTERS = ("TcpRetransSegs", "TcpExtTCPTimeouts", "TcpExtTCPLossProbes")

# The kernel's programs, run inside the namespace. Each prints "<bytes> <seconds>" at the end.
SENDER = """
import socket, sys
n = int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[4].encode())
s.settimeout(120)
s.connect((sys.argv[1], int(sys.argv[2])))
s.sendall(b"L" * n)
s.shutdown(socket.SHUT_WR)
s.recv(1)
print(n, 0.0, flush=True)
"""

SINK = tap.SINK  # accept, count to the FIN, print "<bytes> <seconds>"


def in_ns(code: str, *args: str) -> subprocess.Popen:
    return tap.in_ns(NS, code, *args)


def kernel_counters() -> dict[str, int]:
    """The namespace's TCP counters, absolute (nstat -a), without touching nstat's history (-s)."""
    out = sh("ip", "netns", "exec", NS, "nstat", "-asz", *KERNEL_COUNTERS).stdout
    found = {name: 0 for name in KERNEL_COUNTERS}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in found:
            found[parts[0]] = int(parts[1])
    return found


@contextmanager
def tap_network() -> Iterator[Any]:
    sh("ip", "netns", "del", NS, check=False)
    device = None
    try:
        sh("ip", "netns", "add", NS)
        sh("ip", "netns", "exec", NS, "sysctl", "-q", "-w", "net.ipv4.tcp_no_metrics_save=1")
        device = open_tap(TAP, offload=False)
        sh("ip", "link", "set", TAP, "netns", NS)
        sh("ip", "-n", NS, "addr", "add", f"{KERNEL}/24", "dev", TAP)
        sh("ip", "-n", NS, "link", "set", TAP, "up")
        yield device
    finally:
        if device is not None:
            device.close()
        sh("ip", "netns", "del", NS, check=False)


def _faults(loss: float, delay_ns: int, seed: int) -> LinkFaults:
    return LinkFaults(loss=loss, delay=delay_ns, direction="both", seed=seed)


async def linux_sends(device: Any, faults: LinkFaults, nbytes: int) -> dict[str, float]:
    """The kernel sends nbytes to our host; timed by our host, from accept to the FIN."""
    host = make_host("mini", f"{OURS}/24", seed=faults.seed)
    driver = TapDriver(device, host.interfaces["eth0"], faults=faults, rx_gso="whole", tx_tso="off")
    driver.start()
    host.start()
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    seen = {"n": 0, "t0": 0.0, "t1": 0.0}

    class Sink(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            seen["t0"] = time.perf_counter()

        def data_received(self, data: bytes) -> None:
            seen["n"] += len(data)

        def eof_received(self) -> bool:
            seen["t1"] = time.perf_counter()
            if not done.done():
                done.set_result(None)
            return False

    server = await host.create_server(Sink, port=5001, options=Options(rcvbuf=4 << 20, sndbuf=4 << 20))
    before = kernel_counters()
    sender = in_ns(SENDER, OURS, "5001", str(nbytes), KERNEL_CC)
    try:
        await asyncio.wait_for(done, 120)
        await asyncio.to_thread(sender.communicate, timeout=60)
    finally:
        server.close()
        if sender.poll() is None:
            sender.kill()
    after = kernel_counters()
    driver.close()
    if seen["n"] != nbytes:
        raise RuntimeError(f"Linux -> minternet: {seen['n']} of {nbytes} bytes arrived")
    return {"seconds": seen["t1"] - seen["t0"],
            "retrans": after["TcpRetransSegs"] - before["TcpRetransSegs"],
            "timeouts": after["TcpExtTCPTimeouts"] - before["TcpExtTCPTimeouts"],
            "probes": after["TcpExtTCPLossProbes"] - before["TcpExtTCPLossProbes"]}


async def minternet_sends(device: Any, faults: LinkFaults, nbytes: int) -> dict[str, float]:
    """Our host sends nbytes to a kernel socket; timed by the kernel, from accept to the FIN."""
    host = make_host("mini", f"{OURS}/24", seed=faults.seed)
    driver = TapDriver(device, host.interfaces["eth0"], faults=faults, rx_gso="whole", tx_tso="off")
    driver.start()
    host.start()
    sink = in_ns(SINK, KERNEL, "5002")
    try:
        line = await asyncio.to_thread(sink.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError(f"the kernel's sink did not start: {line!r} {sink.stderr.read()[-300:]!r}")
        reader, writer = await host.open_connection(KERNEL, 5002, options=Options(rcvbuf=4 << 20, sndbuf=4 << 20))
        conn = writer.get_extra_info("tcp")
        writer.write(b"M" * nbytes)
        writer.write_eof()
        await writer.drain()
        out, err = await asyncio.to_thread(sink.communicate, timeout=120)
        await asyncio.wait_for(reader.read(), 30)
        writer.close()
    finally:
        if sink.poll() is None:
            sink.kill()
    driver.close()
    words = out.split()
    if len(words) < 2 or int(words[-2]) != nbytes:
        raise RuntimeError(f"minternet -> Linux: the kernel's sink said {out!r} {err[-300:]!r}")
    s = conn.stats
    return {"seconds": float(words[-1]), "retrans": s["retransmissions"], "timeouts": s["timeouts"],
            "probes": s.get("loss_probes", 0)}


def run_tap(loss: float, delay_ns: int, nbytes: int, runs: int) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {"linux": [], "ours": []}
    for i in range(runs):
        for who, fn in (("linux", linux_sends), ("ours", minternet_sends)):
            with tap_network() as device:
                results[who].append(asyncio.run(fn(device, _faults(loss, delay_ns, seed=1000 * i + 7), nbytes)))
    return results


def med(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def print_tap(loss: float, nbytes: int, results: dict[str, list[dict[str, float]]]) -> bool:
    mb = nbytes / MB
    lx, us = results["linux"], results["ours"]
    for who, rows in (("Linux    ", lx), ("minternet", us)):
        t = med(rows, "seconds")
        times = ", ".join(f"{r['seconds']:.2f}" for r in rows)
        print(f"  {who} sends: median {t:6.3f} s  {nbytes * 8 / t / 1e6:6.2f} Mbit/s  "
              f"retrans/MB {med(rows, 'retrans') / mb:5.1f}  timeouts/MB {med(rows, 'timeouts') / mb:4.1f}  "
              f"loss probes/MB {med(rows, 'probes') / mb:4.1f}   (runs: {times} s)")
    ratio = med(us, "seconds") / med(lx, "seconds")
    extra = med(us, "timeouts") / mb - med(lx, "timeouts") / mb
    ok = ratio <= TARGET_RATIO and extra <= 1
    print(f"  ratio minternet/Linux: {ratio:.2f}x (target <= {TARGET_RATIO}x); timeouts/MB above Linux's: "
          f"{extra:+.1f} (target <= +1): {'met' if ok else 'NOT met'}")
    return ok


# ================================================================================ the simulator ====
def sim_run(loss: float, delay_ns: int, nbytes: int, seed: int) -> dict[str, float]:
    net = Network(seed=seed)
    net.add_host("a", {"eth0": "10.9.0.1/24"})
    net.add_host("b", {"eth0": "10.9.0.2/24"})
    net.connect("a:eth0", "b:eth0", delay=f"{delay_ns}ns", bandwidth="1Gbps", loss=loss)
    res = net.run_app(transfer(net["a"], net["b"], nbytes, options={"rcvbuf": 4 << 20, "sndbuf": 4 << 20}))
    net.close()
    if not res.ok:
        raise RuntimeError("\n".join(res.report("a", "b")))
    s = res.sender_stats
    return {"seconds": res.seconds, "goodput": res.goodput_bps, "retrans": s["retransmissions"],
            "timeouts": s["timeouts"], "srtt": s["srtt_ms"]}


def print_sim(losses: list[float], delay_ns: int, nbytes: int, runs: int) -> None:
    mss = 1448  # 1500 - 20 IP - 20 TCP - 12 timestamps
    rtt = 2 * delay_ns / 1e9
    print(f"\nsimulated: two hosts, {delay_ns / MS:g} ms each way, 1 Gbit/s, the same loss each way, "
          f"{nbytes / MB:g} MB, median of {runs}")
    for p in losses:
        rows = [sim_run(p, delay_ns, nbytes, seed) for seed in range(1, runs + 1)]
        mathis = mss * 8 / rtt * math.sqrt(1.5) / math.sqrt(p)
        gp = med(rows, "goodput")
        print(f"  loss {p:4.1%}: {gp / 1e6:6.2f} Mbit/s, Mathis model {mathis / 1e6:6.2f} Mbit/s "
              f"({gp / mathis:4.2f}x); {med(rows, 'seconds'):6.2f} simulated s, "
              f"retrans/MB {med(rows, 'retrans') / (nbytes / MB):5.1f}, "
              f"timeouts/MB {med(rows, 'timeouts') / (nbytes / MB):4.2f}")


def _size(text: str) -> int:
    text = text.strip().upper().rstrip("B")
    scale = {"K": 10**3, "M": 10**6, "G": 10**9}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loss", default="1,3,5", help="loss rates in percent, each way (default 1,3,5)")
    ap.add_argument("--delay", type=float, default=10.0, help="ms each way (default 10)")
    ap.add_argument("--bytes", type=_size, default=MB, help="bytes per TAP transfer (default 1MB)")
    ap.add_argument("--runs", type=int, default=5, help="runs per loss rate and direction (default 5)")
    ap.add_argument("--kernel-cc", default="cubic",
                    help="the kernel's congestion control in its namespace (default cubic, Linux's and Debian's "
                         "default, as ours; this machine's own default may differ, e.g. bbr)")
    ap.add_argument("--sim-bytes", type=_size, default=10 * MB, help="bytes per simulated transfer (default 10MB)")
    ap.add_argument("--sim-runs", type=int, default=3, help="simulated runs per loss rate (default 3)")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--sim-only", action="store_true", help="only the simulated part")
    group.add_argument("--no-sim", action="store_true", help="skip the simulated part")
    a = ap.parse_args()
    try:
        losses = [float(x) / 100 for x in a.loss.split(",")]
    except ValueError:
        ap.error(f"--loss takes percentages separated by commas, like 1,3,5 (got {a.loss!r})")
    if any(not 0 < p < 1 for p in losses):
        ap.error("each loss rate must be between 0 and 100 percent")
    delay_ns = int(a.delay * MS)
    global KERNEL_CC
    KERNEL_CC = a.kernel_cc
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, kernel {os.uname().release}")
    all_ok = True
    if not a.sim_only:
        problem = tap_problem()
        if problem:
            print(f"bench/loss.py: {problem} (--sim-only runs the simulated part alone)", file=sys.stderr)
            return 1
        print(f"over a TAP, no offloads, the driver's faults: loss each way, {a.delay:g} ms each way; "
              f"{a.bytes / MB:g} MB x {a.runs} runs each way; the kernel's congestion control {KERNEL_CC}, ours cubic")
        for p in losses:
            print(f"loss {p:.1%}:")
            all_ok &= print_tap(p, a.bytes, run_tap(p, delay_ns, a.bytes, a.runs))
    if not a.no_sim:
        print_sim(losses, delay_ns, a.sim_bytes, a.sim_runs)
    return 0 if all_ok else 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
