"""Domain registration and DNS roles, from Python and from topology files."""

import textwrap

import pytest

from minternet.application.dns.resolver import RecursiveResolver
from minternet.sim.network import Network
from minternet.sim.topology import TopologyError, loads
from minternet.wire.dns import RRType


def small_internet():
    net = Network(seed=2)
    net.add_router("r", {"eth0": "10.0.0.1/24", "eth1": "10.1.0.1/24"})
    for i, name in enumerate(["root", "tld", "auth", "res", "web"], start=10):
        net.add_host(name, {"eth0": f"10.1.0.{i}/24"}, gateway="10.1.0.1")
    net.add_host("pc", {"eth0": "10.0.0.10/24"}, gateway="10.0.0.1")
    sw = net.add_switch("sw")
    for name in ["r:eth1", "root:eth0", "tld:eth0", "auth:eth0", "res:eth0", "web:eth0"]:
        net.connect(name, sw, delay="1ms")
    net.connect("pc:eth0", "r:eth0", delay="5ms")
    return net


def test_register_a_domain_from_python():
    net = small_internet()
    net.dns.add_root(net["root"])
    net.dns.add_tld("net", net["tld"])
    zone = net.dns.register("mysite.net", "10.1.0.14", net["auth"])
    assert zone.get("www.mysite.net", RRType.CNAME)
    tld_zone = net.dns.tld_zones["net"]
    assert [rr.data.target for rr in tld_zone.get("mysite.net", RRType.NS)] == ["ns1.mysite.net"]
    assert [rr.data.address for rr in tld_zone.get("ns1.mysite.net", RRType.A)] == ["10.1.0.12"]  # glue
    net.dns.add_resolver(net["res"])
    net.dns.use_nameserver(net["pc"], "10.1.0.13")
    assert net.run_app(net["pc"].resolve("www.mysite.net")) == "10.1.0.14"
    net.close()


def test_registering_under_a_missing_tld_says_which_exist():
    net = small_internet()
    net.dns.add_root(net["root"])
    net.dns.add_tld("com", net["tld"])
    with pytest.raises(ValueError, match="no server for the top-level domain 'org' \\(have: com\\)"):
        net.dns.register("example.org", "10.1.0.14", net["auth"])


def test_two_roots_both_serve_and_are_in_the_hints():
    net = small_internet()
    net.dns.add_root(net["root"])
    net.dns.add_root(net["res"])
    assert [n for n, _ in net.dns.root_hints] == ["a.root-servers.net", "b.root-servers.net"]
    net.dns.add_tld("com", net["tld"])
    net.dns.register("example.com", "10.1.0.14", net["auth"])
    r = RecursiveResolver(net["pc"], net.dns.root_hints)
    assert net.run_app(r.resolve("example.com")).addresses == ["10.1.0.14"]
    net.close()


BASE = textwrap.dedent("""\
    [[host]]
    name = "root"
    interfaces = { eth0 = "10.0.0.1/24" }
    dns = "root"

    [[host]]
    name = "com"
    interfaces = { eth0 = "10.0.0.2/24" }
    dns = { role = "tld", zone = "com" }

    [[host]]
    name = "ns"
    interfaces = { eth0 = "10.0.0.3/24" }
    dns = { role = "authoritative", zone_files = ["shop.zone"] }

    [[host]]
    name = "res"
    interfaces = { eth0 = "10.0.0.4/24" }
    dns = "resolver"

    [[host]]
    name = "pc"
    interfaces = { eth0 = "10.0.0.5/24" }
    nameserver = "10.0.0.4"
    hosts = { "nas.home" = "10.0.0.99" }

    [[switch]]
    name = "sw"

    [[link]]
    endpoints = ["root:eth0", "sw"]
    [[link]]
    endpoints = ["com:eth0", "sw"]
    [[link]]
    endpoints = ["ns:eth0", "sw"]
    [[link]]
    endpoints = ["res:eth0", "sw"]
    [[link]]
    endpoints = ["pc:eth0", "sw"]

    [[domain]]
    name = "example.com"
    address = "10.0.0.80"
    server = "ns"
    """)

SHOP_ZONE = textwrap.dedent("""\
    $ORIGIN shop.example.
    $TTL 60
    @   IN SOA ns hostmaster 1 3600 600 86400 60
        IN NS ns
    ns  IN A 10.0.0.3
    @   IN A 10.0.0.81
    """)


def test_topology_file_with_dns_roles_domains_zone_files_and_hosts_table(tmp_path):
    (tmp_path / "shop.zone").write_text(SHOP_ZONE)
    f = tmp_path / "net.toml"
    f.write_text(BASE)
    from minternet.sim.topology import load
    net = load(str(f)).network
    pc = net["pc"]

    async def main():
        return (await pc.resolve("www.example.com"), await pc.resolve("nas.home"))

    assert net.run_app(main()) == ("10.0.0.80", "10.0.0.99")
    assert net.dns.authorities["ns"].zone("shop.example") is not None
    net.close()


@pytest.mark.parametrize("change,expect", [
    (('dns = "resolver"', 'dns = "resolvr"'), "dns must be one of"),
    (('dns = { role = "tld", zone = "com" }', 'dns = { role = "tld" }'), "needs zone"),
    (('server = "ns"', 'server = "pc"'), "is not a DNS server"),
    (('name = "example.com"', 'name = "example.org"'), "no server for the top-level domain 'org'"),
    (('nameserver = "10.0.0.4"', 'nameserver = "resolver"'), "not an IPv4 address"),
    (('zone_files = ["shop.zone"]', 'zone_files = ["missing.zone"]'), "cannot read zone file"),
])
def test_dns_mistakes_are_reported_with_lines(tmp_path, change, expect):
    (tmp_path / "shop.zone").write_text(SHOP_ZONE)
    text = BASE.replace(*change)
    with pytest.raises(TopologyError) as info:
        loads(text, str(tmp_path / "net.toml"))
    assert expect in str(info.value)
    assert info.value.line is not None


def test_zone_file_error_points_into_the_zone_file(tmp_path):
    (tmp_path / "shop.zone").write_text(SHOP_ZONE.replace("IN A 10.0.0.81", "IN A 10.0.0.999"))
    with pytest.raises(TopologyError) as info:
        loads(BASE, str(tmp_path / "net.toml"))
    assert info.value.path.endswith("shop.zone") and info.value.line == 6


def test_zone_file_warnings_reach_check_and_the_commands(tmp_path, capsys):
    (tmp_path / "shop.zone").write_text(SHOP_ZONE + "@ 300 IN A 10.0.0.82\n")
    f = tmp_path / "net.toml"
    f.write_text(BASE)
    from minternet.cli import main
    from minternet.sim.topology import load
    topo = load(str(f))
    topo.network.close()
    warning = f"{tmp_path / 'shop.zone'}:7: TTL set to prior TTL (60)"
    assert topo.warnings == [warning]
    assert main(["check", str(f)]) == 0
    assert f"warning: {warning}\n" in capsys.readouterr().out
    assert main(["routes", "-t", str(f), "pc"]) == 0
    assert f"minternet: warning: {warning}\n" in capsys.readouterr().err
