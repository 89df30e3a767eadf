"""Which host a program is on: spawn(on=...), host.spawn, inheritance by tasks, stack callbacks."""

from __future__ import annotations

import asyncio

import pytest

from minternet.programs import NotOnAHost, current_host
from netutil import chain


def test_spawned_program_and_its_tasks_are_on_the_host():
    net = chain(1)
    seen = []

    async def child(me, tag):
        await asyncio.sleep(0.1)
        seen.append((me, tag, current_host().name))

    async def program(me):
        seen.append((me, "main", current_host().name))
        await asyncio.gather(child(me, "gathered"), asyncio.create_task(child(me, "task")))
        asyncio.get_running_loop().call_later(0.01, lambda: seen.append((me, "callback", current_host().name)))
        await asyncio.sleep(0.1)
        return current_host().name

    net.spawn(program("s"), on="server")
    assert net.run_app(program("c"), on=net["client"]) == "client"
    assert sorted(seen) == sorted([(me, tag, host) for me, host in (("c", "client"), ("s", "server"))
                                   for tag in ("main", "gathered", "task", "callback")])
    assert current_host() is None


def test_host_spawn_and_stack_callbacks_run_as_the_transports_program():
    net = chain(1)
    server = net["server"]
    events = []

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            events.append(("made", current_host().name))
            self.transport = transport

        def data_received(self, data):
            events.append(("data", current_host().name))  # called from the TCP stack
            self.transport.write(data)

    async def serve():
        srv = await asyncio.get_running_loop().create_server(Echo, port=7)
        await srv.serve_forever()

    server.spawn(serve())

    async def client():
        reader, writer = await asyncio.open_connection("10.0.2.10", 7)
        writer.write(b"x")
        got = await reader.readexactly(1)
        writer.close()
        return got

    assert net.run_app(client(), on="client", timeout="5s") == b"x"
    assert events == [("made", "server"), ("data", "server")]


def test_loop_networking_outside_any_host_is_a_clear_error():
    net = chain(1)

    async def nowhere():
        loop = asyncio.get_running_loop()
        for call in (lambda: loop.getaddrinfo("www.example.com", 80),
                     lambda: loop.create_connection(asyncio.Protocol, "10.0.2.10", 80),
                     lambda: loop.create_server(asyncio.Protocol, port=80),
                     lambda: asyncio.open_connection("10.0.2.10", 80)):
            with pytest.raises(NotOnAHost, match=r"runs on no simulated host.*on='client'"):
                await call()
        return True

    assert net.run_app(nowhere())


def test_run_app_on_unknown_host_says_which_exist():
    net = chain(1)
    with pytest.raises(KeyError, match="no host or router named 'nope'"):
        net.run_app(None, on="nope")
