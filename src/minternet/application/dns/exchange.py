"""One DNS question and its answer over the network, as every resolver asks it: UDP from a
fresh random port with a fresh random ID (RFC 5452), only the matching answer accepted, and a
truncated answer asked again over TCP (RFC 7766). This is the client side; serving is in
:mod:`.server`."""

from __future__ import annotations

import asyncio
import errno
from typing import Any, AsyncIterator

from ...runtime import NS_PER_S
from ...wire.dns import DNSMessage, Edns, RRClass, make_query, name_eq
from ...wire.errors import MalformedPacket

UNREACHABLE = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN)


async def datagrams_until(sock: Any, clock: Any, deadline: int) -> AsyncIterator[bytes]:
    """The datagrams that reach ``sock`` before ``deadline`` (ns of ``clock``), one by one, for
    a caller that waits for the right one; TimeoutError once the deadline has passed."""
    while True:
        remaining = (deadline - clock.now) / NS_PER_S
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        yield await sock.recv(65535)


def matches(resp: DNSMessage, qid: int, name: str, rtype: int, rclass: int = RRClass.IN) -> bool:
    """A response to our question: our ID, and the very question we asked, class included
    (RFC 5452 9.1)."""
    if not (resp.qr and resp.id == qid and len(resp.questions) == 1):
        return False
    q = resp.questions[0]
    return name_eq(q.name, name) and q.type == rtype and q.cls == rclass


async def query_udp(host: Any, server: str, port: int, name: str, rtype: int, rd: bool, timeout: float,
                    stats: dict[str, int] | None = None, edns: Edns | None = None) -> DNSMessage | None:
    """Ask ``server`` once; None when no acceptable answer came in ``timeout`` seconds or the
    server is unreachable. ``edns``: the OPT record to send (RFC 6891), None for none.
    ``stats`` (optional) counts queries_sent, ignored_responses, timeouts, unreachable and tcp_retries."""
    count = stats if stats is not None else {}
    sock = host.socket()
    try:
        sock.connect((server, port))  # connected: datagrams from any other address or port never reach us
        qid = host.rng.randrange(65536)
        query = make_query(name, rtype, qid, rd=rd, edns=edns)
        sock.send(query.encode())
        count["queries_sent"] = count.get("queries_sent", 0) + 1
        async for data in datagrams_until(sock, host.clock, host.clock.now + int(timeout * NS_PER_S)):
            try:
                resp = DNSMessage.decode(data)
            except MalformedPacket:
                count["ignored_responses"] = count.get("ignored_responses", 0) + 1
                continue
            if not matches(resp, qid, name, rtype):
                count["ignored_responses"] = count.get("ignored_responses", 0) + 1
                continue
            if resp.tc:
                count["tcp_retries"] = count.get("tcp_retries", 0) + 1
                return await retry_tcp(host, server, port, query, timeout, resp)
            return resp
    except TimeoutError:
        count["timeouts"] = count.get("timeouts", 0) + 1
        return None
    except OSError as exc:
        if exc.errno in UNREACHABLE:
            count["unreachable"] = count.get("unreachable", 0) + 1
            return None
        raise
    finally:
        sock.close()


async def retry_tcp(host: Any, server: str, port: int, query: DNSMessage, timeout: float,
                    truncated: DNSMessage) -> DNSMessage:
    """Ask again over TCP; if that fails, the truncated answer is what we have."""
    try:
        data = await query_tcp(host, server, port, query.encode(), timeout)
        resp = DNSMessage.decode(data)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, MalformedPacket):
        return truncated
    q = query.questions[0]
    if not matches(resp, query.id, q.name, q.type, q.cls):
        return truncated  # an answer over TCP must answer our question too, not only carry our ID
    return resp


async def query_tcp(host: Any, server: str, port: int, message: bytes, timeout: float) -> bytes:
    """One query over TCP, for an answer that came back truncated (TC) over UDP: the message
    with its two-byte length in front (RFC 1035 4.2.2), the answer's bytes back."""
    async def exchange() -> bytes:
        reader, writer = await host.open_connection(server, port)
        try:
            writer.write(len(message).to_bytes(2, "big") + message)
            await writer.drain()
            head = await reader.readexactly(2)
            return await reader.readexactly(int.from_bytes(head, "big"))
        finally:
            writer.close()
    return await asyncio.wait_for(exchange(), timeout)
