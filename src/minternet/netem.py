"""One fault model for both worlds: loss, delay, jitter, duplication, reordering, corruption.

Named after Linux's netem qdisc, whose knobs these are. The parameters are a frozen
:class:`Netem`; :func:`impair` decides what happens to one frame, given the random source and
the time it leaves. The simulated links (:class:`minternet.sim.link.LinkParams` is a Netem with
bandwidth, MTU and queue added) and the TAP driver's faults (``minternet attach --loss ...``)
both call it, so a loss of 5% or a jitter of 2 ms means the same thing in either.

The order of the random draws is part of the model: with the same seed a simulation must make
the same decisions, so it is fixed here, once. Per frame, each draw happens only when its
parameter is non-zero:

1. loss: ``random() < loss`` drops the frame (nothing else is drawn);
2. jitter: ``int(random() * jitter)`` ns are added to ``delay``;
3. reorder: ``random() < reorder`` holds the frame back a further ``reorder_delay`` (by default
   the delay, at least 1 ms), so that frames sent after it arrive first;
4. corrupt: ``random() < corrupt`` flips one bit of the frame's IP part (``randrange`` picks
   which), for frames longer than an Ethernet header;
5. duplicate: ``random() < duplicate`` delivers the (possibly corrupted) frame a second time,
   after a further ``int(random() * jitter)`` ns.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import NamedTuple

from .wire.fields import ETH_HEADER_LEN

DEFAULT_REORDER_MIN = 1_000_000  # ns: a reordered frame is held at least this long by default
_PROBABILITIES = ("loss", "duplicate", "reorder", "corrupt")
_TIMES = ("delay", "jitter", "reorder_delay")


@dataclass(frozen=True)
class Netem:
    """What a link does to frames. Probabilities are per frame, 0..1; times are nanoseconds."""

    delay: int = 0  # every frame arrives this much later
    jitter: int = 0  # extra delay, uniform in [0, jitter) ns (can reorder frames)
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0  # probability a frame is held back by reorder_delay, letting others pass
    reorder_delay: int | None = None  # ns; default: the delay (at least 1 ms)
    corrupt: float = 0.0  # probability one bit of the frame's IP part is flipped

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1 (0.01 is 1%), not {p}")
        for name in _TIMES:
            t = getattr(self, name)
            if t is not None and t < 0:
                raise ValueError(f"{name} must not be negative (got {t} ns)")

    @property
    def stochastic(self) -> bool:
        """Whether :func:`impair` draws anything: any fault beyond a fixed delay."""
        return bool(self.loss or self.jitter or self.reorder or self.corrupt or self.duplicate)

    @property
    def active(self) -> bool:
        """Whether frames are affected at all (a fixed delay counts)."""
        return bool(self.delay) or self.stochastic

    @property
    def held_back(self) -> int:
        """How long a reordered frame is held: ``reorder_delay``, else the delay, at least 1 ms."""
        return self.reorder_delay if self.reorder_delay is not None else max(self.delay, DEFAULT_REORDER_MIN)


class Fate(NamedTuple):
    """What :func:`impair` decided for a frame that was not lost."""

    frame: bytes  # the frame to deliver: the one given, or a copy with one bit flipped
    arrival: int  # when it arrives, ns
    duplicate_arrival: int | None  # when its copy arrives, or None for no copy
    reordered: bool  # held back by the reorder delay
    corrupted_bit: int | None  # which bit of the IP part was flipped, or None


def impair(p: Netem, rng: Random, now: int, frame: bytes) -> Fate | None:
    """Decide the fate of ``frame`` leaving at ``now`` (ns): None if it is lost, else when it (and
    a duplicate) arrive and what arrives. Draws from ``rng`` in the order the module docstring
    gives; a parameter that is zero draws nothing."""
    if p.loss and rng.random() < p.loss:
        return None
    arrival = now + p.delay
    if p.jitter:
        arrival += int(rng.random() * p.jitter)
    reordered = False
    if p.reorder and rng.random() < p.reorder:
        arrival += p.reorder_delay if p.reorder_delay is not None else max(p.delay, DEFAULT_REORDER_MIN)
        reordered = True
    bit = None
    if p.corrupt and rng.random() < p.corrupt and len(frame) > ETH_HEADER_LEN:
        bit = rng.randrange((len(frame) - ETH_HEADER_LEN) * 8)
        frame = flip_bit(frame, ETH_HEADER_LEN * 8 + bit)
    duplicate = None
    if p.duplicate and rng.random() < p.duplicate:
        duplicate = arrival + (int(rng.random() * p.jitter) if p.jitter else 0)
    return Fate(frame, arrival, duplicate, reordered, bit)


def flip_bit(frame: bytes, bit: int) -> bytes:
    """``frame`` with bit ``bit`` (0 = the first byte's most significant) inverted."""
    b = bytearray(frame)
    b[bit >> 3] ^= 0x80 >> (bit & 7)
    return bytes(b)
