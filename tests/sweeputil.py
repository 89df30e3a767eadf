"""Small sweeps for the tests: a two-host path with a bottleneck, and short transfers."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOTTLENECK = ROOT / "examples" / "bottleneck.toml"

SMALL = """\
name = "small"
topology = "bottleneck.toml"
seeds = 4
links = ["bottleneck"]

[job]
kind = "transfer"
bytes = "40KB"

[grid]
loss = [0, 0.03, 0.08]
cc = ["cubic", "reno"]
"""


def write(tmp: Path, text: str, name: str = "sweep.toml") -> Path:
    """A sweep file in tmp, beside a copy of the example bottleneck topology."""
    shutil.copy(BOTTLENECK, tmp / "bottleneck.toml")
    path = tmp / name
    path.write_text(text)
    return path
