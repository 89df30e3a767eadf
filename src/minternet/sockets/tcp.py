"""TCP sockets shaped like Python's ``socket`` module.

::

    srv = host.socket(AF_INET, SOCK_STREAM)
    srv.bind(("0.0.0.0", 80))
    srv.listen()
    conn, addr = await srv.accept()
    data = await conn.recv(4096)
    await conn.sendall(b"HTTP/1.1 200 OK\\r\\n...")
    conn.close()

``connect``, ``accept``, ``recv`` and ``sendall`` wait, so they are coroutines; ``send`` queues
what fits in the send buffer and returns at once, like a non-blocking send.
"""

from __future__ import annotations

import asyncio
import errno
from typing import TYPE_CHECKING, Any

from ..transport.tcp.connection import Events, State, TCPConnection
from ..transport.udp import ANY
from .common import (SocketBase, IPPROTO_TCP, SHUT_RD, SHUT_RDWR, SHUT_WR, SO_ERROR, SO_KEEPALIVE, SO_RCVBUF,
                     SO_REUSEADDR, SO_SNDBUF, SOL_SOCKET, TCP_CONGESTION, TCP_NODELAY, check_address, os_error)

if TYPE_CHECKING:
    from ..host import Host
    from ..transport.tcp.layer import Bound, Listener


class _Waker(Events):
    """Connection events -> wake whoever awaits."""

    def __init__(self, sock: "StreamSocket") -> None:
        self.sock = sock

    def established(self) -> None:
        self.sock._wake()

    def readable(self) -> None:
        self.sock._wake()

    def writable(self) -> None:
        self.sock._wake()

    def closed(self, error: int) -> None:
        self.sock._wake()


class StreamSocket(SocketBase):
    """A TCP socket on a minternet host."""

    family = 2
    type = 1
    proto = 6

    def __init__(self, host: "Host", conn: TCPConnection | None = None) -> None:
        self.host = host
        self._conn = conn
        self._listener: Listener | None = None
        self._bound: Bound | None = None  # the port held from bind() until listen() or connect()
        self._local: tuple[str, int] | None = conn.local if conn else None
        self._options = host.tcp.defaults.copy()
        self._timeout: float | None = None
        self._closed = False
        self._shut_rd = False
        self._waiters: list[asyncio.Future] = []
        if conn is not None:
            conn.events = _Waker(self)

    def __repr__(self) -> str:
        state = self._conn.state.value if self._conn else ("LISTEN" if self._listener else "unconnected")
        return f"<minternet StreamSocket on {self.host.name} {state} laddr={self._local}>"

    # -- options ------------------------------------------------------------------------------------
    def setsockopt(self, level: int, option: int, value: Any) -> None:
        opts = self._conn.opt if self._conn is not None else self._options
        if (level, option) == (IPPROTO_TCP, TCP_NODELAY):
            opts.nodelay = bool(value)
            if self._conn is not None and value:
                self._conn.output()  # Linux pushes what Nagle held back
        elif (level, option) == (SOL_SOCKET, SO_KEEPALIVE):
            opts.keepalive = bool(value)
            if self._conn is not None:
                self._conn.start_keepalive()
        elif (level, option) == (SOL_SOCKET, SO_RCVBUF):
            opts.rcvbuf = max(2048, int(value))
        elif (level, option) == (SOL_SOCKET, SO_SNDBUF):
            opts.sndbuf = max(2048, int(value))
        elif (level, option) == (IPPROTO_TCP, TCP_CONGESTION):
            from ..transport.tcp.congestion import make_congestion_control
            name = value.decode() if isinstance(value, bytes) else str(value)
            make_congestion_control(name, 1460)  # validates the name
            opts.congestion = name
        elif (level, option) == (SOL_SOCKET, SO_REUSEADDR):
            opts.reuseaddr = bool(value)  # bind() over connections in TIME-WAIT (Linux's sk_reuse)
        else:
            raise os_error(errno.ENOPROTOOPT, f"option ({level}, {option}) is not supported")

    def getsockopt(self, level: int, option: int) -> Any:
        opts = self._conn.opt if self._conn is not None else self._options
        if (level, option) == (SOL_SOCKET, SO_ERROR):
            return self._conn.error if self._conn is not None else 0
        return {(IPPROTO_TCP, TCP_NODELAY): int(opts.nodelay), (SOL_SOCKET, SO_KEEPALIVE): int(opts.keepalive),
                (SOL_SOCKET, SO_RCVBUF): opts.rcvbuf, (SOL_SOCKET, SO_SNDBUF): opts.sndbuf,
                (IPPROTO_TCP, TCP_CONGESTION): opts.congestion.encode(),
                (SOL_SOCKET, SO_REUSEADDR): int(opts.reuseaddr)}.get((level, option), 0)

    def set_tcp_options(self, **options: Any) -> None:
        """minternet's own knobs, e.g. ``reassembly="discard"`` or ``msl=1_000_000_000``."""
        opts = self._conn.opt if self._conn is not None else self._options
        for k, v in options.items():
            if not hasattr(opts, k):
                raise TypeError(f"unknown TCP option {k!r}")
            setattr(opts, k, v)

    def tcp_info(self) -> dict[str, Any]:
        """Like Linux's TCP_INFO / ``ss -i``: state, windows, RTT and counters."""
        c = self._conn
        if c is None:
            return {"state": "LISTEN" if self._listener else "CLOSED"}
        return {"state": c.state.value, "mss": c.mss, "cwnd": c.cc.cwnd, "ssthresh": c.cc.ssthresh,
                "congestion": c.cc.name, "srtt_ms": (c.rtt.srtt or 0) / 1e6, "rto_ms": c.rtt.rto / 1e6,
                "snd_wnd": c.snd_wnd, "rcv_wnd": c.rcv_window(), "snd_wscale": c.snd_wscale,
                "rcv_wscale": c.rcv_wscale, "sack": c.sack_ok, "timestamps": c.ts_ok, **c.stats}

    # -- addresses ----------------------------------------------------------------------------------
    def getsockname(self) -> tuple[str, int]:
        if self._conn is not None:
            return self._conn.local
        return self._local or (ANY, 0)

    def getpeername(self) -> tuple[str, int]:
        if self._conn is None or self._conn.state in (State.CLOSED, State.SYN_SENT):
            raise os_error(errno.ENOTCONN)
        return self._conn.remote

    def bind(self, address: tuple[str, int]) -> None:
        self._check_open()
        if self._local is not None:
            raise os_error(errno.EINVAL, "the socket is already bound")
        addr, port = check_address(address, "bind()")
        if addr != ANY and not self.host.is_local_address(addr):
            raise os_error(errno.EADDRNOTAVAIL, f"{addr} is not an address of {self.host.name}")
        try:
            self._bound = self.host.tcp.bind(addr, port, self._options)
        except OSError as exc:
            raise os_error(exc.errno or errno.EADDRINUSE, f"TCP port {port} on {self.host.name}") from None
        self._local = (addr, self._bound.port)

    # -- server side --------------------------------------------------------------------------------
    def listen(self, backlog: int = 128) -> None:
        self._check_open()
        if self._local is None:
            self.bind((ANY, 0))
        addr, port = self._local  # type: ignore[misc]
        self._listener = self.host.tcp.listen(addr, port, backlog, self._options, self._bound)
        self._bound = None
        self._listener.on_acceptable = self._wake

    async def accept(self) -> tuple["StreamSocket", tuple[str, int]]:
        self._check_open()
        if self._listener is None:
            raise os_error(errno.EINVAL, "accept() on a socket that is not listening")
        while True:
            q = self._listener.accept_queue
            while q:
                conn = q.popleft()
                if conn.state is State.CLOSED:
                    continue  # reset before we got to it
                return StreamSocket(self.host, conn), conn.remote
            await self._wait("accept")

    # -- client side --------------------------------------------------------------------------------
    async def connect(self, address: tuple[str, int]) -> None:
        """The three-way handshake. Raises ConnectionRefusedError (RST), TimeoutError (no answer,
        ETIMEDOUT), or OSError(ENETUNREACH/EHOSTUNREACH) as Linux does."""
        self._check_open()
        if self._conn is not None:
            raise os_error(errno.EISCONN)
        addr, port = check_address(address, "connect()")
        conn = self.host.tcp.connect((addr, port), self._local, self._options)
        if self._bound is not None:  # the connection holds the port now
            self.host.tcp.unbind(self._bound)
            self._bound = None
        conn.events = _Waker(self)
        self._conn = conn
        self._local = conn.local
        while conn.state is State.SYN_SENT or conn.state is State.SYN_RECEIVED:
            await self._wait("connect")
        if conn.state is State.CLOSED:
            raise os_error(conn.error or errno.ECONNREFUSED)

    # -- data ---------------------------------------------------------------------------------------
    def send(self, data: bytes) -> int:
        """Queue what fits in the send buffer; BlockingIOError (EAGAIN) if nothing does."""
        conn = self._connected()
        if conn.state is State.CLOSED:
            raise os_error(conn.error or errno.EPIPE)
        try:
            n = conn.write(bytes(data))
        except OSError as exc:
            raise os_error(exc.errno or errno.EPIPE) from None
        if n == 0 and data:
            raise os_error(errno.EAGAIN)
        return n

    async def sendall(self, data: bytes) -> None:
        """Queue all of ``data``, waiting for buffer space as the peer acknowledges."""
        conn = self._connected()
        view = memoryview(bytes(data))
        while view:
            if conn.state is State.CLOSED:
                raise os_error(conn.error or errno.EPIPE)
            try:
                n = conn.write(bytes(view[:1 << 20]))
            except OSError as exc:
                raise os_error(exc.errno or errno.EPIPE) from None
            view = view[n:]
            if view:
                await self._wait("send")

    async def recv(self, bufsize: int) -> bytes:
        """Up to ``bufsize`` bytes, waiting for some; b"" once the peer has closed its side."""
        conn = self._connected()
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        while True:
            if conn.readable_bytes:
                return conn.read(bufsize)
            if conn.eof or self._shut_rd:
                return b""
            if conn.state is State.CLOSED:
                if conn.error:
                    raise os_error(conn.error)
                return b""
            await self._wait("recv")

    def shutdown(self, how: int) -> None:
        conn = self._connected()
        if how in (SHUT_RD, SHUT_RDWR):
            self._shut_rd = True
            conn.shutdown_read()
        if how in (SHUT_WR, SHUT_RDWR):
            conn.shutdown_write()
        self._wake()

    def close(self) -> None:
        """Close: a FIN after the queued data; a RST if received data was never read (as Linux
        does, RFC 2525 2.17). Unlike shutdown(SHUT_WR), nobody reads any more: data that still
        arrives is answered with RST, and FIN-WAIT-2 ends after the tcp_fin_timeout."""
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            self._listener.close()
        if self._bound is not None:
            self.host.tcp.unbind(self._bound)
            self._bound = None
        conn = self._conn
        if conn is not None and conn.state is not State.CLOSED:
            conn.close()
        self._wake()

    # -- internals ----------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise os_error(errno.EBADF)

    def _connected(self) -> TCPConnection:
        self._check_open()
        if self._conn is None:
            raise os_error(errno.ENOTCONN)
        return self._conn

    async def _wait(self, what: str) -> None:
        if self._timeout == 0.0:
            raise os_error(errno.EAGAIN)
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            if self._timeout is None:
                await fut
            else:
                try:
                    await asyncio.wait_for(fut, self._timeout)
                except asyncio.TimeoutError:
                    raise os_error(errno.ETIMEDOUT, f"timed out ({what})") from None
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)
        self._check_open()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
