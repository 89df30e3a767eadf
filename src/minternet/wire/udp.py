"""UDP datagrams (RFC 768) with the IPv4 pseudo-header checksum."""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

from .checksum import ones_sum, ones_sum2, pseudo_header_sum
from .errors import MalformedPacket
from .services import port_text

_HDR = struct.Struct("!HHHH")
HEADER_LEN = 8
_aton = socket.inet_aton


class UDP(NamedTuple):
    """A UDP datagram. ``checksum`` is as read off the wire (0 means the sender computed none)."""

    sport: int
    dport: int
    payload: bytes = b""
    checksum: int = 0

    def encode(self, src: str, dst: str, with_checksum: bool = True) -> bytes:
        length = HEADER_LEN + len(self.payload)
        if length > 65535:
            raise ValueError(f"UDP datagram too long: {length} bytes")
        header = _HDR.pack(self.sport, self.dport, length, 0)
        if not with_checksum:
            return header + self.payload
        s = ones_sum2(header, self.payload, pseudo_header_sum(_aton(src), _aton(dst), 17, length))
        csum = ~s & 0xFFFF or 0xFFFF  # RFC 768: a computed zero is sent as all ones
        return _HDR.pack(self.sport, self.dport, length, csum) + self.payload

    @classmethod
    def decode(cls, data: bytes | memoryview, src: str, dst: str, verify: bool = True) -> "UDP":
        n = len(data)
        if n < HEADER_LEN:
            raise MalformedPacket("udp", "truncated", f"{n} bytes, header needs {HEADER_LEN}")
        sport, dport, length, csum = _HDR.unpack_from(data)
        if length < HEADER_LEN or length > n:
            raise MalformedPacket("udp", "bad-length", f"length field {length}, have {n} bytes")
        if verify and csum and ones_sum(data[:length], pseudo_header_sum(_aton(src), _aton(dst), 17, length)) != 0xFFFF:
            raise MalformedPacket("udp", "bad-checksum", f"checksum 0x{csum:04x}")
        return cls(sport, dport, bytes(data[HEADER_LEN:length]), csum)

    def summary(self) -> str:
        return f"UDP {port_text(self.sport)} > {port_text(self.dport)} len={len(self.payload)}"
