"""A deterministic drawing of a topology: nodes in columns by hop distance from the first host.

Good enough for up to ~50 nodes and, above all, the same picture every time for the same file.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..sim.link import Link
    from ..sim.network import Network

WIDTH = 1000.0
HEIGHT = 600.0
MARGIN = 60.0
MAX_COLUMNS = 8


def node_kind(node: Any) -> str:
    """host, router or switch, as the page draws it."""
    kind = getattr(node, "kind", None)
    if kind == "switch":
        return "switch"
    return "router" if getattr(node, "forwarding", False) else "host"


def link_label(link: "Link") -> str:
    """Delay, and loss when there is any, for the label on the drawn line."""
    p = link.ab.params
    text = f"{p.delay / 1e6:g} ms"
    if p.loss:
        text += f", loss {p.loss * 100:g}%"
    if link.ba.params.delay != p.delay or link.ba.params.loss != p.loss:
        q = link.ba.params
        text += f" / {q.delay / 1e6:g} ms" + (f", loss {q.loss * 100:g}%" if q.loss else "")
    return text


def link_params(p: Any) -> list[list[str]]:
    """One direction's settings as [name, value] pairs (the page words them in its language), in
    the order of LinkParams.describe()."""
    from ..sim.units import format_rate, format_time
    parts = [["delay", format_time(p.delay)]]
    if p.bandwidth:
        parts.append(["rate", format_rate(p.bandwidth)])
    if p.jitter:
        parts.append(["jitter", format_time(p.jitter)])
    for name in ("loss", "duplicate", "reorder", "corrupt"):
        if getattr(p, name):
            parts.append([name, f"{getattr(p, name) * 100:g}%"])
    if p.mtu:
        parts.append(["mtu", str(p.mtu)])
    return parts


def layout(net: "Network") -> dict[str, Any]:
    """Nodes with x, y, kind and addresses; links with their ends, label and state."""
    names = list(net.nodes)
    neighbours: dict[str, list[str]] = {n: [] for n in names}
    for link in net.links:
        a, b = link.a.node_name, link.b.node_name
        neighbours[a].append(b)
        neighbours[b].append(a)
    hosts = [n for n in names if node_kind(net.nodes[n]) == "host"]
    start = hosts[0] if hosts else (names[0] if names else None)
    depth: dict[str, int] = {}
    # Breadth-first from the first host; parts not connected to it start their own columns after.
    for root in ([start] if start else []) + names:
        if root in depth:
            continue
        base = max(depth.values(), default=-1) + 1 if depth else 0
        depth[root] = base
        queue = deque([root])
        while queue:
            n = queue.popleft()
            for m in neighbours[n]:
                if m not in depth:
                    depth[m] = depth[n] + 1
                    queue.append(m)
    columns: dict[int, list[str]] = {}
    for n in names:  # file order inside a column keeps the picture stable
        columns.setdefault(depth[n], []).append(n)
    ncols = max(columns) + 1 if columns else 1
    # A long chain would squeeze its columns together: past MAX_COLUMNS, fold them into bands
    # that snake left to right, then right to left, so neighbouring columns stay side by side.
    nbands = -(-ncols // MAX_COLUMNS)
    per_band = -(-ncols // nbands)
    band_h = (HEIGHT - 2 * MARGIN) / nbands
    nodes = []
    for col, members in sorted(columns.items()):
        band, pos = divmod(col, per_band)
        if band % 2:
            pos = per_band - 1 - pos
        span = per_band - 1 if nbands > 1 else ncols - 1
        x = MARGIN + (WIDTH - 2 * MARGIN) * (pos / span if span > 0 else 0.5)
        for row, n in enumerate(members):
            y = MARGIN + band * band_h + band_h * ((row + 0.5) / len(members))
            node = net.nodes[n]
            addrs = [f"{i.name} {i.cidr}" for i in getattr(node, "interfaces", {}).values() if i.cidr]
            nodes.append({"name": n, "kind": node_kind(node), "x": round(x, 1), "y": round(y, 1),
                          "addresses": addrs, "up": bool(getattr(node, "up", True))})
    # Addresses under every node only where there is room for them; they are in each node's tooltip.
    crowded = per_band > 8 or max((len(m) for m in columns.values()), default=0) * nbands > 6
    links = [{"i": i, "a": l.a.node_name, "ap": l.a.port_name, "b": l.b.node_name, "bp": l.b.port_name,
              "name": l.name, "label": link_label(l), "describe": l.describe(), "up": l.up,
              "delay": [l.ab.params.delay, l.ba.params.delay], "loss": [l.ab.params.loss, l.ba.params.loss],
              "params": [link_params(l.ab.params), link_params(l.ba.params)]}
             for i, l in enumerate(net.links)]
    return {"name": net.name, "width": WIDTH, "height": HEIGHT, "nodes": nodes, "links": links,
            "addresses": not crowded}
