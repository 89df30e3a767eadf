"""Links: serialisation and propagation delay, drop-tail queue, loss, duplication, reordering,
corruption, MTU, up/down; every drop counted and traced with its reason."""

import asyncio

import pytest

from minternet.observe.trace import Recorder
from minternet.sim.network import Network
from minternet.transport.udp import CallbackEndpoint


def pair(seed=1, **link):
    net = Network(seed=seed)
    a = net.add_host("a", {"eth0": "10.0.0.1/24"})
    b = net.add_host("b", {"eth0": "10.0.0.2/24"})
    net.connect("a:eth0", "b:eth0", **link)
    got = []
    b.udp.bind(7, CallbackEndpoint(lambda data, src, dst, ip: got.append((net.now, data))))
    a.arp.learn(b.interfaces["eth0"].ip, b.interfaces["eth0"].mac)  # no ARP in the way
    net.run("100ms")  # let the start-up announcements (gratuitous ARP) pass
    net.stats.clear()
    got.clear()
    return net, a, b, got


def blast(net, a, n, size=100, gap=0):
    async def go():
        for i in range(n):
            a.udp.send(5000, "10.0.0.2", 7, i.to_bytes(4, "big") + bytes(size - 4))
            if gap:
                await asyncio.sleep(gap / 1e9)
        await asyncio.sleep(1)
    net.run_app(go())


def test_serialisation_plus_propagation_delay():
    net, a, b, got = pair(delay="10ms", bandwidth="1Mbps")
    blast(net, a, 2, size=1000)
    frame = 14 + 20 + 8 + 1000
    ser = frame * 8 * 1000  # ns at 1 Mbit/s
    t0 = 100_000_000
    assert got[0][0] == t0 + ser + 10_000_000
    assert got[1][0] == t0 + 2 * ser + 10_000_000  # queued behind the first


def test_drop_tail_queue():
    net, a, b, got = pair(delay="1ms", bandwidth="1Mbps", queue=5)
    rec = Recorder()
    net.tracer.subscribe(rec)
    blast(net, a, 20)
    assert len(got) == 5
    assert net.stats["drop.queue-full"] == 15
    assert len(rec.where(event="drop", reason="queue-full")) == 15


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_loss_rate_is_about_right_and_counted(p):
    net, a, b, got = pair(loss=p, bandwidth=None)
    blast(net, a, 2000)
    lost = net.stats["drop.link-loss"]
    assert lost + len(got) == 2000
    assert abs(lost / 2000 - p) < 0.05


def test_duplication():
    net, a, b, got = pair(duplicate=0.3)
    blast(net, a, 500)
    assert len(got) == 500 + net.stats["link.duplicated"]
    assert 100 < net.stats["link.duplicated"] < 200


def test_reordering_lets_later_frames_pass():
    net, a, b, got = pair(reorder=0.2, delay="5ms")
    blast(net, a, 200, gap=1_000_000)
    order = [int.from_bytes(d[:4], "big") for _, d in got]
    assert sorted(order) == list(range(200))
    assert order != list(range(200))
    assert net.stats["link.reordered"] > 10


def test_corruption_is_caught_by_checksums_and_dropped():
    net, a, b, got = pair(corrupt=1.0)
    blast(net, a, 50)
    drops = b.stats["drop.bad-checksum"] + sum(v for k, v in b.stats.items() if k.startswith("drop.malformed"))
    delivered_bad = [d for _, d in got if d[4:] != bytes(96)]
    # A flipped bit is caught by the IP or UDP checksum, or breaks a header field.
    assert not delivered_bad
    assert drops + len(got) + b.stats["drop.port-unreachable"] + b.stats["drop.not-for-us"] \
        + b.stats["drop.protocol-unreachable"] + b.stats["link.filtered"] >= 45


def test_link_down_drops_with_reason_and_up_restores():
    net, a, b, got = pair()
    link = net.links[0]
    net.link_down(link)
    blast(net, a, 3)
    assert not got and net.stats["drop.link-down"] == 3
    net.link_up(link)
    blast(net, a, 3)
    assert len(got) == 3


def test_mtu_sets_interfaces_and_big_datagrams_fragment():
    net, a, b, got = pair(mtu=576)
    assert a.interfaces["eth0"].mtu == 576
    blast(net, a, 1, size=2000)
    assert len(got) == 1 and len(got[0][1]) == 2000
    assert a.stats["ip.fragments_created"] == 4


@pytest.mark.parametrize("kw", [{"mtu": "abc"}, {"mtu": -5}, {"mtu": 0}, {"mtu": 20}, {"mtu": 1500.5},
                                {"mtu": True}, {"mtu": 70_000}, {"queue": 0}, {"queue": -1}, {"queue": 2.5},
                                {"back": {"mtu": 10}}])
def test_connect_refuses_an_mtu_or_queue_the_topology_file_would_refuse_naming_it(kw):
    # As a topology file: an MTU is 68..65535 bytes (Linux's IPv4 minimum; mtu 0 dropped every
    # frame, "abc" or 1500.5 became the interfaces' MTU), a queue at least one frame.
    net = Network(seed=1)
    a = net.add_host("a", {"eth0": "10.0.0.1/24"})
    net.add_host("b", {"eth0": "10.0.0.2/24"})
    with pytest.raises(ValueError, match="mtu|queue"):
        net.connect("a:eth0", "b:eth0", **kw)
    assert a.interfaces["eth0"].mtu == 1500 and not net.links
    net.connect("a:eth0", "b:eth0", mtu=68, queue=1)  # the ends are free again
    assert a.interfaces["eth0"].mtu == 68


def test_one_interface_given_for_both_ends_is_refused_as_such():
    # It said "a:eth0 is already connected to a link", which it was not (and stays free).
    net = Network(seed=1)
    a = net.add_host("a", {"eth0": "10.0.0.1/24"})
    net.add_host("b", {"eth0": "10.0.0.2/24"})
    for other in ("a:eth0", a.interfaces["eth0"]):
        with pytest.raises(ValueError, match="a:eth0 is given for both ends"):
            net.connect("a:eth0", other)
    net.connect("a:eth0", "b:eth0")
    with pytest.raises(ValueError, match="a:eth0 is already connected to a link"):
        net.connect("a:eth0", "b:eth0")


def test_set_params_takes_the_units_connect_takes_and_back_sets_the_far_interface_mtu():
    from minternet.sim.network import Network
    net = Network()
    net.add_host("a", {"eth0": "10.0.0.1/24"})
    net.add_host("b", {"eth0": "10.0.0.2/24"})
    link = net.connect("a:eth0", "b:eth0", delay="1ms", mtu=1400, back={"mtu": 1000})
    # Each interface sends on its own direction: b's packets must fit the b->a MTU.
    assert net["a"].interfaces["eth0"].mtu == 1400 and net["b"].interfaces["eth0"].mtu == 1000
    link.set_params(delay="5ms", bandwidth="10Mbps")
    assert link.ab.params.delay == link.ba.params.delay == 5_000_000
    assert link.ab.params.bandwidth == 10_000_000
