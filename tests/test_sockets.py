"""UDP sockets on simulated hosts, with the errors a Python programmer knows."""

import asyncio
import errno
import socket

import pytest
from netutil import chain

from minternet.sockets import AF_INET, IP_MTU_DISCOVER, IP_PMTUDISC_DO, IPPROTO_IP, SO_BROADCAST, \
    SO_REUSEADDR, SOCK_DGRAM, SOL_SOCKET


@pytest.fixture
def net():
    return chain(2)


def test_echo_over_udp(net):
    client, server = net["client"], net["server"]

    async def echo_server():
        sock = server.socket(AF_INET, SOCK_DGRAM)
        sock.bind(("0.0.0.0", 7))
        while True:
            data, addr = await sock.recvfrom(2048)
            sock.sendto(data.upper(), addr)

    async def main():
        net.spawn(echo_server())
        sock = client.socket(AF_INET, SOCK_DGRAM)
        sock.settimeout(2)
        sock.sendto(b"hello", ("10.0.2.10", 7))
        data, addr = await sock.recvfrom(100)
        local = sock.getsockname()
        sock.close()
        return data, addr, local

    data, addr, local = net.run_app(main())
    assert data == b"HELLO" and addr == ("10.0.2.10", 7)
    assert local[0] == "0.0.0.0" and 49152 <= local[1] <= 65535  # ephemeral, RFC 6335


def test_ephemeral_ports_are_random_not_sequential(net):
    ports = []
    for _ in range(20):
        s = net["client"].socket(AF_INET, SOCK_DGRAM)
        s.bind(("", 0))
        ports.append(s.getsockname()[1])
    assert len(set(ports)) == 20 and ports != sorted(ports)
    assert all(49152 <= p <= 65535 for p in ports)


def test_bind_errors(net):
    host = net["client"]
    a = host.socket(AF_INET, SOCK_DGRAM)
    a.bind(("0.0.0.0", 5000))
    b = host.socket(AF_INET, SOCK_DGRAM)
    with pytest.raises(OSError) as e:
        b.bind(("10.0.1.10", 5000))
    assert e.value.errno == errno.EADDRINUSE
    with pytest.raises(OSError) as e:
        b.bind(("10.9.9.9", 5001))
    assert e.value.errno == errno.EADDRNOTAVAIL
    with pytest.raises(OverflowError):
        b.bind(("0.0.0.0", 70000))
    # SO_REUSEADDR on both lets two sockets share a port.
    c, d = host.socket(AF_INET, SOCK_DGRAM), host.socket(AF_INET, SOCK_DGRAM)
    c.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    d.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    c.bind(("", 6000))
    d.bind(("", 6000))
    a.close()
    b.bind(("0.0.0.0", 5000))  # free again after close


def test_send_errors(net):
    s = net["client"].socket(AF_INET, SOCK_DGRAM)
    with pytest.raises(OSError) as e:
        s.sendto(b"x" * 70000, ("10.0.2.10", 9))
    assert e.value.errno == errno.EMSGSIZE
    with pytest.raises(OSError) as e:
        s.send(b"x")
    assert e.value.errno == errno.EDESTADDRREQ
    with pytest.raises(OSError) as e:
        s.sendto(b"x", ("10.0.1.255", 9))
    assert e.value.errno == errno.EACCES
    s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)
    assert s.sendto(b"x", ("10.0.1.255", 9)) == 1
    with pytest.raises(socket.gaierror):
        s.sendto(b"x", ("www.example.com", 80))
    with pytest.raises(OSError) as e:
        s.getpeername()
    assert e.value.errno == errno.ENOTCONN
    s.setsockopt(IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    with pytest.raises(OSError) as e:
        s.sendto(b"x" * 3000, ("10.0.2.10", 9))
    assert e.value.errno == errno.EMSGSIZE


def test_connected_socket_gets_econnrefused_from_port_unreachable(net):
    async def main():
        s = net["client"].socket(AF_INET, SOCK_DGRAM)
        s.connect(("10.0.2.10", 9999))
        s.settimeout(5)
        s.send(b"anyone?")
        with pytest.raises(ConnectionRefusedError) as e:
            await s.recv(100)
        return e.value.errno

    assert net.run_app(main()) == errno.ECONNREFUSED


def test_unconnected_socket_ignores_icmp_and_times_out_with_etimedout(net):
    async def main():
        s = net["client"].socket(AF_INET, SOCK_DGRAM)
        s.settimeout(1.5)
        s.sendto(b"anyone?", ("10.0.2.10", 9999))
        t0 = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError) as e:
            await s.recvfrom(100)
        return e.value.errno, asyncio.get_running_loop().time() - t0

    code, waited = net.run_app(main())
    assert code == errno.ETIMEDOUT and waited == pytest.approx(1.5)


def test_nonblocking_recv_raises_eagain(net):
    s = net["client"].socket(AF_INET, SOCK_DGRAM)
    s.bind(("", 0))
    with pytest.raises(BlockingIOError):
        s.recvfrom_nowait(10)


def test_connected_socket_filters_other_peers(net):
    client, server = net["client"], net["server"]

    async def main():
        s = client.socket(AF_INET, SOCK_DGRAM)
        s.bind(("", 4000))
        s.connect(("10.0.2.10", 53))
        other = server.socket(AF_INET, SOCK_DGRAM)
        other.bind(("", 54))
        other.sendto(b"spoof", ("10.0.1.10", 4000))   # wrong source port: not for the connected socket
        right = server.socket(AF_INET, SOCK_DGRAM)
        right.bind(("", 53))
        await asyncio.sleep(0.5)
        right.sendto(b"real", ("10.0.1.10", 4000))
        s.settimeout(2)
        return await s.recv(100)

    assert net.run_app(main()) == b"real"


def test_datagram_protocol_api(net):
    client, server = net["client"], net["server"]

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport

        def datagram_received(self, data, addr):
            self.transport.sendto(data[::-1], addr)

    class Client(asyncio.DatagramProtocol):
        def __init__(self):
            self.got = asyncio.get_running_loop().create_future()

        def connection_made(self, transport):
            transport.sendto(b"abc")

        def datagram_received(self, data, addr):
            self.got.set_result((data, addr))

    async def main():
        await server.create_datagram_endpoint(Echo, local_addr=("0.0.0.0", 9000))
        transport, proto = await client.create_datagram_endpoint(Client, remote_addr=("10.0.2.10", 9000))
        result = await asyncio.wait_for(proto.got, 5)
        assert transport.get_extra_info("peername") == ("10.0.2.10", 9000)
        transport.close()
        return result

    assert net.run_app(main()) == (b"cba", ("10.0.2.10", 9000))
