"""The observer every layer reports to: the node's name, whether it is up, its tracer, its counters,
and drop()."""

from __future__ import annotations

from collections import Counter

from ..observe.trace import Tracer


class Observer:
    """Counters by name (like ``netstat -s``) and the trace, for one node.

    A layer holds the observer, not the host: ``obs.stats["ip.forwarded"] += 1``,
    ``obs.drop("ip", "no-route", ...)``, and ``if obs.tracer.enabled: obs.tracer.emit(obs.name, ...)``.
    """

    __slots__ = ("name", "tracer", "stats", "up")

    def __init__(self, name: str, tracer: Tracer) -> None:
        self.name = name
        self.tracer = tracer
        self.stats: Counter[str] = Counter()
        self.up = True  # the node is powered: a node that is down neither sends nor receives

    def drop(self, layer: str, reason: str, iface: str | None = None, frame: bytes | None = None,
             packet: bytes | None = None, text: str | None = None, count: int = 1) -> None:
        """Count a drop under its reason and trace it."""
        self.stats[f"drop.{reason}"] += count
        if self.tracer.enabled:
            self.tracer.emit(self.name, iface, layer, "drop", reason, frame, packet, text)
