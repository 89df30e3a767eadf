"""The TAP driver's pieces that need no device: checksum completion, cutting TSO super-segments,
merging our segments into TSO frames, faults, the real-time clock, and the messages that say
what is missing. Frames are built and checked with scapy (code we did not write) as well as with
our own codecs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from minternet.real import tap
from minternet.real.tap import (
    VIRTIO_NET_HDR_F_NEEDS_CSUM,
    VIRTIO_NET_HDR_GSO_TCPV4,
    VNET_HDR,
    LinkFaults,
    RealtimeClock,
    complete_checksum,
    merge_tso,
    split_tso,
)
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


# ================================================================================ checksums ========
@pytest.mark.parametrize("size", [0, 1, 2, 1447, 1448, 30001, 65000])
def test_partial_checksum_completed(size):
    good = segment(1, os.urandom(size))
    vnet = VNET_HDR.pack(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16)
    done = complete_checksum(vnet + partial(good), len(vnet), 34, 16)
    assert done is not None
    # Equal to the real checksum, or its other zero (0xFFFF for 0x0000), which verifies the same.
    assert done == good or (good[50:52] == b"\0\0" and done[50:52] == b"\xff\xff")
    check(done)


def test_checksum_header_outside_the_frame_is_refused():
    frame = segment(1, b"abc")
    assert complete_checksum(frame, 0, 34, len(frame)) is None
    assert complete_checksum(frame, 0, 2, 16) is None


# ================================================================================ splitting ========
@pytest.mark.parametrize("flags", ["A", "PA", "FPA"])
def test_split_tso_makes_valid_wire_segments(flags):
    data = os.urandom(10_000)
    big = segment(1_000_000, data, flags=flags, ident=40)
    parts = split_tso(big, 1448)
    assert len(parts) == 7
    seq = 1_000_000
    joined = b""
    for i, frame in enumerate(parts):
        assert len(frame) <= 1514
        seg = check(frame)
        assert seg.seq == seq
        assert IPv4.decode(frame[14:]).ident == 40 + i
        last = i == len(parts) - 1
        assert bool(seg.flags & 0x08) == ("P" in flags and last)
        assert bool(seg.flags & 0x01) == ("F" in flags and last)
        assert seg.option(type(seg.options[-1])) == seg.options[-1]  # options copied to every segment
        seq += len(seg.payload)
        joined += seg.payload
    assert joined == data


def test_split_leaves_what_it_cannot_cut():
    small = segment(1, b"x" * 100)
    assert split_tso(small, 1448) == [small]
    not_tcp = bytes(Ether() / IP(dst=B) / (b"x" * 3000))
    assert split_tso(not_tcp, 1448) == [not_tcp]
    assert split_tso(b"\x00" * 10, 1448) == [b"\x00" * 10]


# ================================================================================ merging ==========
def run(frames: list[bytes]) -> list[tuple[bytes, ...]]:
    return merge_tso(frames)


def test_a_run_of_segments_becomes_one_tso_frame():
    datas = [os.urandom(1448) for _ in range(5)] + [os.urandom(300)]
    frames = [segment(1 + 1448 * i, d, flags="PA" if i == 5 else "A", ident=10 + i) for i, d in enumerate(datas)]
    out = run(frames)
    assert len(out) == 1
    vnet, header, *payloads = out[0]
    flags, gso_type, hdr_len, gso_size, csum_start, csum_offset = VNET_HDR.unpack(vnet)
    assert (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset) == \
        (VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16)
    merged = b"".join(bytes(p) for p in (header, *payloads))
    assert len(merged) == 66 + 5 * 1448 + 300
    # What the kernel would do with it: complete the checksum and cut it up again.
    whole = complete_checksum(merged, 0, 34, 16)
    seg = check(whole)
    assert seg.payload == b"".join(datas) and seg.flags & 0x08
    again = split_tso(whole, gso_size)
    assert [check(f).payload for f in again] == datas


def test_what_must_not_be_merged_is_not():
    d = os.urandom(1448)
    frames = [
        segment(1, d), segment(1449, d),
        segment(2897, d, window=501),                 # another window: a new run
        segment(4345, d, window=501, options=[("NOP", None), ("NOP", None), ("Timestamp", (1001, 2000))]),
        segment(5793, d, window=501, options=[("NOP", None), ("NOP", None), ("Timestamp", (1001, 2000))]),
        segment(9999, d, window=501, options=[("NOP", None), ("NOP", None), ("Timestamp", (1001, 2000))]),  # a gap
        segment(1, d, flags="S"),                     # not plain data
        segment(1, b"", flags="A"),                   # no payload
    ]
    out = run(frames)
    sizes = [len(pieces) - 2 if len(pieces) > 2 else 1 for pieces in out]
    assert sizes == [2, 1, 2, 1, 1, 1]
    assert b"".join(bytes(p) for p in out[-1][1:]) == frames[-1]


def test_a_short_or_pushed_segment_ends_a_run_and_flows_stay_in_order():
    d = os.urandom(1448)
    other = [segment(1 + 1448 * i, d, sport=6000) for i in range(2)]
    frames = [segment(1, d), other[0], segment(1449, d[:100]), segment(1549, d), other[1],
              segment(2997, d, flags="PA"), segment(4445, d)]
    out = run(frames)
    flows: dict[int, list[int]] = {}
    for pieces in out:
        frame = b"".join(bytes(p) for p in pieces[1:])
        sport, seq = int.from_bytes(frame[34:36], "big"), int.from_bytes(frame[38:42], "big")
        flows.setdefault(sport, []).append(seq)
    assert flows[5001] == [1, 1549, 4445]   # [1, 1449 (short)], [1549, 2997 (PSH)], [4445]
    assert flows[6000] == [1]               # both of the other flow's segments in one frame
    assert all(len(p) > 2 for p in out[:2])


# ================================================================================ faults ===========
def test_faults_are_checked():
    with pytest.raises(ValueError, match="loss"):
        LinkFaults(loss=1.5)
    with pytest.raises(ValueError, match="direction"):
        LinkFaults(direction="sideways")
    f = LinkFaults(loss=0.05, delay=10_000_000, direction="in", seed=3)
    assert f.applies("in") and not f.applies("out")
    assert "loss 5.0%" in f.describe() and "kernel -> us" in f.describe()
    assert not LinkFaults().active


class _FakeDriver:
    def __init__(self, faults: LinkFaults, loop: asyncio.AbstractEventLoop) -> None:
        from collections import Counter
        self.faults = faults
        self.loop = loop
        self.stats = Counter()

    def flush(self) -> None:
        pass


def _impair(faults: LinkFaults, frames: list[bytes], wait: float) -> tuple[list[bytes], dict]:
    async def main() -> tuple[list[bytes], dict]:
        got: list[bytes] = []
        driver = _FakeDriver(faults, asyncio.get_running_loop())
        line = tap._Impairment(driver, "in", got.append)
        for f in frames:
            line.put(f)
        await asyncio.sleep(wait)
        return got, dict(driver.stats)
    return asyncio.run(main())


def test_faults_repeat_with_the_seed_and_do_what_they_say():
    frames = [i.to_bytes(4, "big") for i in range(2000)]
    lossy = LinkFaults(loss=0.1, duplicate=0.05, seed=4)
    a, stats = _impair(lossy, frames, 0)
    b, _ = _impair(lossy, frames, 0)
    assert a == b
    assert 150 < stats["fault.in.lost"] < 250 and 60 < stats["fault.in.duplicated"] < 140
    assert len(a) == 2000 - stats["fault.in.lost"] + stats["fault.in.duplicated"]
    c, _ = _impair(LinkFaults(loss=0.1, duplicate=0.05, seed=5), frames, 0)
    assert c != a
    shuffled, stats = _impair(LinkFaults(reorder=0.2, reorder_delay=20_000_000, seed=1), frames[:200], 0.1)
    assert sorted(shuffled) == frames[:200] and shuffled != frames[:200] and stats["fault.in.reordered"] > 10
    delayed, _ = _impair(LinkFaults(delay=200_000_000), frames[:50], 0)
    assert delayed == []  # still on the wire


def test_delay_keeps_order():
    frames = [i.to_bytes(4, "big") for i in range(500)]
    got, _ = _impair(LinkFaults(delay=5_000_000), frames, 0.5)
    assert got == frames


def test_realtime_clock():
    async def main() -> tuple[int, int, int]:
        clock = RealtimeClock()
        start = clock.now
        fired = asyncio.get_running_loop().create_future()
        clock.call_later(20_000_000, lambda: fired.set_result(clock.now))
        at = asyncio.get_running_loop().create_future()
        clock.call_at(clock.now + 10_000_000, lambda: at.set_result(clock.now))
        return start, await at, await fired
    start, at, fired = asyncio.run(main())
    assert 0 <= start < 50_000_000
    assert 10_000_000 <= at < fired and fired >= 20_000_000


# ================================================================================ what is missing ==
def test_no_tun_device_is_explained(monkeypatch):
    monkeypatch.setattr(tap, "TUN_PATH", "/nonexistent/net/tun")
    problem = tap.tap_problem()
    assert problem is not None and "/nonexistent/net/tun does not exist" in problem and "modprobe tun" in problem
    with pytest.raises(tap.TapError, match="does not exist"):
        tap.open_tap("mtap-x")


def test_long_tap_name_is_explained():
    with pytest.raises(tap.TapError, match="at most 15 bytes"):
        tap.open_tap("a-much-too-long-name")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="dropping CAP_NET_ADMIN to check the message needs root and setpriv")
def test_attach_without_cap_net_admin_says_so():
    done = subprocess.run(["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", sys.executable, "-m",
                           "minternet", "attach", "--tap", "mtapnocap", "--address", "10.77.0.2/24"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": SRC})
    assert done.returncode == 1
    assert "CAP_NET_ADMIN" in done.stderr and "run as root" in done.stderr, done.stderr


# ================================================================================ found on the TAP ==
def test_ack_of_a_fin_sent_before_a_timeout():
    """Found by the upload test with loss, reordering and duplication: after a retransmission
    timeout the connection forgot where its FIN was, and the ACK of that FIN crashed the host
    (SendBuffer.ack past its end). It must simply move us to FIN-WAIT-2."""
    from tcpscript import run_script
    run_script("""
tcp sack=0 timestamps=0
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1000>
0.100  > S.  seq=0 ack=1 win=* <mss 1460>
+0.010 < .   seq=1 ack=1 win=65535
+0     accept
+0     write 3000
+0     > .   seq=1 ack=1 len=1000
+0     > .   seq=1001 ack=1 len=1000
+0     > P.  seq=2001 ack=1 len=1000
+0     close
+0     > F.  seq=3001 ack=1
+0.2   > .   seq=1 ack=1 len=1000
+0.01  < .   seq=1 ack=3002 win=65535
+0     expect state FIN-WAIT-2
""", tolerance=0.05)


# ================================================================================ the whole driver =
class FakeKernel:
    """The kernel's end of a TAP, played by the other end of a SOCK_SEQPACKET socket pair (one
    message per frame, like the TAP's file descriptor), with virtio-net headers."""

    def __init__(self, vnet: bool = True, tso: bool = True) -> None:
        import socket
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ours.setblocking(False)
        self.theirs.setblocking(False)
        self.device = tap.TapDevice(self.ours.fileno(), "fake0", vnet, (tap.TUN_F_CSUM | tap.TUN_F_TSO4) if tso else 0)
        self.vnet = vnet

    def send(self, frame: bytes, vnet: bytes = bytes(10)) -> None:
        self.theirs.send((vnet if self.vnet else b"") + frame)

    async def recv(self, timeout: float = 2.0) -> tuple[tuple[int, ...], bytes]:
        """The next frame our host wrote: (virtio-net header fields, frame)."""
        loop = asyncio.get_running_loop()
        data = await asyncio.wait_for(loop.sock_recv(self.theirs, 70000), timeout)
        if not self.vnet:
            return (0, 0, 0, 0, 0, 0), data
        return VNET_HDR.unpack_from(data), data[10:]

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


def _tcp(flags: str, seq: int, ack: int, payload: bytes = b"", options: list | None = None) -> bytes:
    return bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=A, dst=B, flags="DF") /
                 TCP(sport=40000, dport=80, seq=seq, ack=ack, flags=flags, window=65535,
                     options=options or []) / payload)


@pytest.mark.parametrize("rx_gso, tx_tso", [("whole", "stack"), ("split", "stack"), ("whole", "merge"),
                                            ("whole", "off")])
def test_driver_end_to_end_with_offloads(rx_gso, tx_tso):
    """Handshake, a 20,000-byte TSO super-segment in with a partial checksum, 30,000 bytes out:
    as super-segments of our TCP (tx_tso "stack") or segments merged by the driver ("merge"),
    which the 'kernel' completes and cuts into valid wire segments, or plain ("off")."""
    from minternet.real.tap import TapDriver, make_host

    async def main() -> None:
        kernel = FakeKernel()
        host = make_host("mini", f"{B}/24", mac=bytes.fromhex(MAC_B.replace(":", "")), seed=1)
        host.arp.learn(bytes((10, 77, 0, 1)), bytes.fromhex(MAC_A.replace(":", "")))
        driver = TapDriver(kernel.device, host.interfaces["eth0"], rx_gso=rx_gso, tx_tso=tx_tso)
        driver.start()
        got = bytearray()
        conns: list = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            conns.append(writer)
            got.extend(await reader.readexactly(20_000))
            writer.write(bytes(range(256)) * 117 + b"x" * 48)  # 30,000 bytes
            await writer.drain()

        await host.start_server(serve, port=80)
        kernel.send(_tcp("S", 1000, 0, options=[("MSS", 1460)]))
        _, synack = await kernel.recv()
        our_isn = Ether(synack)[TCP].seq
        kernel.send(_tcp("A", 1001, our_isn + 1))
        data = os.urandom(20_000)
        big = _tcp("PA", 1001, our_isn + 1, data)
        vnet = VNET_HDR.pack(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1460, 34, 16)
        kernel.send(partial(big), vnet)
        out = bytearray()
        merged = 0
        while len(out) < 30_000:
            fields, frame = await kernel.recv()
            if fields[1] == VIRTIO_NET_HDR_GSO_TCPV4:
                merged += 1
                frame = complete_checksum(frame, 0, fields[4], fields[5])
                pieces = split_tso(frame, fields[3])
            else:
                pieces = [frame]
            for piece in pieces:
                assert len(piece) <= 1514
                seg = check(piece)
                if seg.payload:
                    assert seg.seq == (our_isn + 1 + len(out)) % 2**32
                out += seg.payload
            if any(len(p) > 66 for p in pieces):
                kernel.send(_tcp("A", 21001, (our_isn + 1 + len(out)) % 2**32))  # more, please (cwnd)
        assert bytes(got) == data
        assert bytes(out) == bytes(range(256)) * 117 + b"x" * 48
        assert (merged >= 1) == (tx_tso != "off")
        sent = host.stats["tcp.out_segments"]
        assert sent < 15 if tx_tso == "stack" else sent > 21  # SYN+ACK, ACKs, and 30,000 bytes of data
        assert driver.stats["rx-gso"] == 1 and driver.stats["stack-errors"] == 0
        assert driver.stats["rx-gso-segments"] == (14 if rx_gso == "split" else 0)
        driver.close()
        kernel.theirs.close()

    asyncio.run(main())


def test_driver_without_offloads_and_udp_checksum_completion():
    """Plain frames (no virtio-net header) and, with the header, a UDP checksum left partial."""
    from scapy.layers.inet import UDP

    from minternet.real.tap import TapDriver, make_host

    async def main(vnet: bool) -> bytes:
        kernel = FakeKernel(vnet=vnet, tso=vnet)
        host = make_host("mini", f"{B}/24", mac=bytes.fromhex(MAC_B.replace(":", "")), seed=1)
        host.arp.learn(bytes((10, 77, 0, 1)), bytes.fromhex(MAC_A.replace(":", "")))
        driver = TapDriver(kernel.device, host.interfaces["eth0"])
        driver.start()
        sock = host.socket()
        sock.bind(("0.0.0.0", 7))
        frame = bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=A, dst=B) / UDP(sport=999, dport=7) / b"hello")
        if vnet:
            s = sum(struct.unpack("!4H", frame[26:34])) + 17 + 13
            s = (s & 0xFFFF) + (s >> 16)
            frame = frame[:40] + s.to_bytes(2, "big") + frame[42:]
            kernel.send(frame, VNET_HDR.pack(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 6))
        else:
            kernel.send(frame)
        data, addr = await asyncio.wait_for(sock.recvfrom(100), 2)
        assert addr == (A, 999)
        driver.close()
        kernel.theirs.close()
        return data

    assert asyncio.run(main(False)) == b"hello"
    assert asyncio.run(main(True)) == b"hello"


def test_tso_frame_marks_an_oversized_segment():
    data = os.urandom(9000)
    big = segment(5, data, flags="PA")
    vnet, header, body = tap.tso_frame(big, 1448)
    fields = VNET_HDR.unpack(vnet)
    assert fields == (VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16)
    whole = complete_checksum(header + bytes(body), 0, 34, 16)
    assert whole == big
    assert tap.tso_frame(bytes(Ether() / IP() / (b"x" * 3000)), 1448) is None
