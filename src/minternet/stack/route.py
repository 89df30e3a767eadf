"""The route handle a transport keeps for a destination, instead of a lookup per segment."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ..link.interface import Interface


class RouteHandle(NamedTuple):
    """Where datagrams to one destination go: out of ``iface`` to ``next_hop`` (4 bytes), from
    ``source``, at most ``mtu`` bytes each (the path MTU when one was learned, RFC 1191), or up to
    ``tso_max`` bytes for TCP when the device segments (0: no offload).

    ``generation`` is the routing table's generation when the handle was made: when the table
    changes, the holder asks IP for a fresh handle (``IPLayer.route_to``; the TCP layer
    compares generations before every segment, a cheap integer test)."""

    iface: "Interface"
    next_hop: bytes
    source: str
    mtu: int
    tso_max: int
    dst: bytes
    generation: int
    # The path MTU was reported below min_pmtu and floored there (Linux locks the route's MTU):
    # a socket that only wants path MTU discovery (TCP) sends without DF, and routers fragment
    # (Linux's ip_dont_fragment); IP_PMTUDISC_DO keeps DF.
    mtu_locked: bool = False
