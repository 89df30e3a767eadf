"""Which lane goes where: an order of nodes, left to right, in which most arrows are short."""

from __future__ import annotations

from collections import Counter, deque
from typing import Iterable, NamedTuple


class Hop(NamedTuple):
    """What lane ordering needs to know of an arrow, in time order."""

    src: str
    dst: str | None
    unicast: bool
    arp: bool


def order_lanes(nodes: list[str], hops: Iterable[Hop]) -> list[str]:
    """The node that started the conversation (the sender of the first packet that is not ARP)
    first; then the others breadth first from it, in order of first contact; nodes that only heard
    broadcasts last. Then nodes move to where the unicast arrows, counted, are shortest in total
    (the first lane stays first)."""
    hops = list(hops)
    neighbours: dict[str, list[str]] = {n: [] for n in nodes}
    weight: Counter[tuple[str, str]] = Counter()
    unicast: set[str] = set()
    for h in hops:
        if h.dst is None:
            continue
        for a, b in ((h.src, h.dst), (h.dst, h.src)):
            if b not in neighbours.setdefault(a, []):
                neighbours[a].append(b)
        if h.unicast:
            unicast.update((h.src, h.dst))
            weight[(min(h.src, h.dst), max(h.src, h.dst))] += 1
    first = next((h.src for h in hops if not h.arp), hops[0].src if hops else None)
    dist: dict[str, int] = {}
    if first is not None:
        dist[first] = 0
        todo = deque([first])
        while todo:
            n = todo.popleft()
            for m in neighbours.get(n, ()):
                if m not in dist:
                    dist[m] = dist[n] + 1
                    todo.append(m)
    far = len(nodes) + 1
    bfs = list(dist)
    rank = {n: i for i, n in enumerate(bfs)}
    position = {n: i for i, n in enumerate(nodes)}
    order = sorted(nodes, key=lambda n: (n not in unicast, dist.get(n, far), rank.get(n, far), position[n]))
    return _shorten(order, weight, pinned=1 if first is not None else 0)


def _cost(order: list[str], weight: Counter[tuple[str, str]]) -> int:
    pos = {n: i for i, n in enumerate(order)}
    return sum(w * abs(pos[a] - pos[b]) for (a, b), w in weight.items() if a in pos and b in pos)


def _shorten(order: list[str], weight: Counter[tuple[str, str]], pinned: int, rounds: int = 20) -> list[str]:
    """Move single nodes while that makes the arrows shorter in total (a local optimum of the
    linear arrangement; deterministic: the first best move is taken)."""
    best = _cost(order, weight)
    for _ in range(rounds):
        improved = False
        for node in list(order[pinned:]):
            i = order.index(node)
            rest = order[:i] + order[i + 1:]
            for j in range(pinned, len(order)):
                if j == i:
                    continue
                trial = rest[:j] + [node] + rest[j:]
                c = _cost(trial, weight)
                if c < best:
                    best, order, improved = c, trial, True
                    break
        if not improved:
            break
    return order
