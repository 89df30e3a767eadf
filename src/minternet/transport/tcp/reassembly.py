"""The receiver's out-of-order queue (RFC 9293 3.10.7.4 "segment text", RFC 2018 4 for SACK).

Segments are trimmed to the receive window [rcv_nxt, rcv_nxt + capacity), stored as merged
blocks of chunks (never byte by byte), and handed back in order as soon as the hole before them is
filled. Positions are kept internally on an unwrapped integer line, so wrap-around at 2**32 costs
one subtraction per segment and nothing else.

Memory is bounded the way Linux bounds its out-of-order queue: every queued segment is charged its
payload plus a fixed overhead (the skb's truesize), small adjacent segments are coalesced into one
chunk (tcp_ooo_try_coalesce), and when the charge would go over the budget, queued segments are
dropped from the far end (tcp_prune_ofo_queue), or else the arriving one is (TCPOFODrop). Blocks
stay sorted by position (bisect, no re-sorting); the SACK blocks' recency order is a list of at
most four entries, like Linux's tp->selective_acks.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Callable

from .seq import HALF, SEQ_MASK, SEQ_MOD

# What one queued segment costs beyond its payload: Linux's SKB_TRUESIZE(0) on x86-64,
# SKB_DATA_ALIGN(sizeof(struct sk_buff)) + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) = 256 + 320.
SEGMENT_OVERHEAD = 576
# Adjacent chunks are joined (copied into one) when one of them is smaller than this and the
# result is at most COALESCE_MAX bytes: tiny segments then share one overhead, as skb_try_coalesce
# copies a small skb into the tail room of the one before it; full-sized segments are never copied.
COALESCE_SMALL = SEGMENT_OVERHEAD
COALESCE_MAX = 2048
TCP_NUM_SACKS = 4  # how many blocks' recency is remembered (Linux's TCP_NUM_SACKS)


class Reassembly:
    """Out-of-order data held between rcv_nxt and rcv_nxt + capacity.

    capacity is the receive window the connection offers and may be changed at any time; data
    beyond it is dropped (RFC 9293 3.10.7.4), data already queued is kept. The queue's charge
    (payload + SEGMENT_OVERHEAD per chunk) is kept under capacity + overhead_budget (default: the
    capacity it was created with): Linux charges skb truesize against sk_rcvbuf but advertises only
    part of sk_rcvbuf (tcp_win_from_space), keeping the rest for that overhead; we advertise all of
    rcvbuf, so the overhead gets a budget of its own. ``on_drop(reason, segments, nbytes)``, when
    set, is told of every segment pruned ("ofo-prune") or refused ("ofo-drop").

    With discard=True the receiver is a go-back-N receiver, for teaching: segments that do not
    start at or before rcv_nxt are dropped (and counted in discarded_out_of_order) instead of
    queued, so nothing is ever SACKed.
    """

    __slots__ = ("_rcv_nxt", "capacity", "overhead_budget", "discard", "queued_bytes",
                 "discarded_out_of_order", "pruned_segments", "prunes", "ofo_drops", "on_drop",
                 "_nxt", "_starts", "_ends", "_chunks", "_nchunks", "_recent")

    def __init__(self, rcv_nxt: int, capacity: int, discard: bool = False,
                 overhead_budget: int | None = None) -> None:
        self._rcv_nxt = rcv_nxt & SEQ_MASK
        self.capacity = capacity
        self.overhead_budget = capacity if overhead_budget is None else overhead_budget
        self.discard = discard
        self.queued_bytes = 0  # out-of-order bytes held
        self.discarded_out_of_order = 0  # segments dropped in discard mode
        self.pruned_segments = 0  # queued segments dropped to make room (Linux: OfoPruned counts prunes)
        self.prunes = 0  # times the queue was pruned (Linux: OfoPruned)
        self.ofo_drops = 0  # arriving segments refused for lack of room (Linux: TCPOFODrop)
        self.on_drop: Callable[[str, int, int], None] | None = None
        self._nxt = 0  # rcv_nxt on the unwrapped line
        # Queued blocks, sorted, disjoint and never adjacent: [start, end) with their data as a
        # list of chunks (one per segment, or several small ones coalesced).
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._chunks: list[list[bytes]] = []
        self._nchunks = 0
        # A position inside each of the most recently changed blocks, newest first (RFC 2018 4).
        self._recent: list[int] = []

    @property
    def rcv_nxt(self) -> int:
        """The next sequence number expected."""
        return self._rcv_nxt

    @rcv_nxt.setter
    def rcv_nxt(self, value: int) -> None:
        # For a FIN (or SYN), which takes sequence space but brings no data: moving rcv_nxt
        # forward drops whatever queued data now lies below it.
        value &= SEQ_MASK
        d = (value - self._rcv_nxt) & SEQ_MASK
        if d > HALF:
            d -= SEQ_MOD
        self._rcv_nxt = value
        self._nxt += d
        nxt = self._nxt
        starts, ends = self._starts, self._ends
        while starts and starts[0] < nxt:
            if ends[0] <= nxt:
                self.queued_bytes -= ends[0] - starts[0]
                self._nchunks -= len(self._chunks[0])
                del starts[0], ends[0], self._chunks[0]
            else:
                cut = nxt - starts[0]
                self.queued_bytes -= cut
                joined = b"".join(self._chunks[0])[cut:]
                self._nchunks -= len(self._chunks[0]) - 1
                self._chunks[0] = [joined]
                starts[0] = nxt
        self._recent = [p if p >= nxt else nxt for p in self._recent]

    @property
    def charged(self) -> int:
        """What the queue holds, as it is charged against its budget: payload + overhead."""
        return self.queued_bytes + self._nchunks * SEGMENT_OVERHEAD

    def add(self, seq: int, data: bytes) -> bytes:
        """Take a segment's data starting at seq; return the bytes that are now in order (possibly
        several queued segments joined, possibly b""), and advance rcv_nxt past them."""
        n = len(data)
        if not n:
            return b""
        off = (seq - self._rcv_nxt) & SEQ_MASK
        if off > HALF:
            off -= SEQ_MOD
        end = off + n
        if end <= 0:
            return b""  # an old duplicate
        if off < 0:
            data = data[-off:]
            off = 0
        limit = self.capacity
        if off >= limit:
            return b""  # beyond the window
        if end > limit:
            data = data[: limit - off]
            end = limit
        if off == 0 and not self._starts:
            # The common case: in order and nothing queued.
            self._rcv_nxt = (self._rcv_nxt + end) & SEQ_MASK
            self._nxt += end
            return data if type(data) is bytes else bytes(data)
        if off:
            if self.discard:
                self.discarded_out_of_order += 1
                return b""
            # Out of order: room for it (Linux's tcp_try_rmem_schedule), made by pruning if need be.
            cost = end - off + SEGMENT_OVERHEAD
            if self.charged + cost > limit + self.overhead_budget and not self._prune(self._nxt + off, cost):
                return b""
        self._insert(self._nxt + off, self._nxt + end, data)
        if off:
            return b""
        # The hole at rcv_nxt is filled: deliver the first block (the segment and whatever
        # queued blocks it reached).
        block_end = self._ends.pop(0)
        chunks = self._chunks.pop(0)
        self._starts.pop(0)
        self._nchunks -= len(chunks)
        delivered = block_end - self._nxt
        self.queued_bytes -= delivered
        self._nxt = block_end
        self._rcv_nxt = (self._rcv_nxt + delivered) & SEQ_MASK
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _prune(self, s: int, cost: int) -> bool:
        """Linux's tcp_prune_ofo_queue: drop queued segments from the far end, never one that
        starts before the arriving segment at s, until ``cost`` more fits and at least an eighth
        of the budget is free again (so that one prune serves many segments). False: the arriving
        segment does not fit and is dropped itself (TCPOFODrop)."""
        starts, ends, blocks = self._starts, self._ends, self._chunks
        budget = self.capacity + self.overhead_budget
        goal = budget - max(cost, budget >> 3)
        segments = nbytes = 0
        while starts and self.charged > goal:
            chunks = blocks[-1]
            size = len(chunks[-1])
            start = ends[-1] - size
            if start < s:
                break  # the arriving segment would be the last one queued: prune no further
            chunks.pop()
            self._nchunks -= 1
            self.queued_bytes -= size
            segments += 1
            nbytes += size
            if chunks:
                ends[-1] = start
            else:
                del starts[-1], ends[-1], blocks[-1]
        if segments:
            self.prunes += 1
            self.pruned_segments += segments
            self._recent = []  # Linux's tcp_sack_reset: what is left is SACKed afresh
            if self.on_drop is not None:
                self.on_drop("ofo-prune", segments, nbytes)
        if self.charged + cost <= budget:
            return True
        self.ofo_drops += 1
        if self.on_drop is not None:
            self.on_drop("ofo-drop", 1, cost - SEGMENT_OVERHEAD)
        return False

    def _insert(self, s: int, e: int, data: bytes) -> None:
        """Merge [s, e) with data into the blocks; queued_bytes counts the new bytes."""
        starts, ends, blocks = self._starts, self._ends, self._chunks
        i = bisect_left(ends, s)  # the first block ending at or after s: touches or overlaps
        j = bisect_right(starts, e)  # blocks from j on start after e
        data = bytes(data)
        if i == j:
            starts.insert(i, s)
            ends.insert(i, e)
            blocks.insert(i, [data])
            self._nchunks += 1
            self.queued_bytes += e - s
            self._recent = [s, *[p for p in self._recent if not s <= p < e][:TCP_NUM_SACKS - 1]]
            return
        # The union of [s, e) and blocks i..j-1 is one block; fill the gaps between them (which
        # all lie inside [s, e)) from data, coalescing small neighbours (tcp_ooo_try_coalesce).
        chunks: list[bytes] = []
        pos = s if s < starts[i] else starts[i]
        new_start = pos
        added = old = 0
        for k in range(i, j + 1):
            bs = starts[k] if k < j else e
            if pos < bs:
                _push(chunks, data[pos - s : bs - s])
                added += bs - pos
                pos = bs
            if k < j:
                block = blocks[k]
                old += len(block)
                _push(chunks, block[0])
                chunks.extend(block[1:])
                pos = ends[k]
        starts[i:j] = [new_start]
        ends[i:j] = [pos]
        blocks[i:j] = [chunks]
        self._nchunks += len(chunks) - old
        self.queued_bytes += added
        self._recent = [s, *[p for p in self._recent if not new_start <= p < pos][:TCP_NUM_SACKS - 1]]

    def sack_blocks(self, limit: int = 4) -> list[tuple[int, int]]:
        """Up to limit SACK blocks (left, right exclusive) for the queued data (RFC 2018 4): the
        block holding the most recently received segment first, then the other recently changed
        ones, newest first, then (if limit allows more) the rest in sequence order. Blocks are
        disjoint and never adjacent, since adjacent data is merged."""
        starts, ends = self._starts, self._ends
        n = len(starts)
        if not n or limit <= 0:
            return []
        base = self._rcv_nxt - self._nxt
        picked: list[int] = []
        for p in self._recent:
            k = bisect_right(starts, p) - 1
            if k >= 0 and p < ends[k] and k not in picked:
                picked.append(k)
                if len(picked) == limit:
                    break
        if len(picked) < limit:
            for k in range(n):
                if k not in picked:
                    picked.append(k)
                    if len(picked) == limit:
                        break
        return [((base + starts[k]) & SEQ_MASK, (base + ends[k]) & SEQ_MASK) for k in picked]

    def clear(self) -> None:
        """Drop everything queued (rcv_nxt stays)."""
        self._starts.clear()
        self._ends.clear()
        self._chunks.clear()
        self._recent.clear()
        self._nchunks = 0
        self.queued_bytes = 0


def _push(chunks: list[bytes], piece: bytes) -> None:
    """Append piece to chunks, joined to the last chunk when one of them is small."""
    if chunks:
        last = chunks[-1]
        if len(last) + len(piece) <= COALESCE_MAX and (len(piece) < COALESCE_SMALL or len(last) < COALESCE_SMALL):
            chunks[-1] = last + piece
            return
    chunks.append(piece)
