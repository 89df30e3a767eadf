"""The real world: one minternet :class:`~minternet.host.Host` on a Linux TAP device.

A TAP device is an Ethernet interface of the kernel whose "wire" is a file descriptor: every frame
the kernel sends on it comes out of ``read()``, and every frame we ``write()`` arrives at the kernel
as if a network card had received it. The driver here reads frames from the descriptor (on an
asyncio loop, without blocking) and hands them to the host's interface; frames the stack sends
are written back. The stack does not know: it sees a clock, a random source and a device, as in
the simulator.

Speed. One system call per 1500-byte frame caps a Python process far below a gigabit, so the
driver asks for the TAP offloads (``IFF_VNET_HDR`` with ``TUNSETOFFLOAD``: checksum and TCP
segmentation offload, the interface virtual machines use). Every frame then carries a 10-byte
virtio-net header, and:

- the kernel hands us TCP segments of up to 64 KB (TSO/GSO) instead of 44 small ones, with the
  checksum only *partial* (``VIRTIO_NET_HDR_F_NEEDS_CSUM``: the field holds the pseudo-header
  sum). The driver completes the checksum and gives the stack the big segment whole (the stack
  takes frames larger than the MTU: that is what GRO gives Linux too), or, with ``rx_gso="split"``
  or while faults are injected, cuts it into wire-sized segments first;
- in the other direction the driver sets the interface's ``tso_max``, so the stack's TCP builds
  super-segments of many MSS itself (one pass through the stack instead of dozens), which go to
  the kernel marked for segmentation (GSO TCPv4, the connection's MSS as the size); and runs of
  ordinary segments of one connection sent in one go are merged into one TSO frame (like GRO),
  so the kernel takes up to 64 KB per system call.

Where the kernel refuses the offloads the driver falls back to plain frames, one per call.

Faults. :class:`LinkFaults` (loss, delay, jitter, reordering, duplication) is applied by the
driver with its own seeded random source, in both directions, per wire-sized frame, since the
kernel's netem is not always there.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import heapq
import os
import random
import socket
import struct
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..wire.checksum import sum_mod_ffff
from ..wire.fields import (
    ETH_HEADER_LEN,
    ETH_TYPE,
    ETH_TYPE_IPV4,
    FRAME_IPV4_ADDRESSES,
    FRAME_IPV4_CHECKSUM,
    FRAME_IPV4_DST,
    FRAME_IPV4_FLAGS,
    FRAME_IPV4_FRAG_LOW,
    FRAME_IPV4_HEADER,
    FRAME_IPV4_IDENT,
    FRAME_IPV4_LENGTH,
    FRAME_IPV4_PROTOCOL,
    FRAME_IPV4_SRC,
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

if TYPE_CHECKING:
    from ..host import Host
    from ..link.interface import Interface

TUN_PATH = "/dev/net/tun"

# <linux/if_tun.h>
TUNSETIFF = 0x400454CA
TUNGETFEATURES = 0x800454CF
TUNSETOFFLOAD = 0x400454D0
TUNSETVNETHDRSZ = 0x400454D8
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUN_F_CSUM = 0x01
TUN_F_TSO4 = 0x02

# <linux/virtio_net.h>: struct virtio_net_hdr, in the host's byte order (little-endian here).
VNET_HDR = struct.Struct("<BBHHHH")  # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
VNET_HDR_LEN = VNET_HDR.size
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_GSO_NONE = 0
VIRTIO_NET_HDR_GSO_TCPV4 = 1
VIRTIO_NET_HDR_GSO_ECN = 0x80
_PLAIN_HDR = bytes(VNET_HDR_LEN)

READ_SIZE = 65536 + ETH_HEADER_LEN + VNET_HDR_LEN + 256  # the largest GSO frame, its header, some slack
MAX_IP_LEN = 65535
TX_TSO_MODES = ("stack", "merge", "off")
_PROTO_TCP = int(IPProto.TCP)


class TapError(OSError):
    """A TAP device could not be opened or configured; the message says what is missing."""


# ================================================================================ access ===========
def _has_cap_net_admin() -> bool:
    """CAP_NET_ADMIN (bit 12) in our effective capabilities: what TUNSETIFF needs."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> 12 & 1)
    except (OSError, ValueError, IndexError):
        pass
    return os.geteuid() == 0


def tap_problem() -> str | None:
    """What this machine or process lacks to run a host on a TAP device, or None if nothing."""
    if not sys.platform.startswith("linux"):
        return f"TAP devices need Linux (this is {sys.platform})"
    if not os.path.exists(TUN_PATH):
        return (f"{TUN_PATH} does not exist: load the tun module (modprobe tun), or in a container "
                f"pass the device in (docker run --device /dev/net/tun --cap-add NET_ADMIN)")
    if not os.access(TUN_PATH, os.R_OK | os.W_OK):
        return f"{TUN_PATH} exists but this user cannot open it for reading and writing: run as root (sudo)"
    if not _has_cap_net_admin():
        return ("creating a TAP device needs the CAP_NET_ADMIN capability: run as root (sudo), or give "
                "the Python binary the capability (setcap cap_net_admin+ep)")
    return None


# ================================================================================ the device =======
class TapDevice:
    """An open TAP device: its file descriptor, its name, and which offloads the kernel agreed to."""

    def __init__(self, fd: int, name: str, vnet_hdr: bool, offloads: int) -> None:
        self.fd = fd
        self.name = name
        self.vnet_hdr = vnet_hdr  # every frame has a virtio-net header in front
        self.offloads = offloads  # TUN_F_* the kernel accepted

    @property
    def tso(self) -> bool:
        return bool(self.offloads & TUN_F_TSO4)

    def describe(self) -> str:
        if self.tso:
            return "offloads on (virtio-net header, checksum and TCP segmentation offload)"
        if self.vnet_hdr:
            return "offloads off (virtio-net header without TSO)"
        return "offloads off (plain frames)"

    def close(self) -> None:
        """Close the descriptor; a TAP device that is not persistent disappears with it."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __repr__(self) -> str:
        return f"<TapDevice {self.name} fd={self.fd} {self.describe()}>"


def open_tap(name: str, offload: bool = True) -> TapDevice:
    """Create (or attach to) the TAP device ``name`` and open it non-blocking.

    With ``offload``, ask for the virtio-net header and checksum + TSO offload; if the kernel
    refuses either, fall back to plain frames. Raises :class:`TapError` saying what is missing."""
    if len(name.encode()) > 15:
        raise TapError(errno.EINVAL, f"TAP name {name!r} is too long: Linux interface names have at most 15 bytes")
    problem = tap_problem()
    if problem:
        raise TapError(errno.EPERM, problem)
    try:
        fd = os.open(TUN_PATH, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TapError(exc.errno, f"cannot open {TUN_PATH}: {exc.strerror}") from None
    try:
        return _configure(fd, name, offload)
    except BaseException:
        os.close(fd)
        raise


def _configure(fd: int, name: str, offload: bool) -> TapDevice:
    features = 0
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, TUNGETFEATURES, buf)
        features = struct.unpack("I", buf)[0]
    except OSError:
        pass
    vnet = offload and bool(features & IFF_VNET_HDR)
    flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if vnet else 0)
    try:
        result = fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    except OSError as exc:
        if exc.errno == errno.EPERM:
            raise TapError(exc.errno, f"cannot create TAP device {name}: permission denied "
                                      f"(needs CAP_NET_ADMIN: run as root)") from None
        if exc.errno == errno.EBUSY:
            raise TapError(exc.errno, f"TAP device {name} is already in use by another program") from None
        if exc.errno == errno.EINVAL:
            raise TapError(exc.errno, f"cannot create TAP device {name}: an interface of that name exists "
                                      f"and is not a TAP device (or the name is invalid)") from None
        raise TapError(exc.errno, f"cannot create TAP device {name}: {exc.strerror}") from None
    actual = result[:16].rstrip(b"\0").decode()
    offloads = 0
    if vnet:
        try:
            fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", VNET_HDR_LEN))
            fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4)
            offloads = TUN_F_CSUM | TUN_F_TSO4
        except OSError:
            # The header stays (it cannot be switched off on an attached device) but says nothing:
            # plain frames behind ten zero bytes.
            offloads = 0
    return TapDevice(fd, actual, vnet, offloads)


# ================================================================================ time =============
class RealtimeClock:
    """The stack's :class:`~minternet.runtime.Clock` in real time on an asyncio loop.

    ``now`` is integer nanoseconds of the monotonic clock since the clock was made, so traces start
    at zero as in the simulator. Callbacks run on ``loop`` (the running loop when not given)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._epoch = time.monotonic_ns()

    @property
    def now(self) -> int:
        return time.monotonic_ns() - self._epoch

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def call_at(self, when: int, callback: Callable[..., Any], *args: Any) -> None:
        # call_later rather than call_at: the loop's own clock need not be time.monotonic.
        self.loop.call_later(max(0, when - (time.monotonic_ns() - self._epoch)) / 1e9, callback, *args)

    def call_later(self, delay: int, callback: Callable[..., Any], *args: Any) -> None:
        self.loop.call_later(max(0, delay) / 1e9, callback, *args)


# ================================================================================ faults ===========
@dataclass
class LinkFaults:
    """What the driver does to frames on the real link, like netem. Probabilities per frame,
    times in nanoseconds. ``direction``: "both", "in" (kernel -> us) or "out" (us -> kernel)."""

    loss: float = 0.0
    delay: int = 0
    jitter: int = 0  # extra delay, uniform in [0, jitter]: may reorder, as netem's jitter does
    reorder: float = 0.0  # probability that a frame is held back by reorder_delay (others pass it)
    reorder_delay: int = 5_000_000
    duplicate: float = 0.0
    direction: str = "both"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("loss", "reorder", "duplicate"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1, not {p}")
        for name in ("delay", "jitter", "reorder_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.direction not in ("both", "in", "out"):
            raise ValueError(f"direction must be both, in or out, not {self.direction!r}")

    @property
    def active(self) -> bool:
        return bool(self.loss or self.delay or self.jitter or self.reorder or self.duplicate)

    def applies(self, direction: str) -> bool:
        return self.active and self.direction in ("both", direction)

    def describe(self) -> str:
        parts = []
        if self.loss:
            parts.append(f"loss {self.loss:.1%}")
        if self.delay:
            parts.append(f"delay {self.delay / 1e6:g} ms")
        if self.jitter:
            parts.append(f"jitter {self.jitter / 1e6:g} ms")
        if self.reorder:
            parts.append(f"reorder {self.reorder:.1%} (held {self.reorder_delay / 1e6:g} ms)")
        if self.duplicate:
            parts.append(f"duplicate {self.duplicate:.1%}")
        where = {"both": "both ways", "in": "kernel -> us", "out": "us -> kernel"}[self.direction]
        return f"{', '.join(parts)} ({where}, seed {self.seed})" if parts else "none"


class _Impairment:
    """One direction's faults: a seeded random source and a delay line (a heap in time order,
    with a sequence number so frames due at the same instant keep their order)."""

    def __init__(self, driver: TapDriver, direction: str, deliver: Callable[[bytes], None]) -> None:
        self.driver = driver
        self.direction = direction
        self.deliver = deliver
        self.rng = random.Random(f"{driver.faults.seed}-{direction}")
        self.line: list[tuple[int, int, bytes]] = []
        self.seq = 0
        self.wakeup: int | None = None

    def reseed(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}-{self.direction}")

    def put(self, frame: bytes) -> None:
        f = self.driver.faults
        stats = self.driver.stats
        rng = self.rng
        if f.loss and rng.random() < f.loss:
            stats[f"fault.{self.direction}.lost"] += 1
            return
        copies = 1
        if f.duplicate and rng.random() < f.duplicate:
            copies = 2
            stats[f"fault.{self.direction}.duplicated"] += 1
        for _ in range(copies):
            delay = f.delay + (int(rng.uniform(0, f.jitter)) if f.jitter else 0)
            if f.reorder and rng.random() < f.reorder:
                delay += f.reorder_delay
                stats[f"fault.{self.direction}.reordered"] += 1
            if delay <= 0 and not self.line:
                self.deliver(frame)
                continue
            self.seq += 1
            heapq.heappush(self.line, (time.monotonic_ns() + delay, self.seq, frame))
        self._schedule()

    def _schedule(self) -> None:
        if not self.line:
            return
        due = self.line[0][0]
        if self.wakeup is not None and self.wakeup <= due:
            return
        self.wakeup = due
        self.driver.loop.call_later(max(0, due - time.monotonic_ns()) / 1e9, self._release, due)

    def _release(self, due: int) -> None:
        if self.wakeup == due:
            self.wakeup = None
        now = time.monotonic_ns()
        line = self.line
        while line and line[0][0] <= now:
            _, _, frame = heapq.heappop(line)
            self.deliver(frame)
        self.driver.flush()
        self._schedule()

    def clear(self) -> None:
        self.line.clear()


# ================================================================================ segmentation =====
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
            out.append((_PLAIN_HDR, item))
            continue
        if len(item.frames) == 1:
            out.append((_PLAIN_HDR, item.frames[0]))
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


# ================================================================================ the driver =======
class TapDriver:
    """Moves frames between a TAP device and a host's interface, on an asyncio loop.

    ``rx_gso``: "whole" gives the stack the kernel's TSO super-segments as they are (one segment
    of up to 64 KB), "split" cuts them into wire-sized segments first. ``tx_tso``: "stack" lets
    the stack's TCP send super-segments (the interface's ``tso_max``) and merges runs of smaller
    segments into TSO frames, "merge" only merges, "off" neither. Both only matter when the
    device has offloads.
    ``faults``: loss, delay, reordering, duplication on the link (per wire-sized frame: while
    faults are on, super-segments are split and nothing is merged)."""

    def __init__(self, device: TapDevice, iface: Interface, *, loop: asyncio.AbstractEventLoop | None = None,
                 faults: LinkFaults | None = None, rx_gso: str = "whole", tx_tso: str = "stack",
                 batch: int = 64, log: Callable[[str], None] | None = None) -> None:
        if rx_gso not in ("whole", "split"):
            raise ValueError(f"rx_gso must be 'whole' or 'split', not {rx_gso!r}")
        if tx_tso not in TX_TSO_MODES:
            raise ValueError(f"tx_tso must be one of {', '.join(TX_TSO_MODES)}, not {tx_tso!r}")
        self.device = device
        self.iface = iface
        self.loop = loop or asyncio.get_running_loop()
        self.rx_gso = rx_gso
        self.tx_tso = tx_tso
        self.batch = batch
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.stats: Counter[str] = Counter()
        self._txq: list[bytes] = []
        self._flush_pending = False
        self._reading = False
        self._faults = faults or LinkFaults()
        self._in = _Impairment(self, "in", self._to_stack)
        self._out = _Impairment(self, "out", self._write_one)

    # -- faults -----------------------------------------------------------------------------------
    @property
    def faults(self) -> LinkFaults:
        return self._faults

    @faults.setter
    def faults(self, faults: LinkFaults | None) -> None:
        """Change the link's faults while running (frames already delayed still arrive)."""
        self._faults = faults or LinkFaults()
        self._in.reseed(self._faults.seed)
        self._out.reseed(self._faults.seed)

    # -- life -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Attach to the interface and start reading the device."""
        self.iface.attach(self.transmit)
        if self.device.tso and self.tx_tso == "stack":
            self.iface.tso_max = MAX_IP_LEN
        self.loop.add_reader(self.device.fd, self._readable)
        self._reading = True

    def stop(self) -> None:
        """Stop reading and detach (frames the stack sends afterwards are dropped by it)."""
        if self._reading:
            self.loop.remove_reader(self.device.fd)
            self._reading = False
        self.flush()
        self.iface.attach(None)
        self.iface.tso_max = 0
        self._in.clear()
        self._out.clear()

    def close(self) -> None:
        self.stop()
        self.device.close()

    # -- kernel -> stack --------------------------------------------------------------------------
    def _readable(self) -> None:
        fd = self.device.fd
        read = os.read
        vnet = self.device.vnet_hdr
        stats = self.stats
        for _ in range(self.batch):
            try:
                data = read(fd, READ_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                stats[f"read-error-{errno.errorcode.get(exc.errno, exc.errno)}"] += 1
                if exc.errno in (errno.EBADF, errno.EBADFD, errno.EIO):
                    self.log(f"tap {self.device.name}: read failed ({exc.strerror}); stopped reading")
                    self.loop.remove_reader(fd)
                    self._reading = False
                break
            stats["reads"] += 1
            if vnet:
                self._vnet_frame(data)
            else:
                self._arrived(data)
        self.flush()

    def _vnet_frame(self, data: bytes) -> None:
        if len(data) < VNET_HDR_LEN:
            self.stats["rx-short-vnet-header"] += 1
            return
        flags, gso_type, _hdr_len, gso_size, csum_start, csum_offset = VNET_HDR.unpack_from(data)
        if flags & VIRTIO_NET_HDR_F_NEEDS_CSUM:
            frame = complete_checksum(data, VNET_HDR_LEN, csum_start, csum_offset)
            if frame is None:
                self.stats["rx-bad-vnet-header"] += 1
                return
            self.stats["rx-checksums-completed"] += 1
        else:
            frame = data[VNET_HDR_LEN:]
        if gso_type & ~VIRTIO_NET_HDR_GSO_ECN:
            self.stats["rx-gso"] += 1
            if self.rx_gso == "split" or self._faults.applies("in"):
                segments = split_tso(frame, gso_size)
                self.stats["rx-gso-segments"] += len(segments)
                for seg in segments:
                    self._arrived(seg)
                return
        self._arrived(frame)

    def _arrived(self, frame: bytes) -> None:
        self.stats["frames-in"] += 1
        if self._faults.applies("in"):
            self._in.put(frame)
        else:
            self._to_stack(frame)

    def _to_stack(self, frame: bytes) -> None:
        try:
            self.iface.receive(frame)
        except Exception:  # noqa: BLE001 - one frame must never take the host down
            # A stack bug, not the frame's fault (the stack drops bad frames itself): say so loudly,
            # count it (the interop tests require the count to stay zero) and go on.
            self.stats["stack-errors"] += 1
            self.log(f"tap {self.device.name}: the stack raised on a {len(frame)}-byte frame:\n"
                     f"{traceback.format_exc()}  frame: {frame[:64].hex()}")

    # -- stack -> kernel --------------------------------------------------------------------------
    def transmit(self, frame: bytes) -> None:
        """The interface's device function: queue the frame; it is written at the end of the
        current batch (so runs of segments can be merged)."""
        self._txq.append(frame)
        if not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write what the stack sent since the last flush."""
        self._flush_pending = False
        q = self._txq
        if not q:
            return
        self._txq = []
        self.stats["frames-out"] += len(q)
        if self._faults.applies("out"):
            limit = self.iface.mtu + ETH_HEADER_LEN
            for frame in q:
                for piece in (self._cut(frame) if len(frame) > limit else (frame,)):
                    self._out.put(piece)
            return
        if self.device.tso and self.tx_tso != "off" and len(q) > 1:
            for pieces in merge_tso(q, self.iface.mtu):
                if len(pieces) == 2:
                    self._write_one(pieces[1])
                    continue
                self.stats["tx-tso-frames"] += 1
                self.stats["tx-tso-segments"] += len(pieces) - 2
                self._writev(pieces)
            return
        for frame in q:
            self._write_one(frame)

    def _write_one(self, frame: bytes) -> None:
        if len(frame) > self.iface.mtu + ETH_HEADER_LEN:
            # Larger than the link: only a stack that does TSO sends these. The kernel cuts it
            # (GSO) when it can; else we do, as the kernel's software GSO would.
            pieces = tso_frame(frame, self._gso_size(frame)) if self.device.tso else None
            if pieces is not None:
                self.stats["tx-tso-frames"] += 1
                self._writev(pieces)
                return
            for piece in self._cut(frame):
                self._write_plain(piece)
            return
        self._write_plain(frame)

    def _gso_size(self, frame: bytes) -> int:
        """Payload per wire segment: the connection's MSS (as Linux puts in gso_size), never more
        than fits the link's MTU after the headers this segment carries."""
        ihl = (frame[FRAME_IPV4_VER_IHL] & 0x0F) * 4
        t = ETH_HEADER_LEN + ihl
        size = self.iface.mtu - ihl - (frame[t + TCP_DATA_OFFSET] >> 4) * 4
        key = (socket.inet_ntoa(frame[FRAME_IPV4_SRC]), int.from_bytes(frame[t:t + 2], "big"),
               socket.inet_ntoa(frame[FRAME_IPV4_DST]), int.from_bytes(frame[t + 2:t + 4], "big"))
        conn = self.iface.host.tcp.connections.get(key)
        return min(size, conn.mss) if conn is not None else size

    def _cut(self, frame: bytes) -> list[bytes]:
        if frame[ETH_TYPE] == ETH_TYPE_IPV4 and len(frame) > FRAME_TCP_MIN and frame[FRAME_IPV4_PROTOCOL] == _PROTO_TCP:
            return split_tso(frame, self._gso_size(frame))
        self.stats["tx-oversize"] += 1  # not ours to cut: the kernel will drop it
        return [frame]

    def _write_plain(self, frame: bytes) -> None:
        if self.device.vnet_hdr:
            self._writev((_PLAIN_HDR, frame))
        else:
            self._writev((frame,))

    def _writev(self, pieces: tuple[bytes, ...]) -> None:
        fd = self.device.fd
        if fd < 0:
            return
        try:
            os.writev(fd, pieces)
            self.stats["writes"] += 1
        except OSError as exc:
            # EIO: the kernel side is down; ENOBUFS/EAGAIN: its queue is full. Like a NIC, drop.
            self.stats[f"write-error-{errno.errorcode.get(exc.errno, exc.errno)}"] += 1

    def describe(self) -> str:
        d = self.device.describe()
        if self.device.tso:
            tx = {"stack": "the stack's super-segments and merged runs", "merge": "merged runs only",
                  "off": "off"}[self.tx_tso]
            d += f"; rx super-segments {self.rx_gso}; tx TSO: {tx}"
        return d


# ================================================================================ a whole host =====
def make_host(name: str, address: str, *, mtu: int = 1500, mac: bytes | None = None, gateway: str | None = None,
              seed: int | None = None, loop: asyncio.AbstractEventLoop | None = None) -> Host:
    """A Host with one interface ``eth0`` (``address`` as "10.77.0.2/24") on a real-time clock.

    The random source is seeded from ``seed`` for a repeatable run, else from the OS (initial
    sequence numbers, ports and IDs should not be guessable on a real network)."""
    from ..host import Host
    clock = RealtimeClock(loop)
    rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(16), "big"))
    host = Host(name, clock, rng)
    host.add_interface("eth0", address, mac=mac, mtu=mtu)
    if gateway:
        host.set_gateway(gateway)
    return host


@dataclass
class Attached:
    """A host running on a TAP device: what :func:`attach` returns."""

    host: Host
    driver: TapDriver
    device: TapDevice

    def close(self) -> None:
        self.driver.close()


def attach(host: Host, tap_name: str, *, iface: str = "eth0", offload: bool = True,
           faults: LinkFaults | None = None, rx_gso: str = "whole", tx_tso: str = "stack",
           loop: asyncio.AbstractEventLoop | None = None, announce: bool = True) -> Attached:
    """Open the TAP device ``tap_name``, attach ``host``'s interface to it and start the driver
    on ``loop`` (the running loop by default); ``announce`` sends a gratuitous ARP.

    For a device that is already configured on the kernel side (a persistent TAP made with
    ``ip tuntap add dev tap0 mode tap`` and given an address). When the kernel's end must be
    set up after the device exists (moved into a namespace, say), open it with
    :func:`open_tap`, configure it, then start a :class:`TapDriver`, as ``minternet attach`` does."""
    device = open_tap(tap_name, offload=offload)
    try:
        driver = TapDriver(device, host.interfaces[iface], loop=loop, faults=faults, rx_gso=rx_gso,
                           tx_tso=tx_tso)
        driver.start()
    except BaseException:
        device.close()
        raise
    if announce:
        host.start()
    return Attached(host, driver, device)
