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
