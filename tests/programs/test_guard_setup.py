"""The guard's setting up and putting back: lazily imported libraries, a failed enable()."""

from __future__ import annotations

import datetime
import importlib.util
import socket
import subprocess
import sys
import threading
import time

import pytest

from minternet.programs.guard import GUARD
from minternet.programs.vtime import REAL, TIME, RealDatetime
from netutil import chain

ANYIO_FIRST_IMPORTED_BY_THE_PROGRAM = r'''
import os, sys, threading
from netutil import chain
assert "anyio" not in sys.modules
async def main():
    import anyio.to_thread
    return await anyio.to_thread.run_sync(threading.get_ident)
try:
    print("same-thread" if chain(1).run_app(main(), on="client") == threading.get_ident() else "other-thread")
except BaseException as e:
    print("raised", type(e).__name__)
sys.stdout.flush()
os._exit(0)
'''


def test_anyio_imported_by_the_program_runs_inline(tmp_path):
    pytest.importorskip("anyio")
    tests = str(importlib.util.find_spec("netutil").origin).rsplit("/", 1)[0]
    out = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {tests!r})\n"
                          + ANYIO_FIRST_IMPORTED_BY_THE_PROGRAM],
                         capture_output=True, text=True, timeout=60).stdout.strip()
    assert out == "same-thread", out


def _all_put_back() -> None:
    assert GUARD.depth == 0 and TIME.depth == 0
    assert time.time is REAL["time"] and datetime.datetime is RealDatetime
    assert "__new__" not in socket.socket.__dict__ and "connect" not in socket.socket.__dict__
    assert threading.Thread.start.__module__ == "threading"


def test_a_lazily_loaded_module_is_not_imported_by_the_clock_patch(tmp_path):
    src = tmp_path / "optional_dep.py"
    src.write_text("raise ImportError('optional dependency missing')\n")
    spec = importlib.util.spec_from_file_location("optional_dep", src)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["optional_dep"] = mod
    spec.loader.exec_module(mod)  # lazy: nothing runs until an attribute is read

    async def main():
        return 1

    try:
        assert chain(1).run_app(main(), on="client") == 1
        _all_put_back()
    finally:
        sys.modules.pop("optional_dep", None)


def test_a_failing_enable_leaves_nothing_patched(monkeypatch):
    def broken():
        raise RuntimeError("a module scan that fails")
    monkeypatch.setattr(TIME, "_find_copies", broken)

    async def main():
        return 1

    coro = main()
    with pytest.raises(RuntimeError, match="a module scan that fails"):
        chain(1).run_app(coro, on="client")
    coro.close()
    _all_put_back()
