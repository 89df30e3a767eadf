"""The TAP driver: the link's faults (the netem model, per direction, on the real-time clock),
and the whole driver against a fake kernel (a SOCK_SEQPACKET socket pair in place of the TAP's
descriptor) with and without offloads."""

from __future__ import annotations

import asyncio
import os
import struct
from collections import Counter

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from minternet.real.attach import make_host
from minternet.real.clock import RealtimeClock
from minternet.real.device import TUN_F_CSUM, TUN_F_TSO4, TapDevice
from minternet.real.driver import FaultLine, LinkFaults, TapDriver
from minternet.real.offload import (
    VIRTIO_NET_HDR_F_NEEDS_CSUM,
    VIRTIO_NET_HDR_GSO_TCPV4,
    VNET_HDR,
    complete_checksum,
    split_tso,
)

from .frames import A, B, MAC_A, MAC_B, check, partial


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


def _impair(faults: LinkFaults, frames: list[bytes], wait: float) -> tuple[list[bytes], dict]:
    async def main() -> tuple[list[bytes], dict]:
        got: list[bytes] = []
        stats: Counter[str] = Counter()
        line = FaultLine("in", faults, RealtimeClock(), got.append, stats)
        for f in frames:
            line.put(f)
        await asyncio.sleep(wait)
        return got, dict(stats)
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


# ================================================================================ the whole driver =
class FakeKernel:
    """The kernel's end of a TAP, played by the other end of a SOCK_SEQPACKET socket pair (one
    message per frame, like the TAP's file descriptor), with virtio-net headers."""

    def __init__(self, vnet: bool = True, tso: bool = True) -> None:
        import socket
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ours.setblocking(False)
        self.theirs.setblocking(False)
        self.device = TapDevice(self.ours.fileno(), "fake0", vnet, (TUN_F_CSUM | TUN_F_TSO4) if tso else 0)
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


def test_fault_line_decides_as_the_netem_model_does():
    """The driver's faults are the simulated links' model: the same parameters and random source
    give the same fates (here: corruption and duplicates, which the driver did not have before)."""
    import random

    from minternet.netem import impair

    faults = LinkFaults(corrupt=0.3, duplicate=0.2, loss=0.1, seed=8)
    frames = [bytes(14) + i.to_bytes(4, "big") * 5 for i in range(300)]
    got, stats = _impair(faults, frames, 0)
    rng = random.Random("8-in")
    expected: list[bytes] = []
    for f in frames:
        fate = impair(faults, rng, 0, f)
        if fate is not None:
            expected += [fate.frame] * (2 if fate.duplicate_arrival is not None else 1)
    assert got == expected
    assert stats["fault.in.corrupted"] > 50 and stats["fault.in.duplicated"] > 30
    assert sum(g not in frames for g in got) >= stats["fault.in.corrupted"]
