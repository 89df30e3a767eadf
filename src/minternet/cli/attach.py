"""``minternet attach``: a minternet host as a real machine on a TAP device.

The host answers ARP and ping, serves what it is told (HTTP, DNS, echo), prints a live trace and
captures its traffic. With ``--create-netns NS`` it builds its own little network: a network
namespace NS holds the kernel's end of the TAP, with an address, so the kernel's tools (ping,
curl, dig) reach our host with ``ip netns exec NS ...`` and nothing else on the machine sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from ..observe.trace import TraceEvent, format_event
from .common import time_arg

NETNS_EPILOG = """\
how the pieces fit (with --create-netns NS):

   namespace NS (the kernel)           this process (minternet)
  +---------------------------+       +------------------------------+
  | TAP device NAME           |       | host 'mini', interface eth0  |
  | --kernel-address          |<=====>| --address                    |
  | (default: .1 of the net)  | frames| ARP, IP, ICMP, UDP, TCP, apps|
  +---------------------------+       +------------------------------+

The TAP device is made in this namespace, then moved into NS and given the kernel address there;
our host is the other end of its "wire" (the TAP file descriptor). Everything kernel-side runs in
NS:  ip netns exec NS ping 10.77.0.2;  ip netns exec NS curl http://10.77.0.2/;
ip netns exec NS dig @10.77.0.2 www.example.com. At exit the TAP disappears and NS is deleted
(unless it existed before). Needs root (CAP_NET_ADMIN), /dev/net/tun and iproute2's ip.

examples:
  minternet attach --tap mtap0 --address 10.77.0.2/24 --create-netns mnt0 --echo 7
  minternet attach --tap mtap0 --address 10.77.0.2/24 --create-netns mnt0 --serve-http ./public --serve-dns example.com.zone
  minternet attach --tap mtap0 --address 10.77.0.2/24 --create-netns mnt0 --serve-https ./public --cacert ca.pem
    then:  ip netns exec mnt0 curl --cacert ca.pem https://10.77.0.2/      (HTTP/2 by ALPN)
           ip netns exec mnt0 curl --cacert ca.pem --http1.1 https://mini/ --resolve mini:443:10.77.0.2
           ip netns exec mnt0 gtlsclient -q --exit-on-all-streams-close 10.77.0.2 443 https://10.77.0.2/  (HTTP/3)
  minternet attach --tap mtap0 --address 10.77.0.2/24 --create-netns mnt0 --loss 0.05 --delay 10ms --pcap mini.pcap
"""

LIVE_LAYERS = {"ip", "arp", "tcp", "udp", "icmp", "app"}


def _err(text: str) -> None:
    print(f"minternet: error: {text}", file=sys.stderr, flush=True)


def _probability(text: str) -> float:
    try:
        p = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability (like 0.05 or 5%)") from None
    if not 0 <= p <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1")
    return p


def _cidr(text: str) -> str:
    try:
        iface = ipaddress.IPv4Interface(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IPv4 address with a prefix (like 10.77.0.2/24)") from None
    if "/" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} needs a prefix length: {text}/24, say")
    return str(iface)


def _mac(text: str) -> bytes:
    try:
        mac = bytes.fromhex(text.replace(":", "").replace("-", ""))
    except ValueError:
        mac = b""
    if len(mac) != 6:
        raise argparse.ArgumentTypeError(f"{text!r} is not a MAC address (like 02:00:00:00:00:02)")
    return mac


def kernel_address_for(ours: str) -> str:
    """The kernel's end of the link when not given: the first address of our network that is not ours."""
    iface = ipaddress.IPv4Interface(ours)
    for candidate in iface.network.hosts():
        if candidate != iface.ip:
            return f"{candidate}/{iface.network.prefixlen}"
    raise ValueError(f"{ours}: the network has no room for a second address; give --kernel-address")


# ================================================================================ the kernel side ==
class KernelSide:
    """The kernel's end of the TAP: optionally in a namespace of its own, with an address.

    Runs ``ip`` commands; :meth:`undo` removes what it made (the namespace, if it created it)."""

    def __init__(self, tap: str, netns: str | None, address: str | None, mtu: int,
                 run: Callable[[list[str]], None] | None = None) -> None:
        self.tap = tap
        self.netns = netns
        self.address = address
        self.mtu = mtu
        self.created_netns = False
        self._run = run or self._ip

    @staticmethod
    def _ip(argv: list[str]) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if done.returncode:
            raise RuntimeError(f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.returncode}")

    @staticmethod
    def problem() -> str | None:
        if shutil.which("ip") is None:
            return "the ip command (iproute2) is not installed: apt-get install iproute2"
        return None

    def netns_exists(self) -> bool:
        if self.netns is None:
            return False
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30).stdout
        return any(line.split()[0] == self.netns for line in out.splitlines() if line.strip())

    def prefix(self) -> list[str]:
        return ["ip", "-n", self.netns] if self.netns else ["ip"]

    def setup(self) -> None:
        """Create the namespace (if asked and missing), move the TAP into it, address it, up."""
        if self.netns:
            if not self.netns_exists():
                self._run(["ip", "netns", "add", self.netns])
                self.created_netns = True
            self._run(["ip", "link", "set", self.tap, "netns", self.netns])
            self._run(self.prefix() + ["link", "set", "lo", "up"])
        ip = self.prefix()
        if self.netns:
            # Our host speaks IPv4 only: without this the kernel's IPv6 neighbour discovery fills
            # the trace with frames it can only drop. Only in a namespace of our own, and best effort.
            subprocess.run(["ip", "netns", "exec", self.netns, "sh", "-c",
                            f"echo 1 > /proc/sys/net/ipv6/conf/{self.tap}/disable_ipv6"],
                           capture_output=True, timeout=30)
        self._run(ip + ["link", "set", self.tap, "mtu", str(self.mtu)])
        if self.address:
            self._run(ip + ["addr", "add", self.address, "dev", self.tap])
        self._run(ip + ["link", "set", self.tap, "up"])

    def undo(self) -> None:
        if self.created_netns and self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, timeout=30)
            self.created_netns = False


# ================================================================================ the command ======
class _LivePrinter:
    """The live trace: IP packets, ARP, TCP state changes and drops (-v: also congestion window
    changes; -vv: also every frame)."""

    def __init__(self, verbose: int, stream: Any = None) -> None:
        self.verbose = verbose
        self.stream = stream or sys.stdout

    def __call__(self, ev: TraceEvent) -> None:
        if self.verbose < 2:
            if ev.layer == "link" and ev.event != "drop":
                return
            if ev.layer == "tcp" and ev.event == "cwnd" and self.verbose < 1:
                return
        self.stream.write(format_event(ev) + "\n")
        self.stream.flush()


async def _echo_servers(host: Any, port: int, log: Callable[[str], None]) -> list[Any]:
    """An echo service (RFC 862) on TCP and UDP ``port``."""

    async def tcp_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await host.start_server(tcp_echo, port=port)
    sock = host.socket()
    sock.bind(("0.0.0.0", port))

    async def udp_echo() -> None:
        while True:
            data, addr = await sock.recvfrom(65535)
            sock.sendto(data, addr)

    task = asyncio.ensure_future(udp_echo())
    log(f"echo on TCP and UDP port {port}")
    return [server, task, sock]


async def _run_attach(args: argparse.Namespace) -> int:
    from ..wire.pcap import PcapWriter
    from ..real.attach import make_host
    from ..real.device import TapError, open_tap
    from ..real.driver import LinkFaults, TapDriver

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    loop = asyncio.get_running_loop()
    faults = LinkFaults(loss=args.loss, delay=args.delay, jitter=args.jitter, reorder=args.reorder,
                        reorder_delay=args.reorder_delay, duplicate=args.duplicate, corrupt=args.corrupt,
                        direction=args.fault_direction, seed=args.seed if args.seed is not None else 0)
    kernel_address = args.kernel_address
    if args.create_netns and kernel_address is None:
        kernel_address = kernel_address_for(args.address)
    if (args.create_netns or kernel_address) and KernelSide.problem():
        _err(KernelSide.problem() or "")
        return 1
    host = make_host(args.name, args.address, mtu=args.mtu, mac=args.mac, gateway=args.gateway, seed=args.seed)
    try:
        device = open_tap(args.tap, offload=not args.no_offload)
    except TapError as exc:
        _err(exc.strerror or str(exc))
        return 1
    kernel = KernelSide(device.name, args.create_netns, kernel_address, args.mtu)
    closers: list[Callable[[], Any]] = []
    driver = None
    try:
        try:
            kernel.setup()
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            _err(f"cannot set up the kernel's end of {device.name}: {exc}")
            return 1
        driver = TapDriver(device, host.interfaces["eth0"], faults=faults, rx_gso=args.rx_gso,
                           tx_tso=args.tx_tso, log=log)
        if args.pcap:
            writer = PcapWriter(args.pcap)
            closers.append(writer.close)
            # Wall-clock timestamps, so the capture lines up with tcpdump's on the kernel side.
            host.interfaces["eth0"].taps.append(lambda _t, frame, _d, w=writer: w.write(time.time_ns(), frame))
        if args.trace:
            from ..observe.trace import JsonLinesSink
            stream = open(args.trace, "w", encoding="utf-8")
            closers.append(stream.close)
            host.tracer.subscribe(JsonLinesSink(stream))
        if not args.quiet:
            host.tracer.subscribe(_LivePrinter(args.verbose))
        driver.start()
        host.start()
        iface = host.interfaces["eth0"]
        where = f"namespace {args.create_netns}" if args.create_netns else "this namespace"
        log(f"{host.name}: {iface.cidr} mac {iface.mac.hex(':')} mtu {iface.mtu} on TAP {device.name}; "
            f"kernel side in {where}" + (f" with {kernel_address}" if kernel_address else
                                         f" (not configured: ip addr add ... dev {device.name}; ip link set {device.name} up)"))
        log(f"driver: {driver.describe()}; faults: {faults.describe()}")
        servers = await _start_services(host, args, log)
        if servers is None:
            return 1
        if args.create_netns:
            ours = iface.address
            log(f"try: ip netns exec {args.create_netns} ping {ours}   (Ctrl-C stops)")
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            if args.duration:
                await asyncio.wait_for(stop.wait(), args.duration / 1e9)
            else:
                await stop.wait()
        except TimeoutError:
            pass
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        log("shutting down: closing connections (FIN)")
        await shutdown(host, servers, timeout=3.0)
        driver.flush()
        log(f"driver: {', '.join(f'{k} {v}' for k, v in sorted(driver.stats.items()))}")
        log(host.netstat())
        return 0
    finally:
        if driver is not None:
            driver.close()
        else:
            device.close()
        kernel.undo()
        for close in closers:
            close()


async def _start_services(host: Any, args: argparse.Namespace, log: Callable[[str], None]) -> list[Any] | None:
    """Start what the options ask for; the list holds servers, tasks and sockets to stop later."""
    servers: list[Any] = []
    for port in args.echo or []:
        servers += await _echo_servers(host, port, log)
    if args.serve_dns:
        from ..application.dns.server import AuthoritativeServer
        from ..application.dns.zone import ZoneError
        from ..application.dns.zonefile import load_zone
        zones = []
        for path in args.serve_dns:
            try:
                zones.append(load_zone(path))
            except ZoneError as exc:
                _err(str(exc))
                return None
            except OSError as exc:
                _err(f"cannot read {path}: {exc.strerror}")
                return None
        dns = AuthoritativeServer(zones)
        servers.append(asyncio.ensure_future(dns.serve(host, args.dns_port)))
        log(f"DNS for {', '.join(z.origin or '.' for z in zones)} on UDP and TCP port {args.dns_port}")
    if args.serve_http:
        try:
            from ..application.http import folder_site, serve
        except ImportError as exc:
            _err(f"--serve-http: this version of minternet has no HTTP server (minternet.application.http "
                 f"cannot be imported: {exc})")
            return None
        try:
            handler = folder_site(args.serve_http)
        except ValueError as exc:
            _err(str(exc))
            return None
        http = await serve(host, args.http_port, handler, log=None if args.quiet else log, unix_time=time.time)
        servers.append(http)
        log(f"HTTP serving {args.serve_http} on port {args.http_port}")
    if args.serve_https:
        try:
            servers += await start_https(host, args.serve_https, names=https_names(args), port=args.https_port,
                                         cacert=args.cacert, keylog=args.keylog, log=log, quiet=args.quiet)
        except (ValueError, OSError) as exc:
            _err(f"--serve-https: {exc}")
            return None
    return servers


def https_names(args: argparse.Namespace) -> list[str]:
    """The names our certificate is for: the --tls-name ones, the host's --name, its address."""
    address = str(ipaddress.IPv4Interface(args.address).ip)
    return list(dict.fromkeys([*(args.tls_name or []), args.name, address]))


def with_alt_svc(handler: Any, alt_svc: str) -> Any:
    """``handler``, its responses (errors too) carrying ``Alt-Svc`` (RFC 7838: "HTTP/3 is here too",
    which is how curl and browsers learn of it) and a wall-clock Date (the HTTP/3 server's own
    Date counts from the simulation's epoch)."""
    from ..application.http import HTTPError, error_response, http_date

    async def handle(request: Any) -> Any:
        try:
            response = await handler(request)
        except HTTPError as err:
            response = error_response(err.status, err.detail, err.headers)
        response.headers.setdefault("Alt-Svc", alt_svc)
        response.headers.setdefault("Date", http_date(time.time()))
        return response

    return handle


async def start_https(host: Any, folder: str, *, names: list[str], port: int = 443, cacert: str | None = None,
                      keylog: str | None = None, log: Callable[[str], None] = print,
                      quiet: bool = False) -> list[Any]:
    """Serve ``folder`` on ``host`` over TLS on TCP ``port`` (HTTP/2 or HTTP/1.1, as ALPN chooses)
    and over HTTP/3 on UDP ``port``, with a certificate for ``names`` from a CA made now from the
    operating system's randomness (a real client must not be able to predict its key). ``cacert``:
    where to write the CA certificate for the clients (``curl --cacert FILE``); ``keylog``: where
    both servers write their TLS secrets (SSLKEYLOGFILE format, for Wireshark). Returns the servers."""
    from ..application.http import folder_site, serve
    from ..application.http.h3 import H3Server
    from ..application.tls.ca import CertificateAuthority
    from ..application.tls.contexts import server_context
    from ..observe.keylog import KeyLog

    site = with_alt_svc(folder_site(folder), f'h3=":{port}"; ma=86400')
    # rng=None: OS randomness, not the host's (maybe seeded) source. A name of its own: a client
    # that trusts another minternet CA too (an earlier run's, the simulated one) must not take that
    # one's key for ours -- OpenSSL looks the issuer up by name.
    ca = CertificateAuthority(rng=None, name=f"minternet attach CA {os.urandom(4).hex()}")
    issued = ca.issue(names)
    if cacert:
        ca.write_pem(cacert)
    # The KeyLog first: it removes an old file, which ssl (opening it at once) must not write into.
    quic_keylog = KeyLog(keylog) if keylog else None
    tls = server_context(issued, alpn=("h2", "http/1.1"), keylog=keylog)
    access = None if quiet else log
    https = await serve(host, port, site, tls=tls, log=access, unix_time=time.time)
    servers: list[Any] = [https]
    try:
        h3 = H3Server(site, certificate=issued.cert_pem, private_key=issued.key_pem,
                      keylog=quic_keylog, log=access, deterministic=False)
        servers.append(await h3.start(host, port))
    except BaseException:
        await https.aclose()
        raise
    log(f"HTTPS serving {folder} on TCP port {port} (HTTP/2, HTTP/1.1) and UDP port {port} (HTTP/3); "
        f"certificate for {', '.join(names)} from a CA made now"
        + (f", written to {cacert}" if cacert else " (give --cacert FILE to write it out for clients)"))
    if keylog:
        log(f"TLS secrets to {keylog}")
    return servers


async def shutdown(host: Any, servers: list[Any], timeout: float = 3.0) -> None:
    """Stop listening, end every connection with a FIN after its data, and wait (at most
    ``timeout`` seconds) for the peers to close theirs."""
    from ..transport.tcp.connection import State
    for s in servers:
        if isinstance(s, asyncio.Future):
            s.cancel()
        elif hasattr(s, "aclose"):
            await s.aclose()
        elif hasattr(s, "close"):
            s.close()
    for conn in list(host.tcp.connections.values()):
        if conn.state in (State.ESTABLISHED, State.CLOSE_WAIT, State.SYN_RECEIVED):
            conn.shutdown_write()
    deadline = time.monotonic() + timeout
    busy = (State.ESTABLISHED, State.CLOSE_WAIT, State.SYN_RECEIVED, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK)
    while time.monotonic() < deadline and any(c.state in busy for c in host.tcp.connections.values()):
        await asyncio.sleep(0.05)


def cmd_attach(args: argparse.Namespace) -> int:
    from ..real.device import tap_problem
    alone = [opt for opt, value in (("--cacert", args.cacert), ("--tls-name", args.tls_name), ("--keylog", args.keylog))
             if value]
    if alone and not args.serve_https:
        _err(f"{', '.join(alone)} go with --serve-https DIR (the HTTPS server's CA, names and secrets)")
        return 2
    problem = tap_problem()
    if problem:
        _err(f"cannot attach to a TAP device: {problem}")
        return 1
    try:
        return asyncio.run(_run_attach(args))
    except KeyboardInterrupt:
        return 130


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add attach (it runs one real host, not a simulated network: its own options, no common ones)."""
    p = sub.add_parser(
        "attach", help="run a minternet host on a real TAP device (root): ping, curl and dig reach it",
        description="Run one minternet host, with the same stack the simulator runs, on a Linux TAP "
                    "device: the kernel at the other end pings it, and its servers (--serve-http, "
                    "--serve-https, --serve-dns, --echo) answer real curl and dig. Prints a live trace of its packets "
                    "(-q: none; -v: also congestion windows; -vv: every frame). Ctrl-C closes the "
                    "connections with FIN, prints counters, and removes what it made.",
        epilog=NETNS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tap", required=True, metavar="NAME", help="the TAP device to create or attach to (at most 15 characters)")
    p.add_argument("--address", required=True, type=_cidr, metavar="A.B.C.D/N", help="our host's address, e.g. 10.77.0.2/24")
    p.add_argument("--gateway", metavar="A.B.C.D", help="our default route (e.g. the kernel's address)")
    p.add_argument("--name", default="mini", help="the host's name in the trace (default mini)")
    p.add_argument("--mtu", type=int, default=1500, help="MTU of the link, both ends (default 1500)")
    p.add_argument("--mac", type=_mac, help="our MAC address (default: random, locally administered)")
    p.add_argument("--create-netns", metavar="NS",
                   help="create network namespace NS and put the kernel's end of the TAP in it, with "
                        "--kernel-address (see below); deleted at exit")
    p.add_argument("--kernel-address", type=_cidr, metavar="A.B.C.D/N",
                   help="the kernel end's address (default with --create-netns: the first other address of "
                        "our network, e.g. 10.77.0.1/24); without --create-netns it is set in this namespace")
    g = p.add_argument_group("services")
    g.add_argument("--serve-http", metavar="DIR", help="serve the files of DIR over HTTP (needs minternet's HTTP application)")
    g.add_argument("--http-port", type=int, default=80, help="HTTP port (default 80)")
    g.add_argument("--serve-https", metavar="DIR",
                   help="serve the files of DIR over HTTPS: TLS 1.3 on TCP --https-port with HTTP/2 or HTTP/1.1 "
                        "(as ALPN chooses) and HTTP/3 on UDP --https-port, advertised with Alt-Svc; the "
                        "certificate (for --tls-name, --name and our address) comes from a CA made at start "
                        "with the OS's randomness: write it out with --cacert for the clients")
    g.add_argument("--https-port", type=int, default=443, help="HTTPS port, TCP and UDP (default 443)")
    g.add_argument("--cacert", metavar="FILE",
                   help="with --serve-https: write the CA certificate (PEM) to FILE, for curl --cacert FILE")
    g.add_argument("--tls-name", metavar="NAME", action="append",
                   help="with --serve-https: a DNS name for the certificate besides --name and our address "
                        "(curl --resolve NAME:443:ADDRESS); repeatable")
    g.add_argument("--keylog", metavar="FILE",
                   help="with --serve-https: write the TLS secrets (SSLKEYLOGFILE format) to FILE, so that "
                        "Wireshark decrypts a --pcap capture")
    g.add_argument("--serve-dns", metavar="ZONE", action="append",
                   help="serve a zone file (RFC 1035 master file or .toml) over DNS; repeatable")
    g.add_argument("--dns-port", type=int, default=53, help="DNS port, UDP and TCP (default 53)")
    g.add_argument("--echo", metavar="PORT", type=int, action="append", help="echo service on TCP and UDP PORT; repeatable")
    g = p.add_argument_group("faults on the link (applied by our driver, per frame, both ways unless --fault-direction)")
    g.add_argument("--loss", type=_probability, default=0.0, metavar="P", help="drop frames with probability P (0.05 or 5%%)")
    g.add_argument("--delay", type=time_arg, default=0, metavar="T", help="delay every frame by T (10ms)")
    g.add_argument("--jitter", type=time_arg, default=0, metavar="T", help="extra delay, uniform in [0, T)")
    g.add_argument("--reorder", type=_probability, default=0.0, metavar="P", help="hold frames back with probability P, so later ones pass")
    g.add_argument("--reorder-delay", type=time_arg, default=5_000_000, metavar="T", help="how long a reordered frame is held (default 5ms)")
    g.add_argument("--duplicate", type=_probability, default=0.0, metavar="P", help="send frames twice with probability P")
    g.add_argument("--corrupt", type=_probability, default=0.0, metavar="P",
                   help="flip one bit of a frame's IP packet with probability P (the receiver's checksum drops it)")
    g.add_argument("--fault-direction", choices=["both", "in", "out"], default="both",
                   help="in: kernel -> us only; out: us -> kernel only (default both)")
    g.add_argument("--seed", type=int, default=None, help="seed for the faults and the host's random source (default: random)")
    g = p.add_argument_group("output and tuning")
    g.add_argument("--pcap", metavar="FILE", help="capture our host's frames into FILE (pcap, wall-clock times)")
    g.add_argument("--trace", metavar="FILE", help="write every trace event as JSON lines to FILE")
    g.add_argument("-v", "--verbose", action="count", default=0, help="-v: also cwnd changes; -vv: also every frame")
    g.add_argument("-q", "--quiet", action="store_true", help="no live trace (full speed)")
    g.add_argument("--duration", type=time_arg, default=0, metavar="T", help="stop by itself after T")
    g.add_argument("--no-offload", action="store_true", help="plain frames: no virtio-net header, checksum or TSO offload")
    g.add_argument("--rx-gso", choices=["whole", "split"], default="whole",
                   help="the kernel's TSO super-segments go to our stack whole (default) or split into wire-sized segments")
    g.add_argument("--tx-tso", choices=["stack", "merge", "off"], default="stack",
                   help="stack (default): our TCP sends super-segments the kernel cuts up, and runs of "
                        "segments are merged into TSO frames; merge: only merging; off: neither")
    p.set_defaults(func=cmd_attach)
