"""TCP goodput of a minternet host on a TAP device, against the kernel. Run by hand, as root:

    python bench/tap.py                      # offloads on (the driver's default), both ways + veth reference
    python bench/tap.py --modes all          # also: super-segments split, no merging, no offloads
    python bench/tap.py --profile            # where the time goes (cProfile), each way
    python bench/tap.py --bytes 500MB --runs 3

Three measurements in one run, each in network namespaces made for it and removed afterwards
(addresses 10.77.250.0/24 and 10.77.251.0/24, nothing leaves them):

- kernel -> minternet: a kernel socket in the namespace sends N bytes to a minternet host in this
  process (attached to the TAP, 4 MiB socket buffers); timed from the first byte to the FIN;
- minternet -> kernel: the minternet host sends N bytes to a kernel socket; timed by the kernel,
  from accept to the FIN;
- kernel -> kernel over a veth pair between two namespaces: the reference (Python sockets too,
  so both sides pay the same interpreter on the kernel side).

Prints Mbit/s, the ratio to the veth reference and to the target (1 Gbit/s each way), the bits
moved per CPU-second this process spent (which does not depend on what else the machine is
doing, unlike the wall-clock rate), and the driver's counters (system calls, TSO frames). The target is issue 5's; see README "The real world".
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from typing import Any, Iterator

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")
sys.path.insert(0, SRC)

from minternet.real.attach import make_host  # noqa: E402
from minternet.real.device import open_tap, tap_problem  # noqa: E402
from minternet.real.driver import TapDriver  # noqa: E402
from minternet.transport.tcp.connection import Options  # noqa: E402

PY = sys.executable
NS, TAP = "mtbench", "mtbench0"
KERNEL, OURS = "10.77.250.1", "10.77.250.2"
VETH_A, VETH_B = "mtbench-a", "mtbench-b"
TARGET_BPS = 1e9

MODES = {
    "offload": dict(offload=True, rx_gso="whole", tx_tso="stack"),   # the driver's default
    "merge-only": dict(offload=True, rx_gso="whole", tx_tso="merge"),
    "rx-split": dict(offload=True, rx_gso="split", tx_tso="stack"),
    "no-tx-tso": dict(offload=True, rx_gso="whole", tx_tso="off"),
    "no-offload": dict(offload=False, rx_gso="whole", tx_tso="off"),
}

SENDER = """
import socket, sys, time
n = int(sys.argv[3])
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
chunk = b"m" * (1 << 20)
t0 = time.perf_counter()
left = n
while left > 0:
    k = min(left, len(chunk))
    s.sendall(chunk[:k] if k < len(chunk) else chunk)
    left -= k
s.shutdown(socket.SHUT_WR)
s.recv(1)
print(n, time.perf_counter() - t0, flush=True)
"""

SINK = """
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
l.settimeout(60)
print("ready", flush=True)
c, _ = l.accept()
c.settimeout(60)
t0 = time.perf_counter()
buf = bytearray(1 << 20)
n = 0
while True:
    k = c.recv_into(buf)
    if not k:
        break
    n += k
print(n, time.perf_counter() - t0, flush=True)
"""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done


def in_ns(ns: str, code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", ns, PY, "-u", "-c", textwrap.dedent(code), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc: subprocess.Popen, timeout: float) -> tuple[int, float]:
    out, err = proc.communicate(timeout=timeout)
    lines = out.split()
    if len(lines) < 2:
        raise RuntimeError(f"kernel side said nothing useful: {out!r} {err[-500:]!r}")
    return int(lines[-2]), float(lines[-1])


# ================================================================================ the reference ====
@contextmanager
def veth_pair() -> Iterator[None]:
    for ns in (f"{NS}-a", f"{NS}-b"):
        sh("ip", "netns", "del", ns, check=False)
    try:
        sh("ip", "netns", "add", f"{NS}-a")
        sh("ip", "netns", "add", f"{NS}-b")
        sh("ip", "link", "add", VETH_A, "netns", f"{NS}-a", "type", "veth", "peer", "name", VETH_B, "netns", f"{NS}-b")
        sh("ip", "-n", f"{NS}-a", "addr", "add", "10.77.251.1/24", "dev", VETH_A)
        sh("ip", "-n", f"{NS}-b", "addr", "add", "10.77.251.2/24", "dev", VETH_B)
        sh("ip", "-n", f"{NS}-a", "link", "set", VETH_A, "up")
        sh("ip", "-n", f"{NS}-b", "link", "set", VETH_B, "up")
        yield
    finally:
        for ns in (f"{NS}-a", f"{NS}-b"):
            sh("ip", "netns", "del", ns, check=False)


def veth_goodput(nbytes: int) -> float:
    with veth_pair():
        sink = in_ns(f"{NS}-b", SINK, "10.77.251.2", "5201")
        assert sink.stdout.readline().strip() == "ready"
        sender = in_ns(f"{NS}-a", SENDER, "10.77.251.2", "5201", str(nbytes))
        n, seconds = result(sink, 300)
        sender.communicate(timeout=60)
        return n * 8 / seconds


# ================================================================================ the TAP ==========
@contextmanager
def tap_network(mode: dict[str, Any]) -> Iterator[Any]:
    sh("ip", "netns", "del", NS, check=False)
    device = None
    try:
        sh("ip", "netns", "add", NS)
        device = open_tap(TAP, offload=mode["offload"])
        sh("ip", "link", "set", TAP, "netns", NS)
        sh("ip", "-n", NS, "addr", "add", f"{KERNEL}/24", "dev", TAP)
        sh("ip", "-n", NS, "link", "set", TAP, "up")
        yield device
    finally:
        if device is not None:
            device.close()
        sh("ip", "netns", "del", NS, check=False)


async def _attach(device: Any, mode: dict[str, Any]) -> tuple[Any, TapDriver]:
    host = make_host("mini", f"{OURS}/24", seed=1)
    driver = TapDriver(device, host.interfaces["eth0"], rx_gso=mode["rx_gso"], tx_tso=mode["tx_tso"])
    driver.start()
    host.start()
    return host, driver


async def kernel_to_minternet(device: Any, mode: dict[str, Any], nbytes: int) -> tuple[float, dict]:
    host, driver = await _attach(device, mode)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    seen = {"n": 0, "t0": 0.0, "t1": 0.0}

    class Sink(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            if not seen["n"]:
                seen["t0"] = time.perf_counter()
                seen["c0"] = time.process_time()
            seen["n"] += len(data)

        def eof_received(self) -> bool:
            seen["t1"] = time.perf_counter()
            seen["c1"] = time.process_time()
            if not done.done():
                done.set_result(None)
            return False

    server = await host.create_server(Sink, port=5001, options=Options(rcvbuf=4 << 20, sndbuf=4 << 20))
    sender = in_ns(NS, SENDER, OURS, "5001", str(nbytes))
    try:
        await asyncio.wait_for(done, 300)
    finally:
        server.close()
    await asyncio.to_thread(sender.communicate, timeout=60)
    driver.close()
    assert seen["n"] == nbytes, seen
    stats = dict(driver.stats, cpu_seconds=seen["c1"] - seen["c0"])
    return seen["n"] * 8 / (seen["t1"] - seen["t0"]), stats


async def minternet_to_kernel(device: Any, mode: dict[str, Any], nbytes: int) -> tuple[float, dict]:
    host, driver = await _attach(device, mode)
    sink = in_ns(NS, SINK, KERNEL, "5002")
    line = await asyncio.to_thread(sink.stdout.readline)
    assert line.strip() == "ready", line
    reader, writer = await host.open_connection(KERNEL, 5002, options=Options(rcvbuf=4 << 20, sndbuf=4 << 20))
    chunk = b"k" * (1 << 20)
    c0 = time.process_time()
    left = nbytes
    while left > 0:
        writer.write(chunk if left >= len(chunk) else chunk[:left])
        left -= len(chunk)
        await writer.drain()
    writer.write_eof()
    n, seconds = await asyncio.to_thread(result, sink, 300)
    cpu = time.process_time() - c0
    await reader.read()
    writer.close()
    driver.close()
    assert n == nbytes, (n, nbytes)
    return n * 8 / seconds, dict(driver.stats, cpu_seconds=cpu)


def run_tap(direction: str, mode_name: str, nbytes: int, profile: bool) -> tuple[float, dict, str]:
    mode = MODES[mode_name]
    fn = kernel_to_minternet if direction == "in" else minternet_to_kernel
    with tap_network(mode) as device:
        if not profile:
            bps, stats = asyncio.run(fn(device, mode, nbytes))
            return bps, stats, ""
        prof = cProfile.Profile()
        bps, stats = prof.runcall(asyncio.run, fn(device, mode, nbytes))
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(22)
        return bps, stats, out.getvalue()


def _size(text: str) -> int:
    text = text.strip().upper().rstrip("B")
    scale = {"K": 10**3, "M": 10**6, "G": 10**9}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bytes", type=_size, default=_size("200MB"), help="bytes per TAP transfer (default 200MB)")
    ap.add_argument("--veth-bytes", type=_size, default=_size("2GB"), help="bytes for the veth reference (default 2GB)")
    ap.add_argument("--runs", type=int, default=1, help="runs of each measurement; the best is shown")
    ap.add_argument("--modes", default="offload", help="comma-separated: " + ", ".join(MODES) + ", or all")
    ap.add_argument("--profile", action="store_true", help="also profile each TAP direction (cProfile, top 22)")
    a = ap.parse_args()
    problem = tap_problem()
    if problem:
        print(f"bench/tap.py: {problem}", file=sys.stderr)
        return 1
    modes = list(MODES) if a.modes == "all" else a.modes.split(",")
    for m in modes:
        if m not in MODES:
            ap.error(f"unknown mode {m!r} (valid: {', '.join(MODES)}, all)")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, kernel {os.uname().release}")
    ref = max(veth_goodput(a.veth_bytes) for _ in range(a.runs))
    print(f"kernel -> kernel over veth (reference): {ref / 1e6:9.0f} Mbit/s  ({a.veth_bytes / 1e6:.0f} MB)")
    profiles = []
    for m in modes:
        for direction, label in (("in", "kernel -> minternet"), ("out", "minternet -> kernel")):
            best = (0.0, {}, "")
            for _ in range(a.runs):
                r = run_tap(direction, m, a.bytes, False)
                if r[0] > best[0]:
                    best = r
            bps, stats, _ = best
            calls = stats.get("reads", 0) + stats.get("writes", 0)
            tso = (f", {stats.get('rx-gso', 0)} super-segments in" if direction == "in" else
                   f", {stats.get('tx-tso-frames', 0)} TSO frames out")
            per_cpu = a.bytes * 8 / stats["cpu_seconds"] if stats.get("cpu_seconds") else 0.0
            print(f"{label:<22} [{m:<10}] {bps / 1e6:9.0f} Mbit/s  {bps / ref:6.1%} of veth  "
                  f"{bps / TARGET_BPS:5.2f}x target  {per_cpu / 1e6:6.0f} Mbit per CPU-second of ours  "
                  f"({calls:,} reads+writes{tso})")
            if a.profile:
                profiles.append((label, m, run_tap(direction, m, a.bytes, True)[2]))
    for label, m, text in profiles:
        print(f"\n==== profile: {label} [{m}] ====")
        print(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
