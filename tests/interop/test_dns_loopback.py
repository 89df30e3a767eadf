"""The same DNS server and resolver code on the operating system's UDP sockets, on loopback:
real dig queries our server, and our resolver queries it too."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import dns.rdatatype
import dns.rrset
import pytest
from dnszones import DB_LOCAL

SRC = str(Path(__file__).resolve().parents[2] / "src")
ZONE = """$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster ( 2026112601 3600 600 86400 60 )
        IN NS  ns1
ns1     IN A   127.0.0.1
@       IN A   10.0.2.10
www     IN CNAME @
mail    IN A   10.0.2.25
@       IN MX  10 mail
@       IN TXT "v=spf1 mx -all" "second string"
big     IN TXT {big}
sub     IN NS  ns.sub
ns.sub  IN A   10.9.9.9
""".format(big=" ".join(f'"{"x" * 200}"' for _ in range(6)))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    zone = tmp_path_factory.mktemp("zones") / "example.com.zone"
    zone.write_text(ZONE)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "minternet", "dns-serve", "--zone", str(zone),
                             "--port", str(port), "--address", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": SRC})
    line = proc.stdout.readline()
    assert "serving example.com on 127.0.0.1:" in line and "UDP and TCP" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def dig(port, *args):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1", *args],
                         capture_output=True, text=True, timeout=30)
    return out.stdout


needs_dig = pytest.mark.skipif(shutil.which("dig") is None,
                               reason="dig is not installed (make test installs bind9-dnsutils as root)")


@needs_dig
def test_dig_gets_authoritative_answers(server):
    out = dig(server, "www.example.com", "A")
    assert "status: NOERROR" in out and " aa" in out.split("flags:")[1].split(";")[0]
    assert "www.example.com.\t300\tIN\tCNAME\texample.com." in out
    assert "example.com.\t\t300\tIN\tA\t10.0.2.10" in out or "example.com.\t300\tIN\tA\t10.0.2.10" in out
    assert dig(server, "+short", "example.com", "MX").strip() == "10 mail.example.com."
    assert dig(server, "+short", "example.com", "TXT").strip() == '"v=spf1 mx -all" "second string"'


@needs_dig
def test_dig_nxdomain_has_soa_for_negative_caching(server):
    out = dig(server, "nope.example.com")
    assert "status: NXDOMAIN" in out
    assert "example.com.\t\t60\tIN\tSOA" in out or "example.com.\t60\tIN\tSOA" in out  # min(SOA TTL, minimum)


@needs_dig
def test_dig_referral_with_glue(server):
    out = dig(server, "+norecurse", "host.sub.example.com")
    assert "status: NOERROR" in out and "ANSWER: 0" in out
    assert "sub.example.com.\t300\tIN\tNS\tns.sub.example.com." in out
    assert "ns.sub.example.com.\t300\tIN\tA\t10.9.9.9" in out


@needs_dig
def test_big_answer_is_truncated_over_udp_and_whole_over_tcp(server):
    out = dig(server, "+ignore", "+bufsize=0", "+noedns", "big.example.com", "TXT")
    assert " tc" in out.split("flags:")[1].split(";")[0]
    full = dig(server, "+noedns", "big.example.com", "TXT")  # dig retries over TCP by itself
    assert "Truncated, retrying in TCP mode" in full and full.count("x" * 200) == 6
    assert "(TCP)" in dig(server, "+tcp", "example.com")


def test_our_resolver_retries_truncated_answers_over_tcp(server):
    out = subprocess.run([sys.executable, "-m", "minternet", "dig", "--os", "@127.0.0.1", "-p", str(server),
                          "--walk", "big.example.com", "TXT"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": SRC})
    assert out.returncode == 0, out.stderr
    answer = out.stdout.split("\n\n", 1)[1]  # after the steps: the records
    assert answer.count("x" * 200) == 6


@needs_dig
def test_refused_outside_our_zones(server):
    assert "status: REFUSED" in dig(server, "www.example.org")


def test_our_resolver_queries_it(server):
    """Our recursive resolver, on OS sockets, with the loopback server as its only 'root'."""
    out = subprocess.run([sys.executable, "-m", "minternet", "dig", "--os", "@127.0.0.1", "-p", str(server),
                          "--walk", "www.example.com"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": SRC})
    assert out.returncode == 0, out.stderr
    assert "asked 127.0.0.1" in out.stdout
    assert "www.example.com.\t300\tIN\tCNAME\texample.com." in out.stdout
    assert "example.com.\t300\tIN\tA\t10.0.2.10" in out.stdout
    assert ";; status: NOERROR" in out.stdout


def test_our_stub_query_on_os_sockets(server):
    out = subprocess.run([sys.executable, "-m", "minternet", "dig", "--os", "@127.0.0.1", "-p", str(server),
                          "nope.example.com"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": SRC})
    assert out.returncode == 0, out.stderr
    assert "status: NXDOMAIN" in out.stdout and ";; SERVER: 127.0.0.1#" in out.stdout


def test_malformed_queries_do_not_stop_the_server(server):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        for junk in (b"", b"\x00", b"\x12\x34\x01\x00\x00\x01" + b"\xff" * 20, os.urandom(64)):
            s.sendto(junk, ("127.0.0.1", server))
        time.sleep(0.2)
    if shutil.which("dig"):
        assert "status: NOERROR" in dig(server, "example.com")


@pytest.mark.skipif(os.geteuid() != 0, reason="a datagram from source port 0 needs a raw socket (root)")
def test_a_datagram_from_source_port_0_does_not_stop_the_server(server):
    import dns.message
    import dns.query
    query = dns.message.make_query("example.com", "A").to_wire()
    udp = (0).to_bytes(2, "big") + server.to_bytes(2, "big") + (8 + len(query)).to_bytes(2, "big") + b"\0\0" + query
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP) as raw:
        raw.sendto(udp, ("127.0.0.1", 0))  # UDP checksum 0: none (RFC 768), so the kernel accepts it
    time.sleep(0.3)
    reply = dns.query.udp(dns.message.make_query("example.com", "A"), "127.0.0.1", port=server, timeout=5)
    assert [r.to_text() for r in reply.answer] == ["example.com. 300 IN A 10.0.2.10"]
    tcp = dns.query.tcp(dns.message.make_query("example.com", "A"), "127.0.0.1", port=server, timeout=5)
    assert tcp.answer == reply.answer


def test_dig_reports_a_reply_with_the_wrong_id_and_waits_for_its_own():
    """Like real dig: ";; Warning: ID mismatch: expected ID ..., got ..." and the right reply after."""
    import threading

    import dns.message
    import dns.rrset
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(20)

    def serve_once():
        data, addr = sock.recvfrom(65535)
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text("www.example.com.", 60, "IN", "A", "192.0.2.1"))
        wrong = dns.message.make_response(query)
        wrong.id = (query.id + 1) % 65536
        sock.sendto(b"\x12", addr)  # not even a header
        sock.sendto(wrong.to_wire(), addr)
        sock.sendto(reply.to_wire(), addr)

    t = threading.Thread(target=serve_once)
    t.start()
    out = subprocess.run([sys.executable, "-m", "minternet", "dig", "--os", "www.example.com", "@127.0.0.1", "-p",
                          str(sock.getsockname()[1])], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "PYTHONPATH": SRC})
    t.join()
    sock.close()
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == ";; Warning: Message parser reports malformed message packet."
    assert lines[1].startswith(";; Warning: ID mismatch: expected ID ") and ", got " in lines[1]
    assert any(line.split() == ["www.example.com.", "60", "IN", "A", "192.0.2.1"] for line in lines)


# -- dig +trace, ours and the real one, down a hierarchy of three servers on loopback (issue 12) ----
# Each server on its own loopback address, all on one port (dig +trace asks every server on -p's
# port). The NS names are address literals, which dig's getaddrinfo takes as they are.
TRACE_ZONES = {
    "127.0.0.2": "$ORIGIN .\n$TTL 86400\n@ SOA 127.0.0.2. nstld.test. 1 1800 900 604800 86400\n"
                 "@ 518400 NS 127.0.0.2.\ncom. 172800 NS 127.0.0.3.\n",
    "127.0.0.3": "$ORIGIN com.\n$TTL 900\n@ SOA 127.0.0.3. nstld.test. 1 1800 900 604800 86400\n"
                 "@ 172800 NS 127.0.0.3.\nexample 172800 NS 127.0.0.4.\n",
    "127.0.0.4": "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n"
                 "@ 86400 NS 127.0.0.4.\nwww CNAME @\n@ A 192.0.2.10\n@ HTTPS 1 . alpn=\"h3,h2\" port=443\n",
}


def _serve(args: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "minternet", "dns-serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": SRC})
    line = proc.stdout.readline()
    assert "serving " in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def hierarchy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trace")
    port = free_port()
    procs = []
    try:
        for addr, text in TRACE_ZONES.items():
            (folder / f"{addr}.zone").write_text(text)
            procs.append(_serve(["--zone", str(folder / f"{addr}.zone"), "--address", addr, "--port", str(port),
                                 "-q"]))
        yield port
    finally:
        _stop(procs)


def _trace_body(out: str) -> list[str]:
    """The lines after ';; global options: +cmd', times and sizes blanked (they may differ)."""
    body = out.split(";; global options: +cmd\n", 1)[1]
    return [re.sub(r"^(;; Received )\d+( bytes from \S+) in \d+ ms$", r"\1N\2 in T ms", line)
            for line in body.split("\n")]


@needs_dig
@pytest.mark.parametrize("question", [["www.example.com"], ["nope.example.com"], ["example.com", "HTTPS"]])
def test_our_trace_is_real_digs_trace(hierarchy, question):
    port = hierarchy
    real = subprocess.run(["dig", "@127.0.0.2", "-p", str(port), *question, "+trace", "+time=2", "+tries=1"],
                          capture_output=True, text=True, timeout=60).stdout
    ours = subprocess.run([sys.executable, "-m", "minternet", "dig", "--os", *question, "@127.0.0.2", "-p",
                           str(port), "+trace"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": SRC}).stdout
    assert ";; Received" in real, real
    assert _trace_body(ours) == _trace_body(real)
    for line in _trace_body(ours):
        if line and not line.startswith(";"):
            name, ttl, cls, rtype, rdata = re.split(r"\s+", line, maxsplit=4)
            rrset = dns.rrset.from_text(name, int(ttl), cls, rtype, rdata)
            assert (rrset.name.to_text(), rrset.ttl, dns.rdatatype.to_text(rrset.rdtype)) == (name, int(ttl), rtype)


@needs_dig
def test_dns_serve_origin_for_debian_db_local(tmp_path):
    (tmp_path / "db.local").write_text(DB_LOCAL)
    (tmp_path / "db.warn").write_text(DB_LOCAL.replace("@\tIN\tA\t127.0.0.1", "@\tIN\tA\t127.0.0.1\n@ 60 A 127.0.0.2"))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "minternet", "dns-serve", "--zone", str(tmp_path / "db.local"),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": SRC})
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and f"{tmp_path / 'db.local'}:5: relative name '@' but no origin" in err
    proc = _serve(["--zone", str(tmp_path / "db.local"), "--origin", "localhost", "--port", str(port), "-q"])
    try:
        out = dig(port, "+noall", "+answer", "localhost", "AAAA")
        assert out == "localhost.\t\t604800\tIN\tAAAA\t::1\n"
    finally:
        _stop([proc])
    proc = _serve(["--zone", str(tmp_path / "db.warn"), "--origin", "localhost", "--port", str(port), "-q"])
    _stop([proc])
    assert f"minternet: warning: {tmp_path / 'db.warn'}:14: TTL set to prior TTL (604800)" in proc.stderr.read()
