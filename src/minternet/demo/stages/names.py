"""DNS because addresses change: the site moves, the name stays, clients follow once the cached
answer's TTL has run out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...application.http.client import get
from ...application.http.server import serve_pages
from ...runtime import NS_PER_S
from ...sim.dns_registrar import ADDRESS_TTL
from ..story import dns_packets

if TYPE_CHECKING:
    from ..story import Story

NEW_ADDRESS = "10.0.2.20"
MOVE_AT = 30  # s after the first visit
EVERY = 60  # s between visits


def prepare(story: "Story") -> None:
    """A second web server, the site's new home, on the server's LAN."""
    net = story.net
    net.add_host("server2", {"eth0": f"{NEW_ADDRESS}/24"}, gateway="10.0.2.1")
    net.connect("server2:eth0", "lan2", delay="1ms", bandwidth="100Mbps")
    story.names[NEW_ADDRESS] = "server2"


def dns_change(story: "Story") -> None:
    net = story.net
    client = net.host("client")
    old = net.dns.domains["example.com"][0]
    story.say("dns.ch.text", old=old, new=NEW_ADDRESS, ttl=ADDRESS_TTL)
    net.spawn(serve_pages(net.host("server"), {"/": b"the old server\n"}))
    net.spawn(serve_pages(net.host("server2"), {"/": b"the new server\n"}))
    net.run(net.now + 50 * 1_000_000)
    start = net.now
    net.at(start + MOVE_AT * NS_PER_S, net.dns.readdress, "example.com", NEW_ADDRESS)
    visits = []
    for i in range(7):
        at = start + i * EVERY * NS_PER_S
        if net.now < at:
            net.run(at)
        since = len(story.rec.events)
        status, body = net.run_app(get(client, "http://www.example.com/"))
        answers = [(e, msg) for e, ip, udp, msg in dns_packets(story.rec.events[since:])
                   if e.node == "resolver" and ip.dst == client.address]
        address = next((rr.data.address for e, msg in answers for rr in msg.answers if rr.type == 1), "?")
        ttl = next((rr.ttl for e, msg in answers for rr in msg.answers if rr.type == 1), None)
        visits.append({"t": (at - start) / NS_PER_S, "address": address, "ttl": ttl,
                       "body": body.decode().strip()})
        if answers:
            story.focus(answers[0][0], "focus.dns.ch.answer", address=address, ttl=ttl)
    moved_at = MOVE_AT
    for v in visits:
        story.line(f"{v['t']:5.0f} s  www.example.com -> {v['address']:<10}  TTL {v['ttl']:>3}  \"{v['body']}\"")
    first_new = next(v["t"] for v in visits if v["address"] == NEW_ADDRESS)
    stale = [v for v in visits if v["t"] >= moved_at and v["address"] == old]
    story.fact.update(visits=visits, old=old, new=NEW_ADDRESS, moved_at=moved_at, first_new=first_new,
                      stale=len(stale), ttl=ADDRESS_TTL)
    story.say("dns.ch.result", at=moved_at, stale=len(stale), first=first_new, ttl=ADDRESS_TTL, old=old,
              new=NEW_ADDRESS)
