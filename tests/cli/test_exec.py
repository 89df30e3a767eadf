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


def test_web_exec_runs_programs_in_the_live_view(programs):
    """minternet web --exec HOST=PROGRAM: the same programs, in the live view's session (its own thread)."""
    pytest.importorskip("aiohttp")
    from minternet.cli import build_parser
    from minternet.cli.programs import spawn_programs
    from minternet.sim.example import example_text
    from minternet.sim.topology import loads
    from minternet.web.session import Session

    args = build_parser().parse_args(["web", "--exec", "server=webapp:main", "--exec", "client=tool.py"])
    session = Session(loads(example_text(), "(example)", seed=0, out=lambda line: None))
    try:
        started = session.executor.submit(spawn_programs, session.net, args.exec).result(timeout=30)
        session.executor.submit(session.advance, 10 * 10**9).result(timeout=60)
        client = started[1][2]
        assert client.done() and client.result() == (200, "hello from www.example.com", 5)
        assert any(e.get("layer") == "tcp" for e in session.drain())  # the page sees its packets
    finally:
        session.close()


def test_sys_exit_in_a_program_is_that_programs_result(tmp_path, monkeypatch, capsys):
    (tmp_path / "tool.py").write_text("import sys\nasync def bye():\n    sys.exit(3)\n")
    monkeypatch.chdir(tmp_path)
    trace = tmp_path / "t.jsonl"
    status = main(["exec", "client=tool.py:bye", "--until", "5s", "--trace", str(trace)])
    out = capsys.readouterr().out
    assert status == 3
    assert "client: tool.py:bye exited with status 3" in out and "done at" in out
    assert trace.stat().st_size > 0
