"""The send side of a TCP connection: the send sequence space (RFC 9293 3.3.1), the segment size,
Nagle, the retransmission timer's estimator, congestion control and loss recovery.

The connection owns the state machine and calls in here: :meth:`Sender.output` to send what the
windows allow, :meth:`Sender.on_ack` for an acceptable ACK, :meth:`Sender.on_timeout` when the
RTO fires. Everything sized by the MSS is lowered together by :meth:`Sender.set_mss`.

Speed: the fields here are plain attributes read by the connection too (``conn.snd.snd_una``),
and the sender calls the connection's segment builder through a bound method kept at creation;
a getter per field would cost a call per segment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...runtime import NS_PER_MS, NS_PER_S
from ...wire.tcp import TCPFlags
from .congestion import make_congestion_control
from .hystart import HyStart
from .rack import RackRecovery
from .recovery import LossRecovery, NewRenoRecovery, SackRecovery
from .rtt import RTTEstimator
from .sendbuffer import SendBuffer
from .seq import seq_add, seq_diff, seq_ge, seq_gt, seq_le, seq_lt
from .state import MAY_OUTPUT, SYNCHRONIZED, State

if TYPE_CHECKING:
    from ...runtime import Timer
    from ...wire.tcp import TCP, Timestamps
    from .connection import Options, TCPConnection
    from .receiver import Receiver

FIN, SYN, PSH, ACK = int(TCPFlags.FIN), int(TCPFlags.SYN), int(TCPFlags.PSH), int(TCPFlags.ACK)
DEFAULT_MSS = 536  # RFC 9293 3.7.1: what we may send until the peer says otherwise
TCP_RTO_MAX = 120 * NS_PER_S  # Linux's ceiling for a backed-off timer, the persist timer's too
TIMEOUT_FALLBACK = 3 * NS_PER_S  # RFC 6298 5.7, Linux's TCP_TIMEOUT_FALLBACK
# What the one retransmission timer is armed for (Linux's icsk_pending: ICSK_TIME_RETRANS,
# ICSK_TIME_LOSS_PROBE, ICSK_TIME_REO_TIMEOUT): one heap entry serves all three.
RTO, PTO, REO = 0, 1, 2
TSO_OPTION_ROOM = 80  # a super-segment leaves room for 40 bytes of IP and 40 of TCP options


def tso_send_size(mss: int, tso_max: int) -> int:
    """What one segment handed to the device may carry: the MSS, or as many whole MSS as fit
    when the device cuts super-segments (TCP segmentation offload)."""
    if tso_max:
        return max(mss, (tso_max - TSO_OPTION_ROOM) // mss * mss)
    return mss


class Sender:
    """Send sequence space, buffer, timers' estimator, congestion control and loss recovery of
    one connection."""

    def __init__(self, conn: "TCPConnection", rcv: "Receiver", options: "Options", iss: int,
                 rto_timer: "Timer", persist_timer: "Timer", tso_max: int) -> None:
        self.conn = conn
        self.rcv = rcv
        self.opt = options
        self.clock = conn.clock
        self.obs = conn.obs
        self.stats = conn.stats  # the connection's `ss -i` counters, shared
        self._send = conn._send  # the segment builder (it needs the receive side too)
        self.rto_timer = rto_timer
        self.persist_timer = persist_timer
        self.persist_backoff = 0
        self.iss = iss
        self.snd_una = iss
        self.snd_nxt = iss
        self.snd_max = iss  # the highest sequence number sent
        self.snd_sml = iss  # end of the last small segment sent (Minshall's Nagle)
        self.snd_wnd = 0
        self.max_snd_wnd = 0
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        self.snd_wscale = 0
        self.mss = DEFAULT_MSS  # what we may send (RFC 9293 3.7.1 default until the peer says)
        self.send_size = DEFAULT_MSS  # what one segment may carry: the MSS, or many with TSO
        self.tso_max = tso_max
        self.ts_ok = False  # negotiated; set with the MSS by negotiated()
        self.sack_ok = False
        self.sendbuf = SendBuffer(options.sndbuf, seq_add(iss, 1))
        self.fin_queued = False  # the application closed its sending side
        self.fin_seq: int | None = None  # the sequence number our FIN occupies, once sent
        self.rtt = RTTEstimator(initial_rto=options.initial_rto, min_rto=options.min_rto)
        self.cc = make_congestion_control(options.congestion, self.mss)
        self.hystart = HyStart() if options.hystart else None
        # Without the peer's SACK-permitted, NewReno; negotiated() may switch to SACK.
        self.recovery: LossRecovery = NewRenoRecovery(self, iss)
        self.rtt_seq: int | None = None  # Karn: the segment being timed (without timestamps)
        self.rtt_time = 0
        self.retransmits = 0  # consecutive timeouts
        self.timer_kind = RTO  # what rto_timer is armed for

    # ------------------------------------------------------------------ sizes ----------------------
    def negotiated(self, peer_mss: int, our_mss: int, ts_ok: bool, sack_ok: bool) -> None:
        """The SYNs are exchanged: the MSS we may send, and the recovery the peer allows."""
        self.ts_ok = ts_ok
        self.sack_ok = sack_ok
        # What we may send: the peer's MSS, less room for the timestamp option if both use it.
        self.mss = max(48, min(peer_mss, our_mss) - (12 if ts_ok else 0))  # tcp_min_snd_mss
        self.cc = make_congestion_control(self.opt.congestion, self.mss)
        self.send_size = tso_send_size(self.mss, self.tso_max)
        if sack_ok:
            # RACK-TLP by default, as Linux (net.ipv4.tcp_recovery=1); "rfc6675": DupThresh.
            if self.opt.recovery == "rack":
                self.recovery = RackRecovery(self, self.iss, self.mss)
            else:
                self.recovery = SackRecovery(self, self.iss, self.mss)

    def handshake_rtt(self, rtt: int | None) -> None:
        """The handshake is over: its RTT sample, or None when the SYN (or SYN+ACK) was
        retransmitted and nothing tells which copy was answered. Then the RTO is 3 s once data
        flows (RFC 6298 5.7; Linux's tcp_init_metrics sets TCP_TIMEOUT_FALLBACK on both sides)."""
        rtt_est = self.rtt
        if rtt is not None:
            rtt_est.sample(rtt, now=self.clock.now)
        else:
            rtt_est.rto = TIMEOUT_FALLBACK
            rtt_est.backoffs = 0
    def set_mss(self, mss: int) -> None:
        """Lower the MSS (path MTU discovery): the segment size, the TSO size, congestion
        control's and the scoreboard's segment, all at once."""
        self.mss = mss
        self.send_size = tso_send_size(mss, self.tso_max)
        self.cc.mss = mss
        self.recovery.set_mss(mss)

    def in_flight(self) -> int:
        return seq_diff(self.snd_nxt, self.snd_una)

    def payload_limit(self) -> int:
        """Data bytes a full segment may carry now: the MSS less the room our SACK blocks will
        take in the header (RFC 2018: the MSS does not count options; Linux's tcp_current_mss)."""
        reassembly = self.rcv.reassembly
        if self.sack_ok and reassembly is not None and reassembly.queued_bytes:
            blocks = len(reassembly.sack_blocks(limit=3 if self.ts_ok else 4))
            if blocks:
                return self.mss - 4 - 8 * blocks
        return self.mss

    # ------------------------------------------------------------------ output ---------------------
    def output(self, force_ack: bool = False) -> None:
        """Send what the windows allow: new data, retransmissions in recovery, our FIN."""
        recovery = self.recovery
        if not force_ack and self.snd_nxt == self.sendbuf.end and not recovery.in_recovery and \
                (not self.fin_queued or self.fin_seq is not None):
            return  # nothing to send: the common case on the receiving side
        conn = self.conn
        state = conn.state
        if state not in MAY_OUTPUT:
            if force_ack and state in SYNCHRONIZED:
                conn.send_ack()
            return
        if state is State.SYN_RECEIVED:
            return
        sent_any = False
        mss = self.payload_limit()
        send_size = self.send_size if self.send_size > self.mss else mss
        sendbuf = self.sendbuf
        while True:
            window = min(self.snd_wnd, self.cc.cwnd)
            in_recovery = recovery.in_recovery
            if in_recovery and recovery.retransmit():
                sent_any = True
                continue
            una, nxt = self.snd_una, self.snd_nxt
            end = sendbuf.end
            available = seq_diff(end, nxt)
            usable = recovery.usable(window, seq_diff(nxt, una)) if in_recovery else window - seq_diff(nxt, una)
            usable = min(usable, self.snd_wnd - seq_diff(nxt, una))
            length = min(send_size, available, max(0, usable))
            fin_ready = self.fin_queued and self.fin_seq is None
            if length > 0:
                if length < mss and seq_ge(nxt, self.snd_max) and not self._may_send_small(length, available, nxt):
                    break  # (a retransmission is never held back by Nagle)
                data = sendbuf.peek(nxt, length)
                is_last = seq_add(nxt, length) == end
                if length < mss:
                    self.snd_sml = seq_add(nxt, length)
                flags = ACK | (PSH if is_last else 0)
                if fin_ready and is_last and usable > length:
                    flags |= FIN
                self.transmit(nxt, flags, data)
                sent_any = True
                continue
            # A FIN takes a sequence number: it waits for the window like data (Linux's
            # tcp_snd_wnd_test; congestion control and Nagle let a bare FIN go).
            if fin_ready and available == 0 and self.snd_wnd > seq_diff(nxt, una):
                self.transmit(nxt, ACK | FIN, b"")
                sent_any = True
                continue
            break
        # Data (or our FIN) waits but the peer's window lets none of it go, and nothing is in
        # flight to bring an ACK: the persist timer probes the window (RFC 9293 3.8.6.1; also the
        # SWS override timer).
        if (seq_diff(sendbuf.end, self.snd_nxt) > 0 or self.fin_queued and self.fin_seq is None) \
                and seq_ge(self.snd_una, self.snd_max) and not self.rto_timer.armed:
            self.arm_persist()
        if sent_any and recovery.rack:
            self.schedule_probe()
        if force_ack and not sent_any:
            conn.send_ack()

    def _may_send_small(self, length: int, available: int, nxt: int) -> bool:
        """Nagle (RFC 9293 3.7.4) in Minshall's form, as Linux has it: a small segment may go when
        no earlier small segment is still unacknowledged; and sender-side silly window
        avoidance (3.8.6.2.1)."""
        # Linux's tcp_minshall_check: a small segment is in flight if snd_sml lies in
        # (snd_una, snd_nxt]; both ends, so that an snd_sml left 2**31 bytes behind is not "ahead".
        small_out = seq_lt(self.snd_una, self.snd_sml) and seq_le(self.snd_sml, self.snd_nxt)
        if length == available and (self.opt.nodelay or self.fin_queued or not small_out):
            return True  # all we have, and no small segment in flight (or Nagle is off)
        if self.max_snd_wnd and length >= self.max_snd_wnd // 2:
            return True
        return False

    def transmit(self, seq: int, flags: int, data: bytes) -> None:
        """Send (or resend) data starting at ``seq``; keep snd_nxt/snd_max, timers and RTT timing."""
        retransmission = seq_lt(seq, self.snd_max)
        end = seq_add(seq, len(data) + (1 if flags & FIN else 0))
        if flags & FIN:
            self.fin_seq = seq_add(seq, len(data))
            self.conn.fin_sent()
        if retransmission:
            self.stats["retransmissions"] += 1
            self.obs.stats["tcp.retransmitted_segments"] += 1
            if self.rtt_seq is not None and seq_le(seq, self.rtt_seq):
                self.rtt_seq = None  # Karn's rule: never time a retransmitted segment
        elif self.rtt_seq is None and not self.ts_ok and data:
            self.rtt_seq, self.rtt_time = seq, self.clock.now
        self.stats["bytes_sent"] += len(data)
        recovery = self.recovery
        if recovery.in_recovery:
            recovery.sent(len(data))
        if recovery.rack:
            recovery.on_send(seq, end, self.clock.now)
        self._send(flags, seq, data)
        if seq_gt(end, self.snd_nxt):
            self.snd_nxt = end
        if seq_gt(end, self.snd_max):
            self.snd_max = end
        if not self.rto_timer.armed:
            self.timer_kind = RTO
            self.rto_timer.arm_in(self.rtt.rto)
        self.persist_timer.cancel()

    # ------------------------------------------------------------------ ACKs -----------------------
    def on_ack(self, seg: "TCP", ts: "Timestamps | None") -> None:
        """An acceptable ACK (RFC 9293 3.10.7.4 fifth, after the RFC 5961 5.2 checks): advance
        snd_una, sample the RTT, grow cwnd or recover, update the send window."""
        ack = seg.ack
        una, nxt = self.snd_una, self.snd_max
        window = seg.window << self.snd_wscale
        recovery = self.recovery
        # Nothing outstanding (the receiving side of a bulk transfer): nothing to recover.
        has_sack = recovery.on_ack(seg, ack, una, nxt) if nxt != una else False
        if seq_gt(ack, una):
            acked = seq_diff(ack, una)
            sendbuf = self.sendbuf
            if self.fin_seq is None and self.fin_queued and seq_gt(ack, sendbuf.end):
                # The FIN sent before a timeout (which forgot where it was, to send it again after
                # the data) is acknowledged: it sat right after the data.
                self.fin_seq = sendbuf.end
            # A FIN's sequence number is not in the send buffer.
            fin_seq = self.fin_seq
            data_acked = acked
            if fin_seq is not None and seq_gt(ack, fin_seq):
                data_acked -= 1
            sendbuf.ack(ack if fin_seq is None or seq_le(ack, fin_seq) else fin_seq)
            self.snd_una = ack
            if seq_lt(self.snd_nxt, ack):
                self.snd_nxt = ack
            self.retransmits = 0
            rtt = self._rtt_sample(ack, ts)
            cc = self.cc
            if self.hystart is not None and not recovery.in_recovery and cc.in_slow_start():
                if self.hystart.on_ack(ack, self.snd_nxt, rtt):
                    cc.ssthresh = cc.cwnd  # the queue is filling: slow start ends here
                    self.obs.stats["tcp.hystart_exits"] += 1
                    self.trace_cc("hystart")
            if recovery.rack:
                self._rack_ack(acked, False, ts)
            else:
                self._on_new_ack(ack, acked)
                if seq_ge(ack, self.snd_max):
                    self.rto_timer.cancel()
                else:
                    self.rto_timer.arm_in(self.rtt.rto)  # RFC 6298 5.3: restart on new data acknowledged
            if data_acked > 0:
                self.conn.events.writable()
        elif ack == una and not seg.payload and not seg.flags & FIN and window == self.snd_wnd and \
                seq_gt(self.snd_max, una):
            if recovery.rack:
                recovery.dupacks += 1
                self.stats["dup_acks"] += 1
                self._rack_ack(0, True, ts)
            else:
                self._on_dupack(has_sack)
        elif recovery.rack and (has_sack or recovery.in_recovery):
            self._rack_ack(0, False, ts)  # SACKs on a segment that is not a pure duplicate
        # Window update (RFC 9293 3.10.7.4): only from a newer segment.
        if seq_lt(self.snd_wl1, seg.seq) or (self.snd_wl1 == seg.seq and seq_le(self.snd_wl2, ack)):
            opened = window > self.snd_wnd
            self.snd_wnd = window
            self.max_snd_wnd = max(self.max_snd_wnd, window)
            self.snd_wl1, self.snd_wl2 = seg.seq, ack
            if opened and window > 0:
                self.persist_timer.cancel()
                self.persist_backoff = 0

    def _rtt_sample(self, ack: int, ts: "Timestamps | None") -> int | None:
        now = self.clock.now
        if self.recovery.rack:
            # Linux's tcp_ack_update_rtt: prefer the send time of the oldest segment newly
            # (S)ACKed if none of those acknowledged was retransmitted (Karn); else the timestamp.
            rtt = self.recovery.seq_rtt
            if rtt >= 0:
                rtt = max(rtt, 1)
                self.rtt.sample(rtt, ack, self.snd_max, now)
                self.rtt_seq = None
                return rtt
        if ts is not None and ts.tsecr:
            # RFC 7323 4.1: with timestamps every ACK that advances the window is a sample,
            # retransmissions included (the echoed time says which transmission it was).
            rtt = ((self.conn.ts_now - ts.tsecr) & 0xFFFFFFFF) * NS_PER_MS
            if rtt < 60 * NS_PER_S:
                rtt = max(rtt, NS_PER_MS // 2)
                self.rtt.sample(rtt, ack, self.snd_max, now)
                return rtt
            return None
        if self.rtt_seq is not None and seq_gt(ack, self.rtt_seq):
            rtt = max(1, now - self.rtt_time)
            self.rtt.sample(rtt, ack, self.snd_max, now)
            self.rtt_seq = None
            return rtt
        return None

    def _rack_ack(self, acked: int, dupack: bool, ts: "Timestamps | None") -> None:
        """RACK's half of an ACK: loss detection, recovery, cwnd, then the timer -- RACK's
        reordering timer if it armed one, else a loss probe if one is due, else the RTO
        (Linux's tcp_set_xmit_timer)."""
        recovery: RackRecovery = self.recovery  # type: ignore[assignment]
        reo = recovery.after_ack(acked, dupack, ts)
        if acked > 0:
            if self.obs.tracer.enabled:
                self.trace_cc("ack")
            if reo:
                return
            if self.snd_una == self.snd_max:
                self.rto_timer.cancel()
                self.timer_kind = RTO
            elif recovery.reneged():
                # The cumulative ACK stops at data the receiver had SACKed: it dropped it (RFC 2018
                # 8). Linux's tcp_check_sack_reneging: the RTO in max(srtt/2, 10 ms), which then
                # forgets the SACKs (enter_loss) and resends the head.
                self.timer_kind = RTO
                self.rto_timer.arm_in(max((self.rtt.srtt or 0) // 2, 10 * NS_PER_MS))
            else:
                pto = recovery.probe_timeout(True)
                if pto is None:
                    self.arm_rto_from_now()  # RFC 6298 5.3: restart on new data acknowledged
                else:
                    self.timer_kind = PTO
                    self.rto_timer.arm_in(pto)

    def _on_new_ack(self, ack: int, acked: int) -> None:
        """New data acknowledged: grow the window, or make progress in recovery (RFC 6582)."""
        now = self.clock.now
        recovery = self.recovery
        if recovery.in_recovery:
            if seq_ge(ack, recovery.recover):
                recovery.exit()  # full ACK: recovery is over
                self.cc.on_recovery_exit(now)
                self.trace_cc("recovered")
            else:
                recovery.on_partial_ack(ack, acked)
            return
        recovery.dupacks = 0
        if seq_gt(ack, recovery.recover):
            # Keep the recovery point no further than a window behind snd_una: left at the ISS,
            # 2**31 bytes later seq_lt(snd_una, recover) would turn true and switch fast
            # retransmit off (issue 11, bug 11).
            recovery.recover = ack
        self.cc.on_ack(acked, now, self.rtt.srtt, self.in_flight())
        if self.obs.tracer.enabled:
            self.trace_cc("ack")

    def _on_dupack(self, has_sack: bool) -> None:
        recovery = self.recovery
        recovery.dupacks += 1
        self.stats["dup_acks"] += 1
        if recovery.in_recovery:
            recovery.on_dupack_in_recovery()
            return
        if not recovery.lost(self.snd_una):
            return
        if seq_lt(self.snd_una, recovery.recover):
            return  # RFC 6582 4.1: these duplicates belong to data sent before a timeout
        # Fast retransmit (RFC 5681 3.2, RFC 6675 5 step 4).
        self.stats["fast_retransmits"] += 1
        self.obs.stats["tcp.fast_retransmits"] += 1
        recovery.enter()
        self.cc.on_loss(self.in_flight(), self.clock.now)
        self.trace_cc("fast-retransmit")
        self.rtt_seq = None
        data = self.sendbuf.peek(self.snd_una, self.payload_limit())
        if data:
            recovery.high_rxt = seq_add(self.snd_una, len(data))
            self.transmit(self.snd_una, ACK, data)
        recovery.after_fast_retransmit()

    # ------------------------------------------------------------------ timers ---------------------
    def on_timeout(self) -> None:
        """RFC 6298 5.4-5.7 for data (the connection has checked the state and the retry limit):
        loss window, back off, go back to snd_una (with RACK: retransmit what is lost, keep
        what the receiver SACKed, as Linux's tcp_retransmit_timer)."""
        self.obs.stats["tcp.timeouts"] += 1
        self.stats["timeouts"] += 1
        recovery = self.recovery
        # ssthresh from the flight, but no more than cwnd (Linux's ssthresh hooks take cwnd):
        # NewReno's inflated recovery leaves snd_nxt - snd_una far above what the path holds.
        flight = min(self.in_flight(), self.cc.cwnd)
        if recovery.rack:
            reduce = recovery.enter_loss()  # type: ignore[attr-defined]
            self.cc.on_timeout(flight, self.clock.now, reduce)
            self.cc.cwnd = recovery.pipe() + self.mss  # type: ignore[attr-defined]  # tcp_enter_loss
            self.trace_cc("timeout")
            self.rtt.backoff()
            self.rtt_seq = None
            self.arm_rto_from_now()
            self.output()
            return
        # A timeout during fast recovery does not lower ssthresh again (Linux's tcp_enter_loss).
        self.cc.on_timeout(flight, self.clock.now, not recovery.in_recovery)
        self.trace_cc("timeout")
        self.rtt.backoff()
        self._go_back()
        self.rto_timer.arm_in(self.rtt.rto)
        self.output()

    def _go_back(self) -> None:
        """Resend from the first unacknowledged byte; the window paces the resend."""
        self.recovery.on_timeout(self.snd_una, self.snd_max)
        self.rtt_seq = None
        self.snd_nxt = self.snd_una
        if self.fin_seq is not None and seq_le(self.snd_una, self.fin_seq):
            self.fin_seq = None  # the FIN goes again after the data

    def simple_retransmit(self) -> None:
        """After the MSS went down (Linux's tcp_simple_retransmit): what was sent at the old size
        did not fit and is lost; resend it at the new size, without a congestion-window
        reduction, then carry on. The byte stream keeps no segment boundaries, so everything
        outstanding is resent; the recovery point moves to snd_max so that duplicate ACKs for
        the old flight do not start a fast retransmit."""
        if seq_ge(self.snd_una, self.snd_max):
            return  # nothing outstanding: the next segments are simply smaller
        if self.recovery.rack:
            self.recovery.enter_loss(mtu=True)  # type: ignore[attr-defined]
            self.rtt_seq = None
        else:
            self._go_back()
        self.output()

    # -- the one retransmission timer: RTO, loss probe or RACK's reordering timer ---------------
    def arm_rto_from_now(self) -> None:
        self.timer_kind = RTO
        self.rto_timer.arm_in(self.rtt.rto)

    def arm_rto_from_head(self) -> None:
        """The RTO, counted from when the oldest outstanding segment was sent (Linux's
        tcp_rearm_rto after a probe or reordering timer)."""
        self.timer_kind = RTO
        self.rto_timer.arm_in(max(self.recovery.rto_left(), 1))  # type: ignore[attr-defined]

    def arm_reo(self, delay: int) -> None:
        self.timer_kind = REO
        self.rto_timer.arm_in(min(delay, self.rtt.rto))

    def schedule_probe(self) -> None:
        """After sending: a Tail Loss Probe in PTO, if one is due (Linux's tcp_schedule_loss_probe
        from tcp_write_xmit); RACK's reordering timer, if pending, is left alone."""
        if self.timer_kind == REO and self.rto_timer.armed:
            return
        pto = self.recovery.probe_timeout(False)  # type: ignore[attr-defined]
        if pto is not None:
            self.timer_kind = PTO
            self.rto_timer.arm_in(pto)

    def on_early_timer(self) -> None:
        """rto_timer fired for a loss probe or RACK's reordering timer, not a timeout."""
        kind = self.timer_kind
        self.timer_kind = RTO
        if kind == PTO:
            self.recovery.send_probe()  # type: ignore[attr-defined]
        else:
            self.recovery.on_reo_timeout()  # type: ignore[attr-defined]

    def arm_persist(self, limit: int | None = None) -> None:
        """The next probe after RTO << backoff, at most TCP_RTO_MAX (Linux's tcp_probe0_when),
        and at most ``limit`` ns when one is given (what is left of the user timeout)."""
        if not self.persist_timer.armed:
            delay = min(self.rtt.rto << self.persist_backoff, TCP_RTO_MAX)
            if limit is not None:
                delay = max(1, min(delay, limit))
            self.persist_timer.arm_in(delay)

    def probe(self) -> None:
        """The persist timer fired with nothing in flight (RFC 9293 3.8.6.1), as Linux's
        tcp_write_wakeup; the connection counts the probes and re-arms the timer."""
        nxt = self.snd_nxt
        if self.snd_wnd > 0:
            # A window too small for a full segment (silly window avoidance held us back): send
            # what it allows now, the override of RFC 9293 3.8.6.2.1. Real data: snd_nxt moves.
            n = min(self.snd_wnd, seq_diff(self.sendbuf.end, nxt), self.payload_limit())
            data = self.sendbuf.peek(nxt, n)
            if data:
                self.transmit(nxt, ACK, data)
                return
            if self.fin_queued and self.fin_seq is None:
                self.transmit(nxt, ACK | FIN, b"")
                return
        # Zero window (Linux's tcp_xmit_probe_skb): an ACK with the old sequence number snd_una - 1
        # and no data. It takes no sequence space, so nothing is sent beyond what the peer can
        # acknowledge, and the peer must answer it with an ACK that carries its window.
        self.stats["zero_window_probes"] += 1
        self.obs.stats["tcp.window_probes"] += 1  # Linux's TCPWinProbe
        self._send(ACK, seq_add(self.snd_una, -1))

    def retransmit_head(self) -> None:
        """Resend the first unacknowledged segment whatever the window, as Linux's
        tcp_retransmit_skb does for the head: after an RTO into a zero window it is the probe."""
        una = self.snd_una
        data = self.sendbuf.peek(una, self.payload_limit())
        if data:
            self.transmit(una, ACK, data)
        elif self.fin_queued and seq_ge(una, self.sendbuf.end):
            self.transmit(una, ACK | FIN, b"")

    def trace_cc(self, why: str) -> None:
        obs = self.obs
        if obs.tracer.enabled:
            cc = self.cc
            ssthresh = cc.ssthresh if cc.ssthresh < (1 << 30) else "inf"
            local, remote = self.conn.local, self.conn.remote
            obs.tracer.emit(obs.name, None, "tcp", "cwnd",
                            text=f"{local[0]}:{local[1]} > {remote[0]}:{remote[1]} "
                                 f"{why}: cwnd={cc.cwnd} ssthresh={ssthresh} srtt="
                                 f"{(self.rtt.srtt or 0) / NS_PER_MS:.1f}ms rto={self.rtt.rto / NS_PER_MS:.0f}ms")

