"""The commands of the simulated world: ping, traceroute, run, show, routes, check, example and
transfer."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..runtime import NS_PER_S
from ..sim.example import example_text
from ..sim.topology import load
from .common import add_common, finish_run, host_first_usage, load_topology, rto_min_arg, size_arg, time_arg


def cmd_ping(args: argparse.Namespace) -> int:
    from ..application.ping import ping
    topo = load_topology(args)
    net = topo.network
    src = net.host(args.host)
    dst = net.address_of(args.dest)
    result = net.run_app(ping(src, dst, count=args.count, size=args.size, interval=args.interval,
                              timeout=args.timeout, ttl=args.ttl, df=args.df, out=print))
    finish_run(args, topo)
    return 0 if result.received else 1


def cmd_traceroute(args: argparse.Namespace) -> int:
    from ..application.traceroute import traceroute
    topo = load_topology(args)
    net = topo.network
    src = net.host(args.host)
    dst = net.address_of(args.dest)
    result = net.run_app(traceroute(src, dst, max_hops=args.max_hops, probes=args.queries, wait=args.wait,
                                    name_of=net.name_of, out=print))
    finish_run(args, topo)
    return 0 if result.reached else 1


def cmd_run(args: argparse.Namespace) -> int:
    args.topology = args.file
    topo = load_topology(args)
    net = topo.network
    until = args.until if args.until is not None else max(10 * NS_PER_S, topo.last_event + 10 * NS_PER_S)
    print(f"running {net.name} until {until / NS_PER_S:g}s (virtual time)")
    net.run(until)
    print(f"done at {net.now / NS_PER_S:g}s: {net.scheduler.events_run} events")
    finish_run(args, topo)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..host import Host
    topo = load_topology(args)
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
    topo = load_topology(args)
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
    for warning in topo.warnings:
        print(f"warning: {warning}")
    print(f"{args.file}: ok: {len(net.hosts)} hosts and routers, {len(net.links)} links, "
          f"{len(topo.events)} timeline events")
    return 0


def cmd_example(args: argparse.Namespace) -> int:
    sys.stdout.write(example_text())
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    from ..application.transfer import transfer
    topo = load_topology(args)
    net = topo.network
    src, dst = net.host(args.host), net.host(args.dest)
    options = {"congestion": args.cc, "reassembly": args.reassembly}
    if args.rto_min is not None:
        options["min_rto"] = args.rto_min
    if args.recovery is not None:
        options["recovery"] = args.recovery
    if args.buffer:
        options.update(rcvbuf=args.buffer, sndbuf=args.buffer)
    if args.loss is not None:
        for link in net.links:
            link.set_params(loss=args.loss)
    print(f"transfer {args.host} ({src.address}) -> {args.dest} ({dst.address}): {args.bytes:,} bytes over TCP "
          f"port {args.port}, congestion control {args.cc}")
    result = net.run_app(transfer(src, dst, args.bytes, port=args.port, seed=net.seed, options=options))
    for line in result.report(args.host, args.dest):
        print(line)
    if args.connections:
        print()
        print(connection_table(net))
    finish_run(args, topo)
    return 0 if result.ok else 1


def connection_table(net: Any) -> str:
    """Every host's TCP connections and listeners, like `ss -tan`."""
    lines = []
    for node in net.hosts:
        rows = []
        for addr, port in sorted(node.tcp.listeners, key=lambda key: (key[1], key[0])):
            rows.append(("LISTEN", f"{addr}:{port}", "*:*", 0, 0))
        for conn in node.tcp.connections.values():
            rows.append((conn.state.value, f"{conn.local[0]}:{conn.local[1]}", f"{conn.remote[0]}:{conn.remote[1]}",
                         conn.readable_bytes, len(conn.sendbuf)))
        if rows:
            lines.append(f"{node.name}:")
            lines.append(f"  {'State':<13} {'Recv-Q':>7} {'Send-Q':>7}  {'Local Address:Port':<22} Peer Address:Port")
            for state, local, peer, rq, sq in rows:
                lines.append(f"  {state:<13} {rq:>7} {sq:>7}  {local:<22} {peer}")
    return "\n".join(lines) if lines else "no TCP connections"




def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ping, traceroute, run, show, routes, check, example and transfer."""
    p = sub.add_parser("ping", help="send ICMP echo requests from one node to another, like ping(8)",
                       description="Send ICMP echo requests from HOST to DEST across the simulated network "
                                   "and print the replies with their TTL and round-trip time, like ping(8). "
                                   "HOST comes first: the simulated host that pings; then ping's own "
                                   "arguments.")
    p.add_argument("host", metavar="HOST", help="the node that pings (a name from the topology)")
    p.add_argument("dest", metavar="DEST", help="a node name or an IPv4 address")
    p.add_argument("-c", "--count", type=int, default=4, help="how many requests (default 4)")
    p.add_argument("-s", "--size", type=int, default=56,
                   help="bytes of data per request (default 56); above the MTU it gets fragmented")
    p.add_argument("-i", "--interval", type=time_arg, default=NS_PER_S, help="time between requests (default 1s)")
    p.add_argument("-W", "--timeout", type=time_arg, default=5 * NS_PER_S,
                   help="how long to wait for the last reply (default 5s)")
    p.add_argument("--ttl", type=int, default=None, help="time to live of the requests (default 64)")
    p.add_argument("--df", action="store_true", help="set Don't Fragment (-M do): too big means an error")
    add_common(p)
    host_first_usage(p, "HOST DEST")
    p.set_defaults(func=cmd_ping)

    p = sub.add_parser("traceroute", help="list the routers on the way, like traceroute(8)",
                       description="Find the routers between HOST and DEST by sending UDP probes with TTL 1, 2, "
                                   "3, ...: each router where the TTL runs out answers ICMP time exceeded, the "
                                   "destination answers port unreachable. Stars are probes nobody answered. "
                                   "HOST comes first: the simulated host that traces; then traceroute's own "
                                   "arguments.")
    p.add_argument("host", metavar="HOST", help="the node that traces")
    p.add_argument("dest", metavar="DEST", help="a node name or an IPv4 address")
    p.add_argument("-m", "--max-hops", type=int, default=30, help="largest TTL to try (default 30)")
    p.add_argument("-q", "--queries", type=int, default=3, help="probes per hop (default 3)")
    p.add_argument("-w", "--wait", type=time_arg, default=5 * NS_PER_S, help="wait per probe (default 5s)")
    add_common(p)
    host_first_usage(p, "HOST DEST")
    p.set_defaults(func=cmd_traceroute)

    p = sub.add_parser("run", help="run a topology file and its timeline of events",
                       description="Run the network described in FILE, with its [[event]] timeline (faults, "
                                   "link changes, pings, traceroutes), in virtual time.")
    p.add_argument("file", metavar="FILE", help="topology file (TOML)")
    p.add_argument("--until", type=time_arg, default=None,
                   help="virtual time to stop at (default: 10s after the last event)")
    add_common(p, topology_flag=False)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("show", help="describe a topology: nodes, interfaces, links, timeline",
                       description="Print the nodes with their interfaces (address, MAC, MTU), the links with "
                                   "their delay, bandwidth, faults and routing cost, and the timeline.")
    p.add_argument("--routes", action="store_true", help="also print each node's routing table")
    add_common(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("routes", help="print routing tables, like `ip route` on each node",
                       description="Print the routing table of every node (or of NODE) after routes are "
                                   "computed: connected, static, default and computed (shortest path) routes.")
    p.add_argument("node", metavar="NODE", nargs="?", help="only this node")
    add_common(p)
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
                       description="Send N pseudo-random bytes from HOST to DEST over one TCP connection, "
                                   "compare the SHA-256 of what arrived with what was sent, and report the "
                                   "goodput, retransmissions and time taken in simulated seconds. HOST comes "
                                   "first: the simulated host that sends.")
    p.add_argument("host", metavar="HOST", help="the sending host")
    p.add_argument("dest", metavar="DEST", help="the receiving host")
    p.add_argument("--bytes", type=size_arg, default=1_000_000, help="how much: 1000000, 10MB, 64KiB (default 1MB)")
    p.add_argument("--port", type=int, default=5001, help="TCP port on DEST (default 5001)")
    p.add_argument("--cc", choices=["cubic", "reno", "newreno"], default="cubic", help="congestion control (default cubic)")
    p.add_argument("--buffer", type=size_arg, default=None, help="socket buffer sizes (default 128KiB)")
    p.add_argument("--loss", type=float, default=None, help="set this loss probability on every link first")
    p.add_argument("--reassembly", choices=["keep", "discard"], default="keep",
                   help="discard: the receiver drops out-of-order segments (go-back-N), for teaching")
    p.add_argument("--rto-min", type=rto_min_arg, default=None, metavar="TIME",
                   help="TCP's minimum RTO term on both hosts: RTO = SRTT + max(4*RTTVAR, this) (default: the "
                        "hosts' own, 200ms as Linux's TCP_RTO_MIN; 1s is RFC 6298's)")
    p.add_argument("--recovery", choices=["rack", "rfc6675"], default=None,
                   help="loss detection with SACK: rack (RACK-TLP, RFC 8985; Linux's default, "
                        "net.ipv4.tcp_recovery=1) or rfc6675 (three duplicate ACKs)")
    p.add_argument("--connections", action="store_true", help="print the connection table at the end, like ss -tan")
    add_common(p)
    host_first_usage(p, "HOST DEST")
    p.set_defaults(func=cmd_transfer)
