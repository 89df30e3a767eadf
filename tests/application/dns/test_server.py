"""The DNS server's serving loop: one datagram must never stop it."""

from __future__ import annotations

import asyncio

from minternet.application.dns.exchange import query_udp
from minternet.application.dns.masterfile import parse_master
from minternet.application.dns.server import AuthoritativeServer
from minternet.sim.network import Network
from minternet.wire.dns import RRType, make_query

ZONE = """$ORIGIN example.com.
$TTL 300
@   IN SOA ns1 hostmaster ( 1 3600 600 86400 60 )
    IN NS  ns1
ns1 IN A   10.0.0.53
@   IN A   10.0.2.10
"""


def serving() -> tuple[Network, AuthoritativeServer]:
    """A client c and an authoritative server ns (10.0.0.53) for example.com on one link."""
    net = Network(seed=1)
    net.add_host("c", {"eth0": "10.0.0.1/24"})
    net.add_host("ns", {"eth0": "10.0.0.53/24"})
    net.connect("c:eth0", "ns:eth0", delay="1ms")
    server = AuthoritativeServer([parse_master(ZONE)])
    net.spawn(server.serve(net["ns"], 53))
    return net, server


def test_a_query_from_port_0_is_counted_and_the_server_goes_on_answering():
    net, server = serving()

    async def client():
        await asyncio.sleep(0.1)
        # A datagram from source port 0: the reply cannot be sent (EINVAL, as on Linux).
        net["c"].udp.send(0, "10.0.0.53", 53, make_query("example.com", RRType.A, 7).encode())
        await asyncio.sleep(0.1)
        return await query_udp(net["c"], "10.0.0.53", 53, "example.com", RRType.A, rd=False, timeout=2)

    reply = net.run_app(client())
    net.close()
    assert reply is not None and reply.answers[0].data.address == "10.0.2.10"
    assert server.stats["send_errors"] == 1 and server.stats["queries"] == 2
    assert net["ns"].stats["drop.send-error"] == 1


def test_silent_tcp_clients_are_bounded_and_timed_out_and_queries_go_on():
    from minternet.application.dns.exchange import query_tcp
    from minternet.application.dns.server import TCP_IDLE_TIMEOUT, TCP_MAX_CLIENTS
    from minternet.wire.dns import DNSMessage
    net, server = serving()
    held = []

    async def attacker():
        await asyncio.sleep(0.1)
        for i in range(TCP_MAX_CLIENTS + 10):
            reader, writer = await net["c"].open_connection("10.0.0.53", 53)
            if i == 0:
                writer.write(b"\xff\xff" + bytes(100))  # a length of 65535 and then nothing more
            elif i % 2:
                writer.write(b"\x00")  # half a length prefix
            held.append(writer)

    async def client():
        await attacker()
        await asyncio.sleep(1)
        evicted = server.stats.get("tcp_evicted", 0)
        # While every slot is held by a silent client, a real query still gets its answer: it
        # takes the place of the longest-held silent one.
        query = make_query("example.com", RRType.A, 8)
        during = DNSMessage.decode(await query_tcp(net["c"], "10.0.0.53", 53, query.encode(), 5))
        await asyncio.sleep(TCP_IDLE_TIMEOUT + 1)
        query = make_query("example.com", RRType.A, 9)
        after = DNSMessage.decode(await query_tcp(net["c"], "10.0.0.53", 53, query.encode(), 5))
        return evicted, during, after

    evicted, during, after = net.run_app(client())
    net.close()
    assert evicted == 10 and server.stats["tcp_evicted"] == 11 and "tcp_refused" not in server.stats
    assert server.stats["tcp_idle_closed"] == TCP_MAX_CLIENTS - 1  # the one our query evicted is gone
    assert during.answers[0].data.address == "10.0.2.10" and after.answers == during.answers


def test_a_new_tcp_client_is_refused_only_when_every_connection_is_busy_answering():
    from minternet.application.dns.server import serve_tcp
    net = Network(seed=1)
    net.add_host("c", {"eth0": "10.0.0.1/24"})
    net.add_host("ns", {"eth0": "10.0.0.53/24"})
    net.connect("c:eth0", "ns:eth0", delay="1ms")
    stats: dict = {}
    release = asyncio.Event()

    async def slow(data, client):
        await release.wait()  # an answer that takes long: the connection is busy, not idle
        return data

    async def run():
        await serve_tcp(net["ns"], 53, "0.0.0.0", slow, max_clients=2, stats=stats)
        writers = []
        for _ in range(3):
            reader, writer = await net["c"].open_connection("10.0.0.53", 53)
            writer.write(b"\x00\x01x")
            writers.append((reader, writer))
            await asyncio.sleep(0.1)
        try:
            eof = await asyncio.wait_for(writers[2][0].read(), 1)
        except ConnectionResetError:
            # Its query sat unread when the server closed: a close() with unread data is a RST
            # (RFC 2525 2.17, as Linux), which ends the connection as surely as a FIN.
            eof = b""
        release.set()
        echoed = await asyncio.wait_for(writers[0][0].readexactly(3), 1)
        return eof, echoed

    eof, echoed = net.run_app(run())
    net.close()
    assert (eof, echoed) == (b"", b"\x00\x01x")
    assert stats == {"tcp_refused": 1}
