"""What a sequence diagram shows, independent of how it is drawn (SVG, Mermaid)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Lane:
    """One vertical lane: a host or a router, with the addresses it was seen using."""

    name: str
    role: str  # "host" or "router" (it forwarded packets)
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Arrow:
    """One packet crossing one hop: from the lane that put the frame on the wire to the lane that
    took it off. With lanes left out (``hosts``), one arrow spans the hidden routers in between
    (``via``).

    ``reached`` is False for a packet lost on the way: the arrow ends in an X partway, at
    ``t_end`` (when the loss was traced), and ``drop``/``drop_at`` say why and where. A packet that
    arrived and was then discarded (TTL exceeded, bad checksum, port unreachable...) reaches its
    lane and has a ``drop`` too. ``dst`` is None when a lost broadcast had no known destination.
    """

    src: str
    dst: str | None
    t_send: int  # ns: the first bit leaves src
    t_end: int  # ns: arrival at dst, or the time of the loss
    protocol: str  # one of diagram_labels.PROTOCOLS
    label: str  # short, for beside the arrow
    summary: str  # the frame's full one-line summary (tooltip)
    reached: bool = True
    drop: str | None = None  # reason
    drop_at: str | None = None  # the node that traced the drop
    via: tuple[str, ...] = ()
    duplicate: bool = False  # a second copy of a frame already received (the duplicate fault)
    corrupted: bool = False  # a bit was flipped on the way
    frame: bytes = field(default=b"", repr=False, compare=False)  # the frame as src sent it


@dataclass(frozen=True, slots=True)
class Marker:
    """Something that happened on one lane without an arrow: a drop of a packet that never left
    (no route, ARP failed), a TCP state change, a fault."""

    node: str
    t: int
    kind: str  # "drop", "state", "fault"
    text: str
    reason: str | None = None


@dataclass(slots=True)
class Diagram:
    """A sequence diagram of a run: lanes left to right, arrows and markers in time order."""

    lanes: list[Lane]
    arrows: list[Arrow]
    markers: list[Marker] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was left out, and why
    title: str = "minternet sequence diagram"
    total_arrows: int | None = None  # arrows in range before the cap; None: not counted (stopped early)
    max_arrows: int | None = None

    def lane(self, name: str) -> Lane:
        for lane in self.lanes:
            if lane.name == name:
                return lane
        raise KeyError(name)
