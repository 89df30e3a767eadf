"""Generated internets for scale: a grid of routers, and LANs of hosts behind routers.

Both are built through the ordinary Python API (:class:`~minternet.sim.network.Network`), so what
they measure is what a user's own big topology costs::

    net = grid(rows=25, cols=40)            # 1,000 routers, a host at two opposite corners
    net = lans(lans=100, hosts_per_lan=100)  # 10,000 hosts behind 100 routers (a grid of them)

Addresses: router-to-router links take /30s from 10.0.0.0/8; LAN i is 172.16.0.0/12 carved into
/24s (so up to 4,096 LANs of up to 253 hosts); the corner hosts of a grid live on 192.168.0.0/24
and 192.168.1.0/24.
"""

from __future__ import annotations

import ipaddress
import math

from .network import Network

LINK_BASE = int(ipaddress.IPv4Address("10.0.0.0"))
LAN_BASE = int(ipaddress.IPv4Address("172.16.0.0"))
MAX_ROUTERS = 1 << 20


def grid_shape(n: int) -> tuple[int, int]:
    """rows x cols == n with rows the largest divisor of n not above its square root
    (1,000 -> 25 x 40; 2,500 -> 50 x 50)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"a grid needs a whole number of routers, at least one, not {n!r}")
    if n > MAX_ROUTERS:  # before the divisors are searched (a huge n takes minutes)
        raise ValueError(f"a grid of {n} routers is more than 10.0.0.0/8 has /30s for (at most {MAX_ROUTERS})")
    rows = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return rows, n // rows


def _ip(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def _router_grid(net: Network, rows: int, cols: int, delay: str, extra: dict[tuple[int, int], dict[str, str]],
                 prefix: str = "r") -> list[list[str]]:
    """rows x cols routers named r<row>-<col>, each linked to its right and lower neighbour."""
    for what, value in (("rows", rows), ("cols", cols)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"a grid needs {what} a whole number >= 1, not {value!r}")
    if rows * cols > MAX_ROUTERS:
        raise ValueError(f"a grid of {rows * cols} routers is more than 10.0.0.0/8 has /30s for (at most {MAX_ROUTERS})")
    ifaces: dict[tuple[int, int], dict[str, str]] = {(i, j): dict(extra.get((i, j), {}))
                                                     for i in range(rows) for j in range(cols)}
    links = []
    k = 0
    for i in range(rows):
        for j in range(cols):
            for (di, dj) in ((0, 1), (1, 0)):
                ni, nj = i + di, j + dj
                if ni >= rows or nj >= cols:
                    continue
                base = LINK_BASE + 4 * k
                k += 1
                a, b = ifaces[(i, j)], ifaces[(ni, nj)]
                an, bn = f"eth{len(a)}", f"eth{len(b)}"
                a[an] = f"{_ip(base + 1)}/30"
                b[bn] = f"{_ip(base + 2)}/30"
                links.append((f"{prefix}{i}-{j}:{an}", f"{prefix}{ni}-{nj}:{bn}"))
    names = [[f"{prefix}{i}-{j}" for j in range(cols)] for i in range(rows)]
    for i in range(rows):
        for j in range(cols):
            net.add_router(names[i][j], ifaces[(i, j)])
    for a, b in links:
        net.connect(a, b, delay=delay)
    return names


def grid(routers: int | None = None, rows: int | None = None, cols: int | None = None, seed: int = 1,
         delay: str = "1ms") -> Network:
    """A grid of routers (``routers`` of them, or ``rows`` x ``cols``) with ``delay`` links, and a
    host at two opposite corners: ``a`` behind the top-left router, ``b`` behind the bottom-right."""
    if routers is not None:
        rows, cols = grid_shape(routers)
    if rows is None or cols is None:
        raise ValueError("grid() needs routers=N or rows= and cols=")
    net = Network(seed=seed, name=f"grid {rows}x{cols}")
    last = (rows - 1, cols - 1)
    extra = {(0, 0): {"lan": "192.168.0.1/24"}}
    extra[last] = {**extra.get(last, {}), "lan2": "192.168.1.1/24"}
    names = _router_grid(net, rows, cols, delay, extra)
    net.add_host("a", {"eth0": "192.168.0.10/24"}, gateway="192.168.0.1")
    net.add_host("b", {"eth0": "192.168.1.10/24"}, gateway="192.168.1.1")
    net.connect("a:eth0", f"{names[0][0]}:lan", delay=delay)
    net.connect("b:eth0", f"{names[-1][-1]}:lan2", delay=delay)
    return net


def lans(lans: int = 10, hosts_per_lan: int = 100, seed: int = 1, delay: str = "1ms",
         lan_delay: str = "100us") -> Network:
    """``lans`` switched LANs of ``hosts_per_lan`` hosts (``h<lan>-<n>``), each behind its own
    router; the routers form a grid among themselves. Host 0 of LAN 0 is also called the server
    in :mod:`bench/scale.py` (every other host pings it)."""
    for what, value in (("hosts_per_lan", hosts_per_lan), ("lans", lans)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{what} must be a whole number, not {value!r}")
    if not 1 <= hosts_per_lan <= 253:
        raise ValueError(f"hosts_per_lan must be 1..253 (a /24 per LAN), not {hosts_per_lan}")
    if not 1 <= lans <= 4096:
        raise ValueError(f"lans must be 1..4096 (172.16.0.0/12 in /24s), not {lans}")
    rows, cols = grid_shape(lans)
    net = Network(seed=seed, name=f"{lans} LANs of {hosts_per_lan}")
    extra = {}
    for n in range(lans):
        base = LAN_BASE + 256 * n
        extra[(n // cols, n % cols)] = {"lan": f"{_ip(base + 1)}/24"}
    names = _router_grid(net, rows, cols, delay, extra)
    for n in range(lans):
        base = LAN_BASE + 256 * n
        sw = net.add_switch(f"sw{n}")
        net.connect(f"{names[n // cols][n % cols]}:lan", sw, delay=lan_delay)
        gw = _ip(base + 1)
        for h in range(hosts_per_lan):
            host = net.add_host(f"h{n}-{h}", {"eth0": f"{_ip(base + 2 + h)}/24"}, gateway=gw)
            net.connect(host.interfaces["eth0"], sw, delay=lan_delay)
    return net
