"""The sender's SACK scoreboard (RFC 6675, SACK blocks from RFC 2018).

SACKed data is kept as a sorted list of merged [left, right) intervals on an unwrapped integer
line (so wrap-around at 2**32 is one subtraction), never per byte or per segment.

IsLost (RFC 6675 4) is monotone: if a byte is lost, so is every un-SACKed byte below it, since
more is SACKed above it. So one number, the loss boundary, answers it: un-SACKed bytes below it
are lost, the rest are not. Walking the intervals down from the highest, the boundary is the left
edge of the first interval at which DupThresh segments have been SACKed above; it is recomputed
whenever an update changes the intervals, in at most DupThresh steps.

The scoreboard holds byte ranges, not the segments the receiver got, so "DupThresh discontiguous
SACKed segments" is counted as the fewest segments that can make up the SACKed ranges:
ceil(length / MSS) for each interval. That never overcounts, counts each discontiguous range at
least once, and implies RFC 6675's other rule: more than (DupThresh - 1) * SMSS bytes SACKed
above a byte always make at least DupThresh segments.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from .seq import HALF, SEQ_MASK, SEQ_MOD


def _diff(a: int, b: int) -> int:
    d = (a - b) & SEQ_MASK
    return d - SEQ_MOD if d > HALF else d


class Scoreboard:
    """What the receiver has SACKed above snd_una, and what that says is lost (RFC 6675 4).

    Ranges are (left, right) sequence numbers with right exclusive, like SACK blocks. high_rxt,
    where taken, is likewise exclusive: the sequence number after the last retransmitted byte
    (RFC 6675's HighRxt + 1); start each recovery with high_rxt = snd_una.
    """

    __slots__ = ("mss", "dupthresh", "sacked_bytes", "_lefts", "_rights", "_una_seq", "_una",
                 "_lost", "_sacked_above_lost")

    def __init__(self, mss: int, dupthresh: int = 3) -> None:
        if mss <= 0 or dupthresh <= 0:
            raise ValueError(f"mss and dupthresh must be positive, got {mss}, {dupthresh}")
        self.mss = mss
        self.dupthresh = dupthresh
        self.sacked_bytes = 0
        self._lefts: list[int] = []
        self._rights: list[int] = []
        self._una_seq: int | None = None  # snd_una as of the last update ...
        self._una = 0  # ... and on the unwrapped line
        self._lost = 0  # the loss boundary (unwrapped): un-SACKed bytes below it are lost
        self._sacked_above_lost = 0

    def reset(self) -> None:
        """Forget everything (e.g. after an RTO, when the receiver may have reneged,
        RFC 2018 8)."""
        self._lefts.clear()
        self._rights.clear()
        self.sacked_bytes = 0
        self._una_seq = None
        self._una = self._lost = self._sacked_above_lost = 0

    def _abs(self, seq: int) -> int:
        return self._una + _diff(seq, self._una_seq)  # type: ignore[arg-type]

    def _seq(self, pos: int) -> int:
        return (self._una_seq + pos - self._una) & SEQ_MASK  # type: ignore[operator]

    @property
    def highest_sacked(self) -> int | None:
        """The sequence number after the highest SACKed byte, or None if nothing is SACKed."""
        return self._seq(self._rights[-1]) if self._rights else None

    def ranges(self) -> list[tuple[int, int]]:
        """The SACKed ranges, lowest first, merged."""
        return [(self._seq(l), self._seq(r)) for l, r in zip(self._lefts, self._rights)]

    def update(self, snd_una: int, snd_nxt: int, blocks: Iterable[tuple[int, int]]) -> int:
        """Take an ACK: forget what is below snd_una and record the SACK blocks (clipped to
        [snd_una, snd_nxt); blocks wholly below snd_una, such as D-SACKs (RFC 2883), and
        malformed ones are ignored). Returns the number of bytes newly SACKed."""
        lefts, rights = self._lefts, self._rights
        una_seq = self._una_seq
        changed = False
        if una_seq is None:
            una_seq = self._una_seq = snd_una
        else:
            adv = (snd_una - una_seq) & SEQ_MASK
            if 0 < adv <= HALF:
                una = self._una = self._una + adv
                una_seq = self._una_seq = snd_una
                if lefts and lefts[0] < una:
                    changed = True
                    k = bisect_right(rights, una)  # intervals wholly acknowledged
                    if k:
                        self.sacked_bytes -= sum(rights[:k]) - sum(lefts[:k])
                        del lefts[:k], rights[:k]
                    if lefts and lefts[0] < una:
                        self.sacked_bytes -= una - lefts[0]
                        lefts[0] = una
        una = self._una
        d = (snd_nxt - una_seq) & SEQ_MASK
        nxt = una + (d - SEQ_MOD if d > HALF else d)
        newly = 0
        for left, right in blocks:
            d = (left - una_seq) & SEQ_MASK
            l = una + (d - SEQ_MOD if d > HALF else d)
            d = (right - left) & SEQ_MASK
            if d == 0 or d > HALF:
                continue  # empty or malformed
            r = l + d
            if l < una:
                l = una
            if r > nxt:
                r = nxt
            if l >= r:
                continue
            i = bisect_left(rights, l)  # the first interval ending at or after l
            if i < len(lefts) and lefts[i] <= l and r <= rights[i]:
                continue  # nothing new: the usual repeat of a block already recorded
            newly += self._add(l, r, i)
        if newly:
            self.sacked_bytes += newly
            changed = True
        if changed:
            self._find_loss_boundary()
        return newly

    def _add(self, l: int, r: int, i: int) -> int:
        """Merge [l, r) into the intervals; i is the first interval ending at or after l.
        Returns how many bytes were not there before."""
        lefts, rights = self._lefts, self._rights
        j = bisect_right(lefts, r, i)  # intervals from j on start after r
        if i == j:
            lefts.insert(i, l)
            rights.insert(i, r)
            return r - l
        new_l = l if l < lefts[i] else lefts[i]
        new_r = r if r > rights[j - 1] else rights[j - 1]
        if j == i + 1:
            old = rights[i] - lefts[i]
            lefts[i] = new_l
            rights[i] = new_r
            return new_r - new_l - old
        # [l, r) bridges every gap between intervals i..j-1, so the union is one interval.
        old = sum(rights[i:j]) - sum(lefts[i:j])
        lefts[i:j] = [new_l]
        rights[i:j] = [new_r]
        return new_r - new_l - old

    def _find_loss_boundary(self) -> None:
        lefts, rights = self._lefts, self._rights
        mss = self.mss
        segments = 0
        above = 0
        for k in range(len(lefts) - 1, -1, -1):
            length = rights[k] - lefts[k]
            above += length
            segments += -(-length // mss)
            if segments >= self.dupthresh:
                self._lost = lefts[k]
                self._sacked_above_lost = above
                return
        self._lost = self._una
        self._sacked_above_lost = self.sacked_bytes

    def _sacked_between(self, l: int, r: int) -> int:
        """SACKed bytes in [l, r) (unwrapped)."""
        lefts, rights = self._lefts, self._rights
        i = bisect_right(rights, l)  # intervals ending after l
        j = bisect_left(lefts, r)  # intervals from j on start at or after r
        if i >= j:
            return 0
        total = sum(rights[i:j]) - sum(lefts[i:j])
        if lefts[i] < l:
            total -= l - lefts[i]
        if rights[j - 1] > r:
            total -= rights[j - 1] - r
        return total

    def is_sacked(self, seq: int) -> bool:
        """Whether the byte at seq has been SACKed."""
        if self._una_seq is None:
            return False
        pos = self._abs(seq)
        i = bisect_right(self._lefts, pos) - 1
        return i >= 0 and pos < self._rights[i]

    def is_lost(self, seq: int) -> bool:
        """RFC 6675 IsLost(seq) for an outstanding byte: DupThresh segments (or more than
        (DupThresh - 1) * SMSS bytes) SACKed above it. False for SACKed bytes and those below
        snd_una."""
        if self._una_seq is None:
            return False
        pos = self._abs(seq)
        if not self._una <= pos < self._lost:
            return False
        i = bisect_right(self._lefts, pos) - 1
        return i < 0 or pos >= self._rights[i]

    def pipe(self, snd_una: int, snd_nxt: int, retransmitted: int | Iterable[tuple[int, int]] = ()) -> int:
        """RFC 6675 4 SetPipe: the bytes thought to be in the network. Each un-SACKed byte in
        [snd_una, snd_nxt) counts once if it is not lost, and once more if it was retransmitted.

        retransmitted is either high_rxt (everything un-SACKed in [snd_una, high_rxt) has been
        retransmitted, as in the RFC) or an iterable of retransmitted (left, right) ranges.
        An snd_una older than the last update's counts from the last update's.
        """
        if self._una_seq is None:  # nothing recorded yet: any origin will do
            una_seq, base, una = snd_una, 0, 0
        else:
            una_seq, base = self._una_seq, self._una
            una = base + _diff(snd_una, una_seq)
            if una < base:
                una = base  # an older snd_una than the last update's: that one is newer
        nxt = base + _diff(snd_nxt, una_seq)
        flight = nxt - una
        if flight <= 0:
            return 0
        lost = self._lost
        rights = self._rights
        if lost <= una or not rights:
            if una == base and (not rights or rights[-1] <= nxt):
                pipe = flight - self.sacked_bytes
            else:
                pipe = flight - self._sacked_between(una, nxt)
        elif rights[-1] <= nxt:
            # lost is an interval's left edge, so the SACKed bytes above it are known.
            pipe = nxt - lost - self._sacked_above_lost
        else:
            pipe = max(nxt - lost, 0) - self._sacked_between(lost, nxt)
        if isinstance(retransmitted, int):
            ranges: Iterable[tuple[int, int]] = ((snd_una, retransmitted),)
        else:
            ranges = retransmitted
        for left, right in ranges:
            l = base + _diff(left, una_seq)
            r = l + _diff(right, left)
            if l < una:
                l = una
            if r > nxt:
                r = nxt
            if l < r:
                pipe += r - l - self._sacked_between(l, r)
        return pipe

    def next_seg(self, snd_una: int, snd_nxt: int, high_rxt: int) -> tuple[int, int] | None:
        """RFC 6675 4 NextSeg rule 1: the lowest lost, un-SACKed range at or above high_rxt
        (and so below the highest SACKed byte), at most one MSS long; None if there is none.

        Rules 2 to 4 (new data, un-SACKed data not yet lost, the rescue retransmission) need the
        send window and the recovery state, and are the connection's.
        """
        if self._una_seq is None or not self._lefts:
            return None
        una = max(self._abs(snd_una), self._una)
        start = self._abs(high_rxt)
        if start < una:
            start = una
        if start >= self._lost:
            return None
        lefts, rights = self._lefts, self._rights
        i = bisect_right(lefts, start) - 1
        if i >= 0 and start < rights[i]:
            start = rights[i]  # inside a SACKed interval: the hole begins at its end
        if start >= self._lost:
            return None
        # start is in a hole below the boundary, which is an interval's left edge, so the
        # interval after the hole exists.
        hole_end = lefts[i + 1]
        end = start + self.mss
        if end > hole_end:
            end = hole_end
        return self._seq(start), self._seq(end)
