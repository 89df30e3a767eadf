"""HTTP/3 between simulated hosts on UDP 443: status and body end to end, under loss; round
trips to the first byte for a fresh and a 0-RTT-resumed connection on a 100 ms path; and no
head-of-line blocking between streams when a packet of one response is lost."""

import asyncio
import hashlib

import pytest
from aioquic.h3.connection import H3Connection
from h3util import FrameDropper, ed25519_certs, rtt100, udp_payload_at_least, warm_arp

from minternet.application.http.h3 import H3Client, fetch_h3, serve_h3, split_https_url
from minternet.application.http.message import Response
from minternet.application.http.server import HTTPError
from minternet.observe.trace import Recorder

CERTS = ed25519_certs()
SERVER = "10.0.2.10"
RTT_NS = 100_000_000


def options(**kw):
    return {"address": SERVER, "cadata": CERTS["ca_pem"], **kw}


async def start_server(net, handler, **kw):
    return await serve_h3(net["server"], handler, certificate=CERTS["cert_pem"], private_key=CERTS["key_pem"], **kw)


def udp_sends(rec, node):
    """The times and UDP (source port, destination port) of the datagrams ``node`` sent."""
    out = []
    for e in rec.where(node=node, layer="ip", event="send"):
        p = e.packet
        if p[9] == 17:
            ihl = (p[0] & 15) * 4
            out.append((e.time, int.from_bytes(p[ihl:ihl + 2], "big"), int.from_bytes(p[ihl + 2:ihl + 4], "big")))
    return out


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


BIG = bytes(range(256)) * 800  # 200 KiB


async def big_handler(request):
    if request.path == "/big":
        return Response(200, {"Content-Type": "application/octet-stream"}, BIG)
    if request.path == "/echo":
        return Response.text(f"{request.method} {request.target} {request.headers.get('host')} "
                             f"{len(request.body)} HTTP/{request.http_version}")
    raise HTTPError(404, "nothing here")


def test_get_over_http3_end_to_end():
    net = rtt100()
    rec = Recorder()
    net.tracer.subscribe(rec)

    async def main():
        server = await start_server(net, big_handler)
        big = await fetch_h3(net["client"], "https://www.example.com/big", **options())
        echo = await fetch_h3(net["client"], "https://www.example.com/echo?x=1", method="POST", body=b"hello",
                              **options())
        missing = await fetch_h3(net["client"], "https://www.example.com/nope", **options())
        await server.aclose()
        return big, echo, missing, server.stats

    big, echo, missing, stats = net.run_app(main(), timeout="30s")
    assert big.status == 200 and big.http_version == "3"
    assert sha(big.body) == sha(BIG) and big.headers["content-length"] == str(len(BIG))
    assert big.headers["content-type"] == "application/octet-stream" and big.headers["server"].startswith("minternet/")
    assert echo.status == 200 and echo.text_body() == "POST /echo?x=1 www.example.com 5 HTTP/3"
    assert missing.status == 404 and "nothing here" in missing.text_body()
    assert stats["connections"] == 3 and stats["requests"] == 3 and stats["status 200"] == 2
    # It really is QUIC on UDP 443: no TCP at all, and the server's datagrams come from port 443.
    assert not [e for e in rec.where(layer="ip", event="send") if e.packet[9] == 6]
    client, server = udp_sends(rec, "client"), udp_sends(rec, "server")
    assert len(client) > 10 and {dport for _, _, dport in client} == {443}
    assert len(server) > 100 and {sport for _, sport, _ in server} == {443}
    assert [e.text for e in rec.where(node="client", layer="quic", event="handshake")] == \
        ["QUIC handshake complete, ALPN h3"] * 3


@pytest.mark.parametrize("seed", [3, 11])
def test_get_survives_loss_both_ways(seed):
    net = rtt100(seed=seed)
    net.link("r1:eth1").set_params(loss=0.1)
    net.link("client:eth0").set_params(loss=0.05)

    async def main():
        await start_server(net, big_handler)
        return await fetch_h3(net["client"], "https://www.example.com/big", **options())

    response = net.run_app(main(), timeout="60s")
    assert response.status == 200 and sha(response.body) == sha(BIG)
    assert net.counters()["drop.link-loss"] >= 10


def test_bad_certificate_is_refused_and_verify_false_accepts_it():
    other = ed25519_certs(seed="another CA")
    net = rtt100()

    async def main():
        await start_server(net, big_handler)
        with pytest.raises(ConnectionError, match="0x12a|certificate"):  # TLS alert bad_certificate
            await fetch_h3(net["client"], "https://www.example.com/echo", address=SERVER, cadata=other["ca_pem"])
        return await fetch_h3(net["client"], "https://www.example.com/echo", address=SERVER, verify=False)

    assert net.run_app(main(), timeout="30s").status == 200


def test_round_trips_to_first_byte_fresh_2_rtt_resumed_0rtt_1_rtt():
    net = rtt100()
    rec = Recorder()
    net.tracer.subscribe(rec)
    body = b"<html>hello</html>" * 10

    async def handler(request):
        return Response.html(body.decode())

    async def one(ticket=None):
        client = H3Client(net["client"], "www.example.com", session_ticket=ticket, **options())
        await client.connect()
        response = await client.get("/")
        await client.aclose(linger=1.0)  # the session ticket, ACKs
        (exchange,) = client.exchanges.values()
        return client, exchange, response

    async def main():
        await warm_arp(net)
        await start_server(net, handler)
        fresh = await one()
        resumed = await one(fresh[0].session_ticket)
        return fresh, resumed

    (c1, e1, r1), (c2, e2, r2) = net.run_app(main(), timeout="30s")
    assert r1.body == body and r2.body == body
    assert not c1.handshake.session_resumed
    assert c2.handshake.session_resumed and c2.handshake.early_data_accepted
    # From the trace: the client's first datagram leaves at connect(); count round trips from it.
    sends = [t for t, _, dport in udp_sends(rec, "client") if dport == 443]
    first1 = min(t for t in sends if t >= c1.connect_at)
    first2 = min(t for t in sends if t >= c2.connect_at)
    rtts_fresh = (e1.first_byte_at - first1) / RTT_NS
    rtts_resumed = (e2.first_byte_at - first2) / RTT_NS
    # 2 RTT: QUIC+TLS handshake (1), request and response (1); 0-RTT: the request rides the first
    # flight. Above the whole number: the datagrams' serialisation at 10 Mbit/s.
    assert 2.0 <= rtts_fresh < 2.2, rtts_fresh
    assert 1.0 <= rtts_resumed < 1.2, rtts_resumed
    # The resumed client's request left in its first datagram's flight, before any server reply.
    server_first_reply = min(t for t, sport, _ in udp_sends(rec, "server") if sport == 443 and t > first2)
    assert e2.sent_at <= first2 < server_first_reply


PATHS = ["/a", "/b", "/c"]
HOL_BODY = {p: p[1].encode() * 3000 for p in PATHS}


def three_in_flight(drop: int | None, client_class=H3Client):
    """Three requests on one fresh connection; returns each response's completion time (ms after
    connect) and the frames the server sent. ``drop``: index of a server frame (>= 200 B UDP
    payload) to lose."""
    net = rtt100()

    async def handler(request):
        return Response(200, {}, HOL_BODY[request.path])

    async def main():
        await warm_arp(net)
        dropper = FrameDropper(net, "server", match=udp_payload_at_least(200))
        if drop is not None:
            dropper.drop(drop)
        await start_server(net, handler)
        client = client_class(net["client"], "www.example.com", **options())
        await client.connect()
        exchanges = [client.send_request("GET", p) for p in PATHS]
        responses = [await client.response(e) for e in exchanges]
        assert [r.body for r in responses] == [HOL_BODY[p] for p in PATHS]
        await client.aclose()
        return [(e.done_at - client.connect_at) / 1e6 for e in exchanges], dropper

    return net.run_app(main(), timeout="30s")


def test_one_lost_packet_holds_up_only_its_own_stream():
    base, _ = three_in_flight(None)
    assert max(base) < 250  # all three done in ~2 RTT without loss
    # Frame 4 is a 1-RTT packet carrying part of /b only (aioquic sends the three streams' data
    # round-robin, a packet per stream here; QPACK uses no dynamic table, see the module).
    done, dropper = three_in_flight(4)
    assert len(dropper.dropped) == 1
    late = [i for i in range(3) if done[i] > base[i] + 50]
    assert late == [1], (base, done)
    # The other two finished exactly as without the loss: no head-of-line blocking between streams.
    assert done[0] == base[0] and done[2] == base[2]
    assert done[1] - base[1] > 80  # /b waited for the loss to be detected and the data resent


class DynamicTableClient(H3Client):
    h3_connection_class = H3Connection  # aioquic's default SETTINGS: a 4096-byte QPACK table


def test_without_a_qpack_dynamic_table_no_single_loss_stalls_every_stream():
    """Lose each of the response packets in turn. With the server allowed a dynamic table, one
    of them carries encoder-stream instructions that every response's HEADERS refer to, and all
    three streams wait for it (QPACK's own head-of-line blocking, RFC 9204 2.1.2); with ours, no
    single loss holds up all three."""
    def all_late(client_class):
        base, _ = three_in_flight(None, client_class)
        stalled = []
        for drop in range(2, 9):
            done, _ = three_in_flight(drop, client_class)
            if all(d > b + 50 for d, b in zip(done, base)):
                stalled.append(drop)
        return stalled

    assert all_late(H3Client) == []
    assert all_late(DynamicTableClient) != []


def test_split_https_url():
    assert split_https_url("https://www.example.com/a b?q=1") == ("www.example.com", 443, "/a%20b?q=1")
    assert split_https_url("www.example.com:8443") == ("www.example.com", 8443, "/")
    with pytest.raises(ValueError, match="https"):
        split_https_url("http://www.example.com/")
