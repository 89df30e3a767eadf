"""The loop's networking methods on a simulated host: names, sockets, transports, TLS."""

from __future__ import annotations

import asyncio
import gc
import io
import select
import socket
import ssl
import threading

import pytest

from minternet.programs import SimSocket
from minternet.transport.tcp.connection import State
from netutil import chain
from programapps import example, make_certs, tls_contexts


def run(net, coro, on="client", timeout="30s"):
    return net.run_app(coro, on=on, timeout=timeout)


def test_getaddrinfo_through_the_simulated_dns():
    net = example()

    async def main():
        loop = asyncio.get_running_loop()
        www = await loop.getaddrinfo("www.example.com", "http", type=socket.SOCK_STREAM)
        local = await loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
        numeric = await loop.getaddrinfo("10.0.2.10", 443)
        with pytest.raises(socket.gaierror) as missing:
            await loop.getaddrinfo("nothing.example.com", 80)
        name = await loop.getnameinfo(("10.0.2.10", 80), socket.NI_NUMERICHOST)
        return www, local, {i[1] for i in numeric}, missing.value.errno, name

    www, local, kinds, err, name = run(net, main())
    assert www == [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.2.10", 80))]
    assert local[0][4] == ("127.0.0.1", 80)
    assert {socket.SOCK_STREAM, socket.SOCK_DGRAM} <= kinds
    assert err == socket.EAI_NONAME
    assert name == ("10.0.2.10", "80")
    assert net["client"].stats["udp.out_datagrams"] >= 1  # asked the resolver over the network


def test_sockets_made_on_a_host_are_simulated():
    net = chain(1)

    async def main():
        loop = asyncio.get_running_loop()
        listener = socket.socket()
        assert isinstance(listener, SimSocket) and isinstance(listener, socket.socket)
        assert listener.fileno() == -1 and listener.family == socket.AF_INET
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]

        async def serve():
            conn, addr = await loop.sock_accept(listener)
            buf = bytearray(5)
            n = await loop.sock_recv_into(conn, buf)
            await loop.sock_sendall(conn, bytes(buf[:n]).upper())
            conn.close()
        server = asyncio.create_task(serve())
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        await loop.sock_sendall(sock, b"hello")
        got = await loop.sock_recv(sock, 100)
        await server
        sock.close()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        await loop.sock_sendto(other, b"dgram", udp.getsockname())
        data, addr = await loop.sock_recvfrom(udp, 100)
        return got, port, data, addr[0]

    got, port, data, src = run(net, main())
    assert got == b"HELLO" and port > 0 and data == b"dgram" and src == "127.0.0.1"
    real = socket.socket()  # outside any host: a real socket again
    assert not isinstance(real, SimSocket)
    real.close()


def test_create_server_port_zero_and_start_serving_later():
    net = chain(1)

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0, start_serving=False)
        port = server.sockets[0].getsockname()[1]
        assert not server.is_serving()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)  # bound, not listening
        await server.start_serving()
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        server.close()
        await server.wait_closed()
        return port

    assert run(net, main()) > 0


def test_create_connection_local_addr_and_refused():
    net = chain(1)

    async def serve():
        server = await asyncio.get_running_loop().create_server(asyncio.Protocol, port=8080)
        await server.serve_forever()

    async def main():
        loop = asyncio.get_running_loop()
        t, _ = await loop.create_connection(asyncio.Protocol, "10.0.2.10", 8080, local_addr=("10.0.1.10", 40000))
        sockname = t.get_extra_info("sockname")
        t.close()
        with pytest.raises(ConnectionRefusedError):
            await loop.create_connection(asyncio.Protocol, "10.0.2.10", 8081)
        return sockname

    net.spawn(serve(), on="server")
    assert run(net, main()) == ("10.0.1.10", 40000)


def test_cancelling_create_connection_aborts_the_half_open_connection():
    net = chain(1)
    net["server"].power_off()  # SYNs go unanswered

    async def main():
        loop = asyncio.get_running_loop()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(loop.create_connection(asyncio.Protocol, "10.0.2.10", 80), 2)
        conns = list(net["client"].tcp.connections.values())
        sent = net["client"].stats["tcp.out_segments"]
        await asyncio.sleep(30)
        return conns, sent

    conns, sent = run(net, main(), timeout="60s")
    assert all(c.state is State.CLOSED for c in conns)
    assert net["client"].stats["tcp.out_segments"] == sent  # no SYN after the cancel


def test_transport_extras_nodelay_keepalive_and_fileno_readiness():
    net = chain(1)

    async def main():
        loop = asyncio.get_running_loop()
        accepted = loop.create_future()

        class Server(asyncio.Protocol):
            def connection_made(self, transport):
                accepted.set_result(transport)

        await loop.create_server(Server, "127.0.0.1", 9000)
        reader, writer = await asyncio.open_connection("127.0.0.1", 9000)
        sock = writer.get_extra_info("socket")
        assert (sock.family, sock.type, sock.proto) == (socket.AF_INET, socket.SOCK_STREAM, 6)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1  # as asyncio sets it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60)
        conn = writer.get_extra_info("tcp")
        assert conn.opt.keepalive and conn.opt.keepalive_time == 60 * 10**9
        assert sock.getpeername() == ("127.0.0.1", 9000) == writer.get_extra_info("peername")
        readable = lambda: bool(select.select([sock.fileno()], [], [], 0)[0])  # noqa: E731
        assert not readable()
        server_side = await accepted
        server_side.write(b"x")
        await asyncio.sleep(0.01)
        after_data = readable()  # the transport took it from the socket at once, as asyncio's do
        server_side.close()
        await asyncio.sleep(0.01)
        after_fin = readable()  # but the end of the stream stays: an idle pooled connection is dead
        writer.close()
        return after_data, after_fin, await reader.read()

    assert run(net, main()) == (False, True, b"x")


def test_abort_is_a_fin_or_a_rst_with_unread_data():
    net = chain(1)

    async def main():
        loop = asyncio.get_running_loop()
        made: asyncio.Queue = asyncio.Queue()

        class Quiet(asyncio.Protocol):
            def connection_made(self, transport):
                made.put_nowait(transport)

            def data_received(self, data):
                pass  # the data is read by the transport: nothing left unread

        await loop.create_server(Quiet, "127.0.0.1", 9001)
        results = []
        for send_first in (False, True):
            reader, writer = await asyncio.open_connection("127.0.0.1", 9001)
            server_side = await made.get()
            if send_first:
                server_side.pause_reading()  # what arrives now stays unread
                writer.write(b"unread")
                await asyncio.sleep(0.01)
            server_side.abort()
            try:
                results.append(await reader.read())
            except ConnectionResetError:
                results.append("reset")
            writer.close()
        return results

    assert run(net, main()) == [b"", "reset"]


def test_buffered_protocol_and_run_in_executor_inline():
    net = chain(1)

    async def main():
        loop = asyncio.get_running_loop()
        got = bytearray()
        done = loop.create_future()

        class Buffered(asyncio.BufferedProtocol):
            def __init__(self):
                self.buf = bytearray(7)

            def get_buffer(self, sizehint):
                return self.buf

            def buffer_updated(self, nbytes):
                got.extend(self.buf[:nbytes])

            def eof_received(self):
                done.set_result(bytes(got))

        await loop.create_server(Buffered, "127.0.0.1", 9002)
        _, writer = await asyncio.open_connection("127.0.0.1", 9002)
        writer.write(b"x" * 100)
        writer.write_eof()
        data = await done
        t0 = loop.time()
        name = await asyncio.to_thread(lambda: threading.current_thread().name)
        return data, name, loop.time() - t0

    data, thread, elapsed = run(net, main())
    assert data == b"x" * 100
    assert thread == threading.main_thread().name and elapsed == 0


def test_start_tls_and_sendfile_over_tcp():
    server_ctx, client_ctx = tls_contexts(make_certs("www.example.com"))
    net = example()

    async def serve():
        async def handle(reader, writer):
            line = await reader.readline()
            assert line == b"STARTTLS\n"
            writer.write(b"GO\n")
            await writer.drain()
            await writer.start_tls(server_ctx)
            assert writer.get_extra_info("sslcontext") is server_ctx
            data = await reader.readline()
            writer.write(data.upper())
            await writer.drain()
            writer.close()
        server = await asyncio.start_server(handle, port=25)
        await server.serve_forever()

    async def main():
        reader, writer = await asyncio.open_connection("www.example.com", 25)
        writer.write(b"STARTTLS\n")
        assert await reader.readline() == b"GO\n"
        await writer.start_tls(client_ctx, server_hostname="www.example.com")
        cipher = writer.get_extra_info("cipher")
        await asyncio.get_running_loop().sendfile(writer.transport, io.BytesIO(b"secret line\n"))
        answer = await reader.readline()
        writer.close()
        return answer, cipher

    net.spawn(serve(), on="server")
    answer, cipher = run(net, main())
    assert answer == b"SECRET LINE\n" and cipher is not None


def test_ssl_certificate_errors_come_through():
    server_ctx, _ = tls_contexts(make_certs("www.example.com"))
    net = example()

    async def serve():
        server = await asyncio.start_server(lambda r, w: None, port=443, ssl=server_ctx)
        await server.serve_forever()

    async def main():
        with pytest.raises(ssl.SSLCertVerificationError):  # our CA is not the system's
            await asyncio.open_connection("www.example.com", 443, ssl=True)
        return True

    net.spawn(serve(), on="server")
    assert run(net, main())


def test_create_server_and_datagram_endpoint_on_sockets_made_by_the_program():
    net = chain(1)

    async def main():
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        server = await loop.create_server(asyncio.Protocol, sock=sock, reuse_address=True)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("localhost", port)
        writer.close()
        server.close()
        await server.wait_closed()
        # the same port again at once: SO_REUSEADDR (asyncio's default) binds over TIME-WAIT
        again = await loop.create_server(asyncio.Protocol, "127.0.0.1", port)
        again.close()

        received = loop.create_future()

        class Sink(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                received.set_result((data, addr[0]))

        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        transport, _ = await loop.create_datagram_endpoint(Sink, sock=udp)
        assert transport.get_extra_info("socket").getsockname() == udp.getsockname()
        sender, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=udp.getsockname())
        sender.sendto(b"hi")
        got = await received
        sender.close()
        transport.close()
        return got

    assert net.run_app(main(), on="client", timeout="10s") == (b"hi", "127.0.0.1")


def test_write_after_close_is_dropped_and_after_write_eof_raises():
    net = chain(1)

    async def server():
        async def handle(reader, writer):
            await reader.read()
            writer.close()
        srv = await asyncio.start_server(handle, "0.0.0.0", 7)
        await srv.serve_forever()

    async def client():
        reader, writer = await asyncio.open_connection("10.0.2.10", 7)
        writer.close()
        writer.write(b"late")  # asyncio: no exception, the data is dropped
        await writer.wait_closed()
        reader, writer = await asyncio.open_connection("10.0.2.10", 7)
        writer.write_eof()
        with pytest.raises(RuntimeError, match="after write_eof"):
            writer.write(b"late")
        writer.close()
        await writer.wait_closed()
        return "ok"

    net.spawn(server(), on="server")
    try:
        assert net.run_app(client(), on="client", timeout="10s") == "ok"
    finally:
        net.close()


def test_an_unreferenced_simsocket_warns_and_closes_its_connection():
    net = chain(1)

    async def server():
        got = asyncio.get_running_loop().create_future()

        async def handle(reader, writer):
            got.set_result(await reader.read())  # until the peer's FIN
        await asyncio.start_server(handle, "0.0.0.0", 9)
        return await got

    async def client():
        loop = asyncio.get_running_loop()

        async def once():
            s = socket.socket()
            s.setblocking(False)
            await loop.sock_connect(s, ("10.0.2.10", 9))
            await loop.sock_sendall(s, b"bye")
        await once()  # the socket is unreferenced now
        gc.collect()
        await asyncio.sleep(5)

    result = net.spawn(server(), on="server")
    net.spawn(client(), on="client")
    with pytest.warns(ResourceWarning, match="unclosed <SimSocket on client"):
        net.run("20s")
    assert result.done() and result.result() == b"bye"
    net.close()
