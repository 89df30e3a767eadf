"""The offload codec: frames behind a virtio-net header, TSO/GSO super-segments and checksum offload.

With ``IFF_VNET_HDR`` and ``TUNSETOFFLOAD`` (the interface virtual machines use) every frame on a
TAP device carries a 10-byte virtio-net header, and:

- the kernel hands us TCP segments of up to 64 KB (TSO/GSO) instead of 44 small ones, with the
  checksum only *partial* (``VIRTIO_NET_HDR_F_NEEDS_CSUM``: the field holds the pseudo-header
  sum): :func:`complete_checksum` completes it, :func:`split_tso` cuts a super-segment into
  wire-sized segments as the kernel's software GSO would;
- in the other direction :func:`tso_frame` marks a super-segment our stack built for the kernel
  to cut (GSO TCPv4, the connection's MSS as the size), and :func:`merge_tso` merges runs of
  ordinary segments of one connection into one TSO frame (like GRO), so that the kernel takes up
  to 64 KB per system call.

Pure functions over bytes: no device, no time, no state.
"""

from __future__ import annotations

import struct
from typing import Any

from ..wire.checksum import sum_mod_ffff
from ..wire.fields import (
    ETH_HEADER_LEN,
    ETH_TYPE,
    ETH_TYPE_IPV4,
    FRAME_IPV4_ADDRESSES,
    FRAME_IPV4_CHECKSUM,
    FRAME_IPV4_FLAGS,
    FRAME_IPV4_FRAG_LOW,
    FRAME_IPV4_HEADER,
    FRAME_IPV4_IDENT,
    FRAME_IPV4_LENGTH,
    FRAME_IPV4_PROTOCOL,
    FRAME_IPV4_TOS,
    FRAME_IPV4_TTL,
    FRAME_IPV4_VER_IHL,
    FRAME_L4,
    FRAME_TCP_ACK,
    FRAME_TCP_CHECKSUM,
    FRAME_TCP_DATA_OFFSET,
    FRAME_TCP_FLAGS,
    FRAME_TCP_MIN,
    FRAME_TCP_OPTIONS,
    FRAME_TCP_PORTS,
    FRAME_TCP_SEQ,
    FRAME_TCP_WINDOW,
    IPV4_CHECKSUM,
    IPV4_FRAG_MASK,
    IPV4_IDENT,
    IPV4_LENGTH,
    IPV4_MIN_HEADER_LEN,
    IPV4_VER_IHL_PLAIN,
    TCP_ACK_BIT,
    TCP_CHECKSUM,
    TCP_CWR,
    TCP_DATA_OFFSET,
    TCP_FIN,
    TCP_FLAGS,
    TCP_MIN_HEADER_LEN,
    TCP_PSH,
    TCP_SEQ,
)
from ..wire.ipv4 import IPProto

# <linux/virtio_net.h>: struct virtio_net_hdr, in the host's byte order (little-endian here).
VNET_HDR = struct.Struct("<BBHHHH")  # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
VNET_HDR_LEN = VNET_HDR.size
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_GSO_NONE = 0
VIRTIO_NET_HDR_GSO_TCPV4 = 1
VIRTIO_NET_HDR_GSO_ECN = 0x80
PLAIN_HDR = bytes(VNET_HDR_LEN)  # the header of a frame without offloads: all zeros
MAX_IP_LEN = 65535
_PROTO_TCP = int(IPProto.TCP)


def complete_checksum(data: bytes, base: int, csum_start: int, csum_offset: int) -> bytes | None:
    """The frame at ``data[base:]`` with its partial checksum (the pseudo-header sum, as
    VIRTIO_NET_HDR_F_NEEDS_CSUM leaves it) completed: the ones' complement of the sum from
    ``csum_start`` to the end. None when the header points outside the frame."""
    pos = base + csum_start + csum_offset
    if csum_start < ETH_HEADER_LEN or pos + 2 > len(data):
        return None
    mv = memoryview(data)
    r = sum_mod_ffff(mv[base + csum_start:])
    # r is the ones' complement sum modulo 0xFFFF: 0 stands for 0xFFFF, whose complement 0 is
    # sent as 0xFFFF (0 would mean "no checksum" to UDP).
    csum = 0xFFFF - r if r else 0xFFFF
    return b"".join((mv[base:pos], csum.to_bytes(2, "big"), mv[pos + 2:]))


def _tcp_checksum(pseudo: int, header: bytes | bytearray, payload: bytes | memoryview) -> int:
    """TCP checksum from the pseudo-header's address words (summed), a header with a zero
    checksum field (even length) and the payload."""
    r = (pseudo + 6 + len(header) + len(payload) + sum_mod_ffff(header) + sum_mod_ffff(payload)) % 0xFFFF
    return 0xFFFF - r if r else 0xFFFF


def _ip_header_checksum(header: bytes | bytearray) -> int:
    r = sum_mod_ffff(header) % 0xFFFF
    return 0xFFFF - r if r else 0xFFFF


def split_tso(frame: bytes, gso_size: int) -> list[bytes]:
    """Cut a TCP/IPv4 super-segment (a TSO frame) into segments of ``gso_size`` bytes of payload,
    as the kernel's software GSO would: headers copied, sequence numbers and IP IDs advanced,
    FIN and PSH on the last segment only, CWR on the first only, checksums computed."""
    if len(frame) < FRAME_L4 or frame[ETH_TYPE] != ETH_TYPE_IPV4 or gso_size <= 0:
        return [frame]
    ihl = (frame[FRAME_IPV4_VER_IHL] & 0x0F) * 4
    t = ETH_HEADER_LEN + ihl
    if ihl < IPV4_MIN_HEADER_LEN or len(frame) < t + TCP_MIN_HEADER_LEN or frame[FRAME_IPV4_PROTOCOL] != _PROTO_TCP:
        return [frame]
    thl = (frame[t + TCP_DATA_OFFSET] >> 4) * 4
    end = min(len(frame), ETH_HEADER_LEN + int.from_bytes(frame[FRAME_IPV4_LENGTH], "big"))
    hdr_end = t + thl
    if thl < TCP_MIN_HEADER_LEN or hdr_end > end:
        return [frame]
    mv = memoryview(frame)
    payload = mv[hdr_end:end]
    n = len(payload)
    if n <= gso_size:
        return [frame]
    seq0 = int.from_bytes(frame[t + TCP_SEQ.start:t + TCP_SEQ.stop], "big")
    ident0 = int.from_bytes(frame[FRAME_IPV4_IDENT], "big")
    flags = frame[t + TCP_FLAGS]
    pseudo = sum_mod_ffff(mv[FRAME_IPV4_ADDRESSES])
    out = []
    for i, off in enumerate(range(0, n, gso_size)):
        chunk = payload[off:off + gso_size]
        f = flags
        if off + gso_size < n:
            f &= ~(TCP_FIN | TCP_PSH)
        if i:
            f &= ~TCP_CWR
        iph = bytearray(mv[ETH_HEADER_LEN:t])
        iph[IPV4_LENGTH] = (ihl + thl + len(chunk)).to_bytes(2, "big")
        iph[IPV4_IDENT] = ((ident0 + i) & 0xFFFF).to_bytes(2, "big")
        iph[IPV4_CHECKSUM] = b"\0\0"
        iph[IPV4_CHECKSUM] = _ip_header_checksum(iph).to_bytes(2, "big")
        tcph = bytearray(mv[t:hdr_end])
        tcph[TCP_SEQ] = ((seq0 + off) & 0xFFFFFFFF).to_bytes(4, "big")
        tcph[TCP_FLAGS] = f
        tcph[TCP_CHECKSUM] = b"\0\0"
        tcph[TCP_CHECKSUM] = _tcp_checksum(pseudo, tcph, chunk).to_bytes(2, "big")
        out.append(b"".join((mv[:ETH_HEADER_LEN], iph, tcph, chunk)))
    return out


class _Group:
    """Consecutive TCP segments of one connection being merged into one TSO frame."""

    __slots__ = ("closed", "frames", "key", "next_seq", "psh", "size", "thl", "total")

    def __init__(self, key: bytes, frame: bytes, thl: int, size: int, seq: int) -> None:
        self.key = key
        self.frames = [frame]
        self.thl = thl
        self.size = size  # payload of each segment (the GSO size); only the last may be shorter
        self.next_seq = (seq + size) & 0xFFFFFFFF
        self.total = size
        self.closed = False  # a short or PSH segment ended it
        self.psh = False


# The one-byte fields of the merge key, as slices (bytes, not ints, to join).
_KEY_TOS = slice(FRAME_IPV4_TOS, FRAME_IPV4_TOS + 1)
_KEY_FLAGS = slice(FRAME_IPV4_FLAGS, FRAME_IPV4_FLAGS + 1)
_KEY_TTL = slice(FRAME_IPV4_TTL, FRAME_IPV4_TTL + 1)
_KEY_ADDRESSES_PORTS = slice(FRAME_IPV4_ADDRESSES.start, FRAME_TCP_PORTS.stop)


def _tcp_merge_key(frame: bytes) -> tuple[bytes, int, int, int, int] | None:
    """For a plain TCP/IPv4 data segment that may be merged: (what must be equal for merging,
    TCP header length, payload length, sequence number, TCP flags); else None."""
    if (len(frame) < FRAME_TCP_MIN or frame[ETH_TYPE] != ETH_TYPE_IPV4
            or frame[FRAME_IPV4_VER_IHL] != IPV4_VER_IHL_PLAIN or frame[FRAME_IPV4_PROTOCOL] != _PROTO_TCP):
        return None
    if (frame[FRAME_IPV4_FLAGS] & IPV4_FRAG_MASK) or frame[FRAME_IPV4_FRAG_LOW]:  # a fragment (MF or an offset)
        return None
    flags = frame[FRAME_TCP_FLAGS]
    if flags & ~(TCP_ACK_BIT | TCP_PSH) or not flags & TCP_ACK_BIT:
        return None
    thl = (frame[FRAME_TCP_DATA_OFFSET] >> 4) * 4
    size = int.from_bytes(frame[FRAME_IPV4_LENGTH], "big") - IPV4_MIN_HEADER_LEN - thl
    if size <= 0 or FRAME_L4 + thl + size != len(frame):
        return None
    # Equal for all: MACs, TOS, DF, TTL, addresses, ports, ACK number, window, options (as GRO).
    key = b"".join((frame[:ETH_HEADER_LEN], frame[_KEY_TOS], frame[_KEY_FLAGS], frame[_KEY_TTL],
                    frame[_KEY_ADDRESSES_PORTS], frame[FRAME_TCP_ACK], frame[FRAME_TCP_WINDOW],
                    frame[FRAME_TCP_OPTIONS:FRAME_L4 + thl]))
    return key, thl, size, int.from_bytes(frame[FRAME_TCP_SEQ], "big"), flags


def merge_tso(frames: list[bytes], mtu: int = 1500) -> list[tuple[bytes, ...]]:
    """Merge runs of consecutive full-sized TCP segments of one connection into TSO frames
    (only frames that fit the link's ``mtu``: bigger ones are already super-segments).

    Returns the pieces of each frame to write (one writev each): a virtio-net header and the
    frame, or for a merged run the header (GSO TCPv4, gso_size, partial checksum), the first
    segment's headers with the total length, and each segment's payload (not copied)."""
    out: list[tuple[bytes, ...]] = []
    open_groups: dict[bytes, _Group] = {}
    # A group goes out where its first segment was: segments of other connections sent meanwhile
    # wait behind it (any order between connections is fine). Anything that cannot be merged
    # closes every open group, so that no segment passes an earlier one of its own connection.
    order: list[Any] = []
    limit = mtu + ETH_HEADER_LEN
    for frame in frames:
        k = _tcp_merge_key(frame) if len(frame) <= limit else None
        if k is None:
            order.append(frame)
            open_groups.clear()
            continue
        key, thl, size, seq, flags = k
        g = open_groups.get(key)
        if (g is not None and not g.closed and seq == g.next_seq and size <= g.size
                and IPV4_MIN_HEADER_LEN + thl + g.total + size <= MAX_IP_LEN):
            g.frames.append(frame)
            g.total += size
            g.next_seq = (seq + size) & 0xFFFFFFFF
            if size < g.size or flags & TCP_PSH:
                g.closed = True
                g.psh = bool(flags & TCP_PSH)
            continue
        g = _Group(key, frame, thl, size, seq)
        if flags & TCP_PSH:
            g.closed = True
            g.psh = True
        open_groups[key] = g
        order.append(g)
    for item in order:
        if type(item) is not _Group:
            out.append((PLAIN_HDR, item))
            continue
        if len(item.frames) == 1:
            out.append((PLAIN_HDR, item.frames[0]))
            continue
        out.append(_merged(item))
    return out


def tso_frame(frame: bytes, gso_size: int) -> tuple[bytes, ...] | None:
    """The pieces to write for one TCP/IPv4 segment larger than the link's MTU (a stack that
    sends TSO segments): marked GSO TCPv4 with ``gso_size`` for the kernel to cut. None when the
    frame is not a plain TCP/IPv4 segment (the caller then cuts it itself, or drops it)."""
    if (len(frame) < FRAME_TCP_MIN or frame[ETH_TYPE] != ETH_TYPE_IPV4
            or frame[FRAME_IPV4_VER_IHL] != IPV4_VER_IHL_PLAIN or frame[FRAME_IPV4_PROTOCOL] != _PROTO_TCP):
        return None
    thl = (frame[FRAME_TCP_DATA_OFFSET] >> 4) * 4
    size = len(frame) - FRAME_L4 - thl
    if thl < TCP_MIN_HEADER_LEN or size <= 0 or gso_size <= 0:
        return None
    g = _Group(b"", frame, thl, gso_size, 0)
    g.total = size
    g.psh = bool(frame[FRAME_TCP_FLAGS] & TCP_PSH)
    return _merged(g)


def _merged(g: _Group) -> tuple[bytes, ...]:
    first = g.frames[0]
    hl = FRAME_L4 + g.thl
    hdr = bytearray(first[:hl])
    tcp_len = g.thl + g.total
    hdr[FRAME_IPV4_LENGTH] = (IPV4_MIN_HEADER_LEN + tcp_len).to_bytes(2, "big")
    hdr[FRAME_IPV4_CHECKSUM] = b"\0\0"
    hdr[FRAME_IPV4_CHECKSUM] = _ip_header_checksum(hdr[FRAME_IPV4_HEADER]).to_bytes(2, "big")
    if g.psh:
        hdr[FRAME_TCP_FLAGS] |= TCP_PSH
    # The TCP checksum field holds the pseudo-header sum, not complemented: the kernel
    # (CHECKSUM_PARTIAL) completes it if the frame ever leaves the machine.
    s = sum_mod_ffff(hdr[FRAME_IPV4_ADDRESSES]) + _PROTO_TCP + tcp_len
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    hdr[FRAME_TCP_CHECKSUM] = s.to_bytes(2, "big")
    vnet = VNET_HDR.pack(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, hl, g.size, FRAME_L4,
                         TCP_CHECKSUM.start)
    return (vnet, bytes(hdr), *(memoryview(f)[hl:] for f in g.frames))
