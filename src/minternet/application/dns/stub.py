"""The stub resolver every host has: a static hosts table (like /etc/hosts) and the name server
it is configured with (like /etc/resolv.conf), asked with RD=1."""

from __future__ import annotations

import socket as _socket
from typing import Any

from ...wire._addr import is_ipv4 as _is_ipv4
from ...wire.dns import DNSMessage, Rcode, RRType, canonical, name_eq
from .exchange import query_udp


class StubResolver:
    def __init__(self, host: Any, nameservers: list[str] | None = None, hosts: dict[str, str] | None = None,
                 port: int = 53, timeout: float = 2.0, attempts: int = 2) -> None:
        self.host = host
        self.nameservers = list(nameservers or [])
        # "localhost" is the loopback address, as every /etc/hosts says.
        self.hosts: dict[str, str] = {"localhost": "127.0.0.1",
                                      **{canonical(k): v for k, v in (hosts or {}).items()}}
        self.port = port
        self.timeout = timeout
        self.attempts = attempts

    def add_host(self, name: str, address: str) -> None:
        self.hosts[canonical(name)] = address

    async def query(self, name: str, rtype: int = RRType.A) -> DNSMessage:
        """Ask the configured name servers in turn; raises socket.gaierror(EAI_AGAIN) when none
        answers."""
        if not self.nameservers:
            raise _socket.gaierror(_socket.EAI_AGAIN, f"{self.host.name} has no name server configured")
        for _ in range(self.attempts):
            for server in self.nameservers:
                resp = await self._exchange(server, name, rtype)
                if resp is not None:
                    return resp
        raise _socket.gaierror(_socket.EAI_AGAIN, "Temporary failure in name resolution "
                               f"(no answer from {', '.join(self.nameservers)})")

    async def resolve_all(self, name: str) -> list[str]:
        """All IPv4 addresses of ``name``: the hosts table, else DNS (following CNAMEs).
        socket.gaierror(EAI_NONAME) when the name does not exist."""
        if _is_ipv4(name):
            return [name]
        fixed = self.hosts.get(canonical(name.rstrip(".")))
        if fixed is not None:
            return [fixed]
        resp = await self.query(name.rstrip("."), RRType.A)
        if resp.rcode == Rcode.NXDOMAIN:
            raise _socket.gaierror(_socket.EAI_NONAME, f"Name or service not known: {name}")
        if resp.rcode != Rcode.NOERROR:
            raise _socket.gaierror(_socket.EAI_AGAIN, f"Temporary failure in name resolution: {name} "
                                   f"(rcode {resp.rcode})")
        current = name.rstrip(".")
        for _ in range(8):
            cname = [rr for rr in resp.answers if name_eq(rr.name, current) and rr.type == RRType.CNAME]
            if not cname:
                break
            current = cname[0].data.target
        addresses = [rr.data.address for rr in resp.answers if name_eq(rr.name, current) and rr.type == RRType.A]
        if not addresses:
            raise _socket.gaierror(_socket.EAI_NODATA, f"No address associated with hostname: {name}")
        return addresses

    async def _exchange(self, server: str, name: str, rtype: int) -> DNSMessage | None:
        try:
            return await query_udp(self.host, server, self.port, name, rtype, True, self.timeout)
        except OSError:
            return None
