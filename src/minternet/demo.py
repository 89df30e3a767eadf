"""``minternet demo``: from a URL to a page, packet by packet, on the built-in example internet.

Every fact the narration states is read from the trace of the run (addresses, ports, sequence
numbers, TTLs, MACs, drops, route changes), so the story and the packets cannot disagree. The
narration is in English or Korean (demo_text.py).
"""

from __future__ import annotations

import argparse
import hashlib
import locale
import os
import sys
import tempfile
import textwrap

from .application.http.client import get
from .application.http.server import serve_pages
from .demo_text import text
from .observe.trace import Recorder, TraceEvent
from .runtime import NS_PER_MS, NS_PER_S
from .sim.example import load_example
from .wire.dissect import dissect
from .wire.dns import DNSMessage
from .wire.errors import MalformedPacket
from .wire.ethernet import mac_to_str
from .wire.ipv4 import IPv4
from .wire.tcp import TCP, flags_str
from .wire.udp import UDP

PAGE_SIZE = 6000  # bytes: a page that needs several TCP segments
LOSSY_PAGE = 120_000
FAILOVER_PAGE = 600_000


def choose_language(flag: str | None) -> str:
    if flag:
        return flag
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "ko" if loc.lower().startswith("ko") else "en"


def page(size: int, title: str) -> bytes:
    """A deterministic HTML page of about ``size`` bytes."""
    head = f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>\n".encode()
    line = b"<p>This page travelled from the web server to you in TCP segments inside IP packets.</p>\n"
    body = bytearray(head)
    while len(body) < size - 16:
        body += line
    body += b"</body></html>\n"
    return bytes(body[:size])


# -- the web server and browser of the story ------------------------------------------------------
PAGES = {"/": page(PAGE_SIZE, "www.example.com"), "/photo": page(LOSSY_PAGE, "A photo"),
         "/video": page(FAILOVER_PAGE, "A video")}


async def web_server(host, port: int = 80) -> None:
    """The web server on ``server``: our HTTP/1.1 server with the story's pages."""
    await serve_pages(host, PAGES, port=port)


async def browser_get(host, url: str) -> tuple[int, bytes]:
    """What the browser does: resolve, connect, GET, read the whole answer, close."""
    return await get(host, url)


# -- reading the trace ----------------------------------------------------------------------------
def ip_of(ev: TraceEvent) -> IPv4 | None:
    data = ev.packet
    if data is None and ev.frame is not None and len(ev.frame) > 14 and ev.frame[12:14] == b"\x08\x00":
        data = ev.frame[14:]
    if data is None:
        return None
    try:
        return IPv4.decode(data, verify=False)
    except MalformedPacket:
        return None


def transport_of(ip: IPv4):
    if ip.frag_offset:
        return None
    try:
        if ip.proto == 6:
            return TCP.decode(ip.payload, ip.src, ip.dst, verify=False)
        if ip.proto == 17:
            return UDP.decode(ip.payload, ip.src, ip.dst, verify=False)
    except MalformedPacket:
        return None
    return None


class Story:
    def __init__(self, args: argparse.Namespace) -> None:
        self.lang = choose_language(getattr(args, "lang", None))
        self.step = bool(getattr(args, "step", False))
        self.topo = load_example(seed=args.seed, out=lambda line: None)
        self.net = self.topo.network
        self.rec = Recorder()
        self.net.tracer.subscribe(self.rec)
        self.outdir = args.pcap or tempfile.mkdtemp(prefix="minternet-demo-")
        self.trace_path = args.trace or os.path.join(self.outdir, "trace.jsonl")
        self.net.capture(self.outdir)
        self.net.trace_to(self.trace_path)
        self.names = {}
        for node in self.net.hosts:
            for addr in node.addresses:
                self.names[addr] = node.name
        self.facts: dict[str, object] = {}

    # -- output ---------------------------------------------------------------------------------
    def say(self, key: str, **values: object) -> None:
        # Hangul takes two columns on a terminal: wrap Korean at half the width.
        print(textwrap.fill(text(key, self.lang, **values), width=100 if self.lang == "en" else 56))

    def title(self, n: int, key: str) -> None:
        label = text(key, self.lang)
        print(f"\n=== {n}. {label} " + "=" * max(3, 92 - len(label)))

    def line(self, s: str) -> None:
        print("    " + s)

    def pause(self) -> None:
        if self.step and sys.stdin.isatty():
            input(text("press", self.lang))

    def who(self, addr: str) -> str:
        return self.names.get(addr, addr)

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> int:
        net = self.net
        print(text("title", self.lang))
        print()
        self.say("intro")
        server = net.host("server")
        net.spawn(web_server(server))
        client = net.host("client")
        # Let the start-up announcements (gratuitous ARP) pass, so the story starts quietly.
        net.run(net.now + 50 * NS_PER_MS)
        start = net.now
        status, body = net.run_app(browser_get(client, "http://www.example.com/"))
        assert status == 200 and body == PAGES["/"], "the first fetch failed"
        first = [e for e in self.rec.events if e.time >= start]
        self.stage1(first)
        self.pause()
        self.stage2(first)
        self.pause()
        self.stage3(first)
        self.pause()
        self.stage6(first)  # (told after the failures below in order: see the numbering)
        self.stage4()
        self.pause()
        self.stage5()
        self.pause()
        self.print_stage6()
        self.pause()
        self.stage7(first)
        self.pause()
        from .demo_h3 import run_stage8  # imports demo's helpers: not at the top
        run_stage8(self, 8)
        self.finish(first)
        return 0

    # -- 1. DNS -----------------------------------------------------------------------------------
    def dns_packets(self, events: list[TraceEvent]) -> list[tuple[TraceEvent, IPv4, UDP, DNSMessage]]:
        out = []
        for ev in events:
            if ev.layer != "ip" or ev.event != "send":
                continue
            ip = ip_of(ev)
            if ip is None or ip.proto != 17:
                continue
            udp = transport_of(ip)
            if udp is None or 53 not in (udp.sport, udp.dport):
                continue
            try:
                msg = DNSMessage.decode(udp.payload)
            except MalformedPacket:
                continue
            out.append((ev, ip, udp, msg))
        return out

    def stage1(self, events: list[TraceEvent]) -> None:
        self.title(1, "stage1")
        resolver = self.net.host("client").stub_resolver.nameservers[0]
        self.say("stage1.text", resolver=resolver)
        dns = self.dns_packets(events)
        for ev, ip, udp, msg in dns:
            src = f"{self.who(ip.src)}:{udp.sport}"
            dst = f"{self.who(ip.dst)} {ip.dst}:{udp.dport}"
            self.line(f"{ev.time / NS_PER_MS:8.1f} ms  {src:<18} -> {dst:<26} {msg.summary()}")
        client_dns = [d for d in dns if d[0].node == "client" or d[1].dst == self.net.host("client").address]
        t0, t1 = dns[0][0].time, dns[-1][0].time
        answer = next((rr.data.address for d in reversed(dns) for rr in d[3].answers if rr.type == 1), "?")
        self.facts.update(dns_packets=len(client_dns), dns_ms=(t1 - t0) / NS_PER_MS, address=answer,
                          dns_end=t1)
        self.say("stage1.result", address=answer, n=len(dns), ms=(t1 - t0) / NS_PER_MS)

    # -- 2. handshake -----------------------------------------------------------------------------
    def tcp_segments(self, events: list[TraceEvent], port: int = 80) -> list[tuple[TraceEvent, IPv4, TCP]]:
        out = []
        for ev in events:
            if ev.layer != "ip" or ev.event != "send":
                continue
            ip = ip_of(ev)
            if ip is None or ip.proto != 6:
                continue
            seg = transport_of(ip)
            if seg is not None and port in (seg.sport, seg.dport):
                out.append((ev, ip, seg))
        return out

    def stage2(self, events: list[TraceEvent]) -> None:
        self.title(2, "stage2")
        self.say("stage2.text")
        segs = self.tcp_segments(events)
        isn = {}
        for ev, ip, seg in segs[:3]:
            if seg.flags & 0x02:
                isn[ip.src] = seg.seq
            opts = []
            for o in seg.options:
                name = type(o).__name__
                if name == "MSS":
                    opts.append(f"mss {o.value}")
                elif name == "SackPermitted":
                    opts.append("sackOK")
                elif name == "Timestamps":
                    opts.append(f"TS {o.tsval}/{o.tsecr}")
                elif name == "WindowScale":
                    opts.append(f"wscale {o.shift}")
            ack = f" ack={seg.ack}" if seg.flags & 0x10 else ""
            self.line(f"{ev.time / NS_PER_MS:8.1f} ms  {self.who(ip.src)}:{seg.sport} -> {self.who(ip.dst)}:{seg.dport}"
                      f"  [{flags_str(seg.flags)}] seq={seg.seq}{ack} win={seg.window}"
                      + (f"  <{', '.join(opts)}>" if opts else ""))
        self.facts["isn"] = isn
        syn_time, third = segs[0][0].time, segs[2][0].time
        self.facts["tcp_start"] = syn_time
        self.say("stage2.result", ms=(third - syn_time) / NS_PER_MS)

    # -- 3. encapsulation -------------------------------------------------------------------------
    def stage3(self, events: list[TraceEvent]) -> None:
        self.title(3, "stage3")
        segs = self.tcp_segments(events)
        server_addr = self.net.host("server").address
        data = [(ev, ip, seg) for ev, ip, seg in segs if ip.src == server_addr and seg.payload]
        mss = max(len(seg.payload) for _, _, seg in data)
        self.say("stage3.text", size=sum(len(seg.payload) for _, _, seg in data), mss=mss, segments=len(data))
        isn = self.facts.get("isn", {})
        for ev, ip, seg in segs[3:]:
            if not seg.payload:
                continue
            rel = (seg.seq - isn.get(ip.src, seg.seq)) % 2**32
            first_line = seg.payload.split(b"\r\n", 1)[0][:40].decode("latin-1")
            what = f'"{first_line}"' if seg.payload[:4] in (b"GET ", b"HTTP") else f"{len(seg.payload)} bytes of the page"
            self.line(f"{ev.time / NS_PER_MS:8.1f} ms  {self.who(ip.src)} -> {self.who(ip.dst)}  "
                      f"TCP seq={rel} len={len(seg.payload)}  {what}")
        # One segment of the answer, hop by hop: the link-level frames with its IP identification.
        ev0, ip0, seg0 = data[0]
        self.say("stage3.hops")
        hops = [e for e in events if e.layer == "link" and e.event == "send" and e.frame is not None
                and (ip := ip_of(e)) is not None and ip.ident == ip0.ident and ip.src == ip0.src]
        for e in hops:
            d = dissect(e.frame)
            eth, ip = d.layers[0], d.layers[1]
            seg = transport_of(ip)
            nxt = self.next_hop_name(e)
            http = seg.payload.split(b"\r\n", 1)[0].decode("latin-1") if seg.payload.startswith(b"HTTP") else \
                f"{len(seg.payload)} bytes"
            rel = (seg.seq - isn.get(ip.src, seg.seq)) % 2**32
            self.line(f"{e.node + ' -> ' + nxt:<16} Ethernet [ {mac_to_str(eth.src)} -> {mac_to_str(eth.dst)} "
                      f"| IP [ {ip.src} -> {ip.dst} TTL {ip.ttl} | TCP [ {seg.sport} -> {seg.dport} seq={rel} "
                      f"| HTTP [ {http} ] ] ] ]")
        there = self.path_of(events, self.net.host("client").address, server_addr)
        back = self.path_of(events, server_addr, self.net.host("client").address)
        self.facts["back_before"] = back
        self.say("stage3.paths")
        self.line(f"{text('path.there', self.lang)} {' -> '.join(there)}")
        self.line(f"{text('path.back', self.lang)} {' -> '.join(back)}")

    def next_hop_name(self, ev: TraceEvent) -> str:
        """Which node a frame sent by ev.node on ev.iface went to (by destination MAC)."""
        dst_mac = ev.frame[:6]
        for node in self.net.hosts:
            for iface in node.interfaces.values():
                if iface.mac == dst_mac:
                    return node.name
        return "?"

    def path_of(self, events: list[TraceEvent], src: str, dst: str) -> list[str]:
        """The nodes a TCP packet from src to dst went through, from the first such packet."""
        for ev in events:
            if ev.layer == "ip" and ev.event == "send" and ev.node == self.who(src):
                ip = ip_of(ev)
                if ip is not None and ip.src == src and ip.dst == dst and ip.proto == 6:
                    ident = ip.ident
                    nodes = [self.who(src)]
                    for e in events:
                        if e.time >= ev.time and e.layer == "ip" and e.event in ("forward", "deliver"):
                            p = ip_of(e)
                            if p is not None and p.ident == ident and p.src == src and e.node not in nodes:
                                nodes.append(e.node)
                    return nodes
        return []

    # -- 4. loss ----------------------------------------------------------------------------------
    def stage4(self) -> None:
        net = self.net
        self.title(4, "stage4")
        link = net.link("r3:eth1")
        loss = 0.05
        self.say("stage4.text", loss=loss, size=LOSSY_PAGE)
        link.set_params(loss=loss)
        start = net.now
        before_loss = link.stats["drop.link-loss"]
        server = net.host("server")
        retrans_before = server.stats["tcp.retransmitted_segments"]
        fast_before = server.stats["tcp.fast_retransmits"]
        status, body = net.run_app(browser_get(net.host("client"), "http://www.example.com/photo"))
        link.set_params(loss=0.0)
        ok = status == 200 and hashlib.sha256(body).digest() == hashlib.sha256(PAGES["/photo"]).digest()
        events = [e for e in self.rec.events if e.time >= start]
        drops = [e for e in events if e.event == "drop" and e.reason == "link-loss"]
        isn = {(ip.src, seg.sport): seg.seq for _, ip, seg in self.tcp_segments(events) if seg.flags & 0x02}
        resent = {}
        for ev, ip, seg in self.tcp_segments(events):
            if seg.payload and ip.src == server.address:
                resent.setdefault(seg.seq, []).append(ev.time)
        for e in drops[:4]:
            ip = ip_of(e)
            seg = transport_of(ip) if ip else None
            if not isinstance(seg, TCP):
                self.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.node}:{e.iface}  {e.summary}  DROPPED (link-loss)")
                continue
            rel = (seg.seq - isn.get((ip.src, seg.sport), seg.seq)) % 2**32
            again = [t for t in resent.get(seg.seq, []) if t > e.time]
            later = f"; sent again at {again[0] / NS_PER_MS:.1f} ms" if again else ""
            self.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.node}:{e.iface} -> {self.next_hop_name(e)}  "
                      f"TCP seq={rel} len={len(seg.payload)}  DROPPED (link-loss){later}")
        retrans = server.stats["tcp.retransmitted_segments"] - retrans_before
        fast = server.stats["tcp.fast_retransmits"] - fast_before
        self.say("stage4.result", lost=link.stats["drop.link-loss"] - before_loss, reason="link-loss",
                 retrans=retrans, fast=fast)
        self.tcp_plots(events, "stage4-photo-tcp")
        assert ok, "the lossy fetch did not arrive intact"

    # -- 5. router failure --------------------------------------------------------------------------
    def stage5(self) -> None:
        net = self.net
        self.title(5, "stage5")
        router = "r3"
        self.say("stage5.text", size=FAILOVER_PAGE, router=router)
        start = net.now
        server = net.host("server")
        retrans_before = server.stats["tcp.retransmitted_segments"]
        timeouts_before = server.stats["tcp.timeouts"]
        lost_before = net.stats["drop.node-down"]
        down_at = start + 300 * NS_PER_MS
        net.at(down_at, net.node_down, router)
        status, body = net.run_app(browser_get(net.host("client"), "http://www.example.com/video"))
        assert status == 200 and body == PAGES["/video"], "the fetch across the failure failed"
        events = [e for e in self.rec.events if e.time >= start]
        lost = net.stats["drop.node-down"] - lost_before
        client_net = "10.0.1.0/24"
        routes = [e for e in events if e.layer == "route" and e.event == "add" and e.summary.startswith(client_net)]
        reconverge = (routes[0].time - down_at) / NS_PER_S if routes else 0.0
        for e in events:
            if e.layer == "fault":
                self.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.summary}")
        self.say("stage5.result", lost=lost, reconverge=reconverge)
        for e in routes:
            self.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.node}: {e.summary}")
        after = [e for e in events if routes and e.time > routes[-1].time]
        back = self.path_of(after, server.address, net.host("client").address)
        self.say("stage5.recovered", timeouts=server.stats["tcp.timeouts"] - timeouts_before,
                 retrans=server.stats["tcp.retransmitted_segments"] - retrans_before,
                 seconds=(net.now - start) / NS_PER_S)
        self.line(" -> ".join(back) or "?")
        self.tcp_plots(events, "stage5-video-tcp")
        net.node_up(router)

    def tcp_plots(self, events: list[TraceEvent], name: str) -> None:
        """The stage's web connection as a time-sequence graph with cwnd and RTT, beside the pcaps."""
        from .observe.tcpplot import write_tcp_plots
        opened_here = lambda c: c.opened and 80 in (c.a[1], c.b[1])  # not the last fetch's closing packets
        for path in write_tcp_plots(events, self.outdir, opened_here, lang=self.lang, name=name):
            self.line(f"{text('file.tcpplot', self.lang)} {path}")

    # -- 6. close ---------------------------------------------------------------------------------
    def stage6(self, events: list[TraceEvent]) -> None:
        segs = self.tcp_segments(events)
        client_port = next((seg.sport for _, ip, seg in segs if seg.dport == 80), None)
        self.facts["first_conn"] = f":{client_port} "

    def print_stage6(self) -> None:
        self.title(6, "stage6")
        self.say("stage6.text")
        # Let TIME-WAIT of the first connection run out (2 x MSL = 60 s of simulated time).
        self.net.run(self.net.now + 61 * NS_PER_S)
        marker = self.facts["first_conn"]
        port = int(marker.strip(": "))
        segs = [x for x in self.tcp_segments(self.rec.events) if port in (x[2].sport, x[2].dport)]
        isn = self.facts.get("isn", {})
        fin_seen = False
        for ev, ip, seg in segs:
            fin_seen = fin_seen or bool(seg.flags & 0x01)
            if fin_seen and not seg.payload:
                rel = (seg.seq - isn.get(ip.src, seg.seq)) % 2**32
                ack = (seg.ack - isn.get(ip.dst, seg.ack)) % 2**32
                self.line(f"{ev.time / NS_PER_MS:8.1f} ms  {self.who(ip.src)} -> {self.who(ip.dst)}  "
                          f"[{flags_str(seg.flags)}] seq={rel} ack={ack}")
        self.facts["tcp_end"] = max(ev.time for ev, _, _ in segs)
        client_addr = self.net.host("client").address
        self.facts["tcp_packets"] = sum(1 for ev, ip, _ in segs if client_addr in (ip.src, ip.dst))
        started = False
        for e in self.rec.events:
            if e.layer != "tcp" or e.event != "state" or marker not in e.summary + " ":
                continue
            old, new = e.summary.split()[-3], e.summary.split()[-1]
            if new in ("FIN-WAIT-1", "CLOSE-WAIT"):
                started = True
            if started:
                self.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.node}: {old} -> {new}")

    # -- 7. comparison ----------------------------------------------------------------------------
    def stage7(self, events: list[TraceEvent]) -> None:
        self.title(7, "stage7")
        tcp_ms = (self.facts["tcp_end"] - self.facts["tcp_start"]) / NS_PER_MS
        self.say("stage7.text", dns_packets=self.facts["dns_packets"], dns_ms=self.facts["dns_ms"],
                 tcp_packets=self.facts["tcp_packets"], tcp_ms=tcp_ms)

    def finish(self, first: list[TraceEvent]) -> None:
        svg = os.path.join(self.outdir, "first-fetch.svg")
        try:
            from .observe.diagram import build_diagram, to_svg
            with open(svg, "w", encoding="utf-8") as f:
                f.write(to_svg(build_diagram([e for e in first if e.layer in ("link", "ip", "arp")])))
        except ImportError:
            svg = "(the diagram module is not available)"
        self.net.close()
        print()
        self.say("outro")
        print()
        self.say("files")
        self.line(f"{text('file.pcap', self.lang)} {self.outdir}/")
        self.line(f"{text('file.trace', self.lang)} {self.trace_path}")
        self.line(f"{text('file.svg', self.lang)} {svg}")


def run_demo(args: argparse.Namespace) -> int:
    return Story(args).run()
