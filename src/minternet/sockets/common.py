"""What every socket shares: constants (the socket module's own values) and errors."""

from __future__ import annotations

import errno
import os
import socket as _socket
from typing import Any

from ..transport.udp import ANY

AF_INET = _socket.AF_INET
SOCK_DGRAM = _socket.SOCK_DGRAM
SOCK_STREAM = _socket.SOCK_STREAM
SOL_SOCKET = _socket.SOL_SOCKET
SO_REUSEADDR = _socket.SO_REUSEADDR
SO_BROADCAST = _socket.SO_BROADCAST
SO_RCVBUF = _socket.SO_RCVBUF
IPPROTO_IP = _socket.IPPROTO_IP
IP_TTL = _socket.IP_TTL
IP_MTU_DISCOVER = getattr(_socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DONT = getattr(_socket, "IP_PMTUDISC_DONT", 0)
IP_PMTUDISC_DO = getattr(_socket, "IP_PMTUDISC_DO", 2)

MAX_UDP_PAYLOAD = 65507  # 65535 - 20 (IPv4 header) - 8 (UDP header)
DEFAULT_RCVBUF = 212992  # Linux's net.core.rmem_default
IPPROTO_TCP = _socket.IPPROTO_TCP
TCP_NODELAY = _socket.TCP_NODELAY
SO_KEEPALIVE = _socket.SO_KEEPALIVE
SO_SNDBUF = _socket.SO_SNDBUF
SO_ERROR = _socket.SO_ERROR
TCP_CONGESTION = getattr(_socket, "TCP_CONGESTION", 13)
SHUT_RD, SHUT_WR, SHUT_RDWR = _socket.SHUT_RD, _socket.SHUT_WR, _socket.SHUT_RDWR


def os_error(code: int, detail: str = "") -> OSError:
    """An OSError with the errno and the message the operating system would give."""
    text = os.strerror(code) + (f": {detail}" if detail else "")
    if code == errno.ETIMEDOUT:
        return TimeoutError(code, text)
    if code == errno.ECONNREFUSED:
        return ConnectionRefusedError(code, text)
    cls = {errno.EAGAIN: BlockingIOError, errno.ECONNRESET: ConnectionResetError, errno.EPIPE: BrokenPipeError,
           errno.ECONNABORTED: ConnectionAbortedError}.get(code, OSError)
    return cls(code, text)


def check_address(address: Any, what: str) -> tuple[str, int]:
    if not (isinstance(address, tuple) and len(address) == 2):
        raise TypeError(f"{what}: AF_INET address must be a tuple (host, port), not {address!r}")
    host, port = address
    if not isinstance(port, int):
        raise TypeError(f"'{type(port).__name__}' object cannot be interpreted as an integer")
    if not 0 <= port <= 65535:
        raise OverflowError(f"{what}: port must be 0-65535.")
    if host in ("", "0.0.0.0"):
        return ANY, port
    if host == "<broadcast>":
        return "255.255.255.255", port
    try:
        return _socket.inet_ntoa(_socket.inet_aton(host)), port
    except (OSError, TypeError):
        raise _socket.gaierror(_socket.EAI_NONAME, f"Name or service not known: {host!r} (sockets take "
                               "IPv4 addresses; resolve names first with await host.resolve(name))") from None


class SocketBase:
    """What every minternet socket shares with ``socket.socket``: timeouts, blocking mode, and
    use as a context manager. Subclasses define close()."""

    _timeout: float | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - every socket type defines its own
        raise NotImplementedError

    def fileno(self) -> int:
        return -1  # no file descriptor: the socket lives in the simulated host

    def settimeout(self, value: float | None) -> None:
        if value is not None and value < 0:
            raise ValueError("Timeout value out of range")
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0
