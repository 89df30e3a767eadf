"""A recursive resolver (RFC 1034 5.3.3, RFC 2308 negative caching) that walks the hierarchy
itself: root -> TLD -> authoritative, following referrals and CNAMEs, caching by TTL.

Spoofing defences, as in every modern resolver: a random 16-bit ID and a random source port per
query (RFC 5452), an answer is accepted only if it comes from the address and port we asked, with
our ID and our question, and records outside the zone of the server that sent them ("out of
bailiwick") are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...runtime import NS_PER_S
from ...wire.dns import (SOA, DNSMessage, Edns, Rcode, ResourceRecord, RRType, canonical,
                         is_subdomain, name_eq)
from .edns import EDNS_PAYLOAD
from .exchange import query_udp

MAX_CNAME_CHAIN = 8
MAX_QUERIES = 40  # per resolution, against loops and amplification
LAME_TTL = 600 * NS_PER_S  # a server found lame for a zone is not asked again for 10 minutes
MAX_DEPTH = 4  # nested resolutions of NS names without glue


@dataclass
class Step:
    """One query the resolver sent, for teaching: who was asked what, and what came back."""

    server: str  # address
    zone: str  # the zone that server is asked as an authority for ("" = root)
    question: str
    outcome: str
    elapsed: int = 0  # ns


@dataclass
class Resolution:
    name: str
    type: int
    rcode: int = Rcode.NOERROR
    answers: list[ResourceRecord] = field(default_factory=list)  # the CNAME chain, then the records
    authority: list[ResourceRecord] = field(default_factory=list)  # SOA for a negative answer
    steps: list[Step] = field(default_factory=list)
    from_cache: bool = False

    @property
    def addresses(self) -> list[str]:
        return [rr.data.address for rr in self.answers if rr.type in (RRType.A, RRType.AAAA)]


@dataclass
class _Entry:
    expires: int
    rcode: int
    records: list[ResourceRecord]
    soa: list[ResourceRecord]
    trusted: bool = True  # False for referral NS and glue: good for finding servers, not as answers


MAX_CACHE_TTL = 7 * 86400  # BIND's max-cache-ttl: a positive answer is kept at most a week
MAX_NCACHE_TTL = 3 * 3600  # BIND's max-ncache-ttl: a negative answer at most three hours


def effective_ttl(ttl: int) -> int:
    """RFC 2181 8: a TTL with the most significant bit set is treated as zero."""
    return 0 if ttl & 0x80000000 else ttl


class Cache:
    """RRsets and negative answers keyed by (name, type), each kept for its TTL (capped as BIND
    caps it)."""

    def __init__(self, clock: Any, max_entries: int = 10_000) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._data: dict[tuple[str, int], _Entry] = {}
        self.hits = 0
        self.misses = 0

    def get(self, name: str, rtype: int) -> _Entry | None:
        key = (canonical(name), rtype)
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.expires <= self.clock.now:
            del self._data[key]
            return None
        return entry

    def remaining_ttl(self, entry: _Entry) -> int:
        return max(0, (entry.expires - self.clock.now) // NS_PER_S)

    def put(self, name: str, rtype: int, records: list[ResourceRecord], rcode: int = Rcode.NOERROR,
            soa: list[ResourceRecord] | None = None, ttl: int | None = None, trusted: bool = True) -> None:
        """Store an RRset (or a negative answer). RFC 2181 5.4.1: data from an authoritative answer
        (trusted) is never replaced by referral data or glue (untrusted)."""
        old = self.get(name, rtype)
        if old is not None and old.trusted and not trusted:
            return
        if ttl is None:
            ttl = min((effective_ttl(rr.ttl) for rr in records), default=0)
        ttl = min(effective_ttl(ttl), MAX_CACHE_TTL if records else MAX_NCACHE_TTL)
        if ttl <= 0:
            return
        if len(self._data) >= self.max_entries:
            self._data.pop(next(iter(self._data)))
        self._data[(canonical(name), rtype)] = _Entry(self.clock.now + ttl * NS_PER_S, rcode, list(records),
                                                      list(soa or []), trusted)

    def put_rrsets(self, records: list[ResourceRecord], trusted: bool = True) -> None:
        groups: dict[tuple[str, int], list[ResourceRecord]] = {}
        for rr in records:
            groups.setdefault((canonical(rr.name), rr.type), []).append(rr)
        for (name, rtype), rrs in groups.items():
            self.put(name, rtype, rrs, trusted=trusted)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_NXDOMAIN_KEY = -1  # cache type for "this name does not exist at all"


def negative_ttl(soa_records: list[ResourceRecord]) -> int:
    """RFC 2308 5: the TTL of a negative answer is min(SOA TTL, SOA minimum)."""
    for rr in soa_records:
        if isinstance(rr.data, SOA):
            return min(effective_ttl(rr.ttl), effective_ttl(rr.data.minimum))
    return 0


class RecursiveResolver:
    """Resolves names by asking the hierarchy, on any host that offers ``socket()``, ``rng`` and
    ``clock`` (a simulated host, or :class:`minternet.real.ossocket.OSHost`)."""

    def __init__(self, host: Any, root_hints: list[tuple[str, str]], port: int = 53,
                 timeout: float = 2.0, attempts: int = 2, edns_payload: int | None = EDNS_PAYLOAD) -> None:
        """``edns_payload``: the UDP payload size to advertise with EDNS(0), 1232 as DNS Flag Day
        2020 settled (BIND's edns-udp-size); None to send no OPT record."""
        self.host = host
        self.edns = Edns(edns_payload) if edns_payload is not None else None
        self.no_edns: dict[str, int] = {}  # server address -> until when we ask it without EDNS
        self.root_hints = list(root_hints)  # (name server name, address)
        self.port = port
        self.timeout = timeout
        self.attempts = attempts
        self.cache = Cache(host.clock)
        self.lame: dict[tuple[str, str], int] = {}  # (zone, server address) -> until when it is lame
        self.stats: dict[str, int] = {"queries_sent": 0, "timeouts": 0, "unreachable": 0, "ignored_responses": 0, "tcp_retries": 0,
                                      "out_of_bailiwick": 0, "lame_servers": 0, "edns_fallbacks": 0}

    # -- public -------------------------------------------------------------------------------------
    async def resolve(self, name: str, rtype: int = RRType.A) -> Resolution:
        result = Resolution(name, rtype)
        budget = [MAX_QUERIES]
        await self._resolve(name, rtype, result, budget, depth=0)
        return result

    # -- the walk -------------------------------------------------------------------------------------
    async def _resolve(self, name: str, rtype: int, result: Resolution, budget: list[int], depth: int) -> None:
        sent_before = self.stats["queries_sent"]
        try:
            for _ in range(MAX_CNAME_CHAIN):
                if self._from_cache(name, rtype, result):
                    return
                if rtype != RRType.CNAME:
                    cname = self.cache.get(name, RRType.CNAME)
                    if cname is not None:
                        result.answers.extend(cname.records)
                        name = cname.records[0].data.target
                        continue
                target = await self._iterate(name, rtype, result, budget, depth)
                if target is None:
                    return
                name = target  # a CNAME to follow
            result.rcode = Rcode.SERVFAIL  # CNAME chain too long
        finally:
            result.from_cache = self.stats["queries_sent"] == sent_before

    def _from_cache(self, name: str, rtype: int, result: Resolution) -> bool:
        """Answer from the cache if it holds the records, or a negative answer, for (name, type)."""
        nx = self.cache.get(name, _NXDOMAIN_KEY)
        if nx is not None:
            result.rcode = Rcode.NXDOMAIN
            result.authority = nx.soa
            return True
        entry = self.cache.get(name, rtype)
        if entry is None or not entry.trusted:
            return False
        result.rcode = entry.rcode
        ttl = self.cache.remaining_ttl(entry)
        result.answers.extend(ResourceRecord(rr.name, rr.type, rr.cls, ttl, rr.data) for rr in entry.records)
        result.authority = entry.soa
        return True

    def _best_servers(self, name: str) -> tuple[str, list[str], list[str]]:
        """The deepest zone above ``name`` whose name servers we know: (zone, addresses, NS names)."""
        labels = canonical(name).split(".") if name else []
        for i in range(len(labels) + 1):
            zone = ".".join(labels[i:])
            ns = self.cache.get(zone, RRType.NS)
            if ns is None:
                continue
            names = [rr.data.target for rr in ns.records]
            addrs = []
            for target in names:
                a = self.cache.get(target, RRType.A)
                if a is not None:
                    addrs.extend(rr.data.address for rr in a.records)
            if not addrs and not zone:
                # The root's NS set came in an answer, without addresses: the hints have them
                # (RFC 8109 3), or each root server's address would need itself to be found.
                addrs = [addr for _, addr in self.root_hints]
            if addrs or names:
                return zone, addrs, names
        return "", [addr for _, addr in self.root_hints], [n for n, _ in self.root_hints]

    async def _iterate(self, name: str, rtype: int, result: Resolution, budget: list[int], depth: int) -> str | None:
        """Ask servers, from the best known down, until an answer. Returns a CNAME target to follow
        next, or None when ``result`` is final."""
        zone, servers, ns_names = self._best_servers(name)
        while True:
            servers = self._not_lame(zone, servers)
            if not servers and ns_names and depth < MAX_DEPTH:
                servers = self._not_lame(zone, await self._addresses_of(ns_names, result, budget, depth))
            if not servers:
                result.rcode = Rcode.SERVFAIL
                return None
            resp, server = await self._query_any(servers, name, rtype, zone, result, budget)
            if resp is None:
                result.rcode = Rcode.SERVFAIL
                return None
            answers = self._in_bailiwick(resp.answers, zone)
            authority = self._in_bailiwick(resp.authority, zone)
            additional = self._in_bailiwick(resp.additional, zone)
            if resp.rcode == Rcode.NXDOMAIN:
                # RFC 6604: the name that does not exist is the end of the CNAME chain that starts
                # at the name we asked. Only a server for that name's zone may say so: a target
                # outside its bailiwick is asked of those who serve it (no negative-cache poisoning).
                current, chain = name, []
                for _ in range(MAX_CNAME_CHAIN):
                    cname = [rr for rr in answers if name_eq(rr.name, current) and rr.type == RRType.CNAME]
                    if not cname:
                        break
                    chain.append(cname[0])
                    current = cname[0].data.target
                result.answers.extend(chain)
                if chain and not is_subdomain(current, zone):
                    self.stats["out_of_bailiwick"] += 1
                    return current
                soa = [rr for rr in authority if rr.type == RRType.SOA]
                self.cache.put(current, _NXDOMAIN_KEY, [], Rcode.NXDOMAIN, soa, ttl=negative_ttl(soa))
                result.rcode = Rcode.NXDOMAIN
                result.authority = soa
                return None
            if resp.full_rcode != Rcode.NOERROR:
                self._mark_lame(zone, server)
                servers = [s for s in servers if s != server]
                continue
            # Follow the answer section: CNAMEs from our name, then the records we asked for.
            current = name
            chain: list[ResourceRecord] = []
            for _ in range(MAX_CNAME_CHAIN):
                cname = [rr for rr in answers if name_eq(rr.name, current) and rr.type == RRType.CNAME]
                if not cname or rtype == RRType.CNAME:
                    break
                chain.append(cname[0])
                self.cache.put(current, RRType.CNAME, cname[:1])
                current = cname[0].data.target
            final = [rr for rr in answers if name_eq(rr.name, current) and (rr.type == rtype or rtype == RRType.ANY)]
            result.answers.extend(chain)
            if final:
                self.cache.put(current, rtype, final)
                result.answers.extend(final)
                return None
            if chain:
                return current  # the target is elsewhere: resolve it from the top again
            referral = [rr for rr in authority if rr.type == RRType.NS and is_subdomain(name, rr.name)
                        and not name_eq(rr.name, zone)]
            if referral:
                zone = referral[0].name
                referral = [rr for rr in referral if name_eq(rr.name, zone)]
                self.cache.put(zone, RRType.NS, referral, trusted=False)
                ns_names = [rr.data.target for rr in referral]
                wanted = {canonical(n) for n in ns_names}
                # Glue: addresses of the name servers we were just referred to, and nothing else.
                glue = [rr for rr in additional if rr.type == RRType.A and canonical(rr.name) in wanted]
                self.cache.put_rrsets(glue, trusted=False)
                servers = [rr.data.address for rr in glue]
                continue
            # NOERROR with no data: the name exists without records of this type (RFC 2308 2.2).
            soa = [rr for rr in authority if rr.type == RRType.SOA]
            if soa or resp.aa:
                self.cache.put(name, rtype, [], Rcode.NOERROR, soa, ttl=negative_ttl(soa))
                result.authority = soa
                return None
            self._mark_lame(zone, server)  # a lame answer: try another server, and not this one again
            servers = [s for s in servers if s != server]

    def _mark_lame(self, zone: str, server: str) -> None:
        self.lame[(canonical(zone), server)] = self.host.clock.now + LAME_TTL
        self.stats["lame_servers"] += 1

    def _not_lame(self, zone: str, servers: list[str]) -> list[str]:
        """``servers`` without those found lame for ``zone`` lately (so one lame server costs one
        query, not the whole budget)."""
        if not self.lame:
            return servers
        now, key = self.host.clock.now, canonical(zone)
        return [s for s in servers if self.lame.get((key, s), 0) <= now]

    async def _addresses_of(self, ns_names: list[str], result: Resolution, budget: list[int], depth: int) -> list[str]:
        for target in ns_names:
            sub = Resolution(target, RRType.A)
            await self._resolve(target, RRType.A, sub, budget, depth + 1)
            result.steps.extend(sub.steps)
            if sub.addresses:
                return sub.addresses
        return []

    def _in_bailiwick(self, records: tuple[ResourceRecord, ...] | list[ResourceRecord], zone: str) -> list[ResourceRecord]:
        kept = [rr for rr in records if is_subdomain(rr.name, zone)]
        self.stats["out_of_bailiwick"] += len(records) - len(kept)
        return kept

    # -- one exchange -------------------------------------------------------------------------------
    async def _query_any(self, servers: list[str], name: str, rtype: int, zone: str, result: Resolution,
                         budget: list[int]) -> tuple[DNSMessage | None, str | None]:
        start = self.host.rng.randrange(len(servers))
        order = servers[start:] + servers[:start]
        for _ in range(self.attempts):
            for server in order:
                if budget[0] <= 0:
                    return None, None
                budget[0] -= 1
                t0 = self.host.clock.now
                resp = await self._exchange(server, name, rtype)
                elapsed = self.host.clock.now - t0
                outcome = "no answer (timeout)" if resp is None else resp.summary()
                result.steps.append(Step(server, zone, f"{name} {_type_name(rtype)}", outcome, elapsed))
                if resp is not None:
                    return resp, server
        return None, None

    async def _exchange(self, server: str, name: str, rtype: int) -> DNSMessage | None:
        """One query from a fresh random port with a fresh random ID; only the matching answer
        from that server and port counts (see exchange.py).

        With EDNS: a server that answers FORMERR, NOTIMP or BADVERS to our OPT record does not do
        EDNS (right); it is asked again at once without, and without for a while after, as BIND
        does (resolver.c: the NOEDNS0 retry; no fallback on a timeout since DNS Flag Day 2019)."""
        now = self.host.clock.now
        edns = self.edns if self.no_edns.get(server, 0) <= now else None
        resp = await query_udp(self.host, server, self.port, name, rtype, False, self.timeout, self.stats, edns)
        if edns is not None and resp is not None and resp.full_rcode in _NO_EDNS_RCODES:
            self.stats["edns_fallbacks"] += 1
            self.no_edns[server] = now + LAME_TTL
            resp = await query_udp(self.host, server, self.port, name, rtype, False, self.timeout, self.stats)
        return resp


_NO_EDNS_RCODES = frozenset({Rcode.FORMERR, Rcode.NOTIMP, Rcode.BADVERS})


def _type_name(rtype: int) -> str:
    try:
        return RRType(rtype).name
    except ValueError:
        return f"TYPE{rtype}"
