"""The live view's server without a browser: the WebSocket protocol, pacing, exports, replay."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

aiohttp = pytest.importorskip("aiohttp")

from minternet.sim.example import example_text  # noqa: E402
from minternet.sim.topology import loads  # noqa: E402
from minternet.cli.web import _warn_host  # noqa: E402
from minternet.web.server import ServerThread  # noqa: E402
from minternet.web.session import ReplaySession, Session  # noqa: E402


def example():
    return loads(example_text(), "(example)", seed=0, out=lambda line: None)


class Page:
    """A WebSocket client that keeps what the server sent, like the page does."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.events: dict[int, dict] = {}
        self.now = 0
        self.messages: list[dict] = []

    async def send(self, **msg) -> None:
        await self.ws.send_str(json.dumps(msg))

    async def until(self, pred, timeout: float = 20.0) -> dict:
        """Read messages until one satisfies ``pred`` (events are kept along the way)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no such message; last: {self.messages[-3:]}")
            m = json.loads((await self.ws.receive(timeout=left)).data)
            self.messages.append(m)
            if m["type"] == "events":
                for e in m["events"]:
                    self.events[e["i"]] = e
                self.now = m["now"]
            if pred(m):
                return m


def talk(server: ServerThread, script, timeout: float = 60):
    async def main():
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(server.url + "ws") as ws:
                page = Page(ws)
                hello = await page.until(lambda m: m["type"] == "hello")
                await page.until(lambda m: m["type"] == "state")
                return await script(page, hello, http)
    return asyncio.run(asyncio.wait_for(main(), timeout))


@pytest.fixture(scope="module")
def live():
    session = Session(example())
    server = ServerThread(session)
    yield server
    server.stop()
    session.close()


def test_hello_then_step_and_run_to(live):
    async def script(page, hello, http):
        assert hello["mode"] == "live"
        assert {n["name"] for n in hello["topology"]["nodes"]} >= {"client", "server", "r1", "lan1"}
        assert hello["features"]["actions"]
        await page.send(cmd="step")
        await page.until(lambda m: m["type"] == "state" and not m["playing"])
        await page.send(cmd="run_to", t=page.now + 50_000_000)
        target = page.now + 50_000_000
        await page.until(lambda m: m["type"] == "state" and m["now"] >= target)
        return page
    page = talk(live, script)
    assert sorted(page.events) == list(range(len(page.events)))  # every event once, in order


def test_ping_from_the_page_and_detail(live):
    async def script(page, hello, http):
        await page.send(cmd="run", app="ping", host="client", target="server", count=1, req=7)
        status = await page.until(lambda m: m["type"] == "status")
        assert status == {"type": "status", "message": "ping started on client", "key": "srv.started",
                          "args": {"app": "ping", "host": "client"}, "req": 7}
        await page.send(cmd="run_to", t=page.now + 1_000_000_000)
        await page.until(lambda m: m["type"] == "events" and any("bytes from" in e["summary"] for e in m["events"]))
        reply = next(e for e in page.events.values() if e["proto"] == "icmp" and e["layer"] == "link"
                     and "echo reply" in e["summary"])
        await page.send(cmd="detail", i=reply["i"])
        d = await page.until(lambda m: m["type"] == "detail")
        assert [layer["name"] for layer in d["layers"]] == ["Ethernet", "IPv4", "ICMP"]
        await page.send(cmd="node", name="mars", up=False)
        err = await page.until(lambda m: m["type"] == "error")
        assert "no node named 'mars'" in err["message"]
        async with http.get(live.url + "export/run.pcap") as r:
            assert r.status == 200 and len(await r.read()) > 24
        async with http.get(live.url + "export/trace.jsonl") as r:
            assert (await r.text()).count("\n") >= len(page.events)
        async with http.get(live.url + "export/diagram.svg") as r:
            if r.status == 200:
                assert r.content_type == "image/svg+xml" and "client" in await r.text()
            else:  # this version has no minternet.observe.diagram
                assert r.status == 404 and "minternet.observe.diagram" in await r.text()
        async with http.get(live.url + "static/app.js") as r:
            assert r.status == 200 and r.content_type == "text/javascript"
        async with http.get(live.url + "static/../server.py") as r:
            assert r.status == 404
    talk(live, script)


def test_pacing_follows_the_speed(live):
    async def script(page, hello, http):
        await page.send(cmd="speed", value=0.5)  # half of real time
        await page.until(lambda m: m["type"] == "state" and m["speed"] == 0.5)
        start_v, start_w = page.now, time.monotonic()
        await page.send(cmd="play")
        await page.until(lambda m: m["type"] == "state" and m["playing"])
        await asyncio.sleep(0.6)
        await page.send(cmd="pause")
        paused = await page.until(lambda m: m["type"] == "state" and not m["playing"])
        wall = time.monotonic() - start_w
        virtual = (paused["now"] - start_v) / 1e9
        assert 0.5 * 0.3 <= virtual <= 0.5 * wall + 0.1, (virtual, wall)
        await asyncio.sleep(0.2)
        await page.send(cmd="run_to", t=0)  # in the past: nothing runs, the state says where we are
        still = await page.until(lambda m: m["type"] == "state")
        assert still["now"] == paused["now"]
        await page.send(cmd="speed", value=0)
        err = await page.until(lambda m: m["type"] == "error")
        assert "out of range" in err["message"]
    talk(live, script)


def test_replay_plays_a_recorded_trace_and_stops_at_its_end(tmp_path):
    topo = example()
    path = tmp_path / "trace.jsonl"
    topo.network.trace_to(str(path))
    from minternet.application.ping import ping
    topo.network.run_app(ping(topo.network.host("client"), "10.0.2.10", count=1))
    topo.network.close()
    lines = path.read_text().count("\n")
    session = ReplaySession.from_file(example().network, str(path))
    server = ServerThread(session)
    try:
        async def script(page, hello, http):
            assert hello["mode"] == "replay" and not hello["features"]["actions"]
            await page.send(cmd="speed", value=100)
            await page.send(cmd="play")
            await page.until(lambda m: m["type"] == "state" and not m["playing"] and m["now"] >= session.end)
            await page.send(cmd="node", name="r1", up=False)
            err = await page.until(lambda m: m["type"] == "error")
            assert "recorded run" in err["message"]
            return page
        page = talk(server, script)
        assert len(page.events) == lines
    finally:
        server.stop()
        session.close()


def test_a_public_address_is_warned_about(capsys):
    _warn_host("127.0.0.1")
    _warn_host("localhost")
    assert capsys.readouterr().err == ""
    _warn_host("0.0.0.0")
    assert "anyone who can reach this machine" in capsys.readouterr().err


SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def test_the_command_prints_its_address_serves_and_stops_on_ctrl_c():
    proc = subprocess.Popen([sys.executable, "-m", "minternet", "web", "--port", "0", "--no-open"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": SRC})
    try:
        line = proc.stdout.readline()
        m = re.search(r"is at (http://127\.0\.0\.1:\d+/)", line)
        assert m, line + proc.stderr.read()
        with urllib.request.urlopen(m.group(1), timeout=10) as r:
            assert "minternet" in r.read().decode()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_replay_of_a_missing_trace_says_so():
    proc = subprocess.run([sys.executable, "-m", "minternet", "web", "--replay", "/nonexistent/t.jsonl", "--no-open"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": SRC}, timeout=60)
    assert proc.returncode == 2
    assert "cannot read the trace /nonexistent/t.jsonl" in proc.stderr


def test_a_websocket_from_another_site_is_refused(live):
    async def main():
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await http.ws_connect(live.url + "ws", origin="http://evil.example")
            assert info.value.status == 403
            async with http.ws_connect(live.url + "ws", origin=live.url.rstrip("/")) as ws:
                assert json.loads((await ws.receive(timeout=10)).data)["type"] == "hello"
    asyncio.run(asyncio.wait_for(main(), 30))
