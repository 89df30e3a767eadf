"""Routes computed as shortest paths when the network starts (and again after a failure).

A link's cost is its delay in milliseconds unless the topology gives one, per direction if it
likes, so the way back can differ from the way there. Ties are broken by hop count, then by the
names along the path, so the result never depends on dictionary order. Hosts do not forward:
a path may start at a host but never pass through one. Switches are invisible to IP: they add
cost but no hop.
"""

from __future__ import annotations

import heapq
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..host import Host

if TYPE_CHECKING:
    from .network import Network


@dataclass(frozen=True, slots=True)
class ComputedRoute:
    node: str
    prefix: str
    iface: str
    gateway: str
    cost: float
    path: tuple[str, ...]


def compute_routes(net: "Network") -> dict[str, list[ComputedRoute]]:
    """For every host and router, the best route to every subnet it is not attached to."""
    # Edges: node -> [(neighbour, cost, our interface or None, their interface address or None)]
    edges: dict[str, list[tuple[str, float, str | None, str | None]]] = {n: [] for n in net.nodes}
    for link in net.links:
        if not link.up:
            continue
        for ch in (link.ab, link.ba):
            src_iface = getattr(ch.src, "iface", None)
            dst_iface = getattr(ch.dst, "iface", None)
            edges[ch.src.node_name].append((ch.dst.node_name, ch.cost,
                                            src_iface.name if src_iface else None,
                                            dst_iface.address if dst_iface else None))
    for adj in edges.values():
        adj.sort(key=lambda e: (e[0], e[2] or "", e[3] or ""))

    subnets: dict[tuple[int, int], list[str]] = {}
    for node in net.nodes.values():
        if isinstance(node, Host):
            for iface in node.interfaces.values():
                if iface.address:
                    subnets.setdefault((iface.network, iface.prefixlen), []).append(node.name)

    result: dict[str, list[ComputedRoute]] = {}
    for src in sorted(net.nodes):
        node = net.nodes[src]
        if not isinstance(node, Host) or not node.up:
            continue
        best = _shortest_paths(net, edges, src)
        own = {(i.network, i.prefixlen) for i in node.interfaces.values() if i.address}
        routes = []
        for (network, plen), owners in sorted(subnets.items()):
            if (network, plen) in own:
                continue
            candidates = [best[o] for o in owners if o in best and o != src]
            if not candidates:
                continue
            cost, hops, path, first = min(candidates, key=lambda lab: lab[:3])
            egress, gateway = first
            if egress is None or gateway is None:
                continue
            routes.append(ComputedRoute(src, f"{ipaddress.IPv4Address(network)}/{plen}", egress, gateway,
                                        cost, path))
        result[src] = routes
    return result


def _shortest_paths(net: "Network", edges, src: str):
    """Dijkstra with labels (cost, hops, path names); each label also carries the first hop
    (our egress interface, the next router's address)."""
    best: dict[str, tuple] = {}
    heap = [(0.0, 0, (src,), src, (None, None))]
    while heap:
        cost, hops, path, v, first = heapq.heappop(heap)
        if v in best:
            continue
        best[v] = (cost, hops, path, first)
        node = net.nodes[v]
        if not node.up:
            continue
        if v != src and isinstance(node, Host) and not node.forwarding:
            continue  # hosts do not forward
        for w, c, our_iface, their_addr in edges[v]:
            if w in best:
                continue
            w_node = net.nodes[w]
            is_l3 = isinstance(w_node, Host)
            egress, gateway = first
            if v == src:
                egress = our_iface
            if gateway is None and is_l3:
                gateway = their_addr
            heapq.heappush(heap, (cost + c, hops + (1 if is_l3 else 0), path + (w,), w, (egress, gateway)))
    return best
