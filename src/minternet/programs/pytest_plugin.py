"""pytest plugin: async tests that run as programs on a simulated host.

::

    import aiohttp, pytest

    @pytest.fixture
    def server(simnet):                       # the network, built for this test
        return simnet.spawn(my_app.main(), on="server")

    @pytest.mark.minternet(topology="net.toml", on="client", timeout="60s", seed=1)
    async def test_retries(simnet, server):
        simnet.at("2s", simnet.node_down, "r3")   # faults scheduled from the test
        async with aiohttp.ClientSession() as s:
            ...

The marker's ``topology`` is a path relative to the test file (default: the built-in example
internet), ``on`` the host the test runs on (default "client"), ``timeout`` a limit in virtual
time, ``seed`` the random seed. Installed with minternet (entry point ``pytest11``).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Iterator

import pytest

MARKER = "minternet"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(topology=None, on='client', timeout=None, seed=None): run this async def test as "
        "a program on a host of a simulated internet (minternet), in virtual time; the network is the "
        "'simnet' fixture")


def _build(request: pytest.FixtureRequest) -> Any:
    from ..sim.example import load_example
    from ..sim.topology import load
    marker = request.node.get_closest_marker(MARKER)
    kw = marker.kwargs if marker else {}
    seed = kw.get("seed")
    topology = kw.get("topology")
    if topology is None:
        return load_example(seed=seed, out=lambda line: None).network
    path = Path(topology)
    if not path.is_absolute():
        path = Path(request.node.path).parent / path
    return load(path, seed=seed, out=lambda line: None).network


@pytest.fixture
def simnet(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The simulated network of this test (the ``minternet`` marker's topology and seed)."""
    net = _build(request)
    yield net
    net.close()


@pytest.fixture(autouse=True)
def _minternet_marked(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker(MARKER) is not None:
        request.node._minternet_net = request.getfixturevalue("simnet")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    marker = pyfuncitem.get_closest_marker(MARKER)
    if marker is None or not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    net = pyfuncitem._minternet_net  # type: ignore[attr-defined]
    argnames = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in argnames}
    net.run_app(pyfuncitem.obj(**kwargs), on=marker.kwargs.get("on", "client"), timeout=marker.kwargs.get("timeout"))
    return True
