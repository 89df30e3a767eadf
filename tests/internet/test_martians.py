"""127.0.0.0/8 from a link is a martian (Linux's ip_route_input_slow): dropped, no ICMP."""

from __future__ import annotations

import socket

from minternet.wire.icmp import ICMP
from minternet.wire.ipv4 import IPv4
from netutil import chain


def _inject(net, src, dst, options=b""):
    """client puts a raw echo request on its link to r1 (10.0.1.1)."""
    client = net["client"]
    ip = IPv4(src, dst, 1, ICMP.echo_request(7, 1, b"hi").encode(), 64, 0, 1, 0, options=options)
    client.ip._output(ip, ip.encode(), client.interfaces["eth0"], socket.inet_aton("10.0.1.1"))


def _router():
    net = chain(2)
    net.start()
    net.run("1s")
    net["r1"].add_route("0.0.0.0/0", via="10.1.1.2")
    net["r1"].stats.clear()
    return net


def test_a_router_never_forwards_to_127_8():
    net = _router()
    _inject(net, "10.0.1.10", "127.0.0.2")
    net.run("2s")
    stats = net["r1"].stats
    assert stats["ip.forwarded"] == 0 and stats["drop.martian-destination"] == 1, dict(stats)
    assert not any(k.startswith("icmp.out") for k in stats if stats[k]), dict(stats)


def test_a_127_source_from_a_link_is_not_a_local_program():
    net = _router()
    _inject(net, "127.0.0.1", "10.0.1.1")
    net.run("2s")
    stats = net["r1"].stats
    assert stats["icmp.in.echo_request"] == 0 and stats["drop.martian-source"] == 1, dict(stats)


def test_the_slow_path_drops_martians_too():
    net = _router()
    _inject(net, "127.0.0.1", "10.0.1.1", options=b"\x01\x01\x01\x00")  # NOPs + EOL: not the fast path
    net.run("2s")
    assert net["r1"].stats["drop.martian-source"] == 1, dict(net["r1"].stats)


def test_loopback_itself_still_works():
    net = chain(1)

    async def main():
        import asyncio
        server = await asyncio.start_server(lambda r, w: w.write(b"hi"), "127.0.0.1", 9)
        reader, writer = await asyncio.open_connection("127.0.0.1", 9)
        data = await reader.read(2)
        writer.close()
        server.close()
        return data

    assert net.run_app(main(), on="client") == b"hi"
