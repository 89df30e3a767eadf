"""Virtual time inside libraries: while a simulation's loop runs, the clocks of the ``time``
module and ``datetime.now`` read the simulated clock.

Libraries read the wall clock for keep-alive expiry (httpcore), pool and read timeouts and the
Date header (aiohttp); on the real clock a connection idle for 80 virtual seconds is still fresh
and every run's Date differs. Virtual ``time.time()`` is :data:`EPOCH` plus the simulated time;
``monotonic``/``perf_counter`` are the simulated time itself. The functions are replaced in the
``time`` module and in every module outside the standard library that copied one with
``from time import monotonic`` (and ``datetime.datetime`` likewise), while a loop runs; on any
other thread, or with no simulation's loop running, they answer with the real clock.
Everything is put back when the loop stops.
"""

from __future__ import annotations

import asyncio
import datetime as _datetime
import importlib.util
import sys
import time
from typing import Any, Callable

from ..sim.loop import VirtualTimeLoop

EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: time.time() at virtual t=0, as the HTTP server's SIM_EPOCH

_NAMES = ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "gmtime",
          "localtime", "ctime", "asctime", "strftime")
REAL: dict[str, Callable[..., Any]] = {n: getattr(time, n) for n in _NAMES}
RealDatetime = _datetime.datetime


def virtual_now_ns() -> int | None:
    """The simulated time (ns) if a simulation's loop runs in this thread, else None."""
    loop = asyncio._get_running_loop()
    if isinstance(loop, VirtualTimeLoop):
        return loop.scheduler.now
    return None


def _time() -> float:
    now = virtual_now_ns()
    return REAL["time"]() if now is None else EPOCH + now / 1e9


def _time_ns() -> int:
    now = virtual_now_ns()
    return REAL["time_ns"]() if now is None else EPOCH * 1_000_000_000 + now


def _clock(name: str) -> Callable[[], float]:
    real = REAL[name]

    def clock() -> float:
        now = virtual_now_ns()
        return real() if now is None else now / 1e9
    clock.__name__ = clock.__qualname__ = name
    return clock


def _clock_ns(name: str) -> Callable[[], int]:
    real = REAL[name]

    def clock() -> int:
        now = virtual_now_ns()
        return real() if now is None else now
    clock.__name__ = clock.__qualname__ = name
    return clock


def _struct(name: str) -> Callable[..., time.struct_time]:
    real = REAL[name]

    def convert(secs: float | None = None) -> time.struct_time:
        return real(_time() if secs is None else secs)
    convert.__name__ = convert.__qualname__ = name
    return convert


_localtime = _struct("localtime")


def _ctime(secs: float | None = None) -> str:
    return REAL["ctime"](_time() if secs is None else secs)


def _asctime(t: Any = None) -> str:
    return REAL["asctime"](_localtime() if t is None else t)


def _strftime(format: str, t: Any = None) -> str:  # noqa: A002 - time.strftime's own name
    return REAL["strftime"](format, _localtime() if t is None else t)


VIRTUAL: dict[str, Callable[..., Any]] = {
    "time": _time, "time_ns": _time_ns, "monotonic": _clock("monotonic"), "perf_counter": _clock("perf_counter"),
    "monotonic_ns": _clock_ns("monotonic_ns"), "perf_counter_ns": _clock_ns("perf_counter_ns"),
    "gmtime": _struct("gmtime"), "localtime": _localtime,
    # with no time given, these read the clock in C: the virtual localtime() instead
    "ctime": _ctime, "asctime": _asctime, "strftime": _strftime,
}
for _f, _n in ((_ctime, "ctime"), (_asctime, "asctime"), (_strftime, "strftime")):
    _f.__name__ = _f.__qualname__ = _n
for _n, _f in VIRTUAL.items():
    _f.__module__ = "time"


class _DatetimeMeta(type(RealDatetime)):  # type: ignore[misc]
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, RealDatetime)  # dates made before, or by arithmetic, still pass

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, RealDatetime)


class VirtualDatetime(RealDatetime, metaclass=_DatetimeMeta):
    """datetime.datetime whose now(), utcnow() and today() read the simulated clock. Every
    datetime it makes is a real datetime.datetime (picklable after the simulation, and
    type(d) is datetime.datetime): the constructors (datetime(...), fromtimestamp, strptime,
    ... -- datetime's C code builds a subclass's instances through cls(...)) give real ones."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return RealDatetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: _datetime.tzinfo | None = None) -> Any:  # type: ignore[override]
        if virtual_now_ns() is None:
            return RealDatetime.now(tz)
        return RealDatetime.fromtimestamp(_time(), tz)

    @classmethod
    def utcnow(cls) -> Any:  # type: ignore[override]
        if virtual_now_ns() is None:
            return RealDatetime.utcnow()
        return RealDatetime.fromtimestamp(_time(), _datetime.timezone.utc).replace(tzinfo=None)

    @classmethod
    def today(cls) -> Any:  # type: ignore[override]
        return cls.now()


VirtualDatetime.__name__ = VirtualDatetime.__qualname__ = "datetime"
VirtualDatetime.__module__ = "datetime"

_REAL_BY_ID = {id(f): n for n, f in REAL.items()}


class TimePatch:
    """Puts the virtual clocks in place (refcounted: nested or several loops) and back."""

    def __init__(self) -> None:
        self.depth = 0
        self._sites: list[tuple[dict, str, Any, Any]] = []  # (module dict, name, real, virtual)
        self._scanned: set[str] = set()

    def enable(self) -> None:
        self.depth += 1
        if self.depth > 1:
            return
        try:
            for name, fn in VIRTUAL.items():
                setattr(time, name, fn)
            _datetime.datetime = VirtualDatetime  # type: ignore[misc]
            self._find_copies()
            for d, key, real, virtual in self._sites:
                if d.get(key) is real:
                    d[key] = virtual
        except BaseException:
            self.depth = 1
            self.disable()
            raise

    def disable(self) -> None:
        self.depth -= 1
        if self.depth > 0:
            return
        for name, fn in REAL.items():
            setattr(time, name, fn)
        _datetime.datetime = RealDatetime  # type: ignore[misc]
        for d, key, real, virtual in self._sites:
            if d.get(key) is virtual:
                d[key] = real

    def _find_copies(self) -> None:
        """``from time import monotonic`` / ``from datetime import datetime`` outside the
        standard library (its own copies, e.g. threading's, stay on the real clock). Modules
        are looked at once, when first seen: such copies are made at import."""
        stdlib = sys.stdlib_module_names
        for mname, mod in list(sys.modules.items()):
            if mname in self._scanned or isinstance(mod, importlib.util._LazyModule):
                continue  # a lazy module not loaded yet: looking at it would import it (then it is seen)
            self._scanned.add(mname)
            top = mname.partition(".")[0]
            if top in stdlib or top == "minternet" or mod is None:
                continue
            try:
                d = getattr(mod, "__dict__", None)
            except Exception:  # noqa: BLE001 - a module whose attributes raise has no copies for us
                continue
            if not isinstance(d, dict):
                continue
            for key, value in list(d.items()):
                if value is RealDatetime:
                    self._sites.append((d, key, value, VirtualDatetime))
                elif callable(value) and id(value) in _REAL_BY_ID and value is REAL[_REAL_BY_ID[id(value)]]:
                    self._sites.append((d, key, value, VIRTUAL[_REAL_BY_ID[id(value)]]))


TIME = TimePatch()
