"""The receiver's out-of-order queue (RFC 9293 3.10.7.4 "segment text", RFC 2018 4 for SACK).

Segments are trimmed to the receive window [rcv_nxt, rcv_nxt + capacity), stored as merged
blocks of chunks (never byte by byte), and handed back in order as soon as the hole before them is
filled. Positions are kept internally on an unwrapped integer line, so wrap-around at 2**32 costs
one subtraction per segment and nothing else.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from .seq import HALF, SEQ_MASK, SEQ_MOD


class Reassembly:
    """Out-of-order data held between rcv_nxt and rcv_nxt + capacity.

    capacity is the receive window the connection offers and may be changed at any time; data
    beyond it is dropped (RFC 9293 3.10.7.4), data already queued is kept.

    With discard=True the receiver is a go-back-N receiver, for teaching: segments that do not
    start at or before rcv_nxt are dropped (and counted in discarded_out_of_order) instead of
    queued, so nothing is ever SACKed.
    """

    __slots__ = ("_rcv_nxt", "capacity", "discard", "queued_bytes", "discarded_out_of_order",
                 "_nxt", "_starts", "_ends", "_chunks", "_stamps", "_clock")

    def __init__(self, rcv_nxt: int, capacity: int, discard: bool = False) -> None:
        self._rcv_nxt = rcv_nxt & SEQ_MASK
        self.capacity = capacity
        self.discard = discard
        self.queued_bytes = 0  # out-of-order bytes held
        self.discarded_out_of_order = 0  # segments dropped in discard mode
        self._nxt = 0  # rcv_nxt on the unwrapped line
        # Queued blocks, sorted, disjoint and never adjacent: [start, end) with their data as a
        # list of chunks, and the arrival stamp of the newest segment in each (for RFC 2018 4).
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._chunks: list[list[bytes]] = []
        self._stamps: list[int] = []
        self._clock = 0

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
                del starts[0], ends[0], self._chunks[0], self._stamps[0]
            else:
                cut = nxt - starts[0]
                self.queued_bytes -= cut
                joined = b"".join(self._chunks[0])[cut:]
                self._chunks[0] = [joined]
                starts[0] = nxt

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
        if off and self.discard:
            self.discarded_out_of_order += 1
            return b""
        self._insert(self._nxt + off, self._nxt + end, data)
        if off:
            return b""
        # The hole at rcv_nxt is filled: deliver the first block (the segment and whatever
        # queued blocks it reached).
        block_end = self._ends.pop(0)
        chunks = self._chunks.pop(0)
        self._starts.pop(0)
        self._stamps.pop(0)
        delivered = block_end - self._nxt
        self.queued_bytes -= delivered
        self._nxt = block_end
        self._rcv_nxt = (self._rcv_nxt + delivered) & SEQ_MASK
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _insert(self, s: int, e: int, data: bytes) -> None:
        """Merge [s, e) with data into the blocks; queued_bytes counts the new bytes."""
        starts, ends = self._starts, self._ends
        self._clock += 1
        i = bisect_left(ends, s)  # the first block ending at or after s: touches or overlaps
        j = bisect_right(starts, e)  # blocks from j on start after e
        data = bytes(data)
        if i == j:
            starts.insert(i, s)
            ends.insert(i, e)
            self._chunks.insert(i, [data])
            self._stamps.insert(i, self._clock)
            self.queued_bytes += e - s
            return
        # The union of [s, e) and blocks i..j-1 is one block; fill the gaps between them (which
        # all lie inside [s, e)) from data.
        chunks: list[bytes] = []
        pos = s if s < starts[i] else starts[i]
        new_start = pos
        added = 0
        for k in range(i, j):
            bs = starts[k]
            if pos < bs:
                chunks.append(data[pos - s : bs - s])
                added += bs - pos
            chunks.extend(self._chunks[k])
            pos = ends[k]
        if pos < e:
            chunks.append(data[pos - s :])
            added += e - pos
            pos = e
        starts[i:j] = [new_start]
        ends[i:j] = [pos]
        self._chunks[i:j] = [chunks]
        self._stamps[i:j] = [self._clock]
        self.queued_bytes += added

    def sack_blocks(self, limit: int = 4) -> list[tuple[int, int]]:
        """Up to limit SACK blocks (left, right exclusive) for the queued data (RFC 2018 4): the
        block holding the most recently received segment first, then the others, most recently
        changed first. Blocks are disjoint and never adjacent, since adjacent data is merged."""
        stamps = self._stamps
        n = len(stamps)
        if not n or limit <= 0:
            return []
        order = sorted(range(n), key=stamps.__getitem__, reverse=True)[:limit]
        base = self._rcv_nxt - self._nxt
        return [((base + self._starts[k]) & SEQ_MASK, (base + self._ends[k]) & SEQ_MASK)
                for k in order]

    def clear(self) -> None:
        """Drop everything queued (rcv_nxt stays)."""
        self._starts.clear()
        self._ends.clear()
        self._chunks.clear()
        self._stamps.clear()
        self.queued_bytes = 0
