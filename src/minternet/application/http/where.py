"""Where a name points in a network, found without sending a packet: used to start the built-in web
site on the host a URL names, before curl (or the live view) asks for it."""

from __future__ import annotations

from typing import Any

from ...wire.dns import RRType, canonical, make_query
from ..dns.authority import answer
from .client import _is_ipv4


def where_is(net: Any, client: Any, name: str) -> str | None:
    """The address ``name`` stands for in this network, found without sending a packet: an address
    as it is, the client's hosts table, a node's name, or the records of the network's DNS zones
    (following CNAMEs). None if nothing says."""
    if _is_ipv4(name):
        return name
    fixed = client.stub_resolver.hosts.get(canonical(name.rstrip(".")))
    if fixed:
        return fixed
    node = net.nodes.get(name)
    if node is not None and getattr(node, "address", None):
        return node.address
    target = name
    for _ in range(8):  # a CNAME may point into another zone
        for authority in net.dns.authorities.values():
            resp = answer(authority.zones, make_query(target, RRType.A, 0))
            if not resp.aa or not resp.answers:
                continue
            addresses = [rr.data.address for rr in resp.answers if rr.type == RRType.A]
            if addresses:
                return addresses[0]
            target = [rr.data.target for rr in resp.answers if rr.type == RRType.CNAME][-1]
            break
        else:
            return None
    return None
