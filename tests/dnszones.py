"""Zone texts and helpers shared by the zone tests (tests/application/dns/test_zone*.py,
test_masterfile.py, test_zonetoml.py, test_zonefile.py): one master file and one TOML zone with
every supported type, and dnspython as a second reader of the same text."""

from __future__ import annotations

import textwrap

import dns.name
import dns.zone

from minternet.application.dns.zone import Zone
from minternet.wire.dns import ResourceRecord, RRClass

IN = RRClass.IN

EXAMPLE = textwrap.dedent(r"""
    $ORIGIN example.com.
    $TTL 1h
    @       IN  SOA  ns1 hostmaster ( 2024010101 ; serial
                                      1d 2h 1000h 5m )
            IN  NS   ns1                ; owner inherited: the line starts with whitespace
            IN  NS   ns2.example.net.
    ns1         A    10.0.2.53
    www     300 IN A 10.0.2.10
    www     IN 300 A 10.0.2.11          ; class and TTL the other way round
    mail        AAAA 2001:DB8::25
    @           MX   10 mail
    @           TXT  "v=spf1 mx -all" "a \"quoted\" \\ \000" unquoted\;text
    alias       CNAME www
    x           TYPE65280 \# 2 abcd
    y           A \# 4 0a000001
    a.b.c       A 10.0.0.1
    sub         NS ns.sub
    ns.sub      A 10.9.9.9
    """)


def rr(name: str, data, ttl: int = 3600) -> ResourceRecord:
    return ResourceRecord(name, data.rrtype, IN, ttl, data)


def dnspython_records(text: str, origin: str | None = None) -> set[tuple]:
    # rstrip: dnspython writes empty generic rdata as "\\# 0 ".
    zone = dns.zone.from_text(text, origin=origin and origin + ".", relativize=False)
    return {(name.to_text(omit_final_dot=True) if name != dns.name.root else "", int(rds.rdtype),
             rds.ttl, rd.to_text().rstrip()) for name, rds in zone.iterate_rdatasets() for rd in rds}


def our_records(zone: Zone) -> set[tuple]:
    return {(r.name, int(r.type), r.ttl, r.data.to_text()) for r in zone}


HEAD = "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\n"  # lines 1-4


TOML = textwrap.dedent('''
    origin = "example.com"
    ttl = "1h"

    [soa]
    mname = "ns1"
    rname = "hostmaster"
    serial = 2024010101
    minimum = "5m"

    [[record]]
    name = "@"
    type = "NS"
    values = ["ns1", "ns2.example.net."]

    [[record]]
    name = "ns1"
    type = "A"
    value = "10.0.2.53"

    [[record]]
    name = "www"
    type = "A"
    values = ["10.0.2.10", "10.0.2.11"]
    ttl = 300

    [[record]]
    name = "@"
    type = "MX"
    value = "10 mail"

    [[record]]
    name = "mail"
    type = "aaaa"
    value = "2001:db8::25"

    [[record]]
    type = "TXT"
    value = "v=spf1 mx -all"

    [[record]]
    name = "alias"
    type = "CNAME"
    value = "www"

    [[record]]
    name = "x"
    type = "TYPE65280"
    value = '\\# 2 abcd'
    ''')


# Debian's /etc/bind/db.local (package bind9, 1:9.18), byte for byte: no $ORIGIN, names from "@";
# named.conf's zone "localhost" gives the origin (minternet dns-serve --origin localhost).
DB_LOCAL = """\
;
; BIND data file for local loopback interface
;
$TTL\t604800
@\tIN\tSOA\tlocalhost. root.localhost. (
\t\t\t      2\t\t; Serial
\t\t\t 604800\t\t; Refresh
\t\t\t  86400\t\t; Retry
\t\t\t2419200\t\t; Expire
\t\t\t 604800 )\t; Negative Cache TTL
;
@\tIN\tNS\tlocalhost.
@\tIN\tA\t127.0.0.1
@\tIN\tAAAA\t::1
"""
