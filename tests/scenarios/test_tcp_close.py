"""close() and shutdown() between two of our hosts: after close() nobody reads, so data that
still arrives is answered with RST (RFC 1122 4.2.2.13) and the sender learns it; after
shutdown(SHUT_WR) the socket still reads; an orphan's FIN-WAIT-2 ends (issue 11)."""

import asyncio
import errno

import pytest
from netutil import chain

from minternet.sockets import AF_INET, SOCK_STREAM
from minternet.sockets.streams import open_connection, start_server


async def _pair(net):
    srv = net["server"].socket(AF_INET, SOCK_STREAM)
    srv.bind(("", 7000))
    srv.listen()
    cli = net["client"].socket(AF_INET, SOCK_STREAM)
    await cli.connect(("10.0.2.10", 7000))
    conn, _ = await srv.accept()
    return cli, conn


def test_sending_to_a_closed_socket_is_reset():
    net = chain(1)

    async def main():
        cli, conn = await _pair(net)
        conn.close()  # the server is done: a FIN, and nobody will read again
        assert await cli.recv(10) == b""  # EOF
        await cli.sendall(b"are you still there?")
        with pytest.raises(ConnectionResetError):
            for _ in range(10):
                await asyncio.sleep(0.1)
                await cli.sendall(b"x")
        return net["server"].stats["tcp.abort_on_data"]

    assert net.run_app(main()) == 1


def test_after_shutdown_wr_the_socket_still_reads():
    net = chain(1)

    async def main():
        cli, conn = await _pair(net)
        conn.shutdown(1)  # SHUT_WR
        assert await cli.recv(10) == b""
        await cli.sendall(b"late reply")
        return await conn.recv(100)

    assert net.run_app(main()) == b"late reply"


def test_a_closed_socket_leaves_fin_wait_2_after_the_fin_timeout():
    net = chain(1)

    async def main():
        cli, conn = await _pair(net)
        server_conn = conn._conn
        conn.close()
        await asyncio.sleep(1)  # our FIN is acknowledged; the client never closes its side
        states = [server_conn.state.value]
        await asyncio.sleep(58)
        states.append(server_conn.state.value)
        await asyncio.sleep(2)
        states.append(server_conn.state.value)
        return states, cli.tcp_info()["state"]

    states, client_state = net.run_app(main())
    assert states == ["FIN-WAIT-2", "FIN-WAIT-2", "CLOSED"] and client_state == "CLOSE-WAIT"


def test_a_stream_writer_closed_is_an_orphan_and_write_eof_is_a_half_close():
    net = chain(1)
    conns = []

    async def handler(reader, writer):
        conns.append(writer.get_extra_info("tcp"))
        if len(conns) == 1:
            writer.write_eof()
        else:
            writer.close()

    async def main():
        await start_server(net["server"], handler, port=7000)
        for _ in range(2):
            r, w = await open_connection(net["client"], "10.0.2.10", 7000)
            assert await r.read() == b""
            w.write(b"after the server's FIN")
        await asyncio.sleep(1)
        return [c.state.value for c in conns], [c.orphaned for c in conns], [c.error for c in conns]

    states, orphaned, errors = net.run_app(main())
    assert orphaned == [False, True]
    assert states[1] == "CLOSED" and errors[1] == errno.ECONNRESET  # the data after close() was reset
    assert states[0] in ("FIN-WAIT-2", "TIME-WAIT") and errors[0] == 0  # the half close took it
    assert net["server"].stats["tcp.abort_on_data"] == 1
