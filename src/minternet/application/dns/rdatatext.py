"""The text of the newer record types in a master file: SRV, NAPTR, CAA, DS, DNSKEY, RRSIG, NSEC,
TLSA, SSHFP, SVCB and HTTPS, as RFC 2782, 3403, 8659, 4034, 6698, 4255 and 9460 write them and as
BIND and dnspython read them (same wire bytes, checked against dnspython in the tests).

:func:`parse_rdata` is called by :class:`.masterfile.Reader` with the tokens after the type; it
uses the reader's ``name``, ``number`` and ``fail`` so every mistake is ``PATH:LINE: message``.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import ipaddress
import re
import socket
import time
from typing import Any

from ...wire.dns import (CAA, DNSKEY, DS, HTTPS, NAPTR, NSEC, RRSIG, SRV, SSHFP, SVC_KEYS, SVCB, TLSA,
                         RRType, ipv6_text, type_number)

__all__ = ["parse_rdata", "TEXT_TYPES", "unescape"]

#: DNSSEC algorithm mnemonics (IANA "DNS Security Algorithm Numbers"), accepted where a number is.
ALGORITHMS = {"RSAMD5": 1, "DH": 2, "DSA": 3, "RSASHA1": 5, "DSA-NSEC3-SHA1": 6, "RSASHA1-NSEC3-SHA1": 7,
              "RSASHA256": 8, "RSASHA512": 10, "ECC-GOST": 12, "ECDSAP256SHA256": 13,
              "ECDSAP384SHA384": 14, "ED25519": 15, "ED448": 16, "INDIRECT": 252, "PRIVATEDNS": 253,
              "PRIVATEOID": 254}

_FIELDS = {RRType.SRV: ("priority", "weight", "port", "target"),
           RRType.NAPTR: ("order", "preference", "flags", "services", "regexp", "replacement"),
           RRType.CAA: ("flags", "tag", "value"),
           RRType.DS: ("key tag", "algorithm", "digest type", "digest"),
           RRType.DNSKEY: ("flags", "protocol", "algorithm", "public key"),
           RRType.RRSIG: ("type covered", "algorithm", "labels", "original TTL", "expiration",
                          "inception", "key tag", "signer", "signature"),
           RRType.NSEC: ("next name", "types"),
           RRType.TLSA: ("usage", "selector", "matching type", "data"),
           RRType.SSHFP: ("algorithm", "fingerprint type", "fingerprint"),
           RRType.SVCB: ("priority", "target", "parameters"),
           RRType.HTTPS: ("priority", "target", "parameters")}
TEXT_TYPES = frozenset(_FIELDS)
# The types whose last field runs to the end of the line (hex, base64, a list), and how many
# tokens they need at least.
_AT_LEAST = {RRType.DS: 4, RRType.DNSKEY: 4, RRType.RRSIG: 9, RRType.NSEC: 1, RRType.TLSA: 4,
             RRType.SSHFP: 3, RRType.SVCB: 2, RRType.HTTPS: 2}


def unescape(text: str) -> bytes:
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


def parse_rdata(r: Any, rrtype: int, toks: list) -> Any:
    """The rdata of one of :data:`TEXT_TYPES` from its tokens."""
    try:
        return _parse(r, rrtype, toks)
    except ValueError as exc:  # what the rdata class itself refuses (a ZoneError is one too)
        if hasattr(exc, "path"):
            raise
        r.fail(f"{_type_word(rrtype)}: {exc}")


def _parse(r: Any, rrtype: int, toks: list) -> Any:
    spec = _FIELDS[rrtype]
    what = _type_word(rrtype)
    least = _AT_LEAST.get(rrtype)
    if len(toks) < (least or len(spec)) or least is None and len(toks) > len(spec):
        r.fail(f"{what} takes {'at least ' if least else ''}{least or len(spec)} fields "
               f"({', '.join(spec)}), got {len(toks)}")

    def num(i: int, bits: int) -> int:
        return r.number(toks[i], f"{what} {spec[i]}", bits)

    def string(i: int) -> bytes:
        try:
            s = unescape(toks[i].text)
        except ValueError as exc:
            r.fail(f"bad {what} {spec[i]}: {exc}")
        if len(s) > 255:
            r.fail(f"{what} {spec[i]} of {len(s)} bytes: a character-string is at most 255")
        return s

    def alg(i: int) -> int:
        word = toks[i].text.upper()
        return ALGORITHMS[word] if word in ALGORITHMS and not toks[i].quoted else num(i, 8)

    if rrtype == RRType.SRV:
        return SRV(num(0, 16), num(1, 16), num(2, 16), r.name(toks[3]))
    if rrtype == RRType.NAPTR:
        return NAPTR(num(0, 16), num(1, 16), string(2), string(3), string(4), r.name(toks[5]))
    if rrtype == RRType.CAA:
        tag = toks[1].text
        if toks[1].quoted or not re.fullmatch(r"[A-Za-z0-9]{1,255}", tag):
            r.fail(f"bad CAA tag {tag!r}: letters and digits, like issue, issuewild or iodef (RFC 8659 4.1)")
        value = unescape(toks[2].text) if toks[2].quoted else string(2)
        return CAA(num(0, 8), tag, value)
    try:
        if rrtype == RRType.DS:
            return DS(num(0, 16), alg(1), num(2, 8), _hex(r, toks[3:], what))
        if rrtype == RRType.TLSA:
            return TLSA(num(0, 8), num(1, 8), num(2, 8), _hex(r, toks[3:], what))
        if rrtype == RRType.SSHFP:
            return SSHFP(num(0, 8), num(1, 8), _hex(r, toks[2:], what))
    except ValueError as exc:
        r.fail(str(exc))
    if rrtype == RRType.DNSKEY:
        return DNSKEY(num(0, 16), num(1, 8), alg(2), _b64(r, toks[3:], what))
    if rrtype == RRType.RRSIG:
        covered = _type(r, toks[0])
        return RRSIG(covered, alg(1), num(2, 8), r.number(toks[3], "RRSIG original TTL", 32, ttl_units=True),
                     _sigtime(r, toks[4]), _sigtime(r, toks[5]), num(6, 16), r.name(toks[7]),
                     _b64(r, toks[8:], what))
    if rrtype == RRType.NSEC:
        return NSEC(r.name(toks[0]), tuple(_type(r, t) for t in toks[1:]))
    cls = HTTPS if rrtype == RRType.HTTPS else SVCB
    priority, target = num(0, 16), r.name(toks[1])
    params = _svc_params(r, toks[2:], what)
    if priority == 0 and params:  # dnspython refuses them too
        r.fail(f"{what} priority 0 is AliasMode, which takes no parameters (RFC 9460 2.4.2): give a "
               "priority of 1 or more for a service with parameters")
    try:
        return cls(priority, target, params)
    except ValueError as exc:
        r.fail(str(exc))


def _type_word(rrtype: int) -> str:
    return RRType(rrtype).name


def _type(r: Any, tok: Any) -> int:
    t = type_number(tok.text)
    if t is None or tok.quoted:
        r.fail(f"unknown type {tok.text!r}: a mnemonic like A or MX, or TYPEnnn (RFC 3597 5)")
    return t


def _hex(r: Any, toks: list, what: str) -> bytes:
    text = "".join(t.text for t in toks)
    try:
        if any(t.quoted for t in toks) or not text:
            raise ValueError
        return binascii.unhexlify(text)
    except (ValueError, binascii.Error):
        r.fail(f"{what} data must be an even number of hexadecimal digits (spaces allowed), like 2BB183AF")


def _b64(r: Any, toks: list, what: str) -> bytes:
    text = "".join(t.text for t in toks)
    try:
        if any(t.quoted for t in toks) or not text:
            raise ValueError
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        r.fail(f"{what} key or signature must be base64 (spaces allowed), like AwEAAaz/tAm8")


def _sigtime(r: Any, tok: Any) -> int:
    """YYYYMMDDHHMMSS in UTC, or seconds since 1970 (RFC 4034 3.2)."""
    text = tok.text
    if len(text) == 14 and text.isdigit():
        try:
            value = calendar.timegm(time.strptime(text, "%Y%m%d%H%M%S"))
        except ValueError:
            r.fail(f"bad RRSIG time {text!r}: not a date of the form YYYYMMDDHHMMSS")
        if not 0 <= value < 1 << 32:
            r.fail(f"RRSIG time {text} is outside 1970 to 2106")
        return value
    return r.number(tok, "RRSIG time (YYYYMMDDHHMMSS or seconds)", 32)


def _svc_params(r: Any, toks: list, what: str) -> tuple[tuple[int, bytes], ...]:
    """RFC 9460 Appendix A: ``key``, ``key=value`` or ``key="value"``, in any order."""
    items: list[tuple[str, str | None]] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.quoted:
            r.fail(f'{what}: a quoted value "{tok.text}" without its key: write key="value" with no '
                   "space around '='")
        key, eq, value = tok.text.partition("=")
        if eq and not value and i + 1 < len(toks) and toks[i + 1].quoted and toks[i + 1].joined:
            value = toks[i + 1].text
            i += 1
        items.append((key, value if eq else None))
        i += 1
    params: dict[int, bytes] = {}
    for key, value in items:
        number = _svc_key(r, key, what)
        if number in params:
            r.fail(f"{what}: {key} given twice: each parameter appears once (RFC 9460 2.2)")
        try:
            raw = unescape(value) if value is not None else None
        except ValueError as exc:
            r.fail(f"{what} {key}: {exc}")
        params[number] = _svc_value(r, number, key, raw, what)
    return tuple(sorted(params.items()))


def _svc_key(r: Any, key: str, what: str) -> int:
    if key in SVC_KEYS:
        return SVC_KEYS[key]
    m = re.fullmatch(r"key(\d{1,5})", key)
    if m and int(m.group(1)) < 65535:
        return int(m.group(1))
    r.fail(f"{what}: unknown parameter {key!r}: expected {', '.join(SVC_KEYS)} or keyNNNNN (RFC 9460 14.3.2)")


def _value_list(raw: bytes) -> list[bytes]:
    r"""RFC 9460 A.1: items split at commas; ``\,`` is a comma inside an item, ``\\`` a backslash."""
    items, cur, i = [], bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            cur.append(raw[i + 1])
            i += 2
            continue
        if c == 0x2C:
            items.append(bytes(cur))
            cur = bytearray()
        else:
            cur.append(c)
        i += 1
    items.append(bytes(cur))
    return items


def _svc_value(r: Any, key: int, name: str, raw: bytes | None, what: str) -> bytes:
    if key == 2:
        if raw:
            r.fail(f"{what}: no-default-alpn takes no value")
        return b""
    if key > 6:
        return raw or b""
    if not raw:
        r.fail(f"{what}: {name} needs a value, like {name}={_EXAMPLES[key]}")
    text = raw.decode("utf-8", "replace")
    try:
        if key == 0:
            keys = sorted(_svc_key(r, k, what) for k in text.split(","))
            if len(set(keys)) != len(keys) or 0 in keys:
                raise ValueError("each key once, and not mandatory itself")
            return b"".join(k.to_bytes(2, "big") for k in keys)
        if key == 1:
            ids = _value_list(raw)
            if any(not 1 <= len(x) <= 255 for x in ids):
                raise ValueError("each protocol id is 1 to 255 bytes")
            return b"".join(bytes((len(x),)) + x for x in ids)
        if key == 3:
            if not text.isdigit() or int(text) > 65535:
                raise ValueError("a number from 0 to 65535")
            return int(text).to_bytes(2, "big")
        if key == 4:
            return b"".join(socket.inet_aton(str(ipaddress.IPv4Address(a))) for a in text.split(","))
        if key == 5:
            return base64.b64decode(text, validate=True)
        return b"".join(ipaddress.IPv6Address(ipv6_text(a)).packed for a in text.split(","))
    except (ValueError, binascii.Error) as exc:
        r.fail(f"{what}: bad {name} {text!r} ({exc}): expected something like {name}={_EXAMPLES[key]}")


_EXAMPLES = {0: "alpn,port", 1: "h3,h2", 3: "8443", 4: "192.0.2.1,192.0.2.2", 5: "AEn+DQBF...",
             6: "2001:db8::1"}
