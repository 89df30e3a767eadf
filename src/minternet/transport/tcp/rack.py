"""RACK-TLP loss detection (RFC 8985) with F-RTO (RFC 5682) and undo, as Linux does them
(net/ipv4/tcp_recovery.c tcp_rack_*, tcp_output.c tcp_schedule_loss_probe/tcp_send_loss_probe,
tcp_input.c tcp_process_loss/tcp_try_undo_*); Linux's default with SACK (net.ipv4.tcp_recovery=1,
net.ipv4.tcp_frto=2).

RACK says a segment is lost when a segment sent *later* has been delivered and more than
RACK.rtt + reo_wnd has passed since the lost one was sent: time, not a count of duplicate ACKs,
so a lost retransmission or a loss at the tail is found like any other. The reordering window is
min_rtt/4 (0 while no reordering was seen and three segments are SACKed or we are recovering),
widened a step per round trip in which a D-SACK says we retransmitted needlessly, up to SRTT.
A Tail Loss Probe, 2*SRTT after the last transmission, sends one segment (new data, or the last
one again) so that a loss at the tail brings SACKs instead of waiting for the RTO.

The send log: one record per segment sent (start, end, transmit time, flags), in sequence order,
on an unwrapped line (position = bytes since the ISS, so wrap-around is one subtraction). A
retransmission restamps its record; SACKs flag records; the cumulative ACK pops them from the
front. RACK's scan walks from the front and stops at the first never-retransmitted record sent
after RACK.xmit_ts (everything above it in sequence was first sent later still), so with no loss
an ACK costs a pop and one comparison.

The pipe is RFC 6675's, kept as counters: outstanding - SACKed - lost + retransmitted
(Linux's tcp_packets_in_flight, in bytes).
"""

from __future__ import annotations

from bisect import bisect_right
from operator import attrgetter
from typing import TYPE_CHECKING

from ...runtime import NS_PER_MS
from ...wire.tcp import Sack, TCPFlags
from .recovery import DUPTHRESH, PRRRecovery
from .seq import HALF, SEQ_MASK, SEQ_MOD, seq_add, seq_diff, seq_ge, seq_gt, seq_le, seq_lt

if TYPE_CHECKING:
    from ...wire.tcp import TCP, Timestamps
    from .sender import Sender

ACK, FIN, PSH = int(TCPFlags.ACK), int(TCPFlags.FIN), int(TCPFlags.PSH)
# Record flags (Linux's TCPCB_EVER_RETRANS, TCPCB_SACKED_RETRANS, TCPCB_LOST, TCPCB_SACKED_ACKED)
RETRANS, RTX_OUT, LOST, SACKED = 1, 2, 4, 8
# Linux's icsk_ca_state, the ones we have: Open, Recovery (fast recovery), Loss (after an RTO)
OPEN, RECOVERY, LOSS = 0, 1, 2
REO_WND_STEPS_MAX = 255
RECOVERY_THRESH = 16  # TCP_RACK_RECOVERY_THRESH: recoveries a widened reo_wnd persists for
TIMEOUT_MIN = 2 * NS_PER_MS  # TCP_TIMEOUT_MIN, 2 jiffies at HZ=1000: slack on RACK's timer
WC_DEL_ACK = 200 * NS_PER_MS  # RFC 8985 7.2 WCDelAckT (Linux: TCP_RTO_MIN) for a lone segment
PTO_NO_RTT = 1000 * NS_PER_MS  # TCP_TIMEOUT_INIT: the probe timeout before any RTT sample
REO_TIMER = 2  # sender.REO
_start = attrgetter("start")


class Sent:
    """One segment in flight: [start, end) on the unwrapped line, when it was (re)sent, flags."""

    __slots__ = ("start", "end", "xmit", "flags")

    def __init__(self, start: int, end: int, xmit: int, flags: int) -> None:
        self.start = start
        self.end = end
        self.xmit = xmit
        self.flags = flags

    def __repr__(self) -> str:
        return f"<Sent {self.start}-{self.end} t={self.xmit} flags={self.flags}>"


class RackRecovery(PRRRecovery):
    """RACK-TLP loss detection, PRR during fast recovery, F-RTO after a timeout, and undo."""

    rack = True

    def __init__(self, snd: "Sender", iss: int, mss: int) -> None:
        super().__init__(snd, iss)
        self.mss = mss
        self.segs: list[Sent] = []
        self.una_seq = iss  # snd_una as of the last ACK, and its position
        self.una_pos = 0
        self.sacked_bytes = 0
        self.lost_bytes = 0  # marked lost (Linux's lost_out), retransmitted since or not
        self.rtx_out = 0  # retransmitted, not yet (S)ACKed nor lost again (retrans_out)
        self.to_resend = 0  # marked lost and not retransmitted since
        self.fack = 0  # position after the highest SACKed byte
        self.state = OPEN
        # RACK (RFC 8985 6.1): the most recently sent segment that was delivered.
        self.rack_xmit = -1
        self.rack_end = 0
        self.rack_rtt = 0
        self.rack_advanced = False
        self.reord_seen = False
        self.reo_wnd_steps = 1
        self.reo_wnd_persist = 0
        self.dsack_round = 0  # a D-SACK widens reo_wnd at most once per round trip
        self.total_retrans = 0  # segments retransmitted, ever, and segments D-SACKed (Linux's
        self.dsack_dups = 0  # total_retrans, dsack_dups): more D-SACKed than resent is dubious
        # TLP (RFC 8985 7)
        self.tlp_high_seq: int | None = None
        self.tlp_retrans = False
        # Undo (Linux's undo_marker, undo_retrans, prior_cwnd, prior_ssthresh, retrans_stamp)
        self.undo_marker: int | None = None
        self.undo_retrans = -1
        self.prior_cwnd = 0
        self.prior_ssthresh = 0
        self.retrans_ts: int | None = None  # our TSval at the first retransmission of the episode
        self.frto = False
        self.frto_new = False  # F-RTO step 2b: the last ACK sends new data, not retransmissions
        # What the last ACK said (Linux's FLAG_* and the RTT samples of tcp_clean_rtx_queue)
        self.seq_rtt = -1
        self.delivered = 0
        self.newly_sacked = False
        self.orig_acked = False
        self.dsack = False
        self.dsack_tlp = False
        self._sack_cache: dict[int, int] = {}

    # ------------------------------------------------------------------ positions ----------------
    def _pos(self, seq: int) -> int:
        d = (seq - self.una_seq) & SEQ_MASK
        return self.una_pos + (d - SEQ_MOD if d > HALF else d)

    def _seq(self, pos: int) -> int:
        return (self.una_seq + pos - self.una_pos) & SEQ_MASK

    def set_mss(self, mss: int) -> None:
        self.mss = mss

    def _split(self, i: int, at: int) -> None:
        r = self.segs[i]
        self.segs.insert(i + 1, Sent(at, r.end, r.xmit, r.flags))
        r.end = at

    # ------------------------------------------------------------------ transmissions ------------
    def on_send(self, seq: int, end_seq: int, now: int) -> None:
        """The sender put [seq, end_seq) on the wire (data and/or FIN)."""
        segs = self.segs
        s = self._pos(seq)
        e = s + ((end_seq - seq) & SEQ_MASK)
        if not segs or s >= segs[-1].end:
            segs.append(Sent(s, e, now, 0))
            return
        # A retransmission: restamp the records it covers (split at its edges).
        i = bisect_right(segs, s, key=_start) - 1
        if i < 0:
            i = 0
        count = 0
        while i < len(segs):
            r = segs[i]
            if r.start >= e:
                break
            if r.end <= s:
                i += 1
                continue
            if r.start < s:
                self._split(i, s)
                i += 1
                continue
            if r.end > e:
                self._split(i, e)
            f = r.flags
            if not f & SACKED:
                if not f & RTX_OUT:
                    ln = r.end - r.start
                    self.rtx_out += ln
                    if f & LOST:
                        self.to_resend -= ln
                r.flags = f | RETRANS | RTX_OUT
                r.xmit = now
                count += 1
            i += 1
        if count:
            if self.undo_retrans < 0:
                self.undo_retrans = 0
            self.undo_retrans += count
            self.total_retrans += count
            if self.retrans_ts is None:
                self.retrans_ts = self.snd.conn.ts_now

    # ------------------------------------------------------------------ ACKs ----------------------
    def on_ack(self, seg: "TCP", ack: int, una: int, nxt: int) -> bool:
        """Take an ACK into the log: the cumulative part, SACK blocks, D-SACK (RFC 2883); RACK
        advances; the RTT sample Linux would take (tcp_clean_rtx_queue). Before the sender moves
        snd_una."""
        self.seq_rtt = -1
        self.delivered = 0
        self.newly_sacked = self.orig_acked = self.dsack = self.dsack_tlp = False
        blocks = None
        for o in seg.options:
            if type(o) is Sack:
                blocks = o.blocks
        now = self.snd.clock.now
        prior_fack = self.fack
        first_ackt = -1
        retrans_acked = False
        if blocks:
            # A D-SACK (RFC 2883 4) first, while the log still holds what this ACK acknowledges
            # (Linux's tcp_check_dsack runs before tcp_clean_rtx_queue).
            first = blocks[0]
            if seq_le(first[1], ack) or (len(blocks) > 1 and seq_le(blocks[1][0], first[0])
                                         and seq_le(first[1], blocks[1][1])):
                self._on_dsack(first, una)
        if ack != una and seq_gt(ack, una):
            apos = self._pos(ack)
            segs = self.segs
            k = 0
            n = len(segs)
            high = self.recover
            while k < n:
                r = segs[k]
                if r.start >= apos:
                    break
                f = r.flags
                if r.end > apos:  # partly acknowledged (a TSO super-segment, or a resized one)
                    ln = apos - r.start
                    r.start = apos
                    full = False
                else:
                    ln = r.end - r.start
                    full = True
                if f & SACKED:
                    self.sacked_bytes -= ln
                else:
                    self.delivered += ln
                    if f & LOST:
                        self.lost_bytes -= ln
                        if not f & RTX_OUT:
                            self.to_resend -= ln
                    if f & RTX_OUT:
                        self.rtx_out -= ln
                    if f & RETRANS:
                        retrans_acked = True
                    else:
                        if first_ackt < 0:
                            first_ackt = r.xmit
                        if r.start < prior_fack:
                            self.reord_seen = True  # delivered late, below a SACKed segment
                        if self.state == LOSS and seq_le(self._seq(r.end), high):
                            self.orig_acked = True
                    self._advance(r, now)
                if not full:
                    break
                k += 1
            if k:
                del segs[:k]
            self.una_seq, self.una_pos = ack, apos
            if self.fack < apos:
                self.fack = apos
            if first_ackt >= 0 and not retrans_acked:
                self.seq_rtt = now - first_ackt
        has_sack = False
        if blocks:
            cache: dict[int, int] = {}
            sack_rtt = -1
            for left, right in blocks:
                if not (seq_gt(right, ack) and seq_lt(left, right) and seq_le(right, nxt)):
                    continue
                has_sack = True
                cache[left] = right
                cached = self._sack_cache.get(left)
                if cached is not None and seq_le(right, cached):
                    continue  # the usual repeat of what the last ACK said
                lpos = self._pos(left)
                t = self._sack(lpos, self._pos(cached) if cached is not None else lpos,
                               self._pos(right), now, prior_fack)
                if t >= 0 and (sack_rtt < 0 or t < sack_rtt):
                    sack_rtt = t
            self._sack_cache = cache
            if self.seq_rtt < 0 and sack_rtt >= 0 and not retrans_acked:
                self.seq_rtt = sack_rtt
        elif self._sack_cache:
            self._sack_cache = {}
        return has_sack

    def _sack(self, l: int, frm: int, r: int, now: int, prior_fack: int) -> int:
        """Mark the block [l, r) SACKed, walking from frm (what an earlier ACK said of the same
        block is done); returns the RTT of the oldest never-retransmitted segment newly SACKed
        (Linux's sack_rtt), or -1. As Linux's tcp_match_skb_to_sack, a block takes whole
        segments: a record partly covered is split only at a multiple of the MSS from its start,
        and a cover shorter than that is not taken -- so SACK blocks cut at odd bytes cannot
        split the log into more records than segments sent."""
        segs = self.segs
        if frm < self.una_pos:
            frm = self.una_pos
        i = bisect_right(segs, frm, key=_start) - 1
        if i < 0:
            i = 0
        mss = self.mss
        rtt = -1
        while i < len(segs):
            rec = segs[i]
            start = rec.start
            if start >= r:
                break
            if rec.end <= frm or rec.flags & SACKED:
                i += 1
                continue
            if start < l:
                at = start - (start - l) // mss * mss  # l rounded up to the record's MSS
                if at < rec.end and at < r:
                    self._split(i, at)
                i += 1
                continue
            if rec.end > r:
                at = start + (r - start) // mss * mss  # r rounded down
                if at == start:
                    break  # less than a segment of it: not taken
                self._split(i, at)
            f = rec.flags
            ln = rec.end - rec.start
            self.sacked_bytes += ln
            self.delivered += ln
            self.newly_sacked = True
            if f & LOST:
                self.lost_bytes -= ln
                if not f & RTX_OUT:
                    self.to_resend -= ln
            if f & RTX_OUT:
                self.rtx_out -= ln
            if not f & RETRANS:
                if rtt < 0:
                    rtt = now - rec.xmit
                if rec.start < prior_fack:
                    self.reord_seen = True  # Linux's tcp_check_sack_reordering
                if self.state == LOSS and seq_le(self._seq(rec.end), self.recover):
                    self.orig_acked = True
            rec.flags = (f & ~(LOST | RTX_OUT)) | SACKED
            self._advance(rec, now)
            if rec.end > self.fack:
                self.fack = rec.end
            i += 1
        return rtt

    def _advance(self, r: Sent, now: int) -> None:
        """RFC 8985 6.2 step 2 (Linux's tcp_rack_advance): the most recently sent delivered
        segment. A retransmission delivered sooner than min_rtt after it was sent must be the
        original's ACK (ambiguous), and is not taken."""
        x = r.xmit
        if x < self.rack_xmit or (x == self.rack_xmit and r.end <= self.rack_end):
            return
        rtt = now - x
        if r.flags & RETRANS:
            min_rtt = self.snd.rtt.min_rtt
            if min_rtt is not None and rtt < min_rtt:
                return
        self.rack_rtt = rtt
        self.rack_xmit = x
        self.rack_end = r.end
        self.rack_advanced = True

    def _on_dsack(self, block: tuple[int, int], una: int) -> None:
        """A D-SACK (RFC 2883): something arrived twice -- a retransmission we need not have
        sent, or a copy the network made. Only a retransmission counts towards undo (Linux's
        tcp_sacktag_one with TCPCB_RETRANS); a D-SACK longer than the peer's largest window,
        or one that would make more segments D-SACKed than we ever retransmitted, is dubious
        and ignored (tcp_dsack_seen), so a receiver cannot undo a real recovery with one."""
        stats = self.snd.obs.stats
        stats["tcp.dsacks_received"] += 1
        left, right = block
        ln = seq_diff(right, left)
        if ln <= 0 or ln > self.snd.max_snd_wnd:
            stats["tcp.dsacks_dubious"] += 1  # LINUX_MIB_TCPDSACKIGNOREDDUBIOUS
            return
        dups = -(-ln // self.mss)
        self.dsack_dups += dups
        if self.dsack_dups > self.total_retrans:
            stats["tcp.dsacks_dubious"] += 1
            return
        self.dsack = True
        if self.undo_marker is not None and self.undo_retrans > 0 and seq_gt(right, self.undo_marker):
            if seq_le(right, una):
                # Below snd_una, its records are gone: count segments (tcp_check_dsack's "dumb
                # counting"), which the check above bounds by what we retransmitted.
                self.undo_retrans = max(0, self.undo_retrans - dups)
            else:
                segs = self.segs
                lo, hi = self._pos(left), self._pos(right)
                marker = self._pos(self.undo_marker)
                i = bisect_right(segs, lo, key=_start) - 1
                if i < 0:
                    i = 0
                n = 0
                while i < len(segs):
                    r = segs[i]
                    if r.start >= hi:
                        break
                    if r.end > lo and r.end > marker and r.flags & RETRANS:
                        n += 1
                    i += 1
                if n:
                    self.undo_retrans = max(0, self.undo_retrans - n)
        if self.tlp_retrans and self.tlp_high_seq is not None and seq_le(right, self.tlp_high_seq):
            self.dsack_tlp = True
        # RFC 8985 6.2 step 4 / Linux's tcp_rack_update_reo_wnd: widen the window a step, at most
        # once per round trip.
        if self.una_pos >= self.dsack_round:
            self.reo_wnd_steps = min(self.reo_wnd_steps + 1, REO_WND_STEPS_MAX)
            self.reo_wnd_persist = RECOVERY_THRESH
            self.dsack_round = self._pos(self.snd.snd_max)

    def after_ack(self, acked: int, dupack: bool, ts: "Timestamps | None") -> bool:
        """Linux's tcp_ack after tcp_clean_rtx_queue: TLP's verdict, the state machine
        (tcp_fastretrans_alert: F-RTO, RACK marking, entering and leaving recovery), then cwnd
        (PRR in recovery, the algorithm otherwise). The sender has moved snd_una. Returns whether
        RACK armed its reordering timer."""
        snd = self.snd
        cc = snd.cc
        now = snd.clock.now
        una = snd.snd_una
        advanced = acked > 0
        if self.tlp_high_seq is not None:
            self._tlp_ack(una, advanced, dupack)
        state = self.state
        if state != OPEN and self.undo_marker is not None and self.undo_retrans == 0:
            self._undo("dsack")  # every retransmission was D-SACKed: tcp_try_undo_dsack
            state = self.state
        if state == LOSS:
            self._process_loss(advanced, dupack, ts)
            state = self.state
        if not self.sacked_bytes and self.segs and state != LOSS:
            # No SACK information although SACK was negotiated (a receiver that keeps nothing out
            # of order, --reassembly discard): RACK cannot see the hole, so the RFC 5681/6582
            # rules do -- three duplicates, then each partial ACK, mean the head is lost.
            head = self.segs[0]
            if not head.flags & (LOST | SACKED) and (
                    (dupack and state == OPEN and self.dupacks >= DUPTHRESH) or
                    (advanced and state == RECOVERY and seq_lt(una, self.recover))):
                self._mark_lost(head)
        if advanced:
            self.dupacks = 0
        reo = False
        if self.rack_advanced:
            self.rack_advanced = False
            # Nothing SACKed nor retransmitted: everything still out was first sent after what
            # was just acknowledged, so nothing can be lost yet (the lossless fast path).
            timeout = self.detect_loss(now) if self.sacked_bytes or self.rtx_out or state else 0
            if timeout:
                snd.arm_reo(timeout + TIMEOUT_MIN)
                reo = True
        if state == OPEN:
            if self.to_resend > 0:
                self._enter_recovery(self.delivered)
            elif advanced:
                cc.on_ack(acked, now, snd.rtt.srtt, snd.in_flight())
        elif state == RECOVERY:
            if seq_ge(una, self.recover):
                self._exit_recovery(ts)  # cwnd = ssthresh; growth resumes on the next ACK
            else:
                self._prr_on_delivered(self.delivered)
        elif advanced:  # LOSS: slow start from the loss window
            cc.on_ack(acked, now, snd.rtt.srtt, snd.in_flight())
        return reo

    # ------------------------------------------------------------------ RACK ----------------------
    def reo_wnd(self) -> int:
        """RFC 8985 6.2 step 4, as Linux's tcp_rack_reo_wnd."""
        if not self.reord_seen:
            if self.state != OPEN:
                return 0
            if self.sacked_bytes >= DUPTHRESH * self.mss:
                return 0  # RACK with DupThresh: three segments SACKed and no reordering ever seen
        rtt = self.snd.rtt
        min_rtt = rtt.min_rtt or 0
        wnd = (min_rtt >> 2) * self.reo_wnd_steps
        srtt = rtt.srtt or 0
        return wnd if wnd < srtt else srtt

    def detect_loss(self, now: int) -> int:
        """RFC 8985 6.2 step 5 (Linux's tcp_rack_detect_loss): mark lost every segment sent
        before RACK.xmit_ts that is older than RACK.rtt + reo_wnd; returns how long until the
        next one would be (0: none waits)."""
        rack_x, rack_e = self.rack_xmit, self.rack_end
        if rack_x < 0:
            return 0
        thresh = self.rack_rtt + self.reo_wnd()
        timeout = 0
        for r in self.segs:
            f = r.flags
            if f & SACKED or f & (LOST | RTX_OUT) == LOST:
                continue  # delivered, or lost and not yet retransmitted
            x = r.xmit
            if x > rack_x or (x == rack_x and r.end >= rack_e):
                if f & RETRANS:
                    continue
                break  # everything after it was first sent later still
            remaining = x + thresh - now
            if remaining <= 0:
                self._mark_lost(r)
            elif remaining > timeout:
                timeout = remaining
        return timeout

    def _mark_lost(self, r: Sent) -> None:
        """Linux's tcp_mark_skb_lost: lost (again, if it was a retransmission), to be resent."""
        f = r.flags
        ln = r.end - r.start
        if f & RTX_OUT:
            self.rtx_out -= ln
            if f & LOST:
                self.snd.obs.stats["tcp.lost_retransmits"] += 1
        if not f & LOST:
            self.lost_bytes += ln
        self.to_resend += ln
        r.flags = (f & ~RTX_OUT) | LOST

    def on_reo_timeout(self) -> None:
        """RACK's reordering timer (Linux's tcp_rack_reo_timeout): mark what has waited long
        enough, recover, and retransmit."""
        snd = self.snd
        lost = self.to_resend
        timeout = self.detect_loss(snd.clock.now)
        if self.to_resend > lost and self.state == OPEN:
            self._enter_recovery(snd.mss)
        if timeout:
            snd.arm_reo(timeout + TIMEOUT_MIN)
        else:
            snd.arm_rto_from_head()
        snd.output()

    def pipe(self) -> int:
        snd = self.snd
        p = seq_diff(snd.snd_max, snd.snd_una) - self.sacked_bytes - self.lost_bytes + self.rtx_out
        return p if p > 0 else 0

    # ------------------------------------------------------------------ recovery ------------------
    def lost(self, snd_una: int) -> bool:
        return self.to_resend > 0

    def _init_undo(self) -> None:
        """Linux's tcp_init_undo: what to restore if the reduction proves spurious."""
        cc = self.snd.cc
        self.undo_marker = self.snd.snd_una
        self.undo_retrans = -1
        self.retrans_ts = None
        self.prior_cwnd = cc.cwnd
        # tcp_current_ssthresh: outside recovery, at least 3/4 of cwnd
        self.prior_ssthresh = max(cc.ssthresh, (cc.cwnd >> 1) + (cc.cwnd >> 2))

    def _enter_recovery(self, delivered: int) -> None:
        """Fast recovery (Linux's tcp_enter_recovery): RACK found a loss."""
        snd = self.snd
        snd.stats["fast_retransmits"] += 1
        snd.obs.stats["tcp.fast_retransmits"] += 1
        self._init_undo()
        self.recover_fs = snd.in_flight()
        snd.cc.on_loss(self.recover_fs, snd.clock.now)
        snd.trace_cc("fast-retransmit")
        self.state = RECOVERY
        self.in_recovery = True
        self.recover = snd.snd_max
        self.tlp_high_seq = None
        self.prr_delivered = self.prr_out = 0
        self._prr_on_delivered(delivered)
        if self.prr_budget < snd.mss:
            self.prr_budget = snd.mss  # Linux forces the fast retransmit out (tcp_cwnd_reduction)

    def _exit_recovery(self, ts: "Timestamps | None") -> None:
        snd = self.snd
        if self._may_undo(ts):
            self._undo("recovery")
        else:
            self._to_open()
            snd.cc.on_recovery_exit(snd.clock.now)
            snd.trace_cc("recovered")
        if self.reo_wnd_persist:
            self.reo_wnd_persist -= 1
        elif not self.dsack:
            self.reo_wnd_steps = 1

    def _to_open(self) -> None:
        self.state = OPEN
        self.in_recovery = False
        self.undo_marker = None
        self.retrans_ts = None
        self.frto = self.frto_new = False
        self.dupacks = 0

    def _may_undo(self, ts: "Timestamps | None") -> bool:
        """Linux's tcp_may_undo: every retransmission was D-SACKed, or (Eifel, RFC 3522) the ACK
        echoes a timestamp older than our first retransmission: the original got there."""
        if self.undo_marker is None:
            return False
        if self.undo_retrans == 0:
            return True
        rts = self.retrans_ts
        return rts is not None and ts is not None and ts.tsecr != 0 and seq_lt(ts.tsecr, rts)

    def _undo(self, why: str) -> None:
        """Linux's tcp_undo_cwnd_reduction: the reduction was a mistake; restore cwnd and
        ssthresh, forget the loss marks (RACK finds any real loss again)."""
        snd = self.snd
        snd.cc.undo(self.prior_cwnd, self.prior_ssthresh)
        for r in self.segs:
            if r.flags & LOST:
                r.flags &= ~LOST
        self.lost_bytes = self.to_resend = 0
        snd.obs.stats["tcp.undos"] += 1
        if self.state == LOSS:
            snd.retransmits = 0
        self._to_open()
        snd.trace_cc("undo-" + why)

    # ------------------------------------------------------------------ timeouts ------------------
    def reneged(self) -> bool:
        """Whether the head of the log is marked SACKed: the cumulative ACK stopped at data the
        receiver had SACKed, so it has reneged (Linux's FLAG_SACK_RENEGING)."""
        segs = self.segs
        return bool(segs) and bool(segs[0].flags & SACKED)

    def enter_loss(self, mtu: bool = False) -> bool:
        """The RTO fired (Linux's tcp_enter_loss with tcp_timeout_mark_lost): mark the head and
        every segment RACK's clock says has expired lost -- SACKed data is kept, not resent -- and
        go to Loss; F-RTO decides on the next ACKs whether the timeout was spurious. With mtu, the
        path MTU fell (tcp_simple_retransmit): everything outstanding is lost, cwnd stays.
        Returns whether the timeout should lower ssthresh (not twice in one episode)."""
        snd = self.snd
        snd_una, snd_max = snd.snd_una, snd.snd_max
        new_recovery = self.state == OPEN
        segs = self.segs
        reneg = False
        if segs and segs[0].flags & SACKED:
            # The receiver dropped data it had SACKed (RFC 2018 8 reneging): forget the SACKs.
            snd.obs.stats["tcp.sack_reneging"] += 1
            for r in segs:
                r.flags &= ~SACKED
            self.sacked_bytes = 0
            self._sack_cache = {}
            reneg = True
        now = snd.clock.now
        rack_rtt = self.rack_rtt
        for i, r in enumerate(segs):
            f = r.flags
            if f & SACKED or f & (LOST | RTX_OUT) == LOST:
                continue
            if i and not (reneg or mtu) and now - r.xmit < rack_rtt:
                continue  # recently sent: not lost yet (tcp_rack_skb_timeout)
            self._mark_lost(r)
        reduce = False
        if mtu:
            if self.state != LOSS:
                self.undo_marker = None
                self.recover = snd_max
        else:
            if self.state == OPEN or not seq_gt(self.recover, snd_una) or \
                    (self.state == LOSS and snd.retransmits <= 1):
                self._init_undo()
                reduce = True
            self.recover = snd_max
        self.state = LOSS
        self.in_recovery = True
        self.high_rxt = snd_una
        self.dupacks = 0
        self.tlp_high_seq = None
        self.frto_new = False
        # F-RTO (RFC 5682 3.1 step 1): unless a recovery was under way (other than timeouts of
        # this same snd_una, 3.2).
        self.frto = not mtu and snd.opt.frto and (new_recovery or snd.retransmits > 1)
        return reduce

    def _process_loss(self, advanced: bool, dupack: bool, ts: "Timestamps | None") -> None:
        """Linux's tcp_process_loss: in Loss, with F-RTO (RFC 5682 3.1, SACK-enhanced)."""
        snd = self.snd
        una = snd.snd_una
        recovered = seq_ge(una, self.recover)
        # Step 2.b holds for the one ACK that took it (Linux's *rexmit = REXMIT_NEW); from the
        # next ACK on, what is marked lost is retransmitted (REXMIT_LOST).
        self.frto_new = False
        if advanced and self._may_undo(ts):
            self._undo("loss")  # Eifel: the ACK is for the original transmission
            return
        if self.frto:
            if self.orig_acked:
                # 3.b: never-retransmitted data sent before the timeout arrived: not all was
                # lost, the timeout was spurious.
                snd.obs.stats["tcp.spurious_rtos"] += 1
                self._undo("frto")
                return
            if seq_gt(snd.snd_max, self.recover):
                if self.newly_sacked or dupack:
                    self.frto = False  # 3.a: the loss was real
            elif advanced and not recovered:
                self.recover = snd.snd_max
                # 2.b: send new data (the window permitting) instead of retransmitting.
                if seq_gt(snd.sendbuf.end, snd.snd_max) and \
                        snd.snd_wnd > seq_diff(snd.snd_max, una):
                    self.frto_new = True
                    return
                self.frto = False
        if recovered:
            self._to_open()  # tcp_try_undo_recovery with nothing to undo: cwnd stays

    # ------------------------------------------------------------------ output --------------------
    def usable(self, window: int, flight: int) -> int:
        if self.state == RECOVERY:
            return self.prr_budget
        return window - self.pipe()  # Loss: cwnd against the pipe, as Linux's tcp_cwnd_test

    def retransmit(self) -> bool:
        """Retransmit the first segment marked lost, if the window allows (PRR in recovery,
        cwnd in Loss); False: nothing due, send new data."""
        if self.to_resend <= 0 or self.frto_new:
            return False
        snd = self.snd
        if self.state == RECOVERY:
            if self.prr_budget <= 0:
                return False
        elif min(snd.cc.cwnd, snd.snd_wnd) - self.pipe() <= 0:
            return False
        for r in self.segs:
            if r.flags & (LOST | RTX_OUT | SACKED) == LOST:
                break
        else:
            return False
        return self._resend(r, snd.payload_limit())

    def _resend(self, r: Sent, limit: int) -> bool:
        snd = self.snd
        start = self._seq(r.start)
        length = r.end - r.start
        fin_seq = snd.fin_seq
        flags = ACK
        if fin_seq is not None and self._pos(fin_seq) < r.end:
            length -= 1
            flags |= FIN
        if length > limit:
            length = limit
            flags = ACK
        data = snd.sendbuf.peek(start, length) if length > 0 else b""
        if len(data) < length:
            return False
        if not data and not flags & FIN:
            return False
        head = r is self.segs[0]
        snd.transmit(start, flags, data)
        if head and snd.timer_kind != REO_TIMER:
            snd.arm_rto_from_now()  # tcp_xmit_retransmit_queue: the head went again
        return True

    # ------------------------------------------------------------------ TLP -----------------------
    def probe_timeout(self, advancing: bool) -> int | None:
        """Linux's tcp_schedule_loss_probe: the PTO (RFC 8985 7.2), or None when no probe is due
        (not Open, nothing in flight)."""
        snd = self.snd
        if self.state != OPEN or snd.snd_una == snd.snd_max:
            return None
        srtt = snd.rtt.srtt
        if srtt is None:
            pto = PTO_NO_RTT
        elif seq_diff(snd.snd_max, snd.snd_una) <= snd.mss:
            pto = 2 * srtt + WC_DEL_ACK  # one segment out: its ACK may be a delayed one
        else:
            pto = 2 * srtt + TIMEOUT_MIN
        rto = snd.rtt.rto if advancing else self.rto_left()
        if 0 < rto < pto:
            pto = rto
        return pto

    def rto_left(self) -> int:
        """How long until the RTO for the oldest outstanding segment (Linux's tcp_rto_delta_us)."""
        snd = self.snd
        segs = self.segs
        head = segs[0].xmit if segs else snd.clock.now
        return head + snd.rtt.rto - snd.clock.now

    def send_probe(self) -> None:
        """The PTO fired (Linux's tcp_send_loss_probe): one segment of new data if the peer's
        window takes it, else the last segment again; then the RTO."""
        snd = self.snd
        if self.tlp_high_seq is not None or self.state != OPEN or snd.snd_una == snd.snd_max:
            snd.arm_rto_from_now()  # one probe per tail: the RTO is next
            return
        self.tlp_retrans = False
        sent = False
        available = seq_diff(snd.sendbuf.end, snd.snd_max)
        limit = snd.payload_limit()
        if available > 0 and snd.snd_wnd - seq_diff(snd.snd_max, snd.snd_una) >= min(available, limit):
            length = min(available, limit)
            nxt = snd.snd_max
            snd.transmit(nxt, ACK | (PSH if length == available else 0), snd.sendbuf.peek(nxt, length))
            sent = True
        elif self.segs:
            last = self.segs[-1]
            if last.flags & SACKED:
                snd.arm_rto_from_now()
                return
            if last.start > self.una_pos and last.start >= self._pos(snd.snd_una) + snd.snd_wnd:
                # Beyond the peer's window (it shrank): __tcp_retransmit_skb refuses it, and the
                # RTO, which resends the head into a closed window, comes next.
                snd.arm_rto_from_now()
                return
            fin_seq = snd.fin_seq
            room = limit + (1 if fin_seq is not None and self._pos(fin_seq) < last.end else 0)
            if last.end - last.start > room:  # send only the last MSS (and FIN) of a long record
                self._split(len(self.segs) - 1, last.end - room)
                last = self.segs[-1]
            self.tlp_retrans = self._resend(last, limit)
            sent = self.tlp_retrans
        if sent:
            self.tlp_high_seq = snd.snd_max
            snd.stats["loss_probes"] += 1
            snd.obs.stats["tcp.loss_probes"] += 1
        snd.arm_rto_from_now()

    def _tlp_ack(self, una: int, advanced: bool, dupack: bool) -> None:
        """Linux's tcp_process_tlp_ack (RFC 8985 7.4): did the probe repair a loss?"""
        high = self.tlp_high_seq
        if seq_lt(una, high):  # type: ignore[arg-type]
            return
        if not self.tlp_retrans or self.dsack_tlp:
            self.tlp_high_seq = None  # new data probed, or the D-SACK says both copies arrived
        elif seq_gt(una, high):  # type: ignore[arg-type]
            # The probe's retransmission was needed: one loss, repaired; reduce cwnd once
            # (CWR, Linux's tcp_init_cwnd_reduction + tcp_end_cwnd_reduction).
            snd = self.snd
            self.tlp_high_seq = None
            snd.cc.on_loss(snd.in_flight(), snd.clock.now)
            snd.cc.on_recovery_exit(snd.clock.now)
            snd.obs.stats["tcp.loss_probe_recoveries"] += 1
            snd.trace_cc("tlp-recovery")
        elif dupack and not self.newly_sacked:
            self.tlp_high_seq = None  # a pure duplicate: both copies arrived, no loss
