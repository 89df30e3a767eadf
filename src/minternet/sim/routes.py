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


# One route of a node's computed table: ((network, prefixlen), (egress interface name, gateway
# address as 4 bytes)); what the bulk install takes.
Entry = tuple[tuple[int, int], tuple[str, bytes]]


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
        self._prune_dominated_hosts()

    def _prune_dominated_hosts(self) -> None:
        """Drop the edges into a host that can never be the best owner of any of its subnets.

        A host forwards nothing, so it is only ever reached as the last hop, from an L3 node on
        one of its segments (the nodes it reaches through switches alone), at a strictly larger
        (cost, hops) than that node's. When every L3 node on every segment of the host owns every
        subnet the host owns, whichever of them it is reached from beats it for each subnet: its
        label is never needed. (A LAN of hosts behind a router: every host but the source drops
        out, and a router's Dijkstra visits routers and switches only.)"""
        l3, adj, subs_of = self.l3, self.adj, self.subs_of
        n = len(self.names)
        # Segments: the switches connected to each other, plus the L3 nodes attached to them;
        # a direct link between two L3 nodes is a segment of its own.
        seg_of = [-1] * n
        members: list[list[int]] = []
        for start in range(n):
            if l3[start] or seg_of[start] >= 0:
                continue
            seg = len(members)
            group: set[int] = set()
            stack = [start]
            seg_of[start] = seg
            while stack:
                v = stack.pop()
                for w, *_ in adj[v]:
                    if l3[w]:
                        group.add(w)
                    elif seg_of[w] < 0:
                        seg_of[w] = seg
                        stack.append(w)
            members.append(sorted(group))
        segments_of: list[list[list[int]]] = [[] for _ in range(n)]
        for group in members:
            for v in group:
                segments_of[v].append(group)
        for v in range(n):
            for w, *_ in adj[v]:
                if l3[v] and l3[w]:
                    segments_of[w].append([v, w])
        dominated = bytearray(n)
        for h in range(n):
            if not l3[h] or self.relay[h] or not subs_of[h] or not segments_of[h]:
                continue
            mine = set(subs_of[h])
            if all(x == h or mine.issubset(subs_of[x]) for group in segments_of[h] for x in group):
                dominated[h] = 1
        self.dominated = dominated
        if any(dominated):
            self.adj = [[e for e in a if not dominated[e[0]]] for a in adj]

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
    path[s] = (s,)
    first[s] = (None, None)
    done[s] = 1
    heap: list = []
    pop, push = heapq.heappop, heapq.heappush
    c, h, v = 0.0, 0, s
    while True:
        if relay[v] or v == s:  # hosts do not forward; a node that is down passes nothing on
            for w, ec, hop, our, their in adj[v]:
                if done[w]:
                    continue
                nc = c + ec
                oc = cost[w]
                if nc < oc:
                    cost[w] = nc
                    hops[w] = h + hop
                    preds[w] = [(v, our, their)]
                    push(heap, (nc, h + hop, w))
                elif nc == oc:
                    nh = h + hop
                    if nh < hops[w]:
                        hops[w] = nh
                        preds[w] = [(v, our, their)]
                        push(heap, (nc, nh, w))
                    elif nh == hops[w]:
                        preds[w].append((v, our, their))
        while heap:
            c, h, v = pop(heap)
            if not done[v]:
                break
        else:
            break
        done[v] = 1
        pl = preds[v]
        u, our, their = pl[0]
        best_path = path[u] + (v,)
        if len(pl) > 1:
            for cand in pl[1:]:
                p = path[cand[0]] + (v,)
                if p < best_path:
                    best_path, (u, our, their) = p, cand
                elif p == best_path and _first_hop(first[u], u == s, cand[1], cand[2], l3[v]) < \
                        _first_hop(first[u], u == s, our, their, l3[v]):
                    u, our, their = cand  # parallel links from the same node
        path[v] = best_path
        fu = first[u]
        if u == s:
            fu = (our, fu[1])
        if fu[1] is None and l3[v]:
            fu = (fu[0], their)
        first[v] = fu
        for k in subs_of[v]:
            o = winner[k]
            if o < 0 or (cost[o] == c and hops[o] == h and best_path < path[o]):
                winner[k] = v
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
        return {src: [(_parse(r.prefix), (r.iface, g.gateway_bytes(r.gateway))) for r in rs]
                for src, rs in _compute_reference(net, g, wanted).items()}
    result: dict[str, list[Entry]] = {}
    subnets = g.subnets
    for name in wanted:
        node = net.nodes[name]
        if not _needs_routes(node):
            continue
        s = g.index[name]
        _, _, _, first, winner = _labels(g, s)
        for k in g.subs_of[s]:
            winner[k] = -1  # a node's own subnets are connected routes
        first_of = [first[o] if o >= 0 else None for o in winner]
        # A source has as many first hops as neighbours: convert each once.
        hops = {f: (f[0], g.gateway_bytes(f[1])) for f in set(first_of)
                if f is not None and f[0] is not None and f[1] is not None}
        result[name] = [(key, hops[f]) for key, f in zip(subnets, first_of) if f in hops]
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
