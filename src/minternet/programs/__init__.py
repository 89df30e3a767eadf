"""Unmodified asyncio programs on simulated hosts.

::

    net = load("internet.toml").network
    net.spawn(server_main(), on="server")             # an aiohttp app, say
    result = net.run_app(client_main(), on="client")  # httpx, aiohttp, asyncio streams, UDP ...

A program runs on the host it was started on (:mod:`.context`); the loop's networking methods
are that host's (:mod:`.loop`); libraries see transports and sockets like asyncio's
(:mod:`.transports`, :mod:`.simsocket`, :mod:`.datagram`), read the virtual clock
(:mod:`.vtime`), and cannot reach the real network (:mod:`.guard`).
"""

from .context import CURRENT_HOST, NotOnAHost, current_host, host_context, with_host
from .guard import AiodnsRefused, RealNetworkRefused
from .loop import ProgramLoop
from .simsocket import SimSocket
from .vtime import EPOCH

__all__ = ["CURRENT_HOST", "EPOCH", "AiodnsRefused", "NotOnAHost", "ProgramLoop", "RealNetworkRefused",
           "SimSocket", "current_host", "host_context", "with_host"]
