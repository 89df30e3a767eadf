"""A routing table with longest-prefix match and a default route."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..link.interface import Interface


@dataclass(frozen=True, slots=True)
class Route:
    """``prefix/prefixlen`` is reached through ``iface``, via ``gateway`` (None: directly on the link)."""

    network: int
    prefixlen: int
    iface: "Interface"
    gateway: bytes | None = None
    metric: int = 0
    origin: str = "static"  # connected, static, computed, default

    @property
    def prefix(self) -> str:
        return f"{ipaddress.IPv4Address(self.network)}/{self.prefixlen}"

    @property
    def via(self) -> str | None:
        return socket.inet_ntoa(self.gateway) if self.gateway else None

    def __str__(self) -> str:
        dest = "default" if self.prefixlen == 0 else self.prefix
        via = f" via {self.via}" if self.gateway else ""
        return f"{dest}{via} dev {self.iface.name} proto {self.origin} metric {self.metric}"


def _mask(prefixlen: int) -> int:
    return (0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF if prefixlen else 0


class RoutingTable:
    """Longest prefix wins; among equal prefixes, the lowest metric. Lookups are cached per
    destination address until the table changes."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._by_len: list[tuple[int, dict[int, Route]]] = []  # (mask, network -> best route), longest first
        self._cache: dict[bytes, Route | None] = {}
        self.generation = 0  # bumped on every change: route handles made before it are stale

    def __iter__(self):
        return iter(sorted(self._routes, key=lambda r: (-r.prefixlen, r.network, r.metric)))

    def __len__(self) -> int:
        return len(self._routes)

    def add(self, prefix: str, iface: "Interface", gateway: str | None = None, metric: int = 0,
            origin: str = "static") -> Route:
        net = ipaddress.IPv4Network(prefix, strict=False)
        route = Route(int(net.network_address), net.prefixlen, iface,
                      socket.inet_aton(gateway) if gateway else None, metric, origin)
        self._routes.append(route)
        self._rebuild()
        return route

    def remove(self, origin: str | None = None, iface: "Interface | None" = None) -> None:
        """Remove every route of the given origin and/or interface."""
        self._routes = [r for r in self._routes
                        if not ((origin is None or r.origin == origin) and (iface is None or r.iface is iface))]
        self._rebuild()

    def _rebuild(self) -> None:
        tables: dict[int, dict[int, Route]] = {}
        for r in self._routes:
            t = tables.setdefault(r.prefixlen, {})
            best = t.get(r.network)
            if best is None or r.metric < best.metric:
                t[r.network] = r
        self._by_len = [(_mask(plen), tables[plen]) for plen in sorted(tables, reverse=True)]
        self._cache.clear()
        self.generation += 1

    def lookup(self, dst: bytes) -> Route | None:
        """The route for a destination address given as 4 bytes."""
        try:
            return self._cache[dst]
        except KeyError:
            pass
        d = int.from_bytes(dst, "big")
        found = None
        for mask, table in self._by_len:
            found = table.get(d & mask)
            if found is not None:
                break
        if len(self._cache) > 65536:
            self._cache.clear()
        self._cache[dst] = found
        return found

    def lookup_str(self, dst: str) -> Route | None:
        return self.lookup(socket.inet_aton(dst))
