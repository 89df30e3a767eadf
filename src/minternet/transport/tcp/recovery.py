"""Loss recovery behind one interface, three ways: RACK-TLP (RFC 8985, rack.py; Linux's default
with SACK), SACK-based with DupThresh (RFC 6675), both paced by Proportional Rate Reduction
(RFC 6937), and NewReno (RFC 5681 3.2, RFC 6582) for a peer without SACK.

The sender counts duplicate ACKs and asks its recovery what they mean; the recovery decides when
fast retransmit starts, what goes out while it lasts, and how cwnd moves until a full ACK ends it.
The congestion control algorithm (congestion.py) only hears on_loss / on_recovery_exit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from ...wire.tcp import Sack, TCPFlags
from .scoreboard import Scoreboard
from .seq import seq_add, seq_diff, seq_gt, seq_le

if TYPE_CHECKING:
    from ...wire.tcp import TCP
    from .sender import Sender

ACK = int(TCPFlags.ACK)
DUPTHRESH = 3  # RFC 5681 3.2


class LossRecovery(ABC):
    """The recovery state of one sender: RFC 6582's ``recover``, RFC 6675's ``HighRxt``, the
    duplicate-ACK count, and whether fast recovery is on."""

    rack = False  # RACK-TLP (rack.py) drives the sender through its own hooks

    def __init__(self, snd: "Sender", iss: int) -> None:
        self.snd = snd
        self.in_recovery = False
        self.dupacks = 0
        self.recover = iss  # NewReno's recovery point (RFC 6582)
        self.high_rxt = iss  # RFC 6675 HighRxt (exclusive: after the last retransmitted byte)

    def set_mss(self, mss: int) -> None:
        """The sender's MSS went down (path MTU): resize what counts in segments."""

    @abstractmethod
    def on_ack(self, seg: "TCP", ack: int, una: int, nxt: int) -> bool:
        """Every acceptable ACK, before the sender acts on it: take its SACK information.
        Returns whether it carried SACK blocks for outstanding data."""

    @abstractmethod
    def lost(self, snd_una: int) -> bool:
        """Outside recovery, after a duplicate ACK: is the first unacknowledged segment lost?"""

    def on_dupack_in_recovery(self) -> None:
        """A duplicate ACK while recovering."""

    def on_partial_ack(self, ack: int, acked: int) -> None:
        """New data acknowledged, short of ``recover``, while recovering."""

    def usable(self, window: int, flight: int) -> int:
        """In recovery: how much the output loop may send now."""
        return window - flight

    def retransmit(self) -> bool:
        """In recovery, first thing in each round of the output loop: retransmit a lost segment
        if one is due. False: nothing to retransmit, send new data."""
        return False

    def sent(self, n: int) -> None:
        """n bytes of data went out during recovery."""

    def enter(self) -> None:
        """Fast retransmit (RFC 5681 3.2, RFC 6675 5 step 4): recovery starts; the sender
        retransmits snd_una right after."""
        snd = self.snd
        self.in_recovery = True
        self.recover = snd.snd_max

    def after_fast_retransmit(self) -> None:
        """The first retransmission of this recovery is out."""

    def exit(self) -> None:
        """A full ACK (at or beyond ``recover``) ended recovery."""
        self.in_recovery = False
        self.dupacks = 0

    def on_timeout(self, snd_una: int, snd_max: int) -> None:
        """The retransmission timer expired, or the path MTU went down: the sender goes back to
        snd_una. RFC 6582 4.1: duplicates for data sent before this do not start a recovery."""
        self.in_recovery = False
        self.dupacks = 0
        self.recover = snd_max
        self.high_rxt = snd_una


class NewRenoRecovery(LossRecovery):
    """RFC 6582: three duplicate ACKs start fast retransmit; cwnd is inflated by one MSS per
    duplicate, each partial ACK retransmits the next hole and deflates."""

    def on_ack(self, seg: "TCP", ack: int, una: int, nxt: int) -> bool:
        return False

    def lost(self, snd_una: int) -> bool:
        return self.dupacks >= DUPTHRESH

    def on_dupack_in_recovery(self) -> None:
        # RFC 5681 3.2 step 4: inflate for the segment that left. No more segments can have left
        # than were sent before the loss, less the lost one (Linux's tcp_limit_reno_sacked), so
        # a flood of duplicates does not inflate cwnd without bound.
        snd = self.snd
        if self.dupacks < -(-seq_diff(self.recover, snd.snd_una) // snd.mss):
            snd.cc.cwnd += snd.mss

    def on_partial_ack(self, ack: int, acked: int) -> None:
        # RFC 6582 3.2 step 5: retransmit the first unacknowledged segment, deflate by what left.
        # The duplicates counted for the segments now acknowledged are spent, but for the hole
        # (Linux's tcp_remove_reno_sacks).
        snd = self.snd
        self.dupacks = max(0, self.dupacks - (-(-acked // snd.mss) - 1))
        data = snd.sendbuf.peek(ack, snd.payload_limit())
        if data:
            snd.transmit(ack, ACK, data)
        cc = snd.cc
        cc.cwnd = max(cc.cwnd - acked + snd.mss, snd.mss)

    def after_fast_retransmit(self) -> None:
        snd = self.snd
        snd.cc.cwnd = snd.cc.ssthresh + 3 * snd.mss  # RFC 5681 3.2 step 3


class PRRRecovery(LossRecovery):
    """Proportional Rate Reduction (RFC 6937) for a recovery that knows its pipe."""

    def __init__(self, snd: "Sender", iss: int) -> None:
        super().__init__(snd, iss)
        self.recover_fs = 0  # RFC 6937 RecoverFS, prr_delivered, prr_out
        self.prr_delivered = 0
        self.prr_out = 0
        self.prr_budget = 0

    @abstractmethod
    def pipe(self) -> int:
        """The bytes thought to be in the network (RFC 6675 SetPipe)."""

    def _prr_on_delivered(self, delivered: int) -> None:
        """Proportional Rate Reduction (RFC 6937), as Linux does it: during recovery, send in
        proportion to what the receiver got, so that many losses at once do not turn into a
        burst that overflows the same queue again."""
        self.prr_delivered += delivered
        pipe = self.pipe()
        ssthresh = self.snd.cc.ssthresh
        if pipe > ssthresh:
            sndcnt = -(-self.prr_delivered * ssthresh // max(self.recover_fs, 1)) - self.prr_out
        else:  # PRR-SSRB: slow start back up to ssthresh
            limit = max(self.prr_delivered - self.prr_out, delivered) + self.snd.mss
            sndcnt = min(ssthresh - pipe, limit)
        self.prr_budget = max(sndcnt, 0)

    def usable(self, window: int, flight: int) -> int:
        return self.prr_budget

    def sent(self, n: int) -> None:
        self.prr_out += n
        self.prr_budget -= n


class SackRecovery(PRRRecovery):
    """RFC 6675 with PRR (RFC 6937), as Linux does it: the scoreboard says what is lost (IsLost)
    and what is in the network (pipe); PRR says how much may go per ACK."""

    def __init__(self, snd: "Sender", iss: int, mss: int) -> None:
        super().__init__(snd, iss)
        self.scoreboard = Scoreboard(mss)

    def set_mss(self, mss: int) -> None:
        self.scoreboard.mss = mss

    def on_ack(self, seg: "TCP", ack: int, una: int, nxt: int) -> bool:
        sack_blocks: list = []
        for o in seg.options:
            if type(o) is Sack:
                sack_blocks = [b for b in o.blocks if seq_gt(b[1], una) and seq_le(b[1], nxt)]
        if sack_blocks or seq_gt(ack, una):
            newly_sacked = self.scoreboard.update(ack if seq_gt(ack, una) else una, nxt, sack_blocks)
            if self.in_recovery:
                self._prr_on_delivered(newly_sacked + max(0, seq_diff(ack, una)))
        return bool(sack_blocks)

    def lost(self, snd_una: int) -> bool:
        return self.dupacks >= DUPTHRESH or self.scoreboard.is_lost(snd_una)

    def enter(self) -> None:
        super().enter()
        snd = self.snd
        self.recover_fs = snd.in_flight()
        self.prr_delivered = self.prr_out = 0
        self.prr_budget = snd.mss  # the fast retransmit itself

    def pipe(self) -> int:
        """RFC 6675 SetPipe."""
        snd = self.snd
        return self.scoreboard.pipe(snd.snd_una, snd.snd_max, self.high_rxt)

    def retransmit(self) -> bool:
        """RFC 6675 5 (C) paced by PRR: retransmit the next lost segment, else send new data."""
        if self.prr_budget <= 0:
            return False
        snd = self.snd
        hole = self.scoreboard.next_seg(snd.snd_una, snd.snd_max, self.high_rxt)
        if hole is None:
            return False  # no lost segment: the caller sends new data
        start, end = hole
        length = min(snd.payload_limit(), seq_diff(end, start))
        data = snd.sendbuf.peek(start, length)
        if not data:
            return False
        self.high_rxt = seq_add(start, len(data))
        snd.transmit(start, ACK, data)
        return True
