"""Small networks for tests, built through the public Python API."""

from __future__ import annotations

from minternet.sim.network import Network


def chain(n_routers: int = 3, seed: int = 1, delay: str = "5ms", **link_kw) -> Network:
    """client -- r1 -- r2 -- ... -- rN -- server, with /30 transit links."""
    net = Network(seed=seed)
    net.add_host("client", {"eth0": "10.0.1.10/24"}, gateway="10.0.1.1")
    for i in range(1, n_routers + 1):
        ifaces = {"eth0": "10.0.1.1/24" if i == 1 else f"10.1.{i - 1}.2/30",
                  "eth1": "10.0.2.1/24" if i == n_routers else f"10.1.{i}.1/30"}
        net.add_router(f"r{i}", ifaces)
    net.add_host("server", {"eth0": "10.0.2.10/24"}, gateway="10.0.2.1")
    net.connect("client:eth0", "r1:eth0", delay=delay, **link_kw)
    for i in range(1, n_routers):
        net.connect(f"r{i}:eth1", f"r{i + 1}:eth0", delay=delay, **link_kw)
    net.connect(f"r{n_routers}:eth1", "server:eth0", delay=delay, **link_kw)
    return net




def tap_interop_problem() -> str | None:
    """Why the TAP interop tests cannot run here (not root, no /dev/net/tun, no iproute2), or None."""
    import shutil

    from minternet.real.device import tap_problem
    problem = tap_problem()
    if problem:
        return problem
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    return None
