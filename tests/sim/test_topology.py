"""Topology files: what loads, and how every kind of mistake is reported (file, line, fix)."""

import textwrap

import pytest

from minternet.sim.example import example_text
from minternet.sim.topology import TopologyError, load, loads

GOOD = textwrap.dedent("""\
    seed = 7

    [[host]]
    name = "client"
    interfaces = { eth0 = "10.0.1.10/24" }
    gateway = "10.0.1.1"

    [[router]]
    name = "r1"
    interfaces = { eth0 = "10.0.1.1/24", eth1 = { address = "10.0.2.1/24", mtu = 1400 } }

    [[host]]
    name = "server"
    interfaces = { eth0 = "10.0.2.10/24" }
    gateway = "10.0.2.1"

    [[link]]
    endpoints = ["client:eth0", "r1:eth0"]
    delay = "5ms"
    bandwidth = "100Mbps"
    loss = 0.01

    [[link]]
    endpoints = ["r1:eth1", "server:eth0"]
    delay = "3ms"
    cost = [1, 5]

    [[route]]
    node = "r1"
    prefix = "192.168.0.0/16"
    via = "10.0.2.10"

    [[event]]
    at = "2s"
    down = "r1"

    [[event]]
    at = "3s"
    up = "r1"

    [[event]]
    at = "4s"
    link = "r1:eth1"
    loss = 0.5
    """)


def error_for(text: str) -> TopologyError:
    with pytest.raises(TopologyError) as info:
        loads(text, "t.toml")
    return info.value


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_good_file_builds_the_network():
    topo = loads(GOOD, "t.toml")
    net = topo.network
    assert net.seed == 7
    assert sorted(net.nodes) == ["client", "r1", "server"]
    assert net["r1"].forwarding and not net["client"].forwarding
    assert net["r1"].interfaces["eth1"].mtu == 1400
    link = net.links[0]
    assert link.ab.params.delay == 5_000_000 and link.ab.params.bandwidth == 100_000_000
    assert link.ab.params.loss == 0.01
    assert (net.links[1].ab.cost, net.links[1].ba.cost) == (1.0, 5.0)
    assert any(str(r).startswith("192.168.0.0/16 via 10.0.2.10") for r in net["r1"].routes)
    assert [t for t, _ in topo.events] == [2 * 10**9, 3 * 10**9, 4 * 10**9]


def test_the_built_in_example_loads():
    net = loads(example_text(), "example").network
    assert {"client", "server", "r1", "r2", "r3", "r4"} <= set(net.nodes)


def test_no_routes_needed_in_a_file():
    net = loads(GOOD, "t.toml").network
    net.start()
    assert any(r.origin == "connected" for r in net["r1"].routes)


@pytest.mark.parametrize("change,needle,expect", [
    # unknown node in a link
    (('"r1:eth0"]', '"r9:eth0"]'), "r9:eth0", "no node named 'r9'"),
    # unknown interface
    (('"r1:eth0"]', '"r1:eth7"]'), "r1:eth7", "r1 has no interface 'eth7' (it has eth0, eth1)"),
    # duplicate address
    (('server"\ninterfaces = { eth0 = "10.0.2.10/24" }', 'server"\ninterfaces = { eth0 = "10.0.1.10/24" }'),
     'eth0 = "10.0.1.10/24" }\ngateway = "10.0.2.1"', "already used by client:eth0"),
    # address outside the link's subnet
    (('eth1 = { address = "10.0.2.1/24"', 'eth1 = { address = "10.0.9.1/24"'), 'endpoints = ["r1:eth1"',
     "not in the same subnet"),
    # bad unit
    (('delay = "5ms"', 'delay = "5 parsecs"'), "5 parsecs", "not a duration"),
    (('delay = "3ms"', 'delay = 3'), "delay = 3", "has no unit"),
    (('bandwidth = "100Mbps"', 'bandwidth = "100MB"'), "100MB", "not a bandwidth"),
    # unknown key, with a suggestion
    (('loss = 0.01', 'lost = 0.01'), "lost = 0.01", "did you mean 'loss'?"),
    (('gateway = "10.0.1.1"', 'gatway = "10.0.1.1"'), "gatway", "did you mean 'gateway'?"),
    # gateway not on a connected subnet
    (('gateway = "10.0.1.1"', 'gateway = "10.0.5.1"'), 'gateway = "10.0.5.1"', "not on any of its subnets"),
    # probability out of range
    (('loss = 0.01', 'loss = 5'), "loss = 5", "probability from 0 to 1"),
    # route via a gateway that is not a neighbour
    (('via = "10.0.2.10"', 'via = "172.16.0.1"'), 'via = "172.16.0.1"', "not on any of its links"),
    # route prefix with host bits
    (('prefix = "192.168.0.0/16"', 'prefix = "192.168.0.1/16"'), "192.168.0.1/16", "did you mean 192.168.0.0/16?"),
    # an event naming nothing
    (('down = "r1"', 'down = "r7"'), 'down = "r7"', "neither a node nor a link"),
    # duplicate node name
    (('name = "server"', 'name = "client"'), 'name = "client"\ninterfaces = { eth0 = "10.0.2.10/24" }',
     "already a node named 'client'"),
    # address without prefix
    (('eth0 = "10.0.1.10/24" }\ngateway', 'eth0 = "10.0.1.10" }\ngateway'), 'eth0 = "10.0.1.10" }',
     "needs a prefix length"),
])
def test_mistakes_name_the_file_the_line_and_the_fix(change, needle, expect):
    old, new = change
    assert old in GOOD, old
    text = GOOD.replace(old, new, 1)
    err = error_for(text)
    assert expect in str(err)
    assert err.path == "t.toml"
    want_line = line_of(text, needle.split("\n")[0]) if "\n" not in needle else \
        text[:text.index(needle)].count("\n") + 1
    assert err.line == want_line, (str(err), want_line)
    assert str(err).startswith(f"t.toml:{want_line}: ")


def test_toml_syntax_error_has_a_line():
    err = error_for(GOOD.replace('delay = "5ms"', 'delay = "5ms'))
    assert err.line == line_of(GOOD, 'delay = "5ms"') and "not valid TOML" in str(err)


def test_unknown_top_level_table():
    err = error_for(GOOD + '\n[[hots]]\nname = "x"\n')
    assert "unknown key 'hots'" in str(err) and "did you mean 'host'?" in str(err)


def test_interface_linked_twice_suggests_a_switch():
    text = GOOD + '\n[[link]]\nendpoints = ["client:eth0", "r1:eth1"]\n'
    err = error_for(text)
    assert "already connected" in str(err) and "[[switch]]" in str(err)


def test_switch_segment_must_be_one_subnet():
    text = textwrap.dedent("""\
        [[host]]
        name = "a"
        interfaces = { eth0 = "10.0.0.1/24" }
        [[host]]
        name = "b"
        interfaces = { eth0 = "10.0.9.2/24" }
        [[switch]]
        name = "lan"
        [[link]]
        endpoints = ["a:eth0", "lan"]
        [[link]]
        endpoints = ["b:eth0", "lan"]
        """)
    err = error_for(text)
    assert err.line == 7 and "different subnets" in str(err)


def test_missing_file():
    with pytest.raises(TopologyError, match="cannot read"):
        load("/nonexistent/topology.toml")


TCP_HOSTS = textwrap.dedent("""\
    [[host]]
    name = "a"
    interfaces = { eth0 = "10.0.0.1/24" }
    tcp = { rto_min = "1s" }

    [[host]]
    name = "b"
    interfaces = { eth0 = "10.0.0.2/24" }
    tcp = { %s }
    """)


def test_a_host_s_tcp_table_sets_its_connections_defaults():
    net = loads(TCP_HOSTS % 'rto_min = "50ms"', "t.toml").network
    assert net["a"].tcp.defaults.min_rto == 1_000_000_000  # RFC 6298 2.4's minimum
    assert net["b"].tcp.defaults.min_rto == 50_000_000


@pytest.mark.parametrize("body, words", [
    ('rto_mim = "1s"', ["unknown key 'rto_mim'", "valid keys: rto_min", "did you mean 'rto_min'?"]),
    ('rto_min = "1 parsec"', ["rto_min", "not a duration"]),
    ('rto_min = "200s"', ["at most 120s"]),
])
def test_mistakes_in_a_tcp_table_name_the_line_and_what_is_valid(body, words):
    text = TCP_HOSTS % body
    err = error_for(text)
    assert err.line == line_of(text, body)
    for w in words:
        assert w in err.message, err.message
