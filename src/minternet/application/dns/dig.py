"""dig(1)-like output for our DNS messages and resolutions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...runtime import NS_PER_MS, NS_PER_S
from ...wire.dns import (DNSMessage, Edns, EdnsOption, EdnsOptionCode, Rcode, ResourceRecord, class_text,
                         make_query, rcode_text, type_text)
from ...wire.errors import MalformedPacket
from .exchange import datagrams_until, query_tcp
from .resolver import Resolution

# dig's columns (bin/dig/dig.c: dns_master_stylecreate(..., 24, 32, 40, 48, 80, 8, ...)): TTL at
# 24, class at 32, type at 40, rdata at 48, reached with tabs of 8, or one space when past it.
_COLUMNS = (24, 32, 40, 48)


def _indent(col: int, to: int) -> tuple[str, int]:
    # lib/dns/masterdump.c indent(): at least one character; tabs while they fit, then spaces.
    to = max(to, col + 1)
    tabs = to // 8 - col // 8
    if tabs > 0:
        return "\t" * tabs + " " * (to % 8), to
    return " " * (to - col), to


def dig_rr_text(rr: ResourceRecord) -> str:
    """One record as dig prints it: ``com.\t\t\t172800\tIN\tNS\ta.gtld-servers.net.``."""
    fields = (rr.name + "." if rr.name else ".", str(rr.ttl), class_text(rr.cls), type_text(rr.type))
    out, col = fields[0], len(fields[0])
    for text, to in zip(fields[1:] + (rr.data.to_text(),), _COLUMNS):
        pad, col = _indent(col, to)
        out += pad + text
        col += len(text)
    return out


def dig_output(resp: DNSMessage, server: str, port: int, elapsed_ns: int, size: int, tcp: bool = False,
               option_notes: dict[int, str] | None = None) -> str:
    lines = [resp.to_text(option_notes).rstrip(), "",
             f";; Query time: {elapsed_ns // NS_PER_MS} msec",
             f";; SERVER: {server}#{port}({'TCP' if tcp else 'UDP'})",
             f";; MSG SIZE  rcvd: {size}"]
    return "\n".join(lines)


@dataclass
class DigOptions:
    """What dig 9.18's query options ask for, with its defaults: EDNS version 0, a 1232-byte
    buffer, a client COOKIE, version negotiation on, UDP with a retry over TCP on TC."""

    rd: bool = True
    edns: int | None = 0  # the EDNS version, None for +noedns
    bufsize: int = 1232
    dnssec: bool = False
    ednsflags: int = 0
    ednsopts: tuple[EdnsOption, ...] = ()
    ednsneg: bool = True
    nsid: bool = False
    cookie: bool = True
    cookie_value: bytes | None = None  # +cookie=HEX: the whole option to send
    tcp: bool = False
    ignore_tc: bool = False


async def dig_query(host: Any, server: str, port: int, name: str, rtype: int, opts: DigOptions,
                    timeout: float) -> str:
    """One dig: ask ``server``, as dig does (retrying over TCP when truncated, with a lower EDNS
    version after BADVERS), and the text dig would print."""
    notes: list[str] = []
    client_cookie = opts.cookie_value or bytes(host.rng.getrandbits(8) for _ in range(8))
    version, tcp = opts.edns, opts.tcp
    for _ in range(4):  # at most a TC retry and a BADVERS retry
        edns = None
        if version is not None:
            options = []
            if opts.nsid:
                options.append(EdnsOption(EdnsOptionCode.NSID))
            if opts.cookie:
                options.append(EdnsOption(EdnsOptionCode.COOKIE, client_cookie))
            edns = Edns(opts.bufsize, version, opts.dnssec, opts.ednsflags & 0x7FFF,
                        options=tuple(options) + opts.ednsopts)
        query = make_query(name, rtype, host.rng.randrange(65536), rd=opts.rd, edns=edns)
        t0 = host.clock.now
        if tcp:
            try:
                data = await query_tcp(host, server, port, query.encode(), timeout)
                reply = DNSMessage.decode(data)
            except (OSError, TimeoutError, EOFError, MalformedPacket) as exc:
                return "\n".join(notes + [f";; communications error to {server}#{port}: {exc or 'timed out'}"])
        else:
            got = await _udp(host, server, port, query, timeout, notes)
            if got is None:
                return "\n".join(notes + [f";; connection timed out; no servers could be reached ({server}#{port})"])
            reply, data = got
        elapsed = host.clock.now - t0
        if reply.tc and not tcp and not opts.ignore_tc:
            notes.append(";; Truncated, retrying in TCP mode.")
            tcp = True
            continue
        if (reply.full_rcode == Rcode.BADVERS and opts.ednsneg and version is not None
                and reply.edns is not None and reply.edns.version < version):
            version = reply.edns.version
            notes.append(f";; BADVERS, retrying with EDNS version {version}.")
            continue
        break
    option_notes = {}
    got_cookie = reply.edns.option(EdnsOptionCode.COOKIE) if reply.edns is not None else None
    if got_cookie is not None and edns is not None and edns.option(EdnsOptionCode.COOKIE) is not None:
        if got_cookie.data[:8] != client_cookie[:8]:
            notes.append(";; Warning: Client COOKIE mismatch")
        else:
            option_notes[EdnsOptionCode.COOKIE] = "(good)" if len(got_cookie.data) > 8 else "(echoed)"
    return "\n".join(notes + [dig_output(reply, server, port, elapsed, len(data), tcp, option_notes)])


async def _udp(host: Any, server: str, port: int, query: DNSMessage, timeout: float,
               notes: list[str]) -> tuple[DNSMessage, bytes] | None:
    sock = host.socket()
    try:
        sock.connect((server, port))
        t0 = host.clock.now
        sock.send(query.encode())
        # like dig: a reply that is not ours is reported and we go on waiting
        async for data in datagrams_until(sock, host.clock, t0 + int(timeout * NS_PER_S)):
            try:
                reply = DNSMessage.decode(data)
            except MalformedPacket:
                notes.append(";; Warning: Message parser reports malformed message packet.")
                continue
            if reply.id != query.id:
                notes.append(f";; Warning: ID mismatch: expected ID {query.id}, got {reply.id}")
                continue
            return reply, data
    except TimeoutError:
        return None
    finally:
        sock.close()
    return None


def trace_output(result: Resolution) -> str:
    """Each query of a resolution, like ``dig +trace``: who was asked, what they said."""
    lines = []
    for step in result.steps:
        zone = step.zone + "." if step.zone else "."
        lines.append(f";; asked {step.server} (a server for {zone}) about {step.question}: "
                     f"{step.outcome} [{step.elapsed / NS_PER_MS:.1f} ms]")
    if result.answers:
        lines.append("")
        lines.extend(rr.to_text() for rr in result.answers)
    elif result.authority:
        lines.append("")
        lines.extend(rr.to_text() for rr in result.authority)
    lines.append(f";; status: {rcode_text(result.rcode)}{' (from cache)' if result.from_cache else ''}")
    return "\n".join(lines)
