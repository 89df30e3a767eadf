"""UDP sockets shaped like Python's ``socket`` module, on a minternet host.

::

    sock = host.socket(AF_INET, SOCK_DGRAM)
    sock.bind(("0.0.0.0", 5353))
    sock.settimeout(2)
    data, addr = await sock.recvfrom(512)     # waiting is asynchronous: the network runs meanwhile
    sock.sendto(b"hi", addr)

Calls that wait (``recv``, ``recvfrom``) are coroutines; everything else is synchronous, as in
``socket``. Errors are the ``OSError``s a Python programmer knows, with Linux's errno values:
EADDRINUSE, EADDRNOTAVAIL, EACCES, EMSGSIZE, ECONNREFUSED, ENETUNREACH, ENOTCONN, EDESTADDRREQ,
and ``TimeoutError`` (errno ETIMEDOUT) when a timeout runs out. There is also an asyncio-style
datagram API: :meth:`minternet.host.Host.create_datagram_endpoint`.
"""

from __future__ import annotations

import asyncio
import errno
import socket as _socket
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from ..transport.udp import ANY
from ..stack.errors import ErrorKind, TransportError
from ..wire.ipv4 import IPv4

if TYPE_CHECKING:
    from ..host import Host

from .common import (SocketBase, AF_INET, DEFAULT_RCVBUF, IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_PMTUDISC_DONT, IP_TTL, IPPROTO_IP,
                     MAX_UDP_PAYLOAD, SO_BROADCAST, SO_RCVBUF, SO_REUSEADDR, SOCK_DGRAM, SOL_SOCKET, check_address,
                     os_error)



class DatagramSocket(SocketBase):
    """A UDP socket on a simulated (or real-world) host."""

    family = AF_INET
    type = SOCK_DGRAM
    proto = 17

    def __init__(self, host: "Host") -> None:
        self.host = host
        self._local: tuple[str, int] | None = None
        self._remote: tuple[str, int] | None = None
        self._queue: deque[tuple[bytes, tuple[str, int]]] = deque()
        self._queued_bytes = 0
        self._waiter: asyncio.Future | None = None
        self._timeout: float | None = None
        self._closed = False
        self._error: int = 0  # a pending asynchronous error (from ICMP), reported on the next call
        self._options: dict[tuple[int, int], int] = {(SOL_SOCKET, SO_RCVBUF): DEFAULT_RCVBUF}
        self.datagrams_dropped = 0

    # -- the socket module's surface --------------------------------------------------------------
    def __repr__(self) -> str:
        state = "closed" if self._closed else f"laddr={self._local} raddr={self._remote}"
        return f"<minternet DatagramSocket on {self.host.name} {state}>"

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self._check_open()
        self._options[(level, option)] = int(value)

    def getsockopt(self, level: int, option: int) -> int:
        if (level, option) == (SOL_SOCKET, _socket.SO_ERROR):
            err, self._error = self._error, 0
            return err
        return self._options.get((level, option), 0)

    def getsockname(self) -> tuple[str, int]:
        self._check_open()
        return self._local or (ANY, 0)

    def getpeername(self) -> tuple[str, int]:
        self._check_open()
        if self._remote is None:
            raise os_error(errno.ENOTCONN)
        return self._remote

    def bind(self, address: tuple[str, int]) -> None:
        self._check_open()
        if self._local is not None:
            raise os_error(errno.EINVAL, "the socket is already bound")
        addr, port = check_address(address, "bind()")
        if addr != ANY and not self.host.is_local_address(addr):
            raise os_error(errno.EADDRNOTAVAIL, f"{addr} is not an address of {self.host.name} "
                           f"(it has {', '.join(self.host.addresses) or 'none'})")
        reuse = bool(self._options.get((SOL_SOCKET, SO_REUSEADDR)))
        port = self.host.udp.bind(port, self, addr, reuse)
        self._local = (addr, port)

    def connect(self, address: tuple[str, int]) -> None:
        """Fix the peer: send() goes there, and only its datagrams are received. ICMP errors for
        it (port unreachable: ECONNREFUSED) are reported on the next call, as on Linux."""
        self._check_open()
        addr, port = check_address(address, "connect()")
        if self._local is None:
            self.bind((ANY, 0))
        self._remote = (addr, port)
        binding = self.host.udp.binding(self)
        if binding is not None:
            binding.remote = self._remote
        # Datagrams queued from other peers are no longer ours to deliver.
        kept = deque(item for item in self._queue if item[1] == self._remote)
        self._queue = kept
        self._queued_bytes = sum(len(d) for d, _ in kept)

    def sendto(self, data: bytes, address: tuple[str, int]) -> int:
        self._check_open()
        addr, port = check_address(address, "sendto()")
        return self._send(bytes(data), addr, port)

    def send(self, data: bytes) -> int:
        self._check_open()
        self._raise_pending()
        if self._remote is None:
            raise os_error(errno.EDESTADDRREQ)
        return self._send(bytes(data), *self._remote)

    def _send(self, data: bytes, addr: str, port: int) -> int:
        if len(data) > MAX_UDP_PAYLOAD:
            raise os_error(errno.EMSGSIZE, f"{len(data)} bytes; a UDP datagram carries at most {MAX_UDP_PAYLOAD}")
        if port == 0:
            raise os_error(errno.EINVAL, "cannot send to port 0")
        target = _socket.inet_aton(addr)
        if target in self.host.ip.broadcasts and not self._options.get((SOL_SOCKET, SO_BROADCAST)):
            raise os_error(errno.EACCES, "sending to a broadcast address needs SO_BROADCAST")
        if self._local is None:
            self.bind((ANY, 0))
        local_addr, local_port = self._local  # type: ignore[misc]
        df = self._options.get((IPPROTO_IP, IP_MTU_DISCOVER)) == IP_PMTUDISC_DO
        ttl = self._options.get((IPPROTO_IP, IP_TTL)) or None
        failure = self.host.udp.send(local_port, addr, port, data, src=local_addr, ttl=ttl, df=df)
        if failure == "no-route":
            raise os_error(errno.ENETUNREACH)
        if failure == "frag-needed":
            raise os_error(errno.EMSGSIZE, "larger than the path MTU with IP_PMTUDISC_DO")
        if failure == "node-down":
            raise os_error(errno.ENETDOWN)
        return len(data)

    async def recvfrom(self, bufsize: int) -> tuple[bytes, tuple[str, int]]:
        """Wait for a datagram (up to the socket's timeout); return its first ``bufsize`` bytes
        (the rest is discarded, as for any datagram socket) and the sender."""
        self._check_open()
        self._raise_pending()
        if not self._queue:
            if self._timeout == 0.0:
                raise os_error(errno.EAGAIN)
            await self._wait()
        data, addr = self._queue.popleft()
        self._queued_bytes -= len(data)
        return data[:bufsize], addr

    async def recv(self, bufsize: int) -> bytes:
        data, _ = await self.recvfrom(bufsize)
        return data

    def recvfrom_nowait(self, bufsize: int) -> tuple[bytes, tuple[str, int]]:
        """The non-blocking form: BlockingIOError (EAGAIN) when nothing has arrived."""
        self._check_open()
        self._raise_pending()
        if not self._queue:
            raise os_error(errno.EAGAIN)
        data, addr = self._queue.popleft()
        self._queued_bytes -= len(data)
        return data[:bufsize], addr

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._local is not None:
            self.host.udp.unbind(self._local[1], self)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(os_error(errno.EBADF, "socket closed while waiting"))

    # -- internals --------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise os_error(errno.EBADF)

    def _raise_pending(self) -> None:
        if self._error:
            err, self._error = self._error, 0
            raise os_error(err)

    async def _wait(self) -> None:
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        try:
            if self._timeout is None:
                await self._waiter
            else:
                try:
                    await asyncio.wait_for(self._waiter, self._timeout)
                except asyncio.TimeoutError:
                    raise os_error(errno.ETIMEDOUT, "timed out") from None
        finally:
            self._waiter = None
        self._raise_pending()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # UDPEndpoint: called by the UDP layer
    def datagram_received(self, data: bytes, src: tuple[str, int], dst: tuple[str, int], ip: IPv4) -> None:
        if self._queued_bytes + len(data) > self._options.get((SOL_SOCKET, SO_RCVBUF), DEFAULT_RCVBUF):
            self.datagrams_dropped += 1
            self.host.drop("udp", "rcvbuf-full", None, packet=ip.encode())
            return
        self._queue.append((data, src))
        self._queued_bytes += len(data)
        self._wake()

    def error_received(self, err: TransportError) -> None:
        # Linux (__udp4_lib_err) without IP_RECVERR: only a connected socket hears of errors, and
        # only of hard ones (port or protocol unreachable, prohibited, parameter problem; a
        # frag-needed unless IP_PMTUDISC_DONT). Host and net unreachable are soft: never reported,
        # which is why a datagram to an absent neighbour (ARP unanswered) fails silently.
        if self._remote is None or (err.dst, err.dport) != self._remote:
            return
        if err.kind is ErrorKind.FRAG_NEEDED:
            if self._options.get((IPPROTO_IP, IP_MTU_DISCOVER)) == IP_PMTUDISC_DONT:
                return
        elif not err.fatal:
            return
        self._error = err.errno
        self._wake()


class DatagramTransport(asyncio.DatagramTransport):
    """asyncio's DatagramTransport over a minternet UDP socket."""

    def __init__(self, sock: DatagramSocket, protocol: asyncio.DatagramProtocol) -> None:
        super().__init__()
        self._sock = sock
        self._protocol = protocol
        self._closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sockname":
            return self._sock.getsockname()
        if name == "peername":
            return self._sock._remote
        if name == "socket":
            return self._sock
        return default

    def sendto(self, data: bytes, addr: tuple[str, int] | None = None) -> None:
        try:
            if addr is None:
                self._sock.send(data)
            else:
                self._sock.sendto(data, addr)
        except OSError as exc:
            self._protocol.error_received(exc)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._sock.close()
        asyncio.get_running_loop().call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()


class _ProtocolAdapter(DatagramSocket):
    """A socket that hands datagrams to an asyncio DatagramProtocol instead of queueing them."""

    protocol: asyncio.DatagramProtocol

    def datagram_received(self, data, src, dst, ip):  # noqa: ANN001
        self.protocol.datagram_received(data, src)

    def error_received(self, err):  # noqa: ANN001
        before = self._error
        super().error_received(err)
        if self._error != before and self._error:
            err, self._error = self._error, 0
            self.protocol.error_received(os_error(err))


async def create_datagram_endpoint(host: "Host", protocol_factory: Callable[[], asyncio.DatagramProtocol],
                                   local_addr: tuple[str, int] | None = None,
                                   remote_addr: tuple[str, int] | None = None,
                                   reuse_port: bool = False, allow_broadcast: bool = False):
    """Like ``loop.create_datagram_endpoint``: returns (transport, protocol)."""
    sock = _ProtocolAdapter(host)
    protocol = protocol_factory()
    sock.protocol = protocol
    if reuse_port:
        sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    if allow_broadcast:
        sock.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)
    sock.bind(local_addr or (ANY, 0))
    if remote_addr is not None:
        sock.connect(remote_addr)
    transport = DatagramTransport(sock, protocol)
    protocol.connection_made(transport)
    return transport, protocol
