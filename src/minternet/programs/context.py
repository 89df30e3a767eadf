"""Which simulated host a program runs on: a context variable.

A program is started on a host (``net.spawn(coro, on="server")``, ``host.spawn(coro)``); asyncio
copies the context into every task and callback the program creates, so everything it starts
runs on the same host. Callbacks that come from the stack (data arrived, a connection was
accepted) are run with the host of the transport they belong to (:func:`with_host`), as asyncio's
own transports run protocol callbacks in the context they were made in.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:
    from ..host import Host

T = TypeVar("T")

CURRENT_HOST: contextvars.ContextVar["Host | None"] = contextvars.ContextVar("minternet_host", default=None)


class NotOnAHost(RuntimeError):
    """A networking call of the simulation's loop from code that runs on no simulated host."""


def current_host() -> "Host | None":
    """The host the running code is a program of, or None."""
    return CURRENT_HOST.get()


def require_host(what: str) -> "Host":
    host = CURRENT_HOST.get()
    if host is None:
        raise NotOnAHost(
            f"loop.{what}(): this code runs on no simulated host, so there is no network to use. "
            "Start it as a program on a host: net.spawn(coro, on='client'), "
            "net.run_app(coro, on='client') or net['client'].spawn(coro)")
    return host


def host_context(host: "Host") -> contextvars.Context:
    """A copy of the current context in which ``host`` is the current host."""
    ctx = contextvars.copy_context()
    ctx.run(CURRENT_HOST.set, host)
    return ctx


def with_host(host: "Host", fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` as code of ``host`` (a stack callback into a program)."""
    if CURRENT_HOST.get() is host:
        return fn(*args)
    token = CURRENT_HOST.set(host)
    try:
        return fn(*args)
    finally:
        CURRENT_HOST.reset(token)
