import errno
"""Whole-network behaviour: the scenarios the internet layer must show."""

from minternet.application.ping import ping
from minternet.application.traceroute import traceroute
from minternet.sim.example import example_text
from minternet.observe.trace import Recorder
from minternet.runtime import NS_PER_MS, NS_PER_S
from minternet.sim.topology import loads

from netutil import chain


def test_ping_across_three_routers():
    net = chain(3, delay="5ms")
    lines = []
    res = net.run_app(ping(net["client"], "10.0.2.10", count=4, out=lines.append))
    assert res.transmitted == 4 and res.received == 4 and res.loss == 0
    # Four 5 ms links each way: 40 ms of propagation, plus serialisation; TTL 64 - 3 routers.
    assert all(r.ttl == 61 for r in res.replies)
    steady = [r.rtt for r in res.replies[1:]]
    assert all(40 * NS_PER_MS <= rtt < 41 * NS_PER_MS for rtt in steady)
    # The first one waited for ARP on every hop.
    assert res.replies[0].rtt > steady[0]
    assert any(line.startswith("64 bytes from 10.0.2.10: icmp_seq=1 ttl=61 time=") for line in lines)
    assert "4 packets transmitted, 4 received, 0% packet loss" in "\n".join(lines)
    assert net["r2"].stats["ip.forwarded"] == 8  # 4 requests + 4 replies


def test_traceroute_lists_the_hops_in_order():
    net = chain(3)
    res = net.run_app(traceroute(net["client"], "10.0.2.10", name_of=net.name_of))
    assert res.reached
    assert [h.addresses for h in res.hops] == [["10.0.1.1"], ["10.1.1.2"], ["10.1.2.2"], ["10.0.2.10"]]
    rtts = [h.probes[0].rtt for h in res.hops]
    assert rtts == sorted(rtts)


def test_traceroute_shows_stars_for_a_silent_hop():
    net = chain(3)
    net["r2"].ip.icmp_error = lambda *a, **k: None  # r2 forwards but never answers (a firewalled router)
    res = net.run_app(traceroute(net["client"], "10.0.2.10", wait=NS_PER_S))
    assert res.reached
    assert res.hops[1].addresses == [] and all(p.source is None for p in res.hops[1].probes)
    assert res.hops[2].addresses == ["10.1.2.2"]


def test_router_down_mid_ping_loses_packets_and_counters_say_why():
    net = chain(3)
    net.reconverge = None  # no other path anyway
    net.at("2500ms", net.node_down, "r2")
    net.at("5500ms", net.node_up, "r2")
    res = net.run_app(ping(net["client"], "10.0.2.10", count=8, timeout=2 * NS_PER_S))
    got = sorted(r.seq for r in res.replies)
    assert got == [1, 2, 3, 7, 8]  # requests 4, 5, 6 (sent at 3s, 4s, 5s) went into a dead router
    assert net.counters()["drop.node-down"] == 3
    assert net.stats["drop.node-down"] == 3
    assert net["r2"].stats["ip.forwarded"] == 2 * 3 + 2 * 2


def test_4000_byte_ping_across_1500_mtu_is_fragmented_and_reassembled():
    net = chain(3)
    rec = Recorder()
    net.tracer.subscribe(rec)
    res = net.run_app(ping(net["client"], "10.0.2.10", count=1, size=4000))
    assert res.received == 1 and res.replies[0].size == 4008
    frags = rec.where(node="client", event="fragment")
    assert len(frags) == 3
    lengths = [len(e.packet) for e in frags]
    assert lengths == [1500, 1500, 4028 - 2 * 1480]
    offsets = [int.from_bytes(e.packet[6:8], "big") & 0x1FFF for e in frags]
    assert offsets == [0, 185, 370]
    assert net["server"].stats["ip.reassembled"] == 1
    assert net["client"].stats["ip.reassembled"] == 1  # the reply was fragmented too
    # Routers forward the fragments without reassembling them.
    assert net["r1"].stats["ip.forwarded"] == 6 and net["r1"].stats["ip.reassembled"] == 0


def test_router_fragments_at_a_smaller_egress_mtu():
    net = chain(3)
    net.link("r2:eth1").set_params(mtu=576)
    net["r2"].interfaces["eth1"].mtu = 576
    net["r3"].interfaces["eth0"].mtu = 576
    res = net.run_app(ping(net["client"], "10.0.2.10", count=1, size=1400))
    assert res.received == 1
    assert net["r2"].stats["ip.fragmented"] == 1
    assert net["server"].stats["ip.reassembled"] == 1


def test_df_set_too_big_for_a_link_gets_frag_needed_with_mtu():
    net = chain(3)
    net.link("r2:eth1").set_params(mtu=1000)
    net["r2"].interfaces["eth1"].mtu = 1000
    lines = []
    res = net.run_app(ping(net["client"], "10.0.2.10", count=1, size=1400, df=True, out=lines.append))
    assert res.received == 0
    assert res.errors[0].source == "10.1.1.2"
    assert "Frag needed and DF set (mtu = 1000)" in res.errors[0].text
    assert net["r2"].stats["drop.frag-needed"] == 1


def test_asymmetric_routes_show_a_different_way_back():
    topo = loads(example_text(), "example")
    net = topo.network
    there = net.run_app(traceroute(net["client"], net["server"].address))
    back = net.run_app(traceroute(net["server"], net["client"].address))
    names_there = [net.name_of(h.addresses[0]) for h in there.hops]
    names_back = [net.name_of(h.addresses[0]) for h in back.hops]
    assert names_there == ["r1", "r2", "r4", "server"]
    assert names_back == ["r4", "r3", "r1", "client"]
    net.close()


def test_routes_reconverge_around_a_dead_router():
    topo = loads(example_text(), "example")
    net = topo.network
    net.at("1500ms", net.node_down, "r2")
    res = net.run_app(ping(net["client"], net["server"].address, count=6))
    seqs = [r.seq for r in res.replies]
    assert 1 in seqs and 2 in seqs and 5 in seqs and 6 in seqs
    assert len(seqs) < 6  # something was lost before the routers reconverged
    path = net.run_app(traceroute(net["client"], net["server"].address))
    assert [net.name_of(h.addresses[0]) for h in path.hops] == ["r1", "r3", "r4", "server"]
    net.close()


def test_ping_to_missing_host_gets_host_unreachable_after_arp_gives_up():
    net = chain(1)
    res = net.run_app(ping(net["client"], "10.0.2.99", count=1))
    assert res.received == 0
    assert res.errors[0].text == "Destination Host Unreachable"
    assert net["r1"].stats["drop.arp-failed"] == 1
    assert net["r1"].stats["arp.requests_sent"] >= 3


def test_no_route_gets_net_unreachable():
    net = chain(2)
    res = net.run_app(ping(net["client"], "192.168.7.7", count=1))
    assert res.errors and res.errors[0].text == "Destination Net Unreachable"
    assert net["r1"].stats["drop.no-route"] == 1


def test_udp_to_closed_port_gets_port_unreachable():
    net = chain(1)
    errors = []
    from minternet.transport.udp import CallbackEndpoint
    port = net["client"].udp.bind(0, CallbackEndpoint(lambda *a: None, errors.append))

    async def send():
        net["client"].udp.send(port, "10.0.2.10", 9999, b"hello")
        import asyncio
        await asyncio.sleep(1)

    net.run_app(send())
    assert len(errors) == 1
    err = errors[0]
    assert (err.icmp.type, err.icmp.code) == (3, 3) and err.reporter == "10.0.2.10"
    assert (err.src, err.sport, err.dst, err.dport) == ("10.0.1.10", port, "10.0.2.10", 9999)
    assert err.errno == errno.ECONNREFUSED and err.fatal
    assert net["server"].stats["drop.port-unreachable"] == 1


def test_ttl_too_small_gets_time_exceeded_from_the_router():
    net = chain(3)
    res = net.run_app(ping(net["client"], "10.0.2.10", count=1, ttl=2))
    assert res.errors[0].source == "10.1.1.2" and res.errors[0].text == "Time to live exceeded"
    assert net["r2"].stats["drop.ttl-exceeded"] == 1
