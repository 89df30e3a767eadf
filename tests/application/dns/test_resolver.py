"""The recursive resolver in the example internet: the walk, caches, failures, spoofing defences."""

import asyncio
import socket

import pytest

from minternet.application.dns.resolver import RecursiveResolver
from minternet.sim.example import example_text
from minternet.sim.topology import loads
from minternet.wire.dns import (A, DNSMessage, Rcode, ResourceRecord, RRClass, RRType, make_response)


@pytest.fixture
def net():
    n = loads(example_text(), "example").network
    yield n
    n.close()


def resolver_on(net, host="client"):
    return RecursiveResolver(net.host(host), net.dns.root_hints)


def test_walk_root_tld_authoritative_then_cache(net):
    r = resolver_on(net)
    first = net.run_app(r.resolve("www.example.com"))
    assert first.rcode == Rcode.NOERROR and first.addresses == ["10.0.2.10"]
    assert [s.server for s in first.steps] == ["10.0.4.53", "10.0.5.53", "10.0.2.53"]
    assert [s.zone for s in first.steps] == ["", "com", "example.com"]
    assert "referral to com" in first.steps[0].outcome and "referral to example.com" in first.steps[1].outcome
    assert [rr.type for rr in first.answers] == [RRType.CNAME, RRType.A]
    second = net.run_app(r.resolve("www.example.com"))
    assert second.from_cache and not second.steps and second.addresses == ["10.0.2.10"]
    # A sibling name skips root and com: the example.com servers are cached.
    third = net.run_app(r.resolve("example.com", RRType.NS))
    assert [s.server for s in third.steps] == ["10.0.2.53"]


def test_cache_expires_with_the_ttl(net):
    r = resolver_on(net)
    net.run_app(r.resolve("example.com"))

    async def later():
        await asyncio.sleep(301)  # the A record's TTL is 300 s
        return await r.resolve("example.com")

    again = net.run_app(later())
    assert not again.from_cache
    assert [s.server for s in again.steps] == ["10.0.2.53"]  # NS records (2 days) are still cached


def test_nxdomain_is_cached_negatively_with_soa_minimum(net):
    r = resolver_on(net)
    res = net.run_app(r.resolve("nope.example.com"))
    assert res.rcode == Rcode.NXDOMAIN and res.authority and res.authority[0].type == RRType.SOA
    again = net.run_app(r.resolve("nope.example.com", RRType.MX))  # any type: the name does not exist
    assert again.rcode == Rcode.NXDOMAIN and again.from_cache

    async def later():
        await asyncio.sleep(301)  # negative TTL = min(SOA TTL, minimum) = 300
        return await r.resolve("nope.example.com")

    assert not net.run_app(later()).from_cache


def test_nodata_for_a_name_without_that_type(net):
    r = resolver_on(net)
    res = net.run_app(r.resolve("example.com", RRType.MX))
    assert res.rcode == Rcode.NOERROR and not res.answers and res.authority[0].type == RRType.SOA


def test_unknown_tld_is_nxdomain_from_the_root(net):
    r = resolver_on(net)
    res = net.run_app(r.resolve("www.example.org"))
    assert res.rcode == Rcode.NXDOMAIN and len(res.steps) == 1


def test_dead_server_times_out_and_gives_servfail(net):
    net.at("1ms", net.node_down, "tld-com")
    r = resolver_on(net)
    res = net.run_app(r.resolve("www.example.com"))
    assert res.rcode == Rcode.SERVFAIL
    # Asked twice (attempts), then gave up. r3 cannot find tld-com with ARP, so the first try
    # comes back as "host unreachable"; the second, before ARP gives up again, times out.
    assert r.stats["queries_sent"] == 3 and r.stats["timeouts"] + r.stats["unreachable"] == 2  # root once, com twice
    assert "no answer" in res.steps[-1].outcome


def test_retries_another_server_on_timeout(net):
    # A second root server; the first one dies.
    root2 = net.add_host("root2", {"eth0": "10.0.6.53/24"}, gateway="10.0.6.1")
    net.host("r3").add_interface("eth3", "10.0.6.1/24")
    net.connect("root2:eth0", "r3:eth3", delay="2ms")
    net.dns.add_root(root2)
    net.at("1ms", net.node_down, "root")
    r = resolver_on(net)
    r.host.rng.seed(4)
    res = net.run_app(r.resolve("www.example.com"))
    assert res.rcode == Rcode.NOERROR and res.addresses == ["10.0.2.10"]
    assert {s.server for s in res.steps} >= {"10.0.6.53"}


def test_spoofed_answers_are_ignored(net):
    """An attacker on the client's LAN floods forged answers at the resolver: wrong ports, wrong IDs.
    None is accepted; the real answer is."""
    attacker = net.add_host("attacker", {"eth0": "10.0.1.66/24"}, gateway="10.0.1.1")
    net.connect("attacker:eth0", net.nodes["lan1"], delay="1ms")
    resolver_host = net.host("resolver")
    r = RecursiveResolver(resolver_host, net.dns.root_hints)
    forged_sent = []

    async def flood():
        # The attacker forges the root server's address as the source and guesses ports and IDs.
        for i in range(2000):
            forged = DNSMessage(i * 7919 % 65536, qr=True, aa=True,
                                questions=(), answers=(
                ResourceRecord("www.example.com", RRType.A, RRClass.IN, 9999, A("6.6.6.6")),))
            attacker.udp.send(53, "10.0.1.53", 49152 + (i * 37) % 16384, forged.encode(), src="10.0.4.53")
            forged_sent.append(i)
            if i % 20 == 0:
                await asyncio.sleep(0.001)

    async def main():
        net.spawn(flood())
        await asyncio.sleep(0.01)
        return await r.resolve("www.example.com")

    res = net.run_app(main())
    assert forged_sent
    assert res.addresses == ["10.0.2.10"]
    assert "6.6.6.6" not in str(res.answers)


def test_out_of_bailiwick_records_are_ignored(net):
    """A malicious example.com server adds an A record for www.bank.com to its answer: ignored."""
    server = net.dns.authorities["ns-example"]
    from minternet.application.dns import authority
    real_answer = authority.answer

    def poisoned(zones, query):
        resp = real_answer(zones, query)
        extra = ResourceRecord("www.bank.com", RRType.A, RRClass.IN, 86400, A("6.6.6.6"))
        return make_response(query, rcode=resp.rcode, aa=resp.aa, answers=resp.answers + (extra,),
                             authority=resp.authority, additional=resp.additional + (extra,))

    def handle(data, limit=512, client=None):
        from minternet.wire.dns import encode_limited
        return encode_limited(poisoned(server.zones, DNSMessage.decode(data)), limit)

    server.handle = handle  # this one server only
    r = resolver_on(net)
    res = net.run_app(r.resolve("www.example.com"))
    assert res.addresses == ["10.0.2.10"]
    assert r.stats["out_of_bailiwick"] >= 2
    assert r.cache.get("www.bank.com", RRType.A) is None


def test_stub_resolver_through_the_resolver_and_hosts_table(net):
    client = net.host("client")
    client.stub_resolver.add_host("printer.lan", "10.0.1.77")

    async def main():
        a = await client.resolve("www.example.com")
        b = await client.resolve("printer.lan")
        c = await client.resolve("10.9.8.7")
        with pytest.raises(socket.gaierror) as e:
            await client.resolve("missing.example.com")
        return a, b, c, e.value.errno

    a, b, c, code = net.run_app(main())
    assert (a, b, c) == ("10.0.2.10", "10.0.1.77", "10.9.8.7")
    assert code == socket.EAI_NONAME
    assert net.host("resolver").stats["udp.in_datagrams"] >= 2


def test_stub_without_a_reachable_resolver_says_eai_again(net):
    client = net.host("client")
    net.at("1ms", net.node_down, "resolver")

    async def main():
        await asyncio.sleep(0.01)
        with pytest.raises(socket.gaierror) as e:
            await client.resolve("www.example.com")
        return e.value.errno

    assert net.run_app(main()) == socket.EAI_AGAIN


class _Clock:
    now = 0


def _a(ttl: int) -> ResourceRecord:
    return ResourceRecord("www.example.com", RRType.A, RRClass.IN, ttl, A("10.0.2.10"))


def _soa(ttl: int, minimum: int) -> ResourceRecord:
    from minternet.wire.dns import SOA
    return ResourceRecord("example.com", RRType.SOA, RRClass.IN, ttl,
                          SOA("ns1.example.com", "hostmaster.example.com", 1, 3600, 600, 86400, minimum))


def test_a_ttl_with_the_top_bit_set_is_not_cached():
    from minternet.application.dns.resolver import Cache
    cache = Cache(_Clock())
    cache.put("www.example.com", RRType.A, [_a(0x80000000 | 300)])
    assert cache.get("www.example.com", RRType.A) is None  # RFC 2181 8: treated as zero


def test_cached_ttls_are_capped_as_bind_caps_them():
    from minternet.application.dns.resolver import Cache, negative_ttl
    clock = _Clock()
    cache = Cache(clock)
    cache.put("www.example.com", RRType.A, [_a(2**31 - 1)])
    assert cache.remaining_ttl(cache.get("www.example.com", RRType.A)) == 7 * 86400  # max-cache-ttl
    soa = [_soa(2**31 - 1, 2**31 - 1)]
    cache.put("nope.example.com", RRType.A, [], Rcode.NXDOMAIN, soa, ttl=negative_ttl(soa))
    assert cache.remaining_ttl(cache.get("nope.example.com", RRType.A)) == 3 * 3600  # max-ncache-ttl
    assert negative_ttl([_soa(0x80000001, 300)]) == 0


def lie_about(net, qname: str, cname_owner: str, cname_target: str) -> None:
    """Make the example.com server answer ``qname`` with NXDOMAIN and one CNAME (its other
    answers stay true)."""
    from minternet.wire.dns import CNAME
    server = net.dns.authorities["ns-example"]
    real_handle = server.handle

    def handle(data, limit=512, client=None):
        query = DNSMessage.decode(data)
        if query.questions[0].name.rstrip(".").lower() != qname:
            return real_handle(data, limit)
        rr = ResourceRecord(cname_owner, RRType.CNAME, RRClass.IN, 86400, CNAME(cname_target))
        return make_response(query, rcode=Rcode.NXDOMAIN, aa=True, answers=(rr,)).encode()

    server.handle = handle


def test_an_nxdomain_cannot_poison_a_name_outside_the_servers_zone(net):
    """A malicious example.com server answers NXDOMAIN with a CNAME to ns.nic.com (a name in com,
    which it does not serve): ns.nic.com must not become non-existent in the cache."""
    lie_about(net, "trap.example.com", "trap.example.com", "ns.nic.com")
    r = resolver_on(net)
    res = net.run_app(r.resolve("trap.example.com"))
    assert r.stats["out_of_bailiwick"] >= 1
    assert res.rcode == Rcode.NOERROR and res.addresses  # ns.nic.com asked of the com server, which has it
    target = net.run_app(r.resolve("ns.nic.com"))
    assert target.rcode == Rcode.NOERROR and target.addresses


def test_an_nxdomain_chain_must_start_at_the_name_asked(net):
    lie_about(net, "nothere.example.com", "other.example.com", "www.example.com")  # a chain from elsewhere
    r = resolver_on(net)
    assert net.run_app(r.resolve("nothere.example.com")).rcode == Rcode.NXDOMAIN
    from minternet.application.dns.resolver import _NXDOMAIN_KEY
    assert r.cache.get("www.example.com", _NXDOMAIN_KEY) is None
    www = net.run_app(r.resolve("www.example.com"))
    assert www.rcode == Rcode.NOERROR and www.addresses == ["10.0.2.10"]


def test_a_lame_server_costs_one_query_not_the_whole_budget(net):
    server = net.dns.authorities["ns-example"]

    def refuse(data, limit=512, client=None):
        return make_response(DNSMessage.decode(data), rcode=Rcode.REFUSED).encode()

    server.handle = refuse
    r = resolver_on(net)
    res = net.run_app(r.resolve("www.example.com"))
    assert res.rcode == Rcode.SERVFAIL
    to_lame = [s for s in res.steps if s.server == "10.0.2.53"]
    assert len(to_lame) == 1 and r.stats["lame_servers"] == 1
    again = net.run_app(r.resolve("mail.example.com"))
    assert again.rcode == Rcode.SERVFAIL and not [s for s in again.steps if s.server == "10.0.2.53"]


def test_root_servers_found_after_the_roots_ns_set_is_cached(net):
    # dig +trace asks the resolver for ". NS", then for the address of a root server: once the
    # root's NS set is in the cache without addresses, the hints still give them (RFC 8109 3).
    r = resolver_on(net)
    root = net.run_app(r.resolve("", RRType.NS))
    assert root.rcode == Rcode.NOERROR and [rr.data.target for rr in root.answers] == ["a.root-servers.net"]
    addr = net.run_app(r.resolve("a.root-servers.net"))
    assert addr.rcode == Rcode.NOERROR and addr.addresses == ["10.0.4.53"]
