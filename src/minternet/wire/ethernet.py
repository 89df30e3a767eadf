"""Ethernet II frames (IEEE 802.3 with an EtherType) and MAC address helpers."""

from __future__ import annotations

import struct
from typing import NamedTuple
from enum import IntEnum

from .errors import MalformedPacket

BROADCAST = b"\xff" * 6
HEADER_LEN = 14
_HDR = struct.Struct("!6s6sH")
_tuple_new = tuple.__new__


class EtherType(IntEnum):
    IPV4 = 0x0800
    ARP = 0x0806
    VLAN = 0x8100
    IPV6 = 0x86DD


def mac_to_str(mac: bytes) -> str:
    """b'\\x02\\x00\\x00\\x00\\x01\\x01' -> '02:00:00:00:01:01'."""
    return mac.hex(":")


def mac_from_str(text: str) -> bytes:
    """'02:00:00:00:01:01' (or with '-') -> 6 bytes; ValueError on anything else."""
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise ValueError(f"not a MAC address: {text!r} (expected six hex pairs like 02:00:00:00:01:01)")
    return bytes.fromhex("".join(parts))


class Ethernet(NamedTuple):
    """An Ethernet II frame. No FCS: like a capture, we see frames after the NIC checked it."""

    dst: bytes
    src: bytes
    ethertype: int
    payload: bytes = b""

    def encode(self) -> bytes:
        dst, src, ethertype, payload = self
        return _HDR.pack(dst, src, ethertype) + payload

    @classmethod
    def decode(cls, data: bytes | memoryview) -> "Ethernet":
        if len(data) < HEADER_LEN:
            raise MalformedPacket("ethernet", "truncated", f"{len(data)} bytes, header needs {HEADER_LEN}")
        dst, src, ethertype = _HDR.unpack_from(data)
        return _tuple_new(cls, (dst, src, ethertype, bytes(data[HEADER_LEN:])))

    def summary(self) -> str:
        try:
            name = EtherType(self.ethertype).name
        except ValueError:
            name = f"0x{self.ethertype:04x}"
        return f"Ether {mac_to_str(self.src)} > {mac_to_str(self.dst)} {name}"
