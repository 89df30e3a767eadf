"""TCP sockets on simulated hosts: bind() and listen() as Linux allows them (SO_REUSEADDR over
TIME-WAIT)."""

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
