"""A host's random source that costs next to nothing while the host is idle.

Every host draws a few numbers when it is built (its MACs, the first IP identification, its TCP
secret) and then, in a big network, often none for the whole run. A ``random.Random`` is a
Mersenne Twister of 2.5 KB; ten thousand idle hosts would hold 25 MB of them. :class:`LazyRandom`
keeps the seed and the draws made so far; :meth:`release` drops the generator, and the next draw
makes it again from the seed and replays those draws, so every number is exactly the one
``random.Random(seed)`` gives. A source that has been made again, or used through a method that is
not replayed, keeps its generator from then on (the host is active).
"""

from __future__ import annotations

import random
from typing import Any

# More draws than a host makes while it is built: the source keeps its generator for good.
_MAX_LOG = 64


class LazyRandom:
    """``random.Random(seed)`` that can give its state back while nobody draws from it."""

    __slots__ = ("_seed", "_rng", "_log")

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._rng: random.Random | None = random.Random(seed)
        # The draws made so far, while the source may still be released; None once it may not.
        self._log: list[tuple[str, tuple[Any, ...]]] | None = []

    def __repr__(self) -> str:
        state = "idle" if self._rng is None else "active"
        return f"<LazyRandom {self._seed!r} {state}>"

    @property
    def released(self) -> bool:
        return self._rng is None

    def release(self) -> None:
        """Drop the generator until the next draw (no-op once the source is active for good)."""
        if self._log is not None:
            self._rng = None

    def _generator(self) -> random.Random:
        rng = self._rng
        if rng is None:
            rng = self._rng = random.Random(self._seed)
            for name, args in self._log or ():
                getattr(rng, name)(*args)
            self._log = None
        return rng

    def _draw(self, name: str, args: tuple[Any, ...]) -> Any:
        value = getattr(self._generator(), name)(*args)  # first: a draw that raises is not logged
        log = self._log
        if log is not None:
            if len(log) < _MAX_LOG:
                log.append((name, args))
            else:
                self._log = None
        return value

    def randrange(self, *args: int) -> int:
        return self._draw("randrange", args)

    def randint(self, a: int, b: int) -> int:
        return self._draw("randint", (a, b))

    def getrandbits(self, k: int) -> int:
        return self._draw("getrandbits", (k,))

    def randbytes(self, n: int) -> bytes:
        return self._draw("randbytes", (n,))

    def random(self) -> float:
        return self._draw("random", ())

    def __getattr__(self, name: str) -> Any:
        # Any other method of random.Random (choice, shuffle, ...): not replayed, so the source
        # keeps its generator from now on.
        if name.startswith("__") or not hasattr(random.Random, name):
            raise AttributeError(f"'LazyRandom' object has no attribute {name!r}")
        rng = self._generator()
        self._log = None
        return getattr(rng, name)
