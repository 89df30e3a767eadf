"""The asyncio transport a program's TCP connection gets, with what libraries expect of one.

minternet's :class:`~minternet.sockets.streams.TCPTransport` plus: the ``'socket'`` extra
(asyncio's TransportSocket over a :class:`~.simsocket.SimSocket`), the host's context for every
callback from the stack, BufferedProtocol (asyncio's SSLProtocol is one), ``set_protocol`` (for
start_tls and sendfile), errors in protocol callbacks handled as asyncio does (the loop's
exception handler, then the connection is aborted), a server's connection count, and
``abort()`` as Linux's close(2): a FIN after what the kernel holds, a RST if received data was
never read.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from asyncio import constants, protocols, transports, trsock
from typing import Any

from ..sockets.streams import TCPTransport
from ..transport.tcp.connection import State
from .context import with_host
from .simsocket import SimSocket


# asyncio.Server counts its connections; from 3.13 on it keeps them (close_clients, abort_clients).
_SERVER_KEEPS_TRANSPORTS = len(inspect.signature(asyncio.base_events.Server._attach).parameters) > 1


class ProgramTCPTransport(TCPTransport, transports._FlowControlMixin):
    """The transport of one TCP connection of a program. (A _FlowControlMixin, as asyncio's own
    are, for loop.sendfile's fallback; the flow control is TCPTransport's.)"""

    _start_tls_compatible = True  # loop.start_tls may wrap it
    _sendfile_compatible = constants._SendfileMode.FALLBACK  # loop.sendfile copies through write()

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: SimSocket, protocol: asyncio.BaseProtocol,
                 waiter: asyncio.Future | None = None, extra: dict | None = None,
                 server: Any = None) -> None:
        conn = sock.inner._conn
        super().__init__(conn, protocol, loop)  # type: ignore[arg-type]
        self._sock = sock
        self._host = sock.host
        self._server = server
        self._started = False
        self._extra["socket"] = trsock.TransportSocket(sock)
        if extra:
            self._extra.update(extra)
        # asyncio sets TCP_NODELAY on every TCP transport (base_events._set_nodelay).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if server is not None:
            server._attach(self) if _SERVER_KEEPS_TRANSPORTS else server._attach()
        loop.call_soon(self._start, waiter)

    @property
    def _protocol_paused(self) -> bool:  # _FlowControlMixin's name for it (read by sendfile)
        return self._writing_paused

    def __repr__(self) -> str:
        return f"<ProgramTCPTransport {self._host.name} {self._conn.local} -> {self._conn.remote} {self._conn.state.value}>"

    def _start(self, waiter: asyncio.Future | None) -> None:
        self._started = True
        self._protocol.connection_made(self)
        if waiter is not None and not waiter.cancelled():
            waiter.set_result(None)
        conn = self._conn
        if conn.state is State.CLOSED and not conn.readable_bytes:
            self.closed(conn.error)
        elif conn.readable_bytes or conn.eof:
            self.readable()

    # -- events from the stack, run as the host's code ------------------------------------------
    def readable(self) -> None:
        if self._started:
            with_host(self._host, self._readable)

    def writable(self) -> None:
        if self._started:
            with_host(self._host, super().writable)

    def closed(self, error: int) -> None:
        if self._started:
            with_host(self._host, super().closed, error)

    def _readable(self) -> None:
        if self._paused_reading or self._lost or self._closing:
            return  # after close() nothing more is delivered; unread data makes close a RST
        conn = self._conn
        protocol = self._protocol
        try:
            data = conn.read()
            if data:
                if isinstance(protocol, asyncio.BufferedProtocol):
                    protocols._feed_data_to_buffered_proto(protocol, data)
                else:
                    protocol.data_received(data)
            if conn.eof and not self._eof_delivered and not conn.readable_bytes and not self._lost:
                self._eof_delivered = True
                if not protocol.eof_received():
                    self.close()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - as asyncio's _read_ready: report, then abort
            self._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        self._loop.call_exception_handler({"message": message, "exception": exc, "transport": self,
                                           "protocol": self._protocol})
        self._force_close(exc)

    # -- Transport API ----------------------------------------------------------------------------
    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol  # type: ignore[assignment]

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def abort(self) -> None:
        """Close at once, dropping what the transport buffers: as close(2) of the socket, a FIN
        after the data already in the send buffer, or a RST when received data was never read
        (Linux's tcp_close)."""
        self._force_close(None)

    def _drop_connection(self) -> None:
        # As close(2) of the socket (Linux's tcp_close): a FIN, or a RST if data was never read.
        self._conn.close()

    def _connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: Exception | None) -> None:
        try:
            if self._started:
                self._protocol.connection_lost(exc)
        finally:
            self._sock.detach()
            server, self._server = self._server, None
            if server is not None:
                server._detach(self) if _SERVER_KEEPS_TRANSPORTS else server._detach()
