
from minternet.application.ping import ping
from minternet.sim.network import Network


def lan(n=3):
    net = Network(seed=3)
    sw = net.add_switch("sw")
    hosts = [net.add_host(f"h{i}", {"eth0": f"10.0.0.{i}/24"}) for i in range(1, n + 1)]
    for h in hosts:
        net.connect(f"{h.name}:eth0", sw, delay="1ms")
    return net, sw, hosts


def test_hosts_on_a_switch_reach_each_other():
    net, sw, hosts = lan()
    res = net.run_app(ping(hosts[0], "10.0.0.3", count=2))
    assert res.received == 2
    assert res.replies[1].rtt == 4_000_000 + 4 * 8 * (98 + 0)  # two 1 ms links each way, 1 Gbit/s


def test_switch_learns_and_stops_flooding():
    net, sw, hosts = lan()
    net.run_app(ping(hosts[0], "10.0.0.3", count=3))
    table = {mac: port for mac, port, _ in sw.mac_table()}
    assert table[hosts[0].interfaces["eth0"].mac.hex(":")] == "p1"
    assert table[hosts[2].interfaces["eth0"].mac.hex(":")] == "p3"
    # h2 saw the broadcasts (ARP) but no unicast echo once the switch had learned.
    assert hosts[1].stats["link.filtered"] == 0
    assert sw.stats["forwarded"] >= 5


def test_switch_down_loses_frames():
    net, sw, hosts = lan()
    net.at("1500ms", net.node_down, "sw")
    res = net.run_app(ping(hosts[0], "10.0.0.2", count=4))
    assert res.received == 2 and net.stats["drop.node-down"] >= 1
