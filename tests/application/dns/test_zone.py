"""The zone model: the RRset store and the rules a zone keeps as records are added."""

from __future__ import annotations

import pytest
from dnszones import EXAMPLE, IN, rr

from minternet.application.dns.masterfile import parse_master
from minternet.application.dns.zone import Zone
from minternet.wire.dns import CNAME, NS, SOA, TXT, A, ResourceRecord, RRClass, RRType, Unknown


def test_names_and_empty_non_terminals() -> None:
    zone = parse_master(EXAMPLE)
    assert zone.names() == ["example.com", "alias.example.com", "a.b.c.example.com", "mail.example.com",
                            "ns1.example.com", "sub.example.com", "ns.sub.example.com",
                            "www.example.com", "x.example.com", "y.example.com"]
    assert zone.has_name("a.b.c.example.com") and zone.has_name("WWW.example.com")
    # b.c and c exist only because a.b.c does: empty non-terminals (RFC 8020).
    assert zone.has_name("b.c.example.com") and zone.has_name("c.example.com")
    assert not zone.has_name("d.c.example.com") and not zone.has_name("nope.example.com")
    assert not zone.has_name("b.example.com")


def test_delegations_and_glue() -> None:
    zone = parse_master(EXAMPLE)
    cut = [rr("sub.example.com", NS("ns.sub.example.com"))]
    assert zone.find_delegation("sub.example.com") == cut
    assert zone.find_delegation("a.b.SUB.example.com") == cut
    assert zone.find_delegation("ns.sub.example.com") == cut  # glue sits below the cut
    assert zone.find_delegation("example.com") is None  # the apex NS is no delegation
    assert zone.find_delegation("www.example.com") is None
    assert zone.find_delegation("example.org") is None
    assert zone.glue_for(cut) == [rr("ns.sub.example.com", A("10.9.9.9"))]
    # Addresses for in-zone targets only; ns2.example.net is not ours.
    assert zone.glue_for(zone.get("example.com", RRType.NS)) == [rr("ns1.example.com", A("10.0.2.53"))]
    # Nested cuts: the one closest to the apex wins, what is below it is not ours.
    zone.add(rr("deeper.sub.example.com", NS("ns.deeper.sub.example.com")))
    assert zone.find_delegation("x.deeper.sub.example.com") == cut


def test_add_rules() -> None:
    zone = Zone("example.com")
    zone.add(rr("www.example.com", A("10.0.0.1")))
    zone.add(rr("www.example.com", A("10.0.0.1")))  # a duplicate is no second record
    assert len(zone) == 1 and zone.soa is None
    with pytest.raises(ValueError, match="outside the zone example.com"):
        zone.add(rr("www.example.org", A("10.0.0.1")))
    with pytest.raises(ValueError, match="CNAME at www.example.com alongside A data"):
        zone.add(rr("www.example.com", CNAME("x.example.com")))
    with pytest.raises(ValueError, match="TTL 60 differs from 3600"):
        zone.add(rr("www.example.com", A("10.0.0.2"), ttl=60))
    with pytest.raises(ValueError, match="class CH"):
        zone.add(ResourceRecord("www.example.com", RRType.TXT, RRClass.CH, 1, TXT((b"x",))))
    with pytest.raises(ValueError, match="meta type"):
        zone.add(ResourceRecord("www.example.com", RRType.OPT, IN, 1, Unknown(RRType.OPT)))
    with pytest.raises(ValueError, match="the SOA belongs at the zone apex"):
        zone.add(rr("www.example.com", SOA("a", "b", 1, 2, 3, 4, 5)))
    root = Zone("", [rr("", NS("a.root-servers.net")), rr("com", NS("a.gtld-servers.net"))])
    assert root.find_delegation("www.example.com") == [rr("com", NS("a.gtld-servers.net"))]
    assert root.has_name("com") and not root.has_name("net") and root.relative("com") == "com" and root.relative("") == "@"
