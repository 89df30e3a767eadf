"""EDNS(0) as the authoritative server answers it, probe by probe (RFC 6891, RFC 8906's probes as
ISC's EDNS compliance tester sends them), with dnspython writing the queries and reading the
answers, so neither side is our own codec; then cookies (RFC 7873, RFC 9018) and the resolver's side."""

from __future__ import annotations

import asyncio

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import pytest

from minternet.application.dns import cookie as cookies
from minternet.application.dns.masterfile import parse_master
from minternet.application.dns.resolver import RecursiveResolver
from minternet.application.dns.server import AuthoritativeServer
from minternet.sim.network import Network
from minternet.wire.dns import DNSMessage, Edns, EdnsOption, Rcode, RRType, make_query, make_response

ZONE = """$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster ( 1 3600 600 86400 60 )
        IN NS  ns1
ns1     IN A   10.0.0.53
@       IN A   10.0.2.10
kilo    IN TXT {kilo}
big     IN TXT {big}
""".format(kilo=" ".join(f'"{"k" * 200}"' for _ in range(5)),  # ~1 KB: over 512, under 1232
           big=" ".join(f'"{"x" * 250}"' for _ in range(8)))  # ~2 KB: over 1232

SECRET = bytes(range(16))
CLIENT = ("192.0.2.7", 40000)


def server(**kw) -> AuthoritativeServer:
    kw.setdefault("cookie_secret", SECRET)
    kw.setdefault("now", lambda: 1_700_000_000)
    return AuthoritativeServer([parse_master(ZONE)], **kw)


def ask(query: dns.message.Message, srv: AuthoritativeServer | None = None, tcp: bool = False,
        raw: bytes | None = None) -> tuple[dns.message.Message, int]:
    """dnspython's reading of the server's answer to ``query``, and its size."""
    srv = srv or server()
    wire = srv.handle(raw if raw is not None else query.to_wire(), limit=65535 if tcp else None, client=CLIENT)
    assert wire is not None
    return dns.message.from_wire(wire), len(wire)


def q(name: str = "example.com", rdtype: str = "A", **kw) -> dns.message.Message:
    return dns.message.make_query(name, rdtype, **kw)


def test_plain_edns0_gets_an_opt_of_version_0_with_our_size():
    r, _ = ask(q(use_edns=0))
    assert r.rcode() == dns.rcode.NOERROR and r.edns == 0 and r.payload == 1232
    assert [a.to_text() for a in r.answer] == ["example.com. 300 IN A 10.0.2.10"]


def test_no_edns_gets_no_opt():
    r, _ = ask(q(use_edns=False))
    assert r.edns == -1 and r.rcode() == dns.rcode.NOERROR


def test_edns1_gets_badvers_with_version_0_and_no_answer():
    r, _ = ask(q(use_edns=1))
    assert r.rcode() == dns.rcode.BADVERS and r.edns == 0
    assert r.answer == [] and r.authority == []
    assert r.flags & 0xF == 0  # the header's part of 16 is 0; the rest is in the OPT TTL


def test_unknown_option_is_not_echoed():
    r, _ = ask(q(use_edns=0, options=[dns.edns.GenericOption(100, b"\x01\x02")]))
    assert r.edns == 0 and r.options == () and r.rcode() == dns.rcode.NOERROR


def test_unknown_flags_are_cleared_and_do_is_copied():
    r, _ = ask(q(use_edns=0, ednsflags=0x80))
    assert r.edns == 0 and r.ednsflags & 0xFFFF == 0
    r, _ = ask(q(use_edns=0, ednsflags=0x80 | dns.flags.DO))
    assert r.ednsflags & 0xFFFF == dns.flags.DO  # RFC 3225 3
    r, _ = ask(q(want_dnssec=True))
    assert r.ednsflags & dns.flags.DO


def test_nsid_only_when_configured():
    r, _ = ask(q(use_edns=0, options=[dns.edns.NSIDOption(b"")]))
    assert r.edns == 0 and r.options == ()
    r, _ = ask(q(use_edns=0, options=[dns.edns.NSIDOption(b"")]), server(nsid=b"ns1.example"))
    assert [(o.otype, o.nsid) for o in r.options] == [(dns.edns.NSID, b"ns1.example")]
    r, _ = ask(q(use_edns=0), server(nsid=b"ns1.example"))
    assert r.options == ()  # not asked for


def test_tcp_with_edns_gets_an_opt():
    r, _ = ask(q(use_edns=0), tcp=True)
    assert r.edns == 0 and r.payload == 1232


@pytest.mark.parametrize("bufsize, tc", [(4096, False), (1232, False), (1024, True), (512, True)])
def test_a_kilobyte_answer_fits_what_the_client_offers(bufsize, tc):
    r, size = ask(q("kilo.example.com", "TXT", use_edns=0, payload=bufsize))
    assert 512 < size <= min(bufsize, 1232) or tc
    assert bool(r.flags & dns.flags.TC) == tc and r.edns == 0  # TC or not, the OPT is there
    assert len(r.answer) == (0 if tc else 1)


def test_bufsize_512_and_a_big_answer_is_truncated_with_an_opt():
    r, size = ask(q("big.example.com", "TXT", use_edns=0, payload=512))
    assert r.flags & dns.flags.TC and r.edns == 0 and size <= 512


def test_never_more_than_our_size_nor_less_than_512():
    r, size = ask(q("big.example.com", "TXT", use_edns=0, payload=65535))
    assert r.flags & dns.flags.TC and size <= 1232  # ours caps theirs
    r, size = ask(q("kilo.example.com", "TXT", use_edns=0, payload=65535), server(max_udp=4096))
    assert not r.flags & dns.flags.TC and r.payload == 4096
    r, _ = ask(q("example.com", "A", use_edns=0, payload=100))  # under 512 counts as 512
    assert not r.flags & dns.flags.TC and r.answer
    r, size = ask(q("kilo.example.com", "TXT", use_edns=False))
    assert r.flags & dns.flags.TC and size <= 512
    r, size = ask(q("big.example.com", "TXT", use_edns=0, payload=512), tcp=True)
    assert not r.flags & dns.flags.TC and size > 1232


def _raw(query: DNSMessage) -> bytes:
    return query.encode()


def test_two_opts_or_a_misplaced_one_is_formerr():
    ours = make_query("example.com", RRType.A, 0x4242, edns=Edns())
    opt = Edns().record()
    from dataclasses import replace
    for bad in (replace(ours, additional=(opt, opt)), replace(ours, additional=(), answers=(opt,)),
                replace(ours, additional=(), authority=(opt,)),
                replace(ours, additional=(replace(opt, name="example.com"),))):
        srv = server()
        r, _ = ask(None, srv, raw=_raw(bad))  # type: ignore[arg-type]
        assert r.rcode() == dns.rcode.FORMERR and r.id == 0x4242 and r.answer == []
        assert srv.stats["edns_formerr"] == 1


def test_a_malformed_opt_is_formerr():
    wire = bytearray(make_query("example.com", RRType.A, 0x4343, edns=Edns(options=(EdnsOption(3),))).encode())
    wire[-1] = 9  # the option claims 9 bytes where there are none
    r, _ = ask(None, raw=bytes(wire))  # type: ignore[arg-type]
    assert r.rcode() == dns.rcode.FORMERR and r.id == 0x4343


def test_what_passes_without_edns_still_passes_with_it():
    r, _ = ask(q("example.com", "TYPE65280", use_edns=0))  # an unknown type: NODATA, not an error
    assert r.rcode() == dns.rcode.NOERROR and r.authority and r.edns == 0
    query = q(use_edns=0)
    query.set_opcode(15)
    r, _ = ask(query)
    assert r.rcode() == dns.rcode.NOTIMP and r.edns == 0
    ours = make_query("example.com", RRType.A, 5, edns=Edns())
    from dataclasses import replace
    for questions in ((), ours.questions * 2):
        r, _ = ask(None, raw=replace(ours, questions=questions).encode())  # type: ignore[arg-type]
        assert r.rcode() == dns.rcode.FORMERR and r.edns == 0
    assert server().handle(replace(ours, qr=True).encode(), client=CLIENT) is None


# -- cookies ----------------------------------------------------------------------------------------
def test_siphash_reference_vectors():
    # From the SipHash paper's reference implementation (vectors.h): key 00..0f, message 00..n-1.
    key = bytes(range(16))
    assert cookies.siphash24(key, b"").hex() == "310e0edd47db6f72"
    assert cookies.siphash24(key, bytes(range(8))).hex() == "6224939a79f5f593"
    assert cookies.siphash24(key, bytes(range(15))).hex() == "e545be4961ca29a1"


def test_rfc9018_appendix_a1_server_cookie():
    secret = bytes.fromhex("e5e973e5a6b2a43f48e7dc849e37bfcf")
    made = cookies.server_cookie(secret, bytes.fromhex("2464c4abcf10c957"), "198.51.100.100", 1559731985)
    assert made.hex() == "010000005cf79f111f8130c3eee29480"
    whole = bytes.fromhex("2464c4abcf10c957") + made
    assert cookies.check(secret, whole, "198.51.100.100", 1559731985 + 3000)
    assert not cookies.check(secret, whole, "198.51.100.101", 1559731985)  # another client
    assert not cookies.check(secret, whole, "198.51.100.100", 1559731985 + 3601)  # over an hour old
    assert not cookies.check(secret, whole, "198.51.100.100", 1559731985 - 301)  # from the future


def _cookie(r: dns.message.Message) -> bytes:
    (opt,) = [o for o in r.options if o.otype == dns.edns.COOKIE]
    return opt.to_wire()


def test_a_client_cookie_gets_a_server_cookie_that_then_checks():
    clock = [1_700_000_000]
    srv = server(now=lambda: clock[0])
    mine = b"\xa1" * 8
    r, _ = ask(q(use_edns=0, options=[dns.edns.CookieOption(mine, b"")]), srv)
    got = _cookie(r)
    assert got[:8] == mine and len(got) == 24 and got[8] == 1
    assert got[8:] == cookies.server_cookie(SECRET, mine, CLIENT[0], clock[0])
    clock[0] += 60
    r, _ = ask(q(use_edns=0, options=[dns.edns.CookieOption(mine, got[8:])]), srv)
    assert _cookie(r) == got and srv.stats["cookie_valid"] == 1  # fresh enough: kept
    clock[0] += 2000
    r, _ = ask(q(use_edns=0, options=[dns.edns.CookieOption(mine, got[8:])]), srv)
    renewed = _cookie(r)
    assert renewed != got and renewed[:8] == mine and cookies.check(SECRET, renewed, CLIENT[0], clock[0])
    r, _ = ask(q(use_edns=0, options=[dns.edns.CookieOption(mine, b"\x01" + bytes(15))]), srv)
    assert cookies.check(SECRET, _cookie(r), CLIENT[0], clock[0]) and srv.stats["cookie_bad"] == 1
    assert r.rcode() == dns.rcode.NOERROR and r.answer  # we do not require cookies: no BADCOOKIE


@pytest.mark.parametrize("length", [0, 1, 7, 9, 15, 41])
def test_a_cookie_of_a_bad_length_is_formerr(length):
    ours = make_query("example.com", RRType.A, 6, edns=Edns(options=(EdnsOption(10, bytes(length)),)))
    r, _ = ask(None, raw=ours.encode())  # type: ignore[arg-type]
    assert r.rcode() == dns.rcode.FORMERR and r.edns == 0 and r.options == ()


def test_no_cookie_without_a_secret():
    srv = AuthoritativeServer([parse_master(ZONE)])
    r, _ = ask(q(use_edns=0, options=[dns.edns.CookieOption(b"\x01" * 8, b"")]), srv)
    assert r.edns == 0 and r.options == ()


def no_question(options) -> bytes:
    m = dns.message.Message(id=77)
    m.use_edns(0, options=options)
    return m.to_wire()


def test_a_query_for_a_server_cookie_alone_is_noerror():
    # RFC 7873 5.4: QDCOUNT 0 and a COOKIE asks for a server cookie; with only a client cookie
    # "the response SHALL have the RCODE NOERROR" (BIND; `dig +header-only +cookie` sends it).
    r, _ = ask(None, raw=no_question([dns.edns.CookieOption(b"12345678", b"")]))  # type: ignore[arg-type]
    got = _cookie(r)
    assert got[:8] == b"12345678" and cookies.check(SECRET, got, CLIENT[0], 1_700_000_000)
    assert r.rcode() == dns.rcode.NOERROR and r.id == 77 and not r.question and not r.answer
    assert r.flags & dns.flags.QR and not r.flags & dns.flags.AA


def test_no_question_without_a_cookie_or_cookies_is_still_formerr():
    r, _ = ask(None, raw=no_question([]))  # type: ignore[arg-type]
    assert r.rcode() == dns.rcode.FORMERR
    srv = AuthoritativeServer([parse_master(ZONE)])  # no secret: no cookies made
    r, _ = ask(None, srv, raw=no_question([dns.edns.CookieOption(b"12345678", b"")]))  # type: ignore[arg-type]
    assert r.rcode() == dns.rcode.FORMERR


def test_serve_draws_a_secret_and_cookies_work_over_the_network():
    net = Network(seed=3)
    net.add_host("c", {"eth0": "10.0.0.1/24"})
    net.add_host("ns", {"eth0": "10.0.0.53/24"})
    net.connect("c:eth0", "ns:eth0", delay="1ms")
    srv = AuthoritativeServer([parse_master(ZONE)])
    net.spawn(srv.serve(net["ns"], 53))

    async def client():
        await asyncio.sleep(0.1)
        sock = net["c"].socket()
        sock.connect(("10.0.0.53", 53))
        mine = b"\x42" * 8
        sock.send(make_query("kilo.example.com", RRType.TXT, 77, edns=Edns(4096, options=(
            EdnsOption(10, mine),))).encode())
        return DNSMessage.decode(await sock.recv(65535))

    reply = net.run_app(client())
    net.close()
    assert not reply.tc and len(reply.answers) == 1  # ~1 KB over UDP
    got = reply.edns.option(10).data
    assert got[:8] == b"\x42" * 8 and cookies.check(srv.edns.cookie_secret, got, "10.0.0.1", 0)


# -- the resolver's side ----------------------------------------------------------------------------
def _resolver_net(handle):
    """A resolver on c asking ns (as its root) for example.com, ns answering through ``handle``."""
    net = Network(seed=5)
    net.add_host("c", {"eth0": "10.0.0.1/24"})
    net.add_host("ns", {"eth0": "10.0.0.53/24"})
    net.connect("c:eth0", "ns:eth0", delay="1ms")
    srv = AuthoritativeServer([parse_master(ZONE)])
    seen: list[DNSMessage] = []
    real = srv.handle

    def spy(data, limit=None, client=None):
        seen.append(DNSMessage.decode(data))
        return handle(real, data, limit, client)
    srv.handle = spy  # type: ignore[method-assign]
    net.spawn(srv.serve(net["ns"], 53))
    return net, RecursiveResolver(net["c"], [("ns1.example.com", "10.0.0.53")]), seen


def test_the_resolver_advertises_1232_and_gets_a_kilobyte_over_udp():
    net, resolver, seen = _resolver_net(lambda real, data, limit, client: real(data, limit, client))
    result = net.run_app(resolver.resolve("kilo.example.com", RRType.TXT))
    net.close()
    assert len(result.answers) == 1 and resolver.stats["tcp_retries"] == 0
    assert seen[0].edns == Edns(1232) and resolver.stats["edns_fallbacks"] == 0


@pytest.mark.parametrize("rcode", [Rcode.FORMERR, Rcode.NOTIMP, Rcode.BADVERS])
def test_the_resolver_asks_again_without_edns_a_server_that_does_not_do_it(rcode):
    def old_server(real, data, limit, client):
        query = DNSMessage.decode(data)
        if query.edns is not None:  # a server from before RFC 2671, or a broken middlebox
            return make_response(query, rcode=rcode, edns=Edns() if rcode > 15 else None).encode()
        return real(data, limit, client)
    net, resolver, seen = _resolver_net(old_server)
    first = net.run_app(resolver.resolve("example.com", RRType.A))
    second = net.run_app(resolver.resolve("example.com", RRType.SOA))
    net.close()
    assert first.addresses == ["10.0.2.10"] and second.answers
    assert [m.edns is not None for m in seen] == [True, False, False]  # remembered: asked without after
    assert resolver.stats["edns_fallbacks"] == 1


def test_a_resolver_without_edns_sends_no_opt():
    net, _, seen = _resolver_net(lambda real, data, limit, client: real(data, limit, client))
    resolver = RecursiveResolver(net["c"], [("ns1.example.com", "10.0.0.53")], edns_payload=None)
    result = net.run_app(resolver.resolve("kilo.example.com", RRType.TXT))
    net.close()
    assert seen[0].edns is None and resolver.stats["tcp_retries"] == 1 and len(result.answers) == 1
