"""ICMP for IPv4 (RFC 792, RFC 1191 for "fragmentation needed", RFC 1812 4.3.2.3 for error sizes)."""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple
from enum import IntEnum

from .checksum import sum_mod_ffff
from .errors import MalformedPacket
from .ipv4 import IPv4

_HDR = struct.Struct("!BBHI")
HEADER_LEN = 8
_tuple_new = tuple.__new__
# RFC 1812 4.3.2.3: an error carries as much of the offending datagram as fits in 576 bytes.
MAX_ERROR_DATAGRAM = 576


class ICMPType(IntEnum):
    ECHO_REPLY = 0
    DEST_UNREACHABLE = 3
    SOURCE_QUENCH = 4
    REDIRECT = 5
    ECHO_REQUEST = 8
    TIME_EXCEEDED = 11
    PARAMETER_PROBLEM = 12


class UnreachCode(IntEnum):
    NET = 0
    HOST = 1
    PROTOCOL = 2
    PORT = 3
    FRAG_NEEDED = 4
    SOURCE_ROUTE_FAILED = 5
    NET_UNKNOWN = 6
    HOST_UNKNOWN = 7
    NET_PROHIBITED = 9
    HOST_PROHIBITED = 10
    ADMIN_PROHIBITED = 13


class TimeExceededCode(IntEnum):
    TTL = 0  # time to live exceeded in transit
    REASSEMBLY = 1  # fragment reassembly time exceeded


ERROR_TYPES = frozenset({ICMPType.DEST_UNREACHABLE, ICMPType.SOURCE_QUENCH, ICMPType.REDIRECT,
                         ICMPType.TIME_EXCEEDED, ICMPType.PARAMETER_PROBLEM})


class ICMP(NamedTuple):
    """An ICMP message. ``rest`` is the 32-bit "rest of header" whose meaning depends on the type
    (identifier and sequence for echo, next-hop MTU for fragmentation needed); ``payload`` is the
    echo data or, for errors, the start of the datagram that caused it."""

    type: int
    code: int = 0
    rest: int = 0
    payload: bytes = b""
    checksum: int = 0

    # -- constructors -----------------------------------------------------------------------------
    @classmethod
    def echo_request(cls, ident: int, seq: int, data: bytes = b"") -> "ICMP":
        return cls(ICMPType.ECHO_REQUEST, 0, (ident << 16) | seq, data)

    @classmethod
    def echo_reply(cls, ident: int, seq: int, data: bytes = b"") -> "ICMP":
        return cls(ICMPType.ECHO_REPLY, 0, (ident << 16) | seq, data)

    @classmethod
    def dest_unreachable(cls, code: int, original: bytes, next_hop_mtu: int = 0) -> "ICMP":
        return cls(ICMPType.DEST_UNREACHABLE, code, next_hop_mtu & 0xFFFF,
                   original[:MAX_ERROR_DATAGRAM - 20 - HEADER_LEN])

    @classmethod
    def time_exceeded(cls, code: int, original: bytes) -> "ICMP":
        return cls(ICMPType.TIME_EXCEEDED, code, 0, original[:MAX_ERROR_DATAGRAM - 20 - HEADER_LEN])

    # -- fields by type ---------------------------------------------------------------------------
    @property
    def ident(self) -> int:
        return self.rest >> 16

    @property
    def seq(self) -> int:
        return self.rest & 0xFFFF

    @property
    def next_hop_mtu(self) -> int:
        return self.rest & 0xFFFF

    @property
    def is_error(self) -> bool:
        return self.type in ERROR_TYPES

    def quoted(self) -> "IPv4":
        """The datagram an error message quotes: its IP header and as much of its payload as the
        error carried (RFC 792 promises 8 bytes). The total length field still says how long the
        original was, so this is decoded leniently. Raises MalformedPacket if not even the header
        is there."""
        data = self.payload
        if len(data) < 20 or data[0] >> 4 != 4 or (data[0] & 0x0F) < 5 or len(data) < (data[0] & 0x0F) * 4:
            raise MalformedPacket("icmp", "bad-quoted-datagram", f"{len(data)} bytes quoted")
        hl = (data[0] & 0x0F) * 4
        total = int.from_bytes(data[2:4], "big")
        ff = int.from_bytes(data[6:8], "big")
        return IPv4(socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20]), data[9],
                    bytes(data[hl:max(hl, min(total, len(data)))]), data[8], data[1],
                    int.from_bytes(data[4:6], "big"), ff >> 13, ff & 0x1FFF, bytes(data[20:hl]),
                    int.from_bytes(data[10:12], "big"))

    def encode(self) -> bytes:
        type_, code, rest, payload, _ = self
        # Summed from the field values (2**16 == 1 mod 0xFFFF: ``rest`` counts whole), packed once.
        n = (type_ << 8) + code + rest
        r = (n + sum_mod_ffff(payload)) % 0xFFFF if payload else n % 0xFFFF
        # ~ones_sum & 0xFFFF: 0xFFFF - r, except that a nonzero message summing to a multiple of
        # 0xFFFF has ones' complement sum 0xFFFF ("negative zero"), so checksum 0, while an all-zero
        # message has sum 0 and checksum 0xFFFF.
        if r:
            csum = 0xFFFF - r
        else:
            csum = 0 if n or any(payload) else 0xFFFF
        return _HDR.pack(type_, code, csum, rest) + payload

    @classmethod
    def decode(cls, data: bytes | memoryview, verify: bool = True) -> "ICMP":
        n = len(data)
        if n < HEADER_LEN:
            raise MalformedPacket("icmp", "truncated", f"{n} bytes, header needs {HEADER_LEN}")
        if verify:
            # Verifies when the words sum to all ones: to 0 mod 0xFFFF, and not all zeros (a real
            # message has a nonzero byte within the first few, so any() stops at once).
            if sum_mod_ffff(data) or not any(data):
                raise MalformedPacket("icmp", "bad-checksum")
        type_, code, csum, rest = _HDR.unpack_from(data)
        return _tuple_new(cls, (type_, code, rest, bytes(data[HEADER_LEN:]), csum))

    def summary(self) -> str:
        t = self.type
        if t == ICMPType.ECHO_REQUEST:
            return f"ICMP echo request id={self.ident} seq={self.seq} len={len(self.payload)}"
        if t == ICMPType.ECHO_REPLY:
            return f"ICMP echo reply id={self.ident} seq={self.seq} len={len(self.payload)}"
        if t == ICMPType.DEST_UNREACHABLE:
            try:
                what = UnreachCode(self.code).name.lower().replace("_", " ")
            except ValueError:
                what = f"code {self.code}"
            if self.code == UnreachCode.FRAG_NEEDED:
                return f"ICMP destination unreachable: fragmentation needed (next-hop MTU {self.next_hop_mtu})"
            return f"ICMP destination unreachable: {what} unreachable" if what != f"code {self.code}" \
                else f"ICMP destination unreachable ({what})"
        if t == ICMPType.TIME_EXCEEDED:
            why = "TTL exceeded in transit" if self.code == 0 else "fragment reassembly time exceeded"
            return f"ICMP time exceeded: {why}"
        try:
            return f"ICMP {ICMPType(t).name.lower()} code={self.code}"
        except ValueError:
            return f"ICMP type={t} code={self.code}"
