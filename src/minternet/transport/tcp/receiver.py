"""The receive side of a TCP connection: the receive sequence space (RFC 9293 3.3.1), the
out-of-order queue, the window we advertise, the SACK blocks we send and when to acknowledge.

Pure bookkeeping: it decides, the connection acts (sends the ACK, arms the delayed-ACK timer,
tells the application). Its fields are plain attributes the connection's segment builder reads
directly (a getter per segment would cost a call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...wire.tcp import TCPFlags
from .reassembly import Reassembly
from .seq import seq_add, seq_diff

if TYPE_CHECKING:
    from ...stack.observer import Observer
    from ...wire.tcp import TCP
    from .connection import Options

PSH = int(TCPFlags.PSH)
# What data_arrives() found, as bits.
DELIVERED = 1  # in-order bytes were added to the receive buffer: tell the application
ACK_NOW = 2  # out of order, or it filled a gap: acknowledge at once (RFC 5681 4.2)


def window_shift(rcvbuf: int) -> int:
    """The smallest window scale that lets the whole receive buffer be advertised (RFC 7323 2.3)."""
    shift = 0
    while (65535 << shift) < rcvbuf and shift < 14:
        shift += 1
    return shift


class Receiver:
    """rcv_nxt, the receive buffer and the reassembly queue of one connection."""

    def __init__(self, options: "Options", our_mss: int, stats: dict[str, int],
                 obs: "Observer | None" = None) -> None:
        self.opt = options
        self.our_mss = our_mss  # from the route's MTU: what we can receive
        self.stats = stats  # the connection's counters, shared
        self.obs = obs  # the host's counters and trace, for the out-of-order queue's drops
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_wscale = window_shift(options.rcvbuf) if options.window_scaling else 0
        # The right edge of the window we last advertised. It is a sequence number like any other
        # (0 included, when rcv_nxt + window wraps to exactly 2**32), never "nothing yet": until
        # our first window goes out it is rcv_nxt, an empty window, which is what was offered.
        self.rcv_adv = 0
        self.last_ack_sent = 0
        self.recvbuf = bytearray()
        self.reassembly: Reassembly | None = None
        self.peer_fin_seq: int | None = None  # where the peer's FIN is, if it came early
        self.eof = False  # the peer's FIN was received in order
        self.unacked_segments = 0  # full-sized segments received since our last ACK

    def synchronize(self, irs: int) -> None:
        """The peer's SYN: its initial sequence number, and the queue that starts after it."""
        self.irs = irs
        self.rcv_nxt = self.rcv_adv = self.last_ack_sent = seq_add(irs, 1)

    def open_queue(self) -> None:
        """After the SYN's options are known: the out-of-order queue (or go-back-N)."""
        self.reassembly = Reassembly(self.rcv_nxt, self.opt.rcvbuf, discard=self.opt.reassembly == "discard")
        if self.obs is not None:
            self.reassembly.on_drop = self._ofo_dropped

    def _ofo_dropped(self, reason: str, segments: int, nbytes: int) -> None:
        """The out-of-order queue was over its memory budget: queued segments pruned from its far
        end (Linux's OfoPruned, counted once per prune) or the arriving one refused (TCPOFODrop)."""
        obs = self.obs
        obs.stats["tcp.ofo_pruned" if reason == "ofo-prune" else "tcp.ofo_drop"] += 1
        obs.drop("tcp", reason, None, count=segments,
                 text=f"{segments} out-of-order segment(s), {nbytes} bytes: receive buffer full")

    # ------------------------------------------------------------------ windows --------------------
    def window(self) -> int:
        """Free space in the receive buffer (what we can still take)."""
        queued = self.reassembly.queued_bytes if self.reassembly is not None else 0
        return max(0, self.opt.rcvbuf - len(self.recvbuf) - queued)

    def window_to_advertise(self) -> int:
        """Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2): never shrink the window we
        offered, and only open it in steps of at least min(rcvbuf/2, MSS)."""
        limit = 65535 << self.rcv_wscale
        free = min(self.window(), limit)
        offered = max(0, seq_diff(self.rcv_adv, self.rcv_nxt))
        if free - offered < min(self.opt.rcvbuf // 2, self.our_mss):
            free = offered  # not worth opening (or would shrink): keep what we offered
        return free

    def sack_blocks(self, limit: int) -> list[tuple[int, int]]:
        """The SACK blocks for our next ACK (RFC 2018 4: the most recent first); [] when nothing
        is queued out of order."""
        reassembly = self.reassembly
        if reassembly is not None and reassembly.queued_bytes:
            return reassembly.sack_blocks(limit=limit)
        return []

    # ------------------------------------------------------------------ data -----------------------
    def data_arrives(self, seg: "TCP") -> int:
        """Take the data of an acceptable segment; DELIVERED | ACK_NOW bits say what follows."""
        reassembly = self.reassembly
        before = self.rcv_nxt
        had_gap = reassembly.queued_bytes > 0
        # Hold no more than the receive buffer has room for, in order or not.
        reassembly.capacity = max(0, self.opt.rcvbuf - len(self.recvbuf))
        in_order = reassembly.add(seg.seq, seg.payload)
        self.rcv_nxt = reassembly.rcv_nxt
        result = 0
        if in_order:
            self.recvbuf += in_order
            self.stats["bytes_received"] += len(in_order)
            result = DELIVERED
        if seg.seq != before or reassembly.queued_bytes > 0:
            self.stats["out_of_order"] += 1
            return result | ACK_NOW  # so the sender sees the hole (dup ACK / SACK)
        if had_gap:
            return result | ACK_NOW  # a segment that fills a gap is acknowledged at once
        return result

    def ack_due(self, seg: "TCP", mss: int) -> bool:
        """Delayed ACK (RFC 5681 4.2, RFC 1122 4.2.3.2): every second full segment goes out at
        once; False: the delayed-ACK timer will do."""
        if len(seg.payload) >= mss:
            self.unacked_segments += 1
        return self.unacked_segments >= 2 or bool(seg.flags & PSH and self.opt.nodelay)

    def fin_arrives(self) -> None:
        """The peer's FIN, in order: it takes one sequence number."""
        self.rcv_nxt = seq_add(self.rcv_nxt, 1)
        if self.reassembly is not None:
            self.reassembly.rcv_nxt = self.rcv_nxt
        self.eof = True

    def read(self, n: int) -> bytes:
        """Take up to n received bytes (all when n < 0)."""
        recvbuf = self.recvbuf
        if n < 0 or n >= len(recvbuf):
            data = bytes(recvbuf)
            recvbuf.clear()
        else:
            data = bytes(recvbuf[:n])
            del recvbuf[:n]
        return data

    def window_update_due(self) -> bool:
        """After a read: a window update only when the window we offered had become small (under
        a quarter of the buffer) and reading has at least doubled it (Linux's tcp_cleanup_rbuf
        rule), by one segment or more: a nearly-closed window reopening is news; every read is
        not."""
        offered = max(0, seq_diff(self.rcv_adv, self.rcv_nxt))
        could = min(self.window(), 65535 << self.rcv_wscale)
        return offered < self.opt.rcvbuf // 4 and could >= 2 * offered and could - offered >= self.our_mss
