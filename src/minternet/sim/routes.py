"""Routes computed as shortest paths when the network starts (and again after a failure).

A link's cost is its delay in milliseconds unless the topology gives one, per direction if it
likes, so the way back can differ from the way there. Ties are broken by hop count, then by the
names along the path, so the result never depends on dictionary order. Hosts do not forward:
a path may start at a host but never pass through one. Switches are invisible to IP: they add
cost but no hop.

How it scales: the graph (nodes numbered in name order, adjacency lists) is built once per
computation, then one Dijkstra per source that needs routes, keyed on (cost, hops) alone. The
names along the path matter only between paths of equal cost and hops: each node keeps the
neighbours that reach it at its best (cost, hops), and when it is settled its path is the
smallest of theirs plus itself (they were all settled before it, their costs being smaller). Each
subnet goes to the first of its owners settled, or a later one of equal cost and hops with a
smaller path. So the answer is exactly the label-by-label Dijkstra's (kept as
:func:`_shortest_paths_reference`, still used for a graph with a zero-cost edge into a switch,
where a node and the one it is reached from can have equal cost and hops).
"""

from __future__ import annotations

import heapq
import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

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


# One route of a node's computed table: (network, prefixlen, egress interface name, gateway
# address as 4 bytes); what the bulk install takes.
Entry = tuple[int, int, str, bytes]


class _Graph:
    """The network as numbered nodes and adjacency lists, built once for every source."""

    def __init__(self, net: "Network") -> None:
        names = sorted(net.nodes)  # numbered in name order: comparing numbers compares names
        self.names = names
        index = {n: i for i, n in enumerate(names)}
        self.index = index
        nodes = [net.nodes[n] for n in names]
        self.nodes = nodes
        self.l3 = [isinstance(n, Host) for n in nodes]
        # Who passes traffic on: a router that is up, or a switch that is up.
        self.relay = [n.up and (not isinstance(n, Host) or n.forwarding) for n in nodes]
        adj: list[list[tuple[int, float, int, str | None, str | None]]] = [[] for _ in names]
        self.exact_order_needed = False
        for link in net.links:
            if not link.up:
                continue
            for ch in (link.ab, link.ba):
                src_iface = getattr(ch.src, "iface", None)
                dst_iface = getattr(ch.dst, "iface", None)
                w = index[ch.dst.node_name]
                cost = ch.cost
                hop = 1 if self.l3[w] else 0
                if not cost > 0 and (hop == 0 or not cost == 0):
                    self.exact_order_needed = True  # zero (or negative, NaN) cost without a hop
                adj[index[ch.src.node_name]].append((w, cost, hop, src_iface.name if src_iface else None,
                                                     dst_iface.address if dst_iface else None))
        for a in adj:
            a.sort(key=lambda e: (e[0], e[3] or "", e[4] or ""))
        self.adj = adj
        subnets: dict[tuple[int, int], list[int]] = {}
        for i, node in enumerate(nodes):
            if isinstance(node, Host):
                for iface in node.interfaces.values():
                    if iface.address:
                        subnets.setdefault((iface.network, iface.prefixlen), []).append(i)
        self.subnets = sorted(subnets)  # the order routes are listed in
        self.owners = [subnets[k] for k in self.subnets]
        subnet_no = {k: s for s, k in enumerate(self.subnets)}
        self.subnet_no = subnet_no
        subs_of: list[list[int]] = [[] for _ in names]
        for s, owners in enumerate(self.owners):
            for o in owners:
                subs_of[o].append(s)
        self.subs_of = subs_of
        self._gw_bytes: dict[str, bytes] = {}

    def gateway_bytes(self, addr: str) -> bytes:
        b = self._gw_bytes.get(addr)
        if b is None:
            b = self._gw_bytes[addr] = socket.inet_aton(addr)
        return b


def _labels(g: _Graph, s: int):
    """Dijkstra from ``s``: per node its cost, hops, path (node numbers) and first hop (our
    egress interface, the next router's address), None where unreached; and per subnet the
    owner whose label is smallest (-1: none reached)."""
    n = len(g.names)
    inf = float("inf")
    cost = [inf] * n
    hops = [0] * n
    preds: list = [None] * n
    path: list = [None] * n
    first: list = [None] * n
    done = bytearray(n)
    winner = [-1] * len(g.subnets)
    adj, relay, l3, subs_of = g.adj, g.relay, g.l3, g.subs_of
    cost[s] = 0.0
    heap = [(0.0, 0, s)]
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        c, h, v = pop(heap)
        if done[v]:
            continue
        done[v] = 1
        if v == s:
            path[v] = (v,)
            first[v] = (None, None)
        else:
            pl = preds[v]
            if len(pl) == 1:
                u, our, their = pl[0]
                best_path = path[u] + (v,)
            else:
                best_path = best = None
                for u, our, their in pl:
                    p = path[u] + (v,)
                    f = _first_hop(first[u], u == s, our, their, l3[v])
                    if best_path is None or (p, f) < (best_path, best):
                        best_path, best, bu = p, f, (u, our, their)
                u, our, their = bu
            path[v] = best_path
            fu = first[u]
            if u == s:
                fu = (our, fu[1])
            if fu[1] is None and l3[v]:
                fu = (fu[0], their)
            first[v] = fu
            for k in subs_of[v]:
                o = winner[k]
                if o < 0 or (cost[o] == c and hops[o] == h and path[v] < path[o]):
                    winner[k] = v
        if not (v == s or relay[v]):
            continue  # hosts do not forward; a node that is down passes nothing on
        for w, ec, hop, our, their in adj[v]:
            if done[w]:
                continue
            nc = c + ec
            nh = h + hop
            oc = cost[w]
            if nc < oc or (nc == oc and nh < hops[w]):
                cost[w] = nc
                hops[w] = nh
                preds[w] = [(v, our, their)]
                push(heap, (nc, nh, w))
            elif nc == oc and nh == hops[w]:
                preds[w].append((v, our, their))
    return cost, hops, path, first, winner


def _first_hop(fu, from_src: bool, our, their, v_l3: bool):
    egress, gateway = fu
    if from_src:
        egress = our
    if gateway is None and v_l3:
        gateway = their
    return egress, gateway


def _needs_routes(node) -> bool:
    return isinstance(node, Host) and node.up


def route_entries(net: "Network", sources: Iterable[str] | None = None) -> dict[str, list[Entry]]:
    """For every host and router that is up (or those of ``sources``), its computed table:
    the best route to every subnet it is not attached to, as (network, prefixlen, egress
    interface, gateway bytes), in the order of the subnets."""
    g = _Graph(net)
    wanted = sorted(net.nodes) if sources is None else sorted(sources)
    if g.exact_order_needed:
        return {src: [(network, plen, r.iface, g.gateway_bytes(r.gateway))
                      for r in rs for network, plen in [_parse(r.prefix)]]
                for src, rs in _compute_reference(net, g, wanted).items()}
    result: dict[str, list[Entry]] = {}
    subnets = g.subnets
    for name in wanted:
        node = net.nodes[name]
        if not _needs_routes(node):
            continue
        s = g.index[name]
        _, _, _, first, winner = _labels(g, s)
        own = set(g.subs_of[s])
        routes: list[Entry] = []
        gwb = g.gateway_bytes
        for k, o in enumerate(winner):
            if o < 0 or k in own:
                continue
            egress, gateway = first[o]
            if egress is None or gateway is None:
                continue
            network, plen = subnets[k]
            routes.append((network, plen, egress, gwb(gateway)))
        result[name] = routes
    return result


def _parse(prefix: str) -> tuple[int, int]:
    net = ipaddress.IPv4Network(prefix)
    return int(net.network_address), net.prefixlen


def compute_routes(net: "Network", sources: Iterable[str] | None = None) -> dict[str, list[ComputedRoute]]:
    """For every host and router (or those of ``sources``), the best route to every subnet it is
    not attached to, with its cost and the path of node names."""
    g = _Graph(net)
    wanted = sorted(net.nodes) if sources is None else sorted(sources)
    if g.exact_order_needed:
        return _compute_reference(net, g, wanted)
    result: dict[str, list[ComputedRoute]] = {}
    for name in wanted:
        if not _needs_routes(net.nodes[name]):
            continue
        s = g.index[name]
        cost, _, path, first, winner = _labels(g, s)
        own = set(g.subs_of[s])
        routes = []
        for k, o in enumerate(winner):
            if o < 0 or k in own:
                continue
            egress, gateway = first[o]
            if egress is None or gateway is None:
                continue
            network, plen = g.subnets[k]
            routes.append(ComputedRoute(name, f"{ipaddress.IPv4Address(network)}/{plen}", egress, gateway,
                                        cost[o], tuple(g.names[i] for i in path[o])))
        result[name] = routes
    return result


def _compute_reference(net: "Network", g: _Graph, wanted: list[str]) -> dict[str, list[ComputedRoute]]:
    """The label-by-label computation (path tuples on the heap); exact for any costs."""
    edges = {name: [(g.names[w], c, our, their) for w, c, _, our, their in g.adj[i]]
             for i, name in enumerate(g.names)}
    result: dict[str, list[ComputedRoute]] = {}
    for src in wanted:
        node = net.nodes[src]
        if not _needs_routes(node):
            continue
        best = _shortest_paths_reference(net, edges, src)
        own = {(i.network, i.prefixlen) for i in node.interfaces.values() if i.address}
        routes = []
        for (network, plen), owners in zip(g.subnets, g.owners):
            if (network, plen) in own:
                continue
            candidates = [best[o] for o in (g.names[i] for i in owners) if o in best and o != src]
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


def _shortest_paths_reference(net: "Network", edges, src: str):
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
