"""Helpers for the HTTP tests: a two-host network and a raw TCP exchange to see exact bytes."""

from __future__ import annotations

import asyncio
import re

from minternet.sim.network import Network

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"


def two_hosts(seed: int = 1, **link_kw) -> Network:
    """client (10.0.0.1) -- server (10.0.0.2) on one link, with 'www.test' naming the server."""
    net = Network(seed=seed)
    net.add_host("client", {"eth0": f"{CLIENT}/24"})
    net.add_host("server", {"eth0": f"{SERVER}/24"})
    net.connect("client:eth0", "server:eth0", delay=link_kw.pop("delay", "2ms"), **link_kw)
    net["client"].stub_resolver.add_host("www.test", SERVER)
    return net


async def raw_exchange(host, data: bytes | list[bytes], port: int = 80, address: str = SERVER,
                       gap: float = 0.0) -> tuple[bytes, bool]:
    """Send ``data`` (pieces ``gap`` seconds apart) on one connection and read until the server
    closes or goes quiet for 60 s. Returns (everything received, whether the server closed)."""
    reader, writer = await host.open_connection(address, port)
    pieces = data if isinstance(data, list) else [data]
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        if gap:
            await asyncio.sleep(gap)
    received = bytearray()
    closed = False
    while True:
        try:
            chunk = await asyncio.wait_for(reader.read(65536), 60)
        except asyncio.TimeoutError:
            break
        if not chunk:
            closed = True
            break
        received += chunk
    writer.close()
    return bytes(received), closed


def status_lines(data: bytes) -> list[str]:
    """The status lines of every response in ``data`` (1xx included), in order."""
    return [m.decode() for m in re.findall(rb"(?:^|\n)(HTTP/1\.\d \d{3}[^\r\n]*)", data)]
