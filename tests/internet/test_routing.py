from minternet.host import Host
from minternet.internet.routing import RoutingTable
from minternet.sim.scheduler import Scheduler


def make():
    h = Host("h", Scheduler())
    h.add_interface("eth0", "10.0.0.2/24")
    h.add_interface("eth1", "10.1.0.2/16")
    return h


def test_longest_prefix_wins():
    h = make()
    h.add_route("10.9.0.0/16", "10.0.0.1")
    h.add_route("10.9.8.0/24", "10.1.0.1")
    h.set_gateway("10.0.0.254")
    assert h.routes.lookup_str("10.9.8.7").via == "10.1.0.1"
    assert h.routes.lookup_str("10.9.1.1").via == "10.0.0.1"
    assert h.routes.lookup_str("8.8.8.8").via == "10.0.0.254"
    assert h.routes.lookup_str("10.1.200.3").gateway is None  # connected
    assert h.routes.lookup_str("10.1.200.3").iface.name == "eth1"


def test_no_default_means_no_route():
    h = make()
    assert h.routes.lookup_str("192.0.2.1") is None


def test_lower_metric_wins_among_equal_prefixes_and_cache_is_invalidated():
    h = make()
    h.add_route("172.16.0.0/12", "10.0.0.1", metric=10)
    assert h.routes.lookup_str("172.16.1.1").via == "10.0.0.1"
    h.add_route("172.16.0.0/12", "10.1.0.1", metric=5)
    assert h.routes.lookup_str("172.16.1.1").via == "10.1.0.1"
    h.routes.remove(origin="static")
    assert h.routes.lookup_str("172.16.1.1") is None


def test_gateway_must_be_on_link():
    h = make()
    import pytest
    with pytest.raises(ValueError, match="not on any of its links"):
        h.add_route("1.2.3.0/24", "192.168.1.1")


def test_route_str_reads_like_ip_route():
    h = make()
    r = h.add_route("10.9.0.0/16", "10.0.0.1")
    assert str(r) == "10.9.0.0/16 via 10.0.0.1 dev eth0 proto static metric 0"
    assert isinstance(h.routes, RoutingTable) and len(h.routes) == 3
