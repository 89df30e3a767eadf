"""HTTPS and HTTP/2: the simulated internet's CA, TLS 1.3 over our TCP, ALPN, HTTP/2 streams on
one connection, the key log that lets tshark decrypt our pcaps, and the same timeline per seed."""

from __future__ import annotations

import asyncio
import datetime
import os
import shutil
import ssl
import subprocess

import pytest
from application.http.httputil import SERVER, two_hosts
from cryptography.hazmat.primitives.asymmetric import ed25519

from minternet.application.http import HTTPClient, Request, Response, builtin_site, fetch, serve
from minternet.application.tls import CertificateAuthority
from minternet.application.tls.ca import NOT_AFTER, NOT_BEFORE
from minternet.application.http.server import SIM_EPOCH
from minternet.sim.example import example_text
from minternet.sim.topology import loads


async def echo(request: Request) -> Response:
    return Response.text(f"{request.method} {request.target} HTTP/{request.http_version} "
                         f"host={request.headers['host']} body={len(request.body)}\n")


@pytest.fixture
def net():
    net = two_hosts(delay="25ms")  # 50 ms RTT
    net["client"].stub_resolver.add_host("server", SERVER)
    yield net
    net.close()


def test_ca_issues_ed25519_certificates_valid_in_simulated_and_wall_clock_time():
    ca = CertificateAuthority(rng=__import__("random").Random(1))
    issued = ca.issue(["www.example.com", "10.0.0.2"])
    assert ca.issue(["www.example.com", "10.0.0.2"]) is issued  # cached
    assert isinstance(issued.certificate.public_key(), ed25519.Ed25519PublicKey)
    assert issued.certificate.issuer == ca.subject
    sim_now = datetime.datetime.fromtimestamp(SIM_EPOCH, datetime.timezone.utc)
    wall_now = datetime.datetime.now(datetime.timezone.utc)
    for now in (sim_now, wall_now):
        assert NOT_BEFORE < now < NOT_AFTER
    # Keys and serials from the seed: the same seed, the same certificate bytes.
    again = CertificateAuthority(rng=__import__("random").Random(1)).issue(["www.example.com", "10.0.0.2"])
    assert again.cert_pem == issued.cert_pem
    assert CertificateAuthority().issue(["x"]).cert_pem != CertificateAuthority().issue(["x"]).cert_pem


def test_openssl_takes_ed25519_for_tls13(tmp_path):
    # This Python's OpenSSL verifies the chain and does TLS 1.3 with Ed25519 (memory BIOs, no network).
    from minternet.application.tls import client_context, server_context
    ca = CertificateAuthority()
    sctx = server_context(ca.issue(["www.example.com"]))
    cctx = client_context(cadata=ca.cert_pem)
    cin, cout, sin, sout = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c = cctx.wrap_bio(cin, cout, server_hostname="www.example.com")
    s = sctx.wrap_bio(sin, sout, server_side=True)
    for _ in range(4):
        for side in (c, s):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        sin.write(cout.read())
        cin.write(sout.read())
    assert c.version() == "TLSv1.3" and c.selected_alpn_protocol() == "h2"
    assert c.getpeercert()["subject"] == ((("commonName", "www.example.com"),),)


@pytest.mark.parametrize("version,expected", [(None, "2"), ("2", "2"), ("1.1", "1.1")])
def test_https_alpn_chooses_the_version_and_handlers_are_the_same(net, version, expected):
    async def main():
        server = await serve(net["server"], 443, echo, tls=True)
        r = await fetch(net["client"], "https://server/x?y=1", http_version=version, verbose=True)
        post = await fetch(net["client"], "https://server/p", "POST", body=b"z" * 100_000, http_version=version)
        await server.aclose()
        return r, post, server.stats
    r, post, stats = net.run_app(main())
    assert r.status == 200 and r.http_version == expected
    assert r.body == f"GET /x?y=1 HTTP/{expected} host=server body=0\n".encode()
    assert post.body == f"POST /p HTTP/{expected} host=server body=100000\n".encode()  # beyond h2's 64 KiB window
    assert stats["tls handshakes"] == 2
    lines = r.transcript
    assert "* TLSv1.3 (OUT), TLS handshake, Client hello (1):" in lines
    assert "* TLSv1.3 (IN), TLS handshake, CERT verify (15):" in lines
    assert any(line.startswith("* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384") for line in lines)
    assert f"* ALPN: server accepted {'h2' if expected == '2' else 'http/1.1'}" in lines


def test_https_checks_the_name_and_k_does_not(net):
    # www.test is only in the client's hosts table: the network's DNS does not give it to the
    # server, so the CA has not certified it for the server.
    net["client"].stub_resolver.add_host("www.test", SERVER)

    async def main():
        await serve(net["server"], 443, echo, tls=True)
        with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|match"):
            await fetch(net["client"], "https://www.test/")
        by_address = await fetch(net["client"], f"https://{SERVER}/")  # the address is certified
        insecure = await fetch(net["client"], "https://www.test/", verify=False)
        return by_address, insecure
    by_address, insecure = net.run_app(main())
    assert by_address.status == 200 and insecure.status == 200


def test_a_client_that_does_not_trust_the_ca_refuses(net, tmp_path):
    other = CertificateAuthority().write_pem(str(tmp_path / "other.pem"))

    async def main():
        await serve(net["server"], 443, echo, tls=True)
        net["client"].pki = None  # trusts no CA but the one in --cacert
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            await fetch(net["client"], "https://server/", cafile=other)
        mine = net.ca.write_pem(str(tmp_path / "ca.pem"))
        return await fetch(net["client"], "https://server/", cafile=mine)
    assert net.run_app(main()).status == 200


def test_http2_multiplexes_requests_on_one_connection(net):
    async def main():
        server = await serve(net["server"], 443, echo, tls=True)
        async with HTTPClient(net["client"]) as client:
            await client.get("https://server/warm")  # ARP and the handshake out of the way
            t0 = net.now
            answers = await asyncio.gather(*[client.get(f"https://server/{i}") for i in range(5)])
            took = net.now - t0
            return answers, client.connections_opened, server.stats["connections"], took
    answers, opened, accepted, took = net.run_app(main())
    assert [a.body.split()[1] for a in answers] == [f"/{i}".encode() for i in range(5)]
    assert opened == 1 and accepted == 1
    assert took < 60_000_000  # five streams in one round trip (50 ms), not five


def test_round_trips_to_first_byte_http_vs_https(net):
    """On a 50 ms RTT path: HTTP/1.1 answers after 2 RTT (TCP + request), HTTPS after 3
    (TCP + TLS 1.3 + request)."""
    async def timed(url, **kw):
        t0 = net.now
        r = await fetch(net["client"], url, **kw)
        assert r.status == 200
        return (net.now - t0) / 1e6

    async def main():
        await serve(net["server"], 80, echo)
        await serve(net["server"], 443, echo, tls=True)
        await timed("http://server/")  # ARP first
        return await timed("http://server/"), await timed("https://server/", http_version="1.1"), await timed("https://server/")
    plain, tls_h1, tls_h2 = net.run_app(main())
    assert 100 <= plain < 110, plain
    assert 150 <= tls_h1 < 160, tls_h1
    assert 150 <= tls_h2 < 160, tls_h2


def _example_run(seed: int, pcap_dir: str | None = None):
    net = loads(example_text(), seed=seed).network
    frames: list[tuple[int, int]] = []
    payload: list[bytes] = []
    iface = net["client"].interfaces["eth0"]
    iface.taps.append(lambda t, frame, _d: (frames.append((t, len(frame))), payload.append(bytes(frame))))
    if pcap_dir:
        net.capture(pcap_dir)

    async def main():
        await serve(net["server"], 443, builtin_site(), tls=True)
        async with HTTPClient(net["client"]) as client:
            return await asyncio.gather(*[client.get(f"https://www.example.com{p}") for p in ("/", "/about.html")])
    answers = net.run_app(main())
    net.close()
    return answers, frames, payload


def test_same_seed_same_timeline_different_ciphertext():
    a, frames_a, bytes_a = _example_run(3)
    b, frames_b, bytes_b = _example_run(3)
    assert [r.status for r in a] == [r.status for r in b] == [200, 200]
    assert frames_a == frames_b  # every frame's time and size
    assert bytes_a != bytes_b  # OpenSSL's randomness is its own: the ciphertext differs


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (make system-deps)")
def test_tshark_decrypts_http2_with_the_key_log(tmp_path):
    d = str(tmp_path / "pcap")
    _example_run(1, d)
    keylog = os.path.join(d, "sslkeylog.txt")
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in open(keylog).read()
    out = subprocess.run(["tshark", "-r", os.path.join(d, "client-eth0.pcap"), "-o", f"tls.keylog_file:{keylog}",
                          "-Y", "http2.type == 1", "-T", "fields", "-e", "http2.streamid", "-e", "http2.header.name"],
                         capture_output=True, text=True, timeout=120)
    rows = [line.split("\t") for line in out.stdout.splitlines() if line.strip()]
    streams = {sid for row in rows for sid in row[0].split(",")}
    assert {"1", "3"} <= streams, out.stdout + out.stderr
    assert any(":path" in row[1] for row in rows) and any(":status" in row[1] for row in rows)
    without = subprocess.run(["tshark", "-r", os.path.join(d, "client-eth0.pcap"), "-Y", "http2"],
                             capture_output=True, text=True, timeout=120)
    assert without.stdout.strip() == ""  # without the secrets, nothing of HTTP/2 shows
