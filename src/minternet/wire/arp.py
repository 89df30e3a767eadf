"""ARP for IPv4 over Ethernet (RFC 826)."""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple
from enum import IntEnum

from .errors import MalformedPacket
from .ethernet import mac_to_str

_ARP = struct.Struct("!HHBBH6s4s6s4s")
LENGTH = _ARP.size  # 28


class ARPOp(IntEnum):
    REQUEST = 1
    REPLY = 2


class ARP(NamedTuple):
    """An ARP message: sender and target hardware (MAC) and protocol (IPv4) addresses."""

    op: int
    sha: bytes
    spa: str
    tha: bytes
    tpa: str

    def encode(self) -> bytes:
        return _ARP.pack(1, 0x0800, 6, 4, self.op, self.sha, socket.inet_aton(self.spa),
                         self.tha, socket.inet_aton(self.tpa))

    @classmethod
    def decode(cls, data: bytes | memoryview) -> "ARP":
        if len(data) < LENGTH:
            raise MalformedPacket("arp", "truncated", f"{len(data)} bytes, need {LENGTH}")
        htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _ARP.unpack_from(data)
        if htype != 1 or ptype != 0x0800 or hlen != 6 or plen != 4:
            raise MalformedPacket("arp", "unsupported",
                                  f"htype={htype} ptype=0x{ptype:04x} hlen={hlen} plen={plen}")
        if op not in (1, 2):
            raise MalformedPacket("arp", "bad-op", f"op={op}")
        return cls(op, sha, socket.inet_ntoa(spa), tha, socket.inet_ntoa(tpa))

    @property
    def is_gratuitous(self) -> bool:
        return self.spa == self.tpa

    def summary(self) -> str:
        if self.op == ARPOp.REQUEST:
            if self.is_gratuitous:
                return f"ARP announce {self.spa} is-at {mac_to_str(self.sha)} (gratuitous)"
            return f"ARP who-has {self.tpa} tell {self.spa}"
        return f"ARP reply {self.spa} is-at {mac_to_str(self.sha)}"
