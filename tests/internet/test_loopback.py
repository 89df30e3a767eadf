"""Every host's loopback interface: lo, 127.0.0.1/8, "localhost"; nothing sent there reaches a link."""

from __future__ import annotations

import asyncio

from minternet.application.ping import ping
from netutil import chain


def test_tcp_to_localhost_stays_off_the_links():
    net = chain(1)
    server = net["server"]
    seen: list = []
    for node in net.hosts:
        for iface in node.interfaces.values():
            iface.taps.append(lambda t, frame, d, n=node.name: seen.append(n))

    async def main():
        async def handle(reader, writer):
            writer.write((await reader.readline()).upper())
            await writer.drain()
            writer.close()
        await server.start_server(handle, 7000, host="127.0.0.1")
        reader, writer = await server.open_connection("localhost", 7000)
        writer.write(b"hello\n")
        line = await reader.readline()
        sock = writer.get_extra_info("sockname")
        writer.close()
        return line, sock

    net.start()
    n_before = len(seen)  # gratuitous ARP at start
    line, sockname = net.run_app(main(), timeout="5s")
    assert line == b"HELLO\n"
    assert sockname[0] == "127.0.0.1"
    assert len(seen) == n_before  # no frame on any link
    assert server.loopback.name == "lo" and server.loopback.cidr == "127.0.0.1/8"
    assert "lo" not in server.interfaces  # interfaces are the ones with a device
    assert server.address == "10.0.2.10"


def test_ping_loopback_and_bind_any_127_address():
    net = chain(1)
    client = net["client"]
    result = net.run_app(ping(client, "127.0.0.1", count=2, interval=100_000_000))
    assert result.received == 2
    sock = client.socket()  # UDP
    sock.bind(("127.0.0.53", 0))  # all of 127.0.0.0/8 is local, as on Linux
    sock.close()


def test_udp_on_loopback():
    net = chain(1)
    host = net["client"]

    async def main():
        a, b = host.socket(), host.socket()
        a.bind(("127.0.0.1", 5000))
        b.sendto(b"ping", ("127.0.0.1", 5000))
        data, addr = await a.recvfrom(100)
        return data, addr[0]

    assert net.run_app(main(), timeout="1s") == (b"ping", "127.0.0.1")
