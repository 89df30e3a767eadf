"""The offload codec: checksum completion, cutting TSO super-segments, merging our segments into
TSO frames, marking an oversized segment. Frames are built and checked with scapy as well as with
our own codecs."""

from __future__ import annotations

import os

import pytest
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether

from minternet.real.offload import (
    VIRTIO_NET_HDR_F_NEEDS_CSUM,
    VIRTIO_NET_HDR_GSO_TCPV4,
    VNET_HDR,
    complete_checksum,
    merge_tso,
    split_tso,
    tso_frame,
)
from minternet.wire.ipv4 import IPv4

from .frames import B, check, partial, segment


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


def test_tso_frame_marks_an_oversized_segment():
    data = os.urandom(9000)
    big = segment(5, data, flags="PA")
    vnet, header, body = tso_frame(big, 1448)
    fields = VNET_HDR.unpack(vnet)
    assert fields == (VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16)
    whole = complete_checksum(header + bytes(body), 0, 34, 16)
    assert whole == big
    assert tso_frame(bytes(Ether() / IP() / (b"x" * 3000)), 1448) is None
