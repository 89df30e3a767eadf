r"""Zones: the records an authoritative server holds for one part of the name space, and the two
file formats they are written in.

A :class:`Zone` holds RRsets keyed by (canonical name, type) for class IN, and keeps the rules a
zone must obey as records are added: every name at or below the origin, one SOA at the apex, a
CNAME alone at its name (RFC 1034 3.6.2, RFC 2181 10.1), one TTL per RRset (RFC 2181 5.2).

**Master files** (RFC 1035 5), read by :func:`parse_master`::

    $ORIGIN example.com.
    $TTL 1h
    @       IN  SOA  ns1 hostmaster ( 2024010101 ; serial
                                      1d 2h 1000h 1h )
            IN  NS   ns1                ; owner inherited: the line starts with whitespace
    ns1         A    10.0.2.53
    www     300 IN A 10.0.2.10          ; TTL and class in either order, both optional
    mail        AAAA 2001:db8::25
    @           MX   10 mail
    @           TXT  "v=spf1 mx -all" "second \"string\""
    alias       CNAME www
    x           TYPE65280 \# 2 abcd    ; RFC 3597 generic syntax, for any type

Names ending in a dot are absolute, others are relative to the current ``$ORIGIN``; ``@`` is the
origin. A record without a TTL takes the ``$TTL``; without one, the last TTL given (RFC 1035 5.1);
before any, the SOA minimum (its old meaning, dropped by RFC 2308 4 but still found in files):
the rules dnspython follows. The zone's origin is the ``origin`` argument, or else the owner of
the SOA record.

**TOML zones**, read by :func:`parse_toml`::

    origin = "example.com"      # required; the root zone is ""
    ttl = "1h"                  # default TTL: seconds, or units s m h d w ("1h30m"); default 1h

    [soa]
    mname = "ns1"               # names: relative to origin, "@" for it, absolute with a final dot
    rname = "hostmaster"        # the mailbox hostmaster@example.com
    serial = 1
    # refresh = "1d", retry = "2h", expire = "1000h", minimum = "1h" are the defaults (RIPE-203);
    # ttl defaults to the zone's

    [[record]]
    name = "www"                # default "@"
    type = "A"
    value = "10.0.2.10"         # rdata in master-file syntax: "10 mail" for MX, "\\# 2 abcd"...
    ttl = 300                   # optional

    [[record]]
    name = "@"
    type = "TXT"
    value = "v=spf1 mx -all"    # for TXT, the text itself (UTF-8, cut into 255-byte strings)

    [[record]]
    name = "@"
    type = "NS"
    values = ["ns1", "ns2.example.net."]   # several records of one RRset

:func:`load_zone` picks the format by extension (``.toml``, anything else is a master file).
Every mistake raises :class:`ZoneError`, ``PATH:LINE: message``, saying what would be valid.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Callable, Iterable, Iterator, NoReturn

from ...wire.dns import (RDATA_CLASSES, SOA, TXT, ResourceRecord, RRClass, RRType, canonical, class_text, decode_rdata, is_subdomain, labels_to_name,
                         name_to_labels, normalize_name, type_text)
from ...wire.errors import MalformedPacket

__all__ = ["Zone", "ZoneError", "load_zone", "parse_master", "parse_toml"]

SUPPORTED_TYPES = "A, AAAA, CNAME, MX, NS, PTR, SOA, TXT, or TYPEnnn with \\# rdata (RFC 3597)"
MAX_TTL = 2**31 - 1  # RFC 2181 8


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
        for rr in records:
            self.add(rr)

    # -- building -----------------------------------------------------------------------------
    def add(self, rr: ResourceRecord) -> None:
        """Add one record. ValueError when it would break the zone's rules; a duplicate of a
        record already there is ignored (an RRset is a set, RFC 2181 5)."""
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
            if (name, rtype) in self._rrsets and rr.data not in [r.data for r in self._rrsets[(name, rtype)]]:
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
            if rtype == RRType.CNAME and rr.data != rrset[0].data:
                raise ValueError(f"a second CNAME at {where}: a name is an alias of one name only "
                                 f"(RFC 2181 10.1)")
            if rr.ttl != rrset[0].ttl:
                raise ValueError(f"TTL {rr.ttl} differs from {rrset[0].ttl}, the TTL of the other "
                                 f"{type_text(rtype)} records at {where} (RFC 2181 5.2: one TTL per RRset)")
            if any(r.data == rr.data for r in rrset):
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
        """The zone as a master file that :func:`parse_master` reads back to an equal zone."""
        lines = [f"$ORIGIN {self.origin + '.' if self.origin else '.'}"]
        for rr in self:
            lines.append(f"{self.relative(rr.name)}\t{rr.ttl}\tIN\t{type_text(rr.type)}\t"
                         f"{rr.data.to_text()}")
        return "\n".join(lines) + "\n"


# -- master files -----------------------------------------------------------------------------------
class _Tok:
    __slots__ = ("text", "quoted", "line")

    def __init__(self, text: str, quoted: bool, line: int) -> None:
        self.text = text  # escapes kept as written; without the quotes for a quoted string
        self.quoted = quoted
        self.line = line


def _tokenize(text: str, path: str) -> Iterator[tuple[int, bool, list[_Tok]]]:
    """Logical lines of a master file (RFC 1035 5.1): (first line number, starts with whitespace,
    tokens). Parentheses join lines; comments and blank lines are gone."""
    i, n, line = 0, len(text), 1
    depth, paren_line = 0, 0
    tokens: list[_Tok] = []
    start, indented, at_start = 1, False, True
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            if depth == 0:
                if tokens:
                    yield start, indented, tokens
                tokens, at_start = [], True
            continue
        if at_start:
            start, indented, at_start = line, c in " \t", False
        if c in " \t\r":
            i += 1
        elif c == ";":
            while i < n and text[i] != "\n":
                i += 1
        elif c == "(":
            if depth == 0:
                paren_line = line
            depth += 1
            i += 1
        elif c == ")":
            if depth == 0:
                raise ZoneError(path, line, "')' without a matching '('")
            depth -= 1
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\n":
                    break
                j += 2 if text[j] == "\\" else 1
            if j >= n or text[j] != '"':
                raise ZoneError(path, line, "unterminated quoted string: close it with '\"' on the "
                                "same line")
            tokens.append(_Tok(text[i + 1:j], True, line))
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in ' \t\r\n;()"':
                if text[j] == "\\":
                    if j + 1 >= n or text[j + 1] == "\n":
                        raise ZoneError(path, line, "a backslash at the end of a line escapes nothing")
                    j += 2
                else:
                    j += 1
            tokens.append(_Tok(text[i:j], False, line))
            i = j
    if depth:
        raise ZoneError(path, paren_line, "'(' is never closed: add ')'")
    if tokens:
        yield start, indented, tokens


def _unescape(text: str) -> bytes:
    r"""The bytes of a character-string as written (RFC 1035 5.1: \X is X, \DDD is a byte)."""
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            d = text[i + 1:i + 4]
            if len(d) == 3 and d.isascii() and d.isdigit():
                if int(d) > 255:
                    raise ValueError(f"\\{d} is not a byte (000 to 255)")
                out.append(int(d))
                i += 4
                continue
            if "0" <= text[i + 1] <= "9":
                raise ValueError(f"\\{d}: a \\DDD escape needs three decimal digits")
            c = text[i + 1]
            i += 1
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


_TTL_RE = re.compile(r"\d+|(?:\d+[smhdwSMHDW])+")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_ttl(text: str) -> int:
    """A TTL: seconds, or BIND's units (``1h30m``, ``2d``, ``1w``). ValueError otherwise."""
    if not _TTL_RE.fullmatch(text):
        raise ValueError(f"bad TTL {text!r}: expected seconds or units s m h d w, like 3600 or 1h")
    value = int(text) if text.isdigit() else sum(
        int(num) * _UNITS[unit.lower()] for num, unit in re.findall(r"(\d+)([smhdwSMHDW])", text))
    if value > MAX_TTL:
        raise ValueError(f"TTL {text} is over {MAX_TTL} seconds (RFC 2181 8)")
    return value


def _is_absolute(text: str) -> bool:
    if not text.endswith("."):
        return False
    backslashes = len(text) - 1 - len(text[:-1].rstrip("\\"))
    return backslashes % 2 == 0  # "a\." ends in an escaped dot, "a\\." in a real one


class _Reader:
    """Turns tokens into names and rdata, relative to an origin; errors at a path and line."""

    def __init__(self, path: str, origin: str | None) -> None:
        self.path = path
        self.origin = origin
        self.line = 1

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        raise ZoneError(self.path, self.line if line is None else line, message)

    def name(self, tok: _Tok) -> str:
        if tok.quoted:
            self.fail(f'"{tok.text}": a name is written without quotes')
        text = tok.text
        if text == "@" or not _is_absolute(text):
            if self.origin is None:
                self.fail(f"relative name {text!r} but no origin: pass origin=, add a $ORIGIN line "
                          "or end the name with a dot")
            if text == "@":
                return self.origin
            text = f"{text}.{self.origin}" if self.origin else text
        try:
            return normalize_name(text)
        except ValueError as exc:
            self.fail(f"bad name {tok.text!r}: {exc}")

    def number(self, tok: _Tok, what: str, bits: int, ttl_units: bool = False) -> int:
        try:
            value = parse_ttl(tok.text) if ttl_units else int(tok.text) if tok.text.isdigit() else -1
        except ValueError:
            value = -1
        if tok.quoted or not 0 <= value < 1 << bits:
            extra = " (units s m h d w allowed)" if ttl_units else ""
            self.fail(f"bad {what} {tok.text!r}: expected a number from 0 to {(1 << bits) - 1}{extra}")
        return value

    def rdata(self, rrtype: int, toks: list[_Tok]):
        if toks and toks[0].text == "\\#" and not toks[0].quoted:
            return self.generic(rrtype, toks[1:])
        cls = RDATA_CLASSES.get(rrtype)
        if cls is None:
            self.fail(f"{type_text(rrtype)} rdata must be written \\# LENGTH HEX (RFC 3597 5)")
        spec = _FIELDS[rrtype]
        if rrtype == RRType.TXT:
            if not toks:
                self.fail("TXT needs at least one string, like \"hello\"")
            try:
                strings = tuple(_unescape(t.text) for t in toks)
            except ValueError as exc:
                self.fail(f"bad TXT string: {exc}")
            for s in strings:
                if len(s) > 255:
                    self.fail(f"TXT string of {len(s)} bytes: at most 255 each; split it into several "
                              "quoted strings")
            return TXT(strings)
        if len(toks) != len(spec):
            self.fail(f"{type_text(rrtype)} takes {len(spec)} field{'s' if len(spec) > 1 else ''} "
                      f"({', '.join(spec)}), got {len(toks)}")
        if rrtype in (RRType.A, RRType.AAAA):
            try:
                return cls(toks[0].text)
            except ValueError:
                example = "192.0.2.1" if rrtype == RRType.A else "2001:db8::1"
                self.fail(f"bad {'IPv4' if rrtype == RRType.A else 'IPv6'} address {toks[0].text!r}: "
                          f"expected one like {example}")
        if rrtype == RRType.MX:
            return cls(self.number(toks[0], "MX preference", 16), self.name(toks[1]))
        if rrtype == RRType.SOA:
            return SOA(self.name(toks[0]), self.name(toks[1]), self.number(toks[2], "SOA serial", 32),
                       *(self.number(t, f"SOA {f}", 32, ttl_units=True)
                         for t, f in zip(toks[3:], spec[3:])))
        return cls(self.name(toks[0]))  # NS, CNAME, PTR

    def generic(self, rrtype: int, toks: list[_Tok]):
        if not toks or not toks[0].text.isdigit():
            self.fail("\\# needs a length and hex data, like \\# 4 0a000001 (RFC 3597 5)")
        length = int(toks[0].text)
        try:
            data = bytes.fromhex("".join(t.text for t in toks[1:]))
        except ValueError:
            self.fail("\\# data must be hexadecimal digits, like \\# 4 0a000001 (RFC 3597 5)")
        if len(data) != length:
            self.fail(f"\\# says {length} bytes but the hex data has {len(data)}")
        try:
            rdata = decode_rdata(data, rrtype, RRClass.IN, 0, len(data))
        except MalformedPacket as exc:
            self.fail(f"\\# data is not valid {type_text(rrtype)} rdata: {exc.detail or exc.reason}")
        except ValueError as exc:
            self.fail(f"\\# data is not valid {type_text(rrtype)} rdata: {exc}")
        return rdata

    def rrtype(self, tok: _Tok) -> int:
        text = tok.text.upper()
        if text in _MNEMONICS:
            return _MNEMONICS[text]
        if text.startswith("TYPE") and text[4:].isdigit() and int(text[4:]) < 65536:
            rrtype = int(text[4:])
            if rrtype in (RRType.OPT, RRType.ANY) or 128 <= rrtype <= 255 or rrtype == 0:
                self.fail(f"{tok.text} is a query or meta type, not data (RFC 6895 3.1)")
            return rrtype
        self.fail(f"unknown type {tok.text!r}: supported types are {SUPPORTED_TYPES}")


_MNEMONICS = {type_text(t): int(t) for t in RDATA_CLASSES}
_FIELDS = {RRType.A: ("an IPv4 address",), RRType.AAAA: ("an IPv6 address",),
           RRType.NS: ("a name server name",), RRType.CNAME: ("the canonical name",),
           RRType.PTR: ("a name",), RRType.MX: ("preference", "exchange"),
           RRType.TXT: ("strings",),
           RRType.SOA: ("mname", "rname", "serial", "refresh", "retry", "expire", "minimum")}
_CLASS_WORDS = {"IN": 1, "CLASS1": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255}


def _build(entries: list[tuple[int, ResourceRecord]], origin: str | None, path: str) -> Zone:
    """A zone from (line, record) pairs, its origin given or taken from the SOA."""
    soas = [(line, rr) for line, rr in entries if rr.type == RRType.SOA]
    if origin is None:
        if not soas:
            raise ZoneError(path, 1, "no SOA record: a zone needs one at its apex")
        origin = soas[0][1].name
    zone = Zone(origin)
    for line, rr in entries:
        if rr.type == RRType.SOA and canonical(rr.name) != canonical(zone.origin):
            raise ZoneError(path, line, f"SOA at {rr.name or '.'}, but the zone origin is "
                            f"{zone.origin or '.'}: the SOA belongs at the apex")
        try:
            zone.add(rr)
        except ValueError as exc:
            raise ZoneError(path, line, str(exc)) from None
    if zone.soa is None:
        raise ZoneError(path, 1, f"no SOA record at the apex {zone.origin or '.'}: a zone "
                        "needs exactly one")
    if not zone.get(zone.origin, RRType.NS):
        raise ZoneError(path, soas[0][0] if soas else 1, f"no NS record at the apex "
                        f"{zone.origin or '.'}: a zone names at least one name server (RFC 1034 4.2.1)")
    return zone


def parse_master(text: str, origin: str | None = None, path: str = "<zone>") -> Zone:
    """A zone from an RFC 1035 master file (see the module docstring for what is understood)."""
    r = _Reader(path, None)
    if origin is not None:
        try:
            r.origin = normalize_name(origin)
        except ValueError as exc:
            raise ZoneError(path, 1, f"bad origin {origin!r}: {exc}") from None
    default_ttl: int | None = None  # from $TTL
    last_ttl: int | None = None
    soa_ttl: int | None = None  # the SOA minimum, the last resort
    owner: str | None = None
    entries: list[tuple[int, ResourceRecord]] = []
    for line, indented, toks in _tokenize(text, path):
        r.line = line
        first = toks[0]
        if not indented and not first.quoted and first.text.startswith("$"):
            word = first.text.upper()
            if word in ("$ORIGIN", "$TTL"):
                if len(toks) != 2:
                    r.fail(f"{word} takes one value, got {len(toks) - 1}")
                if word == "$ORIGIN":
                    r.origin = r.name(toks[1])  # a relative one is relative to the current origin
                else:
                    default_ttl = r.number(toks[1], "$TTL", 31, ttl_units=True)
            elif word in ("$INCLUDE", "$GENERATE"):
                r.fail(f"{first.text} is not supported: write the records in this file")
            else:
                r.fail(f"unknown directive {first.text}: expected $ORIGIN or $TTL")
            continue
        if indented:
            if owner is None:
                r.fail("no owner name: the first record must start with a name, not whitespace")
        else:
            owner = r.name(first)
            toks = toks[1:]
        ttl = None
        rclass = None
        idx = 0
        while idx < len(toks) and not toks[idx].quoted:
            word = toks[idx].text
            if ttl is None and word[:1].isdigit():
                ttl = r.number(toks[idx], "TTL", 31, ttl_units=True)
            elif rclass is None and (word.upper() in _CLASS_WORDS or re.fullmatch(r"CLASS\d+", word.upper())):
                if _CLASS_WORDS.get(word.upper()) != RRClass.IN:
                    r.fail(f"class {word}: a zone holds class IN records only")
                rclass = RRClass.IN
            else:
                break
            idx += 1
        if idx >= len(toks):
            r.fail(f"missing type: expected [TTL] [class] type rdata, with type one of {SUPPORTED_TYPES}")
        rrtype = r.rrtype(toks[idx])
        rdata = r.rdata(rrtype, toks[idx + 1:])
        if ttl is not None:
            last_ttl = ttl
        if rrtype == RRType.SOA and soa_ttl is None:
            soa_ttl = rdata.minimum
        if ttl is None:
            ttl = next((t for t in (default_ttl, last_ttl, soa_ttl) if t is not None), None)
            if ttl is None:
                r.fail("no TTL for this record: give one, or put a $TTL line before it (RFC 2308 4)")
        entries.append((line, ResourceRecord(owner, rrtype, RRClass.IN, ttl, rdata)))
    return _build(entries, normalize_name(origin) if origin is not None else None, path)


# -- TOML zones ---------------------------------------------------------------------------------------
_TOP_KEYS = ("origin", "ttl", "soa", "record")
_SOA_KEYS = ("mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl")
_SOA_DEFAULTS = {"refresh": 86400, "retry": 7200, "expire": 3600000, "minimum": 3600}  # RIPE-203
_RECORD_KEYS = ("name", "type", "value", "values", "ttl")
DEFAULT_TTL = 3600


class _TomlLines:
    """Where keys and tables are in a TOML text, found by scanning it (tomllib gives no positions)."""

    _HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.\-\"]+)\s*\]")
    _KEY = re.compile(r"\s*\"?([A-Za-z0-9_\-]+)\"?\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple, int] = {}
        table: tuple = ()
        counts: dict[str, int] = {}
        for no, line in enumerate(text.splitlines(), 1):
            if m := self._HEADER.match(line):
                name = m.group(2).strip('"')
                if m.group(1) == "[[":
                    counts[name] = counts.get(name, -1) + 1
                    table = (name, counts[name])
                else:
                    table = (name,)
                self.lines.setdefault(table, no)
            elif m := self._KEY.match(line):
                self.lines.setdefault(table + (m.group(1),), no)

    def of(self, *path) -> int:
        """The line of a key (or table), else of the nearest enclosing thing we found, else 1."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        if path and path[0] == "record":  # inline tables: the line of "record ="
            return self.lines.get(("record",), 1)
        return 1


def _toml_ttl(value: object, fail: Callable[[str], NoReturn], what: str = "ttl") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        fail(f"{what} must be seconds or a string like \"1h\", not {type(value).__name__}")
    if isinstance(value, int):
        if not 0 <= value <= MAX_TTL:
            fail(f"{what} {value} is out of range: 0 to {MAX_TTL} seconds")
        return value
    try:
        return parse_ttl(value)
    except ValueError as exc:
        fail(f"{what}: {exc}")


def parse_toml(text: str, path: str = "<zone>") -> Zone:
    """A zone from the TOML format described in the module docstring."""
    where = _TomlLines(text)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        raise ZoneError(path, int(m.group(1)) if m else 1, f"not valid TOML: {exc}") from None

    def failer(*key) -> Callable[[str], NoReturn]:
        def fail(message: str) -> NoReturn:
            raise ZoneError(path, where.of(*key), message)
        return fail

    for key in doc:
        if key not in _TOP_KEYS:
            failer(key)(f"unknown key {key!r}: expected one of {', '.join(_TOP_KEYS)}")
    if not isinstance(doc.get("origin"), str):
        failer("origin")("origin must be given as a string, like origin = \"example.com\" "
                         "(\"\" for the root)")
    r = _Reader(path, None)
    r.line = where.of("origin")
    try:
        r.origin = normalize_name(doc["origin"])
    except ValueError as exc:
        r.fail(f"bad origin: {exc}")
    zone_ttl = _toml_ttl(doc["ttl"], failer("ttl")) if "ttl" in doc else DEFAULT_TTL
    entries: list[tuple[int, ResourceRecord]] = []

    soa = doc.get("soa")
    if soa is not None:
        fail = failer("soa")
        if not isinstance(soa, dict):
            fail("soa must be a table: [soa] with mname, rname, serial")
        for key in soa:
            if key not in _SOA_KEYS:
                failer("soa", key)(f"unknown key {key!r} in [soa]: expected one of {', '.join(_SOA_KEYS)}")
        for key in ("mname", "rname", "serial"):
            if key not in soa:
                fail(f"[soa] needs {key}")
        names = []
        for key in ("mname", "rname"):
            if not isinstance(soa[key], str):
                failer("soa", key)(f"{key} must be a name in a string")
            r.line = where.of("soa", key)
            names.append(r.name(_Tok(soa[key], False, r.line)))
        serial = soa["serial"]
        if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial < 2**32:
            failer("soa", "serial")("serial must be a number from 0 to 4294967295")
        timers = [_toml_ttl(soa.get(k, _SOA_DEFAULTS[k]), failer("soa", k), k) for k in _SOA_DEFAULTS]
        ttl = _toml_ttl(soa["ttl"], failer("soa", "ttl")) if "ttl" in soa else zone_ttl
        entries.append((where.of("soa"), ResourceRecord(r.origin, RRType.SOA, RRClass.IN, ttl,
                                                        SOA(names[0], names[1], serial, *timers))))

    records = doc.get("record", [])
    if not isinstance(records, list):
        failer("record")("record must be an array of tables: [[record]]")
    for i, rec in enumerate(records):
        def fail_at(*key: str, _i: int = i) -> Callable[[str], NoReturn]:
            return failer("record", _i, *key)
        if not isinstance(rec, dict):
            fail_at()("each record is a table with name, type and value")
        for key in rec:
            if key not in _RECORD_KEYS:
                fail_at(key)(f"unknown key {key!r} in [[record]]: expected one of {', '.join(_RECORD_KEYS)}")
        name_text = rec.get("name", "@")
        if not isinstance(name_text, str):
            fail_at("name")("name must be a string: relative, \"@\", or absolute with a final dot")
        r.line = where.of("record", i, "name")
        owner = r.name(_Tok(name_text, False, r.line))
        if not isinstance(rec.get("type"), str):
            fail_at("type")(f"type must be given as a string, one of {SUPPORTED_TYPES}")
        r.line = where.of("record", i, "type")
        rrtype = r.rrtype(_Tok(rec["type"], False, r.line))
        if rrtype == RRType.SOA:
            fail_at("type")("the SOA goes in the [soa] table, not in a [[record]]")
        if ("value" in rec) == ("values" in rec):
            fail_at()("give value (one record) or values (a list of records), not both or neither")
        key = "value" if "value" in rec else "values"
        values = [rec["value"]] if key == "value" else rec["values"]
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            fail_at(key)(f"{key} must be {'a string' if key == 'value' else 'a list of strings'}")
        ttl = _toml_ttl(rec["ttl"], fail_at("ttl")) if "ttl" in rec else zone_ttl
        r.line = where.of("record", i, key)
        for value in values:
            if rrtype == RRType.TXT:
                raw = value.encode("utf-8")
                rdata = TXT(tuple(raw[j:j + 255] for j in range(0, len(raw), 255)) or (b"",))
            else:
                toks = [t for _, _, line_toks in _tokenize_value(value, path, r.line) for t in line_toks]
                rdata = r.rdata(rrtype, toks)
            # Mistakes found when the record joins the zone (a CNAME clash...) point at its table.
            entries.append((where.of("record", i), ResourceRecord(owner, rrtype, RRClass.IN, ttl, rdata)))
    return _build(entries, r.origin, path)


def _tokenize_value(value: str, path: str, line: int) -> Iterator[tuple[int, bool, list[_Tok]]]:
    try:
        yield from _tokenize(value, path)
    except ZoneError as exc:
        raise ZoneError(path, line, exc.message) from None


def load_zone(path: str | Path, origin: str | None = None) -> Zone:
    """Read a zone file: ``.toml`` as TOML, anything else as a master file."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".toml":
        return parse_toml(text, str(p))
    return parse_master(text, origin, str(p))

