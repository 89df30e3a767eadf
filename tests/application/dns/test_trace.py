"""`minternet dig HOST NAME +trace` in the simulation, laid out as dig 9.18 lays out +trace."""

from __future__ import annotations

import re

import dns.rrset
import pytest

from minternet.application.dns.dig import dig_rr_text
from minternet.cli import main
from minternet.wire.dns import NS, SOA, TLSA, A, ResourceRecord

RECEIVED = re.compile(r";; Received (\d+) bytes from (\d+\.\d+\.\d+\.\d+)#53\(([^)]+)\) in (\d+) ms")


def blocks(out: str) -> list[list[str]]:
    """The output after dig's banner, cut at blank lines: one block per response."""
    assert out.startswith("\n; <<>> minternet dig <<>> ") and "\n;; global options: +cmd\n" in out
    body = out.split(";; global options: +cmd\n", 1)[1]
    assert body.endswith("\n\n")  # dig ends the last Received line with a blank line too
    return [b.split("\n") for b in body.rstrip("\n").split("\n\n")]


def test_trace_layout_as_dig_prints_it(capsys) -> None:
    assert main(["dig", "client", "www.example.com", "+trace"]) == 0
    out = capsys.readouterr().out
    got = blocks(out)
    assert [b[:-1] for b in got] == [
        [".\t\t\t172800\tIN\tNS\ta.root-servers.net."],
        ["com.\t\t\t172800\tIN\tNS\tns.nic.com."],
        ["example.com.\t\t172800\tIN\tNS\tns1.example.com."],
        ["www.example.com.\t300\tIN\tCNAME\texample.com.", "example.com.\t\t300\tIN\tA\t10.0.2.10"]]
    received = [RECEIVED.fullmatch(b[-1]) for b in got]
    assert all(received), [b[-1] for b in got]
    # the resolver first (named by its address, as given), then each server by its NS name
    assert [(m.group(2), m.group(3)) for m in received] == [
        ("10.0.1.53", "10.0.1.53"), ("10.0.4.53", "a.root-servers.net"), ("10.0.5.53", "ns.nic.com"),
        ("10.0.2.53", "ns1.example.com")]
    assert all(int(m.group(1)) > 12 for m in received)


def test_trace_record_lines_parse_with_dnspython(capsys) -> None:
    main(["dig", "client", "nope.example.com", "MX", "+trace"])
    lines = [line for b in blocks(capsys.readouterr().out) for line in b[:-1]]
    assert lines[-1].startswith("example.com.\t\t300\tIN\tSOA\tns1.example.com. hostmaster.example.com. ")
    for line in lines:
        name, ttl, cls, rtype, rdata = re.split(r"\s+", line, maxsplit=4)
        rrset = dns.rrset.from_text(name, int(ttl), cls, rtype, rdata)
        assert rrset.to_text().split() == line.split()


def test_walk_keeps_the_narrated_steps(capsys) -> None:
    assert main(["dig", "client", "www.example.com", "--walk"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(";; asked 10.0.4.53 (a server for .) about www.example.com A: ")
    assert "Received" not in out and ";; status: NOERROR" in out


def test_trace_from_a_server_that_does_not_answer(capsys) -> None:
    assert main(["dig", "client", "www.example.com", "+trace", "@10.0.9.9", "--timeout", "1"]) == 0
    out = capsys.readouterr().out
    assert ";; communications error to 10.0.9.9#53: " in out and ";; no servers could be reached" in out


@pytest.mark.parametrize("rr, text", [
    # what dig 9.18 printed for these records (run against `minternet dns-serve` on loopback)
    (ResourceRecord("", 2, 1, 86400, NS("a.root-servers.net")), ".\t\t\t86400\tIN\tNS\ta.root-servers.net."),
    (ResourceRecord("ns1.example.com", 1, 1, 3600, A("192.0.2.53")), "ns1.example.com.\t3600\tIN\tA\t192.0.2.53"),
    (ResourceRecord("_443._tcp.www.example.com", 1, 1, 172800, A("192.0.2.2")),
     "_443._tcp.www.example.com. 172800 IN\tA\t192.0.2.2"),
    (ResourceRecord("xxxxxxxxxxx.example.com", 1, 1, 2147483647, A("192.0.2.3")),
     "xxxxxxxxxxx.example.com. 2147483647 IN\tA\t192.0.2.3"),
    (ResourceRecord("_443._tcp.www.example.com", 52, 1, 3600, TLSA(3, 1, 1, bytes(32))),
     "_443._tcp.www.example.com. 3600\tIN\tTLSA\t3 1 1 " + "00" * 28 + " " + "00" * 4),
    (ResourceRecord("example.com", 6, 1, 60, SOA("ns1.example.com", "h.example.com", 1, 2, 3, 4, 5)),
     "example.com.\t\t60\tIN\tSOA\tns1.example.com. h.example.com. 1 2 3 4 5"),
])
def test_dig_columns(rr: ResourceRecord, text: str) -> None:
    assert dig_rr_text(rr) == text
