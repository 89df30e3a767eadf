"""A minternet host on a real TAP device, talking to the Linux kernel.

The tests build a network of their own: a network namespace holds the kernel's end of a TAP
device (with 10.77.x.1/24), and our host (10.77.x.2/24) runs in this process on an asyncio loop in
a thread, attached to the TAP's file descriptor. Everything kernel-side runs with
``ip netns exec``: ping (a raw ICMP socket when ping(8) is missing), curl, dig, python3 -m
http.server, plain sockets and scapy. No packet leaves the namespace. The namespace, the TAP and
every process are removed afterwards, also when a test fails.

They need root (CAP_NET_ADMIN), /dev/net/tun and iproute2, and skip saying which is missing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from netutil import tap_interop_problem

from minternet.real.attach import make_host
from minternet.real.device import open_tap
from minternet.real.driver import LinkFaults, TapDriver

SRC = str(Path(__file__).resolve().parents[2] / "src")
PY = sys.executable


PROBLEM = tap_interop_problem()
pytestmark = pytest.mark.skipif(PROBLEM is not None, reason=f"TAP interop needs: {PROBLEM}")

TAG = os.getpid() % 100000
NETNS = f"mnt{TAG}"
TAP = f"mtap{TAG}"
SUBNET = 20 + TAG % 200
KERNEL = f"10.77.{SUBNET}.1"
OURS = f"10.77.{SUBNET}.2"
ECHO, SINK_PORT, SENDER_PORT, FLOOD_PORT, DNS_PORT, HTTP_PORT = 7, 9001, 9000, 2000, 53, 80

ZONE = """$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster ( 2026112601 3600 600 86400 60 )
        IN NS  ns1
ns1     IN A   {ours}
@       IN A   {ours}
www     IN CNAME @
big     IN TXT {big}
""".format(ours=OURS, big=" ".join(f'"{"x" * 200}"' for _ in range(6)))


def payload(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


# ================================================================================ plumbing =========
class LoopThread:
    """An asyncio loop in a thread: our host lives there; the test thread runs kernel-side tools."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="minternet-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` on the loop's thread (the stack is not thread-safe) and return its result."""
        async def wrapper() -> Any:
            return fn(*args)
        return self.run(wrapper(), 30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


def ns_argv(*argv: str) -> list[str]:
    return ["ip", "netns", "exec", NETNS, *argv]


def ns_run(*argv: str, timeout: float = 60, check: bool = False, **kw: Any) -> subprocess.CompletedProcess:
    done = subprocess.run(ns_argv(*argv), capture_output=True, text=True, timeout=timeout, **kw)
    if check and done.returncode:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def ns_python(code: str, *args: str, timeout: float = 60, **kw: Any) -> subprocess.CompletedProcess:
    return ns_run(PY, "-c", textwrap.dedent(code), *args, timeout=timeout,
                  env={**os.environ, "PYTHONPATH": SRC}, **kw)


class Procs:
    """Kernel-side processes started by a test; all killed at the end, whatever happened."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, *argv: str, **kw: Any) -> subprocess.Popen:
        proc = subprocess.Popen(ns_argv(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": SRC}, **kw)
        self.procs.append(proc)
        return proc

    def python(self, code: str, *args: str, **kw: Any) -> subprocess.Popen:
        return self.start(PY, "-u", "-c", textwrap.dedent(code), *args, **kw)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.communicate(timeout=10)
            except (subprocess.TimeoutExpired, ValueError):
                pass


@pytest.fixture
def procs():
    p = Procs()
    try:
        yield p
    finally:
        p.close()


def readline(proc: subprocess.Popen, timeout: float = 20) -> str:
    """A line of the process's stdout, or fail saying what it wrote to stderr."""
    result: list[str] = []
    t = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not result or not result[0]:
        proc.kill()
        raise AssertionError(f"no line from {proc.args[4:6]} in {timeout}s; stderr: {proc.stderr.read()[-2000:]}")
    return result[0].strip()


class Net:
    """The test network: the namespace, our host and its driver, the services it runs."""

    def __init__(self, lt: LoopThread, host: Any, driver: TapDriver, files: Path) -> None:
        self.lt = lt
        self.host = host
        self.driver = driver
        self.files = files
        self.services: list[Any] = []
        self.http = False

    def stat(self, key: str) -> int:
        return self.lt.call(lambda: self.host.stats[key])

    def driver_stats(self) -> dict[str, int]:
        return self.lt.call(lambda: dict(self.driver.stats))

    def set_faults(self, faults: LinkFaults | None) -> None:
        def change() -> None:
            self.driver.faults = faults
        self.lt.call(change)

    def assert_healthy(self) -> None:
        """The host never raised on a frame, and still answers a kernel ping."""
        stats = self.driver_stats()
        assert stats.get("stack-errors", 0) == 0, stats
        done = kernel_ping(64, count=1)
        assert "1/1" in done.stdout, done.stdout + done.stderr


async def _start_services(host: Any, files: Path) -> tuple[list[Any], bool]:
    from minternet.application.dns.server import AuthoritativeServer
    from minternet.application.dns.zonefile import load_zone
    from minternet.cli.attach import _echo_servers
    services: list[Any] = await _echo_servers(host, ECHO, lambda text: None)
    zone_path = files / "example.com.zone"
    zone_path.write_text(ZONE)
    dns = AuthoritativeServer([load_zone(zone_path)])
    services.append(asyncio.ensure_future(dns.serve(host, DNS_PORT)))

    async def sender(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The raw TCP sender: the client says how many bytes and which seed, gets them, EOF."""
        try:
            n, seed = map(int, (await reader.readline()).split())
            data = payload(n, seed)
            for i in range(0, n, 1 << 20):
                writer.write(data[i:i + (1 << 20)])
                await writer.drain()
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            writer.close()

    from minternet.transport.tcp.connection import Options
    big = Options(rcvbuf=4 << 20, sndbuf=4 << 20)
    services.append(await host.start_server(sender, port=SENDER_PORT, options=big))

    async def nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()
    services.append(await host.start_server(nothing, port=FLOOD_PORT))
    http = False
    try:
        from minternet.application.http import folder_site, serve
    except ImportError:
        pass
    else:
        services.append(await serve(host, HTTP_PORT, folder_site(files / "www"), unix_time=time.time))
        http = True
    return services, http


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    files = tmp_path_factory.mktemp("tapnet")
    (files / "www").mkdir()
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
    lt = LoopThread()
    device = None
    driver = None
    network = None
    try:
        subprocess.run(["ip", "netns", "add", NETNS], check=True, capture_output=True)
        device = open_tap(TAP)
        for argv in (["ip", "link", "set", TAP, "netns", NETNS],
                     ["ip", "-n", NETNS, "link", "set", "lo", "up"],
                     ["ip", "-n", NETNS, "addr", "add", f"{KERNEL}/24", "dev", TAP],
                     ["ip", "-n", NETNS, "link", "set", TAP, "up"]):
            subprocess.run(argv, check=True, capture_output=True)
        ns_run("sh", "-c", f"echo 1 > /proc/sys/net/ipv6/conf/{TAP}/disable_ipv6")

        async def setup() -> tuple[Any, TapDriver, list[Any], bool]:
            host = make_host("mini", f"{OURS}/24", seed=5)
            drv = TapDriver(device, host.interfaces["eth0"], log=lambda text: print(text, file=sys.stderr))
            drv.start()
            host.start()
            services, http = await _start_services(host, files)
            return host, drv, services, http

        host, driver, services, http = lt.run(setup())
        network = Net(lt, host, driver, files)
        network.services, network.http = services, http
        yield network
    finally:
        if network is not None:
            async def teardown() -> None:
                from minternet.cli.attach import shutdown
                await shutdown(network.host, network.services, timeout=1.0)
            try:
                lt.run(teardown(), 10)
            except Exception:  # noqa: BLE001 - teardown goes on regardless
                pass
        if driver is not None:
            try:
                lt.call(driver.close)
            except Exception:  # noqa: BLE001
                device.close()
        elif device is not None:
            device.close()
        lt.stop()
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)


# ================================================================================ kernel-side tools =
KPING = """
import os, socket, struct, sys, time
dst, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
def csum(b):
    if len(b) % 2:
        b += b"\\0"
    n = sum(struct.unpack(f"!{len(b) // 2}H", b))
    n = (n & 0xffff) + (n >> 16)
    n = (n & 0xffff) + (n >> 16)
    return ~n & 0xffff
ident, ok = os.getpid() & 0xffff, 0
for seq in range(1, count + 1):
    data = bytes((i * 7 + seq) & 0xff for i in range(size))
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + data), ident, seq) + data, (dst, 0))
    deadline = time.time() + 2
    while time.time() < deadline:
        try:
            r, a = s.recvfrom(65535)
        except socket.timeout:
            break
        icmp = r[(r[0] & 15) * 4:]
        if a[0] == dst and icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, seq):
            good = icmp[8:] == data and csum(icmp) == 0
            print(f"{len(icmp)} bytes from {dst}: icmp_seq={seq} {'ok' if good else 'CORRUPT'}")
            ok += good
            break
print(f"{ok}/{count}")
"""


def kernel_ping(size: int, count: int = 2) -> subprocess.CompletedProcess:
    """The kernel pings our host: ICMP echo over a raw socket (the kernel builds the IP header and
    fragments what does not fit the MTU); prints ok/count."""
    return ns_python(KPING, OURS, str(size), str(count), timeout=30)


KERNEL_READER = """
import hashlib, socket, sys, time
n, seed, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((sys.argv[4], int(sys.argv[5])), timeout=30)
s.sendall(f"{n} {seed}\\n".encode())
h, got, t0 = hashlib.sha256(), 0, time.time()
while True:
    d = s.recv(1 << 16)
    if not d:
        break
    if not got:
        print("started", flush=True)
    h.update(d)
    got += len(d)
    if rate:
        time.sleep(len(d) / rate)
print(got, h.hexdigest(), f"{time.time() - t0:.3f}", flush=True)
"""

KERNEL_SINK = """
import hashlib, socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
l.settimeout(60)
print("ready", flush=True)
c, _ = l.accept()
c.settimeout(60)
h, got = hashlib.sha256(), 0
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    h.update(d)
    got += len(d)
print(got, h.hexdigest(), flush=True)
"""


def scapy_send(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run scapy code in the namespace with IFACE, KERNEL, OURS and OUR_MAC defined."""
    prelude = (f"import logging; logging.getLogger('scapy.runtime').setLevel(logging.ERROR)\n"
               f"from scapy.all import *\nconf.verb = 0\nIFACE, KERNEL, OURS = {TAP!r}, {KERNEL!r}, {OURS!r}\n")
    return ns_python(prelude + textwrap.dedent(code), timeout=timeout)


def our_mac(net: Net) -> str:
    return net.host.interfaces["eth0"].mac.hex(":")


# ================================================================================ ICMP =============
@pytest.mark.parametrize("size", [56, 1472, 1473, 4000, 8000])
def test_kernel_pings_us(net, size):
    """ICMP echo from the kernel; above 1472 bytes both the request (fragmented by the kernel,
    reassembled by us) and the reply (fragmented by us, reassembled by the kernel) are in pieces."""
    fragmented = net.stat("ip.fragmented")
    reassembled = net.stat("ip.reassembled")
    done = kernel_ping(size, count=2)
    assert "2/2" in done.stdout, done.stdout + done.stderr
    assert f"{size + 8} bytes from {OURS}" in done.stdout
    if size > 1472:
        assert net.stat("ip.fragmented") - fragmented == 2
        assert net.stat("ip.reassembled") - reassembled == 2
    if shutil.which("ping"):
        real = ns_run("ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", str(size), OURS, timeout=30)
        assert " 0% packet loss" in real.stdout, real.stdout + real.stderr


def test_we_ping_the_kernel(net):
    """Our ping(8) to the kernel with 8000 bytes: we fragment, the kernel reassembles and answers
    in fragments that we put together."""
    from minternet.application.ping import ping
    result = net.lt.run(ping(net.host, KERNEL, count=2, size=8000, interval=200_000_000,
                             timeout=2_000_000_000, out=lambda line: None))
    assert len(result.replies) == 2, result
    assert all(r.size == 8008 for r in result.replies)


# ================================================================================ TCP: kernel reads =
@pytest.mark.parametrize("nbytes", [1_000_000, 20_000_000])
def test_kernel_downloads_from_our_raw_sender(net, nbytes):
    """A kernel socket reads N bytes our host sends over TCP and checks their hash."""
    done = ns_python(KERNEL_READER, str(nbytes), "11", "0", OURS, str(SENDER_PORT), timeout=120)
    lines = done.stdout.split("\n")
    assert lines[0] == "started", done.stdout + done.stderr
    got, digest, _ = lines[1].split()
    assert int(got) == nbytes
    assert digest == hashlib.sha256(payload(nbytes, 11)).hexdigest()
    net.assert_healthy()


@pytest.fixture(scope="module")
def web_files(net):
    if not net.http:
        pytest.skip("minternet.application.http is not importable: no HTTP server to download from")
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (apt-get install curl)")
    sizes = {"1MB.bin": 1_000_000, "100MB.bin": 100_000_000}
    for name, n in sizes.items():
        (net.files / "www" / name).write_bytes(payload(n, n))
    return sizes


@pytest.mark.parametrize("name", ["1MB.bin", "100MB.bin"])
def test_curl_downloads_from_our_http_server(net, web_files, name, tmp_path):
    out = tmp_path / name
    done = ns_run("curl", "-sS", "--fail", "--max-time", "120", "-o", str(out), f"http://{OURS}:{HTTP_PORT}/{name}",
                  timeout=150)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert len(data) == web_files[name]
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(payload(web_files[name], web_files[name])).hexdigest()
    net.assert_healthy()


# ================================================================================ TCP: we are the client
FAULTS = {
    "clean": None,
    "loss 5%": LinkFaults(loss=0.05, seed=1),
    "reorder": LinkFaults(reorder=0.1, reorder_delay=2_000_000, seed=2),
    "loss 5% + reorder + duplicates": LinkFaults(loss=0.05, reorder=0.05, reorder_delay=1_000_000, duplicate=0.02, seed=3),
}


@pytest.fixture
def faults(net, request):
    """Injected faults for one test, always taken off again."""
    chosen = FAULTS[request.param]
    net.set_faults(chosen)
    try:
        yield chosen
    finally:
        net.set_faults(None)


async def http_get(host: Any, address: str, port: int, path: str) -> tuple[bytes, bytes]:
    """HTTP/1.0 GET over our TCP: (header block, body)."""
    from minternet.transport.tcp.connection import Options
    reader, writer = await host.open_connection(address, port, options=Options(rcvbuf=1 << 20, sndbuf=1 << 20),
                                                timeout=10)
    writer.write(f"GET /{path} HTTP/1.0\r\nHost: {address}\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize("faults", list(FAULTS), indirect=True)
def test_we_download_from_kernel_http_server(net, faults, procs):
    """Our TCP client fetches a file from python3 -m http.server in the namespace."""
    n = 4_000_000 if faults is None else 1_000_000
    folder = net.files / f"kernel-www-{random.randrange(1 << 30)}"
    folder.mkdir()
    (folder / "file.bin").write_bytes(payload(n, 21))
    server = procs.start(PY, "-u", "-m", "http.server", "8000", "--bind", KERNEL, "--directory", str(folder))
    assert "Serving HTTP" in readline(server)
    head, body = net.lt.run(asyncio.wait_for(http_get(net.host, KERNEL, 8000, "file.bin"), 90), 100)
    assert head.startswith(b"HTTP/1.0 200"), head
    assert len(body) == n
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(payload(n, 21)).hexdigest()
    if faults is not None and faults.loss:
        assert net.driver_stats().get("fault.in.lost", 0) > 0


@pytest.mark.parametrize("faults", list(FAULTS), indirect=True)
def test_we_upload_to_kernel_socket(net, faults, procs):
    """Our TCP client sends N bytes to a kernel socket, which reports their hash."""
    n = 8_000_000 if faults is None else 1_000_000
    sink = procs.python(KERNEL_SINK, KERNEL, str(SINK_PORT))
    assert readline(sink) == "ready"
    data = payload(n, 31)

    async def upload() -> None:
        from minternet.transport.tcp.connection import Options
        reader, writer = await net.host.open_connection(KERNEL, SINK_PORT, timeout=10,
                                                        options=Options(rcvbuf=1 << 20, sndbuf=1 << 20))
        for i in range(0, n, 1 << 18):
            writer.write(data[i:i + (1 << 18)])
            await writer.drain()
        writer.write_eof()
        await reader.read()  # the kernel closes after reading everything
        writer.close()

    net.lt.run(asyncio.wait_for(upload(), 90), 100)
    got, digest = readline(sink, 30).split()
    assert int(got) == n
    assert digest == hashlib.sha256(data).hexdigest()
    if faults is not None and faults.loss:
        assert net.driver_stats().get("fault.out.lost", 0) > 0


# ================================================================================ DNS ==============
def test_dig_asks_our_dns_server(net):
    if shutil.which("dig") is None:
        pytest.skip("dig is not installed (apt-get install bind9-dnsutils)")
    done = ns_run("dig", f"@{OURS}", "+time=2", "+tries=1", "www.example.com", timeout=30)
    assert "status: NOERROR" in done.stdout, done.stdout + done.stderr
    assert "flags: qr aa" in done.stdout
    assert f"example.com.\t\t300\tIN\tA\t{OURS}" in done.stdout
    # An answer too big for UDP: dig gets TC and asks again over our TCP.
    done = ns_run("dig", f"@{OURS}", "+time=2", "+tries=1", "big.example.com", "TXT", timeout=30)
    assert "status: NOERROR" in done.stdout and done.stdout.count('"' + "x" * 200 + '"') == 6, done.stdout
    done = ns_run("dig", f"@{OURS}", "+time=2", "+tries=1", "nope.example.com", timeout=30)
    assert "status: NXDOMAIN" in done.stdout


def test_our_resolver_asks_a_kernel_side_dns_server(net, procs, tmp_path):
    """Our query exchange (UDP, then TCP for a truncated answer) against minternet dns-serve
    running on the kernel's sockets in the namespace."""
    from minternet.application.dns.exchange import query_udp
    from minternet.wire.dns import RRType
    zone = tmp_path / "example.com.zone"
    zone.write_text(ZONE)
    server = procs.start(PY, "-u", "-m", "minternet", "dns-serve", "--zone", str(zone), "--address", KERNEL,
                         "--port", "5353", "-q")
    assert "serving example.com" in readline(server)
    stats: dict[str, int] = {}
    resp = net.lt.run(query_udp(net.host, KERNEL, 5353, "www.example.com", RRType.A, False, 3.0, stats), 20)
    assert resp is not None, stats
    assert resp.aa and [rr.data.address for rr in resp.answers if rr.type == RRType.A] == [OURS]
    resp = net.lt.run(query_udp(net.host, KERNEL, 5353, "big.example.com", RRType.TXT, False, 3.0, stats), 20)
    assert resp is not None and not resp.tc and stats.get("tcp_retries") == 1, stats


# ================================================================================ closed ports =====
def test_kernel_tcp_to_closed_port_gets_reset(net):
    before = net.stat("tcp.resets_sent")
    done = ns_python(f"""
        import socket
        try:
            socket.create_connection(({OURS!r}, 9), timeout=3)
            print("connected?!")
        except ConnectionRefusedError:
            print("ECONNREFUSED")
        except OSError as exc:
            print("other", exc)
        """)
    assert done.stdout.strip() == "ECONNREFUSED", done.stdout + done.stderr
    assert net.stat("tcp.resets_sent") > before


def test_kernel_udp_to_closed_port_gets_port_unreachable(net):
    done = ns_python(f"""
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect(({OURS!r}, 9))
        s.send(b"anyone?")
        try:
            s.recv(100)
            print("answered?!")
        except ConnectionRefusedError:
            print("ECONNREFUSED")
        except socket.timeout:
            print("timeout")
        """)
    assert done.stdout.strip() == "ECONNREFUSED", done.stdout + done.stderr


# ================================================================================ hostile input ====
def test_malformed_frames_from_the_kernel_side(net):
    """Truncated headers, bad lengths, bad checksums, bad options, odd fragments, garbage: every
    one dropped with a reason, the host goes on working."""
    drops_before = net.lt.call(lambda: sum(v for k, v in net.host.stats.items() if k.startswith("drop.")))
    done = scapy_send(f"""
        import random
        MAC = {our_mac(net)!r}
        e = Ether(dst=MAC, src=get_if_hwaddr(IFACE))
        ip = IP(src=KERNEL, dst=OURS)
        frames = [
            e / Raw(b"\\x45\\x00\\x00"),                                          # IP header cut short
            e / Raw(bytes(IP(src=KERNEL, dst=OURS, ihl=3) / ICMP())),            # IHL below 5
            e / Raw(bytes(IP(src=KERNEL, dst=OURS, ihl=15) / ICMP())[:30]),      # IHL past the end
            e / Raw(bytes(IP(src=KERNEL, dst=OURS, len=4000) / ICMP())),         # total length past the end
            e / Raw(bytes(IP(src=KERNEL, dst=OURS, len=12) / ICMP())),           # total length below the header
            e / IP(src=KERNEL, dst=OURS, chksum=0x1234) / ICMP(),                # bad IP checksum
            e / Raw(b"\\x65" + bytes(ip / ICMP())[1:]),                           # version 6 in an IPv4 frame
            e / ip / ICMP(chksum=0x4321) / b"ping",                              # bad ICMP checksum
            e / ip / Raw(b"\\x08\\x00"),                                           # ICMP cut short
            e / ip / ICMP(type=3, code=3) / Raw(b"\\x45\\x00"),                    # an error quoting junk
            e / ip / TCP(sport=1234, dport={ECHO}, flags="S", chksum=0xbad),     # bad TCP checksum
            e / ip / Raw(bytes(TCP(sport=1234, dport={ECHO}))[:10]) ,            # TCP header cut short
            e / ip / TCP(sport=1234, dport={ECHO}, flags="S", dataofs=2),        # data offset below 5
            e / ip / TCP(sport=1234, dport={ECHO}, flags="S", dataofs=15),       # data offset past the end
            e / ip / TCP(sport=1234, dport={ECHO}, flags="S", options=[(2, b"")]),  # option of length 2 for MSS
            e / ip / Raw(bytes(TCP(sport=1234, dport={ECHO}, flags="S"))[:20] + b"\\x02\\x09\\x05\\xb4"),  # option past the end
            e / ip / TCP(sport=1234, dport={ECHO}, flags="SF"),                  # SYN+FIN
            e / ip / TCP(sport=1234, dport={ECHO}, flags="SR"),                  # SYN+RST
            e / ip / UDP(sport=1234, dport=53, len=400) / b"x",                  # UDP length past the end
            e / ip / UDP(sport=1234, dport=53, len=4) / b"x",                    # UDP length below 8
            e / ip / UDP(sport=1234, dport=53, chksum=0x1111) / DNS(qd=DNSQR(qname="example.com")),  # bad UDP checksum
            e / ip / UDP(sport=1234, dport=53) / Raw(b"\\x12\\x34\\x01"),          # DNS message cut short
            e / ip / UDP(sport=1234, dport=53) / Raw(b"\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\xc0\\x0c"),  # pointer loop
            e / IP(src=KERNEL, dst=OURS, flags="MF", frag=0, id=77) / Raw(b"a" * 7),   # fragment not a multiple of 8
            e / IP(src=KERNEL, dst=OURS, frag=8189, id=78, proto=1) / Raw(b"b" * 200),  # past 65535 bytes
            e / IP(src=KERNEL, dst=OURS, flags="MF", frag=0, id=79, proto=1) / Raw(b"c" * 64),
            e / IP(src=KERNEL, dst=OURS, flags="MF", frag=4, id=79, proto=1) / Raw(b"d" * 64),  # overlapping
            Ether(dst=MAC, type=0x0806) / Raw(b"\\x00\\x01\\x08\\x00"),             # ARP cut short
            Ether(dst=MAC) / ARP(hwlen=9, plen=3),                               # ARP with odd lengths
            Ether(dst=MAC, type=0x0800),                                         # nothing after Ethernet
        ]
        rng = random.Random(7)
        for _ in range(300):                                                     # random junk after a good IP header
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
            proto = rng.choice([1, 6, 17, 99])
            frames.append(e / IP(src=KERNEL, dst=OURS, proto=proto) / Raw(body))
        for _ in range(300):                                                     # random bytes as IPv4
            frames.append(e / Raw(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120)))))
        sendp(frames, iface=IFACE)
        print("sent", len(frames))
        """)
    assert done.returncode == 0 and "sent" in done.stdout, done.stdout + done.stderr
    time.sleep(0.5)
    net.assert_healthy()
    stats = net.lt.call(lambda: dict(net.host.stats))
    drops = sum(v for k, v in stats.items() if k.startswith("drop.")) - drops_before
    assert drops >= 50, stats
    assert stats.get("drop.bad-checksum", 0) >= 3, stats
    # Still a working TCP endpoint afterwards.
    done = ns_python(KERNEL_READER, "2000000", "12", "0", OURS, str(SENDER_PORT))
    assert done.stdout.split("\n")[1].split()[1] == hashlib.sha256(payload(2_000_000, 12)).hexdigest()


RST_CLIENT = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print(s.getsockname()[1], flush=True)
s.sendall(b"before")
print(s.recv(100).decode(), flush=True)
sys.stdin.readline()                     # the test injects its segments now
s.sendall(b"after")
print(s.recv(100).decode(), flush=True)
"""


def test_blind_reset_and_syn_get_challenge_acks(net, procs):
    """RFC 5961: a RST inside the window but not at rcv_nxt, and a SYN on an established
    connection, are answered with a challenge ACK; the connection survives and carries data."""
    client = procs.python(RST_CLIENT, OURS, str(ECHO), stdin=subprocess.PIPE)
    port = int(readline(client))
    assert readline(client) == "before"

    def find() -> tuple[int, str, int]:
        conn = next(c for c in net.host.tcp.connections.values() if c.remote == (KERNEL, port))
        return conn.rcv_nxt, conn.state.value, conn.stats["challenge_acks"]

    rcv_nxt, state, challenges = net.lt.call(find)
    assert state == "ESTABLISHED"
    done = scapy_send(f"""
        MAC = {our_mac(net)!r}
        e = Ether(dst=MAC, src=get_if_hwaddr(IFACE)) / IP(src=KERNEL, dst=OURS)
        sendp(e / TCP(sport={port}, dport={ECHO}, flags="R", seq={(rcv_nxt + 1000) % 2**32}), iface=IFACE)
        import time
        time.sleep(0.6)  # a connection sends one challenge ACK per 500 ms (net.ipv4.tcp_invalid_ratelimit)
        sendp(e / TCP(sport={port}, dport={ECHO}, flags="S", seq={(rcv_nxt + 5) % 2**32}), iface=IFACE)
        print("sent")
        """)
    assert "sent" in done.stdout, done.stderr
    time.sleep(0.3)
    _, state, after = net.lt.call(find)
    assert state == "ESTABLISHED"
    assert after - challenges == 2
    client.stdin.write("go\n")
    client.stdin.flush()
    assert readline(client) == "after"


def test_syn_flood_while_a_transfer_goes_on(net, procs):
    """10,000 SYNs (spoofed sources without a MAC to answer, and the kernel's own address) at a
    listening port while the kernel downloads from us: the SYN queue stays bounded (by the
    backlog), the rest are answered with SYN cookies and leave no state, the transfer goes on
    through the flood and completes intact, and the host still answers."""
    prelude = (f"import logging; logging.getLogger('scapy.runtime').setLevel(logging.ERROR)\n"
               f"from scapy.all import *\nconf.verb = 0\nIFACE, KERNEL, OURS = {TAP!r}, {KERNEL!r}, {OURS!r}\n")
    flood = procs.python(prelude + textwrap.dedent(f"""
        import random, sys, time
        rng = random.Random(9)
        MAC = {our_mac(net)!r}
        mine = get_if_hwaddr(IFACE)
        frames = []
        for i in range(10000):
            src = KERNEL if i % 2 else "{KERNEL.rsplit('.', 1)[0]}." + str(100 + rng.randrange(100))
            frames.append(raw(Ether(dst=MAC, src=mine) / IP(src=src, dst=OURS) /
                              TCP(sport=rng.randrange(1024, 65536), dport={FLOOD_PORT}, flags="S",
                                  seq=rng.randrange(2**32), options=[("MSS", 1460)])))
        print("built", flush=True)
        sys.stdin.readline()
        s = conf.L2socket(iface=IFACE)
        for i in range(0, len(frames), 250):
            for f in frames[i:i + 250]:
                s.send(f)
            time.sleep(0.02)   # within the TAP's queue of 1000 frames: every SYN reaches our host
        s.close()
        print("flooded", len(frames), flush=True)
        """), stdin=subprocess.PIPE)
    assert readline(flood, 60) == "built"
    n = 30_000_000
    reader = procs.python(KERNEL_READER, str(n), "41", "10000000", OURS, str(SENDER_PORT))  # ~3 s at 10 MB/s
    assert readline(reader) == "started"
    in_before = net.stat("tcp.in_segments")
    flood.stdin.write("go\n")
    flood.stdin.flush()
    assert readline(flood, 60) == "flooded 10000"
    assert reader.poll() is None, "the transfer ended before the flood did: the test proves nothing"
    got, digest, _ = readline(reader, 120).split()
    assert int(got) == n and digest == hashlib.sha256(payload(n, 41)).hexdigest()
    arrived = net.stat("tcp.in_segments") - in_before
    link = ns_run("ip", "-s", "link", "show", TAP).stdout
    assert arrived >= 9500, f"only {arrived} segments reached our TCP; kernel side:\n{link}"
    listener = net.lt.call(lambda: next(l for (_, p), l in net.host.tcp.listeners.items() if p == FLOOD_PORT))
    assert net.lt.call(lambda: len(listener.syn_queue)) <= listener.backlog
    assert net.stat("tcp.syncookies_sent") > 0
    net.assert_healthy()
