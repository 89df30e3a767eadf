"""Our master-file reader against dnspython's: the same zone read by both gives the same RRsets
(names, types, TTLs, rdata wire bytes), for every syntax we read; and so does Debian's root.hints."""

from __future__ import annotations

from pathlib import Path

import pytest

dns_zone = pytest.importorskip("dns.zone")
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402

from minternet.application.dns.masterfile import parse_master, parse_records  # noqa: E402
from minternet.application.dns.zonefile import load_zone  # noqa: E402
from minternet.wire.dns import CompressCtx, canonical  # noqa: E402

ZONE = r"""; every syntax the reader knows, checked against dnspython
$ORIGIN Example.COM.
$TTL 1h
@       IN  SOA  ns1 hostmaster ( 2024010101 ; serial
                                  1d 2h 1000h 1h )
        IN  NS   ns1
        NS       ns2.example.net.
ns1         A    192.0.2.53
www     300 IN A 192.0.2.10
WWW     IN 600 A 192.0.2.11      ; same RRset, other case, a larger TTL: both keep 300
mail        AAAA 2001:db8::25
mapped      AAAA ::ffff:192.0.2.80
@           MX   10 mail
@           MX   10 MAIL         ; the same record: names in MX rdata compare without case
@           MX   20 mx2.example.net.
@           TXT  "v=spf1 mx -all" "second \"string\"" unquoted\059semi
alias       CNAME www
x           TYPE65280 \# 2 abcd
raw         A \# 4 c0000201
_sip._tcp   SRV  10 60 5060 sip
_sip._udp   SRV  0 0 0 .
@           CAA  0 issue "letsencrypt.org; validationmethods=dns-01"
@           CAA  128 tbs "a\"b c\\d\255"
@           CAA  0 iodef mailto:security@example.com
@           DS   60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
@           DS   20326 RSASHA256 2 ( E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237
                                     C7F8EC8D )
@           DNSKEY 257 3 8 ( AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3
                             +/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kv
                             R1AkUTV74bU= )
@           RRSIG A 8 2 3600 20240101000000 20231201000000 12345 example.com. dGVzdHNp Z25hdHVyZQ==
@           RRSIG NS RSASHA256 2 1h 1704067200 1701388800 12345 @ dGVzdHNpZ25hdHVyZQ==
@           NSEC host A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY HINFO TYPE65534
_443._tcp.www TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
@           SSHFP 4 2 0c72ac70b745ac19998811b131d662c9 ac69dbdbe7cb23e5b514b56664c5d3d6
@           NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .
@           NAPTR 100 50 s http+I2L+I2C+I2R "" _http._tcp
@           HTTPS 1 . alpn="h3,h2" ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1 port=8443 ech=AEn+DQBFKwAgACABWIHUGj4u+PIggYXcR5JF0gYk3dCRioBW8uJq9H4mKAAIAAEAAQABAANAEnB1YmxpYy50bHMtZWNoLmRldgAA
www         HTTPS 0 svc.example.net.
svc         SVCB 16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 no-default-alpn ipv4hint=192.0.2.1 key65333=ex1
svc         SVCB 1 . alpn="f\\\\oo\\,bar,h2" key667="hello\210qoo"
svc         SVCB 2 . key1000="" port="53"
$INCLUDE    hosts.inc
after       A    192.0.2.99       ; the origin, $TTL and owner are back to this file's
$INCLUDE    sub.inc sub
"""

HOSTS = """\
$TTL 5m
host        A    192.0.2.20
            AAAA 2001:db8::20
"""

SUB = """\
@           A    192.0.2.30
deep        CNAME @
"""


def _dnspython_rrsets(path: Path, origin: str | None) -> dict:
    zone = dns_zone.from_file(str(path), origin=origin, relativize=False, check_origin=False)
    out = {}
    for name, node in zone.nodes.items():
        for rds in node.rdatasets:
            # dnspython keeps RRSIGs in one rdataset per type covered
            out[(canonical(name.to_text(omit_final_dot=True)), int(rds.rdtype), int(rds.covers))] = (
                rds.ttl, sorted(rd.to_wire() for rd in rds))
    return out


def _wire(data) -> bytes:
    ctx = CompressCtx(False)
    data.encode(ctx)
    return bytes(ctx.buf)


def _our_rrsets(records) -> dict:
    out: dict = {}
    for rr in records:
        covers = rr.data.type_covered if rr.type == 46 else 0
        ttl, wires = out.setdefault((canonical(rr.name), int(rr.type), covers), (rr.ttl, []))
        assert ttl == rr.ttl, f"{rr.name} {rr.type}: TTLs {ttl} and {rr.ttl} in one RRset"
        wires.append(_wire(rr.data))
    return {k: (ttl, sorted(w)) for k, (ttl, w) in out.items()}


def test_every_syntax_as_dnspython_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "db.example").write_text(ZONE)
    (tmp_path / "hosts.inc").write_text(HOSTS)
    (tmp_path / "sub.inc").write_text(SUB)
    monkeypatch.chdir(tmp_path)  # dnspython opens $INCLUDE files from the current folder
    ours = load_zone(tmp_path / "db.example")
    theirs = _dnspython_rrsets(tmp_path / "db.example", None)
    mine = _our_rrsets(ours)
    assert mine.keys() == theirs.keys()
    for key in theirs:
        assert mine[key] == theirs[key], key
    # and what we print, dnspython reads back to the same bytes
    for rr in ours:
        back = dns.rdata.from_text(dns.rdataclass.IN, int(rr.type), rr.data.to_text())
        assert back.to_wire() == _wire(rr.data), rr.to_text()
    assert ours.warnings == [f"{tmp_path / 'db.example'}:10: TTL set to prior TTL (300)"]


def test_include_sets_origin_and_restores_it(tmp_path: Path) -> None:
    (tmp_path / "db.example").write_text(ZONE)
    (tmp_path / "hosts.inc").write_text(HOSTS)
    (tmp_path / "sub.inc").write_text(SUB)
    zone = load_zone(tmp_path / "db.example")
    assert [rr.ttl for rr in zone.get("host.example.com", 28)] == [300]
    assert [rr.ttl for rr in zone.get("after.example.com", 1)] == [3600]
    assert zone.get("deep.sub.example.com", 5)[0].data.target == "sub.Example.COM"


ROOT_HINTS = Path("/usr/share/dns/root.hints")


@pytest.mark.skipif(not ROOT_HINTS.exists(), reason="no /usr/share/dns/root.hints: Debian's dns-root-data "
                    "is not installed (make system-deps as root installs it)")
def test_debian_root_hints_as_dnspython_reads_them() -> None:
    records, warnings = parse_records(ROOT_HINTS.read_text(), path=str(ROOT_HINTS))
    assert warnings == []
    theirs = _dnspython_rrsets(ROOT_HINTS, ".")
    assert _our_rrsets(records) == theirs
    assert len([rr for rr in records if rr.type == 2]) == 13


def test_parse_master_reads_what_dnspython_writes() -> None:
    zone = dns_zone.from_text(ZONE.split("$INCLUDE")[0], relativize=False, check_origin=False)
    text = zone.to_text(relativize=False)
    ours = parse_master(text)
    assert _our_rrsets(ours) == {k: v for k, v in _our_rrsets(parse_master(ZONE.split("$INCLUDE")[0])).items()}


def test_zone_text_reads_back_equal(tmp_path: Path) -> None:
    (tmp_path / "db.example").write_text(ZONE)
    (tmp_path / "hosts.inc").write_text(HOSTS)
    (tmp_path / "sub.inc").write_text(SUB)
    zone = load_zone(tmp_path / "db.example")
    again = parse_master(zone.to_text())
    assert again == zone and again.warnings == []
