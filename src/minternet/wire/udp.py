"""UDP datagrams (RFC 768) with the IPv4 pseudo-header checksum."""

from __future__ import annotations

import struct
from typing import NamedTuple

from . import _addr
from .checksum import sum_mod_ffff
from .errors import MalformedPacket
from .services import port_text

_HDR = struct.Struct("!HHHH")
HEADER_LEN = 8
_tuple_new = tuple.__new__
_TO_INT = _addr.TO_INT
_addr_int = _addr.addr_int


class UDP(NamedTuple):
    """A UDP datagram. ``checksum`` is as read off the wire (0 means the sender computed none)."""

    sport: int
    dport: int
    payload: bytes = b""
    checksum: int = 0

    def encode(self, src: str, dst: str, with_checksum: bool = True) -> bytes:
        sport, dport, payload, _ = self
        size = len(payload)
        length = HEADER_LEN + size
        if length > 65535:
            raise ValueError(f"UDP datagram too long: {length} bytes")
        if not with_checksum:
            return _HDR.pack(sport, dport, length, 0) + payload
        s = _TO_INT.get(src)
        if s is None:
            s = _addr_int(src)
        d = _TO_INT.get(dst)
        if d is None:
            d = _addr_int(dst)
        # Summed from the field values (2**16 == 1 mod 0xFFFF, so the 32-bit addresses count
        # whole), the pseudo-header (src, dst, protocol 17, length) included, then packed once.
        n = sport + dport + length + s + d + 17 + length
        if size:
            n += sum_mod_ffff(payload)
        r = n % 0xFFFF
        # ~ones_sum & 0xFFFF is 0xFFFF - r, or 0 when r == 0: and RFC 768 sends a computed zero
        # as all ones, since 0 means "no checksum". Both cases are 0xFFFF - r.
        return _HDR.pack(sport, dport, length, 0xFFFF - r) + payload

    @classmethod
    def decode(cls, data: bytes | memoryview, src: str, dst: str, verify: bool = True) -> "UDP":
        n = len(data)
        if n < HEADER_LEN:
            raise MalformedPacket("udp", "truncated", f"{n} bytes, header needs {HEADER_LEN}")
        sport, dport, length, csum = _HDR.unpack_from(data)
        if length < HEADER_LEN or length > n:
            raise MalformedPacket("udp", "bad-length", f"length field {length}, have {n} bytes")
        if verify and csum:
            s = _TO_INT.get(src)
            if s is None:
                s = _addr_int(src)
            d = _TO_INT.get(dst)
            if d is None:
                d = _addr_int(dst)
            # Datagram and pseudo-header verify when their words sum to all ones: to 0 mod 0xFFFF
            # (they are never all zeros: the length is at least 8).
            if (sum_mod_ffff(data if length == n else data[:length]) + s + d + 17 + length) % 0xFFFF:
                raise MalformedPacket("udp", "bad-checksum", f"checksum 0x{csum:04x}")
        return _tuple_new(cls, (sport, dport, bytes(data[HEADER_LEN:length]), csum))

    def summary(self) -> str:
        return f"UDP {port_text(self.sport)} > {port_text(self.dport)} len={len(self.payload)}"
