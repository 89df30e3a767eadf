"""EDNS(0) with the real dig 9.18 against ``minternet dns-serve`` on loopback: every probe of
RFC 8906 / ISC's EDNS compliance tester, DNS cookies as dig checks them, and a slowloris of 300
silent TCP connections while UDP and TCP queries go on being answered."""

import os
import socket
import subprocess
import sys
import time

import pytest

from interop.test_dns_loopback import SRC, ZONE, dig, free_port, needs_dig

KILO = 'kilo    IN TXT {}\n'.format(" ".join(f'"{"k" * 200}"' for _ in range(5)))  # ~1 KB answer


def start(zone_path, *extra):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "minternet", "dns-serve", "--zone", str(zone_path),
                             "--port", str(port), "--address", "127.0.0.1", "-q", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": SRC})
    line = proc.stdout.readline()
    assert "UDP and TCP" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    zone = tmp_path_factory.mktemp("zones") / "example.com.zone"
    zone.write_text(ZONE + KILO)
    proc, port = start(zone, "--nsid", "ns1.example")
    yield port
    stop(proc)


def opt_lines(out):
    """The lines of dig's OPT PSEUDOSECTION."""
    lines = out.splitlines()
    start = lines.index(";; OPT PSEUDOSECTION:") + 1
    return lines[start:lines.index(";; QUESTION SECTION:", start)]


def status(out):
    return out.split("status: ")[1].split(",")[0]


def flags(out):
    return out.split(";; flags:")[1].split(";")[0].split()


@needs_dig
def test_edns0(server):
    out = dig(server, "+edns=0", "+nocookie", "example.com")
    assert status(out) == "NOERROR" and "; EDNS: version: 0, flags:; udp: 1232" in out


@needs_dig
def test_edns1_without_negotiation_is_badvers_with_version_0(server):
    out = dig(server, "+edns=1", "+noednsneg", "+nocookie", "example.com")
    assert status(out) == "BADVERS" and "; EDNS: version: 0," in out and "ANSWER: 0" in out


@needs_dig
def test_unknown_option_is_not_echoed(server):
    out = dig(server, "+ednsopt=100", "+nocookie", "example.com")
    assert status(out) == "NOERROR" and opt_lines(out) == ["; EDNS: version: 0, flags:; udp: 1232"]


@needs_dig
def test_unknown_flags_are_cleared(server):
    out = dig(server, "+ednsflags=0x80", "+nocookie", "example.com")
    assert "; EDNS: version: 0, flags:; udp: 1232" in out and "MBZ" not in out


@needs_dig
def test_dnssec_ok_is_copied(server):
    out = dig(server, "+dnssec", "+nocookie", "example.com")
    assert "; EDNS: version: 0, flags: do; udp: 1232" in out


@needs_dig
def test_cookie_is_good_and_checks_on_the_second_query(server):
    out = dig(server, "+cookie", "example.com")
    (line,) = [x for x in opt_lines(out) if x.startswith("; COOKIE: ")]
    assert line.endswith(" (good)") and "mismatch" not in out.lower()
    whole = line.split()[2]
    assert 2 * (8 + 8) <= len(whole) <= 2 * (8 + 32) and whole[16:18] == "01"  # RFC 9018 version 1
    again = dig(server, f"+cookie={whole}", "example.com")  # dig sends the server cookie back
    assert "(good)" in again and "mismatch" not in again.lower() and status(again) == "NOERROR"


@needs_dig
def test_nsid(server):
    out = dig(server, "+nsid", "example.com")
    assert '; NSID: 6e 73 31 2e 65 78 61 6d 70 6c 65 ("ns1.example")' in out


@needs_dig
def test_tcp_with_edns(server):
    out = dig(server, "+tcp", "+edns", "example.com")
    assert "(TCP)" in out and "; EDNS: version: 0" in out


@needs_dig
def test_bufsize_4096_gets_a_kilobyte_over_udp(server):
    out = dig(server, "+bufsize=4096", "kilo.example.com", "TXT")
    assert "tc" not in flags(out) and "(UDP)" in out and out.count("k" * 200) == 5
    assert "Truncated" not in out


@needs_dig
def test_bufsize_512_and_a_big_answer_is_truncated_with_an_opt(server):
    out = dig(server, "+bufsize=512", "+ignore", "kilo.example.com", "TXT")
    assert "tc" in flags(out) and "; EDNS: version: 0" in out


def _raw_udp(port, data):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(data, ("127.0.0.1", port))
        return s.recv(65535)


def test_two_opts_or_a_misplaced_one_is_formerr(server):
    import dns.message
    import dns.rcode
    q = dns.message.make_query("example.com", "A", use_edns=0).to_wire()
    opt = q[-11:]  # the OPT record dnspython wrote: root, type 41, payload, TTL, rdlength 0
    assert opt[:3] == b"\x00\x00\x29"
    two = q[:10] + b"\x00\x02" + q[12:] + opt
    misplaced = q[:6] + b"\x00\x01" + b"\x00\x00" + q[10:]  # the same record counted as an answer
    owned = q[:-11] + b"\x03www\x00" + opt[1:]
    for wire in (two, misplaced, owned):
        reply = dns.message.from_wire(_raw_udp(server, wire))
        assert reply.rcode() == dns.rcode.FORMERR and reply.id == int.from_bytes(q[:2], "big")


@needs_dig
def test_what_passed_without_edns_still_passes(server):
    assert status(dig(server, "+noedns", "example.com")) == "NOERROR"
    assert "OPT PSEUDOSECTION" not in dig(server, "+noedns", "example.com")
    assert status(dig(server, "example.com", "TYPE65280")) == "NOERROR"
    assert status(dig(server, "+opcode=15", "example.com")) == "NOTIMP"
    assert status(dig(server, "+qr", "example.com")) == "NOERROR"  # dig's own query printed, then the answer


def test_qdcount_0_and_2_are_formerr_and_qr_is_ignored(server):
    import dns.message
    import dns.rcode
    q = dns.message.make_query("example.com", "A", use_edns=0).to_wire()
    question = q[12:-11]
    for wire in (q[:4] + b"\x00\x00" + q[6:12] + q[-11:], q[:4] + b"\x00\x02" + q[6:12] + question * 2 + q[-11:]):
        assert dns.message.from_wire(_raw_udp(server, wire)).rcode() == dns.rcode.FORMERR
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(q[:2] + bytes((q[2] | 0x80,)) + q[3:], ("127.0.0.1", server))
        with pytest.raises(socket.timeout):
            s.recv(65535)


def test_our_dig_shows_the_opt_pseudosection_like_the_real_one(server):
    out = subprocess.run([sys.executable, "-m", "minternet", "dig", "--os", "@127.0.0.1", "-p", str(server),
                          "+dnssec", "+nsid", "+ednsopt=100:0102", "example.com"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": SRC})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    at = lines.index(";; OPT PSEUDOSECTION:")
    assert lines[at + 1] == "; EDNS: version: 0, flags: do; udp: 1232"
    assert lines[at + 2] == '; NSID: 6e 73 31 2e 65 78 61 6d 70 6c 65 ("ns1.example")'
    assert lines[at + 3].startswith("; COOKIE: ") and lines[at + 3].endswith(" (good)")
    assert lines[at + 4] == ";; QUESTION SECTION:"
    bad = subprocess.run([sys.executable, "-m", "minternet", "dig", "--os", "@127.0.0.1", "-p", str(server),
                          "+edns=1", "+noednsneg", "example.com"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": SRC})
    assert "status: BADVERS" in bad.stdout
    tcp = subprocess.run([sys.executable, "-m", "minternet", "dig", "--os", "@127.0.0.1", "-p", str(server),
                          "+bufsize=512", "kilo.example.com", "TXT"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": SRC})
    assert ";; Truncated, retrying in TCP mode." in tcp.stdout and tcp.stdout.count("k" * 200) == 5


@needs_dig
def test_slowloris_300_silent_tcp_connections(tmp_path):
    """300 connections that send nothing or half a length prefix: the server holds 150 and closes
    the longest-held silent one for each newcomer, so UDP and TCP queries are still answered; with
    a 2 s idle timeout every silent one is gone soon after."""
    zone = tmp_path / "example.com.zone"
    zone.write_text(ZONE)
    proc, port = start(zone, "--tcp-idle-timeout", "2")
    conns = []
    try:
        t0 = time.monotonic()
        for i in range(300):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                c.sendall(b"\x00")  # half of a length prefix
            conns.append(c)
        assert status(dig(port, "example.com")) == "NOERROR"
        out = dig(port, "+tcp", "example.com")
        assert status(out) == "NOERROR" and "(TCP)" in out
        time.sleep(2.5)
        closed = 0
        for c in conns:
            c.settimeout(0.01)
            try:
                closed += c.recv(1) == b""
            except (socket.timeout, ConnectionError):
                closed += isinstance(sys.exc_info()[1], ConnectionError)
        assert closed == 300  # evicted or timed out, every one
        assert status(dig(port, "+tcp", "example.com")) == "NOERROR"
        assert time.monotonic() - t0 < 15
    finally:
        for c in conns:
            c.close()
        stop(proc)
