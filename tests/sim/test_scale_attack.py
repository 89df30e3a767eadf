"""Issue 17 under attack: the scalable routes, routing table, flooding switch, freed queues and
lazy random sources against their straightforward counterparts, on the cases a big network meets."""

import math

import pytest

from minternet.sim import routes as routes_mod
from minternet.sim.network import Network
from minternet.sim.topology import TopologyError, loads

from .test_topology import GOOD, line_of


def _lan_behind_router(cost):
    net = Network(seed=1)
    net.add_host("a", {"eth0": "10.0.0.1/24"})
    net.add_router("r", {"eth0": "10.0.0.2/24", "eth1": "10.0.1.1/24"})
    net.add_host("b", {"eth0": "10.0.1.2/24"})
    sw = net.add_switch("sw")
    net.connect("a:eth0", sw, cost=cost)
    net.connect("r:eth0", sw)
    net.connect("r:eth1", "b:eth0")
    return net


@pytest.mark.parametrize("cost", [math.inf, -math.inf, math.nan, -1.0, (1.0, math.inf), (math.nan, 1.0)])
def test_a_cost_that_is_not_a_finite_number_at_least_zero_is_refused(cost):
    """inf (accepted before) crashed the route computation; NaN and negative costs gave routes
    of cost nan or paths Dijkstra cannot find."""
    with pytest.raises(ValueError, match="cost"):
        _lan_behind_router(cost)


@pytest.mark.parametrize("value", ["inf", "nan", "[1, inf]", "-inf"])
def test_a_topology_file_with_an_infinite_cost_names_the_line_and_key(value):
    text = GOOD.replace("cost = [1, 5]", f"cost = {value}", 1)
    with pytest.raises(TopologyError) as info:
        loads(text, "t.toml")
    err = info.value
    assert err.path == "t.toml" and err.line == line_of(text, f"cost = {value}")
    assert "cost" in str(err)


def test_zero_costs_still_give_routes():
    net = _lan_behind_router(0.0)
    assert [(r.prefix, r.gateway) for r in routes_mod.compute_routes(net)["a"]] == [("10.0.1.0/24", "10.0.0.2")]


# -- the fast Dijkstra against the label-by-label one, on random small internets ----------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@st.composite
def small_internets(draw):
    """Routers, hosts (some with several interfaces on one switch) and switches, linked at random
    with small integer costs (many ties), per direction; parallel links; some nodes and links down."""
    n_r, n_h, n_s = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(0, 3))
    names = [f"r{i}" for i in range(n_r)] + [f"h{i}" for i in range(n_h)] + [f"s{i}" for i in range(n_s)]
    links = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names),
                                    st.sampled_from([0, 1, 2, 3, 3]), st.sampled_from([1, 2, 3, 0])),
                          max_size=14))
    links = [(a, b, ca, cb) for a, b, ca, cb in links if a != b]
    ifaces = {n: {} for n in names if not n.startswith("s")}
    plan = []
    for k, (a, b, ca, cb) in enumerate(links):
        ends = []
        for end, other in ((a, b), (b, a)):
            if end.startswith("s"):
                ends.append(end)
                continue
            # On a switch, the switch's subnet (several interfaces of a host may share it);
            # on a direct link, a /30 of its own.
            if other.startswith("s"):
                addr = f"10.{int(other[1:]) + 1}.0.{len(ifaces[end]) * 10 + int(end[1:]) + 2 + (50 if end[0] == 'h' else 0)}/24"
            else:
                addr = f"10.100.{k}.{1 if end == a else 2}/30"
            name = f"eth{len(ifaces[end])}"
            ifaces[end][name] = addr
            ends.append(f"{end}:{name}")
        plan.append((ends, ca, cb))
    net = Network(seed=1)
    for n in names:
        if n.startswith("r"):
            net.add_router(n, ifaces[n])
        elif n.startswith("h"):
            net.add_host(n, ifaces[n])
        else:
            net.add_switch(n)
    sw = {n: net.nodes[n] for n in names if n.startswith("s")}
    for (ea, eb), ca, cb in plan:
        net.connect(sw.get(ea, ea), sw.get(eb, eb), cost=(float(ca), float(cb)))
    for link in net.links:
        if draw(st.integers(0, 7)) == 0:
            link.up = False
    for n in names:
        if draw(st.integers(0, 7)) == 0:
            net.nodes[n].power_off()
    return net


def _unpruned_reference(net, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(routes_mod._Graph, "_prune_dominated_hosts",
                  lambda self: setattr(self, "dominated", bytearray(len(self.names))))
        g = routes_mod._Graph(net)
        return routes_mod._compute_reference(net, g, sorted(net.nodes))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(small_internets())
def test_fast_routes_equal_the_unpruned_label_by_label_ones(monkeypatch, net):
    """Ties, parallel links, asymmetric costs, nodes and links down, several interfaces on one
    subnet, subnets owned by a router and a host: cost, path and first hop, route by route."""
    try:
        fast = routes_mod.compute_routes(net)
    except ValueError as e:  # an address given twice by the generator: not a routing case
        pytest.skip(str(e))
    assert fast == _unpruned_reference(net, monkeypatch)


# -- recomputation after a failure and its repair ----------------------------------------------

from minternet.sim.generate import lans  # noqa: E402

from .route_topologies import odd, route_tables  # noqa: E402


@pytest.mark.parametrize("make,node,link", [(odd, "r5", "r0:eth2"), (odd, "multi", "r1:eth2"),
                                            (lambda: lans(4, 3), "r0-1", "r0-0:eth1"),
                                            (lambda: lans(4, 3), "h0-1", "r1-1:eth1")])
def test_after_failure_and_repair_the_tables_are_the_fresh_ones(make, node, link):
    net = make()
    net.start()
    fresh = route_tables(make())
    net.node_down(node)
    net.link_down(link)
    net.run("3s")
    net.node_up(node)
    net.link_up(link)
    net.run("6s")
    assert route_tables(net) == fresh


# -- the routing table against a brute force --------------------------------------------------

import ipaddress  # noqa: E402
import socket  # noqa: E402

from minternet.internet.routing import Route, RoutingTable  # noqa: E402


class _If:
    def __init__(self, name):
        self.name = name


_IFS = [_If("eth0"), _If("eth1"), _If("eth2")]
_prefixes = st.builds(lambda a, n: f"{ipaddress.IPv4Address(a)}/{n}",
                      st.sampled_from([0, 0x0A000000, 0x0A010000, 0x0A0100FF, 0xFFFFFFFF, 0x0A018000]),
                      st.sampled_from([0, 1, 8, 16, 17, 24, 31, 32]))
_route_args = st.tuples(_prefixes, st.sampled_from(range(3)), st.sampled_from([0, 1, 2]),
                        st.sampled_from(["static", "computed", "connected"]))
_ops = st.one_of(
    st.tuples(st.just("add"), _route_args),
    st.tuples(st.just("remove"), st.tuples(st.sampled_from([None, "static", "computed"]),
                                           st.sampled_from([None, 0, 1]))),
    st.tuples(st.just("replace"), st.tuples(st.sampled_from(["computed", "static"]),
                                            st.lists(_route_args, max_size=5))),
    st.tuples(st.just("lookup"), st.sampled_from([0, 0x0A000001, 0x0A0100FF, 0x0A018001, 0xFFFFFFFF,
                                                  0x0A010001, 0x80000000])),
)


def _route(args, origin=None):
    prefix, i, metric, o = args
    net = ipaddress.IPv4Network(prefix, strict=False)
    return Route(int(net.network_address), net.prefixlen, _IFS[i], None, metric, origin or o)


def _brute(routes, d):
    best = None
    for r in routes:
        mask = (0xFFFFFFFF << (32 - r.prefixlen)) & 0xFFFFFFFF if r.prefixlen else 0
        if d & mask != r.network:
            continue
        if best is None or (r.prefixlen, -r.metric) > (best.prefixlen, -best.metric):
            best = r
    return best


@settings(max_examples=600, deadline=None)
@given(st.lists(_ops, max_size=25))
def test_routing_table_matches_a_brute_force(ops):
    """Longest prefix, then lowest metric, then first added; /0 and /32; cached lookups stay
    right across add, remove and replace; the generation moves whenever an answer may change."""
    table = RoutingTable()
    model: list[Route] = []
    for op, arg in ops:
        gen = table.generation
        before = {d: _brute(model, d) for d in range(0, 1 << 32, 1 << 28)}
        if op == "add":
            prefix, i, metric, origin = arg
            table.add(prefix, _IFS[i], None, metric, origin)
            model.append(_route(arg))
        elif op == "remove":
            origin, i = arg
            iface = None if i is None else _IFS[i]
            table.remove(origin=origin, iface=iface)
            model = [r for r in model if not ((origin is None or r.origin == origin)
                                              and (iface is None or r.iface is iface))]
        elif op == "replace":
            origin, args = arg
            new = [_route(a, origin) for a in args]
            old = [r for r in model if r.origin == origin]
            changed = table.replace(origin, new)
            assert changed == (old != new)
            if old != new:
                model = [r for r in model if r.origin != origin] + new
        else:
            got = table.lookup(arg.to_bytes(4, "big"))
            assert got == _brute(model, arg)
            assert table.lookup_str(socket.inet_ntoa(arg.to_bytes(4, "big"))) == got
            continue
        if table.generation == gen:
            assert {d: _brute(model, d) for d in before} == before
        assert table.routes() == model
        for d in (0, 0x0A000001, 0x0A0100FF, 0x0A018001, 0xFFFFFFFF):
            assert table.lookup(d.to_bytes(4, "big")) == _brute(model, d)


# -- a host's lazy random source ----------------------------------------------------------------

import random  # noqa: E402

from minternet.sim.lazyrandom import LazyRandom  # noqa: E402


def test_a_draw_that_raised_is_not_replayed():
    """randrange(0) raises and draws nothing: replaying it when the source is made again raised
    at the next, unrelated draw."""
    lazy, plain = LazyRandom("s"), random.Random("s")
    lazy.getrandbits(7), plain.getrandbits(7)
    with pytest.raises(ValueError):
        lazy.randrange(0)
    lazy.release()
    assert lazy.released
    assert [lazy.random(), lazy.randrange(10, 99)] == [plain.random(), plain.randrange(10, 99)]


# -- generated internets: bad sizes ------------------------------------------------------------

from minternet.sim.generate import grid  # noqa: E402


@pytest.mark.parametrize("kw", [dict(rows=-1, cols=3), dict(rows=2, cols=-3), dict(rows=-2, cols=-3),
                                dict(rows=2.5, cols=2), dict(routers=10**18), dict(routers=2.0)])
def test_grid_with_a_bad_size_says_so(kw):
    """Negative rows gave an IndexError from inside the builder; a huge router count searched its
    divisors for minutes before saying it was too many."""
    with pytest.raises(ValueError, match="grid"):
        grid(**kw)


@pytest.mark.parametrize("kw", [dict(lans=2.5), dict(hosts_per_lan=3.0), dict(lans=0), dict(hosts_per_lan=254)])
def test_lans_with_a_bad_size_says_so(kw):
    with pytest.raises(ValueError, match="lans|hosts_per_lan"):
        lans(**kw)


import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

SCALE = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


@pytest.mark.parametrize("args,says", [(["--grids", "0", "--lans="], "--grids"), (["--grids=-5", "--lans="], "--grids"),
                                       (["--lans", "150", "--grids="], "--lans"), (["--lans", "0", "--grids="], "--lans"),
                                       (["--sample", "0", "--grids", "4", "--lans="], "--sample"),
                                       (["--grids", "2000000", "--lans="], "--grids")])
def test_bench_scale_refuses_bad_sizes_before_it_runs_anything(args, says):
    """They ran a child each, which died with a traceback (or a ZeroDivisionError for
    --sample 0) deep in the builder."""
    out = subprocess.run([sys.executable, str(SCALE), *args, "--no-extras"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert says in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


# -- a broadcast flooded as one event, against one send per port -------------------------------

import asyncio  # noqa: E402

from minternet.sim import switch as switch_mod  # noqa: E402


def _flood_per_port(self, in_port, frame):  # the switch before issue 17
    for port in self.ports:
        if port is not in_port and port.channel is not None:
            port.channel.send(frame)


def _broadcast_storm():
    """Bursts of UDP broadcasts of several sizes onto a switch whose ports have every kind of
    line: slow, lossy, small MTU, slow with a short queue, duplicating, jittery; one link goes
    down while copies are on it, a receiver dies and comes back. Every receiver is a program,
    woken by each datagram. What each program got, when, and the counters of every link."""
    import socket
    log = []
    net = Network(seed=5)
    sw = net.add_switch("sw")
    hosts = [net.add_host(f"h{i}", {"eth0": f"10.0.0.{i + 1}/24"}) for i in range(9)]
    kinds = {1: dict(delay="5ms"), 2: dict(delay="1ms"), 3: dict(loss=0.3), 4: dict(mtu=200),
             5: dict(bandwidth="1Mbps", queue=2), 6: dict(delay="2ms", duplicate=0.3),
             7: dict(delay="1ms", jitter="300us"), 8: dict(bandwidth="10Mbps", queue=3)}
    for i, h in enumerate(hosts):
        net.connect(f"{h.name}:eth0", sw, **kinds.get(i, {"delay": "1ms"}))

    async def rx(name):
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 9))
        try:
            while True:
                data, _ = await loop.sock_recvfrom(s, 4096)
                log.append((loop.time(), name, len(data), data[:2]))
        except asyncio.CancelledError:
            s.close()

    tasks = [net.spawn(rx(h.name), on=h) for h in hosts[1:]]

    async def tx():
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        for burst in range(4):
            for k in range(6):
                s.sendto(bytes([burst, k]) * (50 + 100 * k), ("10.0.0.255", 9))
            await asyncio.sleep(0.003 * (burst + 1))
        await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.sleep(0.001)

    net.at("4ms", net.link_down, "h1:eth0")
    net.at("9ms", net.link_up, "h1:eth0")
    net.at("10500us", net.node_down, "h2")
    net.at("12ms", net.node_up, "h2")
    net.run_app(tx(), on=hosts[0], timeout="1s")
    links = {link.name: (dict(link.stats), link.ab.sent, link.ab.delivered, link.ba.sent, link.ba.delivered)
             for link in net.links}
    return log, links, dict(net.stats)


def _arrive_keeping_the_queue(self, frame):  # a line before issue 17: its queue never freed
    if not self.link.up:
        self._drop("link-down", frame, at_dst=True)
        return
    if not self.dst.alive:
        self._drop("node-down", frame, at_dst=True)
        return
    self.delivered += 1
    self.dst.receive(frame)


def test_a_flood_as_one_event_delivers_what_one_send_per_port_did(monkeypatch):
    """... and a line that frees its queue when idle queues (and drops) what one that kept it did."""
    grouped = _broadcast_storm()
    with monkeypatch.context() as m:
        m.setattr(switch_mod.Switch, "_flood", _flood_per_port)
        from minternet.sim.link import Channel
        m.setattr(Channel, "arrive", _arrive_keeping_the_queue)
        per_port = _broadcast_storm()
    assert grouped == per_port
    stats = grouped[2]
    for reason in ("queue-full", "link-loss", "mtu-exceeded", "link-down", "node-down"):
        assert stats[f"drop.{reason}"] > 0, reason  # every case above happened
    assert len(grouped[0]) > 50


_draws = st.one_of(
    st.tuples(st.just("randrange"), st.sampled_from([(1,), (256,), (65536,), (10, 20), (0, 100, 7), (0,)])),
    st.tuples(st.just("randint"), st.sampled_from([(1, 1), (49152, 65535), (5, 1)])),
    st.tuples(st.just("getrandbits"), st.sampled_from([(0,), (1,), (8,), (64,), (128,), (-1,)])),
    st.tuples(st.just("randbytes"), st.sampled_from([(0,), (3,), (32,)])),
    st.tuples(st.just("random"), st.just(())),
    st.tuples(st.just("choice"), st.just(([1, 2, 3, 4],))),
    st.tuples(st.just("uniform"), st.just((0, 1))),
    st.tuples(st.just("release"), st.just(())),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_draws, max_size=90))
def test_lazy_random_gives_the_numbers_of_random_random(ops):
    """Any mix of draws (some that raise, more than the log holds), released anywhere."""
    lazy, plain = LazyRandom("seed/host/h1"), random.Random("seed/host/h1")
    for name, args in ops:
        if name == "release":
            lazy.release()
            continue
        try:
            want = getattr(plain, name)(*args)
        except ValueError:
            with pytest.raises(ValueError):
                getattr(lazy, name)(*args)
            continue
        assert getattr(lazy, name)(*args) == want
    lazy.release()
    assert lazy.random() == plain.random()
