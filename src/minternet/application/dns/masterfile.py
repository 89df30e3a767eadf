r"""RFC 1035 master files (section 5), read by :func:`parse_master`::

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
    _sip._tcp   SRV  10 60 5060 sip     ; and SRV, NAPTR, CAA, DS, DNSKEY, RRSIG, NSEC, TLSA, SSHFP,
    @           HTTPS 1 . alpn="h3,h2" port=443 ipv4hint=10.0.2.10   ; SVCB, HTTPS (RFC 9460)
    $INCLUDE    hosts.zone [origin]     ; another file, relative to this one (RFC 1035 5.1)

Names ending in a dot are absolute, others are relative to the current ``$ORIGIN``; ``@`` is the
origin. A record without a TTL takes the ``$TTL``; without one, the last TTL given (RFC 1035 5.1);
before any, the SOA minimum (its old meaning, dropped by RFC 2308 4 but still found in files):
the rules dnspython follows. The zone's origin is the ``origin`` argument, or else the owner of
the SOA record.

What BIND loads with a warning loads here with one too, in ``Zone.warnings`` (``PATH:LINE:
message``, named-checkzone's words): a TTL over 2**31-1 is 0 (RFC 2181 8), and a record whose TTL
differs from the rest of its RRset takes theirs ("TTL set to prior TTL", RFC 2181 5.2). Owner
names, and the names inside the rdata of the types RFC 4034 6.2 folds, compare without case: ``a
MX 10 mail`` and ``A MX 10 MAIL`` are one record, the first one written.

The tokens, names, numbers and rdata of this syntax are also what a TOML zone's values are written
in, so :mod:`.zonetoml` reads them with this module's :class:`Reader`. Every mistake raises
:class:`~.zone.ZoneError`, ``PATH:LINE: message``, saying what would be valid.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator, NoReturn

from ...wire.dns import (RDATA_CLASSES, SOA, TXT, ResourceRecord, RRClass, RRType, canonical,
                         decode_rdata, ipv6_text, normalize_name, type_number, type_text)
from ...wire.errors import MalformedPacket
from .rdatatext import TEXT_TYPES, parse_rdata
from .rdatatext import unescape as _unescape
from .zone import Zone, ZoneError, same_ttl_set

__all__ = ["parse_master", "parse_records", "parse_ttl", "build_zone", "Reader", "Token", "tokenize"]

SUPPORTED_TYPES = ("A, AAAA, CAA, CNAME, DNSKEY, DS, HTTPS, MX, NAPTR, NS, NSEC, PTR, RRSIG, SOA, SRV, "
                   "SSHFP, SVCB, TLSA, TXT, or any type with \\# rdata (RFC 3597)")
MAX_TTL = 2**31 - 1  # RFC 2181 8
MAX_INCLUDE_DEPTH = 16


class Token:
    """One word of a master file, and the line it is on."""

    __slots__ = ("text", "quoted", "line", "joined")

    def __init__(self, text: str, quoted: bool, line: int, joined: bool = False) -> None:
        self.text = text  # escapes kept as written; without the quotes for a quoted string
        self.quoted = quoted
        self.line = line
        self.joined = joined  # no space before it: alpn="h2" is the tokens alpn= and "h2", joined


def tokenize(text: str, path: str) -> Iterator[tuple[int, bool, list[Token]]]:
    """Logical lines of a master file (RFC 1035 5.1): (first line number, starts with whitespace,
    tokens). Parentheses join lines; comments and blank lines are gone."""
    i, n, line = 0, len(text), 1
    depth, paren_line = 0, 0
    tokens: list[Token] = []
    start, indented, at_start = 1, False, True
    last_end = -1  # where the previous token ended
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
            tokens.append(Token(text[i + 1:j], True, line, i == last_end))
            i = last_end = j + 1
        else:
            j = i
            while j < n and text[j] not in ' \t\r\n;()"':
                if text[j] == "\\":
                    if j + 1 >= n or text[j + 1] == "\n":
                        raise ZoneError(path, line, "a backslash at the end of a line escapes nothing")
                    j += 2
                else:
                    j += 1
            tokens.append(Token(text[i:j], False, line, i == last_end))
            i = last_end = j
    if depth:
        raise ZoneError(path, paren_line, "'(' is never closed: add ')'")
    if tokens:
        yield start, indented, tokens


_TTL_RE = re.compile(r"\d+|(?:\d+[smhdwSMHDW])+")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_ttl(text: str, limit: int = MAX_TTL) -> int:
    """A TTL: seconds, or BIND's units (``1h30m``, ``2d``, ``1w``), at most ``limit``. ValueError
    otherwise."""
    if not _TTL_RE.fullmatch(text):
        raise ValueError(f"bad TTL {text!r}: expected seconds or units s m h d w, like 3600 or 1h")
    value = int(text) if text.isdigit() else sum(
        int(num) * _UNITS[unit.lower()] for num, unit in re.findall(r"(\d+)([smhdwSMHDW])", text))
    if value > limit:
        raise ValueError(f"TTL {text} is over {limit} seconds (RFC 2181 8)")
    return value


def _is_absolute(text: str) -> bool:
    if not text.endswith("."):
        return False
    backslashes = len(text) - 1 - len(text[:-1].rstrip("\\"))
    return backslashes % 2 == 0  # "a\." ends in an escaped dot, "a\\." in a real one


class Reader:
    """Turns tokens into names and rdata, relative to an origin; errors at a path and line."""

    def __init__(self, path: str, origin: str | None) -> None:
        self.path = path
        self.origin = origin
        self.line = 1
        self.warnings: list[str] = []

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        raise ZoneError(self.path, self.line if line is None else line, message)

    def warn(self, message: str) -> None:
        self.warnings.append(f"{self.path}:{self.line}: {message}")

    def ttl(self, tok: Token, what: str = "TTL") -> int:
        """A TTL field; one over 2**31-1 is 0, with a warning, as BIND loads it (RFC 2181 8)."""
        value = self.number(tok, what, 32, ttl_units=True)
        if value > MAX_TTL:
            self.warn(f"{what} {tok.text} > MAXTTL ({MAX_TTL}), setting {what} to 0 (RFC 2181 8: a TTL "
                      "uses 31 bits)")
            return 0
        return value

    def name(self, tok: Token) -> str:
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

    def number(self, tok: Token, what: str, bits: int, ttl_units: bool = False) -> int:
        try:
            value = (parse_ttl(tok.text, (1 << bits) - 1) if ttl_units
                     else int(tok.text) if tok.text.isdigit() else -1)
        except ValueError:
            value = -1
        if tok.quoted or not 0 <= value < 1 << bits:
            extra = " (units s m h d w allowed)" if ttl_units else ""
            self.fail(f"bad {what} {tok.text!r}: expected a number from 0 to {(1 << bits) - 1}{extra}")
        return value

    def rdata(self, rrtype: int, toks: list[Token]):
        if toks and toks[0].text == "\\#" and not toks[0].quoted:
            return self.generic(rrtype, toks[1:])
        cls = RDATA_CLASSES.get(rrtype)
        if cls is None:
            self.fail(f"{type_text(rrtype)} rdata must be written \\# LENGTH HEX (RFC 3597 5)")
        if rrtype in TEXT_TYPES:
            return parse_rdata(self, rrtype, toks)
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
            if rrtype == RRType.AAAA and "%" in toks[0].text:
                try:
                    ipv6_text(toks[0].text)
                except ValueError as exc:
                    self.fail(str(exc))
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

    def generic(self, rrtype: int, toks: list[Token]):
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

    def rrtype(self, tok: Token) -> int:
        rrtype = None if tok.quoted else type_number(tok.text)
        if rrtype is None:
            self.fail(f"unknown type {tok.text!r}: supported types are {SUPPORTED_TYPES}")
        if rrtype in (RRType.OPT, RRType.ANY) or 128 <= rrtype <= 255 or rrtype == 0:
            self.fail(f"{tok.text} is a query or meta type, not data (RFC 6895 3.1)")
        return rrtype

_FIELDS = {RRType.A: ("an IPv4 address",), RRType.AAAA: ("an IPv6 address",),
           RRType.NS: ("a name server name",), RRType.CNAME: ("the canonical name",),
           RRType.PTR: ("a name",), RRType.MX: ("preference", "exchange"),
           RRType.TXT: ("strings",),
           RRType.SOA: ("mname", "rname", "serial", "refresh", "retry", "expire", "minimum")}
_CLASS_WORDS = {"IN": 1, "CLASS1": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255}


Entry = tuple  # (line, record) or (line, record, path): where a record was written


def build_zone(entries: list[Entry], origin: str | None, path: str,
               warnings: list[str] | None = None) -> Zone:
    """A zone from (line, record[, path]) entries, its origin given or taken from the SOA.

    As BIND loads a zone: a record whose TTL differs from the earlier ones of its RRset takes
    theirs, with a warning in ``warnings`` (RFC 2181 5.2); without a ``warnings`` list that is
    an error. The zone's ``warnings`` are those given."""
    soas = [e for e in entries if e[1].type == RRType.SOA]
    if origin is None:
        if not soas:
            raise ZoneError(path, 1, "no SOA record: a zone needs one at its apex")
        origin = soas[0][1].name
    zone = Zone(origin)
    for line, rr, *where in entries:
        src = where[0] if where else path
        if rr.type == RRType.SOA and canonical(rr.name) != canonical(zone.origin):
            raise ZoneError(src, line, f"SOA at {rr.name or '.'}, but the zone origin is "
                            f"{zone.origin or '.'}: the SOA belongs at the apex")
        prior = same_ttl_set(zone.get(rr.name, rr.type), rr) if warnings is not None else None
        if prior and prior[0].ttl != rr.ttl and rr.type != RRType.SOA:
            # named-checkzone's words (lib/dns/master.c); dnspython keeps the smallest instead
            warnings.append(f"{src}:{line}: TTL set to prior TTL ({prior[0].ttl})")
            rr = ResourceRecord(rr.name, rr.type, rr.cls, prior[0].ttl, rr.data)
        try:
            zone.add(rr)
        except ValueError as exc:
            raise ZoneError(src, line, str(exc)) from None
    first = soas[0] if soas else (1, None, path)
    soa_line, soa_path = first[0], first[2] if len(first) > 2 else path
    if zone.soa is None:
        raise ZoneError(path, 1, f"no SOA record at the apex {zone.origin or '.'}: a zone "
                        "needs exactly one")
    if not zone.get(zone.origin, RRType.NS):
        raise ZoneError(soa_path, soa_line, f"no NS record at the apex {zone.origin or '.'}: a zone "
                        "names at least one name server (RFC 1034 4.2.1)")
    zone.warnings = list(warnings or [])
    return zone


class _Master:
    """The state of reading one master file and the files it includes (RFC 1035 5.1)."""

    def __init__(self, origin: str | None, read: Callable[[Path], str]) -> None:
        self.origin = origin
        self.read = read
        self.entries: list[Entry] = []
        self.warnings: list[str] = []
        self.soa_ttl: int | None = None  # the SOA minimum, the last resort
        self.files: list[Path] = []  # the chain of files being read, for include loops

    def parse(self, text: str, path: str, origin: str | None) -> None:
        r = Reader(path, origin)
        r.warnings = self.warnings
        default_ttl: int | None = None  # from $TTL
        last_ttl: int | None = None
        owner: str | None = None
        for line, indented, toks in tokenize(text, path):
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
                        default_ttl = r.ttl(toks[1], "$TTL")
                elif word == "$INCLUDE":
                    self.include(r, toks[1:], path)
                elif word == "$GENERATE":
                    r.fail(f"{first.text} is not supported: write the records out")
                else:
                    r.fail(f"unknown directive {first.text}: expected $ORIGIN, $TTL or $INCLUDE")
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
                    ttl = r.ttl(toks[idx])
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
            if rrtype == RRType.SOA and self.soa_ttl is None:
                self.soa_ttl = rdata.minimum
            if ttl is None:
                ttl = next((t for t in (default_ttl, last_ttl, self.soa_ttl) if t is not None), None)
                if ttl is None:
                    r.fail("no TTL for this record: give one, or put a $TTL line before it (RFC 2308 4)")
            self.entries.append((line, ResourceRecord(owner, rrtype, RRClass.IN, ttl, rdata), path))

    def include(self, r: Reader, args: list[Token], path: str) -> None:
        """``$INCLUDE file [origin]``: the file relative to the including one; its $ORIGIN, $TTL
        and owner stay in it (RFC 1035 5.1; dnspython and BIND restore them too)."""
        if not 1 <= len(args) <= 2:
            r.fail(f"$INCLUDE takes a file name and optionally an origin, got {len(args)} values")
        target = Path(path).parent / _unescape(args[0].text).decode("utf-8", "replace")
        origin = r.name(args[1]) if len(args) == 2 else r.origin
        resolved = target.resolve()
        if resolved in self.files:
            chain = " -> ".join(str(f) for f in self.files[self.files.index(resolved):])
            r.fail(f"$INCLUDE {args[0].text}: an include loop ({chain} -> {target}); remove one of the "
                   "$INCLUDE lines")
        if len(self.files) >= MAX_INCLUDE_DEPTH:
            r.fail(f"$INCLUDE {args[0].text}: more than {MAX_INCLUDE_DEPTH} files deep")
        try:
            text = self.read(target)
        except OSError as exc:
            r.fail(f"$INCLUDE {args[0].text}: cannot read {target}: {exc.strerror or exc}")
        except UnicodeDecodeError as exc:
            r.fail(f"$INCLUDE {args[0].text}: {target} is not UTF-8 text ({exc.reason})")
        self.files.append(resolved)
        self.parse(text, str(target), origin)
        self.files.pop()


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _read_all(text: str, origin: str | None, path: str, read: Callable[[Path], str]) -> tuple[_Master, str | None]:
    norm = None
    if origin is not None:
        try:
            norm = normalize_name(origin)
        except ValueError as exc:
            raise ZoneError(path, 1, f"bad origin {origin!r}: {exc}") from None
    m = _Master(norm, read)
    if Path(path).is_file():
        m.files.append(Path(path).resolve())
    m.parse(text, path, norm)
    return m, norm


def parse_master(text: str, origin: str | None = None, path: str = "<zone>",
                 read: Callable[[Path], str] = _read_text) -> Zone:
    """A zone from an RFC 1035 master file (see the module docstring for what is understood).

    ``$INCLUDE`` files are read with ``read``, relative to ``path``'s folder (to the current one
    for text that comes from no file). The warnings are in the zone's ``warnings``."""
    m, norm = _read_all(text, origin, path, read)
    return build_zone(m.entries, norm, path, m.warnings)


def parse_records(text: str, origin: str | None = None, path: str = "<zone>",
                  read: Callable[[Path], str] = _read_text) -> tuple[list[ResourceRecord], list[str]]:
    """The records of a master file that need not be a zone, like a resolver's root hints
    (``/usr/share/dns/root.hints``: NS and addresses, no SOA), in the order written, and the
    warnings."""
    m, _ = _read_all(text, origin, path, read)
    return [rr for _, rr, _ in m.entries], m.warnings
