"""The web world's stages: from a URL to a page on the example internet. One network for all of
them: the world's preparation starts the web server and fetches http://www.example.com/ once
(the first fetch); the DNS, handshake and encapsulation stages read that fetch's packets, the
loss, router-failure and close stages run on in the same network, in that order."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from ...application.http.client import get
from ...application.http.server import serve_pages
from ...observe.trace import TraceEvent
from ...runtime import NS_PER_MS, NS_PER_S
from ...wire.dissect import dissect
from ...wire.ethernet import mac_to_str
from ...wire.tcp import TCP, flags_str
from ..story import dns_packets, ip_of, tcp_segments, transport_of
from ..text import text

if TYPE_CHECKING:
    from ..story import Story

PAGE_SIZE = 6000  # bytes: a page that needs several TCP segments
LOSSY_PAGE = 120_000
FAILOVER_PAGE = 600_000


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


def prepare(story: "Story") -> None:
    """The web world: the web server on ``server``, then the first fetch of the page."""
    net = story.net
    net.spawn(web_server(net.host("server")))
    # Let the start-up announcements (gratuitous ARP) pass, so the story starts quietly.
    net.run(net.now + 50 * NS_PER_MS)
    start = net.now
    status, body = net.run_app(browser_get(net.host("client"), "http://www.example.com/"))
    assert status == 200 and body == PAGES["/"], "the first fetch failed"
    story.world.state["first"] = [e for e in story.rec.events if e.time >= start]


def first_fetch(story: "Story") -> list[TraceEvent]:
    return story.world.state["first"]


def isn_of(story: "Story") -> dict[str, int]:
    """Each side's initial sequence number in the first fetch's connection."""
    return {ip.src: seg.seq for _, ip, seg in tcp_segments(first_fetch(story))[:2] if seg.flags & 0x02}


# -- DNS ------------------------------------------------------------------------------------------
def dns(story: "Story") -> None:
    events = first_fetch(story)
    resolver = story.net.host("client").stub_resolver.nameservers[0]
    story.say("stage1.text", resolver=resolver)
    found = dns_packets(events)
    for ev, ip, udp, msg in found:
        src = f"{story.who(ip.src)}:{udp.sport}"
        dst = f"{story.who(ip.dst)} {ip.dst}:{udp.dport}"
        story.line(f"{ev.time / NS_PER_MS:8.1f} ms  {src:<18} -> {dst:<26} {msg.summary()}")
    client = story.net.host("client").address
    client_dns = [d for d in found if d[0].node == "client" or d[1].dst == client]
    t0, t1 = found[0][0].time, found[-1][0].time
    answer = next((rr.data.address for d in reversed(found) for rr in d[3].answers if rr.type == 1), "?")
    story.fact.update(dns_packets=len(client_dns), dns_ms=(t1 - t0) / NS_PER_MS, address=answer, dns_end=t1)
    story.focus(found[0][0], "focus.dns.query", resolver=resolver)
    story.focus(found[-1][0], "focus.dns.answer", address=answer)
    story.say("stage1.result", address=answer, n=len(found), ms=(t1 - t0) / NS_PER_MS)


# -- handshake ------------------------------------------------------------------------------------
def handshake(story: "Story") -> None:
    story.say("stage2.text")
    segs = tcp_segments(first_fetch(story))
    for ev, ip, seg in segs[:3]:
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
        story.line(f"{ev.time / NS_PER_MS:8.1f} ms  {story.who(ip.src)}:{seg.sport} -> {story.who(ip.dst)}:{seg.dport}"
                   f"  [{flags_str(seg.flags)}] seq={seg.seq}{ack} win={seg.window}"
                   + (f"  <{', '.join(opts)}>" if opts else ""))
        story.focus(ev, "focus.handshake." + flags_str(seg.flags).replace(".", "A"), seq=seg.seq)
    story.fact["isn"] = isn_of(story)
    syn_time, third = segs[0][0].time, segs[2][0].time
    story.fact["tcp_start"] = syn_time
    story.fact["handshake_ms"] = (third - syn_time) / NS_PER_MS
    story.say("stage2.result", ms=(third - syn_time) / NS_PER_MS)


# -- encapsulation --------------------------------------------------------------------------------
def encapsulation(story: "Story") -> None:
    events = first_fetch(story)
    segs = tcp_segments(events)
    server_addr = story.net.host("server").address
    data = [(ev, ip, seg) for ev, ip, seg in segs if ip.src == server_addr and seg.payload]
    mss = max(len(seg.payload) for _, _, seg in data)
    story.fact.update(size=sum(len(seg.payload) for _, _, seg in data), mss=mss, segments=len(data))
    story.say("stage3.text", size=story.fact["size"], mss=mss, segments=len(data))
    isn = isn_of(story)
    for ev, ip, seg in segs[3:]:
        if not seg.payload:
            continue
        rel = (seg.seq - isn.get(ip.src, seg.seq)) % 2**32
        first_line = seg.payload.split(b"\r\n", 1)[0][:40].decode("latin-1")
        what = f'"{first_line}"' if seg.payload[:4] in (b"GET ", b"HTTP") else f"{len(seg.payload)} bytes of the page"
        story.line(f"{ev.time / NS_PER_MS:8.1f} ms  {story.who(ip.src)} -> {story.who(ip.dst)}  "
                   f"TCP seq={rel} len={len(seg.payload)}  {what}")
    # One segment of the answer, hop by hop: the link-level frames with its IP identification.
    ev0, ip0, seg0 = data[0]
    story.say("stage3.hops")
    hops = [e for e in events if e.layer == "link" and e.event == "send" and e.frame is not None
            and (ip := ip_of(e)) is not None and ip.ident == ip0.ident and ip.src == ip0.src]
    for e in hops:
        d = dissect(e.frame)
        eth, ip = d.layers[0], d.layers[1]
        seg = transport_of(ip)
        nxt = story.next_hop_name(e)
        http = seg.payload.split(b"\r\n", 1)[0].decode("latin-1") if seg.payload.startswith(b"HTTP") else \
            f"{len(seg.payload)} bytes"
        rel = (seg.seq - isn.get(ip.src, seg.seq)) % 2**32
        story.line(f"{e.node + ' -> ' + nxt:<16} Ethernet [ {mac_to_str(eth.src)} -> {mac_to_str(eth.dst)} "
                   f"| IP [ {ip.src} -> {ip.dst} TTL {ip.ttl} | TCP [ {seg.sport} -> {seg.dport} seq={rel} "
                   f"| HTTP [ {http} ] ] ] ]")
        story.focus(e, "focus.encapsulation.hop", node=e.node, next=nxt, ttl=ip.ttl)
    client = story.net.host("client").address
    there = story.path_of(events, client, server_addr)
    back = story.path_of(events, server_addr, client)
    story.fact.update(hops=len(hops), there=there, back=back)
    story.say("stage3.paths")
    story.line(f"{text('path.there', story.lang)} {' -> '.join(there)}")
    story.line(f"{text('path.back', story.lang)} {' -> '.join(back)}")


# -- loss -----------------------------------------------------------------------------------------
def loss(story: "Story") -> None:
    net = story.net
    link = net.link("r3:eth1")
    rate = 0.05
    story.say("stage4.text", loss=rate, size=LOSSY_PAGE)
    link.set_params(loss=rate)
    start = net.now
    before_loss = link.stats["drop.link-loss"]
    server = net.host("server")
    retrans_before = server.stats["tcp.retransmitted_segments"]
    fast_before = server.stats["tcp.fast_retransmits"]
    status, body = net.run_app(browser_get(net.host("client"), "http://www.example.com/photo"))
    link.set_params(loss=0.0)
    ok = status == 200 and hashlib.sha256(body).digest() == hashlib.sha256(PAGES["/photo"]).digest()
    events = [e for e in story.rec.events if e.time >= start]
    drops = [e for e in events if e.event == "drop" and e.reason == "link-loss"]
    isn = {(ip.src, seg.sport): seg.seq for _, ip, seg in tcp_segments(events) if seg.flags & 0x02}
    resent: dict[int, list[int]] = {}
    for ev, ip, seg in tcp_segments(events):
        if seg.payload and ip.src == server.address:
            resent.setdefault(seg.seq, []).append(ev.time)
    for e in drops[:4]:
        ip = ip_of(e)
        seg = transport_of(ip) if ip else None
        if not isinstance(seg, TCP):
            story.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.node}:{e.iface}  {e.summary}  DROPPED (link-loss)")
            continue
        rel = (seg.seq - isn.get((ip.src, seg.sport), seg.seq)) % 2**32
        again = [t for t in resent.get(seg.seq, []) if t > e.time]
        later = f"; sent again at {again[0] / NS_PER_MS:.1f} ms" if again else ""
        story.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.node}:{e.iface} -> {story.next_hop_name(e)}  "
                   f"TCP seq={rel} len={len(seg.payload)}  DROPPED (link-loss){later}")
        story.focus(e, "focus.loss.drop", seq=rel)
    retrans = server.stats["tcp.retransmitted_segments"] - retrans_before
    fast = server.stats["tcp.fast_retransmits"] - fast_before
    lost = link.stats["drop.link-loss"] - before_loss
    story.fact.update(lost=lost, retrans=retrans, fast=fast, intact=ok)
    story.say("stage4.result", lost=lost, reason="link-loss", retrans=retrans, fast=fast)
    tcp_plots(story, events, "loss-photo-tcp")
    assert ok, "the lossy fetch did not arrive intact"


# -- router failure -------------------------------------------------------------------------------
def failover(story: "Story") -> None:
    net = story.net
    router = "r3"
    story.say("stage5.text", size=FAILOVER_PAGE, router=router)
    start = net.now
    server = net.host("server")
    retrans_before = server.stats["tcp.retransmitted_segments"]
    timeouts_before = server.stats["tcp.timeouts"]
    lost_before = net.stats["drop.node-down"]
    down_at = start + 300 * NS_PER_MS
    net.at(down_at, net.node_down, router)
    status, body = net.run_app(browser_get(net.host("client"), "http://www.example.com/video"))
    assert status == 200 and body == PAGES["/video"], "the fetch across the failure failed"
    events = [e for e in story.rec.events if e.time >= start]
    lost = net.stats["drop.node-down"] - lost_before
    client_net = "10.0.1.0/24"
    routes = [e for e in events if e.layer == "route" and e.event == "add" and e.summary.startswith(client_net)]
    reconverge = (routes[0].time - down_at) / NS_PER_S if routes else 0.0
    for e in events:
        if e.layer == "fault":
            story.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.summary}")
            story.focus(e, "focus.failover.down", router=router)
    story.say("stage5.result", lost=lost, reconverge=reconverge)
    for e in routes:
        story.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.node}: {e.summary}")
    after = [e for e in events if routes and e.time > routes[-1].time]
    back = story.path_of(after, server.address, net.host("client").address)
    timeouts = server.stats["tcp.timeouts"] - timeouts_before
    retrans = server.stats["tcp.retransmitted_segments"] - retrans_before
    story.fact.update(lost=lost, reconverge=reconverge, timeouts=timeouts, retrans=retrans, back=back,
                      seconds=(net.now - start) / NS_PER_S)
    story.say("stage5.recovered", timeouts=timeouts, retrans=retrans, seconds=(net.now - start) / NS_PER_S)
    story.line(" -> ".join(back) or "?")
    tcp_plots(story, events, "failover-video-tcp")
    net.node_up(router)


def tcp_plots(story: "Story", events: list[TraceEvent], name: str) -> None:
    """The stage's web connection as a time-sequence graph with cwnd and RTT, beside the pcaps."""
    from ...observe.tcpplot import write_tcp_plots
    opened_here = lambda c: c.opened and 80 in (c.a[1], c.b[1])  # not the last fetch's closing packets
    for path in write_tcp_plots(events, story.world.outdir, opened_here, lang=story.lang, name=name):
        story.line(f"{text('file.tcpplot', story.lang)} {os.path.relpath(path, story.outdir)}")


# -- close ----------------------------------------------------------------------------------------
def close(story: "Story") -> None:
    story.say("stage6.text")
    segs = tcp_segments(first_fetch(story))
    port = next((seg.sport for _, ip, seg in segs if seg.dport == 80), None)
    marker = f":{port} "
    # Let TIME-WAIT of the first connection run out (2 x MSL = 60 s of simulated time).
    story.net.run(story.net.now + 61 * NS_PER_S)
    segs = [x for x in tcp_segments(story.rec.events) if port in (x[2].sport, x[2].dport)]
    isn = isn_of(story)
    fin_seen = False
    for ev, ip, seg in segs:
        fin_seen = fin_seen or bool(seg.flags & 0x01)
        if fin_seen and not seg.payload:
            rel = (seg.seq - isn.get(ip.src, seg.seq)) % 2**32
            ack = (seg.ack - isn.get(ip.dst, seg.ack)) % 2**32
            story.line(f"{ev.time / NS_PER_MS:8.1f} ms  {story.who(ip.src)} -> {story.who(ip.dst)}  "
                       f"[{flags_str(seg.flags)}] seq={rel} ack={ack}")
            if seg.flags & 0x01:
                story.focus(ev, "focus.close.fin", who=story.who(ip.src))
    story.fact["tcp_end"] = max(ev.time for ev, _, _ in segs)
    client_addr = story.net.host("client").address
    story.fact["tcp_packets"] = sum(1 for ev, ip, _ in segs if client_addr in (ip.src, ip.dst))
    started = False
    transitions = []
    for e in story.rec.events:
        if e.layer != "tcp" or e.event != "state" or marker not in e.summary + " ":
            continue
        old, new = e.summary.split()[-3], e.summary.split()[-1]
        if new in ("FIN-WAIT-1", "CLOSE-WAIT"):
            started = True
        if started:
            transitions.append((e.node, old, new))
            story.line(f"{e.time / NS_PER_MS:8.1f} ms  {e.node}: {old} -> {new}")
    story.fact["transitions"] = transitions
