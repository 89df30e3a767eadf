"""Frames for the TAP tests, built with scapy (code we did not write), and a check that both
scapy and our codecs accept their checksums."""

from __future__ import annotations

import struct
from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from minternet.wire.ipv4 import IPv4
from minternet.wire.tcp import TCP as OurTCP

SRC = str(Path(__file__).resolve().parents[2] / "src")
A, B = "10.77.0.1", "10.77.0.2"
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"
TS = [("NOP", None), ("NOP", None), ("Timestamp", (1000, 2000))]


def segment(seq: int, payload: bytes, flags: str = "A", sport: int = 5001, ack: int = 77, window: int = 500,
            options: list | None = None, ident: int = 1) -> bytes:
    return bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=A, dst=B, id=ident, flags="DF") /
                 TCP(sport=sport, dport=80, seq=seq, ack=ack, flags=flags, window=window,
                     options=TS if options is None else options) / payload)


def check(frame: bytes) -> OurTCP:
    """Both scapy and our codecs accept the frame's checksums; returns our decoded TCP."""
    pkt = Ether(frame)
    ip_sum, tcp_sum = pkt[IP].chksum, pkt[TCP].chksum
    del pkt[IP].chksum, pkt[TCP].chksum
    again = Ether(bytes(pkt))
    assert (again[IP].chksum, again[TCP].chksum) == (ip_sum, tcp_sum)
    ip = IPv4.decode(frame[14:])
    return OurTCP.decode(ip.payload, ip.src, ip.dst)


def partial(frame: bytes) -> bytes:
    """The frame as the kernel hands it with CHECKSUM_PARTIAL: the TCP checksum field holds the
    pseudo-header sum, not complemented."""
    tcp_len = len(frame) - 34
    words = struct.unpack("!4H", frame[26:34])
    s = sum(words) + 6 + tcp_len
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return frame[:50] + s.to_bytes(2, "big") + frame[52:]
