"""RFC 1035 master files: what is read, errors with their lines, and dnspython's zone parser as
a second reader of the same files."""

from __future__ import annotations

import textwrap

import pytest
from dnszones import DB_LOCAL, EXAMPLE, HEAD, dnspython_records, our_records, rr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minternet.application.dns.masterfile import parse_master, parse_ttl
from minternet.application.dns.zone import Zone, ZoneError
from minternet.wire.dns import AAAA, CNAME, MX, NS, PTR, SOA, TXT, A, RRType, Unknown, labels_to_name


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
@pytest.mark.parametrize("body, line, message", [
    ("www SRVX 0 0 80 x\n", 5, "unknown type 'SRVX': supported types are A, AAAA, CAA, CNAME, DNSKEY, "
                               "DS, HTTPS"),
    ("www A 10.0.0.256\n", 5, "bad IPv4 address '10.0.0.256': expected one like 192.0.2.1"),
    ("www AAAA 10.0.0.1\n", 5, "bad IPv6 address '10.0.0.1'"),
    ("\nwww.example.org. A 10.0.0.1\n", 6, "www.example.org is outside the zone example.com"),
    ("www A 10.0.0.1\nwww CNAME x\n", 6, "CNAME at www.example.com alongside A data: an alias can "
                                          "have no other data (RFC 1034 3.6.2)"),
    ("www CNAME x\nwww A 10.0.0.1\n", 6, "A at www.example.com, which is an alias (CNAME)"),
    ("www CNAME x\nwww CNAME y\n", 6, "a second CNAME at www.example.com"),
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
    ("$INCLUDE other.zone\n", 5, "$INCLUDE other.zone: cannot read other.zone: No such file"),
    ("$GENERATE 1-2 h$ A 10.0.0.$\n", 5, "$GENERATE is not supported"),
    ("$ORGIN x.\n", 5, "unknown directive $ORGIN: expected $ORIGIN, $TTL or $INCLUDE"),
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


# -- zone files as people write them (issue 12) --------------------------------------------------
def test_owner_and_rdata_names_merge_without_case() -> None:
    zone = parse_master(HEAD + "a MX 10 mail\nA MX 10 MAIL\na.EXAMPLE.com. MX 10 Mail.example.com.\n")
    assert [r.data for r in zone.get("a.example.com", RRType.MX)] == [MX(10, "mail.example.com")]
    assert zone.warnings == []


def test_differing_ttls_take_the_first_with_bind_s_warning() -> None:
    zone = parse_master(HEAD + "www 600 A 10.0.0.1\nwww 30 A 10.0.0.2\nwww 30 A 10.0.0.3\n", path="db.x")
    assert [r.ttl for r in zone.get("www.example.com", RRType.A)] == [600, 600, 600]
    # named-checkzone: "db.x:6: TTL set to prior TTL (600)"
    assert zone.warnings == ["db.x:6: TTL set to prior TTL (600)", "db.x:7: TTL set to prior TTL (600)"]


def test_rrsigs_keep_the_ttl_of_the_rrset_they_cover() -> None:
    sig = "20240101000000 20231201000000 1 example.com. AAAA"
    zone = parse_master(HEAD + f"@ 60 RRSIG SOA 8 2 60 {sig}\n@ 300 RRSIG NS 8 2 300 {sig}\n")
    assert sorted(r.ttl for r in zone.get("example.com", RRType.RRSIG)) == [60, 300]
    assert zone.warnings == []


def test_a_ttl_over_31_bits_loads_as_zero_with_a_warning() -> None:
    zone = parse_master(HEAD + "big 2147483648 A 10.0.0.1\n$TTL 4294967295\nbig2 A 10.0.0.2\n")
    assert zone.get("big.example.com", RRType.A)[0].ttl == 0
    assert zone.get("big2.example.com", RRType.A)[0].ttl == 0
    assert zone.warnings == [
        "<zone>:5: TTL 2147483648 > MAXTTL (2147483647), setting TTL to 0 (RFC 2181 8: a TTL uses 31 bits)",
        "<zone>:6: $TTL 4294967295 > MAXTTL (2147483647), setting $TTL to 0 (RFC 2181 8: a TTL uses 31 bits)"]
    with pytest.raises(ZoneError, match="bad TTL '4294967296'"):
        parse_master(HEAD + "big 4294967296 A 10.0.0.1\n")


def test_aaaa_with_a_zone_index_is_refused() -> None:
    with pytest.raises(ZoneError) as exc:
        parse_master(HEAD + "ll AAAA fe80::1%eth0\n")
    assert exc.value.line == 5
    assert "zone index (%eth0)" in exc.value.message and "write fe80::1" in exc.value.message


def test_ipv4_mapped_aaaa_prints_as_rfc_5952_says() -> None:
    zone = parse_master(HEAD + "m AAAA ::ffff:c000:250\n")
    assert zone.get("m.example.com", RRType.AAAA)[0].to_text().endswith("\tAAAA\t::ffff:192.0.2.80")


def test_include_relative_to_the_including_file(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "db.example").write_text(HEAD + "$INCLUDE sub/hosts\n$INCLUDE sub/other.zone other\n")
    (tmp_path / "sub" / "hosts").write_text("www A 10.0.0.1\n$INCLUDE deeper\n")
    (tmp_path / "sub" / "deeper").write_text("deep A 10.0.0.2\n")
    (tmp_path / "sub" / "other.zone").write_text("@ A 10.0.0.3\n")
    from minternet.application.dns.zonefile import load_zone
    zone = load_zone(tmp_path / "db.example")
    assert [r.name for r in zone if r.type == RRType.A] == ["deep.example.com", "other.example.com",
                                                            "www.example.com"]


def test_include_errors_name_the_file_and_line(tmp_path) -> None:
    from minternet.application.dns.zonefile import load_zone
    (tmp_path / "db.example").write_text(HEAD + "$INCLUDE hosts\n")
    (tmp_path / "hosts").write_text("ok A 10.0.0.1\nbad A 10.0.0.256\n")
    with pytest.raises(ZoneError) as exc:
        load_zone(tmp_path / "db.example")
    assert str(exc.value).startswith(f"{tmp_path / 'hosts'}:2: bad IPv4 address")
    (tmp_path / "hosts").write_text("$INCLUDE db.example\n")
    with pytest.raises(ZoneError) as exc:
        load_zone(tmp_path / "db.example")
    assert exc.value.path == str(tmp_path / "hosts") and exc.value.line == 1
    assert "an include loop" in exc.value.message
    with pytest.raises(ZoneError, match=r"db.example:5: \$INCLUDE missing: cannot read"):
        (tmp_path / "db.example").write_text(HEAD + "$INCLUDE missing\n")
        load_zone(tmp_path / "db.example")
    with pytest.raises(ZoneError, match=r"\$INCLUDE takes a file name and optionally an origin"):
        parse_master(HEAD + "$INCLUDE\n")


def test_debian_db_local_needs_an_origin() -> None:
    with pytest.raises(ZoneError, match="relative name '@' but no origin"):
        parse_master(DB_LOCAL)
    zone = parse_master(DB_LOCAL, origin="localhost")
    assert [r.to_text() for r in zone] == [
        "localhost.\t604800\tIN\tSOA\tlocalhost. root.localhost. 2 604800 86400 2419200 604800",
        "localhost.\t604800\tIN\tNS\tlocalhost.", "localhost.\t604800\tIN\tA\t127.0.0.1",
        "localhost.\t604800\tIN\tAAAA\t::1"]


@pytest.mark.parametrize("rdata, message", [
    ("SRV 1 2 3", "SRV takes 4 fields (priority, weight, port, target), got 3"),
    ("SRV 1 2 65536 x", "bad SRV port '65536'"),
    ("CAA 0 is-sue \"x\"", "bad CAA tag 'is-sue'"),
    ("DS 1 8 2 abcd", "DS digest of 2 bytes, but its type 2 gives 32"),
    ("DS 1 8 1 xyz", "DS data must be an even number of hexadecimal digits"),
    ("DNSKEY 257 3 NOSUCHALG AwEAAQ==", "bad DNSKEY algorithm 'NOSUCHALG'"),
    ("DNSKEY 257 3 8 !!!", "must be base64"),
    ("RRSIG A 8 2 60 20241301000000 20231201000000 1 x. AAAA", "bad RRSIG time '20241301000000'"),
    ("NSEC x. A BOGUS", "unknown type 'BOGUS'"),
    ("HTTPS 1 . alpn=", "HTTPS: alpn needs a value, like alpn=h3,h2"),
    ("HTTPS 1 . port=99999", "HTTPS: bad port '99999'"),
    ("HTTPS 1 . ipv4hint=10.0.0.256", "HTTPS: bad ipv4hint '10.0.0.256'"),
    ("HTTPS 1 . ipv6hint=fe80::1%eth0", "zone index (%eth0)"),
    ("HTTPS 1 . alpn=h2 alpn=h3", "HTTPS: alpn given twice"),
    ("HTTPS 1 . mandatory=port", "mandatory lists port, which is not given"),
    ("HTTPS 1 . no-default-alpn=x", "no-default-alpn takes no value"),
    ("HTTPS 1 . colour=blue", "unknown parameter 'colour'"),
    ("HTTPS 1 . alpn= \"h2\"", "a quoted value \"h2\" without its key"),
    ("HTTPS 0 x. alpn=h2", "priority 0 is AliasMode, which takes no parameters"),
    ("NAPTR 1 2 \"U\" \"E2U\" \"!x!\"", "NAPTR takes 6 fields"),
])
def test_new_type_errors(rdata: str, message: str) -> None:
    with pytest.raises(ZoneError) as exc:
        parse_master(HEAD + f"x {rdata}\n")
    assert exc.value.line == 5 and message in exc.value.message, exc.value.message
