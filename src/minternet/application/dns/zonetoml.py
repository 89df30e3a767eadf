r"""TOML zones, read by :func:`parse_toml`::

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

Values are written in master-file syntax and read by :mod:`.masterfile`; every mistake raises
:class:`~.zone.ZoneError` at the line of the key (found by :class:`minternet.tomlpos.TomlLines`).
"""

from __future__ import annotations

import tomllib
from typing import Any, Callable, Iterator, NoReturn

from ...tomlpos import TOP, TomlLines, decode_error
from ...wire.dns import SOA, TXT, ResourceRecord, RRClass, RRType, normalize_name
from .masterfile import MAX_TTL, SUPPORTED_TYPES, Reader, Token, build_zone, parse_ttl, tokenize
from .zone import Zone, ZoneError

__all__ = ["parse_toml"]

_TOP_KEYS = ("origin", "ttl", "soa", "record")
_SOA_KEYS = ("mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl")
_SOA_DEFAULTS = {"refresh": 86400, "retry": 7200, "expire": 3600000, "minimum": 3600}  # RIPE-203
_RECORD_KEYS = ("name", "type", "value", "values", "ttl")
DEFAULT_TTL = 3600


def _line(where: TomlLines, first: str, *rest: Any) -> int:
    """The line of a zone key, by its path: ("ttl",) at the top level, ("soa",) or ("soa", "serial")
    in the [soa] table, ("record", 2) or ("record", 2, "type") in the third [[record]]; 1 when
    it is nowhere to be found."""
    if first == "soa":
        line = where.line("soa", 0, *rest[:1])
    elif first == "record" and rest:
        line = where.line("record", *rest[:2])
    else:
        line = where.line(TOP, 0, first)
    return line or 1


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
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, message = decode_error(exc)
        raise ZoneError(path, line or 1, f"not valid TOML: {message}") from None
    where = TomlLines(text)

    def failer(*key) -> Callable[[str], NoReturn]:
        def fail(message: str) -> NoReturn:
            raise ZoneError(path, _line(where, *key), message)
        return fail

    for key in doc:
        if key not in _TOP_KEYS:
            failer(key)(f"unknown key {key!r}: expected one of {', '.join(_TOP_KEYS)}")
    if not isinstance(doc.get("origin"), str):
        failer("origin")("origin must be given as a string, like origin = \"example.com\" "
                         "(\"\" for the root)")
    r = Reader(path, None)
    r.line = _line(where, "origin")
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
            r.line = _line(where, "soa", key)
            names.append(r.name(Token(soa[key], False, r.line)))
        serial = soa["serial"]
        if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial < 2**32:
            failer("soa", "serial")("serial must be a number from 0 to 4294967295")
        timers = [_toml_ttl(soa.get(k, _SOA_DEFAULTS[k]), failer("soa", k), k) for k in _SOA_DEFAULTS]
        ttl = _toml_ttl(soa["ttl"], failer("soa", "ttl")) if "ttl" in soa else zone_ttl
        entries.append((_line(where, "soa"), ResourceRecord(r.origin, RRType.SOA, RRClass.IN, ttl,
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
        r.line = _line(where, "record", i, "name")
        owner = r.name(Token(name_text, False, r.line))
        if not isinstance(rec.get("type"), str):
            fail_at("type")(f"type must be given as a string, one of {SUPPORTED_TYPES}")
        r.line = _line(where, "record", i, "type")
        rrtype = r.rrtype(Token(rec["type"], False, r.line))
        if rrtype == RRType.SOA:
            fail_at("type")("the SOA goes in the [soa] table, not in a [[record]]")
        if ("value" in rec) == ("values" in rec):
            fail_at()("give value (one record) or values (a list of records), not both or neither")
        key = "value" if "value" in rec else "values"
        values = [rec["value"]] if key == "value" else rec["values"]
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            fail_at(key)(f"{key} must be {'a string' if key == 'value' else 'a list of strings'}")
        ttl = _toml_ttl(rec["ttl"], fail_at("ttl")) if "ttl" in rec else zone_ttl
        r.line = _line(where, "record", i, key)
        for value in values:
            if rrtype == RRType.TXT:
                raw = value.encode("utf-8")
                rdata = TXT(tuple(raw[j:j + 255] for j in range(0, len(raw), 255)) or (b"",))
            else:
                toks = [t for _, _, line_toks in _tokenize_value(value, path, r.line) for t in line_toks]
                rdata = r.rdata(rrtype, toks)
            # Mistakes found when the record joins the zone (a CNAME clash...) point at its table.
            entries.append((_line(where, "record", i), ResourceRecord(owner, rrtype, RRClass.IN, ttl, rdata)))
    return build_zone(entries, r.origin, path)


def _tokenize_value(value: str, path: str, line: int) -> Iterator[tuple[int, bool, list[Token]]]:
    try:
        yield from tokenize(value, path)
    except ZoneError as exc:
        raise ZoneError(path, line, exc.message) from None

