"""Where a URL's name points in a network, found without a packet."""

from __future__ import annotations

from minternet.application.http.where import where_is
from minternet.sim.example import load_example


def test_addresses_node_names_hosts_table_and_zone_records():
    net = load_example(out=lambda line: None).network
    client = net.host("client")
    assert where_is(net, client, "10.9.9.9") == "10.9.9.9"
    assert where_is(net, client, "server") == net.host("server").address
    assert where_is(net, client, "www.example.com") == "10.0.2.10"  # a CNAME to example.com's A
    assert where_is(net, client, "nope.example.com") is None
    client.stub_resolver.add_host("fixed.test", "10.0.0.99")
    assert where_is(net, client, "fixed.test") == "10.0.0.99"
    assert net.now == 0  # no packet was needed: no time passed
    net.close()
