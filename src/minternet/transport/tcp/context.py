"""What a TCP connection needs from the world around it: a small context, so that the state
machine runs (and is unit-tested) without a host or a network, as smoltcp and h11 test theirs."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ...runtime import Clock
    from ...stack.observer import Observer
    from ...wire.tcp import TCP
    from .connection import TCPConnection
    from .state import State


class TCPContext(Protocol):
    """The TCP layer implements it for real connections; tests pass a fake one."""

    clock: "Clock"
    rng: random.Random
    obs: "Observer"  # name, tracer, counters ("tcp.*"), drop()

    def output(self, conn: "TCPConnection", seg: "TCP") -> None:
        """Send one segment of ``conn`` (encoded and sent through the connection's route)."""
        ...

    def state_changed(self, conn: "TCPConnection", old: "State", new: "State") -> None: ...

    def forget(self, conn: "TCPConnection") -> None:
        """The connection is CLOSED: drop it from the connection table."""
        ...

    def challenge_ack_allowed(self) -> bool:
        """Whether the host-wide challenge-ACK budget (RFC 5961 7) lets one more go now."""
        ...

    def send_reset_for(self, seg: "TCP", local_ip: str, remote_ip: str) -> None:
        """The RST RFC 9293 3.10.7.1 prescribes for a segment without a (matching) connection."""
        ...
