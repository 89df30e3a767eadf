"""``minternet exec``: run unmodified asyncio programs on hosts of a simulated internet."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import os
import sys
import time
import traceback
from typing import Any, Callable

from ..runtime import NS_PER_S
from .common import UsageError, add_common, finish_run, load_topology, time_arg


def load_program(spec: str) -> Callable[[], Any]:
    """``module:function`` (imported from the current directory or sys.path), or a script
    ``path.py`` (its ``main``) or ``path.py:function``. The function is called with no
    arguments and must give a coroutine."""
    target, _, func = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if target.endswith(".py") or os.sep in target:
        if not os.path.exists(target):
            raise UsageError(f"{spec}: no such file {target!r}")
        name = "_minternet_program_" + os.path.splitext(os.path.basename(target))[0]
        module_spec = importlib.util.spec_from_file_location(name, target)
        module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
        sys.modules[name] = module
        module_spec.loader.exec_module(module)  # type: ignore[union-attr]
        func = func or "main"
    else:
        if not func:
            raise UsageError(f"{spec}: say which function, as module:function (or give a script path.py)")
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise UsageError(f"{spec}: cannot import {target!r}: {exc}") from None
    fn = getattr(module, func, None)
    if not callable(fn):
        raise UsageError(f"{spec}: {target} has no function {func!r}")
    return fn


def parse_assignment(text: str) -> tuple[str, str]:
    host, sep, spec = text.partition("=")
    if not sep or not host or not spec:
        raise argparse.ArgumentTypeError(f"{text!r}: write HOST=module:function or HOST=script.py")
    return host, spec


class ProgramExited(Exception):
    """A program called sys.exit(): its result, not the end of the whole simulation."""

    def __init__(self, code: Any) -> None:
        super().__init__(code)
        self.code = code

    @property
    def status(self) -> int:
        """The exit status the shell would see: sys.exit(None) 0, sys.exit("text") 1."""
        code = self.code
        return 0 if code is None else code if isinstance(code, int) else 1


async def _as_program(coro: Any) -> Any:
    # SystemExit would escape asyncio's task and stop the loop mid-run (asyncio re-raises it).
    try:
        return await coro
    except SystemExit as exc:
        raise ProgramExited(exc.code) from None


def spawn_programs(net: Any, assignments: list[tuple[str, str]]) -> list[tuple[str, str, Any]]:
    """Start each (HOST, PROGRAM) as a program of HOST; returns (host, spec, task) for each."""
    programs = []
    for host, spec in assignments:
        net.host(host)  # a KeyError naming the hosts there are
        fn = load_program(spec)
        coro = fn()
        if not inspect.isawaitable(coro):
            raise UsageError(f"{spec}: {fn.__name__}() gave {type(coro).__name__}, not a coroutine "
                             "(make it an async def)")
        programs.append((host, spec, net.spawn(_as_program(coro), on=host)))
    return programs


def cmd_exec(args: argparse.Namespace) -> int:
    from ..sim.loop import SimulationStalled
    topo = load_topology(args)
    net = topo.network
    programs = spawn_programs(net, args.programs)
    print(f"running {', '.join(f'{h}={s}' for h, s, _ in programs)} on {net.name}"
          + (f" until {args.until / NS_PER_S:g}s" if args.until else "") + " (virtual time)")
    net.start()
    loop = net.loop
    tasks = [t for _, _, t in programs]
    wall = time.perf_counter()

    async def wait() -> None:
        import asyncio
        await asyncio.wait(tasks, timeout=None if args.until is None else args.until / NS_PER_S)
    try:
        loop.run_until_complete(wait())
        ended = "every program has finished" if all(t.done() for t in tasks) else "time is up"
    except SimulationStalled:
        ended = "nothing is left to happen (the programs still running wait for the network)"
    wall = time.perf_counter() - wall
    status = 0
    for host, spec, task in programs:
        if not task.done():
            print(f"{host}: {spec} still running")
        elif task.cancelled():
            print(f"{host}: {spec} was cancelled")
        elif isinstance(task.exception(), ProgramExited):
            exited = task.exception()
            status = status or exited.status
            print(f"{host}: {spec} exited with status {exited.status}"
                  + (f" ({exited.code})" if isinstance(exited.code, str) else ""))
        elif task.exception() is not None:
            exc = task.exception()
            status = 1
            print(f"{host}: {spec} failed: {type(exc).__name__}: {exc}")
            traceback.print_exception(exc, file=sys.stderr)
        else:
            print(f"{host}: {spec} returned {task.result()!r}")
    print(f"done at {net.now / NS_PER_S:g}s virtual time ({wall:.2f}s wall): {ended}")
    finish_run(args, topo)
    return status


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exec", help="run asyncio programs (aiohttp, httpx, streams, UDP) on simulated hosts",
        description="Run unmodified asyncio programs on hosts of the simulated internet, in virtual time: each "
                    "HOST=PROGRAM starts PROGRAM (module:function, or a script path.py whose main() is "
                    "async) as a program of HOST; the loop's networking (asyncio.open_connection, "
                    "aiohttp, httpx ...) is that host's. Ends when every program has finished, when "
                    "nothing is left to happen, or at --until.",
        epilog="Example: minternet exec server=app:main client=tool.py --until 60s -v")
    p.add_argument("programs", metavar="HOST=PROGRAM", nargs="+", type=parse_assignment,
                   help="a host of the topology and the program to run on it")
    p.add_argument("--until", type=time_arg, default=None, help="virtual time to stop at (default: no limit)")
    add_common(p)
    p.set_defaults(func=cmd_exec)
