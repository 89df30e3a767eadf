"""The API programs use: sockets shaped like Python's ``socket`` module, and asyncio streams.

::

    sock = host.socket(AF_INET, SOCK_DGRAM)          # UDP: bind, connect, sendto, await recvfrom
    sock = host.socket(AF_INET, SOCK_STREAM)         # TCP: await connect, listen, await accept, ...
    reader, writer = await host.open_connection("www.example.com", 80)
    server = await host.start_server(handle, port=80)

Calls that wait are coroutines (the network runs on the same loop); everything else is
synchronous, as in ``socket``. Errors are the OSErrors a Python programmer knows, with Linux's
errno values.
"""

from .common import (AF_INET, DEFAULT_RCVBUF, IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_PMTUDISC_DONT, IP_TTL,
                     IPPROTO_IP, IPPROTO_TCP, MAX_UDP_PAYLOAD, SHUT_RD, SHUT_RDWR, SHUT_WR, SO_BROADCAST,
                     SO_ERROR, SO_KEEPALIVE, SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, SOCK_DGRAM, SOCK_STREAM,
                     SOL_SOCKET, TCP_CONGESTION, TCP_NODELAY, os_error)
from .udp import DatagramSocket, DatagramTransport, create_datagram_endpoint

__all__ = [
    "AF_INET", "DEFAULT_RCVBUF", "DatagramSocket", "DatagramTransport", "IPPROTO_IP", "IPPROTO_TCP",
    "IP_MTU_DISCOVER", "IP_PMTUDISC_DO", "IP_PMTUDISC_DONT", "IP_TTL", "MAX_UDP_PAYLOAD", "SHUT_RD",
    "SHUT_RDWR", "SHUT_WR", "SOCK_DGRAM", "SOCK_STREAM", "SOL_SOCKET", "SO_BROADCAST", "SO_ERROR",
    "SO_KEEPALIVE", "SO_RCVBUF", "SO_REUSEADDR", "SO_SNDBUF", "TCP_CONGESTION", "TCP_NODELAY",
    "create_datagram_endpoint", "os_error",
]
