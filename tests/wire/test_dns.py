"""DNS messages (RFC 1035 4, RFC 2181, RFC 3596, RFC 3597): names, rdata, compression, hostile
input, truncation to a size, and dnspython as an independent codec in both directions."""

from __future__ import annotations

import ipaddress
import struct
import sys
from dataclasses import replace

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.NS
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.SOA
import dns.rcode
import dns.rdtypes.ANY.TXT
import dns.rrset
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minternet.wire import MalformedPacket
from minternet.wire.dns import (AAAA, CNAME, MAX_NAME_LEN, MX, NS, OPT, PTR, REASONS, SOA, TXT, A,
                                DNSMessage,
                                Edns, EdnsOption, Opcode, Question, Rcode, ResourceRecord, RRClass, RRType, Unknown,
                                canonical, encode_limited, is_subdomain, labels_to_name,
                                make_query, make_response, name_eq, name_to_labels)

from .strategies import examples, mutated

IN = RRClass.IN


def rr(name: str, data, ttl: int = 300, cls: int = IN) -> ResourceRecord:
    return ResourceRecord(name, data.rrtype, cls, ttl, data)


def malformed(data: bytes, reason: str, detail: str = "") -> MalformedPacket:
    with pytest.raises(MalformedPacket) as exc:
        DNSMessage.decode(data)
    assert (exc.value.layer, exc.value.reason) == ("dns", reason), exc.value
    assert detail in exc.value.detail, exc.value
    return exc.value


def header(qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0, ident: int = 0x1a2b,
           flags: int = 0x8400) -> bytes:
    return struct.pack("!HHHHHH", ident, flags, qd, an, ns, ar)


def wire_name(*labels: bytes) -> bytes:
    return b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"


WWW = wire_name(b"www", b"example", b"com")
Q_WWW_A = WWW + b"\x00\x01\x00\x01"


def record(name: bytes, rtype: int, rdata: bytes, rclass: int = 1, ttl: int = 300) -> bytes:
    return name + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


# -- known answers ----------------------------------------------------------------------------------
def test_query_known_bytes() -> None:
    # RFC 1035 4.1.1 header: id, QR=0 opcode=0 AA=0 TC=0 RD=1 / RA=0 Z=0 RCODE=0, QDCOUNT=1;
    # 4.1.2 question: labels as length-prefixed bytes ending in the root's zero, QTYPE, QCLASS.
    expected = bytes.fromhex("1a2b 0100 0001 0000 0000 0000"
                             "03 777777 07 6578616d706c65 03 636f6d 00"
                             "0001 0001")
    query = make_query("www.example.com", RRType.A, 0x1a2b)
    assert query.encode() == expected
    assert DNSMessage.decode(expected) == query
    assert DNSMessage.decode(expected).questions == (Question("www.example.com", RRType.A, IN),)


def test_response_known_bytes_with_pointer() -> None:
    query = make_query("www.example.com", RRType.A, 0x1a2b)
    response = make_response(query, aa=True, answers=[rr("www.example.com", A("10.0.2.10"))])
    expected = (bytes.fromhex("1a2b 8500 0001 0001 0000 0000") + Q_WWW_A
                + bytes.fromhex("c00c 0001 0001 0000012c 0004 0a00020a"))  # owner: pointer to 12
    assert response.encode() == expected
    assert DNSMessage.decode(expected) == response


def test_rfc1035_compression_example() -> None:
    # RFC 1035 4.1.4: F.ISI.ARPA, FOO.F.ISI.ARPA as FOO + pointer, ARPA as a pointer into the
    # first name, and the root as a lone zero.
    msg = DNSMessage(1, questions=[Question("F.ISI.ARPA", 1), Question("FOO.F.ISI.ARPA", 1),
                                   Question("ARPA", 1), Question("", 1)])
    body = msg.encode()[12:]
    assert body == (wire_name(b"F", b"ISI", b"ARPA") + b"\x00\x01\x00\x01"
                    + b"\x03FOO\xc0\x0c" + b"\x00\x01\x00\x01"
                    + b"\xc0\x12" + b"\x00\x01\x00\x01"  # ARPA's label sits at 12 + 2 + 4
                    + b"\x00" + b"\x00\x01\x00\x01")
    assert DNSMessage.decode(msg.encode()) == msg


# -- names ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("labels, text", [
    ((), ""),
    ((b"www", b"example", b"com"), "www.example.com"),
    ((b"a.b", b"c"), r"a\.b.c"),
    ((b"back\\slash",), r"back\\slash"),
    ((b"sp ace", b"tab\t"), r"sp\032ace.tab\009"),
    ((b"\x00\xff\x7f",), r"\000\255\127"),
    ((b'q"(x);@$',), r'q\"\(x\)\;\@\$'),  # dnspython's escapes for the specials
    ((b"*", b"_sip", b"-x-"), "*._sip.-x-"),
])
def test_name_text(labels: tuple[bytes, ...], text: str) -> None:
    assert labels_to_name(labels) == text
    assert name_to_labels(text) == labels
    assert dns.name.Name(labels + (b"",)).to_text(omit_final_dot=True) == (text or ".")


@pytest.mark.parametrize("text, labels", [
    ("example.com.", (b"example", b"com")),  # a trailing dot is accepted
    (".", ()),
    (r"\065\.b", (b"A.b",)),  # \DDD is decimal
    (r"a\ b", (b"a b",)),
    ("a\\\\.", (b"a\\",)),  # an escaped backslash, then the final dot
    (r"a\.", (b"a.",)),  # an escaped dot is no final dot
])
def test_name_to_labels_forms(text: str, labels: tuple[bytes, ...]) -> None:
    assert name_to_labels(text) == labels


@pytest.mark.parametrize("text, message", [
    ("a..b", "empty label"),
    (".a", "empty label"),
    ("a" * 64 + ".com", "label of 64 bytes"),
    (".".join(["a" * 63] * 4), "257 bytes"),
    ("a\\", "lone backslash"),
    (r"a\25", "three decimal digits"),
    (r"a\256", "000 to 255"),
    ("bücher.de", "not ASCII"),
])
def test_name_to_labels_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        name_to_labels(text)


def test_name_limits_exactly() -> None:
    longest = ".".join(["a" * 63] * 3 + ["a" * 61])  # 3 * 64 + 62 + 1 = 255 bytes
    assert len(name_to_labels(longest)) == 4
    with pytest.raises(ValueError):
        name_to_labels(longest + "a")
    with pytest.raises(ValueError):
        labels_to_name([b""])


def test_case_and_subdomains() -> None:
    assert canonical("WWW.Example.COM.") == "www.example.com"
    assert canonical(r"\065") == "a"
    assert name_eq("WWW.example.com", "www.EXAMPLE.com")
    assert not name_eq(r"\195", r"\227")  # RFC 4343: only ASCII letters fold
    assert is_subdomain("www.example.com", "example.com")
    assert is_subdomain("Example.COM", "example.com")
    assert is_subdomain("anything", "")
    assert not is_subdomain("example.com", "www.example.com")
    assert not is_subdomain("badexample.com", "example.com")
    assert not is_subdomain(r"a\.example.com", "example.com")  # one label "a.example", then com
    assert is_subdomain("a\\\\.example.com", "example.com")  # label "a\", then example.com


# -- rdata ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, text", [
    (A("10.0.2.10"), "10.0.2.10"),
    (AAAA("2001:0DB8:0:0::1"), "2001:db8::1"),
    (NS("ns1.example.com."), "ns1.example.com."),
    (CNAME("web.example.com"), "web.example.com."),
    (PTR(""), "."),
    (MX(10, "mail.example.com"), "10 mail.example.com."),
    (TXT((b"v=spf1 -all", b'a "quoted" \\ \x00\xff')), r'"v=spf1 -all" "a \"quoted\" \\ \000\255"'),
    (SOA("ns1.example.com", "host\\.master.example.com", 2024010101, 7200, 3600, 1209600, 300),
     r"ns1.example.com. host\.master.example.com. 2024010101 7200 3600 1209600 300"),
    (Unknown(65280, bytes.fromhex("0a000001")), r"\# 4 0a000001"),
    (Unknown(65280, b""), r"\# 0"),
])
def test_rdata_text_matches_dnspython(data, text: str) -> None:
    assert data.to_text() == text
    parsed = dns.rdata.from_text(dns.rdataclass.IN, data.rrtype, text)
    assert parsed.to_wire() == data.encode()


@pytest.mark.parametrize("make", [
    lambda: A("10.0.2"), lambda: A("256.0.0.1"), lambda: AAAA("10.0.0.1"), lambda: NS("a..b"),
    lambda: MX(65536, "x"), lambda: TXT(()), lambda: TXT((b"x" * 256,)),
    lambda: SOA("a", "b", -1, 0, 0, 0, 0), lambda: Unknown(70000, b""),
    lambda: ResourceRecord("x", 1, 1, 2**32, A("1.2.3.4")), lambda: Question("x", 1, 65536),
])
def test_rdata_validates_at_construction(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_unknown_values_are_kept() -> None:
    msg = DNSMessage(0xFFFF, qr=True, opcode=3, rcode=11, z=1,
                     questions=[Question("x", 65280, 254)],
                     answers=[ResourceRecord("x", 65280, 254, 0, Unknown(65280, b"\x01\x02")),
                              ResourceRecord("y", RRType.A, RRClass.CH, 1, Unknown(1, b"\x00\x01"))])
    back = DNSMessage.decode(msg.encode())
    assert back == msg
    assert (back.opcode, back.rcode, back.questions[0].type) == (3, 11, 65280)
    assert type(back.questions[0].type) is int and back.answers[0].type == 65280
    # A outside class IN is not an IPv4 address (RFC 3597: class-specific types are opaque).
    assert back.answers[1].data == Unknown(1, b"\x00\x01")
    assert "TYPE65280" in back.to_text() and "CLASS254" in back.to_text()


# -- compression ------------------------------------------------------------------------------------
def _big_response() -> DNSMessage:
    query = make_query("example.com", RRType.ANY, 7)
    return make_response(query, aa=True, answers=[
        rr("example.com", SOA("ns1.example.com", "hostmaster.example.com", 1, 2, 3, 4, 5)),
        rr("example.com", NS("ns1.example.com")),
        rr("example.com", NS("ns2.example.com")),
        rr("example.com", MX(10, "mail.example.com")),
        rr("www.example.com", CNAME("web.example.com")),
        rr("1.2.0.10.in-addr.arpa", PTR("web.example.com")),
    ], additional=[rr("ns1.example.com", A("10.0.2.53")), rr("ns2.example.com", AAAA("2001:db8::53"))])


def test_compression_saves_and_round_trips() -> None:
    msg = _big_response()
    small, plain = msg.encode(), msg.encode(compress=False)
    full_ns2 = wire_name(b"ns2", b"example", b"com")
    assert full_ns2 in plain and full_ns2 not in small
    assert len(small) < len(plain) - 60
    assert DNSMessage.decode(small) == msg == DNSMessage.decode(plain)
    # Names inside NS, MX, SOA, CNAME and PTR rdata are compressed too: the NS rdata
    # "ns2.example.com" is 3 "ns2" and a pointer, 6 bytes where the full name takes 17.
    i = small.index(b"\x03ns2")
    assert small[i + 4] & 0xC0 == 0xC0
    assert struct.unpack_from("!H", small, i - 2)[0] == 6  # its rdlength
    theirs = dns.message.from_wire(small)
    assert [rd.to_text() for s in theirs.answer for rd in s] == [r.data.to_text() for r in msg.answers]


def test_compression_keeps_case() -> None:
    msg = DNSMessage(1, questions=[Question("www.Example.com", 1), Question("WWW.example.com", 1)])
    back = DNSMessage.decode(msg.encode())
    assert [q.name for q in back.questions] == ["www.Example.com", "WWW.example.com"]


def test_unknown_rdata_is_not_compressed() -> None:
    # RFC 3597 4: rdata of a type the receiver may not know is copied verbatim, never compressed,
    # even when it happens to hold a name already written.
    raw = wire_name(b"www", b"example", b"com")
    msg = DNSMessage(1, questions=[Question("www.example.com", 1)],
                     answers=[rr("www.example.com", Unknown(65280, raw))])
    data = msg.encode()
    assert data.endswith(raw)
    assert DNSMessage.decode(data) == msg


def test_pointers_only_into_the_first_16k() -> None:
    # 70 TXT records of 255 bytes push later names past offset 0x3FFF, which a pointer cannot
    # reach: those names are written in full and themselves become no targets.
    fill = [rr(f"t{i}.example.com", TXT((b"x" * 255,))) for i in range(70)]
    tail = [rr("late.example.com", A("10.0.0.1")), rr("late.example.com", A("10.0.0.2"))]
    msg = DNSMessage(9, qr=True, answers=fill + tail)
    data = msg.encode()
    assert len(data) > 0x4000
    assert DNSMessage.decode(data) == msg
    assert len(dns.message.from_wire(data).answer) == 71


# -- hostile input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 11])
def test_truncated_header(size: int) -> None:
    malformed(make_query("x", 1, 1).encode()[:size], "truncated", "header")


def test_truncated_question() -> None:
    malformed(header(qd=1) + Q_WWW_A[:-2], "truncated", "question 1")
    malformed(header(qd=1) + WWW[:5] + b"\x00" * 6, "truncated", "runs past the end")


def test_truncated_record_and_rdata() -> None:
    good = record(b"\xc0\x0c", 1, b"\x0a\x00\x00\x01")
    malformed(header(qd=1, an=1) + Q_WWW_A + good[:8], "truncated", "answer record 1")
    malformed(header(qd=1, an=1) + Q_WWW_A + good[:-1], "truncated", "rdlength 4")


def test_counts_that_overrun() -> None:
    malformed(header(qd=1), "bad-count", "need at least 17")
    malformed(header(an=0xFFFF) + b"\x00" * 100, "bad-count")
    one = record(b"\xc0\x0c", 1, b"\x0a\x00\x00\x01")
    # Enough bytes for the minimum sizes, but the records run out after the first.
    malformed(header(qd=1, an=2) + Q_WWW_A + one, "bad-count", "after 1 of 2 answer")
    malformed(header(qd=3) + Q_WWW_A + wire_name() + b"\x00\x01\x00\x01", "bad-count",
              "after 2 of 3 questions")


def test_pointer_to_itself() -> None:
    malformed(header(qd=1) + b"\xc0\x0c\x00\x01\x00\x01", "bad-pointer", "loop")


def test_pointer_forward_and_out_of_bounds() -> None:
    forward = header(qd=2) + b"\xc0\x12\x00\x01\x00\x01" + Q_WWW_A
    malformed(forward, "bad-pointer", "points forward")
    malformed(header(qd=1) + b"\xc3\xff\x00\x01\x00\x01", "bad-pointer", "out of bounds")
    malformed(header(qd=1) + b"\x01a\x01b\xc0", "truncated", "cut short")


def test_pointer_loop_through_two_pointers() -> None:
    # The answer's opaque rdata (type 65280, never read as a name) holds a pointer back to the
    # second answer's owner, which is a pointer to that rdata: 2nd owner -> rdata -> 2nd owner.
    q = Q_WWW_A
    rdata_at = 12 + len(q) + 2 + 10
    second_at = rdata_at + 2
    first = record(b"\xc0\x0c", 65280, struct.pack("!H", 0xC000 | second_at))
    second = struct.pack("!H", 0xC000 | rdata_at) + struct.pack("!HHIH", 1, 1, 0, 4) + bytes(4)
    data = header(qd=1, an=2) + q + first + second
    assert 12 + len(q) + len(first) == second_at
    malformed(data, "bad-pointer", "loop")


def pointer_chain(hops: int, names: int = 1) -> bytes:
    """A question for the root, an opaque rdata (type 65280, never read as a name) holding
    ``hops - 1`` pointers each to the one before it (the first to the question's root name), and
    ``names`` records owned by a pointer to the last: each owner takes ``hops`` hops."""
    question = b"\x00\x00\x01\x00\x01"
    start = 12 + len(question) + 11
    chain = b"".join(struct.pack("!H", 0xC000 | (12 if k == 0 else start + 2 * (k - 1))) for k in range(hops - 1))
    top = start + 2 * (hops - 2)
    owner = struct.pack("!H", 0xC000 | top) if hops > 1 else b"\xc0\x0c"
    return (header(qd=1, an=1 + names) + question + record(b"\x00", 65280, chain)
            + record(owner, 65280, b"") * names)


def test_pointer_chain_of_16_hops_and_no_more() -> None:
    # BIND's DNS_POINTER_MAXHOPS and dnspython's MAX_COMPRESSION_POINTER_CHAIN: 16.
    assert len(DNSMessage.decode(pointer_chain(16)).answers) == 2
    assert sum(len(rrset) for rrset in dns.message.from_wire(pointer_chain(16)).answer) == 2
    malformed(pointer_chain(17), "pointer-chain-too-long", "over 16")
    with pytest.raises(dns.name.PointerChainTooLong):
        dns.message.from_wire(pointer_chain(17))


def _read_name_steps(data: bytes) -> list[int]:
    """Lines run by each call of _read_name while ``data`` is decoded: the work per name."""
    from minternet.wire import dns as wire_dns
    code = wire_dns._read_name.__code__
    steps: list[int] = []

    def local(frame, event, arg):
        if event == "line":
            steps[-1] += 1
        return local

    def calls(frame, event, arg):
        if frame.f_code is code:
            steps.append(0)
            return local
        return None

    sys.settrace(calls)
    try:
        DNSMessage.decode(data)
    except MalformedPacket:
        pass
    finally:
        sys.settrace(None)
    return steps


def test_a_name_costs_a_bounded_number_of_steps() -> None:
    # Before the hop cap, records owned by a pointer to the top of a 2000-pointer chain cost 2000
    # hops each: a 64 KB message of them took seconds of CPU. Now one loop step per label or
    # pointer, at most 127 labels (255 bytes) and 16 pointers, so decoding is linear in its size.
    per_name = 16 * (MAX_NAME_LEN // 2 + 16 + 1)  # 16 hops at most; a loop step runs fewer than 16 lines
    attack = _read_name_steps(pointer_chain(2000, names=20))
    assert max(attack) < per_name
    # The worst that still decodes: every owner takes 16 hops through 112 one-byte labels.
    chunks, pos = [], 12 + 5 + 11
    for k in range(16):
        link = struct.pack("!H", 0xC000 | (pos - len(chunks[-1]))) if chunks else b"\x00"
        chunks.append(b"\x01a" * 7 + link)
        pos += len(chunks[-1])
    rdata = b"".join(chunks)
    owner = struct.pack("!H", 0xC000 | (pos - len(chunks[-1])))
    worst = header(qd=1, an=41) + b"\x00\x00\x01\x00\x01" + record(b"\x00", 65280, rdata) + record(owner, 1, bytes(4)) * 40
    msg = DNSMessage.decode(worst)
    assert msg.answers[1].name == ".".join(["a"] * 112)
    assert dns.message.from_wire(worst).answer[1].name == dns.name.from_text(".".join(["a"] * 112))
    steps = _read_name_steps(worst)
    assert len(steps) == 42 and max(steps) < per_name


def test_pointer_must_precede_the_name_not_just_itself() -> None:
    # "a" then a pointer back to that same "a": backward, but a loop (a.a.a...). Rejected because
    # a pointer must point before the start of the name it is part of.
    malformed(header(qd=1) + b"\x01a\xc0\x0c\x00\x01\x00\x01", "bad-pointer")


@pytest.mark.parametrize("length", [0x40, 0x7F, 0x80, 0xBF])
def test_reserved_label_types(length: int) -> None:
    # 01 and 10 in the top bits are reserved; they are also what a "label over 63" would be.
    malformed(header(qd=1) + bytes((length,)) + b"a" * 70 + b"\x00\x00\x01\x00\x01", "bad-label-type")


def test_names_over_255_bytes() -> None:
    long = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x00"  # 257 bytes
    malformed(header(qd=1) + long + b"\x00\x01\x00\x01", "name-too-long")
    # Through pointers: 3 x 64 in the first question, 64 more in front of a pointer to it.
    first = b"".join(b"\x3f" + b"b" * 63 for _ in range(3)) + b"\x00"
    data = header(qd=2) + first + b"\x00\x01\x00\x01" + b"\x3f" + b"c" * 63 + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    malformed(data, "name-too-long")


@pytest.mark.parametrize("rtype, rdata, detail", [
    (1, b"\x0a\x00\x00", "must be 4"),
    (1, b"\x0a\x00\x00\x01\x02", "must be 4"),
    (28, bytes(15), "must be 16"),
    (28, bytes(17), "must be 16"),
    (2, wire_name(b"ns1") + b"\x00", "1 bytes after the name"),
    (5, b"\x03www\x00"[:-1], "runs past"),  # the name does not end inside rdlength
    (12, b"", "runs past"),
    (15, b"\x00\x0a", "needs a preference and a name"),
    (15, b"\x00\x0a" + wire_name(b"mx") + b"\xff", "after the name"),
    (6, wire_name(b"ns") + wire_name(b"host") + bytes(19), "must be 20"),
    (6, wire_name(b"ns") + wire_name(b"host") + bytes(21), "must be 20"),
    (6, wire_name(b"ns"), "runs past"),
    (16, b"\x05abc", "runs past rdlength"),
    (16, b"\x01a\x03ab", "runs past rdlength"),
    (16, b"", "needs at least one string"),
])
def test_rdata_that_does_not_fit_its_type(rtype: int, rdata: bytes, detail: str) -> None:
    data = header(qd=1, an=1) + Q_WWW_A + record(b"\xc0\x0c", rtype, rdata)
    # Padding after the record: the rdata must still end where rdlength says.
    malformed(data + b"\x00" * 8, "bad-rdata", detail)


def test_rdata_name_pointing_backwards_is_fine() -> None:
    data = header(qd=1, an=1) + Q_WWW_A + record(b"\xc0\x0c", 5, b"\x03web\xc0\x10")
    assert DNSMessage.decode(data).answers[0].data == CNAME("web.example.com")


def test_trailing_bytes_are_ignored() -> None:
    query = make_query("www.example.com", RRType.A, 5)
    assert DNSMessage.decode(query.encode() + b"\xde\xad\xbe\xef") == query
    assert DNSMessage.decode(memoryview(query.encode())) == query


# -- text and summaries -----------------------------------------------------------------------------
def test_to_text_like_dig() -> None:
    query = make_query("www.example.com", RRType.A, 0x1a2b)
    response = make_response(query, aa=True, answers=[rr("www.example.com", A("10.0.2.10"))])
    assert response.to_text() == (
        ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 6699\n"
        ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0\n"
        "\n"
        ";; QUESTION SECTION:\n"
        ";www.example.com.\t\tIN\tA\n"
        "\n"
        ";; ANSWER SECTION:\n"
        "www.example.com.\t300\tIN\tA\t10.0.2.10\n")


def test_summaries() -> None:
    q = make_query("www.example.com", RRType.A, 0x1a2b)
    soa = rr("example.com", SOA("ns1.example.com", "hostmaster.example.com", 1, 2, 3, 4, 60))
    assert q.summary() == "DNS query id=0x1a2b A www.example.com"
    ok = make_response(q, aa=True, answers=[rr("www.example.com", A("10.0.2.10"))])
    assert ok.summary() == "DNS response id=0x1a2b NOERROR aa A www.example.com: 10.0.2.10 (1 answer)"
    nx = make_response(q, rcode=Rcode.NXDOMAIN, aa=True, authority=[soa])
    assert nx.summary() == "DNS response id=0x1a2b NXDOMAIN aa A www.example.com (0 answers)"
    nodata = make_response(q, aa=True, authority=[soa])
    assert nodata.summary() == "DNS response id=0x1a2b NOERROR aa A www.example.com (0 answers, NODATA)"
    referral = make_response(q, authority=[rr("example.com", NS("ns1.example.com"))])
    assert referral.summary() == ("DNS response id=0x1a2b NOERROR A www.example.com: 0 answers, "
                                  "1 NS (referral to example.com)")
    chain = make_response(q, aa=True, answers=[rr("www.example.com", CNAME("web.example.com")),
                                               rr("web.example.com", A("10.0.2.10"))])
    assert chain.summary().endswith(": CNAME web.example.com., 10.0.2.10 (2 answers)")
    notify = DNSMessage(1, opcode=Opcode.NOTIFY, questions=[Question("example.com", RRType.SOA)])
    assert notify.summary() == "DNS NOTIFY query id=0x0001 SOA example.com"


def test_make_response_copies_the_query() -> None:
    q = DNSMessage(0x4242, opcode=Opcode.QUERY, rd=False, cd=True, questions=[Question("a.b", RRType.MX)])
    r = make_response(q, rcode=Rcode.REFUSED)
    assert (r.id, r.qr, r.opcode, r.rd, r.cd, r.ra, r.aa, r.rcode, r.questions) == \
        (0x4242, True, 0, False, True, False, False, Rcode.REFUSED, q.questions)


# -- encode_limited ---------------------------------------------------------------------------------
def _sized(answers: int, authority: int, additional: int) -> DNSMessage:
    q = make_query("example.com", RRType.A, 3)
    return make_response(q, aa=True,
                         answers=[rr("example.com", A(f"10.0.0.{i}")) for i in range(answers)],
                         authority=[rr("example.com", NS(f"ns{i}.example.com")) for i in range(authority)],
                         additional=[rr(f"ns{i}.example.com", A(f"10.1.0.{i}")) for i in range(additional)])


def test_limited_fits_unchanged() -> None:
    msg = _sized(2, 2, 2)
    assert encode_limited(msg, 512) == msg.encode()


def test_limited_drops_additional_without_tc() -> None:
    msg = _sized(2, 2, 30)
    data = encode_limited(msg, 200)
    back = DNSMessage.decode(data)
    assert len(data) <= 200 and not back.tc
    assert back.answers == msg.answers and back.authority == msg.authority
    assert 0 < len(back.additional) < 30 and back.additional == msg.additional[:len(back.additional)]


def test_limited_sets_tc_when_needed_additional_records_go() -> None:
    # A referral's in-domain glue (RFC 9471 3): dropping any of the first `needed` is truncation.
    msg = _sized(2, 2, 30)
    for needed, tc in ((0, False), (5, False), (6, True), (30, True)):  # 5 of them fit
        back = DNSMessage.decode(encode_limited(msg, 200, needed))
        assert len(back.additional) == 5 and back.tc is tc


def test_limited_drops_authority_with_tc() -> None:
    msg = _sized(2, 1, 0)
    msg = make_response(make_query("example.com", 1, 3), answers=msg.answers,
                        authority=[rr(f"n{i}.example.com", NS("x.example.com")) for i in range(30)])
    data = encode_limited(msg, 150)
    back = DNSMessage.decode(data)
    assert len(data) <= 150 and back.tc and back.answers == msg.answers
    assert back.authority == msg.authority[:len(back.authority)] and len(back.authority) < 30


def test_limited_drops_whole_rrsets_only() -> None:
    # 40 A records at one name are one RRset: all or nothing (RFC 2181 9).
    msg = _sized(40, 0, 0)
    back = DNSMessage.decode(encode_limited(msg, 512))
    assert back.tc and back.answers == () and back.questions == msg.questions
    # Interleaved members of two RRsets: a cut must not split either.
    a = [rr("a.example.com", A(f"10.0.0.{i}")) for i in range(2)]
    b = [rr("b.example.com", A(f"10.0.1.{i}")) for i in range(2)]
    mixed = DNSMessage(1, qr=True, answers=[a[0], b[0], a[1], b[1]])
    full = len(mixed.encode())
    back = DNSMessage.decode(encode_limited(mixed, full - 1))
    assert back.answers == () and back.tc


def test_limited_keeps_opt() -> None:
    opt = Edns(1232).record()
    msg = _sized(0, 0, 30)
    msg = DNSMessage(3, qr=True, questions=msg.questions, additional=msg.additional + (opt,))
    back = DNSMessage.decode(encode_limited(msg, 100))
    assert back.additional[-1] == opt and not back.tc


def test_limited_refuses_an_impossible_limit() -> None:
    with pytest.raises(ValueError, match="header and question"):
        encode_limited(_sized(1, 0, 0), 20)


# -- hypothesis: our messages ---------------------------------------------------------------------------
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
_LETTERS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
labels = st.one_of(
    st.binary(min_size=1, max_size=10).map(lambda b: bytes(_LETTERS[c % len(_LETTERS)] for c in b)),
    st.binary(min_size=1, max_size=63),  # any bytes: dots, backslashes, spaces, 8-bit
    st.sampled_from([b"a.b", b"a\\b", b'"', b"(", b")", b";", b"@", b"$", b" ", b"*"]),
)


def _fits(ls: list[bytes]) -> bool:
    return sum(len(label) + 1 for label in ls) + 1 <= 255


names = st.lists(labels, max_size=4).filter(_fits).map(labels_to_name)


@st.composite
def messages(draw: st.DrawFn) -> DNSMessage:
    bases = draw(st.lists(names, min_size=1, max_size=3))

    def name() -> str:
        base = name_to_labels(draw(st.sampled_from(bases)))
        full = tuple(draw(st.lists(labels, max_size=2))) + base
        return labels_to_name(full if _fits(list(full)) else base)

    def rdata(kind: str):
        if kind == "A":
            return A(str(ipaddress.IPv4Address(draw(u32))))
        if kind == "AAAA":
            return AAAA(ipaddress.IPv6Address(draw(st.binary(min_size=16, max_size=16))).compressed)
        if kind in ("NS", "CNAME", "PTR"):
            return {"NS": NS, "CNAME": CNAME, "PTR": PTR}[kind](name())
        if kind == "MX":
            return MX(draw(u16), name())
        if kind == "TXT":
            return TXT(tuple(draw(st.lists(st.binary(max_size=40), min_size=1, max_size=3))))
        if kind == "SOA":
            return SOA(name(), name(), draw(u32), draw(u32), draw(u32), draw(u32), draw(u32))
        return Unknown(draw(st.integers(65280, 65534)), draw(st.binary(max_size=20)))

    def records() -> list[ResourceRecord]:
        out = []
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["A", "AAAA", "NS", "CNAME", "PTR", "MX", "TXT", "SOA", "X"]))
            data = rdata(kind)
            cls = RRClass.CH if kind == "TXT" and draw(st.booleans()) else IN
            out.append(ResourceRecord(name(), data.rrtype, cls, draw(u32), data))
        return out

    questions = [Question(name(), draw(st.sampled_from([1, 2, 5, 6, 12, 15, 16, 28, 255, 65280])),
                          draw(st.sampled_from([1, 3, 255])))
                 for _ in range(draw(st.integers(0, 2)))]
    return DNSMessage(draw(u16), qr=draw(st.booleans()), opcode=draw(st.sampled_from([0, 1, 2, 4])),
                      aa=draw(st.booleans()), tc=draw(st.booleans()), rd=draw(st.booleans()),
                      ra=draw(st.booleans()), z=draw(st.integers(0, 1)), ad=draw(st.booleans()),
                      cd=draw(st.booleans()), rcode=draw(st.integers(0, 15)), questions=questions,
                      answers=records(), authority=records(), additional=records())


def _dtext(name: dns.name.Name) -> str:
    return "" if name == dns.name.root else name.to_text(omit_final_dot=True)


def _rdata_key(rrtype: int, text: str):
    if rrtype == RRType.AAAA:
        return ipaddress.IPv6Address(text)  # dnspython writes ::ffff:1.2.3.4, ipaddress ::ffff:102:304
    if text.startswith("\\#"):
        parts = text.split()
        return (parts[1], "".join(parts[2:]))  # dnspython cuts long hex into 32-digit chunks
    if rrtype in (RRType.NS, RRType.CNAME, RRType.PTR, RRType.MX, RRType.SOA):
        return text.lower()  # dnspython holds these as equal regardless of case (RFC 4034 6.2)
    return text


def _our_rrsets(section) -> list[tuple]:
    # dnspython merges a section's records into RRsets: by name (case-insensitively), class and
    # type, the TTL being the least, duplicates dropped. It also reads a TTL with the top bit set
    # as 0 (RFC 2181 8), where our codec keeps the value as it came, and keeps one SOA or CNAME
    # per RRset.
    groups: dict[tuple, list] = {}
    for r in section:
        ttl = r.ttl if r.ttl < 2**31 else 0
        g = groups.setdefault((canonical(r.name), int(r.type), int(r.cls)), [r.name, ttl, {}])
        g[1] = min(g[1], ttl)
        if r.type in (RRType.SOA, RRType.CNAME):  # singleton types: dnspython keeps the last
            g[2].clear()
        g[2].setdefault(_rdata_key(r.type, r.data.to_text()), None)
    return [(g[0], t, c, g[1], sorted(map(str, g[2]))) for (_, t, c), g in groups.items()]


def _their_rrsets(section) -> list[tuple]:
    return [(_dtext(s.name), int(s.rdtype), int(s.rdclass), s.ttl,
             sorted(str(_rdata_key(int(s.rdtype), rd.to_text())) for rd in s)) for s in section]


@examples(250)
@given(msg=messages(), compress=st.booleans())
def test_dnspython_reads_what_we_write(msg: DNSMessage, compress: bool) -> None:
    data = msg.encode(compress=compress)
    theirs = dns.message.from_wire(data)
    flags = int(theirs.flags)
    assert theirs.id == msg.id
    assert [bool(flags & f) for f in (dns.flags.QR, dns.flags.AA, dns.flags.TC, dns.flags.RD,
                                      dns.flags.RA, dns.flags.AD, dns.flags.CD)] == \
        [msg.qr, msg.aa, msg.tc, msg.rd, msg.ra, msg.ad, msg.cd]
    assert ((flags >> 6) & 1, theirs.opcode(), theirs.rcode()) == (msg.z, msg.opcode, msg.rcode)
    assert [(_dtext(q.name), q.rdtype, q.rdclass) for q in theirs.question] == \
        [(q.name, q.type, q.cls) for q in msg.questions]
    for ours, their in zip(msg.sections, (theirs.answer, theirs.authority, theirs.additional)):
        assert _our_rrsets(ours) == _their_rrsets(their)
    assert DNSMessage.decode(data) == msg


@st.composite
def dnspython_messages(draw: st.DrawFn) -> dns.message.Message:
    def dname() -> dns.name.Name:
        return dns.name.Name(tuple(draw(st.lists(labels, max_size=3).filter(_fits))) + (b"",))

    IN_, ANYC = dns.rdataclass.IN, dns.rdataclass.ANY
    T = dns.rdatatype

    def rdata():
        kind = draw(st.sampled_from(["A", "AAAA", "NS", "CNAME", "PTR", "MX", "TXT", "SOA", "X"]))
        if kind == "A":
            return dns.rdata.from_text(IN_, T.A, str(ipaddress.IPv4Address(draw(u32))))
        if kind == "AAAA":
            return dns.rdata.from_text(IN_, T.AAAA, str(ipaddress.IPv6Address(draw(st.binary(min_size=16, max_size=16)))))
        if kind in ("NS", "CNAME", "PTR"):
            cls = {"NS": dns.rdtypes.ANY.NS.NS, "CNAME": dns.rdtypes.ANY.CNAME.CNAME,
                   "PTR": dns.rdtypes.ANY.PTR.PTR}[kind]
            return cls(IN_, getattr(T, kind), dname())
        if kind == "MX":
            return dns.rdtypes.ANY.MX.MX(IN_, T.MX, draw(u16), dname())
        if kind == "TXT":
            return dns.rdtypes.ANY.TXT.TXT(IN_, T.TXT, draw(st.lists(st.binary(max_size=30), min_size=1, max_size=3)))
        if kind == "SOA":
            return dns.rdtypes.ANY.SOA.SOA(IN_, T.SOA, dname(), dname(), *(draw(u32) for _ in range(5)))
        return dns.rdata.GenericRdata(IN_, draw(st.integers(65280, 65534)), draw(st.binary(max_size=20)))

    query = dns.message.make_query(dname(), draw(st.sampled_from([T.A, T.AAAA, T.MX, T.ANY, T.SOA])),
                                   draw(st.sampled_from([IN_, ANYC])))
    query.id = draw(u16)
    msg = query
    if draw(st.booleans()):
        msg = dns.message.make_response(query)
        msg.flags |= draw(st.sampled_from([0, dns.flags.AA, dns.flags.TC | dns.flags.RA]))
        msg.set_rcode(draw(st.sampled_from([0, 2, 3, 5])))
        for section in (msg.answer, msg.authority, msg.additional):
            for _ in range(draw(st.integers(0, 3))):
                rd = rdata()
                section.append(dns.rrset.from_rdata(dname(), draw(st.integers(0, 2**31 - 1)), rd))
    return msg


@examples(250)
@given(theirs=dnspython_messages())
def test_we_read_what_dnspython_writes(theirs: dns.message.Message) -> None:
    data = theirs.to_wire()
    ours = DNSMessage.decode(data)
    again = dns.message.from_wire(data)  # the same bytes as dnspython reads them
    flags = int(again.flags)
    assert ours.id == theirs.id
    assert (ours.qr, ours.aa, ours.tc, ours.rd, ours.ra) == tuple(
        bool(flags & f) for f in (dns.flags.QR, dns.flags.AA, dns.flags.TC, dns.flags.RD, dns.flags.RA))
    assert (ours.opcode, ours.rcode) == (theirs.opcode(), theirs.rcode())
    assert [(q.name, q.type, q.cls) for q in ours.questions] == \
        [(_dtext(q.name), q.rdtype, q.rdclass) for q in theirs.question]
    for mine, their, orig in zip(ours.sections, (again.answer, again.authority, again.additional),
                                 (theirs.answer, theirs.authority, theirs.additional)):
        assert _our_rrsets(mine) == _their_rrsets(their)
        assert len(mine) == sum(len(s) for s in orig)
        for r in mine:
            assert isinstance(r.data, Unknown) == (r.type >= 65280)


def test_we_read_dnspython_edns() -> None:
    query = dns.message.make_query("www.example.com", "AAAA", use_edns=0, payload=1232)
    ours = DNSMessage.decode(query.to_wire())
    (opt,) = ours.additional
    assert (opt.name, opt.type, opt.cls, opt.data) == ("", RRType.OPT, 1232, OPT(()))
    assert ours.questions == (Question("www.example.com", RRType.AAAA),)


@examples(150)
@given(msg=messages())
def test_round_trip(msg: DNSMessage) -> None:
    assert DNSMessage.decode(msg.encode()) == msg
    assert DNSMessage.decode(msg.encode(compress=False)) == msg


@examples(150)
@given(msg=messages(), limit=st.integers(0, 600))
def test_limited_property(msg: DNSMessage, limit: int) -> None:
    try:
        data = encode_limited(msg, limit)
    except ValueError:
        assert len(DNSMessage(0, questions=msg.questions).encode()) > limit
        return
    back = DNSMessage.decode(data)
    assert len(data) <= limit
    for kept, full in zip(back.sections[:2], msg.sections[:2]):
        assert full[:len(kept)] == kept
    dropped = len(back.answers) < len(msg.answers) or len(back.authority) < len(msg.authority)
    assert back.tc == (msg.tc or dropped)


# -- robustness -------------------------------------------------------------------------------------
def _valid_wire() -> st.SearchStrategy[bytes]:
    return st.one_of(messages().map(lambda m: m.encode()),
                     dnspython_messages().map(lambda m: m.to_wire()))


@examples(300)
@given(data=st.one_of(st.binary(max_size=120), mutated(_valid_wire())))
def test_any_bytes_decode_or_malformed(data: bytes) -> None:
    try:
        msg = DNSMessage.decode(data)
    except MalformedPacket as exc:
        assert exc.layer == "dns" and exc.reason in REASONS, exc
        with pytest.raises(MalformedPacket) as again:
            DNSMessage.decode(memoryview(data))
        assert again.value.reason == exc.reason
        return
    assert DNSMessage.decode(memoryview(data)) == msg
    # Whatever decodes can be written again, and reads back the same.
    assert DNSMessage.decode(msg.encode()) == msg
    msg.to_text()
    msg.summary()


# -- EDNS(0) (RFC 6891), against dnspython both ways -----------------------------------------------
def _options() -> st.SearchStrategy[tuple[EdnsOption, ...]]:
    cookie = st.one_of(st.binary(min_size=8, max_size=8),
                       st.binary(min_size=16, max_size=40)).map(lambda d: EdnsOption(10, d))
    other = st.builds(EdnsOption, st.sampled_from([3, 12, 100, 65001]), st.binary(max_size=30))
    return st.lists(st.one_of(cookie, other), max_size=4).map(tuple)


edns_values = st.builds(Edns, payload=u16, version=st.integers(0, 255), do=st.booleans(),
                        z=st.integers(0, 0x7FFF), ext_rcode=st.integers(0, 255), options=_options())


@examples(200)
@given(edns=edns_values, response=st.booleans(), low=st.integers(0, 15))
def test_dnspython_reads_our_edns(edns: Edns, response: bool, low: int) -> None:
    query = make_query("www.example.com", RRType.A, 0x1234, edns=edns)
    msg = DNSMessage.decode(query.encode())
    assert msg.edns == edns and msg.full_rcode == (edns.ext_rcode << 4) | 0
    if response:
        msg = make_response(query, rcode=(edns.ext_rcode << 4) | low, edns=replace(edns, ext_rcode=0))
    theirs = dns.message.from_wire(msg.encode())
    assert (theirs.edns, theirs.payload) == (edns.version, edns.payload)
    assert theirs.ednsflags & 0xFFFF == edns.flags
    assert bool(theirs.ednsflags & dns.flags.DO) == edns.do
    assert [(int(o.otype), o.to_wire()) for o in theirs.options] == [(o.code, o.data) for o in edns.options]
    assert theirs.rcode() == ((edns.ext_rcode << 4) | (low if response else 0))
    assert DNSMessage.decode(msg.encode()) == msg


@examples(200)
@given(version=st.integers(0, 255), payload=st.integers(512, 65535), do=st.booleans(),
       flags=st.integers(0, 0x7FFF), options=_options(), rcode=st.sampled_from([0, 3, 16, 23, 4095]))
def test_we_read_dnspython_edns_options_flags_and_rcode(version: int, payload: int, do: bool, flags: int,
                                                       options: tuple[EdnsOption, ...], rcode: int) -> None:
    theirs = dns.message.make_query("www.example.com", "A", use_edns=version, payload=payload,
                                    ednsflags=flags | (dns.flags.DO if do else 0),
                                    options=[dns.edns.GenericOption(o.code, o.data) for o in options])
    ours = DNSMessage.decode(theirs.to_wire())
    assert ours.edns == Edns(payload, version, do, flags, 0, options)
    reply = dns.message.make_response(theirs)
    reply.set_rcode(rcode)
    back = DNSMessage.decode(reply.to_wire())
    assert back.full_rcode == rcode and back.rcode == rcode & 0xF
    assert back.edns is not None and back.edns.ext_rcode == rcode >> 4


def test_we_read_dnspython_want_dnssec_nsid_and_cookie() -> None:
    theirs = dns.message.make_query("example.com", "SOA", want_dnssec=True,
                                    options=[dns.edns.NSIDOption(b""),
                                             dns.edns.CookieOption(b"\x01" * 8, b"\x02" * 16)])
    edns = DNSMessage.decode(theirs.to_wire()).edns
    assert edns is not None and edns.do and edns.version == 0 and edns.z == 0
    assert edns.options == (EdnsOption(3), EdnsOption(10, b"\x01" * 8 + b"\x02" * 16))
    assert edns.option(10).data[:8] == b"\x01" * 8 and edns.option(12) is None


def test_opt_known_bytes() -> None:
    # The bytes dig 9.18 sends for "dig +nsid +dnssec +ednsflags=0x80 +ednsopt=100:0102" (captured).
    wire = bytes.fromhex("5a830120000100000000000103777777076578616d706c6503636f6d000001000100002904d00000"
                         "8080001600030000000a0008c7a4068192da3e91006400020102")
    msg = DNSMessage.decode(wire)
    assert msg.edns == Edns(1232, 0, True, 0x80, 0, (EdnsOption(3), EdnsOption(10, bytes.fromhex("c7a4068192da3e91")),
                                                      EdnsOption(100, b"\x01\x02")))
    assert msg.encode() == wire


def test_opt_rdata_that_overruns_is_malformed() -> None:
    q = header(qd=1, ar=1, flags=0x0100) + Q_WWW_A
    malformed(q + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x03\x00\x0a\x00", "bad-rdata", "an option needs 4")
    malformed(q + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x05\x00\x0a\x00\x08\x01", "bad-rdata", "option 10")


def test_opt_with_class_255_is_still_opt() -> None:
    # The CLASS of an OPT is a payload size: 255 is not class ANY here.
    msg = DNSMessage.decode(make_query("a.example", RRType.A, 1, edns=Edns(255, options=(EdnsOption(3),))).encode())
    assert msg.edns == Edns(255, options=(EdnsOption(3),))


def test_edns_error_finds_what_a_server_must_refuse() -> None:
    from minternet.wire.dns import edns_error
    q = make_query("a.example", RRType.A, 1, edns=Edns())
    assert edns_error(q) is None and edns_error(make_query("a.example", RRType.A, 1)) is None
    opt = Edns().record()
    assert edns_error(replace(q, additional=(opt, opt))) == "2 OPT records"
    assert edns_error(replace(q, additional=(), answers=(opt,))) == "an OPT record in the answer section"
    assert edns_error(replace(q, additional=(), authority=(opt,))) == "an OPT record in the authority section"
    assert "not the root" in edns_error(replace(q, additional=(replace(opt, name="example"),)))


def test_extended_rcode_needs_an_opt() -> None:
    q = make_query("a.example", RRType.A, 1, edns=Edns())
    r = make_response(q, rcode=Rcode.BADVERS, edns=Edns())
    assert (r.rcode, r.full_rcode, r.edns.ext_rcode) == (Rcode.NOERROR, Rcode.BADVERS, 1)
    with pytest.raises(ValueError, match="rcode"):
        make_response(q, rcode=Rcode.BADVERS).encode()


def test_edns_to_text_like_dig_9_18() -> None:
    # Lines as dig 9.18.49 printed them for the same OPT records (checked with the real dig).
    q = make_query("www.example.com", RRType.A, 7)
    r = make_response(q, rcode=Rcode.BADVERS, edns=Edns(1232, do=True, z=0x80, options=(
        EdnsOption(3, b"ns1.example"), EdnsOption(10, bytes.fromhex("cdb3a82606104e8d0100000011223344aabbccddeeff0011")),
        EdnsOption(100, b"\x01\x02ab"), EdnsOption(100))))
    lines = r.to_text({10: "(good)"}).splitlines()
    assert lines[0] == ";; ->>HEADER<<- opcode: QUERY, status: BADVERS, id: 7"
    assert lines[1].endswith("ADDITIONAL: 1")
    assert lines[2:10] == ["", ";; OPT PSEUDOSECTION:", "; EDNS: version: 0, flags: do; MBZ: 0x0080, udp: 1232",
                           '; NSID: 6e 73 31 2e 65 78 61 6d 70 6c 65 ("ns1.example")',
                           "; COOKIE: cdb3a82606104e8d0100000011223344aabbccddeeff0011 (good)",
                           '; OPT=100: 01 02 61 62 ("..ab")', "; OPT=100:", ";; QUESTION SECTION:"]
    assert "ADDITIONAL SECTION" not in r.to_text()
    assert Edns(1232).to_text() == "EDNS: version: 0, flags:; udp: 1232"
    assert "BADVERS" in r.summary()
