"""The HTTP server on a simulated host: keep-alive, pipelining, chunked bodies both ways, HEAD,
POST, the limits and error pages, timeouts, and the access log."""

from __future__ import annotations

import asyncio
import re

import pytest
from application.http.httputil import SERVER, raw_exchange, status_lines, two_hosts

from minternet.application.http import (SIM_EPOCH, HTTPClient, HTTPError, Limits, Request, Response, http_date,
                                        serve)


async def echo(request: Request) -> Response:
    """Says what it got: method, target, body length and the framing of the body."""
    if request.path == "/boom":
        raise RuntimeError("handler bug")
    if request.path == "/missing":
        raise HTTPError(404, "not here")
    framing = request.headers.get("transfer-encoding", "length")
    return Response.text(f"{request.method} {request.target} {len(request.body)} {framing}\n")


async def stream(request: Request) -> Response:
    async def pieces():
        for i in range(3):
            await asyncio.sleep(0.01)
            yield f"piece {i}\n".encode()
    return Response(200, {"Content-Type": "text/plain"}, pieces())


@pytest.fixture
def net():
    net = two_hosts()
    yield net
    net.close()


def run(net, coro_fn, handler=echo, **options):
    """Start a server on 'server' port 80, run ``coro_fn(server)`` on 'client', stop the server."""
    log: list[str] = []

    async def main():
        server = await serve(net["server"], 80, handler, log=log.append, **options)
        try:
            return await coro_fn(server)
        finally:
            await server.aclose()
    result = net.run_app(main())
    return result, log


# -- keep-alive and pipelining ----------------------------------------------------------------------
def test_keep_alive_serves_several_requests_on_one_connection(net):
    async def go(server):
        async with HTTPClient(net["client"]) as client:
            answers = [await client.get("http://www.test/a"), await client.post("http://www.test/b", b"xyz"),
                       await client.get("http://www.test/c")]
            return answers, client.connections_opened
    (answers, opened), log = run(net, go)
    assert [r.body for r in answers] == [b"GET /a 0 length\n", b"POST /b 3 length\n", b"GET /c 0 length\n"]
    assert opened == 1
    assert len(log) == 3 and all(line.endswith(" conn=1") for line in log)
    assert log[1].startswith('10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "POST /b HTTP/1.1" 200 17 ')


def test_stats_count_one_connection_for_keep_alive_and_one_per_request_without(net):
    async def go(server):
        async with HTTPClient(net["client"]) as client:
            for _ in range(3):
                await client.get("http://www.test/")
        for _ in range(2):  # Connection: close makes each request its own connection
            async with HTTPClient(net["client"]) as client:
                r = await client.get("http://www.test/", headers={"Connection": "close"})
                assert r.headers["connection"] == "close"
        await asyncio.sleep(1)
        return dict(server.stats)
    stats, _ = run(net, go)
    assert stats["connections"] == 3 and stats["requests"] == 5 and stats["status 200"] == 5


def test_pipelined_requests_are_answered_in_order(net):
    requests = b"".join(f"GET /{n} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for n in ("first", "second", "third"))

    async def go(server):
        return await raw_exchange(net["client"], requests + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    (data, closed), log = run(net, go)
    bodies = re.findall(rb"GET /\w+ 0 length\n", data)
    assert bodies == [b"GET /first 0 length\n", b"GET /second 0 length\n", b"GET /third 0 length\n",
                      b"GET /last 0 length\n"]
    assert closed and len(log) == 4 and all(line.endswith(" conn=1") for line in log)


def test_http_1_0_gets_an_answer_and_the_connection_closes(net):
    async def go(server):
        return await raw_exchange(net["client"], b"GET /old HTTP/1.0\r\n\r\n")
    (data, closed), _ = run(net, go)
    assert status_lines(data) == ["HTTP/1.1 200 OK"] and b"connection: close" in data.lower() and closed


# -- bodies ---------------------------------------------------------------------------------------------
def test_chunked_request_body_from_a_stream_and_from_bytes(net):
    async def body():
        for piece in (b"hello ", b"chunked ", b"world"):
            await asyncio.sleep(0.005)
            yield piece

    async def go(server):
        async with HTTPClient(net["client"]) as client:
            a = await client.post("http://www.test/up", body())
            b = await client.post("http://www.test/up", b"x" * 40000, headers={"Transfer-Encoding": "chunked"})
            return a, b
    (a, b), _ = run(net, go)
    assert a.body == b"POST /up 19 chunked\n"
    assert b.body == b"POST /up 40000 chunked\n"


def test_chunked_request_on_the_wire_is_reassembled(net):
    wire = (b"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: yes\r\n\r\n")

    async def go(server):
        return await raw_exchange(net["client"], [wire[:70], wire[70:]], gap=0.01)
    (data, closed), _ = run(net, go)
    assert data.endswith(b"POST /raw 12 chunked\n") and closed


def test_chunked_response_is_framed_on_the_wire_and_read_whole_by_the_client(net):
    async def go(server):
        raw = await raw_exchange(net["client"], b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        async with HTTPClient(net["client"]) as client:
            return raw, await client.get("http://www.test/")
    ((data, closed), response), _ = run(net, go, handler=stream)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower() and b"content-length" not in head.lower()
    assert body == b"8\r\npiece 0\n\r\n8\r\npiece 1\n\r\n8\r\npiece 2\n\r\n0\r\n\r\n"
    assert response.body == b"piece 0\npiece 1\npiece 2\n"
    assert response.headers["Transfer-Encoding"] == "chunked"


def test_head_has_the_headers_of_get_and_no_body(net):
    async def go(server):
        async with HTTPClient(net["client"]) as client:
            head = await client.head("http://www.test/page")
            get = await client.get("http://www.test/page")  # same connection: HEAD left no stray bytes
            return head, get, client.connections_opened
    (head, get, opened), _ = run(net, go)
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Length"] == str(len(b"HEAD /page 0 length\n"))
    assert get.body == b"GET /page 0 length\n" and opened == 1


def test_head_on_the_wire_stops_after_the_headers(net):
    async def go(server):
        return await raw_exchange(net["client"], b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    (data, closed), _ = run(net, go)
    assert data.endswith(b"\r\n\r\n") and b"Content-Length: 16\r\n" in data and closed


def test_expect_100_continue_gets_an_interim_answer(net):
    async def go(server):
        return await raw_exchange(net["client"], [
            b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
            b"abcd"], gap=0.05)
    (data, _), _ = run(net, go)
    assert status_lines(data) == ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"]
    assert data.endswith(b"POST /e 4 length\n")


# -- headers --------------------------------------------------------------------------------------------
def test_server_and_date_headers_come_from_the_host_clock(net):
    async def go(server):
        await asyncio.sleep(3600)  # an hour of virtual time later
        async with HTTPClient(net["client"]) as client:
            return await client.get("http://www.test/"), net.now
    (response, now), _ = run(net, go)
    assert response.headers["Server"].startswith("minternet/")
    date = response.headers["Date"]
    assert date == http_date(SIM_EPOCH + now / 1e9) and date.startswith("Thu, 01 Jan 2026 01:00:00")


# -- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("wire", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 requires Host
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: nine\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_malformed_request_gets_400_and_the_connection_closes(net, wire):
    async def go(server):
        return await raw_exchange(net["client"], wire + b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n")
    (data, closed), log = run(net, go)
    assert status_lines(data) == ["HTTP/1.1 400 Bad Request"]
    assert b"Connection: close" in data and b"not valid HTTP/1.1" in data and closed
    assert b"/never" not in data and log[-1].split('"')[2].split()[0] == "400"


def test_version_other_than_1_x_is_505(net):
    async def go(server):
        return await raw_exchange(net["client"], b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    (data, closed), _ = run(net, go)
    assert status_lines(data) == ["HTTP/1.1 505 HTTP Version Not Supported"] and closed


def test_method_not_allowed_says_what_is_allowed_and_unknown_method_is_501(net):
    async def go(server):
        put = await raw_exchange(net["client"], b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        brew = await raw_exchange(net["client"], b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n")
        return put, brew
    ((put, _), (brew, _)), _ = run(net, go)
    assert status_lines(put) == ["HTTP/1.1 405 Method Not Allowed"] and b"Allow: GET, HEAD, POST\r\n" in put
    assert status_lines(brew) == ["HTTP/1.1 501 Not Implemented"]


def test_handler_exception_is_500_and_the_connection_goes_on(net):
    async def go(server):
        async with HTTPClient(net["client"]) as client:
            boom = await client.get("http://www.test/boom")
            missing = await client.get("http://www.test/missing")
            after = await client.get("http://www.test/after")
            return boom, missing, after, client.connections_opened, dict(server.stats)
    (boom, missing, after, opened, stats), log = run(net, go)
    assert boom.status == 500 and boom.body.startswith(b"500 Internal Server Error\n")
    assert b"handler bug" not in boom.body  # the details go to the log, not to the client
    assert any("error: the handler failed on GET /boom HTTP/1.1: RuntimeError: handler bug" in line for line in log)
    assert missing.status == 404 and b"not here" in missing.body
    assert after.status == 200 and opened == 1 and stats["handler errors"] == 1


def test_body_over_the_limit_is_413_by_content_length_and_by_chunks(net):
    limits = Limits(max_body_bytes=1000)

    async def go(server):
        declared = await raw_exchange(net["client"], [
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", b"y" * 5000])
        chunked = await raw_exchange(net["client"], [
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"".join(b"100\r\n" + b"z" * 256 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"])
        async with HTTPClient(net["client"]) as client:
            ok = await client.post("http://www.test/", b"a" * 1000)
            big = await client.post("http://www.test/", b"a" * 1001)
        return declared, chunked, ok, big
    ((declared, c1), (chunked, c2), ok, big), _ = run(net, go, limits=limits)
    assert status_lines(declared) == ["HTTP/1.1 413 Content Too Large"] and c1
    assert b"5000 bytes" in declared and b"up to 1000" in declared
    assert status_lines(chunked) == ["HTTP/1.1 413 Content Too Large"] and c2
    assert ok.status == 200 and big.status == 413


def test_headers_over_the_limit_are_431(net):
    limits = Limits(max_header_bytes=4096, max_target_bytes=1024)
    many = b"".join(f"X-Filler-{i}: {'v' * 60}\r\n".encode() for i in range(80))  # about 6 KB

    async def go(server):
        whole = await raw_exchange(net["client"], b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        pieces = await raw_exchange(net["client"], [b"GET / HTTP/1.1\r\nHost: x\r\n", many[:3000], many[3000:]], gap=0.01)
        fits = await raw_exchange(net["client"], b"GET / HTTP/1.1\r\nHost: x\r\n" + many[:3000].rsplit(b"\r\n", 1)[0]
                                  + b"\r\nConnection: close\r\n\r\n")
        return whole, pieces, fits
    ((whole, c1), (pieces, c2), (fits, _)), _ = run(net, go, limits=limits)
    assert status_lines(whole) == ["HTTP/1.1 431 Request Header Fields Too Large"] and c1
    assert status_lines(pieces) == ["HTTP/1.1 431 Request Header Fields Too Large"] and c2
    assert status_lines(fits) == ["HTTP/1.1 200 OK"]


def test_uri_over_the_limit_is_414(net):
    limits = Limits(max_header_bytes=4096, max_target_bytes=1024)

    async def go(server):
        long = await raw_exchange(net["client"], b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        huge = await raw_exchange(net["client"], b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        fits = await raw_exchange(net["client"], b"GET /" + b"a" * 1000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return long, huge, fits
    ((long, c1), (huge, c2), (fits, _)), _ = run(net, go, limits=limits)
    assert status_lines(long) == ["HTTP/1.1 414 URI Too Long"] and c1
    assert status_lines(huge) == ["HTTP/1.1 414 URI Too Long"] and c2  # too long for the header limit too
    assert status_lines(fits) == ["HTTP/1.1 200 OK"]


# -- timeouts -------------------------------------------------------------------------------------------
def test_idle_keep_alive_connection_is_closed_after_the_idle_timeout(net):
    limits = Limits(idle_timeout=5.0)

    async def go(server):
        reader, writer = await net["client"].open_connection(SERVER, 80)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await reader.readuntil(b"length\n")
        answered = net.now
        rest = await reader.read()  # returns b"" when the server closes
        writer.close()
        return head, rest, (net.now - answered) / 1e9, dict(server.stats)
    (head, rest, waited, stats), _ = run(net, go, limits=limits)
    assert head.startswith(b"HTTP/1.1 200 OK") and rest == b""
    assert 4.9 < waited < 5.1 and stats["idle timeouts"] == 1


def test_a_request_that_never_completes_gets_408(net):
    limits = Limits(read_timeout=3.0)

    async def go(server):
        t0 = net.now
        data = await raw_exchange(net["client"], b"GET / HTTP/1.1\r\nHost: x\r\n")  # no blank line
        return data, (net.now - t0) / 1e9
    ((data, closed), took), _ = run(net, go, limits=limits)
    assert status_lines(data) == ["HTTP/1.1 408 Request Timeout"] and closed and 3.0 <= took < 6.0


def test_serve_pages_serves_a_fixed_set_until_cancelled(net):
    from minternet.application.http.client import get
    from minternet.application.http.server import serve_pages

    async def main():
        task = asyncio.ensure_future(serve_pages(net["server"], {"/": b"<p>home</p>"}))
        await asyncio.sleep(0)
        home = await get(net["client"], "http://www.test/")
        missing = await get(net["client"], "http://www.test/other")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return home, missing[0], net["server"].tcp.listening_on(80)
    home, missing, listening = net.run_app(main())
    assert home == (200, b"<p>home</p>") and missing == 404 and not listening
