"""A zone: the records an authoritative server holds for one part of the name space.

A :class:`Zone` holds RRsets keyed by (canonical name, type) for class IN, and keeps the rules a
zone must obey as records are added: every name at or below the origin, one SOA at the apex, a
CNAME alone at its name (RFC 1034 3.6.2, RFC 2181 10.1), one TTL per RRset (RFC 2181 5.2).

Zones are written in two file formats: RFC 1035 master files (:mod:`.masterfile`) and a TOML
form (:mod:`.zonetoml`); :func:`.zonefile.load_zone` reads either. A mistake in a file is a
:class:`ZoneError`.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from ...wire.dns import (ResourceRecord, RRClass, RRType, canonical, canonical_rdata, class_text, is_subdomain,
                         labels_to_name, name_to_labels, normalize_name, type_text)

__all__ = ["Zone", "ZoneError", "same_ttl_set"]


class ZoneError(ValueError):
    """A mistake in a zone file: where it is and what would be valid."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


def _key(name: str) -> str:
    return canonical(name)


def _order(name: str) -> tuple[bytes, ...]:
    # RFC 4034 6.1 canonical order: by labels from the root down, case folded.
    return tuple(reversed([label.lower() for label in name_to_labels(name)]))


_TYPE_ORDER = {RRType.SOA: -2, RRType.NS: -1}


def same_ttl_set(rrset: list[ResourceRecord], rr: ResourceRecord) -> list[ResourceRecord]:
    """The records of ``rrset`` that must share ``rr``'s TTL: all of them, but for RRSIGs only those
    covering the same type (each has the TTL of the RRset it signs, RFC 4034 3)."""
    if rr.type != RRType.RRSIG:
        return rrset
    return [r for r in rrset if getattr(r.data, "type_covered", None) == getattr(rr.data, "type_covered", None)]


class Zone:
    """The RRsets of one zone (class IN), by name and type."""

    def __init__(self, origin: str, records: Iterable[ResourceRecord] = ()) -> None:
        self.origin = normalize_name(origin)
        self._apex = _key(self.origin)
        self._depth = len(name_to_labels(self.origin))
        self._rrsets: dict[tuple[str, int], list[ResourceRecord]] = {}
        self._types: dict[str, dict[int, None]] = {}  # canonical name -> its types, in order added
        self._display: dict[str, str] = {}  # canonical name -> as first written
        self._nonterminals: set[str] = set()  # ancestors of names, up to the apex
        self.warnings: list[str] = []  # what loading it found and let pass, "PATH:LINE: message"
        for rr in records:
            self.add(rr)

    # -- building -----------------------------------------------------------------------------
    def add(self, rr: ResourceRecord) -> None:
        """Add one record. ValueError when it would break the zone's rules; a duplicate of a
        record already there is ignored (an RRset is a set, RFC 2181 5), names compared without
        case as in the canonical form (RFC 4034 6.2): ``MX 10 MAIL`` is ``MX 10 mail``."""
        where = rr.name or "."
        if not is_subdomain(rr.name, self.origin):
            raise ValueError(f"{where} is outside the zone {self.origin or '.'}: names must be at or "
                             f"below the origin")
        if rr.cls != RRClass.IN:
            raise ValueError(f"class {class_text(rr.cls)}: a zone holds class IN records only")
        rtype = int(rr.type)
        if rtype in (RRType.OPT, RRType.ANY) or 128 <= rtype <= 255:
            raise ValueError(f"{type_text(rtype)} is a query or meta type, not data (RFC 6895 3.1)")
        if rr.data.rrtype != rtype:
            raise ValueError(f"{type_text(rtype)} record with {type(rr.data).__name__} rdata")
        name = _key(rr.name)
        types = self._types.get(name, {})
        if rtype == RRType.SOA:
            if name != self._apex:
                raise ValueError(f"SOA at {where}: the SOA belongs at the zone apex {self.origin or '.'}")
            if (name, rtype) in self._rrsets and not self._has(self._rrsets[(name, rtype)], rr):
                raise ValueError("a second SOA record: a zone has exactly one")
        if rtype == RRType.CNAME and any(t != RRType.CNAME for t in types):
            others = ", ".join(type_text(t) for t in types)
            raise ValueError(f"CNAME at {where} alongside {others} data: an alias can have no other "
                             f"data (RFC 1034 3.6.2)")
        if rtype != RRType.CNAME and RRType.CNAME in types:
            raise ValueError(f"{type_text(rtype)} at {where}, which is an alias (CNAME): an alias can "
                             f"have no other data (RFC 1034 3.6.2)")
        rrset = self._rrsets.get((name, rtype))
        if rrset:
            if rtype == RRType.CNAME and not self._has(rrset, rr):
                raise ValueError(f"a second CNAME at {where}: a name is an alias of one name only "
                                 f"(RFC 2181 10.1)")
            peers = same_ttl_set(rrset, rr)
            if peers and rr.ttl != peers[0].ttl:
                raise ValueError(f"TTL {rr.ttl} differs from {peers[0].ttl}, the TTL of the other "
                                 f"{type_text(rtype)} records at {where} (RFC 2181 5.2: one TTL per RRset)")
            if self._has(rrset, rr):
                return
            rrset.append(rr)
            return
        self._rrsets[(name, rtype)] = [rr]
        if name not in self._types:
            self._types[name] = {}
            self._display[name] = rr.name
            labels = name_to_labels(rr.name)
            for i in range(1, len(labels) - self._depth + 1):
                self._nonterminals.add(_key(labels_to_name(labels[i:])))
        self._types[name][rtype] = None

    def replace(self, name: str, rrtype: int, records: Iterable[ResourceRecord]) -> None:
        """Replace the RRset (name, rrtype) with ``records`` (none: delete it), as a dynamic update
        does (RFC 2136 2.5.2 then 2.5.1). ValueError as :meth:`add` when a record breaks a rule;
        the zone is then left without that RRset."""
        key = (_key(name), int(rrtype))
        self._rrsets.pop(key, None)
        self._types.get(key[0], {}).pop(key[1], None)
        for rr in records:
            self.add(rr)

    @staticmethod
    def _has(rrset: list[ResourceRecord], rr: ResourceRecord) -> bool:
        if any(r.data == rr.data for r in rrset):
            return True
        key = canonical_rdata(rr.data)
        return any(canonical_rdata(r.data) == key for r in rrset)

    # -- looking up ---------------------------------------------------------------------------
    @property
    def soa(self) -> ResourceRecord | None:
        """The SOA record at the apex, or None while there is none."""
        rrset = self._rrsets.get((self._apex, RRType.SOA))
        return rrset[0] if rrset else None

    def get(self, name: str, rrtype: int) -> list[ResourceRecord]:
        """The records of that type at that name; ``RRType.ANY``: every record at the name."""
        key = _key(name)
        if rrtype == RRType.ANY:
            return [rr for t in self._sorted_types(key) for rr in self._rrsets[(key, t)]]
        return list(self._rrsets.get((key, int(rrtype)), ()))

    def types(self, name: str) -> list[int]:
        """The types that have records at the name."""
        return self._sorted_types(_key(name))

    def _sorted_types(self, key: str) -> list[int]:
        return sorted(self._types.get(key, ()), key=lambda t: (_TYPE_ORDER.get(t, 0), t))

    def names(self) -> list[str]:
        """The names that own records, in canonical order (RFC 4034 6.1), as first written."""
        return sorted(self._display.values(), key=_order)

    def has_name(self, name: str) -> bool:
        """Whether the name exists in the zone: it owns records, or something below it does (an
        empty non-terminal, which answers NODATA, not NXDOMAIN: RFC 8020, RFC 4592 2.2.2)."""
        key = _key(name)
        return key in self._types or key in self._nonterminals

    def find_delegation(self, name: str) -> list[ResourceRecord] | None:
        """The NS records of the zone cut closest to the apex on the way down to ``name`` (``name``
        itself included, the apex excluded), or None when ``name`` is not delegated away. Data
        below a cut is not ours to answer with, except as glue (RFC 1034 4.2.1)."""
        labels = name_to_labels(name)
        if not is_subdomain(name, self.origin):
            return None
        for i in range(len(labels) - self._depth - 1, -1, -1):
            rrset = self._rrsets.get((_key(labels_to_name(labels[i:])), RRType.NS))
            if rrset:
                return list(rrset)
        return None

    def glue_for(self, ns_records: Iterable[ResourceRecord]) -> list[ResourceRecord]:
        """The A and AAAA records this zone has for the targets of the NS (or MX) records."""
        out: list[ResourceRecord] = []
        seen: set[str] = set()
        for ns in ns_records:
            target = getattr(ns.data, "target", None) or getattr(ns.data, "exchange", None)
            if target is None or _key(target) in seen:
                continue
            seen.add(_key(target))
            out += self.get(target, RRType.A) + self.get(target, RRType.AAAA)
        return out

    def __iter__(self) -> Iterator[ResourceRecord]:
        """Every record, by name in canonical order, the SOA first."""
        for name in sorted(self._types, key=_order):
            for t in self._sorted_types(name):
                yield from self._rrsets[(name, t)]

    def __len__(self) -> int:
        return sum(len(rrset) for rrset in self._rrsets.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Zone):
            return NotImplemented
        return (self._apex == other._apex and self._rrsets.keys() == other._rrsets.keys()
                and all(set(v) == set(other._rrsets[k]) for k, v in self._rrsets.items()))

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Zone({self.origin!r}, {len(self)} records)"

    # -- writing ------------------------------------------------------------------------------
    def relative(self, name: str) -> str:
        """The name as written in this zone's master file: ``@``, relative, or absolute."""
        if not is_subdomain(name, self.origin):
            return (name + ".") if name else "."
        labels = name_to_labels(name)
        rel = labels[:len(labels) - self._depth]
        return labels_to_name(rel) if rel else "@"

    def to_text(self) -> str:
        """The zone as a master file that :func:`.masterfile.parse_master` reads back to an equal zone."""
        lines = [f"$ORIGIN {self.origin + '.' if self.origin else '.'}"]
        for rr in self:
            lines.append(f"{self.relative(rr.name)}\t{rr.ttl}\tIN\t{type_text(rr.type)}\t"
                         f"{rr.data.to_text()}")
        return "\n".join(lines) + "\n"

