"""Ports: several programs on one server, one client talking to two of them at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ...application.http.client import get
from ...runtime import NS_PER_MS
from ...transport.udp import EPHEMERAL_HIGH, EPHEMERAL_LOW
from ...wire.services import SERVICES
from ..story import ip_events
from ..text import text
from .web import PAGES, web_server

if TYPE_CHECKING:
    from ..story import Story

ECHO_PORT = 7
TABLE = (20, 21, 23, 53, 80, 443)  # the notes' well-known ports, with DNS


def listening(story: "Story") -> dict[int, list[str]]:
    """port -> the hosts with a program listening on it (TCP or UDP) in this world now."""
    out: dict[int, list[str]] = {}
    for node in story.net.hosts:
        tcp = getattr(node, "tcp", None)
        for (_, port) in getattr(tcp, "listeners", {}):
            out.setdefault(port, []).append(node.name)
        udp = getattr(node, "udp", None)
        for port in getattr(udp, "ports", {}):
            if port < EPHEMERAL_LOW:
                out.setdefault(port, []).append(node.name)
    return out


def ports(story: "Story") -> None:
    net = story.net
    client, server = net.host("client"), net.host("server")
    story.say("ports.text", server=server.address)

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1000):
            writer.write(data)
        writer.close()

    async def run() -> tuple:
        net.spawn(web_server(server))
        echo_server = await server.start_server(echo, port=ECHO_PORT)
        await asyncio.sleep(0.05)
        served = listening(story)

        async def talk() -> bytes:
            reader, writer = await client.open_connection(server.address, ECHO_PORT)
            writer.write(b"hello, echo")
            answer = await reader.readexactly(11)
            writer.close()
            return answer
        page, said = await asyncio.gather(get(client, f"http://{server.address}/"), talk())
        await asyncio.sleep(1)  # the closes complete
        echo_server.close()
        return page, said, served
    since = len(story.rec.events)
    (status, body), said, served = net.run_app(run())
    assert status == 200 and body == PAGES["/"] and said == b"hello, echo"
    arrived = [(e, ip, t) for e, ip, t in ip_events(story.rec.events[since:], event="deliver", node="server")
               if t is not None and ip.proto == 6]
    by_port: dict[int, int] = {}
    conns: dict[tuple, int] = {}
    for e, ip, t in arrived:
        by_port[t.dport] = by_port.get(t.dport, 0) + 1
        conns[(ip.src, t.sport, ip.dst, t.dport)] = conns.get((ip.src, t.sport, ip.dst, t.dport), 0) + 1
    for e, ip, t in arrived[:6]:
        story.line(f"{e.time / NS_PER_MS:8.1f} ms  server <- {ip.src}:{t.sport} -> :{t.dport} "
                   f"({SERVICES.get(t.dport, '?')})  {e.summary.split(' [')[1].split(']')[0] if ' [' in e.summary else ''}")
    story.say("ports.demux")
    for (src, sport, dst, dport), n in sorted(conns.items(), key=lambda x: x[0][3]):
        story.line(f"({src}, {sport}, {dst}, {dport:>3})  {n:3d} {text('ports.segments', story.lang)}"
                   f"  -> {SERVICES.get(dport, '?')}")
    first = {}
    for e, ip, t in arrived:
        first.setdefault(t.dport, e)
    for port, e in sorted(first.items()):
        story.focus(e, "focus.ports.demux", port=port, service=SERVICES.get(port, "?"))
    story.say("ports.table")
    rows = []
    for port in TABLE:
        here = ", ".join(sorted(set(served.get(port, []))))
        rows.append((port, SERVICES.get(port, "?"), here))
        mark = f"{text('ports.here', story.lang)} {here}" if here else ""
        story.line(f"{port:>5}  {SERVICES.get(port, '?'):<9} {mark}")
    client_ports = sorted({sport for (_, sport, _, _) in conns})
    story.line(f"{EPHEMERAL_LOW}-{EPHEMERAL_HIGH}  {text('ports.ephemeral', story.lang)} "
               f"{', '.join(map(str, client_ports))}")
    story.fact.update(by_port=by_port, connections=len(conns), client_ports=client_ports, served=served,
                      table=rows)
    story.say("ports.result", n=len(conns), web=by_port.get(80, 0), echo=by_port.get(ECHO_PORT, 0),
              a=client_ports[0], b=client_ports[-1])
