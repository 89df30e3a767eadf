"""The client side of a DNS exchange: only the answer to our very question is accepted."""

from __future__ import annotations

from dataclasses import replace

from minternet.application.dns.exchange import matches, retry_tcp
from minternet.sim.network import Network
from minternet.wire.dns import DNSMessage, Question, RRClass, RRType, make_query, make_response


def test_a_response_must_carry_our_id_name_type_and_class():
    q = make_query("www.example.com", RRType.A, 77)
    assert matches(make_response(q), 77, "WWW.example.com.", RRType.A)
    assert not matches(make_response(q), 78, "www.example.com", RRType.A)
    assert not matches(make_response(q), 77, "www.example.com", RRType.AAAA)
    chaos = make_response(make_query("www.example.com", RRType.A, 77, cls=RRClass.CH))
    assert not matches(chaos, 77, "www.example.com", RRType.A)  # RFC 5452 9.1: the class too
    assert not matches(q, 77, "www.example.com", RRType.A)  # a query is not a response


def test_after_tc_an_answer_over_tcp_for_another_question_is_refused():
    net = Network(seed=1)
    net.add_host("c", {"eth0": "10.0.0.1/24"})
    net.add_host("ns", {"eth0": "10.0.0.53/24"})
    net.connect("c:eth0", "ns:eth0", delay="1ms")

    async def liar(reader, writer):
        head = await reader.readexactly(2)
        query = DNSMessage.decode(await reader.readexactly(int.from_bytes(head, "big")))
        other = replace(make_response(query), questions=(Question("evil.example", RRType.A, RRClass.IN),))
        wire = other.encode()
        writer.write(len(wire).to_bytes(2, "big") + wire)
        await writer.drain()

    async def client():
        await net["ns"].start_server(liar, 53)
        query = make_query("www.example.com", RRType.A, 5)
        truncated = make_response(query)
        return await retry_tcp(net["c"], "10.0.0.53", 53, query, 2.0, truncated), truncated

    got, truncated = net.run_app(client())
    assert got is truncated
