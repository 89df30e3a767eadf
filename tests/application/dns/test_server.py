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


def test_a_query_with_a_long_pointer_chain_gets_formerr():
    # The query's one answer record is owned by a pointer to the top of a 17-pointer chain: over
    # the 16 hops a name may take (it used to be followed however long, one 64 KB query of such
    # names costing seconds of CPU in the server's one loop).
    import struct
    from minternet.wire.dns import DNSMessage, Rcode
    chain = b"".join(struct.pack("!H", 0xC000 | (12 if k == 0 else 28 + 2 * (k - 1))) for k in range(16))
    data = (struct.pack("!HHHHHH", 0x4242, 0, 1, 2, 0, 0) + b"\x00\x00\x01\x00\x01"
            + b"\x00" + struct.pack("!HHIH", 65280, 1, 0, len(chain)) + chain
            + struct.pack("!HHHIH", 0xC000 | 58, 65280, 1, 0, 0))
    server = AuthoritativeServer([parse_master(ZONE)], cookie_secret=bytes(16), now=lambda: 1_700_000_000)
    reply = DNSMessage.decode(server.handle(data, client=("10.0.0.1", 5000)))
    assert (reply.id, reply.rcode) == (0x4242, Rcode.FORMERR) and server.stats["malformed"] == 1


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


def tcp_serving(max_clients: int) -> tuple[Network, AuthoritativeServer]:
    """Like serving(), with a third host evil (10.0.0.66) on a switch, a ~2 KB TXT answer at
    big.example.com and the TCP server holding ``max_clients`` connections."""
    from minternet.application.dns.server import serve_tcp
    net = Network(seed=1)
    net.add_host("c", {"eth0": "10.0.0.1/24"})
    net.add_host("evil", {"eth0": "10.0.0.66/24"})
    net.add_host("ns", {"eth0": "10.0.0.53/24"})
    sw = net.add_switch("sw")
    for h in ("c", "evil", "ns"):
        net.connect(f"{h}:eth0", sw, delay="1ms")
    big = " ".join(f'"{"x" * 250}"' for _ in range(8))
    server = AuthoritativeServer([parse_master(ZONE + f"big IN TXT {big}\n")])

    async def over_tcp(data, client=None):
        return server.handle(data, limit=65535, client=client)

    async def start():
        await serve_tcp(net["ns"], 53, "0.0.0.0", over_tcp, idle_timeout=10.0, max_clients=max_clients,
                        stats=server.stats)

    net.spawn(start())
    return net, server


def framed(query) -> bytes:
    data = query.encode()
    return len(data).to_bytes(2, "big") + data


def test_tcp_clients_that_never_read_their_answers_are_evicted_too():
    # Four connections each ask for ~600 KB of answers and never read: the server ends up waiting
    # in drain() on every one. That is waiting for the client, as a silent connection is: a new
    # client takes the place of one of them (it used to be refused: they counted as busy).
    from minternet.application.dns.exchange import query_tcp
    from minternet.wire.dns import DNSMessage
    net, server = tcp_serving(max_clients=4)
    burst = b"".join(framed(make_query("big.example.com", RRType.TXT, i)) for i in range(300))

    async def main():
        await asyncio.sleep(0.1)
        held = []
        for _ in range(4):
            reader, writer = await net["evil"].open_connection("10.0.0.53", 53)
            writer.write(burst)
            held.append(writer)
        await asyncio.sleep(2)
        stalled = server.stats["queries"]
        query = make_query("example.com", RRType.A, 0x1234)
        answers = [DNSMessage.decode(await query_tcp(net["c"], "10.0.0.53", 53, query.encode(), 3))
                   for _ in range(3)]
        for writer in held:
            writer.transport.abort()
        await asyncio.sleep(0.1)
        return stalled, answers

    stalled, answers = net.run_app(main())
    net.close()
    assert stalled < 4 * 300  # the attackers' connections did stall in drain()
    assert [a.id for a in answers] == [0x1234] * 3 and answers[0].answers[0].data.address == "10.0.2.10"
    # The first took a stalled one's place; the next ones found the place it left when it was done.
    assert server.stats["tcp_evicted"] == 1 and "tcp_refused" not in server.stats


def test_the_tcp_connection_evicted_is_the_one_idle_longest():
    # RFC 7766 6.2.1 asks clients to reuse a connection; one that does, querying every 100 ms, was
    # the oldest connection and so the first closed when silent ones filled the server. Eviction
    # is by last activity: the silent connections go first.
    from minternet.wire.dns import DNSMessage
    net, server = tcp_serving(max_clients=4)

    async def attacker():
        await asyncio.sleep(0.5)
        held = []
        for _ in range(5):  # one more than max_clients, nothing sent on any
            held.append(await net["evil"].open_connection("10.0.0.53", 53))
            await asyncio.sleep(0.05)
        return held

    async def legit():
        await asyncio.sleep(0.1)
        reader, writer = await net["c"].open_connection("10.0.0.53", 53)
        answered = 0
        try:
            for i in range(20):  # a query every 100 ms for 2 s on one connection
                writer.write(framed(make_query("example.com", RRType.A, i)))
                await writer.drain()
                n = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), 1), "big")
                DNSMessage.decode(await asyncio.wait_for(reader.readexactly(n), 1))
                answered += 1
                await asyncio.sleep(0.1)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError):
            pass
        return answered

    async def main():
        a = asyncio.ensure_future(attacker())
        answered = await legit()
        await a
        return answered

    answered = net.run_app(main())
    net.close()
    assert answered == 20, server.stats
    assert server.stats["tcp_evicted"] == 2  # two of the silent ones, by the last two


def test_a_referral_without_room_for_its_in_domain_glue_is_sent_with_tc():
    # RFC 9471 3, through the server: a plain (no EDNS, 512-byte) query for a name below a cut
    # whose eight name servers are named inside it: their glue does not all fit, so TC=1.
    import dns.flags
    import dns.message
    import dns.rdatatype
    names = [f"a-rather-long-name-server-label-number-{i:02d}.sub.example.com." for i in range(8)]
    zone = ZONE + "".join(f"sub IN NS {n}\n{n} IN A 10.1.0.{i + 1}\n" for i, n in enumerate(names))
    server = AuthoritativeServer([parse_master(zone)], cookie_secret=bytes(16), now=lambda: 1_700_000_000)
    query = dns.message.make_query("www.sub.example.com", "A", use_edns=False)
    r = dns.message.from_wire(server.handle(query.to_wire(), client=("10.0.0.1", 5000)))
    assert len(r.authority) == 1 and len(r.authority[0]) == 8
    assert len([rr for rr in r.additional if rr.rdtype == dns.rdatatype.A]) < 8
    assert r.flags & dns.flags.TC and server.stats["truncated"] == 1


class WaitingResolver:
    """A resolver whose every resolution waits for ``release`` (a slow hierarchy), then answers."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.working = 0

    async def resolve(self, name, rtype):
        from minternet.application.dns.resolver import Resolution
        self.working += 1
        await self.release.wait()
        self.working -= 1
        return Resolution(name, rtype)


def test_a_resolver_works_on_at_most_recursive_clients_queries_at_once():
    # BIND's recursive-clients: beyond the quota a query is dropped (and counted), not given a
    # task of its own; once the work in progress is done, queries are taken again.
    from minternet.application.dns.server import ResolverService
    net = Network(seed=1)
    net.add_host("c", {"eth0": "10.0.0.1/24"})
    net.add_host("res", {"eth0": "10.0.0.53/24"})
    net.connect("c:eth0", "res:eth0", delay="1ms")
    resolver = WaitingResolver()
    service = ResolverService(resolver, recursive_clients=5)  # type: ignore[arg-type]
    net.spawn(service.serve(net["res"], 53, tcp=False))

    async def main():
        await asyncio.sleep(0.1)
        sock = net["c"].socket()
        sock.bind(("0.0.0.0", 5353))
        for i in range(12):
            sock.sendto(make_query("example.com", RRType.A, i).encode(), ("10.0.0.53", 53))
        await asyncio.sleep(0.5)
        working = resolver.working
        resolver.release.set()
        answered = [(await asyncio.wait_for(sock.recvfrom(512), 1))[0] for _ in range(5)]
        later = await query_udp(net["c"], "10.0.0.53", 53, "example.com", RRType.A, rd=True, timeout=2)
        return working, answered, later

    working, answered, later = net.run_app(main())
    net.close()
    assert working == 5 and service.stats["recursive_clients_exceeded"] == 7
    assert net["res"].stats["drop.recursive-clients"] == 7
    assert sorted(int.from_bytes(a[:2], "big") for a in answered) == [0, 1, 2, 3, 4]
    assert later is not None and later.rcode == 0 and service.stats["queries"] == 6
