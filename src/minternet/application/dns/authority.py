"""The answering logic of an authoritative name server, pure: zones and a query in, a response out
(RFC 1034 4.3.2, negative answers as RFC 2308). No recursion, no wildcards (RFC 4592), no DNSSEC.

The server around it decodes the query, drops anything with QR set (answering responses makes
reflection loops) and sends ``encode_limited(answer(zones, query), 512)`` back over UDP.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from ...wire.dns import (DNSMessage, Opcode, Rcode, ResourceRecord, RRClass, RRType, canonical,
                         is_subdomain, make_response, name_to_labels)
from .zone import Zone

_ZONE_TRANSFERS = frozenset({251, 252})  # IXFR, AXFR: not over this path


def find_zone(zones: Iterable[Zone], name: str) -> Zone | None:
    """The zone with the longest origin at or above ``name``: the closest enclosing one."""
    best, depth = None, -1
    for zone in zones:
        if is_subdomain(name, zone.origin):
            d = len(name_to_labels(zone.origin))
            if d > depth:
                best, depth = zone, d
    return best


def negative_soa(zone: Zone) -> ResourceRecord | None:
    """The SOA for the authority section of a negative answer, with the negative-caching TTL:
    the lesser of its own TTL and its minimum field (RFC 2308 3)."""
    soa = zone.soa
    if soa is None:
        return None
    return replace(soa, ttl=min(soa.ttl, soa.data.minimum))


def _addresses(zone: Zone, records: Iterable[ResourceRecord], exclude: Iterable[ResourceRecord]) -> list[ResourceRecord]:
    """Addresses from the zone for the targets of NS and MX records (RFC 1034 4.3.2 step 6),
    leaving out what the response already carries."""
    have = set(exclude)
    return [rr for rr in zone.glue_for(r for r in records if r.type in (RRType.NS, RRType.MX))
            if rr not in have]


def answer(zones: list[Zone], query: DNSMessage) -> DNSMessage:
    """The response an authoritative server with these zones gives to ``query``.

    QR set, id, opcode, question and RD copied, RA clear. FORMERR unless there is exactly one
    question, NOTIMP for anything but a standard query, REFUSED for a class other than IN/ANY or
    a name in none of the zones.
    """
    if query.opcode != Opcode.QUERY:
        return make_response(query, rcode=Rcode.NOTIMP)
    if len(query.questions) != 1:
        # No question to echo meaningfully: send the header alone, as BIND does.
        return replace(make_response(query, rcode=Rcode.FORMERR), questions=())
    q = query.questions[0]
    if q.cls not in (RRClass.IN, RRClass.ANY):
        return make_response(query, rcode=Rcode.REFUSED)
    if q.type in _ZONE_TRANSFERS:
        return make_response(query, rcode=Rcode.NOTIMP)
    zone = find_zone(zones, q.name)
    if zone is None:
        return make_response(query, rcode=Rcode.REFUSED)

    answers: list[ResourceRecord] = []
    qname = q.name
    seen = {canonical(qname)}
    while True:
        cut = zone.find_delegation(qname)
        if cut is not None:
            # RFC 1034 4.3.2 step 3b: the name is in a child zone: a referral, with glue. AA only
            # covers what we answered before the chain left our authority (RFC 1035 4.1.1).
            # In-domain glue first (the addresses of name servers inside the child zone, which a
            # resolver cannot learn elsewhere): encode_limited sets TC if it does not fit (RFC 9471 3).
            glue = zone.glue_for(cut)
            inside = [rr for rr in glue if is_subdomain(rr.name, cut[0].name)]
            return make_response(query, aa=bool(answers), answers=answers, authority=cut,
                                 additional=inside + [rr for rr in glue if rr not in inside])
        if not zone.has_name(qname):
            # Step 3c: no such name. After a CNAME the rcode is about the last name of the chain
            # (RFC 6604 2.1); the SOA lets caches keep the negative answer (RFC 2308 3).
            return _negative(query, zone, Rcode.NXDOMAIN, answers)
        if q.type == RRType.ANY:
            found = zone.get(qname, RRType.ANY)
        else:
            found = zone.get(qname, q.type)
        if found:
            answers += found
            return make_response(query, aa=True, answers=answers,
                                 additional=_addresses(zone, found, answers))
        cname = zone.get(qname, RRType.CNAME)
        if not cname:
            return _negative(query, zone, Rcode.NOERROR, answers)  # NODATA (RFC 2308 2.2)
        # Step 3a: an alias: answer with it and go on with its target, as long as the target
        # is ours to answer for (same zone) and the chain does not loop.
        answers += cname
        qname = cname[0].data.target
        if canonical(qname) in seen or not is_subdomain(qname, zone.origin):
            return make_response(query, aa=True, answers=answers)
        seen.add(canonical(qname))


def needed_glue(response: DNSMessage) -> int:
    """How many additional records, from the first, a response cannot do without: a referral's
    in-domain glue (RFC 9471 2.1), which :func:`answer` puts first; 0 for any other response."""
    cut = next((rr.name for rr in response.authority if rr.type == RRType.NS), None)
    if cut is None:
        return 0
    n = 0
    for rr in response.additional:
        if rr.type not in (RRType.A, RRType.AAAA) or not is_subdomain(rr.name, cut):
            break
        n += 1
    return n


def _negative(query: DNSMessage, zone: Zone, rcode: int, answers: list[ResourceRecord]) -> DNSMessage:
    soa = negative_soa(zone)
    if soa is None:  # a zone without an SOA cannot give a cacheable negative answer
        return make_response(query, rcode=Rcode.SERVFAIL)
    return make_response(query, rcode=rcode, aa=True, answers=answers, authority=(soa,))
