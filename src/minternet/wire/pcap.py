"""A pcap writer (the classic libpcap format, LINKTYPE_ETHERNET) with timestamps from any clock."""

from __future__ import annotations

import struct
from typing import BinaryIO

LINKTYPE_ETHERNET = 1
MAGIC_MICRO = 0xA1B2C3D4
MAGIC_NANO = 0xA1B23C4D
_GLOBAL = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")


class PcapWriter:
    """Writes frames to a pcap file that Wireshark, tcpdump, tshark, scapy and dpkt read.

    Timestamps are integer nanoseconds (the simulator's clock); ``nanosecond=True`` keeps them
    all, otherwise they are rounded down to microseconds.
    """

    def __init__(self, target: str | BinaryIO, nanosecond: bool = False, snaplen: int = 262144) -> None:
        self._own = isinstance(target, (str, bytes)) or hasattr(target, "__fspath__")
        self._f: BinaryIO = open(target, "wb") if self._own else target  # type: ignore[arg-type]
        self.nanosecond = nanosecond
        self.snaplen = snaplen
        self.count = 0
        self._f.write(_GLOBAL.pack(MAGIC_NANO if nanosecond else MAGIC_MICRO, 2, 4, 0, 0, snaplen,
                                   LINKTYPE_ETHERNET))

    def write(self, time_ns: int, frame: bytes) -> None:
        sec, frac = divmod(int(time_ns), 1_000_000_000)
        if not self.nanosecond:
            frac //= 1000
        data = frame[:self.snaplen]
        self._f.write(_RECORD.pack(sec, frac, len(data), len(frame)))
        self._f.write(data)
        self.count += 1

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if self._own:
            self._f.close()
        else:
            self._f.flush()

    def __enter__(self) -> "PcapWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
