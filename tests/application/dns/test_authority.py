"""The authoritative answering logic (RFC 1034 4.3.2, RFC 2308), checked by hand and against
dnspython: our responses must parse there, and agree with dnspython's reading of the zone file."""

from __future__ import annotations

import textwrap

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from minternet.application.dns.authority import answer, find_zone
from minternet.application.dns.masterfile import parse_master
from minternet.application.dns.zone import Zone
from minternet.wire.dns import (AAAA, CNAME, MX, NS, SOA, A, DNSMessage, Opcode, Question, Rcode,
                                ResourceRecord, RRClass, RRType, make_query)

IN = RRClass.IN

ZONE_TEXT = textwrap.dedent("""
    $ORIGIN example.com.
    $TTL 3600
    @         SOA   ns1 hostmaster 1 7200 3600 1209600 300
    @         NS    ns1
    @         NS    ns2.example.net.
    @         MX    10 mail
    ns1       A     10.0.2.53
    mail      A     10.0.2.25
    mail      AAAA  2001:db8::25
    www   300 A     10.0.2.10
    www   300 A     10.0.2.11
    alias     CNAME www
    chain     CNAME alias
    out       CNAME www.example.org.
    loop1     CNAME loop2
    loop2     CNAME loop1
    dangling  CNAME nothere
    tosub     CNAME host.sub
    a.b.c     A     10.0.0.1
    sub       NS    ns.sub
    sub       NS    ns.elsewhere.net.
    ns.sub    A     10.9.9.9
    """)
ZONE = parse_master(ZONE_TEXT)
SOA_RR = ZONE.soa
NEG_SOA = ResourceRecord("example.com", RRType.SOA, IN, 300, SOA_RR.data)  # min(3600, 300)


def rr(name: str, data, ttl: int = 3600) -> ResourceRecord:
    return ResourceRecord(name, data.rrtype, IN, ttl, data)


def ask(name: str, qtype: int = RRType.A, zones: list[Zone] | None = None, **kw) -> DNSMessage:
    query = make_query(name, qtype, 0x1234, **kw)
    response = answer([ZONE] if zones is None else zones, query)
    # Every response is a well-formed message that dnspython reads as a reply to the query.
    data = response.encode()
    theirs = dns.message.from_wire(data)
    assert dns.message.from_wire(query.encode()).is_response(theirs)
    assert DNSMessage.decode(data) == response
    assert (response.qr, response.ra, response.id, response.rd) == (True, False, 0x1234, query.rd)
    return response


def test_authoritative_answer() -> None:
    r = ask("www.example.com")
    assert (r.rcode, r.aa) == (Rcode.NOERROR, True)
    assert r.answers == (rr("www.example.com", A("10.0.2.10"), 300), rr("www.example.com", A("10.0.2.11"), 300))
    assert r.authority == () and r.additional == ()
    assert r.questions == (Question("www.example.com", RRType.A),)


def test_case_of_the_question_is_kept() -> None:
    r = ask("WWW.Example.COM", rd=False)
    assert r.questions[0].name == "WWW.Example.COM" and not r.rd
    assert [a.data for a in r.answers] == [A("10.0.2.10"), A("10.0.2.11")]


def test_referral_with_glue() -> None:
    r = ask("host.sub.example.com")
    assert (r.rcode, r.aa, r.answers) == (Rcode.NOERROR, False, ())
    assert r.authority == (rr("sub.example.com", NS("ns.sub.example.com")),
                           rr("sub.example.com", NS("ns.elsewhere.net")))
    assert r.additional == (rr("ns.sub.example.com", A("10.9.9.9")),)  # glue for in-zone targets only
    assert r.summary().endswith("0 answers, 2 NS (referral to sub.example.com)")
    # The cut itself, and the glue's own name, are below the cut too: referrals, not answers.
    assert ask("sub.example.com", RRType.NS).authority == r.authority
    assert not ask("sub.example.com", RRType.NS).aa
    assert ask("ns.sub.example.com").authority == r.authority


def test_a_referral_whose_in_domain_glue_does_not_fit_is_truncated() -> None:
    # RFC 9471 3: without all in-domain glue (the addresses of name servers inside the child) the
    # response is incomplete and TC is set; sibling glue (a name server in another delegation of
    # ours) may be left out without TC. In-domain glue goes first, so sibling glue goes first.
    from minternet.application.dns.authority import needed_glue
    from minternet.wire.dns import encode_limited
    names = [f"a-rather-long-name-server-label-number-{i:02d}" for i in range(8)]
    text = ZONE_TEXT + "".join(f"big NS {n}.big\n{n}.big A 10.1.0.{i + 1}\n" for i, n in enumerate(names)) + \
        "big NS ns.sub\n"
    zone = parse_master(text)
    r = ask("www.big.example.com", zones=[zone])
    assert [a.name for a in r.additional] == [f"{n}.big.example.com" for n in names] + ["ns.sub.example.com"]
    assert needed_glue(r) == 8
    assert not DNSMessage.decode(encode_limited(r, 512 + 200, needed_glue(r))).tc  # only the sibling went
    small = DNSMessage.decode(encode_limited(r, 512, needed_glue(r)))
    assert len(small.authority) == 9 and len(small.additional) < 8 and small.tc
    assert needed_glue(ask("host.sub.example.com")) == 1 and needed_glue(ask("www.example.com", RRType.MX)) == 0


def test_nxdomain_with_soa_and_negative_ttl() -> None:
    r = ask("nope.example.com")
    assert (r.rcode, r.aa, r.answers, r.additional) == (Rcode.NXDOMAIN, True, (), ())
    assert r.authority == (NEG_SOA,)  # TTL min(SOA TTL 3600, minimum 300): RFC 2308 3
    # The other way round: an SOA TTL below its minimum is the one used.
    zone = Zone("example.org", [rr("example.org", SOA("ns", "h", 1, 2, 3, 4, 900), ttl=60),
                                rr("example.org", NS("ns.example.org"))])
    assert ask("x.example.org", zones=[zone]).authority[0].ttl == 60


def test_nodata() -> None:
    r = ask("www.example.com", RRType.AAAA)
    assert (r.rcode, r.aa, r.answers) == (Rcode.NOERROR, True, ())
    assert r.authority == (NEG_SOA,)


def test_empty_non_terminal_is_nodata_not_nxdomain() -> None:
    for name in ("b.c.example.com", "c.example.com"):
        r = ask(name)
        assert (r.rcode, r.aa, r.answers, r.authority) == (Rcode.NOERROR, True, (), (NEG_SOA,))
    assert ask("d.c.example.com").rcode == Rcode.NXDOMAIN
    assert ask("a.b.c.example.com").answers == (rr("a.b.c.example.com", A("10.0.0.1")),)


def test_cname_chain_inside_the_zone() -> None:
    r = ask("chain.example.com")
    assert (r.rcode, r.aa) == (Rcode.NOERROR, True)
    assert r.answers == (rr("chain.example.com", CNAME("alias.example.com")),
                         rr("alias.example.com", CNAME("www.example.com")),
                         rr("www.example.com", A("10.0.2.10"), 300), rr("www.example.com", A("10.0.2.11"), 300))
    # Asked for the CNAME itself: just that, not followed.
    assert ask("alias.example.com", RRType.CNAME).answers == (rr("alias.example.com", CNAME("www.example.com")),)
    # The target has no data of the type: NODATA about the end of the chain, CNAMEs kept.
    r = ask("alias.example.com", RRType.MX)
    assert r.answers == (rr("alias.example.com", CNAME("www.example.com")),) and r.authority == (NEG_SOA,)


def test_cname_leaving_the_zone() -> None:
    r = ask("out.example.com")
    assert (r.rcode, r.aa, r.authority) == (Rcode.NOERROR, True, ())
    assert r.answers == (rr("out.example.com", CNAME("www.example.org")),)  # the resolver goes on


def test_cname_loop_stops() -> None:
    r = ask("loop1.example.com")
    assert r.rcode == Rcode.NOERROR
    assert r.answers == (rr("loop1.example.com", CNAME("loop2.example.com")),
                         rr("loop2.example.com", CNAME("loop1.example.com")))


def test_cname_to_a_missing_name_is_nxdomain() -> None:
    # RFC 6604 2.1: the rcode is about the last name in the chain.
    r = ask("dangling.example.com")
    assert (r.rcode, r.aa) == (Rcode.NXDOMAIN, True)
    assert r.answers == (rr("dangling.example.com", CNAME("nothere.example.com")),)
    assert r.authority == (NEG_SOA,)


def test_cname_into_a_delegation() -> None:
    r = ask("tosub.example.com")
    assert r.aa  # for the CNAME, which is ours
    assert r.answers == (rr("tosub.example.com", CNAME("host.sub.example.com")),)
    assert [a.data for a in r.authority] == [NS("ns.sub.example.com"), NS("ns.elsewhere.net")]
    assert r.additional == (rr("ns.sub.example.com", A("10.9.9.9")),)


def test_any_returns_every_rrset() -> None:
    r = ask("example.com", RRType.ANY)
    assert [a.type for a in r.answers] == [RRType.SOA, RRType.NS, RRType.NS, RRType.MX]
    assert set(r.additional) == {rr("ns1.example.com", A("10.0.2.53")), rr("mail.example.com", A("10.0.2.25")),
                                 rr("mail.example.com", AAAA("2001:db8::25"))}
    assert ask("alias.example.com", RRType.ANY).answers == (rr("alias.example.com", CNAME("www.example.com")),)
    assert ask("b.c.example.com", RRType.ANY).answers == ()


def test_ns_and_mx_answers_carry_addresses() -> None:
    r = ask("example.com", RRType.MX)
    assert r.answers == (rr("example.com", MX(10, "mail.example.com")),)
    assert r.additional == (rr("mail.example.com", A("10.0.2.25")), rr("mail.example.com", AAAA("2001:db8::25")))
    r = ask("example.com", RRType.NS)
    assert r.aa and r.additional == (rr("ns1.example.com", A("10.0.2.53")),)  # ns2.example.net: not ours


def test_refused_outside_our_zones() -> None:
    r = ask("www.example.org")
    assert (r.rcode, r.aa, r.answers, r.authority) == (Rcode.REFUSED, False, (), ())
    assert ask("com").rcode == Rcode.REFUSED
    assert ask("www.example.com", zones=[]).rcode == Rcode.REFUSED


def test_classes() -> None:
    query = make_query("www.example.com", RRType.A, 1, cls=RRClass.CH)
    assert answer([ZONE], query).rcode == Rcode.REFUSED
    query = make_query("www.example.com", RRType.A, 1, cls=RRClass.ANY)
    assert len(answer([ZONE], query).answers) == 2


def test_formerr() -> None:
    for questions in ((), (Question("www.example.com", 1), Question("mail.example.com", 1))):
        r = answer([ZONE], DNSMessage(7, rd=True, questions=questions))
        assert (r.rcode, r.qr, r.id, r.rd, r.aa, r.answers) == (Rcode.FORMERR, True, 7, True, False, ())
        assert DNSMessage.decode(r.encode()) == r


@pytest.mark.parametrize("opcode", [Opcode.IQUERY, Opcode.STATUS, Opcode.NOTIFY, Opcode.UPDATE, 9])
def test_notimp(opcode: int) -> None:
    query = DNSMessage(8, opcode=opcode, questions=(Question("example.com", RRType.SOA),))
    r = answer([ZONE], query)
    assert (r.rcode, r.opcode, r.qr, r.answers) == (Rcode.NOTIMP, opcode, True, ())


def test_zone_transfer_is_not_implemented() -> None:
    assert ask("example.com", 252).rcode == Rcode.NOTIMP


def test_longest_zone_wins() -> None:
    child = parse_master(textwrap.dedent("""
        $ORIGIN sub.example.com.
        $TTL 60
        @    SOA ns.sub hostmaster.sub 1 2 3 4 5
        @    NS  ns.sub
        ns   A   10.9.9.9
        host A   10.9.9.10
        """))
    zones = [ZONE, child]
    assert find_zone(zones, "host.SUB.example.com") is child
    assert find_zone(zones, "www.example.com") is ZONE
    assert find_zone(zones, "example.org") is None
    # Serving both parent and child: the child answers with authority, no referral.
    r = ask("host.sub.example.com", zones=zones)
    assert r.aa and r.answers == (rr("host.sub.example.com", A("10.9.9.10"), 60),)
    assert ask("nope.sub.example.com", zones=zones).authority[0].name == "sub.example.com"
    assert ask("www.example.com", zones=[child, ZONE]).answers[0].data == A("10.0.2.10")


def test_root_zone_refers_to_tlds() -> None:
    root = Zone("", [rr("", SOA("a.root-servers.net", "nstld.verisign-grs.com", 1, 2, 3, 4, 86400)),
                     rr("", NS("a.root-servers.net")), rr("a.root-servers.net", A("198.41.0.4")),
                     rr("com", NS("a.gtld-servers.net")), rr("a.gtld-servers.net", A("192.5.6.30"))])
    r = ask("www.example.com", zones=[root])
    assert not r.aa and r.authority == (rr("com", NS("a.gtld-servers.net")),)
    assert r.additional == (rr("a.gtld-servers.net", A("192.5.6.30")),)
    assert ask("nonexistent-tld", zones=[root]).rcode == Rcode.NXDOMAIN


def test_agrees_with_dnspython_zone() -> None:
    # For every RRset dnspython reads from the same file, outside the delegated subtree, asking
    # for it gives exactly that RRset, with its TTL, as dnspython parses our response.
    theirs = dns.zone.from_text(ZONE_TEXT, relativize=False)
    checked = 0
    for name, rdataset in theirs.iterate_rdatasets():
        text = name.to_text(omit_final_dot=True)
        if ZONE.find_delegation(text) is not None:
            continue
        response = dns.message.from_wire(ask(text, rdataset.rdtype).encode())
        got = response.find_rrset(response.answer, name, dns.rdataclass.IN, rdataset.rdtype)
        assert got == rdataset and got.ttl == rdataset.ttl, text
        assert response.flags & dns.flags.AA
        checked += 1
    assert checked == 15
    # And where dnspython has no node, neither do we (no empty non-terminals in this part).
    for text in ("nope.example.com", "www2.example.com", "x.www.example.com"):
        assert theirs.get_node(text + ".") is None
        response = dns.message.from_wire(ask(text).encode())
        assert response.rcode() == dns.rcode.NXDOMAIN
        soa = response.find_rrset(response.authority, dns.name.from_text("example.com."),
                                  dns.rdataclass.IN, dns.rdatatype.SOA)
        assert soa == theirs.find_rdataset("example.com.", "SOA") and soa.ttl == 300

