"""UDP for programs: the socket behind a SimSocket of type SOCK_DGRAM, and the datagram
transport asyncio's create_datagram_endpoint gets for it."""

from __future__ import annotations

import asyncio
from asyncio import trsock
from typing import TYPE_CHECKING, Any

from ..sockets.common import os_error
from ..sockets.udp import DatagramSocket, DatagramTransport
from .context import with_host

if TYPE_CHECKING:
    from .simsocket import SimSocket


class ProgramDatagramSocket(DatagramSocket):
    """A UDP socket that queues datagrams (sock_recvfrom) until a transport takes them: then
    each goes to its protocol as it arrives, run as code of the host."""

    transport: "ProgramDatagramTransport | None" = None

    def datagram_received(self, data, src, dst, ip):  # noqa: ANN001
        transport = self.transport
        if transport is None:
            super().datagram_received(data, src, dst, ip)
        elif not transport.is_closing():
            with_host(self.host, transport._protocol.datagram_received, data, src)

    def error_received(self, err):  # noqa: ANN001
        before = self._error
        super().error_received(err)
        transport = self.transport
        if transport is not None and self._error and self._error != before:
            code, self._error = self._error, 0
            with_host(self.host, transport._protocol.error_received, os_error(code))


class ProgramDatagramTransport(DatagramTransport):
    """asyncio's DatagramTransport for a program's UDP socket."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: "SimSocket", protocol: asyncio.DatagramProtocol,
                 address: tuple[str, int] | None = None, waiter: asyncio.Future | None = None,
                 extra: dict | None = None) -> None:
        inner = sock.inner
        assert isinstance(inner, ProgramDatagramSocket)
        super().__init__(inner, protocol)
        self._loop = loop
        self._simsock = sock
        self._address = address
        self._extra = dict(extra or {})
        self._extra["socket"] = trsock.TransportSocket(sock)
        inner.transport = self
        loop.call_soon(self._start, waiter)

    def _start(self, waiter: asyncio.Future | None) -> None:
        self._protocol.connection_made(self)
        if waiter is not None and not waiter.cancelled():
            waiter.set_result(None)
        queue = self._sock._queue
        while queue and not self._closing:  # what arrived before the transport existed
            data, src = queue.popleft()
            self._sock._queued_bytes -= len(data)
            self._protocol.datagram_received(data, src)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name in self._extra:
            return self._extra[name]
        return super().get_extra_info(name, default)

    def sendto(self, data: bytes, addr: tuple[str, int] | None = None) -> None:
        if self._address is not None and addr not in (None, self._address):
            raise ValueError(f"Invalid address: must be None or {self._address}")
        if self._closing:
            return
        super().sendto(data, None if self._address is not None else addr)

    def get_write_buffer_size(self) -> int:
        return 0  # a datagram leaves (or is dropped) as it is sent

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._simsock.close()
        self._loop.call_soon(self._protocol.connection_lost, None)
