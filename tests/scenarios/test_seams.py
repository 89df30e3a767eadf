"""Behaviour that crosses the layers' seams: path MTU discovery shrinking TCP's segments, and a
failed neighbour resolution reaching the socket as the errno Linux gives."""

import asyncio
import errno

import pytest
from netutil import chain

from minternet.application.transfer import transfer
from minternet.sim.network import Network
from minternet.sockets import AF_INET, SOCK_DGRAM, SOCK_STREAM


def narrow_middle_hop(mtu: int = 1280) -> Network:
    """client -- r1 -- r2 -- r3 -- server with the r2 -- r3 link at ``mtu`` bytes."""
    net = chain(3, delay="5ms", bandwidth="100Mbps")
    net["r2"].interfaces["eth1"].mtu = mtu
    net["r3"].interfaces["eth0"].mtu = mtu
    return net


def test_path_mtu_discovery_shrinks_every_segment_and_the_transfer_is_quick():
    net = narrow_middle_hop(1280)
    res = net.run_app(transfer(net["client"], net["server"], 200_000))
    assert res.ok, res.report("client", "server")
    s = res.sender_stats
    # Before the seams, the MSS was lowered but not the segment size: 43-56 s and 160-210 timeouts.
    assert res.seconds < 3, res.report("client", "server")
    assert s["timeouts"] <= 1
    assert net["r2"].stats["drop.frag-needed"] < 20
    assert net["client"].stats["tcp.pmtu_reductions"] == 1
    # Learned for the destination, as Linux's route cache does: the next connection starts small.
    assert net["client"].ip.route_to("10.0.2.10").mtu == 1280
    drops = net["r2"].stats["drop.frag-needed"]
    again = net.run_app(transfer(net["client"], net["server"], 50_000, port=5002))
    assert again.ok and net["r2"].stats["drop.frag-needed"] == drops


def test_segments_after_pmtu_fit_the_narrow_hop():
    net = narrow_middle_hop(1280)
    sizes = []
    net["r3"].interfaces["eth0"].taps.append(lambda t, frame, d: d == "in" and sizes.append(len(frame) - 14))
    res = net.run_app(transfer(net["client"], net["server"], 100_000))
    assert res.ok
    assert sizes and max(sizes) <= 1280


def lan_with_absent_neighbour() -> Network:
    net = Network(seed=3)
    net.add_host("a", {"eth0": "10.0.0.1/24"})
    net.add_host("b", {"eth0": "10.0.0.2/24"})
    net.connect("a:eth0", "b:eth0", delay="1ms")
    return net


def test_connect_to_an_absent_address_on_the_lan_fails_with_ehostunreach_after_arp_gives_up():
    net = lan_with_absent_neighbour()
    outcome = {}

    async def client():
        s = net["a"].socket(AF_INET, SOCK_STREAM)
        t0 = net.now
        with pytest.raises(OSError) as exc:
            await s.connect(("10.0.0.77", 80))
        outcome["errno"] = exc.value.errno
        outcome["seconds"] = (net.now - t0) / 1e9

    net.run_app(client())
    # Linux: three ARP solicitations a second apart, then "No route to host" (measured: 3.08 s).
    assert outcome["errno"] == errno.EHOSTUNREACH
    assert 2.5 < outcome["seconds"] < 5
    assert net["a"].stats["drop.arp-failed"] >= 1
    assert not net["a"].tcp.connections


def test_open_connection_to_an_absent_neighbour_raises_oserror_ehostunreach():
    net = lan_with_absent_neighbour()

    async def client():
        with pytest.raises(OSError) as exc:
            await net["a"].open_connection("10.0.0.77", 80)
        return exc.value.errno

    assert net.run_app(client()) == errno.EHOSTUNREACH


def test_udp_to_an_absent_neighbour_fails_silently_as_on_linux():
    # Linux sends itself a host unreachable when ARP gives up (ipv4_link_failure); the code is not
    # fatal, so a UDP socket, connected or not, is never told (measured on the kernel: every
    # sendto and send succeeds, recv times out). tests/interop checks the kernel does the same.
    net = lan_with_absent_neighbour()
    results = []

    async def client():
        u = net["a"].socket(AF_INET, SOCK_DGRAM)
        c = net["a"].socket(AF_INET, SOCK_DGRAM)
        c.connect(("10.0.0.78", 9))
        for _ in range(6):
            results.append(u.sendto(b"x", ("10.0.0.77", 9)))
            results.append(c.send(b"y"))
            await asyncio.sleep(1)

    net.run_app(client())
    assert results == [1] * 12
    assert net["a"].stats["drop.arp-failed"] >= 2


def test_connected_udp_hears_port_unreachable_as_econnrefused():
    net = lan_with_absent_neighbour()

    async def client():
        c = net["a"].socket(AF_INET, SOCK_DGRAM)
        c.connect(("10.0.0.2", 9))
        c.send(b"x")
        await asyncio.sleep(0.1)
        with pytest.raises(ConnectionRefusedError):
            c.send(b"y")

    net.run_app(client())
