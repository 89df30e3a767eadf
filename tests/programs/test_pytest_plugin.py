"""The pytest plugin (entry point pytest11): the marker, the simnet fixture, faults from the test."""

from __future__ import annotations

pytest_plugins = ["pytester"]

TOPOLOGY = '''
[[host]]
name = "client"
interfaces = { eth0 = "10.0.1.10/24" }
gateway = "10.0.1.1"
[[host]]
name = "server"
interfaces = { eth0 = "10.0.2.10/24" }
gateway = "10.0.2.1"
[[router]]
name = "r1"
interfaces = { eth0 = "10.0.1.1/24", eth1 = "10.0.2.1/24" }
[[link]]
endpoints = ["client:eth0", "r1:eth0"]
delay = "5ms"
[[link]]
endpoints = ["r1:eth1", "server:eth0"]
delay = "5ms"
'''

TESTS = '''
import asyncio, time
import aiohttp, pytest
from aiohttp import web


async def app_main():
    app = web.Application()
    async def hello(request):
        return web.Response(text="hello")
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, port=8080).start()
    await asyncio.Event().wait()


@pytest.fixture
def server(simnet):
    return simnet.spawn(app_main(), on="server")


async def get_with_retries(url, attempts=5):
    """The logic under test: retry with a 1 s pause, timing out each try after 2 s."""
    for i in range(attempts):
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as s:
                async with s.get(url) as r:
                    return i, await r.text()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            await asyncio.sleep(1)
    raise RuntimeError("gave up")


@pytest.mark.minternet(topology="net.toml", on="client", timeout="60s")
async def test_ok(simnet, server):
    t0 = time.monotonic()
    assert await get_with_retries("http://10.0.2.10:8080/") == (0, "hello")
    assert 0 < time.monotonic() - t0 < 0.2  # virtual seconds


@pytest.mark.minternet(topology="net.toml")
async def test_retries_while_the_router_is_down(simnet, server):
    simnet.node_down("r1")
    simnet.at("4s", simnet.node_up, "r1")
    attempts, text = await get_with_retries("http://10.0.2.10:8080/")
    # the first try times out at 2 s; the second starts at 3 s and its SYN, sent again after
    # the 1 s RTO, finds r1 back at 4 s
    assert (attempts, text) == (1, "hello")
    assert 4 < asyncio.get_running_loop().time() < 5


@pytest.mark.minternet(topology="net.toml", timeout="3s")
async def test_times_out_in_virtual_time(simnet):
    await asyncio.sleep(10)


@pytest.mark.minternet()
async def test_builtin_example_and_dns(simnet):
    infos = await asyncio.get_running_loop().getaddrinfo("www.example.com", 80)
    assert infos[0][4] == ("10.0.2.10", 80)
'''


def test_plugin_marker_fixture_and_faults(pytester):
    pytester.makefile(".toml", net=TOPOLOGY)
    pytester.makepyfile(test_app=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_times_out_in_virtual_time*TimeoutError*"])


def test_marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.minternet(topology=None, on='client'*"])
