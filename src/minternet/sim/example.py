"""The built-in example internet: the topology every command uses when no ``-t FILE`` is given.

Its own module so that the command line and the demo both read it from one place (neither
imports the other for it).
"""

from __future__ import annotations

from importlib import resources
from typing import Callable

from .topology import Topology, loads

EXAMPLE = "internet.toml"
EXAMPLE_PATH = f"(built-in example {EXAMPLE})"  # what error messages call the file


def example_text() -> str:
    """The TOML text of the built-in example (``minternet example`` prints it)."""
    return resources.files("minternet").joinpath("examples", EXAMPLE).read_text(encoding="utf-8")


def load_example(seed: int | None = None, out: Callable[[str], None] = print) -> Topology:
    """Build the built-in example's network; ``out`` receives the output of its timeline."""
    return loads(example_text(), EXAMPLE_PATH, seed=seed, out=out)
