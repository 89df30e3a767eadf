"""The simulation's event loop with asyncio's networking methods, answered by the current host.

:class:`ProgramLoop` is the virtual-time loop of :mod:`minternet.sim.loop` plus what asyncio's
selector loop has for networking, done on the simulated host the calling program runs on
(:mod:`.context`): name lookups through the host's stub resolver and the simulated DNS (never
the OS resolver, never a thread), sockets that are :class:`~.simsocket.SimSocket` s, the
``sock_*`` methods, and the transport factories that asyncio's own ``create_connection``,
``create_server``, ``create_datagram_endpoint``, ``start_tls`` and ``sendfile`` build on, so
those are asyncio's code, with its happy eyeballs, its SSLProtocol (TLS over our TCP with
ssl.MemoryBIO) and its Server. ``run_in_executor`` runs the function inline, in zero virtual
time: there are no threads in virtual time.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from asyncio import sslproto
from typing import Any, Callable

from ..sim.loop import VirtualTimeLoop
from ..sim.scheduler import Scheduler
from ..sockets.common import os_error
from ..sockets.tcp import StreamSocket
from ..transport.tcp.connection import State
from ..wire._addr import is_ipv4 as _is_ipv4
from .context import require_host, with_host
from .datagram import ProgramDatagramTransport
from .guard import GUARD
from .simsocket import SimSocket, check_sim_socket
from .transports import ProgramTCPTransport

_SERVICES = {"http": 80, "https": 443, "domain": 53, "echo": 7, "ntp": 123}


def _port_number(port: Any) -> int:
    if isinstance(port, (bytes, bytearray)):
        port = port.decode()
    if port is None or port == "":
        return 0
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        if port in _SERVICES:
            return _SERVICES[port]
        raise socket.gaierror(socket.EAI_SERVICE, "Servname not supported for ai_socktype")
    return int(port)


class ProgramLoop(VirtualTimeLoop):
    """asyncio on virtual time, whose networking is the current simulated host's."""

    def __init__(self, scheduler: Scheduler) -> None:
        super().__init__(scheduler)

    def run_forever(self) -> None:
        GUARD.enable()  # virtual time in libraries, simulated sockets, no real network
        try:
            super().run_forever()
        finally:
            GUARD.disable()

    # -- names ------------------------------------------------------------------------------------
    async def getaddrinfo(self, host: Any, port: Any, *, family: int = 0, type: int = 0,  # noqa: A002
                          proto: int = 0, flags: int = 0) -> list[tuple]:
        """As socket.getaddrinfo, through the host's stub resolver (its hosts table, then DNS
        over the simulated network). IPv4 only: AF_INET6 alone finds nothing."""
        h = require_host("getaddrinfo")
        if isinstance(host, (bytes, bytearray)):
            host = host.decode("idna")
        number = _port_number(port)
        if family not in (0, socket.AF_INET):
            raise socket.gaierror(socket.EAI_ADDRFAMILY, "Address family for hostname not supported "
                                  "(the simulated internet is IPv4 only)")
        if host is None or host == "":
            addresses = ["0.0.0.0" if flags & socket.AI_PASSIVE else "127.0.0.1"]
        elif _is_ipv4(host):
            addresses = [host]
        elif flags & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        else:
            addresses = await h.resolve_all(host)
        kinds = [type] if type else [socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW]
        out = []
        for address in addresses:
            for kind in kinds:
                p = proto or {socket.SOCK_STREAM: socket.IPPROTO_TCP, socket.SOCK_DGRAM: socket.IPPROTO_UDP}.get(kind, 0)
                canon = host if (flags & socket.AI_CANONNAME and not out) else ""
                out.append((socket.AddressFamily.AF_INET, socket.SocketKind(kind), p, canon, (address, number)))
        return out

    async def getnameinfo(self, sockaddr: tuple, flags: int = 0) -> tuple[str, str]:
        """Numeric, as getnameinfo gives for an address without a PTR record (NI_NAMEREQD: an
        error); the simulated DNS is not asked for reverse names."""
        require_host("getnameinfo")
        address, port = sockaddr[:2]
        if flags & socket.NI_NAMEREQD:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return address, str(port)

    # -- the high-level calls: asyncio's own, once we know the host ---------------------------------
    async def create_connection(self, protocol_factory: Callable[[], asyncio.BaseProtocol], host: Any = None,
                                port: Any = None, **kwargs: Any) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        require_host("create_connection")
        return await super().create_connection(protocol_factory, host, port, **kwargs)

    async def create_server(self, protocol_factory: Callable[[], asyncio.BaseProtocol], host: Any = None,
                            port: Any = None, **kwargs: Any) -> asyncio.Server:
        require_host("create_server")
        return await super().create_server(protocol_factory, host, port, **kwargs)

    async def create_datagram_endpoint(self, protocol_factory: Callable[[], asyncio.BaseProtocol],
                                       local_addr: Any = None, remote_addr: Any = None,
                                       **kwargs: Any) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        require_host("create_datagram_endpoint")
        if kwargs.get("family", 0) == 0 and local_addr is None and remote_addr is None and kwargs.get("sock") is None:
            kwargs["family"] = socket.AF_INET
        return await super().create_datagram_endpoint(protocol_factory, local_addr, remote_addr, **kwargs)

    # -- transports (asyncio's private factory methods, as selector_events has them) ----------------
    def _make_socket_transport(self, sock: SimSocket, protocol: asyncio.BaseProtocol,
                               waiter: asyncio.Future | None = None, *, extra: dict | None = None,
                               server: Any = None) -> ProgramTCPTransport:
        sim = check_sim_socket(sock, "a transport")
        if not isinstance(sim.inner, StreamSocket) or sim.inner._conn is None:
            raise os_error(errno.ENOTCONN, "a transport needs a connected TCP socket")
        return ProgramTCPTransport(self, sim, protocol, waiter, extra, server)

    def _make_ssl_transport(self, rawsock: SimSocket, protocol: asyncio.BaseProtocol, sslcontext: Any,
                            waiter: asyncio.Future | None = None, *, server_side: bool = False,
                            server_hostname: str | None = None, extra: dict | None = None, server: Any = None,
                            ssl_handshake_timeout: float | None = None, ssl_shutdown_timeout: float | None = None,
                            call_connection_made: bool = True) -> asyncio.Transport:
        ssl_protocol = sslproto.SSLProtocol(self, protocol, sslcontext, waiter, server_side, server_hostname,
                                            ssl_handshake_timeout=ssl_handshake_timeout,
                                            ssl_shutdown_timeout=ssl_shutdown_timeout,
                                            call_connection_made=call_connection_made)
        self._make_socket_transport(rawsock, ssl_protocol, extra=extra, server=server)
        return ssl_protocol._app_transport

    def _make_datagram_transport(self, sock: SimSocket, protocol: asyncio.BaseProtocol, address: Any = None,
                                 waiter: asyncio.Future | None = None, extra: dict | None = None) -> Any:
        sim = check_sim_socket(sock, "a datagram transport")
        return ProgramDatagramTransport(self, sim, protocol, address, waiter, extra)  # type: ignore[arg-type]

    def _start_serving(self, protocol_factory: Callable[[], asyncio.BaseProtocol], sock: SimSocket,
                       sslcontext: Any = None, server: Any = None, backlog: int = 100,
                       ssl_handshake_timeout: float | None = None, ssl_shutdown_timeout: float | None = None) -> None:
        sim = check_sim_socket(sock, "create_server")
        listener = sim.inner._listener  # type: ignore[union-attr]
        args = (protocol_factory, sim, sslcontext, server, ssl_handshake_timeout, ssl_shutdown_timeout)
        listener.on_acceptable = lambda: with_host(sim.host, self._accept_connections, *args)
        if listener.accept_queue:
            self.call_soon(self._accept_connections, *args)

    def _accept_connections(self, protocol_factory: Callable[[], asyncio.BaseProtocol], sock: SimSocket,
                            sslcontext: Any, server: Any, ssl_handshake_timeout: float | None,
                            ssl_shutdown_timeout: float | None) -> None:
        while True:
            try:
                conn, addr = sock.accept()
            except BlockingIOError:
                return
            extra = {"peername": addr}
            try:
                protocol = protocol_factory()
                if sslcontext:
                    waiter = self.create_future()
                    self._make_ssl_transport(conn, protocol, sslcontext, waiter, server_side=True, extra=extra,
                                             server=server, ssl_handshake_timeout=ssl_handshake_timeout,
                                             ssl_shutdown_timeout=ssl_shutdown_timeout)
                    waiter.add_done_callback(lambda f: f.cancelled() or f.exception())  # sslproto reports it
                else:
                    self._make_socket_transport(conn, protocol, extra=extra, server=server)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # noqa: BLE001 - as asyncio's _accept_connection2
                self.call_exception_handler({"message": "Error on transport creation for incoming connection",
                                             "exception": exc})
                conn.close()

    def _stop_serving(self, sock: SimSocket) -> None:
        sock.close()

    # -- sock_* -----------------------------------------------------------------------------------
    async def sock_connect(self, sock: socket.socket, address: Any) -> None:
        sim = check_sim_socket(sock, "sock_connect")
        host, port = address[:2]
        if not _is_ipv4(host):
            infos = await self.getaddrinfo(host, port, family=socket.AF_INET, type=sim.type)
            address = infos[0][4]
        address = (address[0], _port_number(address[1]))
        inner = sim.inner
        if not isinstance(inner, StreamSocket):
            inner.connect(address)
            return
        try:
            await inner.connect(address)
        except asyncio.CancelledError:
            # A connect timeout in the program: stop sending SYNs (close(2) of a connecting socket).
            conn = inner._conn
            if conn is not None and conn.state is not State.CLOSED:
                conn.abort()
            raise

    async def sock_accept(self, sock: socket.socket) -> tuple[SimSocket, tuple[str, int]]:
        sim = check_sim_socket(sock, "sock_accept")
        inner, addr = await sim.inner.accept()  # type: ignore[union-attr]
        return SimSocket.create(sim.host, inner=inner), addr

    async def sock_recv(self, sock: socket.socket, n: int) -> bytes:
        return await check_sim_socket(sock, "sock_recv").inner.recv(n)

    async def sock_recv_into(self, sock: socket.socket, buf: Any) -> int:
        data = await check_sim_socket(sock, "sock_recv_into").inner.recv(len(buf))
        buf[:len(data)] = data
        return len(data)

    async def sock_recvfrom(self, sock: socket.socket, bufsize: int) -> tuple[bytes, Any]:
        sim = check_sim_socket(sock, "sock_recvfrom")
        inner = sim.inner
        if isinstance(inner, StreamSocket):
            return await inner.recv(bufsize), inner.getpeername()
        return await inner.recvfrom(bufsize)

    async def sock_recvfrom_into(self, sock: socket.socket, buf: Any, nbytes: int = 0) -> tuple[int, Any]:
        data, addr = await self.sock_recvfrom(sock, nbytes or len(buf))
        buf[:len(data)] = data
        return len(data), addr

    async def sock_sendall(self, sock: socket.socket, data: Any) -> None:
        sim = check_sim_socket(sock, "sock_sendall")
        inner = sim.inner
        if isinstance(inner, StreamSocket):
            await inner.sendall(data)
        else:
            inner.send(data)

    async def sock_sendto(self, sock: socket.socket, data: Any, address: Any) -> int:
        sim = check_sim_socket(sock, "sock_sendto")
        return sim.inner.sendto(data, tuple(address[:2]))  # type: ignore[union-attr]

    # -- no threads in virtual time -------------------------------------------------------------
    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Run ``func(*args)`` now, on the loop, in zero virtual time: deterministic. A function
        that waits for the loop would wait forever, as it must with no threads."""
        fut = self.create_future()
        try:
            fut.set_result(func(*args))
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001
            fut.set_exception(exc)
        return fut
