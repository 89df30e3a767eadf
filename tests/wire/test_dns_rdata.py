"""The service, security and certificate rdata types (SRV ... HTTPS): bytes and text as BIND and
dnspython have them; any bytes decode or are malformed, and what decodes dnspython reads back."""

from __future__ import annotations

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.wire.dns import (AAAA, CAA, DNSKEY, DS, HTTPS, NAPTR, NSEC, RRSIG, SRV, SSHFP, SVCB, TLSA,
                                RRType, canonical_rdata, decode_rdata, ipv6_text, type_text)
from minternet.wire.errors import MalformedPacket

from .strategies import examples

KEY = bytes(range(40))
# Each text is what dig 9.18 prints for the record (run against `minternet dns-serve` serving the
# bytes as \# rdata): hex upper case and base64, in groups of 56; SVCB's alpn and keyNNN quoted.
CASES = [
    (SRV(10, 60, 5060, "sip.example.com"), "10 60 5060 sip.example.com."),
    (NAPTR(100, 10, b"U", b"E2U+sip", b"!^.*$!sip:info@example.com!", ""),
     '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .'),
    (CAA(128, b"tbs", b'a"b c\\d\xff'), r'128 tbs "a\"b c\\d\255"'),
    (DS(60485, 5, 1, bytes.fromhex("2BB183AF5F22588179A53B0A98631FAD1A292118")),
     "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"),
    (TLSA(3, 1, 1, bytes.fromhex("0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6")),
     "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B566 64C5D3D6"),
    (SSHFP(4, 2, bytes.fromhex("0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6")),
     "4 2 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B566 64C5D3D6"),
    (DNSKEY(257, 3, 8, KEY), "257 3 8 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJw=="),
    (RRSIG(1, 8, 2, 3600, 1704067200, 1701388800, 12345, "example.com", b"testsignature"),
     "A 8 2 3600 20240101000000 20231201000000 12345 example.com. dGVzdHNpZ25hdHVyZQ=="),
    (NSEC("host.example.com", (1, 2, 6, 15, 16, 28, 46, 47, 48, 65534)),
     "host.example.com. A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY TYPE65534"),
    (HTTPS(1, "", ((1, b"\x02h3\x02h2"), (3, b"\x20\xfb"), (4, bytes([192, 0, 2, 1, 192, 0, 2, 2])),
                   (6, bytes(16)))),
     '1 . alpn="h3,h2" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=::'),
    (HTTPS(0, "svc.example.com"), "0 svc.example.com."),
    (SVCB(16, "foo.example.org", ((0, b"\x00\x01\x00\x04"), (1, b"\x02h2\x05h3-19"), (2, b""),
                                  (4, bytes([192, 0, 2, 1])), (65333, b"ex1"))),
     '16 foo.example.org. mandatory=alpn,ipv4hint alpn="h2,h3-19" no-default-alpn ipv4hint=192.0.2.1 '
     'key65333="ex1"'),
    (SVCB(1, "", ((1, b"\x08f\\oo,bar\x02h2"), (667, b"hello\xd2qoo"))),
     r'1 . alpn="f\\\\oo\\,bar,h2" key667="hello\210qoo"'),
    (SVCB(1, "", ((5, b"\x00\x04\xfe\x0d\x00\x00"), (1000, b""))), "1 . ech=AAT+DQAA key1000"),
]


@pytest.mark.parametrize("data, text", CASES, ids=lambda v: type_text(v.rrtype) if hasattr(v, "rrtype") else "")
def test_text_as_dig_prints_it_and_bytes_as_dnspython_writes_them(data, text: str) -> None:
    assert data.to_text() == text
    theirs = dns.rdata.from_text(dns.rdataclass.IN, data.rrtype, text)
    assert theirs.to_wire() == data.encode()
    wire = data.encode()
    assert decode_rdata(wire, data.rrtype, 1, 0, len(wire)) == data


def test_names_in_rdata_are_not_compressed() -> None:
    from minternet.wire.dns import A, DNSMessage, ResourceRecord
    rrs = [ResourceRecord("example.com", 1, 1, 60, A("192.0.2.1")),
           ResourceRecord("example.com", 33, 1, 60, SRV(0, 0, 80, "example.com")),
           ResourceRecord("example.com", 64, 1, 60, SVCB(1, "example.com"))]
    wire = DNSMessage(1, answers=rrs).encode()
    assert wire.count(b"\x07example\x03com\x00") == 3  # owner once, each target in full


def test_ipv4_mapped_and_zone_index() -> None:
    assert AAAA("::ffff:c000:250").to_text() == "::ffff:192.0.2.80"  # RFC 5952 5
    assert ipv6_text(bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 80])) == "::ffff:192.0.2.80"
    assert AAAA("::192.0.2.80").to_text() == "::c000:250"  # IPv4-compatible is not mapped
    with pytest.raises(ValueError, match=r"zone index \(%eth0\).*write fe80::1"):
        AAAA("fe80::1%eth0")


def test_canonical_rdata_folds_names_only_where_rfc_4034_does() -> None:
    assert canonical_rdata(SRV(1, 2, 3, "Sip.Example.COM")) == canonical_rdata(SRV(1, 2, 3, "sip.example.com"))
    # RFC 6840 5.1 took NSEC out of the list; SVCB was never on it
    assert canonical_rdata(NSEC("A.example", (1,))) != canonical_rdata(NSEC("a.example", (1,)))
    assert canonical_rdata(SVCB(1, "A.example")) != canonical_rdata(SVCB(1, "a.example"))


@pytest.mark.parametrize("rrtype, rdata, detail", [
    (RRType.SRV, b"\x00\x01\x00\x02", "needs 6 bytes and a name"),
    (RRType.CAA, b"\x00\x00", "tag length of 1 or more"),
    (RRType.CAA, b"\x00\x02a-", "letters and digits"),
    (RRType.NSEC, b"\x00\x00\x00", "bad type bitmap window 0 of length 0"),
    (RRType.NSEC, b"\x00\x01\x01\x40\x00\x01\x40", "bad type bitmap window 0"),
    (RRType.NSEC, b"\x00\x00\x02\x40\x00", "bad type bitmap window 0 of length 2"),
    (RRType.DS, b"\x00\x01\x08\x02", "no data after the fixed fields"),
    (RRType.SVCB, b"\x00\x01\x00\x00\x05\x00\x02\x00\x00", "ech: an ECHConfigList"),
    (RRType.SVCB, b"\x00\x01\x00\x00\x03\x00\x01\x01", "port: 2 bytes"),
    (RRType.SVCB, b"\x00\x01\x00\x00\x03\x00\x02\x01\xbb\x00\x01\x00\x03\x02h2", "increasing order"),
    (RRType.HTTPS, b"\x00\x01\x00\x00\x00\x00\x02\x00\x01", "mandatory lists alpn, which is not given"),
    (RRType.RRSIG, b"\x00" * 18, "needs at least 19"),
    (RRType.NAPTR, b"\x00\x01\x00\x02\x05U", "runs past rdlength"),
])
def test_malformed(rrtype: int, rdata: bytes, detail: str) -> None:
    with pytest.raises(MalformedPacket) as exc:
        decode_rdata(rdata, rrtype, 1, 0, len(rdata))
    assert exc.value.reason == "bad-rdata" and detail in exc.value.detail, exc.value.detail


_NEW_TYPES = [33, 35, 43, 44, 46, 47, 48, 52, 64, 65, 257]


def _seeds() -> st.SearchStrategy[tuple[int, bytes]]:
    valid = [(d.rrtype, d.encode()) for d, _ in CASES]
    return st.one_of(st.sampled_from(valid),
                     st.tuples(st.sampled_from(_NEW_TYPES), st.binary(max_size=60)))


@examples(400)
@given(seed=_seeds(), flips=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=3),
       cut=st.integers(0, 200))
def test_any_rdata_decodes_or_is_malformed_and_dnspython_agrees(seed, flips, cut) -> None:
    rrtype, data = seed
    data = bytearray(data)
    for pos, value in flips:
        if data:
            data[pos % len(data)] = value
    data = bytes(data[:cut] if cut < len(data) else data)
    try:
        ours = decode_rdata(data, rrtype, 1, 0, len(data))
    except MalformedPacket as exc:
        assert exc.reason in ("bad-rdata", "truncated", "bad-pointer", "pointer-chain-too-long", "bad-label-type",
                              "name-too-long")
        return
    assert ours.encode() == data
    if rrtype in (RRType.SVCB, RRType.HTTPS) and ours.priority == 0 and ours.params:
        return  # on the wire a receiver ignores them (RFC 9460 2.4.2); in text they are refused
    text = ours.to_text()
    theirs = dns.rdata.from_text(dns.rdataclass.IN, rrtype, text)
    assert theirs.to_wire() == ours.encode(), text
