"""Transport stages: TCP's two receivers on the same loss (throw away and resend from 2, or buffer
and reorder), and UDP beside TCP on the same small question and answer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ...application.ping import ping
from ...application.transfer import transfer
from ...runtime import NS_PER_MS, NS_PER_S
from ..story import FrameLoss, ip_events

if TYPE_CHECKING:
    from ..story import Story

RESEND_SEGMENTS = 40
LOSE = (2,)  # which data segments (1 = the first) lose their first transmission: "packet 2"


class LoseSegments(FrameLoss):
    """Loses the first transmission of the ``which``-th data segments (counted from 1) that the
    client sends to ``port``. The same segments in every run: the same loss pattern for both
    receivers."""

    def __init__(self, story: "Story", port: int, which: tuple[int, ...]) -> None:
        super().__init__(story, "client")
        self.port, self.which = port, set(which)
        self.seen: list[int] = []  # sequence numbers of data segments, first transmissions

    def lose(self, frame: bytes) -> bool:
        if frame[12:14] == b"\x08\x00" and frame[23] == 6:
            ihl = (frame[14] & 15) * 4
            tcp = 14 + ihl
            if int.from_bytes(frame[tcp + 2:tcp + 4], "big") == self.port:
                header = (frame[tcp + 12] >> 4) * 4
                seq = int.from_bytes(frame[tcp + 4:tcp + 8], "big")
                if len(frame) - tcp - header > 0 and seq not in self.seen:
                    self.seen.append(seq)
                    return len(self.seen) in self.which
        return False


def resend(story: "Story") -> None:
    net = story.net
    client, server = net.host("client"), net.host("server")
    mss = 1448  # data per segment with timestamps on a 1500-byte link
    nbytes = RESEND_SEGMENTS * mss
    story.say("tcp.rs.text", n=RESEND_SEGMENTS, lost=", ".join(map(str, LOSE)))
    net.run(net.now + 50 * NS_PER_MS)
    net.run_app(ping(client, server.address, count=1))
    rows: dict[str, dict[str, Any]] = {}
    for mode, port in (("discard", 5001), ("keep", 5002)):
        lose = LoseSegments(story, port, LOSE)
        since = len(story.rec.events)
        try:
            result = net.run_app(transfer(client, server, nbytes, port=port, seed=7,
                                          options={"reassembly": mode}))
        finally:
            lose.restore()
        events = story.rec.events[since:]
        data = [(e, t) for e, ip, t in ip_events(events, node="client", proto=6)
                if t is not None and t.dport == port and t.payload]
        seen: set[int] = set()
        again = 0
        for e, t in data:
            if t.seq in seen:
                again += len(t.payload)
            seen.add(t.seq)
        drops = [e for e in events if e.event == "drop" and e.reason == "link-loss"]
        thrown = result.receiver_stats.get("discarded_out_of_order", 0)
        rows[mode] = {"ok": result.ok, "seconds": result.seconds, "resent_bytes": again,
                      "segments": len(data), "thrown": thrown, "lost": len(drops)}
        if drops:
            story.focus(drops[0], "focus.rs.lost", mode=mode)
    from ..text import text
    for mode in ("discard", "keep"):
        r = rows[mode]
        story.line(f"{text('tcp.rs.' + mode, story.lang)}  {r['segments']:3d} {text('tcp.rs.segs', story.lang)}  "
                   f"{r['resent_bytes']:7,d} {text('tcp.rs.again', story.lang)}  {r['seconds'] * 1000:7.1f} ms")
    story.fact.update(rows)
    story.say("tcp.rs.result", d_again=rows["discard"]["resent_bytes"], k_again=rows["keep"]["resent_bytes"],
              d_ms=rows["discard"]["seconds"] * 1000, k_ms=rows["keep"]["seconds"] * 1000, nbytes=nbytes)
    assert rows["discard"]["ok"] and rows["keep"]["ok"], rows


# -- UDP beside TCP: the same question and answer -------------------------------------------------
ECHO_PORT = 7  # RFC 862
QUESTION = b"What time is it?"


def udp_vs_tcp(story: "Story") -> None:
    net = story.net
    client, server = net.host("client"), net.host("server")
    story.say("tcp.ut.text", n=len(QUESTION))

    class UDPEcho(asyncio.DatagramProtocol):
        def connection_made(self, transport):  # noqa: ANN001
            self.transport = transport

        def datagram_received(self, data, addr):  # noqa: ANN001
            self.transport.sendto(data, addr)

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(1000)
        writer.write(data)
        await writer.drain()
        await reader.read()  # until the client closes
        writer.close()

    async def run() -> dict[str, Any]:
        udp_t, _ = await server.create_datagram_endpoint(UDPEcho, local_addr=("0.0.0.0", ECHO_PORT))
        tcp_s = await server.start_server(echo, port=ECHO_PORT)
        await ping(client, server.address, count=1)  # ARP on every hop first: the protocols alone
        out: dict[str, Any] = {}
        # UDP: one datagram out, one back.
        loop = asyncio.get_running_loop()
        got: asyncio.Future = loop.create_future()

        class Ask(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):  # noqa: ANN001
                got.done() or got.set_result(data)
        out["udp_since"] = len(story.rec.events)
        t0 = net.now
        tr, _ = await client.create_datagram_endpoint(Ask, remote_addr=(server.address, ECHO_PORT))
        tr.sendto(QUESTION)
        assert await got == QUESTION
        out["udp_answer"] = net.now - t0
        tr.close()
        await asyncio.sleep(1)
        # TCP: handshake, the question, the answer, acknowledgements, the close.
        out["tcp_since"] = len(story.rec.events)
        t0 = net.now
        reader, writer = await client.open_connection(server.address, ECHO_PORT)
        writer.write(QUESTION)
        assert await reader.readexactly(len(QUESTION)) == QUESTION
        out["tcp_answer"] = net.now - t0
        writer.close()
        await reader.read()
        await asyncio.sleep(1)
        out["tcp_until"] = len(story.rec.events)
        udp_t.close()
        tcp_s.close()
        return out
    got = net.run_app(run())
    client_addr = client.address

    def on_client_link(since: int, until: int | None, proto: int) -> list:
        events = [e for e in story.rec.events[since:until] if e.node == "client" and e.event in ("send", "deliver")]
        return [(e, ip, t) for e, ip, t in ip_events(events, event="send", proto=proto) + ip_events(events, event="deliver", proto=proto)
                if t is not None and ECHO_PORT in (t.sport, t.dport)]
    order = {id(e): i for i, e in enumerate(story.rec.events)}
    udp = sorted(on_client_link(got["udp_since"], got["tcp_since"], 17), key=lambda x: order[id(x[0])])
    tcp = sorted(on_client_link(got["tcp_since"], got["tcp_until"], 6), key=lambda x: order[id(x[0])])
    from ...wire.tcp import flags_str
    from ..text import text
    story.line(text("tcp.ut.udp", story.lang))
    for e, ip, t in udp:
        arrow = "->" if ip.src == client_addr else "<-"
        story.line(f"  {e.time / NS_PER_MS:8.1f} ms  client {arrow} server  UDP {len(t.payload)} bytes")
    story.line(text("tcp.ut.tcp", story.lang))
    for e, ip, t in tcp:
        arrow = "->" if ip.src == client_addr else "<-"
        story.line(f"  {e.time / NS_PER_MS:8.1f} ms  client {arrow} server  TCP [{flags_str(t.flags)}]"
                   + (f" {len(t.payload)} bytes" if t.payload else ""))
    udp_ms, tcp_ms = got["udp_answer"] / NS_PER_MS, got["tcp_answer"] / NS_PER_MS
    closed = (tcp[-1][0].time - tcp[0][0].time) / NS_PER_MS
    rtt = (udp[-1][0].time - udp[0][0].time) / NS_PER_MS
    story.focus(udp[0][0], "focus.ut.udp")
    story.focus(tcp[0][0], "focus.ut.syn")
    https = story.facts.get("https", {}).get("fetches", [])
    trips = {r["label"]: r["trips"] for r in https}
    story.fact.update(udp_packets=len(udp), tcp_packets=len(tcp), udp_ms=udp_ms, tcp_ms=tcp_ms,
                      tcp_closed_ms=closed, rtt_ms=rtt, trips=trips)
    story.say("tcp.ut.result", udp=len(udp), tcp=len(tcp), udp_ms=udp_ms, tcp_ms=tcp_ms, closed=closed,
              ratio=tcp_ms / udp_ms)
    if trips:
        story.say("tcp.ut.h3", h1=trips["h1"], h2=trips["h2"], h3=trips["h3"], h3r=trips["h3-0rtt"])
