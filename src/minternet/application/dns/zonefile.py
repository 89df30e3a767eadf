"""Reading a zone file from disk, in either of its formats."""

from __future__ import annotations

from pathlib import Path

from .masterfile import parse_master
from .zone import Zone
from .zonetoml import parse_toml

__all__ = ["load_zone"]


def load_zone(path: str | Path, origin: str | None = None) -> Zone:
    """Read a zone file: ``.toml`` as TOML (:mod:`.zonetoml`), anything else as an RFC 1035
    master file (:mod:`.masterfile`). Raises :class:`~.zone.ZoneError` for a mistake in it."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".toml":
        return parse_toml(text, str(p))
    return parse_master(text, origin, str(p))
