"""Application code on the operating system's own UDP sockets.

:class:`OSHost` offers the small part of :class:`minternet.host.Host` that applications use
(``socket()``, ``rng``, ``clock``), backed by real sockets on asyncio, so the same DNS server and
resolver code runs on a simulated host and on loopback, where real clients such as dig talk to it.
"""

from __future__ import annotations

import asyncio
import errno
import random
import socket as _socket

from ..sockets import os_error
from .clock import RealtimeClock


class OSDatagramSocket:
    """A non-blocking OS UDP socket with the minternet socket surface (awaitable receives)."""

    def __init__(self) -> None:
        self._sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._timeout: float | None = None

    def settimeout(self, value: float | None) -> None:
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self._sock.setsockopt(level, option, value)

    def bind(self, address: tuple[str, int]) -> None:
        self._sock.bind(address)

    def connect(self, address: tuple[str, int]) -> None:
        self._sock.connect(address)

    def getsockname(self) -> tuple[str, int]:
        return self._sock.getsockname()

    def getpeername(self) -> tuple[str, int]:
        return self._sock.getpeername()

    def sendto(self, data: bytes, address: tuple[str, int]) -> int:
        return self._sock.sendto(data, address)

    def send(self, data: bytes) -> int:
        return self._sock.send(data)

    async def recvfrom(self, bufsize: int) -> tuple[bytes, tuple[str, int]]:
        loop = asyncio.get_running_loop()
        try:
            if self._timeout is None:
                return await loop.sock_recvfrom(self._sock, bufsize)
            return await asyncio.wait_for(loop.sock_recvfrom(self._sock, bufsize), self._timeout)
        except asyncio.TimeoutError:
            raise os_error(errno.ETIMEDOUT, "timed out") from None

    async def recv(self, bufsize: int) -> bytes:
        data, _ = await self.recvfrom(bufsize)
        return data

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "OSDatagramSocket":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OSHost:
    """The operating system as a minternet host, for applications that only need sockets."""

    def __init__(self, name: str = "os") -> None:
        self.name = name
        self.clock = RealtimeClock()
        self.rng = random.SystemRandom()

    async def start_server(self, client_connected_cb, port: int, host: str = "127.0.0.1", **kw):
        return await asyncio.start_server(client_connected_cb, host, port, **kw)

    async def open_connection(self, host: str, port: int, **kw):
        return await asyncio.open_connection(host, port, **kw)

    def socket(self, family: int = _socket.AF_INET, type: int = _socket.SOCK_DGRAM, proto: int = 0):
        if family != _socket.AF_INET or type != _socket.SOCK_DGRAM:
            raise os_error(errno.EPROTONOSUPPORT, "only AF_INET/SOCK_DGRAM here")
        return OSDatagramSocket()
