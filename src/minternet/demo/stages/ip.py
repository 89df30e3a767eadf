"""The IP stages: what IP alone does not promise. Each has a world of its own (the example
internet from the seed): a host that is down (connectionless), packets of one flow overtaking
each other (out of order), and a datagram too big for one packet (fragmentation)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ...application.ping import ping
from ...runtime import NS_PER_MS, NS_PER_S
from ...transport.tcp.connection import Options
from ..story import FrameLoss, ip_events, ip_of, transport_of

if TYPE_CHECKING:
    from ..story import Story

DISCARD_PORT = 9  # RFC 863: a datagram to it needs no answer; nobody listens on the server
SYN_RETRIES = 3  # net.ipv4.tcp_syn_retries for this stage (Linux's default, 6, takes 127 s)


def _ms(t: int) -> str:
    return f"{t / NS_PER_MS:8.1f} ms"


# -- 1. connectionless ----------------------------------------------------------------------------
def connectionless(story: "Story") -> None:
    net = story.net
    client, server = net.host("client"), net.host("server")
    dst = server.address
    story.say("ip.cl.text", server=dst)
    net.run(net.now + 50 * NS_PER_MS)
    first = net.run_app(ping(client, dst, count=1))
    story.line(text_ping(story, first))
    since = len(story.rec.events)
    down_at = net.now
    net.node_down("server")

    async def tries() -> dict[str, Any]:
        pinged = await ping(client, dst, count=3)
        sock = client.socket(type=2)
        sent = sock.sendto(b"are you there?", (dst, DISCARD_PORT))
        await asyncio.sleep(3)
        sock.close()
        t0 = net.now
        try:
            await client.open_connection(dst, 80, options=Options(syn_retries=SYN_RETRIES))
            error = None
        except OSError as exc:
            error = exc
        return {"ping": pinged, "udp_sent": sent, "tcp_error": error, "tcp_seconds": (net.now - t0) / NS_PER_S}
    got = net.run_app(tries())
    events = story.rec.events[since:]
    sent = [(e, ip, t) for e, ip, t in ip_events(events, node="client") if ip.dst == dst]
    lost = [e for e in events if e.event == "drop" and e.reason == "node-down" and e.node == "server"]
    back = [(e, ip) for e, ip, _ in ip_events(events, event="deliver", node="client")]
    for e, ip, t in sent:
        story.line(f"{_ms(e.time)}  client -> {dst}  {e.summary.split(' ', 3)[3].split(' win=')[0]}")
    pinged, err = got["ping"], got["tcp_error"]
    syns = [e for e, ip, t in sent if ip.proto == 6]
    story.focus(sent[0][0], "focus.cl.sent")
    if lost:
        story.focus(lost[0], "focus.cl.lost")
    if len(syns) > 1:
        story.focus(syns[1], "focus.cl.syn_again", n=len(syns))
    import errno as errno_mod
    name = errno_mod.errorcode.get(err.errno, str(err.errno)) if err is not None else "none"
    story.fact.update(ping_sent=pinged.transmitted, ping_replies=pinged.received, ping_errors=len(pinged.errors),
                      udp_sent=got["udp_sent"], packets_sent=len(sent), packets_lost=len(lost),
                      answers=len(back), syns=len(syns), error=name, tcp_seconds=got["tcp_seconds"],
                      down_at=down_at)
    story.say("ip.cl.result", pings=pinged.transmitted, replies=pinged.received, icmp=len(pinged.errors),
              bytes=got["udp_sent"], sent=len(sent), lost=len(lost), answers=len(back))
    story.say("ip.cl.tcp", syns=len(syns), retries=SYN_RETRIES, seconds=got["tcp_seconds"], error=name,
              strerror=err.strerror if err is not None else "-")
    net.node_up("server")


def text_ping(story: "Story", result) -> str:
    reply = result.replies[0]
    return f"ping {result.destination}: {reply.size} bytes from {reply.source}: icmp_seq={reply.seq} ttl={reply.ttl} " \
           f"time={reply.rtt / NS_PER_MS:.1f} ms"


# -- 2. out of order ------------------------------------------------------------------------------
REORDER_LINK = "r1:eth1"  # r1 -> r2, the way to the server
JITTER_MS = 20
DATAGRAMS = 8
REORDER_BYTES = 20 * 1448


def reorder(story: "Story") -> None:
    net = story.net
    client, server = net.host("client"), net.host("server")
    story.say("ip.ro.text", link="r1 -> r2", jitter=JITTER_MS, n=DATAGRAMS)
    net.run(net.now + 50 * NS_PER_MS)
    net.run_app(ping(client, server.address, count=1))  # ARP on every hop first
    net.link(REORDER_LINK).set_params(jitter=JITTER_MS * NS_PER_MS)
    arrived: list[int] = []

    async def udp() -> None:
        rx = server.socket(type=2)
        rx.bind(("0.0.0.0", 5000))
        tx = client.socket(type=2)
        for i in range(1, DATAGRAMS + 1):
            tx.sendto(f"datagram {i}".encode(), (server.address, 5000))
            await asyncio.sleep(0.001)
        while len(arrived) < DATAGRAMS:
            data, _ = await asyncio.wait_for(rx.recvfrom(100), 2)
            arrived.append(int(data.split()[1]))
        rx.close()
        tx.close()
    net.run_app(udp())
    story.line(text_order(story, "ip.ro.udp_sent", list(range(1, DATAGRAMS + 1))))
    story.line(text_order(story, "ip.ro.udp_got", arrived))
    # TCP under the same jitter: the segments' arrival order at the server, then what the program read.
    from ...application.transfer import transfer
    since = len(story.rec.events)
    result = net.run_app(transfer(client, server, REORDER_BYTES, port=5001, seed=1))
    net.link(REORDER_LINK).set_params(jitter=0)
    events = story.rec.events[since:]
    data = [(e, t) for e, ip, t in ip_events(events, event="deliver", node="server", proto=6)
            if t is not None and t.dport == 5001 and t.payload]
    isn = next(t.seq for e, ip, t in ip_events(events, node="client", proto=6) if t is not None and t.flags & 0x02)
    size = max(len(t.payload) for _, t in data)
    order = [((t.seq - isn - 1) % 2**32) // size + 1 for _, t in data]
    firsts = []
    for n in order:
        if n not in firsts:
            firsts.append(n)
    late = overtaken(firsts)
    story.line(text_order(story, "ip.ro.tcp_got", firsts))
    for e, t in data:
        n = ((t.seq - isn - 1) % 2**32) // size + 1
        if late and n == late[0]:
            story.focus(e, "focus.ro.late", n=n)
            break
    story.fact.update(udp_order=arrived, udp_in_order=arrived == sorted(arrived), tcp_order=firsts, tcp_late=late,
                      intact=result.ok, segments=len(firsts), nbytes=REORDER_BYTES)
    story.say("ip.ro.result", udp_late=len(overtaken(arrived)), n=DATAGRAMS, late=len(late),
              segments=len(firsts), nbytes=REORDER_BYTES, ok="SHA-256" if result.ok else "?")
    assert result.ok, "the transfer under jitter did not arrive intact"


def overtaken(order: list[int]) -> list[int]:
    """The numbers in ``order`` that arrived after a higher number: overtaken on the way."""
    return [n for i, n in enumerate(order) if any(m > n for m in order[:i])]


def text_order(story: "Story", key: str, order: list[int]) -> str:
    from ..text import text
    return f"{text(key, story.lang)} {' '.join(map(str, order))}"


# -- 3. fragmentation -----------------------------------------------------------------------------
BIG = 4000  # bytes of UDP data: more than one 1500-byte packet


class LoseFragment(FrameLoss):
    """Loses, once armed, the next middle fragment (offset not 0, more fragments) of a UDP
    datagram that the client's eth0 sends."""

    def __init__(self, story: "Story") -> None:
        super().__init__(story, "client")
        self.armed = False

    def lose(self, frame: bytes) -> bool:
        if self.armed and frame[12:14] == b"\x08\x00" and frame[23] == 17:
            flags_off = int.from_bytes(frame[20:22], "big")
            if flags_off & 0x1FFF and flags_off & 0x2000:  # a middle fragment
                self.armed = False
                return True
        return False


def fragments(story: "Story") -> None:
    net = story.net
    client, server = net.host("client"), net.host("server")
    mtu = client.interfaces["eth0"].mtu
    story.say("ip.fr.text", size=BIG, mtu=mtu)
    net.run(net.now + 50 * NS_PER_MS)
    net.run_app(ping(client, server.address, count=1))
    got: list[int] = []
    lose = LoseFragment(story)

    async def send(n: int, armed: bool) -> int | None:
        rx = server.socket(type=2)
        rx.bind(("0.0.0.0", 5000))
        tx = client.socket(type=2)
        lose.armed = armed
        tx.sendto(bytes([n]) * BIG, (server.address, 5000))
        try:
            data, _ = await asyncio.wait_for(rx.recvfrom(65535), 40)
            return len(data)
        except asyncio.TimeoutError:
            return None
        finally:
            rx.close()
            tx.close()
    since = len(story.rec.events)
    whole = net.run_app(send(1, False))
    ev1 = story.rec.events[since:]
    since2 = len(story.rec.events)
    broken = net.run_app(send(2, True))
    lose.restore()
    ev2 = story.rec.events[since2:]
    got = [whole or 0, broken or 0]

    def pieces(events):
        """The fragments as the client's link sent them (IP's send event is of the whole packet)."""
        out = []
        for e in events:
            if e.node == "client" and e.layer == "link" and e.event == "send" and e.frame is not None:
                ip = ip_of(e)
                if ip is not None and ip.proto == 17 and ip.dst == server.address:
                    out.append((e, ip))
        return out
    frags1 = pieces(ev1)
    for e, ip in frags1:
        story.line(f"{_ms(e.time)}  client -> server  IP id={ip.ident} offset={ip.frag_offset * 8:<5} "
                   f"MF={1 if ip.flags & 1 else 0} {len(ip.payload)} bytes")
        story.focus(e, "focus.fr.piece", offset=ip.frag_offset * 8, n=len(ip.payload))
    delivered = [e for e, ip, t in ip_events(ev1, event="deliver", node="server", proto=17)]
    story.say("ip.fr.whole", n=len(frags1), size=whole or 0)
    frags2 = pieces(ev2)
    lost = [e for e in ev2 if e.event == "drop" and e.reason == "link-loss"]
    expired = [e for e in ev2 if e.event == "drop" and e.reason == "reassembly-timeout"]
    for e in lost:
        ip = ip_of(e)
        story.line(f"{_ms(e.time)}  client:eth0  IP id={ip.ident} offset={ip.frag_offset * 8}  DROPPED (link-loss)")
        story.focus(e, "focus.fr.lost", offset=ip.frag_offset * 8)
    for e in expired:
        story.line(f"{_ms(e.time)}  server  IP id={ip_of(lost[0]).ident if lost else '?'}  DROPPED (reassembly-timeout)")
        story.focus(e, "focus.fr.expired")
    wait = (expired[0].time - lost[0].time) / NS_PER_S if expired and lost else 0.0
    # And TCP: its segments carry DF, and their size is the MSS the SYN announced.
    syn = None

    async def tcp() -> None:
        srv = await server.start_server(lambda r, w: w.close(), port=5002)
        reader, writer = await client.open_connection(server.address, 5002)
        writer.close()
        await asyncio.sleep(0.5)
        srv.close()
    since3 = len(story.rec.events)
    net.run_app(tcp())
    syn = next((e, ip, t) for e, ip, t in ip_events(story.rec.events[since3:], node="client", proto=6)
               if t is not None and t.flags & 0x02)
    mss = next((o.value for o in syn[2].options if type(o).__name__ == "MSS"), 0)
    df = bool(syn[1].flags & 2)
    story.focus(syn[0], "focus.fr.df", mss=mss)
    story.fact.update(fragments=len(frags1), sizes=[len(ip.payload) for _, ip in frags1], whole=whole,
                      delivered=len(delivered), sent2=len(frags2), lost=len(lost), expired=len(expired),
                      broken=broken, wait=wait, mss=mss, df=df, mtu=mtu)
    story.say("ip.fr.broken", sent=len(frags2), lost=len(lost), pieces=len(frags2) - len(lost), wait=wait,
              size=BIG)
    story.say("ip.fr.tcp", mss=mss, mtu=mtu, df="DF" if df else "-")
