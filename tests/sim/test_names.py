"""One rule for node names, the same from Python and from a topology file."""

from __future__ import annotations

import pytest

from minternet.sim.names import check_node_name
from minternet.sim.network import Network
from minternet.sim.topology import TopologyError, loads


@pytest.mark.parametrize("name", ["client", "r1", "ns.example", "LAN_2", "9-to-5"])
def test_valid_names(name: str) -> None:
    assert check_node_name(name) == name


@pytest.mark.parametrize("name", ["", "r1:eth0", "a b", "a,b", "-x", ".x", "a/b", "caf\u00e9", "x\n", 3, None])
def test_invalid_names_say_what_is_valid(name: object) -> None:
    with pytest.raises(ValueError, match=r"bad node name .*: use letters, digits, '-', '_' and '\.'"):
        check_node_name(name)


@pytest.mark.parametrize("add", ["add_host", "add_router", "add_switch"])
def test_network_applies_the_rule_to_every_kind_of_node(add: str) -> None:
    net = Network()
    with pytest.raises(ValueError, match="bad node name 'r1:eth0'"):
        getattr(net, add)("r1:eth0")
    getattr(net, add)("r1")
    with pytest.raises(ValueError, match="already a node named 'r1'; names must be unique"):
        net.add_switch("r1")


def test_topology_file_gives_the_same_message_with_its_line() -> None:
    text = '[[host]]\nname = "client"\n\n[[switch]]\nname = "lan 1"\n'
    with pytest.raises(TopologyError) as exc:
        loads(text, "t.toml")
    assert exc.value.line == 5
    assert str(exc.value).startswith("t.toml:5: [[switch]] #1: bad node name 'lan 1': use letters")
