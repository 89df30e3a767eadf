"""``minternet demo``: a guided tour of the internet layer, told with the packets of a real run."""

from __future__ import annotations

import argparse
import sys
import textwrap

from .application.ping import ping
from .application.traceroute import traceroute
from .observe.trace import Recorder, TraceEvent
from .runtime import NS_PER_MS, NS_PER_S
from .sim.topology import loads


def _say(text: str) -> None:
    print(textwrap.fill(" ".join(text.split()), width=96))


def _title(n: int, text: str) -> None:
    print(f"\n=== {n}. {text} " + "=" * max(3, 88 - len(text)))


def _indent(line: str) -> None:
    print("    " + line)


def _path_of(events: list[TraceEvent], ident: int, start: int, net) -> list[str]:
    """Where one datagram (by IP identification, from ``start``) was seen: node and TTL per hop."""
    hops = []
    for ev in events:
        if ev.time < start or ev.layer != "ip" or ev.event not in ("send", "forward", "deliver"):
            continue
        data = ev.packet
        if data is None or len(data) < 20 or int.from_bytes(data[4:6], "big") != ident:
            continue
        hops.append(f"{ev.node} ({ev.event}, ttl {data[8]})")
    return hops


def run_demo(args: argparse.Namespace) -> int:
    from .cli import EXAMPLE, example_text
    topo = loads(example_text(), f"(built-in example {EXAMPLE})", seed=args.seed, out=lambda line: None)
    net = topo.network
    rec = Recorder()
    net.tracer.subscribe(rec)
    if args.trace:
        net.trace_to(args.trace)
    if args.pcap:
        net.capture(args.pcap)
    if args.verbose:
        net.print_timeline(sys.stdout, layers={"ip", "arp", "fault", "route"})
    client, server = net.host("client"), net.host("server")

    _title(1, "A small internet")
    _say("""Every host has an IP address. Between the client and the server stand four routers, with
         two different ways through them: r1-r2-r4 and r1-r3-r4.""")
    for node in net.hosts:
        addrs = ", ".join(f"{i.name} {i.cidr}" for i in node.interfaces.values())
        _indent(f"{node.name:<7} {node.kind:<7} {addrs}")

    _title(2, "IP carries a packet hop by hop")
    _say(f"""The client pings the server ({server.address}). Each ICMP echo request travels in an IP
         packet that carries the source and destination address; every router looks at the
         destination, lowers the TTL by one and hands the packet to the next hop.""")
    start = net.now
    result = net.run_app(ping(client, server.address, count=3, out=_indent))
    first = next(ev for ev in rec.events if ev.time >= start and ev.node == "client" and ev.event == "send"
                 and ev.layer == "ip")
    ident = int.from_bytes(first.packet[4:6], "big")
    _say("The first request's journey (node, what it did, TTL on leaving):")
    _indent(" -> ".join(_path_of(rec.events, ident, start, net)))
    _say(f"""The first reply took longer ({result.replies[0].rtt / NS_PER_MS:.1f} ms) than the next ones:
         before the first packet can leave, each hop must learn its neighbour's MAC address with ARP.""")

    _title(3, "The way back may differ from the way there")
    _say("traceroute sends probes with TTL 1, 2, 3...; each router where the TTL runs out answers.")
    net.run_app(traceroute(client, server.address, name_of=net.name_of, out=_indent))
    _say("And from the server back to the client:")
    net.run_app(traceroute(server, client.address, name_of=net.name_of, out=_indent))
    _say("""The link r2-r4 is cheap one way and expensive the other (cost = [10, 50] in the topology),
         so the requests go via r2 and the answers come back via r3.""")

    _title(4, "Big packets are split: fragmentation")
    _say("""An Ethernet link carries at most 1500 bytes of IP packet (its MTU). A 4000-byte ping does not
         fit: IP cuts it into fragments, and only the destination puts them back together.""")
    start = net.now
    net.run_app(ping(client, server.address, count=1, size=4000, out=_indent))
    frags = [ev for ev in rec.events if ev.time >= start and ev.node == "client" and ev.event == "fragment"]
    for ev in frags[:3]:
        _indent(f"client sends fragment: {ev.summary}")
    reasm = [ev for ev in rec.events if ev.time >= start and ev.event == "reassembled"]
    for ev in reasm:
        _indent(f"{ev.node} reassembles: {ev.summary}")

    _title(5, "IP promises nothing: a router fails")
    _say("""Now r2, on the way to the server, goes down two seconds into a ping. IP does not notice:
         the client keeps sending, and packets sent into the dead router are simply lost. About one
         second later the routers have worked out a new path (via r3) and the replies come back.""")
    t0 = net.now
    net.at(t0 + 2 * NS_PER_S + 500 * NS_PER_MS, net.node_down, "r2")
    lost_before = net.counters()["drop.node-down"]
    res = net.run_app(ping(client, server.address, count=8, out=_indent))
    lost = net.counters()["drop.node-down"] - lost_before
    _say(f"""{res.transmitted - res.received} of {res.transmitted} requests got no answer; the link
         counters say why: {lost} frame(s) dropped because the node they were sent to was down
         (reason "node-down").""")
    for ev in rec.events:
        if ev.time >= t0 and (ev.layer == "fault" or ev.layer == "route" and ev.node == "r1"):
            sign = {"add": "new route ", "remove": "old route "}.get(ev.event, "")
            _indent(f"{ev.time / NS_PER_S:8.3f}s  {ev.node}: {sign}{ev.summary}")

    _title(6, "Sending to a host that does not exist")
    _say("""IP sends even to a host that is not there. The last router asks on the server's LAN who has
         10.0.2.99 (ARP); nobody answers, and after three tries it reports "host unreachable".""")
    net.run_app(ping(client, "10.0.2.99", count=1, out=_indent))

    print()
    _say("""What IP cannot do by itself: make sure data arrives, in order, to the right program. That is
         the job of the transport layer (TCP and UDP, with ports) that sits on top of it.""")
    net.close()
    if args.pcap:
        print(f"\npcap files (one per interface, open them in Wireshark): {args.pcap}/")
    if args.trace:
        print(f"trace (JSON lines): {args.trace}")
    return 0
