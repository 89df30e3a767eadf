"""The guard: nothing a simulated program does reaches the real network.

While a simulation's loop runs (in this thread), or code runs as a program of a simulated host:

- ``socket.socket(AF_INET, ...)`` made by a program on a host is a :class:`~.simsocket.SimSocket`
  of that host (asyncio's create_connection/create_server and aiohappyeyeballs make sockets
  themselves). Other families (AF_UNIX) stay real: local IPC.
- An audit hook refuses real sockets for anything but loopback: ``socket.connect``, ``bind``,
  ``sendto``, ``sendmsg`` to an address outside 127.0.0.0/8 and ::1, and the OS resolver
  (``getaddrinfo``/``gethostbyname`` of a name other than localhost) raise
  :class:`RealNetworkRefused`, saying why. (sys.addaudithook cannot be removed: it is added
  once and is inert outside simulations.)
- aiodns/pycares are refused: c-ares is C code with sockets of its own that no audit hook sees.
- anyio's worker threads run inline, as ``run_in_executor`` does: threads would race the
  virtual clock and break determinism.

All of it is undone when the loop stops (the audit hook stays, inert).
"""

from __future__ import annotations

import errno
import importlib.abc
import socket
import sys
from typing import Any

from .context import CURRENT_HOST
from .simsocket import SimSocket
from .vtime import TIME, virtual_now_ns

_real_new = socket.socket.__new__

AIODNS_HINT = ("aiodns/pycares (c-ares: C code with sockets of its own) cannot run on a simulated host. "
               "Make aiohttp use its threaded resolver, which asks loop.getaddrinfo (the host's stub "
               "resolver here): aiohttp.TCPConnector(resolver=aiohttp.ThreadedResolver()), or uninstall aiodns")


class RealNetworkRefused(PermissionError):
    """A program of the simulation tried to use the machine's real network."""

    def __init__(self, what: str) -> None:
        super().__init__(errno.EPERM, f"{what}: refused, a simulation is running and nothing may reach the "
                         "real network (only loopback). Simulated programs get simulated sockets from "
                         "socket.socket() and the loop's methods while they run on a host "
                         "(net.spawn(coro, on='host'))")


class AiodnsRefused(RuntimeError):
    pass


def active() -> bool:
    return virtual_now_ns() is not None or CURRENT_HOST.get() is not None


def _loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host)
    return host.startswith("127.") or host in ("::1", "localhost", "")


def _audit(event: str, args: tuple) -> None:
    if not event.startswith("socket.") or not active():
        return
    if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        addr = args[1]
        if isinstance(addr, tuple) and addr and not _loopback(addr[0]):
            raise RealNetworkRefused(f"{event}{addr!r} on a real socket")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        name = args[0]
        if name is None or _loopback(name) or _numeric(name):
            return
        raise RealNetworkRefused(f"{event}({name!r}): a lookup by the machine's resolver")


def _numeric(name: Any) -> bool:
    try:
        socket.inet_pton(socket.AF_INET, name if isinstance(name, str) else name.decode())
        return True
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def _socket_new(cls: type, family: int = -1, type: int = -1, proto: int = -1, fileno: Any = None) -> Any:  # noqa: A002
    host = CURRENT_HOST.get()
    if host is None or cls is not socket.socket or fileno is not None:
        return _real_new(cls)
    family = socket.AF_INET if family == -1 else family
    if family not in (socket.AF_INET, socket.AF_INET6):
        return _real_new(cls)  # AF_UNIX and the like: local IPC, left real
    return SimSocket.create(host, family, socket.SOCK_STREAM if type == -1 else type, 0 if proto == -1 else proto)


class _RefuseAiodns(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.partition(".")[0] in ("aiodns", "pycares") and active():
            raise ImportError(AIODNS_HINT)
        return None


def _wrap_aiodns() -> None:
    mod = sys.modules.get("aiodns")
    resolver = getattr(mod, "DNSResolver", None)
    if resolver is None or getattr(resolver.__init__, "_minternet_refuses", False):
        return
    real_init = resolver.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if active():
            raise AiodnsRefused(AIODNS_HINT)
        real_init(self, *args, **kwargs)
    __init__._minternet_refuses = True  # type: ignore[attr-defined]
    resolver.__init__ = __init__


def _anyio_inline() -> tuple[Any, Any] | None:
    """anyio runs to_thread.run_sync on threads of its own (not run_in_executor): inline."""
    backend = sys.modules.get("anyio._backends._asyncio")
    cls = getattr(backend, "AsyncIOBackend", None)
    if cls is None or not hasattr(cls, "run_sync_in_worker_thread"):
        return None
    real = cls.__dict__["run_sync_in_worker_thread"]

    async def run_sync_in_worker_thread(klass: Any, func: Any, args: Any, *rest: Any, **kw: Any) -> Any:
        if not active():
            return await real.__func__(klass, func, args, *rest, **kw)
        await klass.checkpoint()
        return func(*args)
    cls.run_sync_in_worker_thread = classmethod(run_sync_in_worker_thread)
    return cls, real


class Guard:
    """Refcounted: on while at least one simulation's loop runs."""

    def __init__(self) -> None:
        self.depth = 0
        self._hooked = False
        self._finder = _RefuseAiodns()
        self._anyio: tuple[Any, Any] | None = None

    def enable(self) -> None:
        self.depth += 1
        if self.depth > 1:
            return
        if not self._hooked:
            sys.addaudithook(_audit)
            self._hooked = True
        socket.socket.__new__ = staticmethod(_socket_new)  # type: ignore[assignment]
        sys.meta_path.insert(0, self._finder)
        _wrap_aiodns()
        self._anyio = _anyio_inline()
        TIME.enable()

    def disable(self) -> None:
        self.depth -= 1
        if self.depth > 0:
            return
        TIME.disable()
        if self._anyio is not None:
            cls, real = self._anyio
            cls.run_sync_in_worker_thread = real
            self._anyio = None
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        if "__new__" in socket.socket.__dict__:
            del socket.socket.__new__  # back to _socket.socket's own


GUARD = Guard()
