"""``socket.socket`` for programs on simulated hosts.

Libraries create sockets themselves (asyncio's create_connection and create_server do,
aiohappyeyeballs does): while a program runs on a simulated host, ``socket.socket(AF_INET, ...)``
gives a :class:`SimSocket` (see :mod:`.guard`). It is a real instance of ``socket.socket``, so
isinstance checks pass, but it holds no file descriptor: the network behind it is the host's
(a minternet StreamSocket or DatagramSocket inside). Waiting operations are the loop's
(``await loop.sock_connect(sock, addr)``, ``sock_recv``, ...); the blocking forms refuse, since
blocking the one thread would stop the simulated world.
"""

from __future__ import annotations

import errno
import os
import socket
import warnings
import weakref
from typing import TYPE_CHECKING, Any

from ..sockets.common import os_error
from ..sockets.tcp import StreamSocket
from ..sockets.udp import DatagramSocket
from ..transport.tcp.connection import State
from .datagram import ProgramDatagramSocket

if TYPE_CHECKING:
    from ..host import Host

_CSocket = socket._socket.socket  # type: ignore[attr-defined]
SO_REUSEPORT = getattr(socket, "SO_REUSEPORT", 15)
# Linux's TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT, in seconds and counts
_KEEPALIVE_OPTS = {getattr(socket, "TCP_KEEPIDLE", 4): ("keepalive_time", 1_000_000_000),
                   getattr(socket, "TCP_KEEPINTVL", 5): ("keepalive_interval", 1_000_000_000),
                   getattr(socket, "TCP_KEEPCNT", 6): ("keepalive_probes", 1)}


class SimSocket(socket.socket):
    """A socket of a simulated host that is an instance of ``socket.socket``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # type.__call__ runs __init__ on what socket.socket.__new__ returned: socket.socket's own
        # __init__ would open a real file descriptor.
        pass

    @classmethod
    def create(cls, host: "Host", family: int = socket.AF_INET, type: int = socket.SOCK_STREAM,  # noqa: A002
               proto: int = 0, inner: StreamSocket | DatagramSocket | None = None) -> "SimSocket":
        """A socket on ``host``; ``inner`` is the minternet socket it wraps (a new one if None)."""
        if family != socket.AF_INET:
            raise os_error(errno.EAFNOSUPPORT, "the simulated internet is IPv4 only (AF_INET)")
        kind = type & 0xF  # without SOCK_NONBLOCK / SOCK_CLOEXEC
        if kind not in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            raise os_error(errno.EPROTONOSUPPORT, f"socket type {kind}: SOCK_STREAM or SOCK_DGRAM")
        self = _CSocket.__new__(cls)  # the C object with fd -1; no __init__, no descriptor
        self._host = host
        self._sim_family = socket.AddressFamily.AF_INET
        self._sim_type = socket.SocketKind(kind)
        self._sim_proto = proto or (socket.IPPROTO_TCP if kind == socket.SOCK_STREAM else socket.IPPROTO_UDP)
        if inner is None:
            inner = StreamSocket(host) if kind == socket.SOCK_STREAM else ProgramDatagramSocket(host)
        self._inner = inner
        self._sim_timeout: float | None = 0.0 if type & getattr(socket, "SOCK_NONBLOCK", 0) else None
        self._sim_closed = False
        self._io_refs = 0
        self._closed = False  # socket.socket's own flag, read by its helpers
        self._efd: int | None = None
        self._ready = False
        self.options_without_effect: dict[tuple[int, int], Any] = {}
        return self

    # -- identity -----------------------------------------------------------------------------
    family = property(lambda self: self._sim_family)  # type: ignore[assignment]
    type = property(lambda self: self._sim_type)  # type: ignore[assignment]
    proto = property(lambda self: self._sim_proto)  # type: ignore[assignment]

    @property
    def host(self) -> "Host":
        return self._host

    @property
    def inner(self) -> StreamSocket | DatagramSocket:
        """The minternet socket behind this one."""
        return self._inner

    def __repr__(self) -> str:
        return f"<SimSocket on {self._host.name} {self._inner!r}>"

    def __getstate__(self) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__} object")

    def dup(self) -> "SimSocket":
        raise os_error(errno.EOPNOTSUPP, "dup() of a simulated socket")

    def makefile(self, *args: Any, **kwargs: Any) -> Any:
        raise os_error(errno.EOPNOTSUPP, "makefile() would block; use the loop's sock_* methods")

    # -- readiness ----------------------------------------------------------------------------
    def fileno(self) -> int:
        """-1, except for a connected TCP socket: then an eventfd that is readable exactly when
        recv() would not block (data, end of stream, or a closed connection), as of this call.
        httpcore polls it to see whether a kept-alive connection is still usable; -1 would read
        as "readable" (closed), a descriptor that never turns readable would hide a server's FIN."""
        conn = getattr(self._inner, "_conn", None)
        if conn is None or self._sim_closed:
            return -1
        if self._efd is None:
            self._efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self._efd_finalizer = weakref.finalize(self, os.close, self._efd)
        ready = bool(conn.readable_bytes or conn.eof or conn.state is State.CLOSED)
        if ready and not self._ready:
            os.eventfd_write(self._efd, 1)
        elif not ready and self._ready:
            os.eventfd_read(self._efd)
        self._ready = ready
        return self._efd

    # -- blocking mode (the inner socket always waits; the loop's sock_* methods are async) --
    def setblocking(self, flag: bool) -> None:
        self._sim_timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        return self._sim_timeout != 0.0

    def settimeout(self, value: float | None) -> None:
        if value is not None and value < 0:
            raise ValueError("Timeout value out of range")
        self._sim_timeout = value

    def gettimeout(self) -> float | None:
        return self._sim_timeout

    # -- options and addresses ------------------------------------------------------------------
    def setsockopt(self, level: int, option: int, value: Any, optlen: Any = None) -> None:
        """Options the stack has are mapped to it (TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE,
        SO_RCVBUF, SO_REUSEADDR, ...); others Linux accepts (SO_REUSEPORT, IP_TOS, ...) are
        remembered in ``options_without_effect`` and read back by getsockopt."""
        inner = self._inner
        if isinstance(inner, StreamSocket):
            if level == socket.IPPROTO_TCP and option in _KEEPALIVE_OPTS:
                name, unit = _KEEPALIVE_OPTS[option]
                inner.set_tcp_options(**{name: int(value) * unit})
                return
            try:
                inner.setsockopt(level, option, value)
                return
            except OSError as exc:
                if exc.errno != errno.ENOPROTOOPT:
                    raise
            self.options_without_effect[(level, option)] = value
            return
        inner.setsockopt(level, option, value)

    def getsockopt(self, level: int, option: int, buflen: int | None = None) -> Any:
        if (level, option) in self.options_without_effect:
            return self.options_without_effect[(level, option)]
        return self._inner.getsockopt(level, option)

    def getsockname(self) -> tuple[str, int]:
        return self._inner.getsockname()

    def getpeername(self) -> tuple[str, int]:
        return self._inner.getpeername()

    def bind(self, address: Any) -> None:
        self._inner.bind(tuple(address[:2]))

    def listen(self, backlog: int = 128) -> None:
        self._inner.listen(backlog)

    # -- non-blocking operations ------------------------------------------------------------------
    def connect(self, address: Any) -> None:
        raise os_error(errno.EWOULDBLOCK, "a blocking connect() cannot wait on the simulated network; "
                       "use await loop.sock_connect(sock, address)")

    def connect_ex(self, address: Any) -> int:
        if isinstance(self._inner, DatagramSocket):
            self._inner.connect(tuple(address[:2]))
            return 0
        return errno.EWOULDBLOCK

    def accept(self) -> tuple["SimSocket", tuple[str, int]]:
        inner = self._stream()
        listener = inner._listener
        if listener is None:
            raise os_error(errno.EINVAL, "accept() on a socket that is not listening")
        while listener.accept_queue:
            conn = listener.accept_queue.popleft()
            if conn.state is not State.CLOSED:
                return SimSocket.create(self._host, inner=StreamSocket(self._host, conn)), conn.remote
        raise os_error(errno.EAGAIN)

    def send(self, data: Any, flags: int = 0) -> int:
        return self._inner.send(data)

    def sendall(self, data: Any, flags: int = 0) -> None:
        view = memoryview(data)
        while view:
            view = view[self._inner.send(view):]

    def sendto(self, data: Any, *args: Any) -> int:
        return self._inner.sendto(data, tuple(args[-1][:2]))

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        inner = self._inner
        if isinstance(inner, DatagramSocket):
            return inner.recvfrom_nowait(bufsize)[0]
        conn = inner._connected()
        if conn.readable_bytes:
            return conn.read(bufsize)
        if conn.eof or conn.state is State.CLOSED:
            if conn.error:
                raise os_error(conn.error)
            return b""
        raise os_error(errno.EAGAIN)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        data = self.recv(nbytes or len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, tuple[str, int]]:
        inner = self._inner
        if isinstance(inner, DatagramSocket):
            return inner.recvfrom_nowait(bufsize)
        return self.recv(bufsize), inner.getpeername()

    def shutdown(self, how: int) -> None:
        self._inner.shutdown(how)

    def close(self) -> None:
        """close(2): a FIN after the queued data, a RST if received data was never read."""
        if self._sim_closed:
            return
        self._sim_closed = self._closed = True
        self._inner.close()
        if self._efd is not None:
            self._efd_finalizer()

    def __del__(self) -> None:
        # As CPython's sock_finalize: a socket dropped unclosed warns, then is closed (close(2):
        # the peer sees the FIN), so a connection does not stay ESTABLISHED for ever.
        if getattr(self, "_sim_closed", True):
            return
        try:
            warnings.warn(f"unclosed {self!r}", ResourceWarning, source=self)
        finally:  # closed even when warnings are errors
            try:
                self.close()
            except Exception:  # noqa: BLE001 - a finaliser must not raise (the host may be torn down)
                pass

    def detach(self) -> int:
        """Give up the connection without closing it (a transport owned it and closed it)."""
        self._sim_closed = self._closed = True
        if self._efd is not None:
            self._efd_finalizer()
        return -1

    # -- internals --------------------------------------------------------------------------------
    def _stream(self) -> StreamSocket:
        if not isinstance(self._inner, StreamSocket):
            raise os_error(errno.EOPNOTSUPP)
        return self._inner


def check_sim_socket(sock: Any, what: str) -> SimSocket:
    """``sock`` if it is a simulated socket; a RuntimeError that says why otherwise."""
    if isinstance(sock, SimSocket):
        return sock
    raise RuntimeError(
        f"{what}: {sock!r} is a real operating-system socket. On the simulated network only sockets made "
        "while the program runs on a simulated host can be used: socket.socket() there makes one")
