"""``minternet exec``: programs given as module:function or script paths, on named hosts."""

from __future__ import annotations

import json
import sys

import pytest

from minternet.cli import main

APP = '''
import asyncio
from aiohttp import web

async def main():
    async def hello(request):
        return web.Response(text="hello from " + request.host)
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, port=80).start()
    await asyncio.Event().wait()
'''

TOOL = '''
import asyncio, time
import httpx

async def main():
    async with httpx.AsyncClient() as c:
        r = await c.get("http://www.example.com/")
    await asyncio.sleep(5)
    return r.status_code, r.text, round(time.monotonic())

async def crash():
    raise RuntimeError("boom")
'''


@pytest.fixture
def programs(tmp_path, monkeypatch):
    (tmp_path / "webapp.py").write_text(APP)
    (tmp_path / "tool.py").write_text(TOOL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("webapp", "tool"):
        sys.modules.pop(name, None)


def test_exec_runs_a_server_and_a_client(programs, capsys):
    trace = programs / "trace.jsonl"
    status = main(["exec", "server=webapp:main", "client=tool.py", "--trace", str(trace), "--until", "30s"])
    out = capsys.readouterr().out
    assert status == 0
    assert "client: tool.py returned (200, 'hello from www.example.com', 5)" in out
    assert "server: webapp:main still running" in out
    assert "done at 30s virtual time" in out and "time is up" in out
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    assert any(e.get("layer") == "tcp" for e in events)


def test_exec_until_and_a_failing_program(programs, capsys):
    status = main(["exec", "server=webapp:main", "client=tool:crash", "--until", "2s"])
    captured = capsys.readouterr()
    assert status == 1
    assert "client: tool:crash failed: RuntimeError: boom" in captured.out
    assert "server: webapp:main still running" in captured.out
    assert "done at 2s virtual time" in captured.out


def test_exec_explains_bad_programs(programs, capsys):
    with pytest.raises(SystemExit):
        main(["exec", "client=tool"])
    assert "say which function, as module:function" in capsys.readouterr().err
    assert main(["exec", "nohost=tool:main"]) == 2
    assert "no host or router named 'nohost'" in capsys.readouterr().err
