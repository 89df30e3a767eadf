"""The ``minternet`` command."""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib import resources
from typing import Callable

from .runtime import NS_PER_S
from .sim.topology import Topology, TopologyError, load, loads
from .sim.units import parse_time

EXAMPLE = "internet.toml"
COMMAND_MODULES = [
    "minternet.application.http.commands",  # http-serve, curl
    "minternet.observe.diagram",  # diagram
    "minternet.real.commands",  # attach
    "minternet.web.commands",  # web
]


def example_text() -> str:
    return resources.files("minternet").joinpath("examples", EXAMPLE).read_text(encoding="utf-8")


def _load(args: argparse.Namespace, out: Callable[[str], None] = print) -> Topology:
    if getattr(args, "topology", None):
        topo = load(args.topology, seed=args.seed, out=out)
    else:
        topo = loads(example_text(), f"(built-in example {EXAMPLE})", seed=args.seed, out=out)
    net = topo.network
    if args.trace:
        net.trace_to(args.trace)
    if args.pcap:
        net.capture(args.pcap, nanosecond=args.pcap_ns)
    if args.verbose:
        # -v: IP-level events, ARP, faults and route changes; -vv: also every frame on every link.
        layers = None if args.verbose > 1 else {"ip", "icmp", "udp", "tcp", "arp", "fault", "route"}
        net.print_timeline(sys.stdout, layers=layers)
    return topo


def _finish(args: argparse.Namespace, topo: Topology) -> None:
    net = topo.network
    net.close()
    if getattr(args, "stats", False):
        print()
        for node in net.hosts:
            text = node.netstat()
            if "\n" in text:
                print(text)
        link_drops = {k: v for k, v in sorted(net.stats.items()) if v}
        if link_drops:
            print("links:")
            for k, v in link_drops.items():
                print(f"    {v:>8}  {k.replace('drop.', 'dropped: ')}")
    if args.pcap:
        print(f"\npcap files written to {args.pcap}/ (one per interface; open them in Wireshark)", file=sys.stderr)
    if args.trace:
        print(f"trace written to {args.trace} (JSON lines)", file=sys.stderr)


# For command modules (see COMMAND_MODULES): the same loading and closing every command does.
load_topology = _load
finish_run = _finish


def _time_arg(text: str) -> int:
    try:
        return parse_time(text if any(c.isalpha() for c in text) else f"{text}s")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(p: argparse.ArgumentParser, topology_flag: bool = True) -> None:
    if topology_flag:
        p.add_argument("-t", "--topology", metavar="FILE",
                       help="topology file (TOML); default: the built-in example internet")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same run); default: the file's or 0")
    p.add_argument("--trace", metavar="FILE", help="write every event as JSON lines to FILE")
    p.add_argument("--pcap", metavar="DIR", help="write a pcap file per interface into DIR")
    p.add_argument("--pcap-ns", action="store_true", help="nanosecond pcap timestamps (default: microseconds)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="print the timeline of packets as they move (-vv: every frame on every link)")
    p.add_argument("--stats", action="store_true", help="print each node's counters at the end, like netstat -s")


def cmd_ping(args: argparse.Namespace) -> int:
    from .application.ping import ping
    topo = _load(args)
    net = topo.network
    src = net.host(args.src)
    dst = net.address_of(args.dest)
    result = net.run_app(ping(src, dst, count=args.count, size=args.size, interval=args.interval,
                              timeout=args.timeout, ttl=args.ttl, df=args.df, out=print))
    _finish(args, topo)
    return 0 if result.received else 1


def cmd_traceroute(args: argparse.Namespace) -> int:
    from .application.traceroute import traceroute
    topo = _load(args)
    net = topo.network
    src = net.host(args.src)
    dst = net.address_of(args.dest)
    result = net.run_app(traceroute(src, dst, max_hops=args.max_hops, probes=args.queries, wait=args.wait,
                                    name_of=net.name_of, out=print))
    _finish(args, topo)
    return 0 if result.reached else 1


def cmd_run(args: argparse.Namespace) -> int:
    args.topology = args.file
    topo = _load(args)
    net = topo.network
    until = args.until if args.until is not None else max(10 * NS_PER_S, topo.last_event + 10 * NS_PER_S)
    print(f"running {net.name} until {until / NS_PER_S:g}s (virtual time)")
    net.run(until)
    print(f"done at {net.now / NS_PER_S:g}s: {net.scheduler.events_run} events")
    _finish(args, topo)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .host import Host
    topo = _load(args)
    net = topo.network
    net.start()
    print(f"{net.name}: {len(net.hosts)} hosts and routers, {len(net.links)} links")
    for node in net.nodes.values():
        kind = getattr(node, "kind", "node")
        print(f"\n{node.name} ({kind})")
        if isinstance(node, Host):
            for iface in node.interfaces.values():
                print(f"  {iface.name:<6} {iface.cidr or '-':<18} mac {iface.mac.hex(':')}  mtu {iface.mtu}")
            if args.routes:
                for r in node.routes:
                    print(f"    route {r}")
    print("\nlinks:")
    for link in net.links:
        cost = f"  cost {link.ab.cost:g}/{link.ba.cost:g}"
        print(f"  {link.name:<28} {link.describe()}{cost}")
    if topo.events:
        print("\ntimeline:")
        for t, text in sorted(topo.events):
            print(f"  {t / NS_PER_S:8.3f}s  {text}")
    net.close()
    return 0


def cmd_routes(args: argparse.Namespace) -> int:
    topo = _load(args)
    net = topo.network
    net.start()
    nodes = [net.host(args.node)] if args.node else net.hosts
    for node in nodes:
        print(f"{node.name}:")
        for r in node.routes:
            print(f"  {r}")
    net.close()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    topo = load(args.file, out=lambda line: None)
    net = topo.network
    net.start()
    net.close()
    print(f"{args.file}: ok: {len(net.hosts)} hosts and routers, {len(net.links)} links, "
          f"{len(topo.events)} timeline events")
    return 0


def cmd_example(args: argparse.Namespace) -> int:
    sys.stdout.write(example_text())
    return 0


def _rrtype(text: str) -> int:
    from .wire.dns import RRType
    try:
        return RRType[text.upper()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"unknown record type {text!r} (try: {', '.join(t.name for t in RRType)})") from None


def cmd_dig(args: argparse.Namespace) -> int:
    """dig in the simulation: from a host, ask its resolver (or @SERVER), or walk the hierarchy (--trace)."""
    import asyncio
    from .application.dns.dig import dig_output, trace_output
    from .application.dns.resolver import RecursiveResolver
    from .wire.dns import DNSMessage, make_query
    if args.os:
        from .real.ossocket import OSHost
        host = OSHost()
        if not args.server:
            raise ValueError("with --os, say which server to ask: @ADDRESS (and -p PORT)")
        topo = None
    else:
        topo = _load(args)
        host = topo.network.host(args.src)
    server = args.server[1:] if args.server else None

    async def run() -> str:
        if args.walk:
            hints = [("root", server)] if server else topo.network.dns.root_hints
            if not hints:
                raise ValueError("this network has no root server to start from")
            resolver = RecursiveResolver(host, hints, port=args.port)
            result = await resolver.resolve(args.name, args.type)
            return trace_output(result)
        target = server or (host.stub_resolver.nameservers[0] if host.stub_resolver.nameservers else None)
        if target is None:
            raise ValueError(f"{args.src} has no name server configured; give one as @ADDRESS")
        sock = host.socket()
        sock.connect((target, args.port))
        qid = host.rng.randrange(65536)
        t0 = host.clock.now
        sock.send(make_query(args.name, args.type, qid, rd=not args.norecurse).encode())
        sock.settimeout(args.timeout)
        try:
            data = await sock.recv(65535)
        except TimeoutError:
            return f";; connection timed out; no servers could be reached ({target}#{args.port})"
        finally:
            sock.close()
        return dig_output(DNSMessage.decode(data), target, args.port, host.clock.now - t0, len(data))

    if topo is None:
        print(asyncio.run(run()))
        return 0
    print(topo.network.run_app(run()))
    _finish(args, topo)
    return 0


def cmd_dns_serve(args: argparse.Namespace) -> int:
    """Serve zones on the operating system's UDP sockets (loopback by default)."""
    import asyncio
    import ipaddress
    from .application.dns.server import AuthoritativeServer
    from .application.dns.zone import ZoneError
    from .application.dns.zonefile import load_zone
    from .real.ossocket import OSHost
    zones = []
    for path in args.zone:
        try:
            zones.append(load_zone(path))
        except ZoneError as exc:
            print(f"minternet: error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"minternet: error: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 2
    if not ipaddress.IPv4Address(args.address).is_loopback:
        print(f"warning: serving on {args.address}, which is not a loopback address", file=sys.stderr)
    server = AuthoritativeServer(zones)
    host = OSHost()

    def log(data: bytes, addr: tuple[str, int]) -> bytes | None:
        reply = server.handle(data)
        if not args.quiet:
            from .wire.dns import DNSMessage
            try:
                text = DNSMessage.decode(reply).summary() if reply else "no answer (malformed)"
            except Exception:  # noqa: BLE001 - a log line must never stop the server
                text = f"{len(reply or b'')} bytes"
            print(f"{addr[0]}#{addr[1]}: {text}", flush=True)
        return reply

    async def main() -> None:
        from .application.dns.server import serve_tcp, serve_udp
        started = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(serve_udp(host, args.port, args.address, log, started))
        addr = await started

        async def over_tcp(data: bytes) -> bytes | None:
            return server.handle(data, limit=65535)
        tcp_server = await serve_tcp(host, addr[1], args.address, over_tcp)
        names = ", ".join(f"{z.origin or '.'}" for z in zones)
        print(f"serving {names} on {addr[0]}:{addr[1]} (UDP and TCP); Ctrl-C to stop", flush=True)
        try:
            await task
        finally:
            tcp_server.close()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    except OSError as exc:
        print(f"minternet: error: cannot serve on {args.address}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def _size_arg(text: str) -> int:
    import re
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([kKmMgG]i?[bB]?|[bB])?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (like 1000000, 10MB, 64KiB)")
    unit = (m.group(2) or "").lower().rstrip("b")
    scale = {"": 1, "k": 1000, "m": 10**6, "g": 10**9, "ki": 1024, "mi": 1024**2, "gi": 1024**3}[unit]
    return int(float(m.group(1)) * scale)


def cmd_transfer(args: argparse.Namespace) -> int:
    from .application.transfer import transfer
    topo = _load(args)
    net = topo.network
    src, dst = net.host(args.src), net.host(args.dest)
    options = {"congestion": args.cc, "reassembly": args.reassembly}
    if args.buffer:
        options.update(rcvbuf=args.buffer, sndbuf=args.buffer)
    if args.loss is not None:
        for link in net.links:
            link.set_params(loss=args.loss)
    print(f"transfer {args.src} ({src.address}) -> {args.dest} ({dst.address}): {args.bytes:,} bytes over TCP "
          f"port {args.port}, congestion control {args.cc}")
    result = net.run_app(transfer(src, dst, args.bytes, port=args.port, seed=net.seed, options=options))
    for line in result.report(args.src, args.dest):
        print(line)
    if args.connections:
        print()
        print(connection_table(net))
    _finish(args, topo)
    return 0 if result.ok else 1


def connection_table(net) -> str:
    """Every host's TCP connections and listeners, like `ss -tan`."""
    lines = []
    for node in net.hosts:
        rows = []
        for port, listener in sorted(node.tcp.listeners.items()):
            rows.append(("LISTEN", f"{listener.addr}:{port}", "*:*", 0, 0))
        for conn in node.tcp.connections.values():
            rows.append((conn.state.value, f"{conn.local[0]}:{conn.local[1]}", f"{conn.remote[0]}:{conn.remote[1]}",
                         conn.readable_bytes, len(conn.sendbuf)))
        if rows:
            lines.append(f"{node.name}:")
            lines.append(f"  {'State':<13} {'Recv-Q':>7} {'Send-Q':>7}  {'Local Address:Port':<22} Peer Address:Port")
            for state, local, peer, rq, sq in rows:
                lines.append(f"  {state:<13} {rq:>7} {sq:>7}  {local:<22} {peer}")
    return "\n".join(lines) if lines else "no TCP connections"


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minternet",
        description="A miniature internet: simulated hosts, routers and links where every packet "
                    "can be watched. Commands run on a topology file (-t FILE) or on the built-in example.",
        epilog="Start with: minternet demo   |   minternet ping client server -v   |   minternet example > my.toml")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"minternet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ping", help="send ICMP echo requests from one node to another, like ping(8)",
                       description="Send ICMP echo requests from SRC to DEST across the simulated network "
                                   "and print the replies with their TTL and round-trip time, like ping(8).")
    p.add_argument("src", metavar="SRC", help="the node that pings (a name from the topology)")
    p.add_argument("dest", metavar="DEST", help="a node name or an IPv4 address")
    p.add_argument("-c", "--count", type=int, default=4, help="how many requests (default 4)")
    p.add_argument("-s", "--size", type=int, default=56,
                   help="bytes of data per request (default 56); above the MTU it gets fragmented")
    p.add_argument("-i", "--interval", type=_time_arg, default=NS_PER_S, help="time between requests (default 1s)")
    p.add_argument("-W", "--timeout", type=_time_arg, default=5 * NS_PER_S,
                   help="how long to wait for the last reply (default 5s)")
    p.add_argument("--ttl", type=int, default=None, help="time to live of the requests (default 64)")
    p.add_argument("--df", action="store_true", help="set Don't Fragment (-M do): too big means an error")
    _add_common(p)
    p.set_defaults(func=cmd_ping)

    p = sub.add_parser("traceroute", help="list the routers on the way, like traceroute(8)",
                       description="Find the routers between SRC and DEST by sending UDP probes with TTL 1, 2, "
                                   "3, ...: each router where the TTL runs out answers ICMP time exceeded, the "
                                   "destination answers port unreachable. Stars are probes nobody answered.")
    p.add_argument("src", metavar="SRC", help="the node that traces")
    p.add_argument("dest", metavar="DEST", help="a node name or an IPv4 address")
    p.add_argument("-m", "--max-hops", type=int, default=30, help="largest TTL to try (default 30)")
    p.add_argument("-q", "--queries", type=int, default=3, help="probes per hop (default 3)")
    p.add_argument("-w", "--wait", type=_time_arg, default=5 * NS_PER_S, help="wait per probe (default 5s)")
    _add_common(p)
    p.set_defaults(func=cmd_traceroute)

    p = sub.add_parser("run", help="run a topology file and its timeline of events",
                       description="Run the network described in FILE, with its [[event]] timeline (faults, "
                                   "link changes, pings, traceroutes), in virtual time.")
    p.add_argument("file", metavar="FILE", help="topology file (TOML)")
    p.add_argument("--until", type=_time_arg, default=None,
                   help="virtual time to stop at (default: 10s after the last event)")
    _add_common(p, topology_flag=False)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("show", help="describe a topology: nodes, interfaces, links, timeline",
                       description="Print the nodes with their interfaces (address, MAC, MTU), the links with "
                                   "their delay, bandwidth, faults and routing cost, and the timeline.")
    p.add_argument("--routes", action="store_true", help="also print each node's routing table")
    _add_common(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("routes", help="print routing tables, like `ip route` on each node",
                       description="Print the routing table of every node (or of NODE) after routes are "
                                   "computed: connected, static, default and computed (shortest path) routes.")
    p.add_argument("node", metavar="NODE", nargs="?", help="only this node")
    _add_common(p)
    p.set_defaults(func=cmd_routes)

    p = sub.add_parser("check", help="validate a topology file without running it",
                       description="Load FILE and report the first mistake with its line, or 'ok'.")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("example", help="print the built-in example topology (a start for your own)",
                       description="Print the built-in example topology file, to copy and change: "
                                   "minternet example > my.toml")
    p.set_defaults(func=cmd_example)

    p = sub.add_parser("transfer", help="send N bytes over TCP and check they arrived intact",
                       description="Send N pseudo-random bytes from SRC to DEST over one TCP connection, "
                                   "compare the SHA-256 of what arrived with what was sent, and report the "
                                   "goodput, retransmissions and time taken in simulated seconds.")
    p.add_argument("src", metavar="SRC", help="the sending host")
    p.add_argument("dest", metavar="DEST", help="the receiving host")
    p.add_argument("--bytes", type=_size_arg, default=1_000_000, help="how much: 1000000, 10MB, 64KiB (default 1MB)")
    p.add_argument("--port", type=int, default=5001, help="TCP port on DEST (default 5001)")
    p.add_argument("--cc", choices=["cubic", "reno", "newreno"], default="cubic", help="congestion control (default cubic)")
    p.add_argument("--buffer", type=_size_arg, default=None, help="socket buffer sizes (default 128KiB)")
    p.add_argument("--loss", type=float, default=None, help="set this loss probability on every link first")
    p.add_argument("--reassembly", choices=["keep", "discard"], default="keep",
                   help="discard: the receiver drops out-of-order segments (go-back-N), for teaching")
    p.add_argument("--connections", action="store_true", help="print the connection table at the end, like ss -tan")
    _add_common(p)
    p.set_defaults(func=cmd_transfer)

    p = sub.add_parser("dig", prefix_chars="-+", help="ask DNS from a simulated host, like dig(1): dig www.example.com [@SERVER]",
                       description="Ask a DNS question from a simulated host (--from, default client): to its configured resolver (like "
                                   "/etc/resolv.conf), to @SERVER, or walk the hierarchy yourself from the "
                                   "root with --walk (or +trace). With --os, ask a real server on this machine "
                                   "(e.g. one started with minternet dns-serve).")
    p.add_argument("name", metavar="NAME", help="the name to look up, e.g. www.example.com")
    p.add_argument("type", metavar="TYPE", nargs="?", type=_rrtype, default="A",
                   help="record type: A (default), AAAA, NS, CNAME, SOA, MX, TXT, PTR, ANY")
    p.add_argument("server", metavar="@SERVER", nargs="?", help=argparse.SUPPRESS)
    p.add_argument("--from", dest="src", metavar="HOST", default="client",
                   help="the simulated host that asks (default: client)")
    p.add_argument("-p", "--port", type=int, default=53, help="server port (default 53)")
    p.add_argument("--walk", "+trace", action="store_true",
                   help="walk root -> TLD -> authoritative yourself and show each step (like dig +trace)")
    p.add_argument("--norecurse", "+norecurse", action="store_true",
                   help="RD=0: ask the server only for what it knows itself")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (default 5)")
    p.add_argument("--os", action="store_true", help="use this machine's real UDP sockets (needs @SERVER)")
    _add_common(p)
    p.set_defaults(func=cmd_dig)

    p = sub.add_parser("dns-serve", help="serve DNS zones on this machine's loopback (for dig)",
                       description="Serve zone files (RFC 1035 master files, or TOML) with the same "
                                   "authoritative server the simulation uses, on real UDP sockets: "
                                   "dig @127.0.0.1 -p 5353 www.example.com")
    p.add_argument("--zone", metavar="FILE", action="append", required=True, help="a zone file (repeatable)")
    p.add_argument("--port", type=int, default=5353, help="UDP port (default 5353; 53 needs root)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not log each query")
    p.set_defaults(func=cmd_dns_serve)

    # Commands that live beside their feature: each module has add_commands(sub, common), where
    # common(parser) adds the options every network-running command takes.
    for module in COMMAND_MODULES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue  # that feature is not in this version
            raise
        mod.add_commands(sub, _add_common)

    p = sub.add_parser("demo", help="the whole story: from a URL to a page, packet by packet",
                       description="On the built-in example internet, narrates with the real packets of a run: "
                                   "DNS finding www.example.com (UDP), TCP's 3-way handshake, HTTP inside TCP "
                                   "inside IP inside Ethernet hop by hop, a lossy link and retransmission, a "
                                   "router failing and TCP recovering over another path, the close with FIN and "
                                   "TIME-WAIT, and UDP beside TCP. Writes pcap files, the trace and a sequence "
                                   "diagram.")
    p.add_argument("--lang", choices=["en", "ko"], default=None,
                   help="language of the narration (default: from the locale, else English)")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same story)")
    p.add_argument("--pcap", metavar="DIR", help="where to write pcap files, trace and diagram (default: a new temporary folder)")
    p.add_argument("--trace", metavar="FILE", help="write every event as JSON lines to FILE")
    p.add_argument("--step", action="store_true", help="pause after each stage")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # dig's "@SERVER" may come anywhere on its line: pull it out before argparse sees it (only for
    # dig: curl's "-d @file" means something else).
    at = []
    if argv and argv[0] == "dig":
        at = [a for a in argv[1:] if a.startswith("@")]
        argv = [a for a in argv if not (a.startswith("@") and a in at)]
    args = parser.parse_args(argv)
    if hasattr(args, "server"):
        args.server = at[0] if at else None
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except TopologyError as exc:
        print(f"minternet: error: {exc}", file=sys.stderr)
        return 2
    except (KeyError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"minternet: error: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
