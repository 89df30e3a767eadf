"""TCP sockets on simulated hosts: bind() and listen() as Linux allows them (SO_REUSEADDR over
TIME-WAIT, one port on several addresses, a bound socket holding its port)."""

import asyncio
import errno

import pytest
from netutil import chain

from minternet.sockets import AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET


def restart_after_closing_first(reuse_old: bool, reuse_new: bool):
    """A server that closed its connection first (so it holds it in TIME-WAIT, 60 s) and its
    listening socket, then binds the same port again at once. Returns the bind's errno (0: it
    worked) and, when it did, how long a new client took to connect."""
    net = chain(1)
    server, client = net["server"], net["client"]

    async def main():
        srv = server.socket(AF_INET, SOCK_STREAM)
        if reuse_old:
            srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        srv.bind(("", 7000))
        srv.listen()
        cli = client.socket(AF_INET, SOCK_STREAM)
        await cli.connect(("10.0.2.10", 7000))
        conn, _ = await srv.accept()
        conn.close()  # the server closes first
        assert await cli.recv(10) == b""
        cli.close()
        srv.close()
        await asyncio.sleep(1)
        assert [c.state.value for c in server.tcp.connections.values()] == ["TIME-WAIT"]
        again = server.socket(AF_INET, SOCK_STREAM)
        if reuse_new:
            again.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        try:
            again.bind(("0.0.0.0", 7000))
            again.listen()
        except OSError as e:
            return e.errno, None
        cli = client.socket(AF_INET, SOCK_STREAM)
        start = client.clock.now
        await cli.connect(("10.0.2.10", 7000))
        return 0, (client.clock.now - start) / 1e9

    return net.run_app(main())


def test_so_reuseaddr_binds_a_port_held_only_by_time_wait():
    err, seconds = restart_after_closing_first(True, True)
    assert err == 0 and seconds < 0.05


@pytest.mark.parametrize("reuse_old, reuse_new", [(False, False), (True, False), (False, True)])
def test_without_so_reuseaddr_on_both_time_wait_holds_the_port(reuse_old, reuse_new):
    # Linux's inet_bind_conflict: both the new socket and the one in TIME-WAIT must have it.
    assert restart_after_closing_first(reuse_old, reuse_new)[0] == errno.EADDRINUSE


def test_so_reuseaddr_does_not_bind_over_a_listener():
    net = chain(1)
    server = net["server"]
    a = server.socket(AF_INET, SOCK_STREAM)
    a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    a.bind(("", 7000))
    a.listen()
    b = server.socket(AF_INET, SOCK_STREAM)
    b.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    assert b.getsockopt(SOL_SOCKET, SO_REUSEADDR) == 1
    with pytest.raises(OSError) as e:
        b.bind(("10.0.2.10", 7000))
    assert e.value.errno == errno.EADDRINUSE


def test_an_asyncio_server_restarts_on_its_port_at_once():
    # asyncio.start_server sets SO_REUSEADDR on POSIX: its connections left in TIME-WAIT do not
    # keep a restarted server from its port.
    net = chain(1)
    server, client = net["server"], net["client"]

    async def handler(reader, writer):
        writer.write(b"bye")
        writer.close()  # the server closes first: TIME-WAIT is on its side

    async def main():
        srv = await server.start_server(handler, port=7000)
        reader, writer = await client.open_connection("10.0.2.10", 7000)
        assert await reader.read() == b"bye"
        writer.close()
        srv.close()
        await asyncio.sleep(1)
        assert [c.state.value for c in server.tcp.connections.values()] == ["TIME-WAIT"]
        srv = await server.start_server(handler, port=7000)
        reader, writer = await client.open_connection("10.0.2.10", 7000)
        return await reader.read()

    assert net.run_app(main()) == b"bye"


def test_two_addresses_of_one_host_listen_on_one_port_each_for_its_own():
    # Linux's inet_rcv_saddr_equal: sockets on two different addresses do not conflict, so a
    # multi-homed server listens once per address (BIND, nginx `listen 10.0.1.1:80`).
    net = chain(1)
    r1, client, server = net["r1"], net["client"], net["server"]  # r1 is 10.0.1.1 and 10.0.2.1

    async def main():
        got = {}
        for addr in ("10.0.1.1", "10.0.2.1"):
            s = r1.socket(AF_INET, SOCK_STREAM)
            s.bind((addr, 7001))
            s.listen()
            got[addr] = s
        c1 = client.socket(AF_INET, SOCK_STREAM)
        await c1.connect(("10.0.1.1", 7001))
        c2 = server.socket(AF_INET, SOCK_STREAM)
        await c2.connect(("10.0.2.1", 7001))
        (_, p1), (_, p2) = await got["10.0.1.1"].accept(), await got["10.0.2.1"].accept()
        got["10.0.1.1"].close()  # closing one leaves the other listening
        c3 = server.socket(AF_INET, SOCK_STREAM)
        await c3.connect(("10.0.2.1", 7001))
        _, p3 = await got["10.0.2.1"].accept()
        c4 = client.socket(AF_INET, SOCK_STREAM)
        try:
            await c4.connect(("10.0.1.1", 7001))
        except ConnectionRefusedError:
            return p1[0], p2[0], p3[0], "refused"
        return p1[0], p2[0], p3[0], "connected"

    assert net.run_app(main()) == ("10.0.1.10", "10.0.2.10", "10.0.2.10", "refused")


@pytest.mark.parametrize("first, second", [("10.0.2.10", "10.0.2.10"), ("0.0.0.0", "10.0.2.10"),
                                           ("10.0.2.10", "0.0.0.0")])
def test_a_bound_socket_holds_its_port_before_it_listens(first, second):
    # Linux holds the bind bucket from bind() on: a second bind() of the same address (or where
    # either is 0.0.0.0) is EADDRINUSE, with no listener or connection there yet.
    net = chain(1)
    server = net["server"]
    a = server.socket(AF_INET, SOCK_STREAM)
    a.bind((first, 7002))
    b = server.socket(AF_INET, SOCK_STREAM)
    with pytest.raises(OSError) as e:
        b.bind((second, 7002))
    assert e.value.errno == errno.EADDRINUSE
    a.close()  # and lets go of it when closed
    b.bind((second, 7002))
    b.listen()


def test_two_bound_sockets_with_so_reuseaddr_share_a_port_until_one_listens():
    # inet_csk_bind_conflict: both with SO_REUSEADDR and neither listening is no conflict; the
    # second listen() then is (a listener is always in the way).
    net = chain(1)
    server = net["server"]
    a, b = server.socket(AF_INET, SOCK_STREAM), server.socket(AF_INET, SOCK_STREAM)
    for s in (a, b):
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        s.bind(("10.0.2.10", 7003))
    a.listen()
    with pytest.raises(OSError) as e:
        b.listen()
    assert e.value.errno == errno.EADDRINUSE


class Scripted:
    """A host's random source whose randint gives these numbers first."""

    def __init__(self, rng, *numbers: int) -> None:
        self.rng = rng
        self.numbers = list(numbers)

    def randint(self, low: int, high: int) -> int:
        return self.numbers.pop(0) if self.numbers else self.rng.randint(low, high)

    def __getattr__(self, name: str):
        return getattr(self.rng, name)


def test_ephemeral_ports_skip_ports_held_by_bound_sockets():
    net = chain(1)
    client, server = net["client"], net["server"]

    async def main():
        srv = server.socket(AF_INET, SOCK_STREAM)
        srv.bind(("", 7004))
        srv.listen()
        held = client.socket(AF_INET, SOCK_STREAM)
        held.bind(("", 50000))  # bound, not (yet) connected
        client.tcp.rng = Scripted(client.tcp.rng, 50000, 50001, 50000, 50002)
        c = client.socket(AF_INET, SOCK_STREAM)
        await c.connect(("10.0.2.10", 7004))
        b = client.socket(AF_INET, SOCK_STREAM)
        b.bind(("", 0))
        return c.getsockname()[1], b.getsockname()[1]

    assert net.run_app(main()) == (50001, 50002)
