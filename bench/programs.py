"""Wall time against virtual time for unmodified asyncio programs on the example internet.

    .venv/bin/python -P bench/programs.py   (-P: bench/http.py must not shadow the http module)

aiohttp server; aiohttp and httpx clients download 2 MB under 5% loss on the server's link with
the router on the answer path (r3) dying at 1 s; then ten virtual minutes of polling."""

from __future__ import annotations

import asyncio
import hashlib
import platform
import time

import aiohttp
import httpx
from aiohttp import web

from minternet.sim.example import example_text
from minternet.sim.topology import loads

BODY = bytes(range(256)) * 8192  # 2 MiB


async def server() -> None:
    async def blob(request: web.Request) -> web.Response:
        return web.Response(body=BODY)

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="ok")
    app = web.Application()
    app.router.add_get("/blob", blob)
    app.router.add_get("/ping", ping)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, port=80).start()
    await asyncio.Event().wait()


async def aiohttp_get() -> str:
    async with aiohttp.ClientSession() as s:
        async with s.get("http://www.example.com/blob") as r:
            return hashlib.sha256(await r.read()).hexdigest()


async def httpx_get() -> str:
    async with httpx.AsyncClient(timeout=30) as c:
        return hashlib.sha256((await c.get("http://www.example.com/blob")).content).hexdigest()


async def poll() -> int:
    ok = 0
    async with httpx.AsyncClient(timeout=5) as c:
        for _ in range(60):
            try:
                ok += (await c.get("http://www.example.com/ping")).status_code == 200
            except httpx.HTTPError:
                pass
            await asyncio.sleep(10)
    return ok


def measure(name: str, client, loss: float, fail: bool) -> None:
    net = loads(example_text(), seed=1).network
    net.set_link("server:eth0", loss=loss)
    if fail:
        net.at("1s", net.node_down, "r3")
    net.spawn(server(), on="server")
    t0 = time.perf_counter()
    result = net.run_app(client(), on="client", timeout="1200s")
    wall = time.perf_counter() - t0
    ok = result == hashlib.sha256(BODY).hexdigest() if isinstance(result, str) else result
    print(f"{name:42} virtual {net.now / 1e9:8.2f} s   wall {wall:5.2f} s   ok={ok}")
    net.close()


if __name__ == "__main__":
    print(f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, httpx {httpx.__version__}")
    measure("aiohttp 2 MiB, 5% loss, r3 dies at 1 s", aiohttp_get, 0.05, True)
    measure("httpx 2 MiB, 5% loss, r3 dies at 1 s", httpx_get, 0.05, True)
    measure("httpx: 60 polls 10 s apart, 5% loss, r3 dies", poll, 0.05, True)
