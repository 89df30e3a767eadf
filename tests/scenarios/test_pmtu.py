"""Path MTU discovery (RFC 1191) end to end: a hop with a smaller MTU than the ends, DF set on
every TCP segment (as Linux does), frag-needed telling the sender, the sender shrinking."""

from netutil import chain

from minternet.application.transfer import transfer


def test_200kb_across_a_1280_byte_hop_completes_quickly_at_the_smaller_size():
    net = chain(3)
    net.link("r2:eth1").set_params(mtu=1280)
    net["r2"].interfaces["eth1"].mtu = 1280
    net["r3"].interfaces["eth0"].mtu = 1280
    res = net.run_app(transfer(net["client"], net["server"], 200_000))
    assert res.ok, res.error
    assert (res.finished - res.started) / 1e9 < 3  # simulated seconds
    assert res.sender_stats["timeouts"] <= 1
    assert net["client"].stats["tcp.pmtu_reductions"] == 1
    assert net["r2"].stats["drop.frag-needed"] < 20
