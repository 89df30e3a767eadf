"""Links of the simulated world: point-to-point cables with bandwidth, delay and faults.

A frame's journey is arithmetic, not a chain of events: it starts when the line is next free,
takes size/bandwidth to serialise, then the propagation delay (plus jitter) to arrive. One heap
entry per frame per hop.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from ..netem import Netem, impair
from ..wire.fields import ETH_HEADER_LEN
from .units import format_rate, format_time

if TYPE_CHECKING:
    from .network import Network


@dataclass(frozen=True)
class LinkParams(Netem):
    """How one direction of a link behaves: the fault model (:class:`~minternet.netem.Netem`:
    delay, jitter, loss, duplicate, reorder, corrupt), where ``delay`` is the propagation delay,
    plus what a cable has besides. Probabilities are per frame, 0..1."""

    delay: int = 1_000_000  # ns of propagation
    bandwidth: int | None = 1_000_000_000  # bits per second; None = infinitely fast
    mtu: int | None = None  # bytes of IP packet the link carries (sets the interfaces' MTU)
    queue: int = 1000  # frames waiting to be sent before drop-tail (Linux's txqueuelen)

    def __post_init__(self) -> None:
        super().__post_init__()
        # As a topology file checks them (an MTU of 0 dropped every frame; "abc" or 1500.5
        # became the interfaces' MTU).
        mtu, queue = self.mtu, self.queue
        if mtu is not None and (isinstance(mtu, bool) or not isinstance(mtu, int) or not 68 <= mtu <= 65535):
            raise ValueError(f"mtu must be a whole number of bytes from 68 to 65535 (1500 is Ethernet), "
                             f"not {mtu!r}")
        if isinstance(queue, bool) or not isinstance(queue, int) or queue < 1:
            raise ValueError(f"queue must be a whole number of frames >= 1 (Linux's default is 1000), "
                             f"not {queue!r}")

    def describe(self) -> str:
        parts = [format_time(self.delay)]
        if self.bandwidth:
            parts.append(format_rate(self.bandwidth))
        for name in ("jitter",):
            if getattr(self, name):
                parts.append(f"{name} {format_time(getattr(self, name))}")
        for name in ("loss", "duplicate", "reorder", "corrupt"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name} {value * 100:g}%")
        if self.mtu:
            parts.append(f"mtu {self.mtu}")
        return ", ".join(parts)


PARAM_NAMES = tuple(f.name for f in fields(LinkParams))


def good_cost(cost: Any) -> bool:
    """Whether ``cost`` can be a link's routing cost: a finite number >= 0 (Dijkstra's rule; an
    infinite or NaN cost has no shortest path to compare)."""
    return (isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost >= 0
            and cost != float("inf"))


class Endpoint:
    """Something a link can deliver frames to: an interface or a switch port."""

    node_name: str
    port_name: str

    def receive(self, frame: bytes) -> None: ...

    @property
    def alive(self) -> bool: ...


class Channel:
    """One direction of a link."""

    __slots__ = ("link", "src", "dst", "params", "next_free", "_queue", "_ns_per_byte", "_rng",
                 "_sched", "_net", "cost", "sent", "delivered", "_stochastic")

    def __init__(self, link: "Link", src: Endpoint, dst: Endpoint, params: LinkParams, cost: float) -> None:
        self.link = link
        self.src = src
        self.dst = dst
        self.cost = cost
        self._net = link.network
        self._sched = link.network.scheduler
        self._rng = None  # made when the link has faults to draw (most never do: 2.5 KB each)
        self.next_free = 0
        self._queue: deque[int] | None = None  # made on the first frame (an idle link holds none)
        self.sent = 0
        self.delivered = 0
        self.set_params(params)

    def set_params(self, params: LinkParams) -> None:
        self.params = params
        self._ns_per_byte = 8e9 / params.bandwidth if params.bandwidth else 0.0
        self._stochastic = params.stochastic
        if self._stochastic and self._rng is None:
            # Derived from the seed and the channel's name, whenever it is made: the same draws.
            self._rng = self._net.rng_for("link", self.src.node_name, self.src.port_name,
                                          self.dst.node_name, self.dst.port_name)

    def _drop(self, reason: str, frame: bytes, at_dst: bool = False) -> None:
        net = self._net
        net.stats[f"drop.{reason}"] += 1
        self.link.stats[f"drop.{reason}"] += 1
        if net.tracer.enabled:
            end = self.dst if at_dst else self.src
            net.tracer.emit(end.node_name, end.port_name, "link", "drop", reason, frame=frame)

    def send(self, frame: bytes) -> None:
        """The source end puts a frame on this direction of the link."""
        arrival = self.depart(frame)
        if arrival is not None:
            self._sched.call_at(arrival, self.arrive, frame)

    def depart(self, frame: bytes) -> int | None:
        """Put a frame on the line: returns when it arrives, for the caller to schedule
        :meth:`arrive` (a switch delivers a broadcast to many links in one event); None when it
        was dropped or the faults of the link scheduled its arrival themselves."""
        link = self.link
        if not link.up:
            self._drop("link-down", frame)
            return None
        p = self.params
        if p.mtu is not None and len(frame) - ETH_HEADER_LEN > p.mtu:
            self._drop("mtu-exceeded", frame)
            return None
        now = self._sched.now
        self.sent += 1
        if self._ns_per_byte:
            q = self._queue
            if q is None:
                q = self._queue = deque()
            while q and q[0] <= now:
                q.popleft()
            if len(q) >= p.queue:
                self._drop("queue-full", frame)
                return None
            start = self.next_free if self.next_free > now else now
            finish = start + int(len(frame) * self._ns_per_byte)
            self.next_free = finish
            q.append(finish)
        else:
            finish = now
        if not self._stochastic:
            return finish + p.delay
        # The faults happen on the wire: a lost frame used its time on the line.
        fate = impair(p, self._rng, finish, frame)
        if fate is None:
            self._drop("link-loss", frame)
            return None
        net = self._net
        if fate.reordered:
            net.stats["link.reordered"] += 1
        if fate.corrupted_bit is not None:
            frame = fate.frame
            net.stats["link.corrupted"] += 1
            if net.tracer.enabled:
                net.tracer.emit(self.src.node_name, self.src.port_name, "link", "corrupt",
                                frame=frame, text=f"bit {fate.corrupted_bit} of the IP packet flipped")
        self._sched.call_at(fate.arrival, self.arrive, frame)
        if fate.duplicate_arrival is not None:
            net.stats["link.duplicated"] += 1
            self._sched.call_at(fate.duplicate_arrival, self.arrive, frame)
        return None

    def arrive(self, frame: bytes) -> None:
        """The frame reaches the far end (scheduled for the time :meth:`depart` returned)."""
        if self._queue is not None and self.next_free <= self._sched.now:
            self._queue = None  # the line is idle: every frame queued has left (memory per host)
        if not self.link.up:
            self._drop("link-down", frame, at_dst=True)
            return
        dst = self.dst
        if not dst.alive:
            self._drop("node-down", frame, at_dst=True)
            return
        self.delivered += 1
        dst.receive(frame)


class Link:
    """A cable between two endpoints, with a channel each way."""

    def __init__(self, network: "Network", a: Endpoint, b: Endpoint, params_ab: LinkParams,
                 params_ba: LinkParams | None = None, cost: tuple[float, float] | None = None,
                 name: str | None = None) -> None:
        self.network = network
        self.a = a
        self.b = b
        self.name = name or f"{a.node_name}:{a.port_name}--{b.node_name}:{b.port_name}"
        self.up = True
        from collections import Counter
        self.stats: Counter[str] = Counter()
        params_ba = params_ba or params_ab
        default_cost = (params_ab.delay / 1e6, params_ba.delay / 1e6)  # ms of delay
        cost = cost or default_cost
        if len(cost) != 2 or not all(map(good_cost, cost)):
            raise ValueError(f"link {self.name}: cost must be a finite number >= 0, or two of them "
                             f"(there, back), not {cost!r}")
        self.ab = Channel(self, a, b, params_ab, cost[0])
        self.ba = Channel(self, b, a, params_ba, cost[1])
        self.explicit_cost = cost is not default_cost

    def ends(self) -> tuple[Endpoint, Endpoint]:
        return self.a, self.b

    def channel_from(self, end: Endpoint) -> Channel:
        return self.ab if end is self.a else self.ba

    def other(self, end: Endpoint) -> Endpoint:
        return self.b if end is self.a else self.a

    def set_params(self, **changes: Any) -> None:
        """Change parameters of both directions at once (``link.set_params(loss=0.1)``), in the
        units :meth:`Network.connect` takes (``delay="5ms"``, ``bandwidth="10Mbps"``)."""
        from .network import make_params
        for ch in (self.ab, self.ba):
            ch.set_params(make_params(ch.params, **changes))
        if changes.get("mtu"):
            self.mtu_to_interfaces()

    def mtu_to_interfaces(self) -> None:
        """A link's MTU is its interfaces': each takes the MTU of the direction it sends on."""
        for ch in (self.ab, self.ba):
            iface = getattr(ch.src, "iface", None)
            if iface is not None and ch.params.mtu:
                iface.mtu = ch.params.mtu

    def describe(self) -> str:
        text = self.ab.params.describe()
        if self.ba.params != self.ab.params:
            text += f" / back: {self.ba.params.describe()}"
        return text

    def __repr__(self) -> str:
        return f"<Link {self.name} {'up' if self.up else 'DOWN'} {self.describe()}>"
