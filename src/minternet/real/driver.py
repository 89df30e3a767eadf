"""The TAP driver: moves frames between a TAP device and a host's interface, on an asyncio loop,
and applies the link's faults.

The driver reads frames from the device's descriptor without blocking and hands them to the
interface; frames the stack sends are queued and written at the end of the batch. The stack does
not know: it sees a clock, a random source and a device, as in the simulator.

Speed. One system call per 1500-byte frame caps a Python process far below a gigabit, so the
driver uses the TAP offloads when the device has them (:mod:`minternet.real.offload`): the
kernel's TSO super-segments go to the stack whole (it takes frames larger than the MTU, as GRO
gives Linux too), or cut with ``rx_gso="split"`` or while faults are injected; the interface's
``tso_max`` lets the stack's TCP build super-segments of many MSS itself, which go to the kernel
marked for segmentation, and runs of ordinary segments sent in one go are merged into one TSO
frame. Where the kernel refused the offloads the driver writes plain frames, one per call.

Faults. :class:`LinkFaults` is the fault model of :mod:`minternet.netem` (the one the simulated
links use, with the same order of random draws) plus which direction it applies to and a seed;
the driver applies it with its own seeded random source per direction, per wire-sized frame,
since the kernel's netem is not always there.
"""

from __future__ import annotations

import asyncio
import errno
import heapq
import os
import random
import socket
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..netem import Netem, impair
from ..wire.fields import (
    ETH_HEADER_LEN,
    ETH_TYPE,
    ETH_TYPE_IPV4,
    FRAME_IPV4_DST,
    FRAME_IPV4_PROTOCOL,
    FRAME_IPV4_SRC,
    FRAME_IPV4_VER_IHL,
    FRAME_TCP_MIN,
    TCP_DATA_OFFSET,
)
from ..wire.ipv4 import IPProto
from .clock import RealtimeClock
from .device import TapDevice
from .offload import (
    MAX_IP_LEN,
    PLAIN_HDR,
    VIRTIO_NET_HDR_F_NEEDS_CSUM,
    VIRTIO_NET_HDR_GSO_ECN,
    VNET_HDR,
    VNET_HDR_LEN,
    complete_checksum,
    merge_tso,
    split_tso,
    tso_frame,
)

if TYPE_CHECKING:
    from ..link.interface import Interface

READ_SIZE = 65536 + ETH_HEADER_LEN + VNET_HDR_LEN + 256  # the largest GSO frame, its header, some slack
TX_TSO_MODES = ("stack", "merge", "off")
DIRECTIONS = ("both", "in", "out")
_PROTO_TCP = int(IPProto.TCP)


# ================================================================================ faults ===========
@dataclass(frozen=True)
class LinkFaults(Netem):
    """The faults on the real link: :class:`~minternet.netem.Netem` (loss, delay, jitter,
    reorder, duplicate, corrupt; probabilities per frame, times in nanoseconds) and where they
    apply. ``direction``: "both", "in" (kernel -> us) or "out" (us -> kernel); ``seed`` seeds the
    random source of each direction."""

    direction: str = "both"
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be both, in or out, not {self.direction!r}")

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
            parts.append(f"reorder {self.reorder:.1%} (held {self.held_back / 1e6:g} ms)")
        if self.duplicate:
            parts.append(f"duplicate {self.duplicate:.1%}")
        if self.corrupt:
            parts.append(f"corrupt {self.corrupt:.1%}")
        where = {"both": "both ways", "in": "kernel -> us", "out": "us -> kernel"}[self.direction]
        return f"{', '.join(parts)} ({where}, seed {self.seed})" if parts else "none"


class FaultLine:
    """One direction's faults: a seeded random source, :func:`minternet.netem.impair` deciding
    each frame's fate, and a delay line (a heap in time order, with a sequence number so frames
    due at the same instant keep their order). ``deliver`` gets each frame when it is due;
    ``after`` runs after each batch of due frames (the driver's flush)."""

    def __init__(self, direction: str, faults: LinkFaults, clock: RealtimeClock, deliver: Callable[[bytes], None],
                 stats: Counter[str], after: Callable[[], None] | None = None) -> None:
        self.direction = direction
        self.clock = clock
        self.deliver = deliver
        self.stats = stats
        self.after = after
        self.line: list[tuple[int, int, bytes]] = []
        self.seq = 0
        self.wakeup: int | None = None
        self.faults = faults

    @property
    def faults(self) -> LinkFaults:
        return self._faults

    @faults.setter
    def faults(self, faults: LinkFaults) -> None:
        """New faults, and a random source seeded afresh from their seed."""
        self._faults = faults
        self.rng = random.Random(f"{faults.seed}-{self.direction}")

    def put(self, frame: bytes) -> None:
        stats = self.stats
        now = self.clock.now
        fate = impair(self._faults, self.rng, now, frame)
        if fate is None:
            stats[f"fault.{self.direction}.lost"] += 1
            return
        if fate.reordered:
            stats[f"fault.{self.direction}.reordered"] += 1
        if fate.corrupted_bit is not None:
            stats[f"fault.{self.direction}.corrupted"] += 1
        self._hold(fate.arrival, fate.frame, now)
        if fate.duplicate_arrival is not None:
            stats[f"fault.{self.direction}.duplicated"] += 1
            self._hold(fate.duplicate_arrival, fate.frame, now)
        self._schedule()

    def _hold(self, due: int, frame: bytes, now: int) -> None:
        if due <= now and not self.line:
            self.deliver(frame)
            return
        self.seq += 1
        heapq.heappush(self.line, (due, self.seq, frame))

    def _schedule(self) -> None:
        if not self.line:
            return
        due = self.line[0][0]
        if self.wakeup is not None and self.wakeup <= due:
            return
        self.wakeup = due
        self.clock.call_at(due, self._release, due)

    def _release(self, due: int) -> None:
        if self.wakeup == due:
            self.wakeup = None
        now = self.clock.now
        line = self.line
        while line and line[0][0] <= now:
            _, _, frame = heapq.heappop(line)
            self.deliver(frame)
        if self.after is not None:
            self.after()
        self._schedule()

    def clear(self) -> None:
        self.line.clear()


# ================================================================================ the driver =======
class TapDriver:
    """Moves frames between a TAP device and a host's interface, on an asyncio loop.

    ``rx_gso``: "whole" gives the stack the kernel's TSO super-segments as they are (one segment
    of up to 64 KB), "split" cuts them into wire-sized segments first. ``tx_tso``: "stack" lets
    the stack's TCP send super-segments (the interface's ``tso_max``) and merges runs of smaller
    segments into TSO frames, "merge" only merges, "off" neither. Both only matter when the
    device has offloads.
    ``faults``: loss, delay, jitter, reordering, duplication, corruption on the link, the model
    of :mod:`minternet.netem` (per wire-sized frame: while faults are on, super-segments are split
    and nothing is merged). ``clock``: the real-time clock the delay line runs on (default: a new
    one on ``loop``)."""

    def __init__(self, device: TapDevice, iface: Interface, *, loop: asyncio.AbstractEventLoop | None = None,
                 faults: LinkFaults | None = None, rx_gso: str = "whole", tx_tso: str = "stack",
                 batch: int = 64, log: Callable[[str], None] | None = None,
                 clock: RealtimeClock | None = None) -> None:
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
        self.clock = clock or RealtimeClock(self.loop)
        self._faults = faults or LinkFaults()
        self._in = FaultLine("in", self._faults, self.clock, self._to_stack, self.stats, self.flush)
        self._out = FaultLine("out", self._faults, self.clock, self._write_one, self.stats, self.flush)

    # -- faults -----------------------------------------------------------------------------------
    @property
    def faults(self) -> LinkFaults:
        return self._faults

    @faults.setter
    def faults(self, faults: LinkFaults | None) -> None:
        """Change the link's faults while running (frames already delayed still arrive)."""
        self._faults = faults or LinkFaults()
        self._in.faults = self._faults
        self._out.faults = self._faults

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
        if (frame[ETH_TYPE] == ETH_TYPE_IPV4 and len(frame) > FRAME_TCP_MIN
                and frame[FRAME_IPV4_PROTOCOL] == _PROTO_TCP):
            return split_tso(frame, self._gso_size(frame))
        self.stats["tx-oversize"] += 1  # not ours to cut: the kernel will drop it
        return [frame]

    def _write_plain(self, frame: bytes) -> None:
        if self.device.vnet_hdr:
            self._writev((PLAIN_HDR, frame))
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


