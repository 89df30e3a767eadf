"""TOML zones: what is read, and errors at the line of their key."""

from __future__ import annotations

import textwrap

import pytest
from dnszones import TOML

from minternet.application.dns.masterfile import parse_master
from minternet.application.dns.zone import ZoneError
from minternet.application.dns.zonetoml import parse_toml
from minternet.wire.dns import RRType


def test_toml_zone() -> None:
    zone = parse_toml(TOML, "example.toml")
    master = parse_master(textwrap.dedent(r"""
        $ORIGIN example.com.
        $TTL 3600
        @ SOA ns1 hostmaster 2024010101 86400 7200 3600000 300
        @ NS ns1
        @ NS ns2.example.net.
        ns1 A 10.0.2.53
        www 300 A 10.0.2.10
        www 300 A 10.0.2.11
        @ MX 10 mail
        mail AAAA 2001:db8::25
        @ TXT "v=spf1 mx -all"
        alias CNAME www
        x TYPE65280 \# 2 abcd
        """))
    assert zone == master


def test_toml_long_txt_is_cut_in_255_byte_strings() -> None:
    text = TOML + '\n[[record]]\nname = "long"\ntype = "TXT"\nvalue = "' + "é" * 200 + '"\n'
    (record,) = parse_toml(text).get("long.example.com", RRType.TXT)
    assert [len(s) for s in record.data.strings] == [255, 145]
    assert b"".join(record.data.strings).decode() == "é" * 200


@pytest.mark.parametrize("change, line, message", [
    (('origin = "example.com"', 'origin = "example.com"\nport = 53'), 3,
     "unknown key 'port': expected one of origin, ttl, soa, record"),
    (('origin = "example.com"', ''), 1, "origin must be given as a string"),
    (('ttl = "1h"', 'ttl = "1y"'), 3, "ttl: bad TTL '1y'"),
    (('minimum = "5m"', 'minimum = "5m"\nminimun = 1'), 10, "unknown key 'minimun' in [soa]"),
    (('serial = 2024010101', ''), 5, "[soa] needs serial"),
    (('serial = 2024010101', 'serial = "one"'), 8, "serial must be a number"),
    (('value = "10.0.2.53"', 'value = "10.0.2.530"'), 19, "bad IPv4 address '10.0.2.530'"),
    (('type = "aaaa"', 'type = "SRVX"'), 34, "unknown type 'SRVX'"),
    (('type = "aaaa"', 'type = "SOA"'), 34, "the SOA goes in the [soa] table"),
    (('value = "10 mail"', 'value = "10 mail"\nweight = 5'), 31, "unknown key 'weight' in [[record]]"),
    (('ttl = 300', 'ttl = -5'), 25, "ttl -5 is out of range"),
    (('value = "10 mail"', 'values = ["10 mail"]\nvalue = "20 mail"'), 27, "give value"),
    (('value = "10 mail"', 'value = "mail"'), 30, "MX takes 2 fields"),
    (('name = "alias"', 'name = "a..b"'), 42, "bad name 'a..b'"),
    (('name = "alias"', 'name = "www"'), 41, "CNAME at www.example.com alongside A data"),
    (('[[record]]\nname = "ns1"', '[[record]\nname = "ns1"'), 16, "not valid TOML"),
])
def test_toml_errors(change: tuple[str, str], line: int, message: str) -> None:
    old, new = change
    assert old in TOML
    with pytest.raises(ZoneError) as exc:
        parse_toml(TOML.replace(old, new, 1), "z.toml")
    assert message in exc.value.message, exc.value
    assert exc.value.line == line, (exc.value, TOML.replace(old, new, 1).splitlines()[line - 1])
    assert str(exc.value).startswith(f"z.toml:{line}: ")
