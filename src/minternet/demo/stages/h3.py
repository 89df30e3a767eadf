"""The HTTPS stage of ``minternet demo``: the same page over HTTP/1.1 on TCP, over HTTPS (TLS 1.3 and
HTTP/2 on TCP) and over HTTP/3 on QUIC (UDP), fresh and resumed with 0-RTT; then one lost packet
with three requests in flight, over HTTP/2 and over HTTP/3.

As in the other stages, every number is read from the run: the start of a fetch is the client's
first packet of it in the trace (its SYN, or its first QUIC datagram); the first byte is the first
packet the server sent after the handler had answered, delivered at the client (matched by its IP
identification); a round trip is this path's SYN to SYN+ACK.
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ...application.http.client import HTTPClient, fetch
from ...application.http.h3 import H3Client, serve_h3
from ...application.http.server import pages_handler, serve
from ...runtime import NS_PER_MS
from ...wire.ipv4 import IPv4
from ..story import FrameLoss, ip_of, transport_of
from ..text import text
from .web import PAGES, page

if TYPE_CHECKING:
    from ...observe.trace import TraceEvent
    from ..story import Story

# Three answers of a few packets each: all in the first flight (initial window of 10 segments).
HOL_PATHS = ("/a", "/b", "/c")
HOL_SIZE = 4000
BIG_PAYLOAD = 1000  # a packet carrying answer data, not an ACK or a control frame
HOL_PAGES = {p: page(HOL_SIZE, f"Part {p[1:]}") for p in HOL_PATHS}


@dataclass(frozen=True)
class Timed:
    """One fetch of the page: when its first packet left the client, when the first byte of the
    answer arrived, in virtual ns."""

    label: str
    start: int
    first_byte: int

    @property
    def ms(self) -> float:
        return (self.first_byte - self.start) / NS_PER_MS


class LoseOne(FrameLoss):
    """Loses the first frame ``node``'s interface sends, once armed, whose IP payload is
    ``proto`` with at least BIG_PAYLOAD bytes of transport payload."""

    def __init__(self, story: "Story", node: str, iface: str = "eth0") -> None:
        super().__init__(story, node, iface)
        self.proto: int | None = None
        self.lost: list[tuple[int, bytes]] = []  # (time, frame)

    def arm(self, proto: int) -> None:
        self.proto = proto

    def lose(self, frame: bytes) -> bool:
        if self.proto is not None and len(frame) > 34 and frame[12:14] == b"\x08\x00" and frame[23] == self.proto:
            ihl = (frame[14] & 15) * 4
            header = 8 if self.proto == 17 else (frame[14 + ihl + 12] >> 4) * 4
            if len(frame) - 14 - ihl - header >= BIG_PAYLOAD:
                self.proto = None
                self.lost.append((self.host.clock.now, frame))
                return True
        return False


def pad(s: str, width: int) -> str:
    """``s`` padded to ``width`` terminal columns (Hangul takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
    return s + " " * max(0, width - used)


class Stage8:
    def __init__(self, story: "Story") -> None:
        self.story = story
        self.net = story.net
        self.client = self.net.host("client")
        self.server = self.net.host("server")
        self.marks: list[int] = []  # trace index at each call of the handler
        pages = pages_handler({**PAGES, **HOL_PAGES})

        async def handler(request: Any) -> Any:
            response = await pages(request)
            self.marks.append(len(story.rec.events))
            return response
        self.handler = handler
        self.facts: dict[str, Any] = {}

    # -- reading the trace ----------------------------------------------------------------------
    def sends(self, node: str, since: int, proto: int, port: int, outgoing: bool) -> list[tuple[int, "TraceEvent", Any, Any]]:
        """(trace index, event, ip, transport) of the IP packets ``node`` sent from index ``since``
        of protocol ``proto`` to (outgoing) or from port ``port``."""
        out = []
        events = self.story.rec.events
        for i in range(since, len(events)):
            ev = events[i]
            if ev.node != node or ev.layer != "ip" or ev.event != "send":
                continue
            ip = ip_of(ev)
            if ip is None or ip.proto != proto:
                continue
            seg = transport_of(ip)
            if seg is not None and (seg.dport if outgoing else seg.sport) == port:
                out.append((i, ev, ip, seg))
        return out

    def delivered_at(self, ip: Any, node: str, after: int) -> int:
        """When the packet ``ip`` (by its source and identification) was delivered at ``node``."""
        for ev in self.story.rec.events[after:]:
            if ev.node == node and ev.layer == "ip" and ev.event == "deliver":
                p = ip_of(ev)
                if p is not None and p.src == ip.src and p.ident == ip.ident:
                    return ev.time
        raise AssertionError("the answer never arrived")

    def timed(self, label: str, since: int, proto: int, port: int, handler: bool = True) -> Timed:
        """The fetch that started at trace index ``since``: from the client's first packet to the
        server's first packet after the first handler call since then, delivered at the client.
        ``handler=False`` (plain HTTP on port 80, the story's own web server): the server's first
        bytes since then are the answer, nothing else comes before it."""
        first = self.sends("client", since, proto, port, outgoing=True)[0]
        mark = next(m for m in self.marks if m >= since) if handler else since
        answer = next(x for x in self.sends("server", mark, proto, port, outgoing=False) if x[3].payload)
        return Timed(label, first[1].time, self.delivered_at(answer[2], "client", answer[0]))

    def rtt(self, since: int) -> int:
        """SYN to SYN+ACK of the first connection to port 80 from trace index ``since``."""
        syn = self.sends("client", since, 6, 80, outgoing=True)[0]
        for ev in self.story.rec.events[syn[0]:]:
            if ev.node == "client" and ev.layer == "ip" and ev.event == "deliver":
                ip = ip_of(ev)
                seg = transport_of(ip) if ip is not None else None
                if seg is not None and ip.proto == 6 and seg.sport == 80 and seg.flags & 0x12 == 0x12:
                    return ev.time - syn[1].time
        raise AssertionError("no SYN+ACK")

    # -- the run --------------------------------------------------------------------------------
    async def fetches(self) -> list[Timed]:
        net, story = self.net, self.story
        issued = self.server.pki.for_name("www.example.com")
        await serve(self.server, 443, self.handler, tls=True)
        await serve_h3(self.server, self.handler, certificate=issued.cert_pem, private_key=issued.key_pem)
        out = []
        # Name and ARP entries in the caches first: the comparison is of the protocols alone.
        await fetch(self.client, "http://www.example.com/")
        since = len(story.rec.events)
        r = await fetch(self.client, "http://www.example.com/")
        assert r.status == 200
        self.facts["rtt"] = self.rtt(since)
        out.append(self.timed("h1", since, 6, 80, handler=False))
        since = len(story.rec.events)
        r = await fetch(self.client, "https://www.example.com/")
        assert r.status == 200 and r.http_version == "2"
        out.append(self.timed("h2", since, 6, 443))
        ticket = None
        for label in ("h3", "h3-0rtt"):
            since = len(story.rec.events)
            h3 = H3Client(self.client, "www.example.com", cadata=net.ca.cert_pem, session_ticket=ticket)
            await h3.connect()
            r = await h3.get("/")
            await h3.aclose(linger=1.0)  # the session ticket arrives after the answer
            assert r.status == 200 and r.body == PAGES["/"]
            if label == "h3-0rtt":
                assert h3.handshake is not None and h3.handshake.early_data_accepted, "0-RTT was refused"
            ticket = h3.session_ticket
            out.append(self.timed(label, since, 17, 443))
        return out

    async def three(self, open_: Callable, get: Callable, proto: int) -> dict[str, Any]:
        """One connection, a first request to have it open, then three requests at once with the
        server's first packet of answer data lost. Completion times are ms after the requests."""
        lose = LoseOne(self.story, "server")
        try:
            conn = await open_()
            await get(conn, "/")
            lose.arm(proto)
            t0 = self.net.now
            since = len(self.story.rec.events)

            async def one(path: str) -> float:
                response = await get(conn, path)
                assert response.status == 200 and response.body == HOL_PAGES[path]
                return (self.net.now - t0) / NS_PER_MS
            done = await asyncio.gather(*[one(p) for p in HOL_PATHS])
            if isinstance(conn, HTTPClient):
                await conn.close()
            else:
                await conn.aclose()
        finally:
            lose.restore()
        assert len(lose.lost) == 1, "no packet of the answers was lost"
        lost_at, frame = lose.lost[0]
        return {"done": dict(zip(HOL_PATHS, done)), "lost": (lost_at - t0) / NS_PER_MS, "since": since,
                "t0": t0, "frame": frame, "lost_at": lost_at}

    async def head_of_line(self) -> tuple[dict[str, Any], dict[str, Any]]:
        client, ca = self.client, self.net.ca.cert_pem

        async def open_h2() -> HTTPClient:
            return HTTPClient(client, http_version="2")

        async def get_h2(conn: HTTPClient, path: str) -> Any:
            return await conn.get(f"https://www.example.com{path}")

        async def open_h3() -> H3Client:
            return await H3Client(client, "www.example.com", cadata=ca).connect()

        async def get_h3(conn: H3Client, path: str) -> Any:
            return await conn.get(path)

        h2 = await self.three(open_h2, get_h2, 6)
        h3 = await self.three(open_h3, get_h3, 17)
        return h2, h3

    def resent(self, result: dict[str, Any]) -> tuple[float, float] | None:
        """Over TCP: when the server sent the lost segment again (same sequence number) and when
        that copy reached the client, ms after the requests."""
        ip = IPv4.decode(result["frame"][14:], verify=False)
        seq = transport_of(ip).seq
        for i, ev, again, seg in self.sends("server", result["since"], 6, 443, outgoing=False):
            if seg.seq == seq and seg.payload and ev.time > result["lost_at"]:
                arrived = self.delivered_at(again, "client", i)
                return (ev.time - result["t0"]) / NS_PER_MS, (arrived - result["t0"]) / NS_PER_MS
        return None


def run(story: "Story") -> None:
    """The comparison of HTTP versions, then head-of-line blocking (in the web world)."""
    say, line = story.say, story.line
    stage = Stage8(story)
    say("stage8.text")
    timed = story.net.run_app(stage.fetches(), timeout="60s")
    rtt = stage.facts["rtt"]
    say("stage8.rtt", rtt=rtt / NS_PER_MS)
    rows = []
    for t in timed:
        trips = round((t.first_byte - t.start) / rtt)
        rows.append({"label": t.label, "ms": t.ms, "trips": trips})
        line(f"{pad(text('h8.' + t.label, story.lang), 44)} {t.ms:7.1f} ms  = "
             + text("h8.trips" if trips != 1 else "h8.trip", story.lang, n=trips))
    story.fact["fetches"] = rows
    by = {r["label"]: r for r in rows}
    say("stage8.result", h1=by["h1"]["trips"], h2=by["h2"]["trips"], h3=by["h3"]["trips"], h3r=by["h3-0rtt"]["trips"])
    story.pause()
    say("stage8.hol", n=len(HOL_PATHS), size=HOL_SIZE)
    h2, h3 = story.net.run_app(stage.head_of_line(), timeout="60s")
    again = stage.resent(h2)
    resent = again[0] if again else None
    for key, result in (("h8.hol.h2", h2), ("h8.hol.h3", h3)):
        line(text(key, story.lang))
        line(f"  {result['lost']:7.1f} ms  {text('h8.lost', story.lang)}"
             + (f"; {text('h8.resent', story.lang)} {resent:.1f} ms" if key == "h8.hol.h2" and resent is not None else ""))
        for path, ms in result["done"].items():
            line(f"  {ms:7.1f} ms  {path} {text('h8.done', story.lang)}")
    half = rtt / NS_PER_MS / 2

    def waited(result: dict[str, Any]) -> list[str]:
        first = min(result["done"].values())
        return [p for p, ms in result["done"].items() if ms > first + half]

    def spread(result: dict[str, Any]) -> float:
        return max(result["done"].values()) - min(result["done"].values())
    late2, late3 = waited(h2), waited(h3)
    # What the narration says must be what happened: every HTTP/2 stream waited for the resent
    # segment; exactly one HTTP/3 stream waited.
    assert again is not None and min(h2["done"].values()) >= again[1] and not late2, (h2, again)
    assert len(late3) == 1, h3
    on_time3 = [p for p in HOL_PATHS if p not in late3]
    story.fact["hol"] = {"h2": h2, "h3": h3, "resent": resent, "late2": late2, "late3": late3}
    say("stage8.hol.result", spread2=spread(h2), last2=max(h2["done"].values()), late3=", ".join(late3) or "-",
        on_time3=", ".join(on_time3) or "-", first3=max(h3["done"][p] for p in on_time3) if on_time3 else 0.0,
        last3=max(h3["done"].values()))
