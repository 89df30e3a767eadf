"""The built-in example internet, shared by the command line and the demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from minternet.sim.example import EXAMPLE_PATH, example_text, load_example
from minternet.sim.topology import TopologyError, loads

SRC = Path(__file__).resolve().parents[2] / "src"


def test_example_text_is_the_packaged_file():
    assert example_text() == (SRC / "minternet" / "examples" / "internet.toml").read_text(encoding="utf-8")


def test_load_example_builds_the_network_with_its_seed():
    topo = load_example(seed=3, out=lambda line: None)
    net = topo.network
    assert net.seed == 3
    assert {"client", "server", "r1", "resolver"} <= set(net.nodes)
    net.close()


def test_errors_name_the_built_in_example():
    with pytest.raises(TopologyError, match=r"\(built-in example internet\.toml\)"):
        loads(example_text() + "\n[[bogus]]\n", EXAMPLE_PATH)
