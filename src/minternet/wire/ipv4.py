"""IPv4 datagrams (RFC 791). Options are kept as raw bytes."""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple
from enum import IntEnum, IntFlag

from .checksum import internet_checksum, ones_sum
from .errors import MalformedPacket

_HDR = struct.Struct("!BBHHHBBH4s4s")
MIN_HEADER_LEN = 20
MAX_LENGTH = 65535
_aton = socket.inet_aton
_ntoa = socket.inet_ntoa


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
        options = self.options
        if len(options) & 3:
            options += b"\x00" * (4 - (len(options) & 3))  # pad with End of Option List
        hl = MIN_HEADER_LEN + len(options)
        if hl > 60:
            raise ValueError(f"IPv4 options too long: {len(options)} bytes (at most 40)")
        total = hl + len(self.payload)
        if total > MAX_LENGTH:
            raise ValueError(f"IPv4 datagram too long: {total} bytes (at most {MAX_LENGTH})")
        header = _HDR.pack(0x40 | (hl >> 2), self.tos, total, self.ident,
                           (self.flags << 13) | self.frag_offset, self.ttl, self.proto, 0,
                           _aton(self.src), _aton(self.dst)) + options
        csum = internet_checksum(header)
        return header[:10] + csum.to_bytes(2, "big") + header[12:] + self.payload

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
        if verify and ones_sum(data[:hl]) != 0xFFFF:
            raise MalformedPacket("ipv4", "bad-checksum", f"header checksum 0x{csum:04x}")
        return cls(_ntoa(src), _ntoa(dst), proto, bytes(data[hl:total]), ttl, tos, ident,
                   ff >> 13, ff & 0x1FFF, bytes(data[MIN_HEADER_LEN:hl]), csum)

    def summary(self) -> str:
        frag = ""
        if self.is_fragment:
            frag = f" frag off={self.frag_offset * 8}{' +MF' if self.mf else ''}"
        return (f"IP {self.src} > {self.dst} {proto_name(self.proto)} ttl={self.ttl} "
                f"id={self.ident} len={self.total_length}{' DF' if self.df else ''}{frag}")
