"""A routing table with longest-prefix match and a default route.

The table is one hash table per prefix length (network -> best route), searched from the longest
length down: a lookup costs at most one probe per distinct length (33 at most), however many
routes there are, and a route is added in constant time; lookups are cached per destination. A
computed table of thousands of routes is installed in one go (:meth:`RoutingTable.replace`).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Iterable, NamedTuple

if TYPE_CHECKING:
    from ..link.interface import Interface


class Route(NamedTuple):
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


CACHE_MAX = 65536  # destinations remembered between changes


class RoutingTable:
    """Longest prefix wins; among equal prefixes, the lowest metric, and among equal metrics the
    route added first. Lookups are cached per destination address until the table changes."""

    __slots__ = ("_routes", "_tables", "_by_len", "_cache", "generation")

    def __init__(self) -> None:
        self._routes: list[Route] = []  # in the order added
        self._tables: dict[int, dict[int, Route]] = {}  # prefixlen -> network -> best route
        self._by_len: list[tuple[int, dict[int, Route]]] = []  # (mask, table), longest first
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
        self._insert(route)
        self._changed()
        return route

    def remove(self, origin: str | None = None, iface: "Interface | None" = None) -> None:
        """Remove every route of the given origin and/or interface."""
        kept = [r for r in self._routes
                if not ((origin is None or r.origin == origin) and (iface is None or r.iface is iface))]
        if len(kept) != len(self._routes):
            self._routes = kept
            self._rebuild()
            self._changed()  # nothing removed: route handles stay good

    def replace(self, origin: str, routes: Iterable[Route]) -> bool:
        """Put ``routes`` in place of every route of ``origin``, in one rebuild (how computed
        routes are installed). Nothing changes, not even :attr:`generation`, when they are the
        routes already there; returns whether the table changed."""
        new = list(routes)
        old = [r for r in self._routes if r.origin == origin]
        if old == new:
            return False
        kept = [r for r in self._routes if r.origin != origin] if old else self._routes
        kept.extend(new)
        self._routes = kept
        if old:
            self._rebuild()
        else:
            self._insert_all(new)
        self._changed()
        return True

    def _insert_all(self, routes: list[Route]) -> None:
        tables = self._tables
        lengths = len(tables)
        for r in routes:  # _insert, inlined: a computed table has thousands
            t = tables.get(r[1])
            if t is None:
                t = tables[r[1]] = {}
            best = t.get(r[0])
            if best is None or r[4] < best[4]:
                t[r[0]] = r
        if len(tables) != lengths:
            self._by_len = [(_mask(plen), tables[plen]) for plen in sorted(tables, reverse=True)]

    def routes(self, origin: str | None = None) -> list[Route]:
        """The routes (of one origin), in the order they were added."""
        return [r for r in self._routes if origin is None or r.origin == origin]

    def _insert(self, r: Route) -> None:
        t = self._tables.get(r.prefixlen)
        if t is None:
            t = self._tables[r.prefixlen] = {}
            self._by_len = [(_mask(plen), self._tables[plen]) for plen in sorted(self._tables, reverse=True)]
        best = t.get(r.network)
        if best is None or r.metric < best.metric:
            t[r.network] = r

    def _rebuild(self) -> None:
        self._tables = {}
        self._by_len = []
        self._insert_all(self._routes)

    def _changed(self) -> None:
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
        if len(self._cache) > CACHE_MAX:
            self._cache.clear()
        self._cache[dst] = found
        return found

    def lookup_str(self, dst: str) -> Route | None:
        return self.lookup(socket.inet_aton(dst))
