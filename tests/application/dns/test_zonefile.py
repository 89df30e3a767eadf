"""Zone files on disk: the format picked by the extension."""

from __future__ import annotations

import pytest
from dnszones import EXAMPLE, HEAD, TOML

from minternet.application.dns.masterfile import parse_master
from minternet.application.dns.zone import ZoneError
from minternet.application.dns.zonefile import load_zone
from minternet.application.dns.zonetoml import parse_toml


def test_load_zone_by_extension(tmp_path) -> None:
    (tmp_path / "example.toml").write_text(TOML)
    (tmp_path / "db.example").write_text(EXAMPLE)
    assert load_zone(tmp_path / "example.toml") == parse_toml(TOML)
    assert load_zone(tmp_path / "db.example") == parse_master(EXAMPLE)
    (tmp_path / "bad.zone").write_text(HEAD + "www A nope\n")
    with pytest.raises(ZoneError, match=r"bad\.zone:5: bad IPv4 address 'nope'"):
        load_zone(tmp_path / "bad.zone")
