"""IPv4 datagrams (RFC 791). Options are kept as raw bytes."""

from __future__ import annotations

import struct
from typing import NamedTuple
from enum import IntEnum, IntFlag

from . import _addr
from .errors import MalformedPacket

# Addresses as 32-bit integers: they feed the checksum arithmetic directly.
_HDR = struct.Struct("!BBHHHBBHII")
MIN_HEADER_LEN = 20
MAX_LENGTH = 65535
_from_bytes = int.from_bytes
_tuple_new = tuple.__new__
_TO_INT = _addr.TO_INT
_TO_STR = _addr.TO_STR
_addr_int = _addr.addr_int
_addr_str = _addr.addr_str


class IPProto(IntEnum):
    ICMP = 1
    TCP = 6
    UDP = 17


class IPFlags(IntFlag):
    MF = 1  # more fragments
    DF = 2  # don't fragment
    RESERVED = 4  # the "evil bit" (RFC 3514); must be zero


def proto_name(proto: int) -> str:
    try:
        return IPProto(proto).name
    except ValueError:
        return f"proto-{proto}"


class IPv4(NamedTuple):
    """An IPv4 datagram. ``frag_offset`` is in 8-byte units, as on the wire.

    ``checksum`` is the value read off the wire (0 for a packet we build); ``encode`` always
    computes a fresh one.
    """

    src: str
    dst: str
    proto: int
    payload: bytes = b""
    ttl: int = 64
    tos: int = 0
    ident: int = 0
    flags: int = 0
    frag_offset: int = 0
    options: bytes = b""
    checksum: int = 0

    @property
    def header_length(self) -> int:
        return MIN_HEADER_LEN + len(self.options)

    @property
    def total_length(self) -> int:
        return MIN_HEADER_LEN + len(self.options) + len(self.payload)

    @property
    def df(self) -> bool:
        return bool(self.flags & IPFlags.DF)

    @property
    def mf(self) -> bool:
        return bool(self.flags & IPFlags.MF)

    @property
    def is_fragment(self) -> bool:
        return bool(self.flags & IPFlags.MF) or self.frag_offset != 0

    def encode(self) -> bytes:
        src_text, dst_text, proto, payload, ttl, tos, ident, flags, frag_offset, options, _ = self
        if options:
            if len(options) & 3:
                options += b"\x00" * (4 - (len(options) & 3))  # pad with End of Option List
            hl = MIN_HEADER_LEN + len(options)
            if hl > 60:
                raise ValueError(f"IPv4 options too long: {len(options)} bytes (at most 40)")
        else:
            hl = MIN_HEADER_LEN
        total = hl + len(payload)
        if total > MAX_LENGTH:
            raise ValueError(f"IPv4 datagram too long: {total} bytes (at most {MAX_LENGTH})")
        src = _TO_INT.get(src_text)
        if src is None:
            src = _addr_int(src_text)
        dst = _TO_INT.get(dst_text)
        if dst is None:
            dst = _addr_int(dst_text)
        vihl = 0x40 | (hl >> 2)
        frag = (flags << 13) | frag_offset
        # The header checksum from the field values, without packing the header twice: the sum of
        # the 16-bit words mod 0xFFFF, where a 32-bit address counts whole (2**16 == 1 mod 0xFFFF).
        n = (vihl << 8) + tos + total + ident + frag + (ttl << 8) + proto + src + dst
        if options:
            n += _from_bytes(options, "big")
        # ~ones_sum & 0xFFFF; the header is never all zeros (version 4), so no "positive zero" case.
        header = _HDR.pack(vihl, tos, total, ident, frag, ttl, proto, -n % 0xFFFF, src, dst)
        if options:
            return b"".join((header, options, payload))
        return header + payload

    @classmethod
    def decode(cls, data: bytes | memoryview, verify: bool = True) -> "IPv4":
        n = len(data)
        if n < MIN_HEADER_LEN:
            raise MalformedPacket("ipv4", "truncated", f"{n} bytes, header needs {MIN_HEADER_LEN}")
        vihl, tos, total, ident, ff, ttl, proto, csum, src, dst = _HDR.unpack_from(data)
        if vihl >> 4 != 4:
            raise MalformedPacket("ipv4", "bad-version", f"version {vihl >> 4}")
        hl = (vihl & 0x0F) << 2
        if hl < MIN_HEADER_LEN:
            raise MalformedPacket("ipv4", "bad-ihl", f"IHL {hl >> 2} (at least 5)")
        if total < hl or total > n:
            raise MalformedPacket("ipv4", "bad-length", f"total length {total}, header {hl}, have {n} bytes")
        options = bytes(data[MIN_HEADER_LEN:hl]) if hl > MIN_HEADER_LEN else b""
        if verify:
            # The header verifies when its words sum to all ones, i.e. to 0 mod 0xFFFF (it is not
            # all zeros: the version is 4). Summed from the unpacked fields, as in encode.
            s = (vihl << 8) + tos + total + ident + ff + (ttl << 8) + proto + csum + src + dst
            if options:
                s += _from_bytes(options, "big")
            if s % 0xFFFF:
                raise MalformedPacket("ipv4", "bad-checksum", f"header checksum 0x{csum:04x}")
        return _tuple_new(cls, (_TO_STR.get(src) or _addr_str(src), _TO_STR.get(dst) or _addr_str(dst), proto,
                                bytes(data[hl:total]), ttl, tos, ident, ff >> 13, ff & 0x1FFF, options, csum))

    def summary(self) -> str:
        frag = ""
        if self.is_fragment:
            frag = f" frag off={self.frag_offset * 8}{' +MF' if self.mf else ''}"
        return (f"IP {self.src} > {self.dst} {proto_name(self.proto)} ttl={self.ttl} "
                f"id={self.ident} len={self.total_length}{' DF' if self.df else ''}{frag}")
