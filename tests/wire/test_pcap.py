"""The pcap writer, read back by code we did not write: dpkt, and tshark when it is installed."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from minternet.wire import (ARP, BROADCAST, ICMP, MSS, NOP, TCP, UDP, Ethernet, IPFlags, IPv4, PcapWriter,
                            SackPermitted, TCPFlags, Timestamps, WindowScale)

A, B = bytes.fromhex("020000000101"), bytes.fromhex("020000000202")
H1, H2 = "10.0.0.1", "10.0.0.2"
T0 = 1_700_000_000_123_456_789  # ns since the epoch: exercises both the seconds and the fraction
# A DNS query for example.com IN A, recursion desired (RFC 1035 4.1), assembled by hand.
DNS_QUERY = bytes.fromhex("1234 0100 0001 0000 0000 0000") + b"\x07example\x03com\x00" + b"\x00\x01\x00\x01"


def ip_frame(ip: IPv4, src: bytes = A, dst: bytes = B) -> bytes:
    return Ethernet(dst, src, 0x0800, ip.encode()).encode()


def mixed_frames() -> list[bytes]:
    """One of each: ARP request and reply, ping and pong, a DNS query, a TCP handshake with every
    SYN option, data with timestamps, and a UDP datagram in two IPv4 fragments."""
    big = UDP(40001, 9, bytes(range(256)) * 2).encode(H1, H2)  # 520 bytes: split at 480
    return [
        Ethernet(BROADCAST, A, 0x0806, ARP(1, A, H1, b"\x00" * 6, H2).encode()).encode(),
        Ethernet(A, B, 0x0806, ARP(2, B, H2, A, H1).encode()).encode(),
        ip_frame(IPv4(H1, H2, 1, ICMP.echo_request(0x4242, 1, b"abcdefgh" * 7).encode(), ident=1, flags=IPFlags.DF)),
        ip_frame(IPv4(H2, H1, 1, ICMP.echo_reply(0x4242, 1, b"abcdefgh" * 7).encode(), ident=2), B, A),
        ip_frame(IPv4(H1, H2, 17, UDP(53000, 53, DNS_QUERY).encode(H1, H2), ident=3)),
        ip_frame(IPv4(H1, H2, 6, TCP(40000, 80, 1000, 0, TCPFlags.SYN, 64240, options=(
            MSS(1460), SackPermitted(), Timestamps(100, 0), NOP(), WindowScale(7))).encode(H1, H2),
            ident=4, flags=IPFlags.DF)),
        ip_frame(IPv4(H2, H1, 6, TCP(80, 40000, 5000, 1001, TCPFlags.SYN | TCPFlags.ACK, 65160, options=(
            MSS(1460), SackPermitted(), Timestamps(200, 100), NOP(), WindowScale(7))).encode(H2, H1),
            ident=5, flags=IPFlags.DF), B, A),
        ip_frame(IPv4(H1, H2, 6, TCP(40000, 80, 1001, 5001, TCPFlags.PSH | TCPFlags.ACK, 502, b"x" * 301,
                                     options=(NOP(), NOP(), Timestamps(101, 200))).encode(H1, H2),
                      ident=6, flags=IPFlags.DF)),
        ip_frame(IPv4(H1, H2, 17, big[:480], ident=7, flags=IPFlags.MF)),
        ip_frame(IPv4(H1, H2, 17, big[480:], ident=7, frag_offset=60)),
    ]


def times(n: int) -> list[int]:
    return [T0 + i * 1_000_001_001 for i in range(n)]  # seconds, microseconds and nanoseconds move


def write(path: Path, frames: list[bytes], nanosecond: bool) -> None:
    with PcapWriter(path, nanosecond=nanosecond) as w:
        for t, frame in zip(times(len(frames)), frames):
            w.write(t, frame)
        assert w.count == len(frames)


# -- the format, byte by byte ---------------------------------------------------------------------
@pytest.mark.parametrize("nanosecond, magic", [(False, "d4c3b2a1"), (True, "4d3cb2a1")])
def test_global_header(nanosecond: bool, magic: str) -> None:
    buf = io.BytesIO()
    PcapWriter(buf, nanosecond=nanosecond, snaplen=65535).close()
    assert buf.getvalue() == bytes.fromhex(magic + "0200 0400 00000000 00000000 ffff0000 01000000")


@pytest.mark.parametrize("nanosecond, frac", [(False, 123456), (True, 123456789)])
def test_record_header_and_unit(nanosecond: bool, frac: int) -> None:
    buf = io.BytesIO()
    w = PcapWriter(buf, nanosecond=nanosecond)
    w.write(T0, b"frame")
    assert buf.getvalue()[24:] == struct.pack("<IIII", 1_700_000_000, frac, 5, 5) + b"frame"


def test_snaplen_truncates_but_keeps_the_original_length() -> None:
    buf = io.BytesIO()
    w = PcapWriter(buf, snaplen=4)
    w.write(0, b"abcdefgh")
    assert buf.getvalue()[24:] == struct.pack("<IIII", 0, 0, 4, 8) + b"abcd"


def test_caller_file_is_flushed_not_closed() -> None:
    buf = io.BytesIO()
    with PcapWriter(buf) as w:
        w.write(1, b"x")
    assert not buf.closed and len(buf.getvalue()) == 24 + 16 + 1


def test_path_target_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "one.pcap"
    with PcapWriter(str(path)) as w:
        w.write(1, b"x")
    assert path.stat().st_size == 24 + 16 + 1


# -- read back by dpkt ------------------------------------------------------------------------------
@pytest.mark.parametrize("nanosecond", [False, True], ids=["usec", "nsec"])
def test_dpkt_reads_frames_and_timestamps(tmp_path: Path, nanosecond: bool) -> None:
    dpkt = pytest.importorskip("dpkt")
    frames = mixed_frames()
    path = tmp_path / "mixed.pcap"
    write(path, frames, nanosecond)
    with open(path, "rb") as f:
        records = list(dpkt.pcap.Reader(f))
    assert [buf for _, buf in records] == frames
    for (ts, _), t in zip(records, times(len(frames))):
        if nanosecond:
            assert Decimal(ts) * 10**9 == t  # dpkt gives a Decimal: exact
        else:
            assert round(ts * 1_000_000) == t // 1000  # a float, but good to well under 1 us
    kinds = [type(dpkt.ethernet.Ethernet(buf).data.data).__name__ for _, buf in records]
    assert kinds[:8] == ["bytes", "bytes", "ICMP", "ICMP", "UDP", "TCP", "TCP", "TCP"]  # ARP has no .data
    assert isinstance(dpkt.ethernet.Ethernet(records[0][1]).data, dpkt.arp.ARP)


# -- read back by tshark, checksums verified ----------------------------------------------------------
_FIELDS = ["frame.number", "frame.time_epoch", "frame.protocols", "ip.checksum.status", "tcp.checksum.status",
           "udp.checksum.status", "icmp.checksum.status", "_ws.malformed", "_ws.expert.message"]
GOOD = "1"  # Wireshark's checksum status: 0 bad, 1 good, 2 unverified
BAD = "0"


def tshark(path: Path) -> list[dict[str, str]]:
    exe = shutil.which("tshark")
    if exe is None:
        pytest.skip("tshark is not installed")
    # Checksum validation is off by default for IP, TCP and UDP; without these the statuses read
    # "unverified" (2) and a bad checksum would pass unnoticed.
    cmd = [exe, "-n", "-r", str(path), "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
           "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t"]
    for field in _FIELDS:
        cmd += ["-e", field]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    return [dict(zip(_FIELDS, line.split("\t"))) for line in out.splitlines()]


@pytest.mark.parametrize("nanosecond", [False, True], ids=["usec", "nsec"])
def test_tshark_finds_nothing_wrong(tmp_path: Path, nanosecond: bool) -> None:
    frames = mixed_frames()
    path = tmp_path / "mixed.pcap"
    write(path, frames, nanosecond)
    rows = tshark(path)
    assert len(rows) == len(frames)
    expected = [("arp", []), ("arp", []), ("icmp", ["ip", "icmp"]), ("icmp", ["ip", "icmp"]),
                ("dns", ["ip", "udp"]), ("tcp", ["ip", "tcp"]), ("tcp", ["ip", "tcp"]), ("tcp", ["ip", "tcp"]),
                ("ip", ["ip"]), ("udp", ["ip", "udp"])]  # the last fragment completes the datagram
    for row, t, (proto, checked) in zip(rows, times(len(frames)), expected):
        where = f"frame {row['frame.number']}: {row}"
        assert proto in row["frame.protocols"].split(":"), where
        for layer in checked:
            assert row[f"{layer}.checksum.status"] == GOOD, where
        assert row["_ws.malformed"] == "", where
        assert "checksum" not in row["_ws.expert.message"].lower(), where
        seconds, frac = row["frame.time_epoch"].split(".")
        unit = 1 if nanosecond else 1000
        assert int(seconds) * 10**9 + int(frac.ljust(9, "0")) == t // unit * unit, where


def test_tshark_flags_corrupted_checksums(tmp_path: Path) -> None:
    # The control for the test above: the same checks do fail on damaged frames.
    frames = mixed_frames()
    icmp, dns, data = frames[2], frames[4], frames[7]
    corrupt = [
        icmp[:-1] + bytes([icmp[-1] ^ 1]),  # ICMP payload
        dns[:-1] + bytes([dns[-1] ^ 1]),  # UDP payload
        data[:-1] + bytes([data[-1] ^ 1]),  # TCP payload
        data[:22] + bytes([data[22] - 1]) + data[23:],  # IPv4 TTL, header checksum not updated
    ]
    path = tmp_path / "corrupt.pcap"
    write(path, corrupt, nanosecond=False)
    rows = tshark(path)
    assert [row["icmp.checksum.status"] for row in rows[:1]] == [BAD]
    assert rows[1]["udp.checksum.status"] == BAD and rows[1]["ip.checksum.status"] == GOOD
    assert rows[2]["tcp.checksum.status"] == BAD and rows[2]["ip.checksum.status"] == GOOD
    assert rows[3]["ip.checksum.status"] == BAD
    for row in rows:
        assert "bad checksum" in row["_ws.expert.message"].lower(), row
