r"""DNS messages (RFC 1035 4, clarified by RFC 2181, RFC 2308, RFC 3596, RFC 3597).

Names are ``str`` in presentation format without the trailing dot; the root is ``""``. Inside a
label a literal dot is ``\.``, a backslash ``\\``, the other specials ``" ( ) ; @ $`` are written
``\"`` etc., and space, control and 8-bit bytes are ``\DDD`` (decimal), exactly as dnspython prints
them (RFC 1035 5.1). Case is kept as it came (RFC 4343); compare with :func:`name_eq` or
:func:`canonical`.

EDNS(0) (RFC 6891) is message-level: the OPT pseudo-record stays in the additional section as it
came (its rdata an :class:`OPT` of :class:`EdnsOption` s) and :attr:`DNSMessage.edns` reads it as
an :class:`Edns`; :func:`edns_error` says what a server must answer FORMERR for.

Rdata of types A, AAAA, NS, CNAME, PTR, MX, TXT and SOA, and of SRV, NAPTR, CAA, DS, DNSKEY, RRSIG,
NSEC, TLSA, SSHFP, SVCB and HTTPS (their text as BIND prints it), is decoded into frozen
dataclasses; any other type (and A/AAAA outside class IN, and anything in class ANY or NONE) is kept opaque as
:class:`Unknown` (RFC 3597). Names are compressed in the question, in owner names and inside NS,
CNAME, PTR, MX and SOA rdata only: RFC 3597 4 forbids it for types a receiver may not know.

``DNSMessage.decode`` raises :class:`MalformedPacket` (layer ``"dns"``) and nothing else, whatever
the bytes; its reasons are listed in :data:`REASONS`.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import lru_cache
from typing import ClassVar, Iterable, Union

from .errors import MalformedPacket

_HDR = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_Q = struct.Struct("!HH")
_SOA_TAIL = struct.Struct("!IIIII")
HEADER_LEN = 12
MAX_LABEL_LEN = 63
MAX_NAME_LEN = 255  # on the wire, length bytes and the root's zero included (RFC 1035 3.1)
_MIN_QUESTION = 5  # root name + type + class
_MIN_RR = 11  # root name + type, class, TTL, rdlength
#: Compression pointers followed in one name at most: BIND's DNS_POINTER_MAXHOPS and dnspython's
#: MAX_COMPRESSION_POINTER_CHAIN (PointerChainTooLong). Without a cap, decreasing targets still
#: allow one pointer per two bytes, and a 64 KB message of names pointing to the top of such a
#: chain costs tens of millions of hops; with it a name costs at most 16 hops and 127 labels.
MAX_POINTER_HOPS = 16

#: Every ``reason`` that :meth:`DNSMessage.decode` may give.
REASONS = frozenset({"truncated", "bad-count", "bad-pointer", "pointer-chain-too-long", "bad-label-type",
                     "name-too-long", "bad-rdata"})


class RRType(IntEnum):
    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    MX = 15
    TXT = 16
    AAAA = 28
    SRV = 33
    NAPTR = 35
    OPT = 41
    DS = 43
    SSHFP = 44
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    TLSA = 52
    SVCB = 64
    HTTPS = 65
    ANY = 255
    CAA = 257


class RRClass(IntEnum):
    IN = 1
    CH = 3
    ANY = 255


class Rcode(IntEnum):
    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    BADVERS = 16  # extended (RFC 6891 9): only with an OPT record, its upper 8 bits in the OPT TTL
    BADCOOKIE = 23  # RFC 7873 8


class Opcode(IntEnum):
    QUERY = 0
    IQUERY = 1
    STATUS = 2
    NOTIFY = 4
    UPDATE = 5


_TYPES = {int(t): t for t in RRType}
_CLASSES = {int(c): c for c in RRClass}
_RCODES = {int(r): r for r in Rcode}
_OPCODES = {int(o): o for o in Opcode}


# Mnemonics of the other registered types (IANA "Resource Record (RR) TYPEs"): named in text,
# like dig does (an NSEC type list, a TYPE field), their rdata kept opaque.
_OTHER_TYPES = {"MD": 3, "MF": 4, "MB": 7, "MG": 8, "MR": 9, "NULL": 10, "WKS": 11, "HINFO": 13,
                "MINFO": 14, "RP": 17, "AFSDB": 18, "X25": 19, "ISDN": 20, "RT": 21, "NSAP": 22,
                "NSAP-PTR": 23, "SIG": 24, "KEY": 25, "PX": 26, "GPOS": 27, "LOC": 29, "NXT": 30,
                "KX": 36, "CERT": 37, "A6": 38, "DNAME": 39, "APL": 42, "IPSECKEY": 45, "DHCID": 49,
                "NSEC3": 50, "NSEC3PARAM": 51, "SMIMEA": 53, "HIP": 55, "CDS": 59, "CDNSKEY": 60,
                "OPENPGPKEY": 61, "CSYNC": 62, "ZONEMD": 63, "SPF": 99, "EUI48": 108, "EUI64": 109,
                "TKEY": 249, "TSIG": 250, "IXFR": 251, "AXFR": 252, "URI": 256, "AVC": 258, "DOA": 259,
                "AMTRELAY": 260, "RESINFO": 261, "TA": 32768, "DLV": 32769}
_OTHER_NAMES = {v: k for k, v in _OTHER_TYPES.items()}


def type_text(rrtype: int) -> str:
    """The mnemonic of a type, or ``TYPEnnn`` (RFC 3597 5) for one without a name."""
    t = _TYPES.get(rrtype)
    return t.name if t is not None else _OTHER_NAMES.get(rrtype) or f"TYPE{rrtype}"


def type_number(text: str) -> int | None:
    """The type a mnemonic or ``TYPEnnn`` stands for (any case), or None."""
    word = text.upper()
    t = RRType.__members__.get(word)
    if t is not None:
        return int(t)
    if word in _OTHER_TYPES:
        return _OTHER_TYPES[word]
    if word.startswith("TYPE") and word[4:].isdigit() and int(word[4:]) < 65536:
        return int(word[4:])
    return None


def class_text(rrclass: int) -> str:
    """The mnemonic of a class, or ``CLASSnnn`` (RFC 3597 5)."""
    c = _CLASSES.get(rrclass)
    return c.name if c is not None else f"CLASS{rrclass}"


def rcode_text(rcode: int) -> str:
    """The mnemonic of a response code, or ``RCODEnnn``."""
    r = _RCODES.get(rcode)
    return r.name if r is not None else f"RCODE{rcode}"


def opcode_text(opcode: int) -> str:
    """The mnemonic of an opcode, or ``OPCODEnnn``."""
    o = _OPCODES.get(opcode)
    return o.name if o is not None else f"OPCODE{opcode}"


def _check_u(value: int, bits: int, what: str) -> None:
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise ValueError(f"{what} {value!r} is not a {bits}-bit unsigned integer")


# -- names ------------------------------------------------------------------------------------------
_SPECIAL = b'"().;\\@$'
_PLAIN = bytes(c for c in range(0x21, 0x7F) if c not in _SPECIAL)
_ESCAPED = tuple(chr(c) if c in _PLAIN else "\\" + chr(c) if c in _SPECIAL else f"\\{c:03d}"
                 for c in range(256))


def _label_text(label: bytes) -> str:
    if not label.translate(None, _PLAIN):  # nothing to escape: the common case, in C
        return label.decode("ascii")
    return "".join([_ESCAPED[c] for c in label])


def labels_to_name(labels: Iterable[bytes]) -> str:
    """Presentation text (no trailing dot) of a sequence of labels; ``()`` is the root, ``""``."""
    labels = tuple(labels)
    wire = 1
    for label in labels:
        if not label or len(label) > MAX_LABEL_LEN:
            raise ValueError(f"label {label!r}: a label is 1 to {MAX_LABEL_LEN} bytes")
        wire += len(label) + 1
    if wire > MAX_NAME_LEN:
        raise ValueError(f"name is {wire} bytes on the wire (at most {MAX_NAME_LEN})")
    return ".".join([_label_text(label) for label in labels])


def _ascii(text: str, name: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"name {name!r} is not ASCII: write it in punycode (IDNA) or with \\DDD "
                         "escapes") from None


@lru_cache(maxsize=8192)
def name_to_labels(name: str) -> tuple[bytes, ...]:
    r"""The labels of a name in presentation format (RFC 1035 5.1).

    A trailing unescaped dot is accepted and ignored, ``""`` and ``"."`` are the root. Raises
    ValueError on an empty label, a label over 63 bytes, a name over 255 bytes on the wire, a bad
    ``\DDD`` escape or a character outside ASCII.
    """
    if not isinstance(name, str):
        raise ValueError(f"name {name!r} is not a str")
    if name in ("", "."):
        return ()
    if "\\" not in name:
        labels = _ascii(name[:-1] if name.endswith(".") else name, name).split(b".")
    else:
        labels, cur, i, n = [], bytearray(), 0, len(name)
        while i < n:
            ch = name[i]
            if ch == "\\":
                if i + 1 >= n:
                    raise ValueError(f"name {name!r} ends with a lone backslash")
                nxt = name[i + 1]
                if "0" <= nxt <= "9":
                    digits = name[i + 1:i + 4]
                    if len(digits) < 3 or not all("0" <= d <= "9" for d in digits) or int(digits) > 255:
                        raise ValueError(f"name {name!r}: \\DDD needs three decimal digits, 000 to 255")
                    cur.append(int(digits))
                    i += 4
                else:
                    cur += _ascii(nxt, name)
                    i += 2
            elif ch == ".":
                labels.append(bytes(cur))
                cur = bytearray()
                i += 1
                if i == n:  # the trailing dot of an absolute name
                    break
            else:
                cur += _ascii(ch, name)
                i += 1
        else:
            labels.append(bytes(cur))
    wire = 1
    for label in labels:
        if not label:
            raise ValueError(f"name {name!r} has an empty label")
        if len(label) > MAX_LABEL_LEN:
            raise ValueError(f"name {name!r}: label of {len(label)} bytes (at most {MAX_LABEL_LEN})")
        wire += len(label) + 1
    if wire > MAX_NAME_LEN:
        raise ValueError(f"name {name!r} is {wire} bytes on the wire (at most {MAX_NAME_LEN})")
    return tuple(labels)


@lru_cache(maxsize=8192)
def normalize_name(name: str) -> str:
    r"""The one presentation text of a name: no trailing dot, escapes as :func:`labels_to_name`
    writes them (``\065`` becomes ``A``). Case is kept. ValueError on an invalid name."""
    return ".".join([_label_text(label) for label in name_to_labels(name)])


@lru_cache(maxsize=8192)
def _canon_labels(name: str) -> tuple[bytes, ...]:
    return tuple(label.lower() for label in name_to_labels(name))


@lru_cache(maxsize=8192)
def canonical(name: str) -> str:
    """The name with ASCII letters in lower case: equal for names that DNS treats as equal
    (RFC 4343: only A-Z and a-z fold; other bytes compare exactly)."""
    return ".".join([_label_text(label) for label in _canon_labels(name)])


def name_eq(a: str, b: str) -> bool:
    """Whether two names are the same name (case-insensitive for ASCII, RFC 4343)."""
    return a == b or _canon_labels(a) == _canon_labels(b)


def is_subdomain(name: str, zone: str) -> bool:
    """Whether ``name`` is ``zone`` or below it (every name is under the root ``""``)."""
    n, z = _canon_labels(name), _canon_labels(zone)
    return not z or (len(n) >= len(z) and n[len(n) - len(z):] == z)


def _abs(name: str) -> str:
    """A name as master-file text: absolute, with its trailing dot."""
    return name + "." if name else "."


class CompressCtx:
    """A message being written: its bytes so far and, when compressing, where each name suffix
    already written starts (RFC 1035 4.1.4: a pointer can only reach the first 16 KiB)."""

    __slots__ = ("buf", "table", "lower")

    def __init__(self, compress: bool = True, lower: bool = False) -> None:
        self.buf = bytearray()
        self.table: dict[tuple[bytes, ...], int] | None = {} if compress else None
        self.lower = lower  # names in lower case: the canonical form of RFC 4034 6.2

    def write_name(self, name: str) -> None:
        labels = _canon_labels(name) if self.lower else name_to_labels(name)
        buf, table = self.buf, self.table
        for i in range(len(labels)):
            if table is not None:
                # Matching is exact, case included, so a decoded name is byte for byte the one
                # encoded (dnspython folds case here; both are allowed).
                suffix = labels[i:]
                off = table.get(suffix)
                if off is not None:
                    buf += (0xC000 | off).to_bytes(2, "big")
                    return
                if len(buf) < 0x4000:
                    table[suffix] = len(buf)
            label = labels[i]
            buf.append(len(label))
            buf += label
        buf.append(0)


def _read_name(data: bytes, pos: int, end: int, overrun: str) -> tuple[str, int]:
    """Read the name at ``pos``; inline labels must not pass ``end`` (an overrun is ``overrun``).

    Returns the name and the position after it. Every pointer must point strictly before the
    start of the name or of the previous pointer's target, as dnspython requires: the targets then
    strictly decrease, so decoding ends whatever the bytes, with no loop detection to get wrong;
    and a name follows at most :data:`MAX_POINTER_HOPS` pointers, so its cost is bounded too.
    """
    labels: list[bytes] = []
    wire = 1
    limit = pos
    after = -1
    hops = 0
    n = len(data)
    while True:
        if pos >= end:
            raise MalformedPacket("dns", overrun if after < 0 else "truncated",
                                  f"name at offset {pos} runs past the end")
        length = data[pos]
        if length == 0:
            break
        top = length & 0xC0
        if top == 0:
            stop = pos + 1 + length
            if stop > end:
                raise MalformedPacket("dns", overrun if after < 0 else "truncated",
                                      f"label at offset {pos} runs past the end")
            wire += length + 1
            if wire > MAX_NAME_LEN:
                raise MalformedPacket("dns", "name-too-long", f"over {MAX_NAME_LEN} bytes")
            labels.append(data[pos + 1:stop])
            pos = stop
        elif top == 0xC0:
            if pos + 2 > end:
                raise MalformedPacket("dns", overrun if after < 0 else "truncated",
                                      f"pointer at offset {pos} cut short")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if target >= n:
                raise MalformedPacket("dns", "bad-pointer", f"pointer at offset {pos} to {target}, "
                                      f"out of bounds ({n} bytes)")
            if target >= limit:
                what = "loop" if target == pos or after >= 0 else "points forward"
                raise MalformedPacket("dns", "bad-pointer",
                                      f"pointer at offset {pos} to {target} ({what})")
            hops += 1
            if hops > MAX_POINTER_HOPS:
                raise MalformedPacket("dns", "pointer-chain-too-long",
                                      f"pointer at offset {pos}: over {MAX_POINTER_HOPS} in one name")
            if after < 0:
                after = pos + 2
            limit = pos = target
            end = n
        else:
            # 01 and 10 are reserved (RFC 1035 4.1.4; 01 was RFC 2673's bit labels, now historic)
            raise MalformedPacket("dns", "bad-label-type", f"length byte 0x{length:02x} at offset {pos}")
    name = ".".join([_label_text(label) for label in labels])
    return name, (after if after >= 0 else pos + 1)


# -- rdata ------------------------------------------------------------------------------------------
def _put(ctx: CompressCtx | None, data: bytes) -> bytes:
    if ctx is not None:
        ctx.buf += data
    return data


def _bad(rrtype: str, detail: str) -> MalformedPacket:
    return MalformedPacket("dns", "bad-rdata", f"{rrtype}: {detail}")


@dataclass(frozen=True, slots=True)
class A:
    """An IPv4 address (RFC 1035 3.4.1), class IN only."""

    address: str
    rrtype: ClassVar[int] = RRType.A

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", str(ipaddress.IPv4Address(self.address)))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        """The rdata bytes; appended to ``ctx.buf`` when a context is given."""
        return _put(ctx, socket.inet_aton(self.address))

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "A":
        if end - start != 4:
            raise _bad("A", f"rdlength {end - start}, must be 4")
        return cls(socket.inet_ntoa(data[start:end]))

    def to_text(self) -> str:
        return self.address


def ipv6_text(address: str | bytes) -> str:
    """RFC 5952 text of an IPv6 address, an IPv4-mapped one as ``::ffff:192.0.2.80`` (RFC 5952 5,
    as inet_ntop and dig print it). ValueError for a bad address or one with a zone index
    (``fe80::1%eth0``: an interface of one host, meaningless in DNS)."""
    if isinstance(address, str) and "%" in address:
        raise ValueError(f"{address}: a zone index (%{address.split('%', 1)[1]}) names an interface of "
                         f"one host and has no place in DNS data (RFC 4007 11): write "
                         f"{address.split('%', 1)[0]}")
    addr = ipaddress.IPv6Address(address)
    mapped = addr.ipv4_mapped
    return f"::ffff:{mapped}" if mapped is not None else addr.compressed


@dataclass(frozen=True, slots=True)
class AAAA:
    """An IPv6 address (RFC 3596 2.2), class IN only, kept in RFC 5952 compressed text."""

    address: str
    rrtype: ClassVar[int] = RRType.AAAA

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", ipv6_text(self.address))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, ipaddress.IPv6Address(self.address).packed)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "AAAA":
        if end - start != 16:
            raise _bad("AAAA", f"rdlength {end - start}, must be 16")
        return cls(ipv6_text(data[start:end]))

    def to_text(self) -> str:
        return self.address


@dataclass(frozen=True, slots=True)
class _Target:
    target: str
    rrtype: ClassVar[int] = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", normalize_name(self.target))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        c = ctx if ctx is not None else CompressCtx(False)
        start = len(c.buf)
        c.write_name(self.target)
        return bytes(c.buf[start:])

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "_Target":
        name, pos = _read_name(data, start, end, "bad-rdata")
        if pos != end:
            raise _bad(cls.__name__, f"{end - pos} bytes after the name, inside rdlength")
        return cls(name)

    def to_text(self) -> str:
        return _abs(self.target)


@dataclass(frozen=True, slots=True)
class NS(_Target):
    """An authoritative name server for the owner (RFC 1035 3.3.11)."""

    rrtype: ClassVar[int] = RRType.NS


@dataclass(frozen=True, slots=True)
class CNAME(_Target):
    """The canonical name of an alias (RFC 1035 3.3.1)."""

    rrtype: ClassVar[int] = RRType.CNAME


@dataclass(frozen=True, slots=True)
class PTR(_Target):
    """A pointer to another name, as in reverse lookups (RFC 1035 3.3.12)."""

    rrtype: ClassVar[int] = RRType.PTR


@dataclass(frozen=True, slots=True)
class MX:
    """A mail exchanger and its preference, lower preferred (RFC 1035 3.3.9)."""

    preference: int
    exchange: str
    rrtype: ClassVar[int] = RRType.MX

    def __post_init__(self) -> None:
        _check_u(self.preference, 16, "MX preference")
        object.__setattr__(self, "exchange", normalize_name(self.exchange))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        c = ctx if ctx is not None else CompressCtx(False)
        start = len(c.buf)
        c.buf += self.preference.to_bytes(2, "big")
        c.write_name(self.exchange)
        return bytes(c.buf[start:])

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "MX":
        if end - start < 3:
            raise _bad("MX", f"rdlength {end - start}, needs a preference and a name")
        name, pos = _read_name(data, start + 2, end, "bad-rdata")
        if pos != end:
            raise _bad("MX", f"{end - pos} bytes after the name, inside rdlength")
        return cls(int.from_bytes(data[start:start + 2], "big"), name)

    def to_text(self) -> str:
        return f"{self.preference} {_abs(self.exchange)}"


def _quote(s: bytes) -> str:
    # As dnspython's rdata._escapify: only " and \ are backslashed inside quotes; space is literal.
    return '"' + "".join(['\\' + chr(c) if c in b'"\\' else chr(c) if 0x20 <= c < 0x7F
                          else f"\\{c:03d}" for c in s]) + '"'


@dataclass(frozen=True, slots=True)
class TXT:
    """One or more character-strings of up to 255 bytes each (RFC 1035 3.3.14)."""

    strings: tuple[bytes, ...]
    rrtype: ClassVar[int] = RRType.TXT

    def __post_init__(self) -> None:
        strings = tuple(s.encode() if isinstance(s, str) else bytes(s) for s in self.strings)
        if not strings:
            raise ValueError("TXT needs at least one string (RFC 1035 3.3.14)")
        for s in strings:
            if len(s) > 255:
                raise ValueError(f"TXT string of {len(s)} bytes (at most 255)")
        object.__setattr__(self, "strings", strings)

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, b"".join([bytes((len(s),)) + s for s in self.strings]))

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "TXT":
        strings = []
        pos = start
        while pos < end:
            stop = pos + 1 + data[pos]
            if stop > end:
                raise _bad("TXT", f"string at offset {pos} runs past rdlength")
            strings.append(data[pos + 1:stop])
            pos = stop
        if not strings:
            raise _bad("TXT", "rdlength 0, needs at least one string")
        return cls(tuple(strings))

    def to_text(self) -> str:
        return " ".join(map(_quote, self.strings))


@dataclass(frozen=True, slots=True)
class SOA:
    """Start of a zone of authority (RFC 1035 3.3.13). ``minimum`` is the negative-caching TTL
    (RFC 2308 4); ``rname`` is a mailbox with its first dot standing for the @."""

    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int
    rrtype: ClassVar[int] = RRType.SOA

    def __post_init__(self) -> None:
        object.__setattr__(self, "mname", normalize_name(self.mname))
        object.__setattr__(self, "rname", normalize_name(self.rname))
        for field in ("serial", "refresh", "retry", "expire", "minimum"):
            _check_u(getattr(self, field), 32, f"SOA {field}")

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        c = ctx if ctx is not None else CompressCtx(False)
        start = len(c.buf)
        c.write_name(self.mname)
        c.write_name(self.rname)
        c.buf += _SOA_TAIL.pack(self.serial, self.refresh, self.retry, self.expire, self.minimum)
        return bytes(c.buf[start:])

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "SOA":
        mname, pos = _read_name(data, start, end, "bad-rdata")
        rname, pos = _read_name(data, pos, end, "bad-rdata")
        if end - pos != _SOA_TAIL.size:
            raise _bad("SOA", f"{end - pos} bytes after the names, must be {_SOA_TAIL.size}")
        return cls(mname, rname, *_SOA_TAIL.unpack_from(data, pos))

    def to_text(self) -> str:
        return (f"{_abs(self.mname)} {_abs(self.rname)} {self.serial} {self.refresh} {self.retry} "
                f"{self.expire} {self.minimum}")


@dataclass(frozen=True, slots=True)
class Unknown:
    """Rdata we do not interpret, kept byte for byte (RFC 3597); text ``\\# LEN HEX``."""

    type: int
    data: bytes = b""

    def __post_init__(self) -> None:
        _check_u(self.type, 16, "type")
        object.__setattr__(self, "data", bytes(self.data))

    @property
    def rrtype(self) -> int:
        return self.type

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, self.data)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int, rrtype: int) -> "Unknown":
        return cls(rrtype, data[start:end])

    def to_text(self) -> str:
        return f"\\# {len(self.data)} {self.data.hex()}" if self.data else "\\# 0"


# -- rdata of the service, security and certificate types --------------------------------------------
# Presentation as BIND (and so dig) prints it: hex in upper case and base64, both in groups of 56
# characters (dig's one-line style); dnspython reads it back to the same wire bytes.
def _groups(text: str, size: int = 56) -> str:
    return " ".join([text[i:i + size] for i in range(0, len(text), size)])


def _hex_text(data: bytes) -> str:
    return _groups(data.hex().upper())


def _b64_text(data: bytes) -> str:
    import base64
    return _groups(base64.b64encode(data).decode("ascii"))


def _need_data(what: str, data: bytes) -> bytes:
    # A digest, key, signature or fingerprint of no bytes is nothing BIND would read or write.
    if not data:
        raise _bad(what, "no data after the fixed fields")
    return data


# The length each known digest type gives (DS: RFC 4034, 4509, 6605; TLSA: RFC 6698 2.1.3;
# SSHFP: RFC 4255, 6594), checked as BIND and dnspython check them.
_DIGEST_SIZES = {"DS": {1: 20, 2: 32, 3: 32, 4: 48}, "TLSA": {1: 32, 2: 64}, "SSHFP": {1: 20, 2: 32}}


def _check_digest(what: str, kind: int, data: bytes) -> None:
    if what == "DS" and kind == 0:
        raise ValueError("DS digest type 0 is reserved (only CDS uses it, to say delete: RFC 8078 4)")
    size = _DIGEST_SIZES[what].get(kind)
    if size is not None and len(data) != size:
        raise ValueError(f"{what} {'digest' if what == 'DS' else 'data'} of {len(data)} bytes, but its "
                         f"type {kind} gives {size}")


def _u(data: bytes, pos: int, end: int, size: int, what: str) -> int:
    if pos + size > end:
        raise _bad(what, f"rdlength {end - pos} too short")
    return int.from_bytes(data[pos:pos + size], "big")


def _write_name(ctx: CompressCtx | None, name: str) -> bytes:
    """A name inside rdata, never compressed (RFC 3597 4; RFC 2782 for SRV)."""
    c = ctx if ctx is not None else CompressCtx(False)
    start = len(c.buf)
    table, c.table = c.table, None
    try:
        c.write_name(name)
    finally:
        c.table = table
    return bytes(c.buf[start:])


def _string(data: bytes, pos: int, end: int, what: str) -> tuple[bytes, int]:
    if pos >= end or pos + 1 + data[pos] > end:
        raise _bad(what, f"character-string at offset {pos} runs past rdlength")
    stop = pos + 1 + data[pos]
    return data[pos + 1:stop], stop


def _check_string(s: bytes, what: str) -> bytes:
    s = s.encode() if isinstance(s, str) else bytes(s)
    if len(s) > 255:
        raise ValueError(f"{what} of {len(s)} bytes (a character-string is at most 255)")
    return s


@dataclass(frozen=True, slots=True)
class SRV:
    """Where a service is: priority (lower first), weight (share among equals), port, host
    (RFC 2782). The target is never compressed."""

    priority: int
    weight: int
    port: int
    target: str
    rrtype: ClassVar[int] = RRType.SRV

    def __post_init__(self) -> None:
        for field in ("priority", "weight", "port"):
            _check_u(getattr(self, field), 16, f"SRV {field}")
        object.__setattr__(self, "target", normalize_name(self.target))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        head = _put(ctx, struct.pack("!HHH", self.priority, self.weight, self.port))
        return head + _write_name(ctx, self.target)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "SRV":
        if end - start < 7:
            raise _bad("SRV", f"rdlength {end - start}, needs 6 bytes and a name")
        name, pos = _read_name(data, start + 6, end, "bad-rdata")
        if pos != end:
            raise _bad("SRV", f"{end - pos} bytes after the name, inside rdlength")
        return cls(*struct.unpack_from("!HHH", data, start), name)

    def to_text(self) -> str:
        return f"{self.priority} {self.weight} {self.port} {_abs(self.target)}"


@dataclass(frozen=True, slots=True)
class NAPTR:
    """A rewrite rule of the Dynamic Delegation Discovery System (RFC 3403 4.1)."""

    order: int
    preference: int
    flags: bytes
    services: bytes
    regexp: bytes
    replacement: str
    rrtype: ClassVar[int] = RRType.NAPTR

    def __post_init__(self) -> None:
        _check_u(self.order, 16, "NAPTR order")
        _check_u(self.preference, 16, "NAPTR preference")
        for field in ("flags", "services", "regexp"):
            object.__setattr__(self, field, _check_string(getattr(self, field), f"NAPTR {field}"))
        object.__setattr__(self, "replacement", normalize_name(self.replacement))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        head = _put(ctx, struct.pack("!HH", self.order, self.preference) + b"".join(
            [bytes((len(s),)) + s for s in (self.flags, self.services, self.regexp)]))
        return head + _write_name(ctx, self.replacement)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "NAPTR":
        order, pref = _u(data, start, end, 2, "NAPTR"), _u(data, start + 2, end, 2, "NAPTR")
        pos, strings = start + 4, []
        for _ in range(3):
            s, pos = _string(data, pos, end, "NAPTR")
            strings.append(s)
        name, pos = _read_name(data, pos, end, "bad-rdata")
        if pos != end:
            raise _bad("NAPTR", f"{end - pos} bytes after the name, inside rdlength")
        return cls(order, pref, *strings, name)

    def to_text(self) -> str:
        return (f"{self.order} {self.preference} {_quote(self.flags)} {_quote(self.services)} "
                f"{_quote(self.regexp)} {_abs(self.replacement)}")


@dataclass(frozen=True, slots=True)
class CAA:
    """Which certificate authorities may issue for the name (RFC 8659 4.1): flags (128 is
    issuer-critical), a tag (issue, issuewild, iodef, ...) and its value."""

    flags: int
    tag: bytes
    value: bytes
    rrtype: ClassVar[int] = RRType.CAA

    def __post_init__(self) -> None:
        _check_u(self.flags, 8, "CAA flags")
        tag = self.tag.encode() if isinstance(self.tag, str) else bytes(self.tag)
        if not 1 <= len(tag) <= 255 or not tag.isalnum() or not tag.isascii():
            raise ValueError(f"CAA tag {tag!r}: 1 to 255 letters and digits, like issue (RFC 8659 4.1)")
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "value", self.value.encode() if isinstance(self.value, str) else bytes(self.value))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, bytes((self.flags, len(self.tag))) + self.tag + self.value)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "CAA":
        if end - start < 2 or data[start + 1] == 0 or start + 2 + data[start + 1] > end:
            raise _bad("CAA", "needs flags, a tag length of 1 or more and the tag")
        stop = start + 2 + data[start + 1]
        try:
            return cls(data[start], data[start + 2:stop], data[stop:end])
        except ValueError as exc:
            raise _bad("CAA", str(exc)) from None

    def to_text(self) -> str:
        return f"{self.flags} {self.tag.decode('ascii')} {_quote(self.value)}"


@dataclass(frozen=True, slots=True)
class DS:
    """A digest of a child zone's DNSKEY, held by the parent: the link of trust (RFC 4034 5)."""

    key_tag: int
    algorithm: int
    digest_type: int
    digest: bytes
    rrtype: ClassVar[int] = RRType.DS

    def __post_init__(self) -> None:
        _check_u(self.key_tag, 16, "DS key tag")
        _check_u(self.algorithm, 8, "DS algorithm")
        _check_u(self.digest_type, 8, "DS digest type")
        object.__setattr__(self, "digest", bytes(self.digest))
        _check_digest("DS", self.digest_type, self.digest)

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, struct.pack("!HBB", self.key_tag, self.algorithm, self.digest_type) + self.digest)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "DS":
        if end - start < 4:
            raise _bad(cls.__name__, f"rdlength {end - start}, needs at least 4")
        try:
            return cls(*struct.unpack_from("!HBB", data, start), _need_data("DS", data[start + 4:end]))
        except ValueError as exc:
            raise _bad("DS", str(exc)) from None

    def to_text(self) -> str:
        return f"{self.key_tag} {self.algorithm} {self.digest_type} {_hex_text(self.digest)}"


@dataclass(frozen=True, slots=True)
class TLSA:
    """A certificate or key a TLS server must present: DANE (RFC 6698 2.1)."""

    usage: int
    selector: int
    matching_type: int
    data: bytes
    rrtype: ClassVar[int] = RRType.TLSA

    def __post_init__(self) -> None:
        for field in ("usage", "selector", "matching_type"):
            _check_u(getattr(self, field), 8, f"TLSA {field.replace('_', ' ')}")
        object.__setattr__(self, "data", bytes(self.data))
        _check_digest("TLSA", self.matching_type, self.data)

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, bytes((self.usage, self.selector, self.matching_type)) + self.data)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "TLSA":
        if end - start < 3:
            raise _bad("TLSA", f"rdlength {end - start}, needs at least 3")
        try:
            return cls(data[start], data[start + 1], data[start + 2], _need_data("TLSA", data[start + 3:end]))
        except ValueError as exc:
            raise _bad("TLSA", str(exc)) from None

    def to_text(self) -> str:
        return f"{self.usage} {self.selector} {self.matching_type} {_hex_text(self.data)}"


@dataclass(frozen=True, slots=True)
class SSHFP:
    """The fingerprint of a host's SSH key (RFC 4255 3.1)."""

    algorithm: int
    fp_type: int
    fingerprint: bytes
    rrtype: ClassVar[int] = RRType.SSHFP

    def __post_init__(self) -> None:
        _check_u(self.algorithm, 8, "SSHFP algorithm")
        _check_u(self.fp_type, 8, "SSHFP fingerprint type")
        object.__setattr__(self, "fingerprint", bytes(self.fingerprint))
        _check_digest("SSHFP", self.fp_type, self.fingerprint)

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, bytes((self.algorithm, self.fp_type)) + self.fingerprint)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "SSHFP":
        if end - start < 2:
            raise _bad("SSHFP", f"rdlength {end - start}, needs at least 2")
        try:
            return cls(data[start], data[start + 1], _need_data("SSHFP", data[start + 2:end]))
        except ValueError as exc:
            raise _bad("SSHFP", str(exc)) from None

    def to_text(self) -> str:
        return f"{self.algorithm} {self.fp_type} {_hex_text(self.fingerprint)}"


@dataclass(frozen=True, slots=True)
class DNSKEY:
    """A zone's public key (RFC 4034 2): flags 256 for a zone key, 257 with the SEP bit (a key
    signing key), protocol always 3."""

    flags: int
    protocol: int
    algorithm: int
    key: bytes
    rrtype: ClassVar[int] = RRType.DNSKEY

    def __post_init__(self) -> None:
        _check_u(self.flags, 16, "DNSKEY flags")
        _check_u(self.protocol, 8, "DNSKEY protocol")
        _check_u(self.algorithm, 8, "DNSKEY algorithm")
        object.__setattr__(self, "key", bytes(self.key))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, struct.pack("!HBB", self.flags, self.protocol, self.algorithm) + self.key)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "DNSKEY":
        if end - start < 4:
            raise _bad("DNSKEY", f"rdlength {end - start}, needs at least 4")
        return cls(*struct.unpack_from("!HBB", data, start), _need_data("DNSKEY", data[start + 4:end]))

    def to_text(self) -> str:
        return f"{self.flags} {self.protocol} {self.algorithm} {_b64_text(self.key)}"


def rrsig_time_text(value: int) -> str:
    """An RRSIG time as YYYYMMDDHHMMSS in UTC (RFC 4034 3.2): seconds since 1970 modulo 2**32."""
    import time
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(value))


@dataclass(frozen=True, slots=True)
class RRSIG:
    """A signature over one RRset (RFC 4034 3). Times are seconds since 1970 (mod 2**32)."""

    type_covered: int
    algorithm: int
    labels: int
    original_ttl: int
    expiration: int
    inception: int
    key_tag: int
    signer: str
    signature: bytes
    rrtype: ClassVar[int] = RRType.RRSIG

    def __post_init__(self) -> None:
        _check_u(self.type_covered, 16, "RRSIG type covered")
        for field, bits in (("algorithm", 8), ("labels", 8), ("original_ttl", 32), ("expiration", 32),
                            ("inception", 32), ("key_tag", 16)):
            _check_u(getattr(self, field), bits, f"RRSIG {field.replace('_', ' ')}")
        object.__setattr__(self, "signer", normalize_name(self.signer))
        object.__setattr__(self, "signature", bytes(self.signature))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        head = _put(ctx, struct.pack("!HBBIIIH", self.type_covered, self.algorithm, self.labels,
                                     self.original_ttl, self.expiration, self.inception, self.key_tag))
        name = _write_name(ctx, self.signer)
        return head + name + _put(ctx, self.signature)

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "RRSIG":
        if end - start < 19:
            raise _bad("RRSIG", f"rdlength {end - start}, needs at least 19")
        fields = struct.unpack_from("!HBBIIIH", data, start)
        signer, pos = _read_name(data, start + 18, end, "bad-rdata")
        return cls(*fields, signer, _need_data("RRSIG", data[pos:end]))

    def to_text(self) -> str:
        return (f"{type_text(self.type_covered)} {self.algorithm} {self.labels} {self.original_ttl} "
                f"{rrsig_time_text(self.expiration)} {rrsig_time_text(self.inception)} {self.key_tag} "
                f"{_abs(self.signer)} {_b64_text(self.signature)}")


def encode_type_bitmap(types: Iterable[int]) -> bytes:
    """RFC 4034 4.1.2: windows of 256 types, each a window number, a length and the bits."""
    windows: dict[int, bytearray] = {}
    for t in sorted(set(types)):
        bits = windows.setdefault(t >> 8, bytearray(32))
        bits[(t & 0xFF) >> 3] |= 0x80 >> (t & 7)
    out = bytearray()
    for window, bits in sorted(windows.items()):
        used = bits.rstrip(b"\0")
        out += bytes((window, len(used))) + used
    return bytes(out)


def decode_type_bitmap(data: bytes, pos: int, end: int, what: str) -> tuple[int, ...]:
    types: list[int] = []
    last = -1
    while pos < end:
        if pos + 2 > end:
            raise _bad(what, "type bitmap window cut short")
        window, length = data[pos], data[pos + 1]
        if (window <= last or not 1 <= length <= 32 or pos + 2 + length > end
                or data[pos + 1 + length] == 0):  # trailing zero bytes must be left out
            raise _bad(what, f"bad type bitmap window {window} of length {length} (RFC 4034 4.1.2)")
        last = window
        for i, byte in enumerate(data[pos + 2:pos + 2 + length]):
            types += [window * 256 + i * 8 + b for b in range(8) if byte & (0x80 >> b)]
        pos += 2 + length
    return tuple(types)


@dataclass(frozen=True, slots=True)
class NSEC:
    """The next name of the zone in canonical order and the types at the owner: proof that what
    lies between does not exist (RFC 4034 4)."""

    next: str
    types: tuple[int, ...]
    rrtype: ClassVar[int] = RRType.NSEC

    def __post_init__(self) -> None:
        object.__setattr__(self, "next", normalize_name(self.next))
        for t in self.types:
            _check_u(t, 16, "NSEC type")
            if t == 0:
                raise ValueError("NSEC lists type 0, which is reserved (RFC 6895 3.1)")
        object.__setattr__(self, "types", tuple(sorted(set(self.types))))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _write_name(ctx, self.next) + _put(ctx, encode_type_bitmap(self.types))

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "NSEC":
        name, pos = _read_name(data, start, end, "bad-rdata")
        try:
            return cls(name, decode_type_bitmap(data, pos, end, "NSEC"))
        except ValueError as exc:
            raise _bad("NSEC", str(exc)) from None

    def to_text(self) -> str:
        return " ".join([_abs(self.next), *map(type_text, self.types)])


# SVCB and HTTPS (RFC 9460). The parameters are kept as (key, value bytes) in key order; their
# text, as BIND prints it, comes from the key's kind.
SVC_KEYS = {"mandatory": 0, "alpn": 1, "no-default-alpn": 2, "port": 3, "ipv4hint": 4, "ech": 5,
            "ipv6hint": 6}
_SVC_NAMES = {v: k for k, v in SVC_KEYS.items()}


def svc_key_text(key: int) -> str:
    """A SvcParamKey's name, or ``keyNNNNN`` (RFC 9460 14.3.2)."""
    return _SVC_NAMES.get(key, f"key{key}")


def _svc_escape(s: bytes, specials: bytes = b'"\\') -> str:
    return "".join(["\\" + chr(c) if c in specials else chr(c) if 0x21 <= c < 0x7F or c == 0x20
                    else f"\\{c:03d}" for c in s])


def check_svc_value(key: int, value: bytes, what: str = "SVCB") -> None:
    """ValueError when a known key's value is not well formed (RFC 9460 7)."""
    n = len(value)
    if key == 0:
        if not n or n % 2:
            raise ValueError(f"{what} mandatory: a list of 2-byte keys, got {n} bytes")
        keys = [int.from_bytes(value[i:i + 2], "big") for i in range(0, n, 2)]
        if 0 in keys or keys != sorted(set(keys)):
            raise ValueError(f"{what} mandatory: keys must be increasing and not name mandatory itself")
    elif key == 1:
        pos = 0
        if not n:
            raise ValueError(f"{what} alpn: needs at least one protocol id")
        while pos < n:
            if value[pos] == 0 or pos + 1 + value[pos] > n:
                raise ValueError(f"{what} alpn: a protocol id is 1 to 255 bytes")
            pos += 1 + value[pos]
    elif key == 2 and n:
        raise ValueError(f"{what} no-default-alpn takes no value")
    elif key == 3 and n != 2:
        raise ValueError(f"{what} port: 2 bytes, got {n}")
    elif key == 5 and (n < 6 or int.from_bytes(value[:2], "big") != n - 2):
        raise ValueError(f"{what} ech: an ECHConfigList, a 2-byte length and 4 bytes or more "
                         f"(RFC 9849 4), got {n} bytes")
    elif key == 4 and (not n or n % 4):
        raise ValueError(f"{what} ipv4hint: a list of 4-byte addresses, got {n} bytes")
    elif key == 6 and (not n or n % 16):
        raise ValueError(f"{what} ipv6hint: a list of 16-byte addresses, got {n} bytes")


def svc_value_text(key: int, value: bytes) -> str:
    """``key=value`` as BIND prints it: alpn and unknown keys quoted, the others bare."""
    import base64
    name = svc_key_text(key)
    if key == 0:
        return f"{name}=" + ",".join(svc_key_text(int.from_bytes(value[i:i + 2], "big"))
                                     for i in range(0, len(value), 2))
    if key == 1:
        ids, pos = [], 0
        while pos < len(value):
            ids.append(value[pos + 1:pos + 1 + value[pos]])
            pos += 1 + value[pos]
        # Two levels of escaping (RFC 9460 A.1): "," and "\" inside an id, then the string's own.
        items = [i.replace(b"\\", b"\\\\").replace(b",", b"\\,") for i in ids]
        return f'{name}="' + _svc_escape(b",".join(items)) + '"'
    if key == 2:
        return name
    if key == 3:
        return f"{name}={int.from_bytes(value, 'big')}"
    if key == 4:
        return f"{name}=" + ",".join(socket.inet_ntoa(value[i:i + 4]) for i in range(0, len(value), 4))
    if key == 5:
        return f"{name}={base64.b64encode(value).decode('ascii')}"
    if key == 6:
        return f"{name}=" + ",".join(ipv6_text(value[i:i + 16]) for i in range(0, len(value), 16))
    return f'{name}="{_svc_escape(value)}"' if value else name


@dataclass(frozen=True, slots=True)
class SVCB:
    """A service binding (RFC 9460 2.2): priority 0 is AliasMode (the target serves instead), 1 and
    up ServiceMode with parameters (alpn, port, address hints, ech, ...)."""

    priority: int
    target: str
    params: tuple[tuple[int, bytes], ...] = ()
    rrtype: ClassVar[int] = RRType.SVCB

    def __post_init__(self) -> None:
        _check_u(self.priority, 16, f"{type_text(self.rrtype)} priority")
        object.__setattr__(self, "target", normalize_name(self.target))
        params = tuple((k, bytes(v)) for k, v in self.params)
        keys = [k for k, _ in params]
        for key, value in params:
            _check_u(key, 16, "SvcParamKey")
            check_svc_value(key, value, type_text(self.rrtype))
        if keys != sorted(set(keys)):
            raise ValueError(f"{type_text(self.rrtype)} parameters must have distinct keys in increasing "
                             "order (RFC 9460 2.2)")
        if params and dict(params).get(0) is not None:
            missing = [svc_key_text(int.from_bytes(dict(params)[0][i:i + 2], "big"))
                       for i in range(0, len(dict(params)[0]), 2)
                       if int.from_bytes(dict(params)[0][i:i + 2], "big") not in keys]
            if missing:
                raise ValueError(f"{type_text(self.rrtype)} mandatory lists {', '.join(missing)}, which "
                                 "is not given (RFC 9460 8)")
        object.__setattr__(self, "params", params)

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        head = _put(ctx, self.priority.to_bytes(2, "big"))
        name = _write_name(ctx, self.target)  # never compressed (RFC 9460 2.2)
        return head + name + _put(ctx, b"".join([struct.pack("!HH", k, len(v)) + v for k, v in self.params]))

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "SVCB":
        what = type_text(cls.rrtype)
        priority = _u(data, start, end, 2, what)
        target, pos = _read_name(data, start + 2, end, "bad-rdata")
        params = []
        while pos < end:
            if pos + 4 > end:
                raise _bad(what, "SvcParam header cut short")
            key, length = struct.unpack_from("!HH", data, pos)
            if pos + 4 + length > end:
                raise _bad(what, f"SvcParam {svc_key_text(key)} runs past rdlength")
            params.append((key, data[pos + 4:pos + 4 + length]))
            pos += 4 + length
        try:
            return cls(priority, target, tuple(params))
        except ValueError as exc:
            raise _bad(what, str(exc)) from None

    def to_text(self) -> str:
        return " ".join([str(self.priority), _abs(self.target),
                         *[svc_value_text(k, v) for k, v in self.params]])


@dataclass(frozen=True, slots=True)
class HTTPS(SVCB):
    """SVCB for HTTP origins (RFC 9460 9): how to reach https://NAME, e.g. over HTTP/3."""

    rrtype: ClassVar[int] = RRType.HTTPS


Rdata = Union[A, AAAA, NS, CNAME, PTR, MX, TXT, SOA, SRV, NAPTR, CAA, DS, TLSA, SSHFP, DNSKEY, RRSIG, NSEC,
              SVCB, HTTPS, Unknown]  # OPT (below) is message-level, not an answer's rdata

#: The rdata class for each type we interpret; everything else is :class:`Unknown`.
RDATA_CLASSES: dict[int, type] = {RRType.A: A, RRType.AAAA: AAAA, RRType.NS: NS,
                                  RRType.CNAME: CNAME, RRType.PTR: PTR, RRType.MX: MX,
                                  RRType.TXT: TXT, RRType.SOA: SOA, RRType.SRV: SRV, RRType.NAPTR: NAPTR,
                                  RRType.CAA: CAA, RRType.DS: DS, RRType.TLSA: TLSA, RRType.SSHFP: SSHFP,
                                  RRType.DNSKEY: DNSKEY, RRType.RRSIG: RRSIG, RRType.NSEC: NSEC,
                                  RRType.SVCB: SVCB, RRType.HTTPS: HTTPS}
# Types whose names fold to lower case in the canonical form (RFC 4034 6.2, as RFC 6840 5.1 left
# it): records that differ only in the case of those names are one record.
_CANON_LOWER = frozenset({RRType.NS, RRType.CNAME, RRType.SOA, RRType.PTR, RRType.MX, RRType.SRV,
                          RRType.NAPTR, RRType.RRSIG})


def canonical_rdata(data: "Rdata") -> bytes:
    """The rdata's canonical wire form (RFC 4034 6.2): equal for rdata that are the same record."""
    ctx = CompressCtx(False, lower=data.rrtype in _CANON_LOWER)
    data.encode(ctx)
    return bytes(ctx.buf)
_IN_ONLY = frozenset({RRType.A, RRType.AAAA})
_NOT_TYPED = frozenset({254, 255})  # classes NONE and ANY carry RFC 2136 update markers


def decode_rdata(data: bytes, rrtype: int, rrclass: int, start: int, end: int) -> Rdata:
    """The rdata at ``data[start:end]`` (``data`` being the whole message, for pointers)."""
    if rrtype == RRType.OPT:  # its class is a payload size, not a class (RFC 6891 6.1.2)
        return OPT.decode(data, start, end)
    cls = RDATA_CLASSES.get(rrtype)
    if cls is None or rrclass in _NOT_TYPED or (rrtype in _IN_ONLY and rrclass != RRClass.IN):
        return Unknown.decode(data, start, end, rrtype)
    return cls.decode(data, start, end)


# -- EDNS(0) (RFC 6891) -----------------------------------------------------------------------------
class EdnsOptionCode(IntEnum):
    """EDNS option codes (IANA "DNS EDNS0 Option Codes")."""

    NSID = 3  # RFC 5001
    CLIENT_SUBNET = 8  # RFC 7871
    EXPIRE = 9  # RFC 7314
    COOKIE = 10  # RFC 7873
    KEEPALIVE = 11  # RFC 7828
    PADDING = 12  # RFC 7830


_OPT_HEAD = struct.Struct("!HH")
_PRINTABLE = bytes(range(0x20, 0x7F))


@dataclass(frozen=True, slots=True)
class EdnsOption:
    """One option of an OPT record: a code and its data, opaque here (RFC 6891 6.1.2)."""

    code: int
    data: bytes = b""

    def __post_init__(self) -> None:
        _check_u(self.code, 16, "EDNS option code")
        object.__setattr__(self, "data", bytes(self.data))
        if len(self.data) > 0xFFFF:
            raise ValueError(f"EDNS option of {len(self.data)} bytes (at most 65535)")

    def to_text(self) -> str:
        """The option as dig 9.18 prints it in its OPT PSEUDOSECTION (without the leading ``; ``)."""
        if self.code == EdnsOptionCode.COOKIE:
            return f"COOKIE: {self.data.hex()}"
        name = "NSID" if self.code == EdnsOptionCode.NSID else f"OPT={self.code}"
        if not self.data:
            return f"{name}:"
        shown = "".join(chr(c) if c in _PRINTABLE else "." for c in self.data)
        return f"{name}: {self.data.hex(' ')} (\"{shown}\")"


@dataclass(frozen=True, slots=True)
class OPT:
    """The rdata of an OPT pseudo-record: its options, in order (RFC 6891 6.1.2)."""

    options: tuple[EdnsOption, ...] = ()
    rrtype: ClassVar[int] = RRType.OPT

    def __post_init__(self) -> None:
        if type(self.options) is not tuple:
            object.__setattr__(self, "options", tuple(self.options))

    def encode(self, ctx: CompressCtx | None = None) -> bytes:
        return _put(ctx, b"".join([_OPT_HEAD.pack(o.code, len(o.data)) + o.data for o in self.options]))

    @classmethod
    def decode(cls, data: bytes, start: int, end: int) -> "OPT":
        options, pos = [], start
        while pos < end:
            if pos + 4 > end:
                raise _bad("OPT", f"{end - pos} bytes left, an option needs 4")
            code, length = _OPT_HEAD.unpack_from(data, pos)
            pos += 4
            if pos + length > end:
                raise _bad("OPT", f"option {code} of {length} bytes, {end - pos} left")
            options.append(EdnsOption(code, data[pos:pos + length]))
            pos += length
        return cls(tuple(options))

    def to_text(self) -> str:
        return "; ".join(o.to_text() for o in self.options)


EDNS_DO = 0x8000  # DNSSEC OK (RFC 3225), the one EDNS flag defined


@dataclass(frozen=True, slots=True)
class Edns:
    """What an OPT record says (RFC 6891 6.1.3): the sender's UDP payload size (its CLASS), the
    upper 8 bits of the 12-bit RCODE, the version, the DO bit and the other 15 flag bits (``z``,
    zero unless some future RFC defines them) (its TTL), and the options (its rdata)."""

    payload: int = 1232
    version: int = 0
    do: bool = False
    z: int = 0
    ext_rcode: int = 0
    options: tuple[EdnsOption, ...] = ()

    def __post_init__(self) -> None:
        _check_u(self.payload, 16, "UDP payload size")
        _check_u(self.version, 8, "EDNS version")
        _check_u(self.z, 16, "EDNS flags")
        _check_u(self.ext_rcode, 8, "extended RCODE")
        if self.z & EDNS_DO:
            raise ValueError("the DO bit is do=True, not part of z")
        if type(self.options) is not tuple:
            object.__setattr__(self, "options", tuple(self.options))

    @property
    def flags(self) -> int:
        """The 16 flag bits as on the wire, DO included."""
        return (EDNS_DO if self.do else 0) | self.z

    def option(self, code: int) -> EdnsOption | None:
        """The first option with this code, if any."""
        for o in self.options:
            if o.code == code:
                return o
        return None

    def record(self) -> ResourceRecord:
        """The OPT record that says this: root owner, payload as CLASS, the rest in the TTL."""
        return ResourceRecord("", RRType.OPT, self.payload,
                              (self.ext_rcode << 24) | (self.version << 16) | self.flags, OPT(self.options))

    @classmethod
    def from_record(cls, rr: ResourceRecord) -> "Edns":
        data = rr.data
        if isinstance(data, OPT):
            options = data.options
        else:  # built by hand with opaque rdata
            options = OPT.decode(data.encode(), 0, len(data.encode())).options
        ttl = rr.ttl
        return cls(int(rr.cls), (ttl >> 16) & 0xFF, bool(ttl & EDNS_DO), ttl & 0x7FFF, ttl >> 24, options)

    def to_text(self) -> str:
        """dig's line: ``EDNS: version: 0, flags: do; udp: 1232`` (``MBZ: 0x....`` for unknown flags)."""
        mbz = f" MBZ: 0x{self.z:04x}," if self.z else ""
        return f"EDNS: version: {self.version}, flags:{' do' if self.do else ''};{mbz} udp: {self.payload}"


def edns_error(msg: "DNSMessage") -> str | None:
    """Why a request's OPT use is malformed (a server answers FORMERR, RFC 6891 6.1.1), or None:
    more than one OPT, an OPT outside the additional section, an OPT whose owner is not the root."""
    for title, section in zip(_SECTION_NAMES[:2], msg.sections[:2]):
        if any(rr.type == RRType.OPT for rr in section):
            return f"an OPT record in the {title.lower()} section"
    opts = [rr for rr in msg.additional if rr.type == RRType.OPT]
    if len(opts) > 1:
        return f"{len(opts)} OPT records"
    if opts and opts[0].name != "":
        return f"an OPT record owned by {opts[0].name!r}, not the root"
    return None


# -- records and messages ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Question:
    """What is asked: a name, a type and a class (RFC 1035 4.1.2)."""

    name: str
    type: int
    cls: int = RRClass.IN

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", normalize_name(self.name))
        _check_u(self.type, 16, "type")
        _check_u(self.cls, 16, "class")
        object.__setattr__(self, "type", _TYPES.get(self.type, self.type))
        object.__setattr__(self, "cls", _CLASSES.get(self.cls, self.cls))

    def to_text(self) -> str:
        return f";{_abs(self.name)}\t\t{class_text(self.cls)}\t{type_text(self.type)}"


@dataclass(frozen=True, slots=True)
class ResourceRecord:
    """A resource record (RFC 1035 4.1.3). ``ttl`` is kept as it came, top bit included
    (RFC 2181 8 asks a receiver to treat such values as zero; that is the cache's business)."""

    name: str
    type: int
    cls: int
    ttl: int
    data: Rdata

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", normalize_name(self.name))
        _check_u(self.type, 16, "type")
        _check_u(self.cls, 16, "class")
        _check_u(self.ttl, 32, "TTL")
        object.__setattr__(self, "type", _TYPES.get(self.type, self.type))
        object.__setattr__(self, "cls", _CLASSES.get(self.cls, self.cls))

    def to_text(self) -> str:
        """One line of a master file, absolute owner name, tab-separated as dig prints it."""
        return (f"{_abs(self.name)}\t{self.ttl}\t{class_text(self.cls)}\t{type_text(self.type)}\t"
                f"{self.data.to_text()}")


def _flags(m: "DNSMessage") -> int:
    _check_u(m.opcode, 4, "opcode")
    _check_u(m.rcode, 4, "rcode")
    _check_u(m.z, 1, "z")
    return ((bool(m.qr) << 15) | (m.opcode << 11) | (bool(m.aa) << 10) | (bool(m.tc) << 9)
            | (bool(m.rd) << 8) | (bool(m.ra) << 7) | (m.z << 6) | (bool(m.ad) << 5)
            | (bool(m.cd) << 4) | m.rcode)


_SECTION_NAMES = ("ANSWER", "AUTHORITY", "ADDITIONAL")


@dataclass(frozen=True, slots=True)
class DNSMessage:
    """A DNS message (RFC 1035 4.1). ``z`` is the one reserved header bit; ``ad`` and ``cd`` are
    RFC 4035's. ``opcode`` and ``rcode`` are :class:`Opcode` / :class:`Rcode` when known."""

    id: int
    qr: bool = False
    opcode: int = Opcode.QUERY
    aa: bool = False
    tc: bool = False
    rd: bool = False
    ra: bool = False
    z: int = 0
    ad: bool = False
    cd: bool = False
    rcode: int = Rcode.NOERROR
    questions: tuple[Question, ...] = ()
    answers: tuple[ResourceRecord, ...] = ()
    authority: tuple[ResourceRecord, ...] = ()
    additional: tuple[ResourceRecord, ...] = ()

    def __post_init__(self) -> None:
        for section in ("questions", "answers", "authority", "additional"):
            value = getattr(self, section)
            if type(value) is not tuple:
                object.__setattr__(self, section, tuple(value))

    @property
    def sections(self) -> tuple[tuple[ResourceRecord, ...], ...]:
        """Answer, authority and additional, in that order."""
        return (self.answers, self.authority, self.additional)

    @property
    def edns(self) -> Edns | None:
        """What the (first) OPT record of the additional section says; None without one."""
        for rr in self.additional:
            if rr.type == RRType.OPT:
                return Edns.from_record(rr)
        return None

    @property
    def full_rcode(self) -> int:
        """The 12-bit RCODE: the header's 4 bits and, with EDNS, the OPT's upper 8 (RFC 6891 6.1.3)."""
        for rr in self.additional:
            if rr.type == RRType.OPT:
                code = ((rr.ttl >> 24) << 4) | self.rcode
                return _RCODES.get(code, code)
        return self.rcode

    def encode(self, compress: bool = True) -> bytes:
        """The message on the wire; names compressed unless ``compress`` is false."""
        return bytes(_encode(self, compress)[0])

    @classmethod
    def decode(cls, data: bytes | memoryview) -> "DNSMessage":
        """Parse a message; bytes after the last counted record are ignored."""
        data = bytes(data)
        n = len(data)
        if n < HEADER_LEN:
            raise MalformedPacket("dns", "truncated", f"{n} bytes, header needs {HEADER_LEN}")
        ident, flags, qdcount, ancount, nscount, arcount = _HDR.unpack_from(data)
        least = HEADER_LEN + qdcount * _MIN_QUESTION + (ancount + nscount + arcount) * _MIN_RR
        if least > n:  # cheap, and it bounds the work a lying header can ask for
            raise MalformedPacket("dns", "bad-count", f"counts {qdcount}/{ancount}/{nscount}/{arcount} "
                                  f"need at least {least} bytes, have {n}")
        pos = HEADER_LEN
        questions = []
        for i in range(qdcount):
            if pos >= n:
                raise MalformedPacket("dns", "bad-count", f"message ends after {i} of {qdcount} questions")
            name, pos = _read_name(data, pos, n, "truncated")
            if pos + 4 > n:
                raise MalformedPacket("dns", "truncated", f"question {i + 1} cut short")
            qtype, qclass = _Q.unpack_from(data, pos)
            pos += 4
            questions.append(Question(name, qtype, qclass))
        sections = []
        for title, count in zip(_SECTION_NAMES, (ancount, nscount, arcount)):
            records = []
            for i in range(count):
                if pos >= n:
                    raise MalformedPacket("dns", "bad-count",
                                          f"message ends after {i} of {count} {title.lower()} records")
                name, pos = _read_name(data, pos, n, "truncated")
                if pos + 10 > n:
                    raise MalformedPacket("dns", "truncated", f"{title.lower()} record {i + 1} cut short")
                rtype, rclass, ttl, rdlength = _RR.unpack_from(data, pos)
                pos += 10
                end = pos + rdlength
                if end > n:
                    raise MalformedPacket("dns", "truncated", f"rdlength {rdlength}, {n - pos} bytes left")
                records.append(ResourceRecord(name, rtype, rclass, ttl,
                                              decode_rdata(data, rtype, rclass, pos, end)))
                pos = end
            sections.append(tuple(records))
        return cls(ident, bool(flags & 0x8000), _OPCODES.get((flags >> 11) & 0xF, (flags >> 11) & 0xF),
                   bool(flags & 0x0400), bool(flags & 0x0200), bool(flags & 0x0100),
                   bool(flags & 0x0080), (flags >> 6) & 1, bool(flags & 0x0020), bool(flags & 0x0010),
                   _RCODES.get(flags & 0xF, flags & 0xF), tuple(questions), *sections)

    def flag_names(self) -> list[str]:
        """The header bits that are set, lower case, in dig's order."""
        return [name for name, on in (("qr", self.qr), ("aa", self.aa), ("tc", self.tc),
                                      ("rd", self.rd), ("ra", self.ra), ("z", self.z),
                                      ("ad", self.ad), ("cd", self.cd)) if on]

    def to_text(self, option_notes: dict[int, str] | None = None) -> str:
        """The message as dig prints it; an OPT record is shown as dig 9.18 shows it, in an OPT
        PSEUDOSECTION (``option_notes``: text to add after an option, by code, e.g. dig's
        ``(good)`` after a COOKIE)."""
        lines = [f";; ->>HEADER<<- opcode: {opcode_text(self.opcode)}, status: "
                 f"{rcode_text(self.full_rcode)}, id: {self.id}",
                 f";; flags: {' '.join(self.flag_names())}; QUERY: {len(self.questions)}, "
                 f"ANSWER: {len(self.answers)}, AUTHORITY: {len(self.authority)}, "
                 f"ADDITIONAL: {len(self.additional)}", ""]
        edns = self.edns
        if edns is not None:
            notes = option_notes or {}
            lines += [";; OPT PSEUDOSECTION:", f"; {edns.to_text()}"]
            lines += [f"; {o.to_text()}{' ' + notes[o.code] if o.code in notes else ''}" for o in edns.options]
        lines.append(";; QUESTION SECTION:")
        lines += [q.to_text() for q in self.questions]
        for title, records in zip(_SECTION_NAMES, self.sections):
            if edns is not None and title == "ADDITIONAL":
                records = tuple(rr for rr in records if rr.type != RRType.OPT)
            if records:
                lines += ["", f";; {title} SECTION:"]
                lines += [rr.to_text() for rr in records]
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        """One line for traces: what was asked and, for a response, what came back."""
        op = "" if self.opcode == Opcode.QUERY else f" {opcode_text(self.opcode)}"
        if self.questions:
            q = self.questions[0]
            asked = f" {type_text(q.type)} {q.name or '.'}"
            if len(self.questions) > 1:
                asked += f" (+{len(self.questions) - 1} questions)"
        else:
            asked = " (no question)"
        if not self.qr:
            return f"DNS{op} query id=0x{self.id:04x}{asked}"
        flags = "".join(f" {f}" for f in ("aa", "tc") if getattr(self, f))
        head = f"DNS{op} response id=0x{self.id:04x} {rcode_text(self.full_rcode)}{flags}{asked}"
        n = len(self.answers)
        if n:
            qtype = self.questions[0].type if self.questions else None
            shown = [(rr.data.to_text() if rr.type == qtype else f"{type_text(rr.type)} {rr.data.to_text()}")
                     for rr in self.answers[:3]]
            more = ", ..." if n > 3 else ""
            return f"{head}: {', '.join(shown)}{more} ({n} answer{'s' if n != 1 else ''})"
        ns = [rr for rr in self.authority if rr.type == RRType.NS]
        if ns and not self.aa and self.full_rcode == Rcode.NOERROR:
            return f"{head}: 0 answers, {len(ns)} NS (referral to {ns[0].name or '.'})"
        nodata = ", NODATA" if self.full_rcode == Rcode.NOERROR else ""
        return f"{head} (0 answers{nodata})"


def _encode(m: DNSMessage, compress: bool) -> tuple[bytearray, int, list[int]]:
    """The message's bytes, where the question section ends and where each record ends."""
    ctx = CompressCtx(compress)
    buf = ctx.buf
    ends: list[int] = []
    try:
        _check_u(m.id, 16, "id")
        buf += _HDR.pack(m.id, _flags(m), len(m.questions), len(m.answers), len(m.authority),
                         len(m.additional))
        for q in m.questions:
            ctx.write_name(q.name)
            buf += _Q.pack(q.type, q.cls)
        q_end = len(buf)
        for section in m.sections:
            for rr in section:
                ctx.write_name(rr.name)
                buf += _RR.pack(rr.type, rr.cls, rr.ttl, 0)
                start = len(buf)
                rr.data.encode(ctx)
                rdlength = len(buf) - start
                if rdlength > 0xFFFF:
                    raise ValueError(f"rdata of {rdlength} bytes (at most 65535)")
                buf[start - 2:start] = rdlength.to_bytes(2, "big")
                ends.append(len(buf))
    except struct.error as exc:  # a count or field out of range
        raise ValueError(f"cannot encode DNS message: {exc}") from None
    return buf, q_end, ends


def encode_limited(msg: DNSMessage, limit: int = 512, needed: int = 0) -> bytes:
    """Encode ``msg`` in at most ``limit`` bytes (512 for plain UDP, RFC 1035 4.2.1).

    When it does not fit, whole RRsets are dropped from the end: additional first, then
    authority, then answers. TC is set only when something from the answer or authority section
    had to go, or one of the first ``needed`` additional records: other additional data missing
    is no truncation (RFC 2181 9), but a referral's in-domain glue is (RFC 9471 3). An OPT record
    is kept whatever else goes (RFC 6891 7). ValueError when not even the header and question fit.
    """
    data = msg.encode()
    if len(data) <= limit:
        return data
    opts = tuple(rr for rr in msg.additional if rr.type == RRType.OPT)
    rest = replace(msg, additional=tuple(rr for rr in msg.additional if rr.type != RRType.OPT))
    buf, q_end, ends = _encode(rest, True)
    # An OPT record needs no compression context: root owner, opaque rdata.
    opt_bytes = b"".join(DNSMessage(0, additional=(rr,)).encode()[HEADER_LEN:] for rr in opts)
    records = [(s, rr) for s, section in enumerate(rest.sections) for rr in section]
    # A cut after k records keeps whole RRsets when no RRset of a section straddles it.
    last: dict[tuple, int] = {}
    for i, (s, rr) in enumerate(records):
        last[(s, canonical(rr.name), rr.type, rr.cls)] = i
    cuts = [0]
    reach = -1
    for i, (s, rr) in enumerate(records):
        reach = max(reach, last[(s, canonical(rr.name), rr.type, rr.cls)])
        if reach == i:
            cuts.append(i + 1)
    for extra in (opt_bytes, b""):
        for k in reversed(cuts):
            size = (ends[k - 1] if k else q_end) + len(extra)
            if size <= limit:
                n_an, n_ns = len(rest.answers), len(rest.authority)
                an, ns = min(k, n_an), min(max(k - n_an, 0), n_ns)
                ar = k - an - ns
                tc = msg.tc or k < n_an + n_ns + needed
                flags = _flags(msg) | (0x0200 if tc else 0)
                header = _HDR.pack(msg.id, flags, len(msg.questions), an, ns,
                                   ar + (len(opts) if extra else 0))
                return header + bytes(buf[HEADER_LEN:size - len(extra)]) + extra
    raise ValueError(f"the header and question alone take {q_end} bytes, over the limit of {limit}")


def make_query(name: str, type: int, id: int, rd: bool = True, cls: int = RRClass.IN,
               edns: Edns | None = None) -> DNSMessage:
    """A query for one name and type (RFC 1035 4.1.1), with an OPT record when ``edns`` is given."""
    return DNSMessage(id, rd=rd, questions=(Question(name, type, cls),),
                      additional=(edns.record(),) if edns is not None else ())


def make_response(query: DNSMessage, rcode: int = Rcode.NOERROR, aa: bool = False,
                  answers: Iterable[ResourceRecord] = (), authority: Iterable[ResourceRecord] = (),
                  additional: Iterable[ResourceRecord] = (), ra: bool = False,
                  edns: Edns | None = None) -> DNSMessage:
    """A response to ``query``: same id, opcode, question, RD (RFC 1035 4.1.1) and CD (RFC 4035
    3.1.6); QR set; RA as given (a recursive resolver sets it, an authority does not).

    With ``edns`` an OPT record ends the additional section, and an ``rcode`` over 15 is split
    between the header and the OPT (RFC 6891 6.1.3); without, ``rcode`` must fit the header."""
    additional = tuple(additional)
    if edns is not None:
        if rcode > 0xF:
            edns = replace(edns, ext_rcode=rcode >> 4)
        additional += (edns.record(),)
        rcode = _RCODES.get(rcode & 0xF, rcode & 0xF)
    return DNSMessage(query.id, qr=True, opcode=query.opcode, aa=aa, rd=query.rd, ra=ra, cd=query.cd,
                      rcode=rcode, questions=query.questions, answers=tuple(answers),
                      authority=tuple(authority), additional=additional)
