"""A shared Ethernet segment: a learning switch (IEEE 802.1D transparent bridging, no STP).

It learns which port each source MAC lives behind, forwards known unicast there and floods
broadcast, multicast and unknown unicast to every other port.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..runtime import NS_PER_S
from ..wire.fields import ETH_DST, ETH_HEADER_LEN, ETH_SRC

if TYPE_CHECKING:
    from .link import Channel  # noqa: F401
    from .network import Network


def _deliver(channels: "list[Channel]", frame: bytes, seq: int, sched) -> None:
    """One frame arriving on several links at once, in port order. When a delivery wakes a
    program, the rest wait in this event's place while the program runs (as the separate events
    of each delivery would)."""
    ready = sched.ready
    last = len(channels) - 1
    for i, ch in enumerate(channels):
        ch.arrive(frame)
        if ready and i < last:
            sched.call_at_seq(sched.now, seq, _deliver, channels[i + 1:], frame, seq, sched)
            return


class SwitchPort:
    """One port of a switch: the endpoint a link delivers frames to."""

    __slots__ = ("switch", "port_name", "node_name", "channel")

    def __init__(self, switch: "Switch", name: str) -> None:
        self.switch = switch
        self.port_name = name
        self.node_name = switch.name
        self.channel: Channel | None = None  # the link direction leaving this port

    @property
    def alive(self) -> bool:
        return self.switch.up

    def receive(self, frame: bytes) -> None:
        self.switch.forward(self, frame)


class Switch:
    kind = "switch"

    def __init__(self, network: "Network", name: str, aging: int = 300 * NS_PER_S) -> None:
        self.network = network
        self.name = name
        self.aging = aging
        self.up = True
        self.ports: list[SwitchPort] = []
        self.table: dict[bytes, tuple[SwitchPort, int]] = {}  # MAC -> (port, expires)
        self.stats: Counter[str] = Counter()

    def new_port(self) -> SwitchPort:
        port = SwitchPort(self, f"p{len(self.ports) + 1}")
        self.ports.append(port)
        return port

    def power_off(self) -> None:
        self.up = False
        self.table.clear()

    def power_on(self) -> None:
        self.up = True

    def forward(self, in_port: SwitchPort, frame: bytes) -> None:
        if len(frame) < ETH_HEADER_LEN:
            self.stats["drop.malformed-truncated"] += 1
            return
        now = self.network.scheduler.now
        src, dst = frame[ETH_SRC], frame[ETH_DST]
        if not src[0] & 1:
            self.table[src] = (in_port, now + self.aging)
        entry = None if dst[0] & 1 else self.table.get(dst)
        if entry is not None and entry[1] > now:
            out = entry[0]
            if out is in_port:
                self.stats["filtered"] += 1  # destination is on the segment it came from
                return
            self.stats["forwarded"] += 1
            if out.channel is not None:
                out.channel.send(frame)
            return
        self.stats["flooded"] += 1
        self._flood(in_port, frame)

    def _flood(self, in_port: SwitchPort, frame: bytes) -> None:
        """Send to every other port. The copies that arrive at the same time, one port after the
        other, are one event, not one each: N deliveries cost N deliveries and one heap entry
        (a heap of a million pending ARP broadcasts costs more per entry than one of thousands).
        The event takes the sequence number the first copy would have had, so everything runs
        in the order separate events would run in."""
        sched = self.network.scheduler
        group: list[Channel] = []
        when = seq = 0
        for port in self.ports:
            ch = port.channel
            if port is in_port or ch is None:
                continue
            if group and ch._stochastic:
                sched.call_at_seq(when, seq, _deliver, group, frame, seq, sched)
                group = []
            arrival = ch.depart(frame)
            if arrival is None:
                continue  # dropped, or a faulty link that schedules its own arrival
            if group and arrival != when:
                sched.call_at_seq(when, seq, _deliver, group, frame, seq, sched)
                group = []
            if not group:
                when, seq = arrival, sched.reserve()
            group.append(ch)
        if group:
            sched.call_at_seq(when, seq, _deliver, group, frame, seq, sched)

    def mac_table(self) -> list[tuple[str, str, float]]:
        now = self.network.scheduler.now
        return [(mac.hex(":"), port.port_name, (exp - now) / NS_PER_S)
                for mac, (port, exp) in sorted(self.table.items()) if exp > now]
