"""The fault model alone: its parameters, and what impair() decides for a given random source."""

from __future__ import annotations

import random

import pytest

from minternet.netem import Fate, Netem, flip_bit, impair

FRAME = bytes(14) + bytes(range(100))


class Draws(random.Random):
    """A random source that returns the given values and records which draws were made."""

    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self.values = list(values)
        self.calls: list[str] = []

    def random(self) -> float:
        self.calls.append("random")
        return self.values.pop(0)

    def randrange(self, n: int) -> int:  # type: ignore[override]
        self.calls.append(f"randrange({n})")
        return int(self.values.pop(0))


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="loss must be a probability"):
        Netem(loss=1.5)
    with pytest.raises(ValueError, match="corrupt must be a probability"):
        Netem(corrupt=-0.1)
    with pytest.raises(ValueError, match="jitter must not be negative"):
        Netem(jitter=-1)
    assert not Netem().active and Netem(delay=5).active and not Netem(delay=5).stochastic
    assert Netem(duplicate=0.1).stochastic


def test_no_faults_draw_nothing():
    rng = Draws()
    assert impair(Netem(delay=7), rng, 100, FRAME) == Fate(FRAME, 107, None, False, None)
    assert rng.calls == []


def test_loss_draws_once_and_stops():
    rng = Draws(0.01)
    assert impair(Netem(loss=0.5, jitter=10, duplicate=1.0), rng, 0, FRAME) is None
    assert rng.calls == ["random"]


def test_the_order_of_the_draws():
    p = Netem(delay=1000, loss=0.5, jitter=100, reorder=0.5, reorder_delay=50, corrupt=0.5, duplicate=0.5)
    # loss (kept), jitter 0.25 -> 25, reorder (yes), corrupt (yes, bit 9), duplicate (yes, jitter 0.5 -> 50)
    rng = Draws(0.9, 0.25, 0.1, 0.1, 9, 0.1, 0.5)
    fate = impair(p, rng, 10, FRAME)
    assert rng.calls == ["random", "random", "random", "random", "randrange(800)", "random", "random"]
    assert fate is not None
    assert fate.arrival == 10 + 1000 + 25 + 50 and fate.reordered
    assert fate.corrupted_bit == 9 and fate.frame == flip_bit(FRAME, 14 * 8 + 9) and fate.frame != FRAME
    assert fate.duplicate_arrival == fate.arrival + 50


def test_reorder_delay_defaults_to_the_delay_at_least_one_ms():
    assert impair(Netem(reorder=1.0), Draws(0.0), 0, FRAME).arrival == 1_000_000
    assert impair(Netem(delay=5_000_000, reorder=1.0), Draws(0.0), 0, FRAME).arrival == 10_000_000
    assert Netem(delay=5_000_000).held_back == 5_000_000 and Netem(reorder_delay=3).held_back == 3


def test_a_frame_without_an_ip_part_is_not_corrupted_but_the_draw_is_made():
    rng = Draws(0.0)
    fate = impair(Netem(corrupt=1.0), rng, 0, bytes(14))
    assert fate is not None and fate.corrupted_bit is None and rng.calls == ["random"]


def test_same_seed_same_fates_and_the_rates_hold():
    p = Netem(loss=0.1, duplicate=0.05, jitter=1000)
    a = [impair(p, random.Random(4), i, FRAME) for i in range(3)]
    b = [impair(p, random.Random(4), i, FRAME) for i in range(3)]
    assert a == b
    rng = random.Random(1)
    fates = [impair(p, rng, 0, FRAME) for _ in range(20000)]
    lost = sum(f is None for f in fates)
    dups = sum(f is not None and f.duplicate_arrival is not None for f in fates)
    assert 1700 < lost < 2300 and 700 < dups < 1100
    assert all(0 <= f.arrival < 1000 for f in fates if f is not None)


def test_flip_bit():
    assert flip_bit(b"\x00\x00", 0) == b"\x80\x00" and flip_bit(b"\x00\x00", 15) == b"\x00\x01"
