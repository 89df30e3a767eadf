"""What the Linux kernel does, measured beside what our simulated stack does, for behaviour the
seams decide: a connect or a datagram to an address on the LAN that nobody answers ARP for.

A network namespace of the test's own holds one veth pair (nothing at the other end answers) and
its loopback, which must be up: the kernel tells a connecting socket by sending itself an ICMP
host unreachable (ipv4_link_failure), delivered through lo. The kernel's sockets run there with
``ip netns exec``. The namespace is removed afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from minternet.sim.network import Network
from minternet.sockets import AF_INET, SOCK_DGRAM, SOCK_STREAM

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                reason="needs root and iproute2 (ip netns)")

NETNS = f"mref{os.getpid() % 100000}"

KERNEL_SIDE = textwrap.dedent("""
    import json, socket, time
    out = {}
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(("10.66.0.78", 9))
    sends = []
    for _ in range(5):
        for send in (lambda: u.sendto(b"x", ("10.66.0.77", 9)), lambda: c.send(b"y")):
            try:
                sends.append(send())
            except OSError as e:
                sends.append(e.errno)
        time.sleep(1)
    out["udp_sends"] = sends
    t = socket.socket(); t.settimeout(20); t0 = time.monotonic()
    try:
        t.connect(("10.66.0.79", 80)); out["tcp"] = 0
    except OSError as e:
        out["tcp"] = e.errno
    out["tcp_seconds"] = time.monotonic() - t0
    print(json.dumps(out))
""")


@pytest.fixture
def netns():
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    try:
        for cmd in (["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                    ["addr", "add", "10.66.0.1/24", "dev", "v0"], ["link", "set", "v0", "up"],
                    ["link", "set", "v1", "up"], ["link", "set", "lo", "up"]):
            subprocess.run(["ip", "-n", NETNS, *cmd], check=True)
        yield NETNS
    finally:
        subprocess.run(["ip", "netns", "del", NETNS], check=False)


def ours() -> dict:
    net = Network(seed=5)
    net.add_host("a", {"eth0": "10.66.0.1/24"})
    net.add_host("b", {"eth0": "10.66.0.2/24"})
    net.connect("a:eth0", "b:eth0", delay="1ms")
    out: dict = {}

    async def run():
        import asyncio
        u = net["a"].socket(AF_INET, SOCK_DGRAM)
        c = net["a"].socket(AF_INET, SOCK_DGRAM)
        c.connect(("10.66.0.78", 9))
        sends = []
        for _ in range(5):
            for send in (lambda: u.sendto(b"x", ("10.66.0.77", 9)), lambda: c.send(b"y")):
                try:
                    sends.append(send())
                except OSError as e:
                    sends.append(e.errno)
            await asyncio.sleep(1)
        out["udp_sends"] = sends
        t = net["a"].socket(AF_INET, SOCK_STREAM)
        t0 = net.now
        try:
            await t.connect(("10.66.0.79", 80))
            out["tcp"] = 0
        except OSError as e:
            out["tcp"] = e.errno
        out["tcp_seconds"] = (net.now - t0) / 1e9

    net.run_app(run())
    return out


def test_absent_lan_neighbour_as_the_kernel_sees_it(netns):
    proc = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", KERNEL_SIDE],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    kernel = json.loads(proc.stdout)
    mine = ours()
    # UDP: every send succeeds on both (host unreachable is a soft error; nobody is told).
    assert kernel["udp_sends"] == mine["udp_sends"] == [1] * 10
    # TCP: the connect fails with EHOSTUNREACH once ARP has given up, about 3 s on both.
    assert kernel["tcp"] == mine["tcp"] == 113
    assert abs(kernel["tcp_seconds"] - mine["tcp_seconds"]) < 1.0, (kernel, mine)
