"""The HTTP client: URLs, DNS through the host, connection reuse, the curl -v transcript, errors."""

from __future__ import annotations

import asyncio
import errno
import socket

import pytest
from application.http.httputil import SERVER, two_hosts

from minternet.application.http import HTTPClient, Limits, ProtocolError, Request, Response, fetch, serve, split_url
from minternet.sim.example import example_text
from minternet.sim.topology import loads


async def hello(request: Request) -> Response:
    return Response.text(f"hello from {request.headers['host']}{request.target}\n")


@pytest.fixture
def net():
    net = two_hosts()
    yield net
    net.close()


def test_split_url():
    assert split_url("http://www.example.com/") == ("www.example.com", 80, "/", "www.example.com")
    assert split_url("http://h:8080") == ("h", 8080, "/", "h:8080")
    assert split_url("h/a b?q=1 2#frag") == ("h", 80, "/a%20b?q=1%202", "h")
    assert split_url("http://h/../x/%2e%2e") == ("h", 80, "/../x/%2e%2e", "h")  # sent as given
    assert split_url("https://h/x") == ("h", 443, "/x", "h")
    for bad, why in [("ftp://h/", "not ftp"), ("http:///x", "no host name"), ("http://h:99999/", "port")]:
        with pytest.raises(ValueError, match=why):
            split_url(bad)


def test_fetch_resolves_through_dns_in_the_example_internet():
    net = loads(example_text()).network
    try:
        async def main():
            server = await serve(net["server"], 80, hello)
            response = await fetch(net["client"], "http://www.example.com/x?y=1")
            await server.aclose()
            return response
        response = net.run_app(main())
    finally:
        net.close()
    assert response.status == 200 and response.reason == "OK" and response.http_version == "1.1"
    assert response.body == b"hello from www.example.com/x?y=1\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_verbose_transcript_reads_like_curl_v(net):
    lines: list[str] = []

    async def main():
        server = await serve(net["server"], 8080, hello)
        async with HTTPClient(net["client"], verbose=True, out=lines.append) as client:
            first = await client.get("http://www.test:8080/")
            second = await client.get("http://www.test:8080/two")
        await server.aclose()
        return first, second, client
    first, second, client = net.run_app(main())
    assert first.transcript[:3] == ["* Resolved www.test to 10.0.0.2 in 0.0 ms", "*   Trying 10.0.0.2:8080...",
                                    "* Connected to www.test (10.0.0.2) port 8080 (#0) in 6.0 ms"]
    assert first.transcript[3:8] == ["> GET / HTTP/1.1", "> Host: www.test:8080",
                                     "> User-Agent: minternet-curl/0.1.0", "> Accept: */*", ">"]
    assert first.transcript[8] == "< HTTP/1.1 200 OK" and "< Content-Length: 26" in first.transcript
    assert first.transcript[-2:] == ["<", "* Connection #0 to host www.test left intact"]
    assert second.transcript[0] == "* Re-using existing connection #0 with host www.test"
    assert "> GET /two HTTP/1.1" in second.transcript
    assert lines == client.transcript == first.transcript + second.transcript


def test_not_verbose_records_nothing(net):
    async def main():
        server = await serve(net["server"], 80, hello)
        response = await fetch(net["client"], f"http://{SERVER}/")
        await server.aclose()
        return response
    assert net.run_app(main()).transcript == []


def test_a_connection_the_server_closed_while_idle_is_replaced(net):
    async def main():
        server = await serve(net["server"], 80, hello, limits=Limits(idle_timeout=1.0))
        async with HTTPClient(net["client"], verbose=True) as client:
            first = await client.get("http://www.test/1")
            await asyncio.sleep(2)  # the server has closed the kept-alive connection by now
            second = await client.get("http://www.test/2")
        await server.aclose()
        return first, second, client.connections_opened, server.stats["connections"]
    first, second, opened, accepted = net.run_app(main())
    assert first.status == second.status == 200 and second.body == b"hello from www.test/2\n"
    assert opened == accepted == 2
    assert not any(line.startswith("* Re-using") for line in second.transcript)


def test_connection_close_from_the_server_is_honoured(net):
    async def closing(request: Request) -> Response:
        return Response.text("bye\n", headers={"Connection": "close"})

    async def main():
        server = await serve(net["server"], 80, closing)
        async with HTTPClient(net["client"], verbose=True) as client:
            a = await client.get("http://www.test/")
            b = await client.get("http://www.test/")
        await server.aclose()
        return a, b, client.connections_opened
    a, b, opened = net.run_app(main())
    assert a.transcript[-1] == "* Closing connection #0" and b.body == b"bye\n" and opened == 2


def test_refused_and_unknown_names_raise_what_a_python_programmer_expects(net):
    async def refused():
        await fetch(net["client"], "http://www.test:81/")

    async def unknown():
        await fetch(net["client"], "http://nowhere.test/")
    with pytest.raises(ConnectionRefusedError) as info:
        net.run_app(refused())
    assert info.value.errno == errno.ECONNREFUSED
    with pytest.raises(socket.gaierror):
        net.run_app(unknown())


def test_an_answer_that_is_not_http_is_a_protocol_error(net):
    async def nonsense(reader, writer):
        await reader.read(100)
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        writer.close()

    async def main():
        await net["server"].start_server(nonsense, port=22)
        return await fetch(net["client"], "http://www.test:22/")
    with pytest.raises(ProtocolError, match="not valid HTTP/1.1"):
        net.run_app(main())


def test_a_server_that_never_answers_times_out(net):
    async def silent(reader, writer):
        await asyncio.sleep(10)
        writer.close()

    async def main():
        await net["server"].start_server(silent, port=80)
        t0 = net.now
        try:
            await fetch(net["client"], "http://www.test/", timeout=5)
        except TimeoutError as exc:
            took = (net.now - t0) / 1e9
            await asyncio.sleep(6)  # let the server's handler finish before the network closes
            return exc, took
    exc, took = net.run_app(main())
    assert exc.errno == errno.ETIMEDOUT and "no answer from www.test for 5 s" in str(exc) and 5 <= took < 5.1
