"""DNSRegistrar.readdress: a registered name moves to a new address; its zone answers the new one."""

import pytest

from minternet.sim.example import load_example
from minternet.wire.dns import RRType


def test_readdress_replaces_the_a_record_and_the_https_hint():
    net = load_example(seed=1, out=lambda line: None).network
    net.dns.readdress("example.com", "10.0.2.20")
    zone = net.dns.authority_on(net.host("ns-example")).zone("example.com")
    assert [rr.data.address for rr in zone.get("example.com", RRType.A)] == ["10.0.2.20"]
    hint = dict(zone.get("example.com", RRType.HTTPS)[0].data.params)[4]
    assert hint == bytes([10, 0, 2, 20])
    assert net.dns.domains["example.com"][0] == "10.0.2.20"


def test_readdress_of_an_unregistered_name_says_which_are():
    net = load_example(seed=1, out=lambda line: None).network
    with pytest.raises(ValueError, match="not registered.*example.com"):
        net.dns.readdress("nowhere.com", "10.0.2.20")
