"""HTTP/3 through the HTTP API: ``serve(host, 443, handler, tls=True, http3=True)`` answers the
same handler over HTTP/1.1, HTTP/2 (TCP + TLS) and HTTP/3 (QUIC on UDP 443), advertising HTTP/3
with Alt-Svc; ``fetch``/``HTTPClient`` with ``http_version="3"`` trust the simulated CA by default,
fall back to TCP like curl --http3 when nothing answers on UDP, and ``"3only"`` does not."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from application.http.httputil import SERVER, two_hosts

from minternet.application.http import HTTPClient, Request, Response, builtin_site, fetch, serve
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


def test_the_same_handler_serves_http11_http2_and_http3(net):
    async def main():
        server = await serve(net["server"], 443, echo, tls=True, http3=True)
        answers = {}
        for version in ("1.1", "2", "3"):
            answers[version] = await fetch(net["client"], "https://server/x?y=1", http_version=version)
        post = await fetch(net["client"], "https://server/p", "POST", body=b"z" * 100_000, http_version="3")
        await server.aclose()
        return answers, post, server
    answers, post, server = net.run_app(main())
    for version, r in answers.items():
        assert r.status == 200 and r.http_version == version
        assert r.body == f"GET /x?y=1 HTTP/{version} host=server body=0\n".encode()
    assert post.body == b"POST /p HTTP/3 host=server body=100000\n"
    # HTTP/1.1 and HTTP/2 say the origin speaks HTTP/3 on UDP 443 (RFC 7838).
    assert answers["1.1"].headers["alt-svc"] == answers["2"].headers["alt-svc"] == 'h3=":443"; ma=86400'
    assert server.stats["tls handshakes"] == 2 and server.stats["requests"] == 2
    assert server.h3.stats["connections"] == 2 and server.h3.stats["requests"] == 2
    assert server.h3.address == ("0.0.0.0", 443)


def test_http3_needs_tls_and_without_http3_no_alt_svc(net):
    async def main():
        with pytest.raises(ValueError, match="http3=True needs tls="):
            await serve(net["server"], 8443, echo, http3=True)
        await serve(net["server"], 443, echo, tls=True)
        return await fetch(net["client"], "https://server/")
    r = net.run_app(main())
    assert r.status == 200 and "alt-svc" not in r.headers


def test_http3_requests_at_once_share_one_quic_connection_and_the_handshake_is_told(net):
    async def main():
        server = await serve(net["server"], 443, echo, tls=True, http3=True)
        async with HTTPClient(net["client"], http_version="3", verbose=True) as client:
            await client.get("https://server/warm")
            t0 = net.now
            answers = await asyncio.gather(*[client.get(f"https://server/{i}") for i in range(5)])
            took = net.now - t0
            return answers, client, server.h3.stats["connections"], took
    answers, client, accepted, took = net.run_app(main())
    assert [a.body.split()[1] for a in answers] == [f"/{i}".encode() for i in range(5)]
    assert all(a.http_version == "3" for a in answers)
    assert client.connections_opened == client.quic_connections_opened == 1 and accepted == 1
    assert took < 60_000_000  # five streams in one round trip (50 ms)
    lines = client.transcript
    first = lines[:lines.index("* using HTTP/3") + 1]
    assert first[0] == f"* Resolved server to {SERVER} in 0.0 ms"  # the hosts table
    assert first[1] == f"*   Trying {SERVER}:443..."
    assert first[3] == "* ALPN: offers h3"
    assert first[4].startswith("* QUIC cipher selection: TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256")
    assert "* QUIC (OUT), Initial, TLS handshake, Client hello (1):" in first
    assert "* QUIC (IN), TLS handshake, Certificate (11):" in first
    assert "* QUIC (OUT), Handshake, TLS handshake, Finished (20):" in first
    assert "*  SSL certificate verify ok." in first
    assert first[-2] == f"* Connected to server ({SERVER}) port 443 (#0)"
    assert "> GET /warm HTTP/3" in lines and "< HTTP/3 200" in lines
    assert lines.count("* Re-using existing connection #0 with host server") == 5


def test_http3_falls_back_to_tcp_when_nothing_listens_on_udp_and_3only_does_not(net):
    async def main():
        await serve(net["server"], 443, echo, tls=True)  # HTTPS on TCP only
        t0 = net.now
        async with HTTPClient(net["client"], http_version="3", verbose=True) as client:
            r = await client.get("https://server/")
            again = await client.get("https://server/")  # no second try of QUIC
        took = net.now - t0
        with pytest.raises(ConnectionRefusedError):
            await fetch(net["client"], "https://server/", http_version="3only")
        return r, again, client, took
    r, again, client, took = net.run_app(main())
    assert r.status == again.status == 200 and r.http_version == "2"
    assert client.quic_connections_opened == 0 and client.connections_opened == 1
    assert any(line.startswith("* HTTP/3 to server port 443 failed (") and "falling back to TCP" in line
               for line in client.transcript)
    # The ICMP port unreachable ends the attempt after one round trip (not the 3 s fallback
    # timer): 1 RTT of QUIC, then TCP + TLS + request, then the second request: 5 RTT.
    assert 250_000_000 <= took < 300_000_000, took


def test_http3_trusts_only_the_simulated_ca_and_k_skips_the_check(net):
    async def main():
        await serve(net["server"], 443, echo, tls=True, http3=True)
        net["client"].pki = None  # trusts no CA
        with pytest.raises(ConnectionError, match="QUIC connection closed"):
            await fetch(net["client"], "https://server/", http_version="3only")
        return await fetch(net["client"], "https://server/", http_version="3only", verify=False)
    assert net.run_app(main()).http_version == "3"


def _example_h3(seed: int, verbose: bool = False):
    net = loads(example_text(), seed=seed).network
    frames: list[tuple[int, bytes]] = []
    net["client"].interfaces["eth0"].taps.append(lambda t, frame, _d: frames.append((t, bytes(frame))))

    async def main():
        await serve(net["server"], 443, builtin_site(), tls=True, http3=True)
        async with HTTPClient(net["client"], http_version="3", verbose=verbose) as client:
            return await asyncio.gather(*[client.get(f"https://www.example.com{p}") for p in ("/", "/about.html")])
    answers = net.run_app(main())
    net.close()
    return answers, frames


def test_http3_same_seed_same_timeline_and_same_bytes():
    a, frames_a = _example_h3(5)
    b, frames_b = _example_h3(5)
    assert [(r.status, r.http_version) for r in a] == [(200, "3"), (200, "3")]
    assert [r.body for r in a] == [r.body for r in b]
    udp = [f for f in frames_a if f[1][12:14] == b"\x08\x00" and f[1][23] == 17]
    assert len(udp) > 10
    assert frames_a == frames_b  # every frame's time and bytes, QUIC ciphertext included
    _, frames_c = _example_h3(6)
    assert [f for f in frames_c if f[1][23] == 17] != udp  # another seed, other QUIC bytes


def test_telling_the_handshake_changes_nothing_on_the_wire():
    _, quiet = _example_h3(5)
    told, loud = _example_h3(5, verbose=True)
    assert "* QUIC (OUT), Initial, TLS handshake, Client hello (1):" in told[0].transcript
    assert loud == quiet


def test_http3_answers_through_the_same_path_as_http11_and_http2(net):
    """One HTTPServer.answer for every version: an HTTPError is its error page, a failing
    handler a 500 with the same page (counted and logged once per request), a method the
    server does not do a 405."""
    from minternet.application.http import HTTPError

    async def handler(request: Request) -> Response:
        if request.path == "/missing":
            raise HTTPError(404, "No such page here.")
        if request.path == "/bug":
            raise RuntimeError("oops")
        return Response.text("fine\n")

    log: list[str] = []

    async def main():
        server = await serve(net["server"], 443, handler, tls=True, http3=True, log=log.append)
        out = {}
        for version in ("1.1", "2", "3"):
            for path in ("/ok", "/missing", "/bug"):
                r = await fetch(net["client"], f"https://server{path}", http_version=version)
                out[version, path] = (r.status, r.body)
            r = await fetch(net["client"], "https://server/ok", "PUT", http_version=version)
            out[version, "PUT"] = (r.status, r.headers.get("allow"))
        await server.aclose()
        return out, server
    out, server = net.run_app(main())
    for path in ("/ok", "/missing", "/bug", "PUT"):
        assert out["1.1", path] == out["2", path] == out["3", path], path
    assert out["3", "/bug"][0] == 500 and b"The server failed while answering" in out["3", "/bug"][1]
    assert out["3", "/missing"] == (404, b"404 Not Found\n\nNo such page here.\n")
    assert out["3", "PUT"] == (405, "GET, HEAD, POST")
    assert server.stats["handler errors"] == 3  # HTTP/3's failing handler counted where the others are
    assert sum("RuntimeError: oops" in line and "HTTP/3" in line for line in log) == 1
    assert any('"GET /missing HTTP/3" 404' in line for line in log)


def test_a_second_connection_resumes_with_the_session_ticket_counted_from_the_trace():
    """TLS 1.3 over TCP resumes (a pre_shared_key in both hellos, no certificate: a smaller
    server flight, the same round trips); HTTP/3 resumes with 0-RTT, its request in the very
    first datagram: one round trip to the answer instead of two."""
    from minternet.observe.trace import Recorder
    from application.http.httputil import two_hosts as pair
    net = pair(delay="50ms")  # 100 ms RTT
    net["client"].stub_resolver.add_host("server", SERVER)
    rec = Recorder()
    net.tracer.subscribe(rec)
    marks = []

    async def main():
        await serve(net["server"], 443, echo, tls=True, http3=True)
        sessions: dict = {}
        for version in ("2", "2", "3", "3"):
            marks.append(net.now)
            r = await fetch(net["client"], "https://server/", http_version=version, sessions=sessions)
            assert r.status == 200
        marks.append(net.now)
        async with HTTPClient(net["client"], http_version="3") as client:  # a client keeps its own
            await client.get("https://server/")
        return sessions
    sessions = net.run_app(main())
    assert set(sessions) == {("tls", "server", 443), ("h3", "server", 443)}
    net.close()
    runs = []
    for start, end in zip(marks, marks[1:]):
        layers = [(ev.time, ev.node, ev.secure_layer(net.secure)) for ev in rec.events
                  if start <= ev.time < end and ev.layer == "link" and ev.event == "send"]
        layers = [(t, node, x[1]) for t, node, x in layers if x is not None]
        first = min(t for t, node, _ in layers if node == "client")
        answer = min((t for t, node, text in layers if node == "server" and "STREAM(0" in text), default=None)
        flight = sum(len(ev.frame) for ev in rec.events if start <= ev.time < end and ev.layer == "link"
                     and ev.event == "send" and ev.node == "server" and ev.frame[23] == 6)
        runs.append((answer and round((answer - first) / 100e6, 1), flight, [(node, text) for _, node, text in layers]))
    (_, tls_fresh, a), (_, tls_resumed, b), (h3_fresh, _, c), (h3_resumed, _, d) = runs
    hellos = [text for node, text in a + b if "Hello" in text]
    assert "psk" not in hellos[0] + hellos[1] and "psk" in hellos[2] and "psk" in hellos[3]  # Client-, ServerHello
    assert tls_resumed < tls_fresh - 200  # the server sent no certificate (an Ed25519 one: small)
    assert marks[2] - marks[1] <= marks[1] - marks[0]  # no slower over TCP (TLS 1.3 has no 0-RTT in ssl)
    assert (h3_fresh, h3_resumed) == (1.5, 0.5)  # the server's answer leaves after 1.5 vs 0.5 RTT
    assert marks[4] - marks[3] < marks[3] - marks[2] - 90_000_000  # one round trip saved
    first_datagram = next(text for node, text in d if node == "client" and "Initial" in text)
    assert "psk early_data" in first_datagram and "| 0-RTT pn=1 STREAM(2)" in first_datagram  # H3 control
    assert any(node == "client" and text.startswith("QUIC 0-RTT") and "STREAM(0 fin)" in text for node, text in d)
