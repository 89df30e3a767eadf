"""The guard: nothing a simulated program does reaches the real network.

While a simulation's loop runs, the code of the simulation -- on its loop's thread, as a program
of a simulated host, or in a thread such code started (threading.Thread, thread pools) -- is held:

- ``socket.socket(AF_INET, ...)`` (or of a subclass of socket.socket) made by a program on a host
  is a :class:`~.simsocket.SimSocket` of that host (asyncio's create_connection/create_server
  and aiohappyeyeballs make sockets themselves). Other families (AF_UNIX) stay real: local IPC.
- A real AF_INET/AF_INET6 socket is refused there (:class:`RealNetworkRefused`): its connect()
  of a name would ask the OS resolver in C before any audit event. Programs reach loopback
  through their host's lo. Threads get no host (the simulated stack is single-threaded).
- New processes (subprocess, os.system, os.exec*, posix_spawn, fork) are refused there: a child
  runs outside the simulation. Start tools before or after the simulation runs.
- In every thread of the process, while any simulation runs, an audit hook refuses real sockets
  for anything but loopback: ``socket.connect``, ``bind``, ``sendto``, ``sendmsg`` to an address
  outside the numeric 127.0.0.0/8 and ::1 (and "localhost"; "" / 0.0.0.0 / :: for bind are every
  interface, refused), the OS resolver (``getaddrinfo``/``gethostbyname`` of a name),
  ``gethostbyaddr`` of anything but loopback and ``getnameinfo`` without NI_NUMERICHOST.
  (sys.addaudithook cannot be removed: it is added once and is inert outside simulations.)
- aiodns/pycares are refused: c-ares is C code with sockets of its own that no audit hook sees.
- anyio's worker threads run inline, as ``run_in_executor`` does: threads would race the
  virtual clock and break determinism. (Patched for good when anyio's backend is imported.)

All of it is undone when the loop stops (the audit hook stays, inert). Not covered: threads made
with ``_thread.start_new_thread`` directly, and real sockets of threads outside the simulation
(made before it, e.g. the web view's server) that call listen() unbound (no audit event).
"""

from __future__ import annotations

import errno
import importlib.abc
import ipaddress
import socket
import sys
import threading
import weakref
from typing import Any

from .context import CURRENT_HOST
from .simsocket import SimSocket
from .vtime import TIME, virtual_now_ns

_real_new = socket.socket.__new__
_real_getnameinfo = socket.getnameinfo
_real_thread_start = threading.Thread.start

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


# Threads a simulated program started (their idents): code there is the program's too. They get
# no host: the simulated stack is single-threaded, a SimSocket used from another thread would race
# the simulation. So there every real inet socket, lookup and process is refused.
_PROGRAM_THREADS: set[int] = set()
_NUMERIC_OK = threading.local()  # getnameinfo with NI_NUMERICHOST under way in this thread


def active() -> bool:
    """Does the running code belong to a simulation (its loop's thread, a host, or a thread one
    of its programs started)?"""
    return (virtual_now_ns() is not None or CURRENT_HOST.get() is not None
            or threading.get_ident() in _PROGRAM_THREADS)


def _loopback(host: Any) -> bool:
    """A numeric 127.0.0.0/8 or ::1 address, or the name "localhost": nothing else. A name that
    merely starts with "127." is a DNS name ("127.attacker.example"); "", 0.0.0.0 and :: are
    every interface (bind)."""
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


_ADDRESS_EVENTS = frozenset(("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"))
_LOOKUP_EVENTS = frozenset(("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"))
_PROCESS_EVENTS = frozenset(("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                             "os.fork", "os.forkpty"))
_INET = (-1, socket.AF_INET, socket.AF_INET6)  # -1: socket()'s default, AF_INET


def _audit(event: str, args: tuple) -> None:
    if GUARD.depth == 0:  # process-wide: any thread while a simulation runs
        return
    if event.startswith("socket."):
        if event in _ADDRESS_EVENTS:
            addr = args[1]
            if isinstance(addr, tuple) and addr and not _loopback(addr[0]):
                raise RealNetworkRefused(f"{event}{addr!r} on a real socket")
        elif event == "socket.__new__":
            # A real inet socket in a simulation's code: connect(("name", 80)) would resolve the
            # name in C before any audit event, so refuse the socket itself. (Programs on a host
            # get SimSockets from socket.socket(); other threads, e.g. the web view's server,
            # keep real sockets, held to loopback by the events above.)
            if args[1] in _INET and active():
                family = "AF_INET" if args[1] == -1 else socket.AddressFamily(args[1]).name
                raise RealNetworkRefused(f"socket.socket({family}) in a simulated program: a real socket")
        elif event in _LOOKUP_EVENTS:
            name = args[0]
            if name is None or _loopback(name) or _numeric(name):
                return
            raise RealNetworkRefused(f"{event}({name!r}): a lookup by the machine's resolver")
        elif event == "socket.gethostbyaddr":  # a PTR query, even (above all) for an address
            if not _loopback(args[0]):
                raise RealNetworkRefused(f"{event}({args[0]!r}): a reverse lookup by the machine's resolver")
        elif event == "socket.getnameinfo":
            sockaddr = args[0]
            host = sockaddr[0] if isinstance(sockaddr, tuple) and sockaddr else sockaddr
            if not _loopback(host) and not getattr(_NUMERIC_OK, "on", False):
                raise RealNetworkRefused(f"socket.getnameinfo({sockaddr!r}) without NI_NUMERICHOST: a reverse "
                                         "lookup by the machine's resolver")
    elif event in _PROCESS_EVENTS and active():
        raise RealNetworkRefused(f"{event}: a new process of a simulated program (it would run outside the "
                                 "simulation, on the real network)")


def _getnameinfo(sockaddr: Any, flags: int) -> Any:
    """socket.getnameinfo while a simulation runs: numeric answers need no resolver."""
    _NUMERIC_OK.on = bool(flags & socket.NI_NUMERICHOST)
    try:
        return _real_getnameinfo(sockaddr, flags)
    finally:
        _NUMERIC_OK.on = False


def _numeric(name: Any) -> bool:
    if isinstance(name, (bytes, bytearray)):
        name = bytes(name).decode(errors="replace")
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _sim_class(cls: type) -> type:
    """A subclass of socket.socket (PySocks' socksocket, ...) on a host: the same class over a
    SimSocket, so its own methods run on the simulated network."""
    if issubclass(cls, SimSocket):
        return cls
    if cls is socket.socket:
        return SimSocket
    sim = _SIM_CLASSES.get(cls)
    if sim is None:
        sim = _SIM_CLASSES[cls] = type(cls.__name__, (cls, SimSocket), {"__module__": cls.__module__})
    return sim


_SIM_CLASSES: "weakref.WeakKeyDictionary[type, type]" = weakref.WeakKeyDictionary()


def _socket_new(cls: type, family: int = -1, type: int = -1, proto: int = -1, fileno: Any = None) -> Any:  # noqa: A002
    host = CURRENT_HOST.get()
    if host is None or fileno is not None:
        return _real_new(cls)
    family = socket.AF_INET if family == -1 else family
    if family not in (socket.AF_INET, socket.AF_INET6):
        return _real_new(cls)  # AF_UNIX and the like: local IPC, left real
    return _sim_class(cls).create(host, family, socket.SOCK_STREAM if type == -1 else type, 0 if proto == -1 else proto)


def _by_name(name: str, real: Any) -> Any:
    """socket.socket.<name> while a simulation runs: a real socket's address given by name is
    resolved in C before the audit event, so a name (other than localhost) is refused here,
    in any thread, for sockets made before the simulation too."""
    def method(self: socket.socket, *args: Any) -> Any:
        if name == "sendto":
            address = args[-1]
        elif name == "sendmsg":  # sendmsg(buffers, ancdata, flags, address)
            address = args[3] if len(args) > 3 else None
        else:
            address = args[0] if args else None
        if isinstance(address, tuple) and address and not _numeric(address[0]) and not _loopback(address[0]):
            raise RealNetworkRefused(f"socket.{name}{address!r} on a real socket: a name for the machine's resolver")
        return real(self, *args)
    method.__name__ = method.__qualname__ = name
    return method


_BY_NAME = {name: _by_name(name, getattr(socket.socket, name)) for name in ("connect", "connect_ex", "sendto", "sendmsg", "bind")}


def _thread_start(self: threading.Thread) -> None:
    """threading.Thread.start while a simulation runs: a thread started by a program's code
    is the program's (see _PROGRAM_THREADS)."""
    if active():
        run = self.run

        def program_thread() -> None:
            me = threading.get_ident()
            _PROGRAM_THREADS.add(me)
            try:
                run()
            finally:
                _PROGRAM_THREADS.discard(me)
        self.run = program_thread  # type: ignore[method-assign]
    _real_thread_start(self)


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


def _anyio_inline(backend: Any) -> None:
    """anyio runs to_thread.run_sync on threads of its own (not run_in_executor): inline while a
    simulation runs. Patched for good once anyio's asyncio backend is loaded (the replacement
    is anyio's own outside simulations), whenever that happens: a program may import anyio."""
    cls = getattr(backend, "AsyncIOBackend", None)
    real = getattr(cls, "__dict__", {}).get("run_sync_in_worker_thread")
    if real is None or getattr(real.__func__, "_minternet_inline", False):
        return

    async def run_sync_in_worker_thread(klass: Any, func: Any, args: Any, *rest: Any, **kw: Any) -> Any:
        if not active():
            return await real.__func__(klass, func, args, *rest, **kw)
        await klass.checkpoint()
        return func(*args)
    run_sync_in_worker_thread._minternet_inline = True  # type: ignore[attr-defined]
    cls.run_sync_in_worker_thread = classmethod(run_sync_in_worker_thread)


_ANYIO_BACKEND = "anyio._backends._asyncio"


class _AnyioLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        _anyio_inline(module)


class _PatchAnyio(importlib.abc.MetaPathFinder):
    """Patches anyio's asyncio backend when it is imported (process-wide, once installed)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _ANYIO_BACKEND:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _AnyioLoader(spec.loader)
                return spec
        return None


class Guard:
    """Refcounted: on while at least one simulation's loop runs."""

    def __init__(self) -> None:
        self.depth = 0
        self._hooked = False
        self._finder = _RefuseAiodns()
        self._anyio_finder = _PatchAnyio()

    def enable(self) -> None:
        """On (nested calls count); if it fails part-way, everything done so far is undone."""
        self.depth += 1
        if self.depth > 1:
            return
        try:
            if not self._hooked:
                sys.addaudithook(_audit)
                sys.meta_path.insert(0, self._anyio_finder)
                self._hooked = True
            _anyio_inline(sys.modules.get(_ANYIO_BACKEND))
            socket.socket.__new__ = staticmethod(_socket_new)  # type: ignore[assignment]
            socket.getnameinfo = _getnameinfo
            threading.Thread.start = _thread_start  # type: ignore[method-assign]
            for name, method in _BY_NAME.items():
                setattr(socket.socket, name, method)
            sys.meta_path.insert(0, self._finder)
            _wrap_aiodns()
        except BaseException:
            self._undo()
            raise
        try:
            TIME.enable()  # undoes itself if it fails
        except BaseException:
            self._undo()
            raise

    def _undo(self) -> None:
        self.depth = 0
        self._restore()

    def disable(self) -> None:
        self.depth -= 1
        if self.depth > 0:
            return
        self.depth = 0
        TIME.disable()
        self._restore()

    def _restore(self) -> None:
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        threading.Thread.start = _real_thread_start  # type: ignore[method-assign]
        socket.getnameinfo = _real_getnameinfo
        for name, method in _BY_NAME.items():
            if socket.socket.__dict__.get(name) is method:
                delattr(socket.socket, name)  # back to _socket.socket's own
        if "__new__" in socket.socket.__dict__:
            del socket.socket.__new__  # back to _socket.socket's own


GUARD = Guard()
