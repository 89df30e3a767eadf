"""Zones: the RRset store, master files (RFC 1035 5) and TOML zones, errors with their lines, and
dnspython's zone parser as a second reader of the same files."""

from __future__ import annotations

import textwrap

import dns.name
import dns.rdataclass
import dns.zone
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minternet.application.dns.zone import (Zone, ZoneError, load_zone, parse_master, parse_toml,
                                            parse_ttl)
from minternet.wire.dns import (AAAA, CNAME, MX, NS, PTR, SOA, TXT, A, ResourceRecord, RRClass, RRType,
                                Unknown, labels_to_name)

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


# -- the store ------------------------------------------------------------------------------------
def test_example_records() -> None:
    zone = parse_master(EXAMPLE)
    assert zone.origin == "example.com"
    assert zone.soa == rr("example.com", SOA("ns1.example.com", "hostmaster.example.com",
                                             2024010101, 86400, 7200, 3600000, 300))
    assert zone.get("example.com", RRType.NS) == [rr("example.com", NS("ns1.example.com")),
                                                  rr("example.com", NS("ns2.example.net"))]
    assert zone.get("WWW.example.COM", RRType.A) == [rr("www.example.com", A("10.0.2.10"), 300),
                                                     rr("www.example.com", A("10.0.2.11"), 300)]
    assert zone.get("mail.example.com", RRType.AAAA) == [rr("mail.example.com", AAAA("2001:db8::25"))]
    assert zone.get("example.com", RRType.MX) == [rr("example.com", MX(10, "mail.example.com"))]
    assert zone.get("example.com", RRType.TXT)[0].data == TXT(
        (b"v=spf1 mx -all", b'a "quoted" \\ \x00', b"unquoted;text"))
    assert zone.get("x.example.com", 65280)[0].data == Unknown(65280, b"\xab\xcd")
    assert zone.get("y.example.com", RRType.A)[0].data == A("10.0.0.1")  # \# for a known type
    assert zone.get("alias.example.com", RRType.CNAME)[0].data == CNAME("www.example.com")
    assert [r.type for r in zone.get("example.com", RRType.ANY)] == [
        RRType.SOA, RRType.NS, RRType.NS, RRType.MX, RRType.TXT]
    assert zone.get("nothing.example.com", RRType.A) == []
    assert len(zone) == 15


def test_same_records_as_dnspython() -> None:
    assert our_records(parse_master(EXAMPLE)) == dnspython_records(EXAMPLE)


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


# -- master files -------------------------------------------------------------------------------
def test_round_trip_through_text() -> None:
    zone = parse_master(EXAMPLE)
    text = zone.to_text()
    assert text.startswith("$ORIGIN example.com.\n@\t3600\tIN\tSOA\t")
    assert parse_master(text) == zone
    assert our_records(parse_master(text)) == dnspython_records(text)


def test_ttl_defaults_as_dnspython() -> None:
    # Without $TTL: the last explicit TTL (RFC 1035 5.1), and before any, the SOA minimum.
    text = textwrap.dedent("""
        example.com. SOA ns1.example.com. h.example.com. 1 2 3 4 120
        a.example.com. A 10.0.0.1
        example.com. 60 NS ns1.example.com.
        b.example.com. A 10.0.0.2
        $TTL 30
        c.example.com. A 10.0.0.3
        d.example.com. 40 A 10.0.0.4
        e.example.com. A 10.0.0.5
        """)
    zone = parse_master(text)
    assert [(r.name, r.ttl) for r in zone if r.type == RRType.A] == [
        ("a.example.com", 120), ("b.example.com", 60), ("c.example.com", 30), ("d.example.com", 40),
        ("e.example.com", 30)]
    assert zone.soa.ttl == 120
    assert our_records(zone) == dnspython_records(text, "example.com")  # it needs the origin told


def test_origins() -> None:
    text = textwrap.dedent("""
        @ 60 SOA ns1 hostmaster 1 2 3 4 5
        @ 60 NS ns1
        $ORIGIN sub
        www 60 A 10.0.0.1
        $ORIGIN other.example.com.
        @ 60 TXT "at other"
        """)
    zone = parse_master(text, origin="example.com.")
    assert zone.origin == "example.com"
    assert zone.get("www.sub.example.com", RRType.A)  # a relative $ORIGIN is under the current one
    assert zone.get("other.example.com", RRType.TXT)
    assert our_records(zone) == dnspython_records(text, "example.com")


def test_escaped_names_round_trip() -> None:
    zone = Zone(r"we\.ird.example", [
        rr(r"we\.ird.example", SOA(r"ns\@1.we\.ird.example", "h.example", 1, 2, 3, 4, 5)),
        rr(r"we\.ird.example", NS(r"ns\@1.we\.ird.example")),
        rr(labels_to_name([b"sp ace", b"(x)", b"we.ird", b"example"]), TXT((b"\xff\"x\\",))),
        rr(labels_to_name([b"$dollar", b"we.ird", b"example"]), A("10.0.0.1")),
        rr(labels_to_name([b"@", b"we.ird", b"example"]), A("10.0.0.2")),
        rr(labels_to_name([b"3600", b"we.ird", b"example"]), A("10.0.0.3")),
        rr(labels_to_name([b"dot.", b"we.ird", b"example"]), A("10.0.0.4")),  # written dot\. : relative
        rr(labels_to_name([b"back\\", b"we.ird", b"example"]), A("10.0.0.5")),  # written back\\
    ])
    assert "\ndot\\.\t" in zone.to_text()
    text = zone.to_text()
    assert parse_master(text) == zone
    assert our_records(zone) == dnspython_records(text)


_label = st.one_of(st.text("abcxyzAZ09-", min_size=1, max_size=6).map(str.encode),
                   st.binary(min_size=1, max_size=8))


@st.composite
def zones(draw: st.DrawFn) -> Zone:
    origin_labels = draw(st.lists(_label, max_size=2))
    origin = labels_to_name(origin_labels)
    ns = labels_to_name([b"ns"] + origin_labels)
    zone = Zone(origin, [rr(origin, SOA(ns, "h.example", draw(st.integers(0, 2**32 - 1)), 1, 2, 3, 4)),
                         rr(origin, NS(ns))])
    for _ in range(draw(st.integers(0, 6))):
        name = labels_to_name(draw(st.lists(_label, max_size=2)) + origin_labels)
        target = draw(st.sampled_from([ns, name, "elsewhere.example"]))
        data = draw(st.sampled_from([
            lambda: A(f"10.0.0.{draw(st.integers(0, 255))}"),
            lambda: AAAA(f"2001:db8::{draw(st.integers(0, 0xffff)):x}"),
            lambda: MX(draw(st.integers(0, 65535)), target),
            lambda: TXT(tuple(draw(st.lists(st.binary(max_size=20), min_size=1, max_size=3)))),
            lambda: Unknown(65280, draw(st.binary(max_size=8))),
            lambda: PTR(target),
            lambda: CNAME(target),
        ]))()
        try:
            zone.add(rr(name, data, draw(st.sampled_from([0, 300, 3600]))))
        except ValueError:
            pass  # a TTL or CNAME clash with a record drawn before: not added, as intended
    return zone


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(zone=zones())
def test_any_zone_round_trips(zone: Zone) -> None:
    text = zone.to_text()
    assert parse_master(text) == zone
    assert our_records(zone) == dnspython_records(text)


# -- master-file errors ---------------------------------------------------------------------------
HEAD = "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\n"  # lines 1-4


@pytest.mark.parametrize("body, line, message", [
    ("www SRV 0 0 80 x\n", 5, "unknown type 'SRV': supported types are A, AAAA, CNAME, MX, NS, PTR, "
                              "SOA, TXT, or TYPEnnn"),
    ("www A 10.0.0.256\n", 5, "bad IPv4 address '10.0.0.256': expected one like 192.0.2.1"),
    ("www AAAA 10.0.0.1\n", 5, "bad IPv6 address '10.0.0.1'"),
    ("\nwww.example.org. A 10.0.0.1\n", 6, "www.example.org is outside the zone example.com"),
    ("www A 10.0.0.1\nwww CNAME x\n", 6, "CNAME at www.example.com alongside A data: an alias can "
                                          "have no other data (RFC 1034 3.6.2)"),
    ("www CNAME x\nwww A 10.0.0.1\n", 6, "A at www.example.com, which is an alias (CNAME)"),
    ("www CNAME x\nwww CNAME y\n", 6, "a second CNAME at www.example.com"),
    ("www 60 A 10.0.0.1\nwww 30 A 10.0.0.2\n", 6, "TTL 30 differs from 60"),
    ("www SOA a b 1 2 3 4 5\n", 5, "SOA at www.example.com, but the zone origin is example.com"),
    ("@ SOA a b 9 2 3 4 5\n", 5, "a second SOA record: a zone has exactly one"),
    ("www A 10.0.0.1 10.0.0.2\n", 5, "A takes 1 field (an IPv4 address), got 2"),
    ("@ MX mail\n", 5, "MX takes 2 fields (preference, exchange), got 1"),
    ("@ MX 70000 mail\n", 5, "bad MX preference '70000': expected a number from 0 to 65535"),
    ("@ SOA a b x 2 3 4 5\n", 5, "bad SOA serial 'x'"),
    ("x TYPE65280 1.2.3.4\n", 5, r"TYPE65280 rdata must be written \# LENGTH HEX (RFC 3597 5)"),
    ("x TYPE65280 \\# 3 abcd\n", 5, r"\# says 3 bytes but the hex data has 2"),
    ("x TYPE65280 \\# 2 zz\n", 5, r"\# data must be hexadecimal"),
    ("x A \\# 3 0a0000\n", 5, r"\# data is not valid A rdata: A: rdlength 3, must be 4"),
    ("x TYPE41 \\# 0\n", 5, "TYPE41 is a query or meta type"),
    ("x CH TXT \"a\"\n", 5, "class CH: a zone holds class IN records only"),
    ("a..b A 10.0.0.1\n", 5, "bad name 'a..b'"),
    ("x TXT\n", 5, "TXT needs at least one string"),
    ("x TXT " + "a" * 256 + "\n", 5, "TXT string of 256 bytes"),
    ("x TXT \"\\999\"\n", 5, "bad TXT string"),
    ("x 1x A 10.0.0.1\n", 5, "bad TTL '1x'"),
    ("x 60\n", 5, "missing type"),
    ("x A \"10.0.0.1\n", 5, "unterminated quoted string"),
    ("x SOA a b (\n 1 2 3\n", 5, "'(' is never closed"),
    ("x A 10.0.0.1 )\n", 5, "')' without a matching '('"),
    ("$INCLUDE other.zone\n", 5, "$INCLUDE is not supported"),
    ("$ORGIN x.\n", 5, "unknown directive $ORGIN: expected $ORIGIN or $TTL"),
    ("$TTL 1 2\n", 5, "$TTL takes one value, got 2"),
    ("x CNAME \"quoted\"\n", 5, "a name is written without quotes"),
])
def test_master_errors(body: str, line: int, message: str) -> None:
    with pytest.raises(ZoneError) as exc:
        parse_master(HEAD + body, path="db.example")
    assert str(exc.value).startswith(f"db.example:{line}: "), str(exc.value)
    assert message in exc.value.message, exc.value.message
    assert (exc.value.path, exc.value.line) == ("db.example", line)


@pytest.mark.parametrize("text, line, message", [
    ("$ORIGIN example.com.\n$TTL 60\nwww A 10.0.0.1\n@ NS ns1\n", 1, "no SOA record"),
    ("$ORIGIN example.com.\n$TTL 60\n\n@ SOA ns1 h 1 2 3 4 5\n", 4, "no NS record at the apex"),
    ("www 60 A 10.0.0.1\n", 1, "relative name 'www' but no origin"),
    ("  A 10.0.0.1\n", 1, "no owner name"),
    ("$ORIGIN example.com.\n\nwww A 10.0.0.1\n", 3, "no TTL for this record"),
])
def test_master_errors_of_the_whole(text: str, line: int, message: str) -> None:
    with pytest.raises(ZoneError) as exc:
        parse_master(text)
    assert exc.value.line == line and message in exc.value.message, exc.value
    assert str(exc.value).startswith(f"<zone>:{line}: ")


def test_parse_ttl() -> None:
    assert [parse_ttl(t) for t in ("0", "3600", "1h", "1h30m", "2D", "1w1s")] == [
        0, 3600, 3600, 5400, 172800, 604801]
    for bad in ("", "h", "1x", "1h 2", "-1", "2147483648"):
        with pytest.raises(ValueError):
            parse_ttl(bad)


# -- TOML zones ---------------------------------------------------------------------------------------
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
    (('type = "aaaa"', 'type = "SRV"'), 34, "unknown type 'SRV'"),
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


def test_load_zone_by_extension(tmp_path) -> None:
    (tmp_path / "example.toml").write_text(TOML)
    (tmp_path / "db.example").write_text(EXAMPLE)
    assert load_zone(tmp_path / "example.toml") == parse_toml(TOML)
    assert load_zone(tmp_path / "db.example") == parse_master(EXAMPLE)
    (tmp_path / "bad.zone").write_text(HEAD + "www A nope\n")
    with pytest.raises(ZoneError, match=r"bad\.zone:5: bad IPv4 address 'nope'"):
        load_zone(tmp_path / "bad.zone")
