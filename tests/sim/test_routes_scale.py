"""Issue 17: the scalable route computation gives the routes and traces of the code before it
(recorded in tests/sim/data/routes_before.json by tests/sim/route_topologies.py), and recomputing
after a failure gives what a fresh computation gives."""

import json

import pytest

from minternet.sim import routes as routes_mod
from minternet.sim.generate import grid, lans

from .route_topologies import FIXTURE, odd, odd_failed, route_tables, topologies, trace_digest

BEFORE = json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("name", sorted(BEFORE["routes"]))
def test_route_tables_are_those_of_the_old_code(name):
    net = odd_failed() if name == "odd-after-failure" else topologies()[name]
    assert route_tables(net) == BEFORE["routes"][name]


@pytest.mark.parametrize("name,src,dst", [("example", "client", "server"), ("grid-4x5", "a", "b"),
                                          ("odd", "multi", "gw")])
def test_traces_are_those_of_the_old_code(name, src, dst):
    net = odd() if name == "odd" else topologies()[name]
    assert trace_digest(net, src, dst) == BEFORE["traces"][name]


def _reference(net):
    g = routes_mod._Graph(net)
    return routes_mod._compute_reference(net, g, sorted(net.nodes))


@pytest.mark.parametrize("make", [lambda: grid(rows=6, cols=7), lambda: grid(rows=5, cols=5, delay="100us"),
                                  lambda: lans(6, 4), odd])
def test_fast_dijkstra_equals_the_label_by_label_one(make):
    """Costs, paths and first hops, route by route, against the path-tuple Dijkstra."""
    net = make()
    g = routes_mod._Graph(net)
    if g.exact_order_needed:  # odd() has a zero-delay link: the fast path is checked without it
        for link in net.links:
            if link.ab.cost == 0:
                link.ab.cost = link.ba.cost = 0.25
    assert routes_mod.compute_routes(net) == _reference(net)


def test_recomputation_after_a_failure_equals_a_fresh_computation():
    net = grid(rows=5, cols=6)
    net.start()
    victim = net.link("r2-2:eth0")
    net.link_down(victim)
    net.node_down("r1-3")
    net.run("3s")  # reconverged
    after = route_tables(net)
    fresh = grid(rows=5, cols=6)
    fresh.link(victim.name).up = False
    fresh.nodes["r1-3"].power_off()
    fresh_tables = route_tables(fresh)
    del after["r1-3"], fresh_tables["r1-3"]  # a dead node keeps its old table
    assert after == fresh_tables
    assert net.stats["routing.reconvergences"] == 1


def test_an_unchanged_table_is_left_alone_on_reconvergence():
    net = grid(rows=3, cols=3)
    net.start()
    generations = {h.name: h.routes.generation for h in net.hosts}
    net.link_down("r0-0:eth1")
    net.run("3s")
    changed = {h.name for h in net.hosts if h.routes.generation != generations[h.name]}
    assert "r0-0" in changed
    assert "a" not in changed and "b" not in changed  # hosts with a gateway: nothing computed
    generations = {h.name: h.routes.generation for h in net.hosts}
    net.compute_routes()  # nothing changed since: no table is touched, no route handle goes stale
    assert {h.name: h.routes.generation for h in net.hosts} == generations
