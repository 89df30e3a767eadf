"""`minternet dig` in the simulation: the host comes first, then dig's own arguments."""

from __future__ import annotations

import pytest

from minternet.cli import main


def dig(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["dig", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_dig_asks_the_hosts_resolver(capsys):
    code, out, _ = dig(capsys, "client", "www.example.com")
    assert code == 0
    assert "status: NOERROR" in out and "example.com.\t300\tIN\tA\t10.0.2.10" in out
    assert ";; SERVER: 10.0.1.53#53(UDP)" in out  # the client's configured resolver


def test_dig_type_server_and_plus_flags_anywhere(capsys):
    code, out, _ = dig(capsys, "client", "+norecurse", "example.com", "@10.0.2.53", "NS")
    assert code == 0
    assert ";example.com.\t\tIN\tNS" in out
    assert "flags: qr aa;" in out  # RD=0 asked, the authoritative server answered itself
    assert ";; SERVER: 10.0.2.53#53(UDP)" in out


def test_dig_from_another_host(capsys):
    code, out, _ = dig(capsys, "server", "www.example.com", "--walk")
    assert code == 0 and "asked" in out and "10.0.2.10" in out


def test_the_old_from_spelling_names_the_new_one(capsys):
    err = usage_error(capsys, "dig", "www.example.com", "MX", "--from", "server")
    assert err.splitlines()[0].startswith("usage: minternet dig HOST NAME [TYPE] [@SERVER]")
    assert "minternet dig: error: the host comes first: minternet dig server www.example.com MX" in err


def test_a_name_without_a_host_gets_the_same_hint(capsys):
    err = usage_error(capsys, "dig", "www.example.com")
    assert "minternet dig: error: the host comes first: minternet dig client www.example.com" in err
    err = usage_error(capsys, "dig", "www.example.com", "MX")
    assert "'www.example.com' is not a host of this network; the host comes first: " \
           "minternet dig client www.example.com MX" in err


def test_an_unknown_host_that_is_no_dns_name_lists_the_hosts(capsys):
    code, _, err = dig(capsys, "clinet", "www.example.com")
    assert code == 2 and "no host or router named 'clinet'" in err


def test_bad_type_and_too_many_words(capsys):
    err = usage_error(capsys, "dig", "client", "www.example.com", "QQ")
    assert "minternet dig: error: unknown record type 'QQ' (try: A, NS" in err
    err = usage_error(capsys, "dig", "client", "www.example.com", "A", "extra")
    assert "unrecognized arguments: extra (minternet dig HOST NAME [TYPE] [@SERVER])" in err


def test_os_has_no_simulated_host(capsys):
    err = usage_error(capsys, "dig", "--os", "client", "www.example.com", "A", "@127.0.0.1")
    assert "with --os there is no simulated host: minternet dig --os NAME [TYPE] @SERVER" in err
    code, _, err = dig(capsys, "--os", "www.example.com")
    assert code == 2 and "with --os, say which server to ask: @ADDRESS" in err


def test_dig_edns_flags_as_dig_9_18_spells_them(capsys):
    code, out, _ = dig(capsys, "client", "example.com", "@10.0.2.53", "+dnssec", "+ednsflags=0x80",
                       "+ednsopt=100:0102", "+norecurse")
    assert code == 0
    lines = out.splitlines()
    at = lines.index(";; OPT PSEUDOSECTION:")
    assert lines[at + 1] == "; EDNS: version: 0, flags: do; udp: 1232"  # DO copied, 0x80 cleared
    assert lines[at + 2].startswith("; COOKIE: ") and lines[at + 2].endswith(" (good)")
    assert lines[at + 3] == ";; QUESTION SECTION:"  # option 100 not echoed
    # +ednsflags never sets DO: dig 9.18 masks it off ("flags:;" in its own +qr), only +dnssec sets it.
    _, out, _ = dig(capsys, "client", "example.com", "@10.0.2.53", "+ednsflags=0x8000", "+norecurse")
    assert "; EDNS: version: 0, flags:; udp: 1232" in out
    _, out, _ = dig(capsys, "client", "+edns=1", "+noednsneg", "example.com", "@10.0.2.53")
    assert "status: BADVERS" in out and "; EDNS: version: 0," in out and "ANSWER: 0" in out
    _, out, _ = dig(capsys, "client", "+edns=1", "example.com", "@10.0.2.53")
    assert out.startswith(";; BADVERS, retrying with EDNS version 0.\n") and "status: NOERROR" in out
    _, out, _ = dig(capsys, "client", "example.com", "+noedns", "+tcp")
    assert "OPT PSEUDOSECTION" not in out and ";; SERVER: 10.0.1.53#53(TCP)" in out
    _, out, _ = dig(capsys, "client", "example.com", "+nocookie", "+bufsize=4096")
    assert "; EDNS: version: 0, flags:; udp: 1232" in out and "COOKIE" not in out
    assert "unknown dig option +bogus" in usage_error(capsys, "dig", "client", "example.com", "+bogus")
    assert "+bufsize: 70000 is out of range" in usage_error(capsys, "dig", "client", "example.com", "+bufsize=70000")
