"""``dig +trace`` as dig 9.18 does it (bin/dig/dighost.c, trace mode), for a learner who later runs
the real one and should see the same picture:

1. ask the host's resolver (or @SERVER) for the root's NS records, RD set, and print them;
2. ask one of those servers, RD clear, for the name; print the answer and authority sections
   (never the additional: +trace implies +noadditional) and go down each referral. dig 9.18 finds
   each server's address with getaddrinfo, so from the resolver; we take the glue when it came
   (the same address, one query less) and ask the resolver otherwise;
3. stop at the first response that is not a referral: an answer, NXDOMAIN or NODATA.

Each response is followed by ``;; Received N bytes from ADDR#PORT(SERVER) in T ms`` and a blank
line, as dig prints them (dig.c ``received()``). Records are laid out in dig's columns
(:func:`.dig.dig_rr_text`). dig's own DNSSEC records (+trace sets +dnssec) are absent, for the
simulated zones are not signed.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ...runtime import NS_PER_MS, NS_PER_S
from ...wire.dns import DNSMessage, Rcode, RRType, canonical, is_subdomain, make_query, name_eq, rcode_text
from ...wire.errors import MalformedPacket
from .dig import dig_rr_text
from .exchange import UNREACHABLE, datagrams_until, matches, query_tcp

MAX_REFERRALS = 16  # dig gives up on a longer chain too (its lookup counter)


async def ask(host: Any, server: str, port: int, name: str, rtype: int, rd: bool,
              timeout: float) -> tuple[DNSMessage, int] | str:
    """One question: (response, its size in bytes), or dig's words for what went wrong. A
    truncated answer is asked again over TCP, as dig does."""
    sock = host.socket()
    try:
        sock.connect((server, port))
        qid = host.rng.randrange(65536)
        query = make_query(name, rtype, qid, rd=rd)
        sock.send(query.encode())
        async for data in datagrams_until(sock, host.clock, host.clock.now + int(timeout * NS_PER_S)):
            try:
                resp = DNSMessage.decode(data)
            except MalformedPacket:
                continue
            if not matches(resp, qid, name, rtype):
                continue
            if resp.tc:
                try:
                    data = await query_tcp(host, server, port, query.encode(), timeout)
                    resp = DNSMessage.decode(data)
                except (OSError, TimeoutError, MalformedPacket, EOFError):
                    pass  # keep the truncated answer, as dig does with +ignore
            return resp, len(data)
    except TimeoutError:
        return "timed out"
    except OSError as exc:
        if exc.errno in UNREACHABLE:
            return "connection refused" if exc.errno == 111 else "host unreachable"
        raise
    finally:
        sock.close()
    return "timed out"  # pragma: no cover - datagrams_until ends by raising


def _block(resp: DNSMessage, server: str, port: int, label: str, size: int, elapsed: int) -> list[str]:
    lines = [dig_rr_text(rr) for rr in resp.answers + resp.authority]
    lines.append(f";; Received {size} bytes from {server}#{port}({label}) in {elapsed // NS_PER_MS} ms")
    return lines + [""]


async def trace(host: Any, name: str, rtype: int, server: str, port: int = 53, timeout: float = 5.0) -> str:
    """The text ``dig NAME TYPE +trace`` prints, starting from the resolver at ``server``."""
    asked = f"{name} {_type(rtype)}" if rtype != RRType.A else name
    out = ["", f"; <<>> minternet dig <<>> {asked} +trace", ";; global options: +cmd"]

    async def timed(addr: str, qname: str, qtype: int, rd: bool) -> tuple[tuple[DNSMessage, int] | str, int]:
        t0 = host.clock.now
        got = await ask(host, addr, port, qname, qtype, rd, timeout)
        return got, host.clock.now - t0

    got, elapsed = await timed(server, "", RRType.NS, True)
    if isinstance(got, str):
        return "\n".join(out + [f";; communications error to {server}#{port}: {got}",
                                f";; no servers could be reached"])
    resp, size = got
    out += _block(resp, server, port, server, size, elapsed)
    zone, ns = "", [rr for rr in resp.answers if rr.type == RRType.NS and not rr.name]
    glue = list(resp.additional)
    for _ in range(MAX_REFERRALS):
        if not ns:
            out.append(f";; no NS records for {zone or '.'}: cannot go on")
            break
        candidates = [rr.data.target for rr in ns]
        start = host.rng.randrange(len(candidates))
        resp = None
        for target in candidates[start:] + candidates[:start]:
            addrs = [rr.data.address for rr in glue if rr.type == RRType.A and name_eq(rr.name, target)]
            if not addrs:
                addrs = await _address_of(host, server, port, target, timeout)
            for addr in addrs:
                got, elapsed = await timed(addr, name, rtype, False)
                if isinstance(got, str):
                    out.append(f";; communications error to {addr}#{port}: {got}")
                    continue
                resp, size = got
                # dig names the server as dns_name_format() writes it: no final dot
                out += _block(resp, addr, port, target or ".", size, elapsed)
                break
            if resp is not None:
                break
        if resp is None:
            out.append(f";; no servers could be reached for {zone or '.'}")
            break
        referral = [rr for rr in resp.authority if rr.type == RRType.NS and is_subdomain(name, rr.name)
                    and len(canonical(rr.name)) > len(canonical(zone))
                    and (is_subdomain(rr.name, zone))]
        if resp.answers or resp.rcode != Rcode.NOERROR or not referral:
            if resp.rcode != Rcode.NOERROR and not resp.answers and not resp.authority:
                out[-1:] = [f";; status: {rcode_text(resp.rcode)}", ""]
            break
        zone = referral[0].name
        ns = [rr for rr in referral if name_eq(rr.name, zone)]
        glue = list(resp.additional)
    else:
        out.append(f";; more than {MAX_REFERRALS} referrals: giving up")
    return "\n".join(out).rstrip("\n") + "\n"


async def _address_of(host: Any, resolver: str, port: int, target: str, timeout: float) -> list[str]:
    """A name server's addresses when no glue came: dig asks getaddrinfo, which takes a name that
    is an address literal as that address, and asks the resolver for the others."""
    try:
        return [str(ipaddress.IPv4Address(target))]
    except ValueError:
        pass
    got = await ask(host, resolver, port, target, RRType.A, True, timeout)
    if isinstance(got, str):
        return []
    return [rr.data.address for rr in got[0].answers if rr.type == RRType.A]


def _type(rtype: int) -> str:
    from ...wire.dns import type_text
    return type_text(rtype)
