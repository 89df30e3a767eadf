"""One TCP connection: the state machine of RFC 9293 with its companions.

Reliable, ordered delivery with retransmission (RFC 6298), SACK (RFC 2018) with loss recovery
(RFC 6675), fast retransmit and NewReno fast recovery (RFC 5681, 6582), window scaling and
timestamps with PAWS (RFC 7323), Nagle, delayed ACKs, zero-window probing, silly-window
avoidance, keepalive, and the RFC 5961 defences against blind RST/SYN/ACK injection.

The connection is sans-IO: segments come in through :meth:`segment_arrives` and go out through
the layer's ``output`` function; the application side reads from and writes to its buffers and
is told about changes through :class:`Events` callbacks.
"""

from __future__ import annotations

import errno
import socket
from enum import Enum
from typing import TYPE_CHECKING

from ...runtime import NS_PER_MS, NS_PER_S, Timer
from ...wire.tcp import MSS, NOP, TCP, Sack, SackPermitted, TCPFlags, Timestamps, WindowScale
from .congestion import make_congestion_control
from .hystart import HyStart
from .reassembly import Reassembly
from .rtt import RTTEstimator
from .scoreboard import Scoreboard
from .sendbuffer import SendBuffer
from .seq import seq_add, seq_diff, seq_ge, seq_gt, seq_le, seq_lt

if TYPE_CHECKING:
    from ...stack.errors import TransportError
    from ...stack.route import RouteHandle
    from .context import TCPContext

# Plain ints, not TCPFlags members: IntFlag's & costs a Python call per test on the hot path.
FIN, SYN, RST, PSH, ACK = int(TCPFlags.FIN), int(TCPFlags.SYN), int(TCPFlags.RST), int(TCPFlags.PSH), int(TCPFlags.ACK)
MOD = 1 << 32
_NOP = NOP()


class State(Enum):
    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"


SYNCHRONIZED = {State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2, State.CLOSE_WAIT, State.CLOSING,
                State.LAST_ACK, State.TIME_WAIT}
CAN_RECEIVE = {State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2}
CAN_SEND = {State.ESTABLISHED, State.CLOSE_WAIT}


class Options:
    """Per-connection settings (Linux's defaults unless said otherwise)."""

    def __init__(self, **kw: object) -> None:
        self.nodelay = False  # TCP_NODELAY: Nagle off
        self.keepalive = False  # SO_KEEPALIVE
        self.keepalive_time = 7200 * NS_PER_S
        self.keepalive_interval = 75 * NS_PER_S
        self.keepalive_probes = 9
        self.sack = True
        self.timestamps = True
        self.window_scaling = True
        self.congestion = "cubic"
        self.hystart = True  # HyStart++ (RFC 9406) delay-based exit from slow start
        self.rcvbuf = 131072  # bytes of receive buffer
        self.sndbuf = 131072
        self.delayed_ack = 40 * NS_PER_MS  # Linux's minimum delayed-ACK timeout
        self.msl = 30 * NS_PER_S  # TIME-WAIT lasts 2*MSL
        self.syn_retries = 6
        self.synack_retries = 5
        self.max_retries = 15  # like net.ipv4.tcp_retries2
        self.reassembly = "keep"  # or "discard": a go-back-N receiver, for teaching
        self.min_rto = 200 * NS_PER_MS
        self.initial_rto = NS_PER_S
        self.user_timeout = 0
        for k, v in kw.items():
            if not hasattr(self, k):
                raise TypeError(f"unknown TCP option {k!r}")
            setattr(self, k, v)

    def copy(self) -> "Options":
        new = Options()
        new.__dict__.update(self.__dict__)
        return new


class Events:
    """What the application side is told. The defaults do nothing."""

    def established(self) -> None: ...

    def readable(self) -> None: ...  # data or EOF can be read

    def writable(self) -> None: ...  # send buffer space freed

    def closed(self, error: int) -> None: ...  # 0: closed cleanly; else an errno


def window_shift(rcvbuf: int) -> int:
    """The smallest window scale that lets the whole receive buffer be advertised (RFC 7323 2.3)."""
    shift = 0
    while (65535 << shift) < rcvbuf and shift < 14:
        shift += 1
    return shift


class TCPConnection:
    """The TCB and its behaviour. Created by the TCP layer for connect() and for each SYN a
    listener accepts."""

    def __init__(self, ctx: "TCPContext", local: tuple[str, int], remote: tuple[str, int],
                 options: Options, iss: int, route: "RouteHandle | None") -> None:
        self.layer = ctx
        self.host = ctx.obs
        self.clock = ctx.clock
        self.route = route
        mss = route.mtu - 40 if route is not None else 536
        self.local = local
        self.remote = remote
        self.opt = options
        self.state = State.CLOSED
        self.events: Events = Events()
        self.error = 0
        self.listener = None  # the listener a passive connection belongs to
        # -- send sequence space (RFC 9293 3.3.1)
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
        # -- receive sequence space
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_wscale = window_shift(options.rcvbuf) if options.window_scaling else 0
        self.rcv_adv = 0  # right edge of the window we last advertised
        self.last_ack_sent = 0
        # -- negotiated in the SYNs
        self.our_mss = mss  # from the interface MTU: what we can receive
        self.mss = 536  # what we may send (RFC 9293 3.7.1 default until the peer says)
        self.send_size = 536  # what one segment may carry: the MSS, or many with TSO
        self.sack_ok = False
        self.ts_ok = False
        self.ts_recent = 0
        self.ts_recent_age = 0
        self.ts_offset = ctx.rng.getrandbits(32)  # RFC 7323 5.4: randomised per connection
        self.wscale_ok = False
        # -- buffers
        self.sendbuf = SendBuffer(options.sndbuf, seq_add(iss, 1))
        self.recvbuf = bytearray()
        self.reassembly: Reassembly | None = None
        self.fin_queued = False  # the application closed its sending side
        self.fin_seq: int | None = None  # the sequence number our FIN occupies, once sent
        self.peer_fin_seq: int | None = None  # where the peer's FIN is, if it came early
        self.eof = False  # the peer's FIN was received in order
        # -- loss recovery and congestion control
        self.rtt = RTTEstimator(initial_rto=options.initial_rto, min_rto=options.min_rto)
        self.cc = make_congestion_control(options.congestion, self.mss)
        self.scoreboard: Scoreboard | None = None
        self.hystart = HyStart() if options.hystart else None
        self.dupacks = 0
        self.in_recovery = False
        self.recover = iss  # NewReno's recovery point (RFC 6582)
        self.recover_fs = 0  # RFC 6937 RecoverFS, prr_delivered, prr_out
        self.prr_delivered = 0
        self.prr_out = 0
        self.prr_budget = 0
        self.high_rxt = iss  # RFC 6675 HighRxt
        self.rtt_seq: int | None = None  # Karn: the segment being timed (without timestamps)
        self.rtt_time = 0
        self.retransmits = 0  # consecutive timeouts
        self.syn_tries = 0
        # -- timers (one heap entry each, re-armed by moving a deadline)
        self.rto_timer = Timer(self.clock, self._on_rto)
        self.delack_timer = Timer(self.clock, self._on_delack)
        self.persist_timer = Timer(self.clock, self._on_persist)
        self.keepalive_timer = Timer(self.clock, self._on_keepalive)
        self.timewait_timer = Timer(self.clock, self._on_timewait)
        self.persist_backoff = 0
        self.keepalive_sent = 0
        self.unacked_segments = 0  # full-sized segments received since our last ACK
        self.last_activity = self.clock.now
        # -- statistics, like `ss -i`
        self.stats = {"segments_sent": 0, "segments_received": 0, "bytes_sent": 0, "bytes_received": 0,
                      "retransmissions": 0, "timeouts": 0, "fast_retransmits": 0, "dup_acks": 0,
                      "challenge_acks": 0, "out_of_order": 0, "zero_window_probes": 0}

    def __repr__(self) -> str:
        return (f"<TCP {self.local[0]}:{self.local[1]} -> {self.remote[0]}:{self.remote[1]} {self.state.value} "
                f"una={self.snd_una} nxt={self.snd_nxt} rcv_nxt={self.rcv_nxt} cwnd={self.cc.cwnd}>")

    # ============================================================================ helpers ==========
    def _set_state(self, state: State) -> None:
        if state is self.state:
            return
        old = self.state
        self.state = state
        host = self.host
        if host.tracer.enabled:
            host.tracer.emit(host.name, None, "tcp", "state",
                             text=f"{self.local[0]}:{self.local[1]} > {self.remote[0]}:{self.remote[1]} "
                                  f"{old.value} -> {state.value}")
        self.layer.state_changed(self, old, state)

    @property
    def ts_now(self) -> int:
        """TSval: a millisecond clock (RFC 7323 5.4 allows 1 ms to 1 s ticks) with a random offset."""
        return (self.clock.now // NS_PER_MS + self.ts_offset) & 0xFFFFFFFF

    def rcv_window(self) -> int:
        """Free space in the receive buffer (what we can still take)."""
        queued = self.reassembly.queued_bytes if self.reassembly is not None else 0
        return max(0, self.opt.rcvbuf - len(self.recvbuf) - queued)

    def _window_to_advertise(self) -> int:
        """Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2): never shrink the window we
        offered, and only open it in steps of at least min(rcvbuf/2, MSS)."""
        limit = 65535 << self.rcv_wscale
        free = min(self.rcv_window(), limit)
        offered = max(0, seq_diff(self.rcv_adv, self.rcv_nxt)) if self.rcv_adv else 0
        if free - offered < min(self.opt.rcvbuf // 2, self.our_mss):
            free = offered  # not worth opening (or would shrink): keep what we offered
        return free

    def _payload_limit(self) -> int:
        """Data bytes a full segment may carry now: the MSS less the room our SACK blocks will
        take in the header (RFC 2018: the MSS does not count options; Linux's tcp_current_mss)."""
        if self.sack_ok and self.reassembly is not None and self.reassembly.queued_bytes:
            blocks = len(self.reassembly.sack_blocks(limit=3 if self.ts_ok else 4))
            if blocks:
                return self.mss - 4 - 8 * blocks
        return self.mss

    def in_flight(self) -> int:
        return seq_diff(self.snd_nxt, self.snd_una)

    # ============================================================================ output ===========
    def _options_for_syn(self) -> tuple:
        """Our SYN's options, in Linux's order and alignment. A SYN+ACK only echoes what the peer's
        SYN offered (RFC 7323 1.3, RFC 2018 2)."""
        answering = self.state is State.SYN_RECEIVED
        sack = self.opt.sack and (self.sack_ok or not answering)
        ts = self.opt.timestamps and (self.ts_ok or not answering)
        ws = self.opt.window_scaling and (self.wscale_ok or not answering)
        opts: list = [MSS(self.our_mss)]
        if ts:
            opts += [SackPermitted()] if sack else [NOP(), NOP()]
            opts.append(Timestamps(self.ts_now, self.ts_recent if answering else 0))
        elif sack:
            opts += [NOP(), NOP(), SackPermitted()]
        if ws:
            opts += [NOP(), WindowScale(self.rcv_wscale)]
        return tuple(opts)

    def _send(self, flags: int, seq: int, data: bytes = b"", options: tuple | None = None) -> None:
        """Build and send one segment; every segment but the first SYN carries an ACK."""
        if options is None:
            if self.ts_ok:
                ts = (self.clock.now // NS_PER_MS + self.ts_offset) & 0xFFFFFFFF
                options = (_NOP, _NOP, Timestamps(ts, self.ts_recent))
            else:
                options = ()
            if self.sack_ok and self.reassembly is not None and self.reassembly.queued_bytes and not flags & SYN:
                # 40 bytes of options: with timestamps (12) room for 3 SACK blocks, else 4.
                blocks = self.reassembly.sack_blocks(limit=3 if options else 4)
                if blocks:
                    options += (_NOP, _NOP, Sack(tuple(blocks)))
        if flags & SYN:
            window = min(self.rcv_window(), 65535)  # RFC 7323 2.2: a SYN's window is never scaled
            if flags & ACK:
                self.rcv_adv = seq_add(self.rcv_nxt, window)
        else:
            window = self._window_to_advertise()
            self.rcv_adv = seq_add(self.rcv_nxt, window)
            window >>= self.rcv_wscale
        ack = self.rcv_nxt if flags & ACK else 0
        seg = TCP(self.local[1], self.remote[1], seq, ack, flags, min(window, 65535), data, 0, options)
        if flags & ACK:
            self.last_ack_sent = self.rcv_nxt
            self.unacked_segments = 0
            self.delack_timer.cancel()
        self.stats["segments_sent"] += 1
        self.last_activity = self.clock.now
        self.layer.output(self, seg)

    def send_ack(self) -> None:
        self._send(ACK, self.snd_nxt)

    def _challenge_ack(self) -> None:
        """RFC 5961 3.2/4.2/5.2: answer a suspicious segment with an ACK that tells the real peer
        where we are; a blind attacker learns nothing."""
        self.stats["challenge_acks"] += 1
        self.host.stats["tcp.challenge_acks"] += 1
        self.send_ack()

    def send_rst(self) -> None:
        self._send(RST | ACK, self.snd_nxt)

    def output(self, force_ack: bool = False) -> None:
        """Send what the windows allow: new data, retransmissions in recovery, our FIN."""
        if not force_ack and self.snd_nxt == self.sendbuf.end and not self.in_recovery and \
                (not self.fin_queued or self.fin_seq is not None):
            return  # nothing to send: the common case on the receiving side
        if self.state not in (State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING,
                              State.LAST_ACK, State.SYN_RECEIVED):
            if force_ack and self.state in SYNCHRONIZED:
                self.send_ack()
            return
        if self.state is State.SYN_RECEIVED:
            return
        sent_any = False
        mss = self._payload_limit()
        send_size = self.send_size if self.send_size > self.mss else mss
        while True:
            window = min(self.snd_wnd, self.cc.cwnd)
            if self.in_recovery and self.scoreboard is not None:
                sent = self._sack_recovery_send()
                if sent:
                    sent_any = True
                    continue
            una, nxt = self.snd_una, self.snd_nxt
            end = self.sendbuf.end
            available = seq_diff(end, nxt)
            usable = window - seq_diff(nxt, una) if not (self.in_recovery and self.scoreboard is not None) \
                else self.prr_budget
            usable = min(usable, self.snd_wnd - seq_diff(nxt, una))
            length = min(send_size, available, max(0, usable))
            fin_ready = self.fin_queued and self.fin_seq is None
            if length > 0:
                if length < mss and seq_ge(nxt, self.snd_max) and not self._may_send_small(length, available, nxt):
                    break  # (a retransmission is never held back by Nagle)
                data = self.sendbuf.peek(nxt, length)
                is_last = seq_add(nxt, length) == end
                if length < mss:
                    self.snd_sml = seq_add(nxt, length)
                flags = ACK | (PSH if is_last else 0)
                if fin_ready and is_last and usable > length:
                    flags |= FIN
                self._transmit(nxt, flags, data)
                sent_any = True
                continue
            if fin_ready and available == 0 and (self.fin_seq is None):
                self._transmit(nxt, ACK | FIN, b"")
                sent_any = True
                continue
            break
        # Data waits but the peer's window lets none of it go, and nothing is in flight to bring an
        # ACK: the persist timer probes the window (RFC 9293 3.8.6.1; also the SWS override timer).
        if seq_diff(self.sendbuf.end, self.snd_nxt) > 0 and seq_ge(self.snd_una, self.snd_max) \
                and not self.rto_timer.armed:
            self._arm_persist()
        if force_ack and not sent_any:
            self.send_ack()

    def _may_send_small(self, length: int, available: int, nxt: int) -> bool:
        """Nagle (RFC 9293 3.7.4) in Minshall's form, as Linux has it: a small segment may go when
        no earlier small segment is still unacknowledged; and sender-side silly window
        avoidance (3.8.6.2.1)."""
        if length == available and (self.opt.nodelay or self.fin_queued or seq_le(self.snd_sml, self.snd_una)):
            return True  # all we have, and no small segment in flight (or Nagle is off)
        if self.max_snd_wnd and length >= self.max_snd_wnd // 2:
            return True
        return False

    def _transmit(self, seq: int, flags: int, data: bytes) -> None:
        """Send (or resend) data starting at ``seq``; keep snd_nxt/snd_max, timers and RTT timing."""
        retransmission = seq_lt(seq, self.snd_max)
        end = seq_add(seq, len(data) + (1 if flags & FIN else 0))
        if flags & FIN:
            self.fin_seq = seq_add(seq, len(data))
            if self.state is State.ESTABLISHED:
                self._set_state(State.FIN_WAIT_1)
            elif self.state is State.CLOSE_WAIT:
                self._set_state(State.LAST_ACK)
        if retransmission:
            self.stats["retransmissions"] += 1
            self.host.stats["tcp.retransmitted_segments"] += 1
            if self.rtt_seq is not None and seq_le(seq, self.rtt_seq):
                self.rtt_seq = None  # Karn's rule: never time a retransmitted segment
        elif self.rtt_seq is None and not self.ts_ok and data:
            self.rtt_seq, self.rtt_time = seq, self.clock.now
        self.stats["bytes_sent"] += len(data)
        if self.in_recovery:
            self.prr_out += len(data)
            self.prr_budget -= len(data)
        self._send(flags, seq, data)
        if seq_gt(end, self.snd_nxt):
            self.snd_nxt = end
        if seq_gt(end, self.snd_max):
            self.snd_max = end
        if not self.rto_timer.armed:
            self.rto_timer.arm_in(self.rtt.rto)
        self.persist_timer.cancel()

    # -- SACK-based loss recovery (RFC 6675) ----------------------------------------------------------
    def _pipe(self) -> int:
        if self.scoreboard is None:
            return self.in_flight()
        return self.scoreboard.pipe(self.snd_una, self.snd_max, self.high_rxt)

    def _prr_on_delivered(self, delivered: int) -> None:
        """Proportional Rate Reduction (RFC 6937), as Linux does it: during recovery, send in
        proportion to what the receiver got, so that many losses at once do not turn into a
        burst that overflows the same queue again."""
        self.prr_delivered += delivered
        pipe = self._pipe()
        ssthresh = self.cc.ssthresh
        if pipe > ssthresh:
            sndcnt = -(-self.prr_delivered * ssthresh // max(self.recover_fs, 1)) - self.prr_out
        else:  # PRR-SSRB: slow start back up to ssthresh
            limit = max(self.prr_delivered - self.prr_out, delivered) + self.mss
            sndcnt = min(ssthresh - pipe, limit)
        self.prr_budget = max(sndcnt, 0)

    def _sack_recovery_send(self) -> bool:
        """RFC 6675 5 (C) paced by PRR: retransmit the next lost segment, else send new data."""
        if self.prr_budget <= 0:
            return False
        hole = self.scoreboard.next_seg(self.snd_una, self.snd_max, self.high_rxt)
        if hole is None:
            return False  # no lost segment: the caller sends new data
        start, end = hole
        length = min(self._payload_limit(), seq_diff(end, start))
        data = self.sendbuf.peek(start, length)
        if not data:
            return False
        self.high_rxt = seq_add(start, len(data))
        self._transmit(start, ACK, data)
        return True

    # ============================================================================ timers ===========
    def _on_rto(self) -> None:
        """RFC 6298 5.4-5.7: retransmit the earliest unacknowledged segment, back off the timer."""
        if self.state in (State.CLOSED, State.TIME_WAIT, State.LISTEN):
            return
        if self.state is State.SYN_SENT or self.state is State.SYN_RECEIVED:
            limit = self.opt.syn_retries if self.state is State.SYN_SENT else self.opt.synack_retries
            if self.syn_tries >= limit:
                self._abort(errno.ETIMEDOUT)
                return
            self.syn_tries += 1
            self.rtt.backoff()
            self.stats["retransmissions"] += 1
            self.host.stats["tcp.retransmitted_segments"] += 1
            flags = SYN if self.state is State.SYN_SENT else SYN | ACK
            self._send(flags, self.iss, options=self._options_for_syn())
            self.rto_timer.arm_in(self.rtt.rto)
            return
        if seq_ge(self.snd_una, self.snd_max):
            return  # nothing outstanding
        self.retransmits += 1
        if self.retransmits > self.opt.max_retries:
            self._abort(errno.ETIMEDOUT)
            return
        self.stats["timeouts"] += 1
        self.host.stats["tcp.timeouts"] += 1
        self.cc.on_timeout(self.in_flight(), self.clock.now)
        self._trace_cc("timeout")
        self.rtt.backoff()
        self.in_recovery = False
        self.dupacks = 0
        self.recover = self.snd_max
        self.high_rxt = self.snd_una
        self.rtt_seq = None
        # Go back to the first unacknowledged byte; the window (one segment now) paces the resend.
        self.snd_nxt = self.snd_una
        if self.fin_seq is not None and seq_le(self.snd_una, self.fin_seq):
            self.fin_seq = None  # the FIN goes again after the data
        self.rto_timer.arm_in(self.rtt.rto)
        self.output()

    def _on_delack(self) -> None:
        if self.state in SYNCHRONIZED and self.rcv_nxt != self.last_ack_sent:
            self.send_ack()

    def _arm_persist(self) -> None:
        if not self.persist_timer.armed:
            delay = min(self.rtt.rto << self.persist_backoff, 60 * NS_PER_S)
            self.persist_timer.arm_in(delay)

    def _on_persist(self) -> None:
        """Zero-window probe (RFC 9293 3.8.6.1): send one byte beyond the closed window; the
        answer's ACK tells us when the window opens."""
        if self.state not in (State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1) or \
                seq_lt(self.snd_una, self.snd_max):
            self.persist_backoff = 0
            return
        if self.snd_wnd > 0:
            # A window too small for a full segment (silly window avoidance held us back): send
            # what it allows now, the override of RFC 9293 3.8.6.2.1.
            n = min(self.snd_wnd, seq_diff(self.sendbuf.end, self.snd_nxt), self._payload_limit())
            data = self.sendbuf.peek(self.snd_nxt, n)
            if data:
                self._transmit(self.snd_nxt, ACK, data)
            return
        data = self.sendbuf.peek(self.snd_nxt, 1)
        if data:
            self.stats["zero_window_probes"] += 1
            self._send(ACK, self.snd_nxt, data)
            self.persist_backoff = min(self.persist_backoff + 1, 10)
            self._arm_persist()

    def _on_keepalive(self) -> None:
        if not self.opt.keepalive or self.state not in (State.ESTABLISHED, State.CLOSE_WAIT):
            return
        idle = self.clock.now - self.last_heard
        if idle < self.opt.keepalive_time and self.keepalive_sent == 0:
            self.keepalive_timer.arm(self.last_heard + self.opt.keepalive_time)
            return
        if self.keepalive_sent >= self.opt.keepalive_probes:
            self._abort(errno.ETIMEDOUT)
            return
        self.keepalive_sent += 1
        self.host.stats["tcp.keepalive_probes"] += 1
        self._send(ACK, seq_add(self.snd_una, -1))  # an old sequence number: the peer must answer
        self.keepalive_timer.arm_in(self.opt.keepalive_interval)

    def _on_timewait(self) -> None:
        if self.state is State.TIME_WAIT:
            self._finish(0)

    def start_keepalive(self) -> None:
        self.last_heard = self.clock.now
        if self.opt.keepalive and self.state in SYNCHRONIZED:
            self.keepalive_timer.arm_in(self.opt.keepalive_time)

    # ============================================================================ opening ==========
    def open_active(self) -> None:
        """connect(): send a SYN with our options."""
        self._set_state(State.SYN_SENT)
        self.syn_time = self.clock.now
        self.snd_nxt = self.snd_max = seq_add(self.iss, 1)
        self._send(SYN, self.iss, options=self._options_for_syn())
        self.rto_timer.arm_in(self.rtt.rto)

    def open_passive(self, syn: TCP) -> None:
        """A listener accepted a SYN: note its options and answer SYN+ACK."""
        self.irs = syn.seq
        self.rcv_nxt = seq_add(syn.seq, 1)
        self._take_syn_options(syn)
        self.snd_wnd = syn.window  # never scaled in a SYN
        self.max_snd_wnd = self.snd_wnd
        self.snd_wl1, self.snd_wl2 = syn.seq, self.iss
        self._set_state(State.SYN_RECEIVED)
        self.syn_time = self.clock.now
        self.snd_nxt = self.snd_max = seq_add(self.iss, 1)
        self._send(SYN | ACK, self.iss, options=self._options_for_syn())
        self.rto_timer.arm_in(self.rtt.rto)

    def _take_syn_options(self, syn: TCP) -> None:
        peer_mss = 536
        ws = None
        for o in syn.options:
            if isinstance(o, MSS):
                peer_mss = o.value
            elif isinstance(o, WindowScale):
                ws = o.shift
            elif isinstance(o, SackPermitted):
                self.sack_ok = self.opt.sack
            elif isinstance(o, Timestamps):
                if self.opt.timestamps:
                    self.ts_ok = True
                    self.ts_recent = o.tsval
                    self.ts_recent_age = self.clock.now
        if ws is not None and self.opt.window_scaling:
            self.wscale_ok = True
            self.snd_wscale = min(ws, 14)  # RFC 7323 2.3: more than 14 is treated as 14
        else:
            self.rcv_wscale = 0
        # What we may send: the peer's MSS, less room for the timestamp option if both use it.
        self.mss = max(64, min(peer_mss, self.our_mss) - (12 if self.ts_ok else 0))
        self.cc = make_congestion_control(self.opt.congestion, self.mss)
        self.send_size = self.mss
        route = self.route
        if route is not None and route.tso_max:
            # TCP segmentation offload: the device cuts super-segments into MSS-sized ones, so a
            # segment here may carry many MSS (room left for 40 bytes of TCP options).
            self.send_size = max(self.mss, (route.tso_max - 80) // self.mss * self.mss)
        self.reassembly = Reassembly(self.rcv_nxt, self.opt.rcvbuf, discard=self.opt.reassembly == "discard")
        if self.sack_ok:
            self.scoreboard = Scoreboard(self.mss)

    def _established(self) -> None:
        self._set_state(State.ESTABLISHED)
        self.retransmits = 0
        self.syn_tries = 0
        self.start_keepalive()
        self.events.established()

    # ============================================================================ input ============
    def segment_arrives(self, seg: TCP) -> None:
        """RFC 9293 3.10.7.3/3.10.7.4, in its order of checks."""
        self.stats["segments_received"] += 1
        self.last_heard = self.clock.now
        self.keepalive_sent = 0
        state = self.state
        if state is State.SYN_SENT:
            self._syn_sent(seg)
            return
        if state is State.CLOSED:
            return
        flags = seg.flags
        seg_len = len(seg.payload) + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)
        ts = None
        if self.ts_ok:
            for o in seg.options:
                if type(o) is Timestamps:
                    ts = o
                    break
            # PAWS (RFC 7323 5.3): a segment with an older timestamp is an old duplicate.
            if ts is not None and not flags & RST and self.ts_recent and \
                    seq_lt(ts.tsval, self.ts_recent) and self.clock.now - self.ts_recent_age < 24 * 86400 * NS_PER_S:
                self.host.stats["tcp.paws_rejected"] += 1
                self.host.drop("tcp", "paws", None, text=f"old timestamp {ts.tsval} < {self.ts_recent}")
                if seg_len:
                    self.send_ack()
                return
        # 1. Is the sequence number acceptable? (four cases by length and window)
        wnd = self.rcv_window() if state is not State.SYN_RECEIVED else self.opt.rcvbuf
        wnd = max(wnd, seq_diff(self.rcv_adv, self.rcv_nxt) if self.rcv_adv else 0)
        if not self._acceptable(seg.seq, seg_len, wnd):
            if not flags & RST:
                self.host.stats["tcp.out_of_window"] += 1
                if state is State.TIME_WAIT and flags & FIN:
                    self.timewait_timer.arm_in(2 * self.opt.msl)
                self.send_ack()
            return
        # 2. RST (RFC 5961 3.2): only the exact next sequence number resets; else a challenge ACK.
        if flags & RST:
            if seg.seq != self.rcv_nxt:
                self._challenge_ack()
                return
            self.host.stats["tcp.resets_received"] += 1
            if state is State.SYN_RECEIVED and self.listener is not None:
                self._finish(0)  # back to LISTEN: forget the half-open connection
            elif state in (State.CLOSING, State.LAST_ACK, State.TIME_WAIT):
                self._finish(0)
            else:
                self._finish(errno.ECONNRESET if state is not State.SYN_RECEIVED else errno.ECONNREFUSED)
            return
        # 4. SYN in a synchronized state (RFC 5961 4.2): challenge ACK, whatever its number.
        if flags & SYN:
            if state is State.SYN_RECEIVED and self.listener is not None and seg.seq == self.irs:
                self._send(SYN | ACK, self.iss, options=self._options_for_syn())  # our SYN+ACK was lost
                return
            self._challenge_ack()
            return
        # 5. ACK
        if not flags & ACK:
            return
        if ts is not None and seq_le(seg.seq, self.last_ack_sent) and seq_lt(self.last_ack_sent, seq_add(seg.seq, max(seg_len, 1))):
            self.ts_recent, self.ts_recent_age = ts.tsval, self.clock.now  # RFC 7323 4.3
        if state is State.SYN_RECEIVED:
            if seq_lt(self.snd_una, seg.ack) and seq_le(seg.ack, self.snd_nxt):
                self.snd_wnd = seg.window << self.snd_wscale
                self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
                self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack
                self.snd_una = seg.ack
                self.rto_timer.cancel()
                if self.syn_tries == 0:  # Karn: only an unretransmitted SYN+ACK gives a sample
                    self.rtt.sample(max(1, self.clock.now - self.syn_time))
                self._established()
                state = self.state
            else:
                self.layer.send_reset_for(seg, self.local[0], self.remote[0])
                return
        if not self._process_ack(seg, ts):
            return
        state = self.state
        # 7. Segment text
        if seg.payload and state in CAN_RECEIVE:
            self._receive_data(seg)
        elif seg.payload:
            pass  # data after the peer's FIN: ignore (RFC 9293 3.10.7.4 seventh)
        # 8. FIN
        if flags & FIN:
            fin_at = seq_add(seg.seq, len(seg.payload))
            if self.peer_fin_seq is None:
                self.peer_fin_seq = fin_at
        if self.peer_fin_seq is not None and self.rcv_nxt == self.peer_fin_seq and not self.eof:
            self._receive_fin()
        elif flags & FIN and self.state is State.TIME_WAIT:
            self.send_ack()
            self.timewait_timer.arm_in(2 * self.opt.msl)
        if self.state in SYNCHRONIZED:
            self.output()

    def _acceptable(self, seq: int, seg_len: int, wnd: int) -> bool:
        rcv_nxt = self.rcv_nxt
        if seg_len == 0:
            if wnd == 0:
                return seq == rcv_nxt
            return seq_le(rcv_nxt, seq) and seq_lt(seq, seq_add(rcv_nxt, wnd))
        if wnd == 0:
            return False
        last = seq_add(seq, seg_len - 1)
        right = seq_add(rcv_nxt, wnd)
        return (seq_le(rcv_nxt, seq) and seq_lt(seq, right)) or (seq_le(rcv_nxt, last) and seq_lt(last, right))

    def _syn_sent(self, seg: TCP) -> None:
        flags = seg.flags
        if flags & ACK and (seq_le(seg.ack, self.iss) or seq_gt(seg.ack, self.snd_nxt)):
            if not flags & RST:
                self.layer.send_reset_for(seg, self.local[0], self.remote[0])
            return
        if flags & RST:
            if flags & ACK:  # RFC 5961 3.2 / 9293: only a RST that acknowledges our SYN counts
                self.host.stats["tcp.resets_received"] += 1
                self._finish(errno.ECONNREFUSED)
            return
        if not flags & SYN:
            return
        self.irs = seg.seq
        self.rcv_nxt = seq_add(seg.seq, 1)
        self._take_syn_options(seg)
        if flags & ACK:
            self.snd_una = seg.ack
            self.snd_wnd = seg.window  # a SYN's window is never scaled
            self.max_snd_wnd = self.snd_wnd
            self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack
            self.rto_timer.cancel()
            if self.syn_tries == 0:
                self.rtt.sample(max(1, self.clock.now - self.syn_time))  # Karn: only an unretransmitted SYN
            else:
                self.rtt.rto = self.opt.initial_rto  # RFC 6298 5.7: back to the initial RTO after SYN loss
            self._established()
            # The third segment of the handshake: an ACK, which can carry data if some is waiting.
            if seq_diff(self.sendbuf.end, self.snd_nxt) > 0:
                self.output(force_ack=True)
            else:
                self.send_ack()
            return
        # Simultaneous open (RFC 9293 3.5, figure 8): both sent SYNs.
        self.snd_wnd = seg.window
        self.snd_wl1, self.snd_wl2 = seg.seq, self.iss
        self._set_state(State.SYN_RECEIVED)
        self._send(SYN | ACK, self.iss, options=self._options_for_syn())

    def _process_ack(self, seg: TCP, ts: Timestamps | None) -> bool:
        """RFC 9293 3.10.7.4 fifth + RFC 5961 5.2 + loss recovery. False: drop the segment."""
        ack = seg.ack
        una, nxt = self.snd_una, self.snd_max
        if seq_gt(ack, nxt):
            # Acknowledges something we never sent.
            self._challenge_ack()
            return False
        if seq_lt(ack, seq_add(una, -max(self.max_snd_wnd, 1))):
            self._challenge_ack()  # RFC 5961 5.2: too old to be real
            return False
        window = seg.window << self.snd_wscale
        sack_blocks: list = []
        if self.scoreboard is not None:
            for o in seg.options:
                if type(o) is Sack:
                    sack_blocks = [b for b in o.blocks if seq_gt(b[1], una) and seq_le(b[1], nxt)]
            if sack_blocks or seq_gt(ack, una):
                newly_sacked = self.scoreboard.update(ack if seq_gt(ack, una) else una, nxt, sack_blocks)
                if self.in_recovery:
                    self._prr_on_delivered(newly_sacked + max(0, seq_diff(ack, una)))
        if seq_gt(ack, una):
            acked = seq_diff(ack, una)
            if self.fin_seq is None and self.fin_queued and seq_gt(ack, self.sendbuf.end):
                # The FIN sent before a timeout (which forgot where it was, to send it again after
                # the data) is acknowledged: it sat right after the data.
                self.fin_seq = self.sendbuf.end
            # A FIN's sequence number is not in the send buffer.
            data_acked = acked
            if self.fin_seq is not None and seq_gt(ack, self.fin_seq):
                data_acked -= 1
            self.sendbuf.ack(ack if self.fin_seq is None or seq_le(ack, self.fin_seq) else self.fin_seq)
            self.snd_una = ack
            if seq_lt(self.snd_nxt, ack):
                self.snd_nxt = ack
            self.retransmits = 0
            rtt = self._rtt_sample(ack, ts)
            if self.hystart is not None and not self.in_recovery and self.cc.in_slow_start():
                if self.hystart.on_ack(ack, self.snd_nxt, rtt):
                    self.cc.ssthresh = self.cc.cwnd  # the queue is filling: slow start ends here
                    self.host.stats["tcp.hystart_exits"] += 1
                    self._trace_cc("hystart")
            self._on_new_ack(ack, acked, seg)
            if seq_ge(ack, self.snd_max):
                self.rto_timer.cancel()
            else:
                self.rto_timer.arm_in(self.rtt.rto)  # RFC 6298 5.3: restart on new data acknowledged
            if data_acked > 0:
                self.events.writable()
        elif ack == una and not seg.payload and not seg.flags & FIN and window == self.snd_wnd and \
                seq_gt(self.snd_max, una):
            self._on_dupack(seg, bool(sack_blocks))
        # Window update (RFC 9293 3.10.7.4): only from a newer segment.
        if seq_lt(self.snd_wl1, seg.seq) or (self.snd_wl1 == seg.seq and seq_le(self.snd_wl2, ack)):
            opened = window > self.snd_wnd
            self.snd_wnd = window
            self.max_snd_wnd = max(self.max_snd_wnd, window)
            self.snd_wl1, self.snd_wl2 = seg.seq, ack
            if opened and window > 0:
                self.persist_timer.cancel()
                self.persist_backoff = 0
        # Our FIN acknowledged?
        if self.fin_seq is not None and seq_gt(self.snd_una, self.fin_seq):
            if self.state is State.FIN_WAIT_1:
                self._set_state(State.FIN_WAIT_2)
            elif self.state is State.CLOSING:
                self._enter_time_wait()
            elif self.state is State.LAST_ACK:
                self._finish(0)
                return False
        return True

    def _rtt_sample(self, ack: int, ts: Timestamps | None) -> int | None:
        if ts is not None and ts.tsecr:
            # RFC 7323 4.1: with timestamps every ACK that advances the window is a sample,
            # retransmissions included (the echoed time says which transmission it was).
            rtt = ((self.ts_now - ts.tsecr) & 0xFFFFFFFF) * NS_PER_MS
            if rtt < 60 * NS_PER_S:
                rtt = max(rtt, NS_PER_MS // 2)
                self.rtt.sample(rtt)
                return rtt
            return None
        if self.rtt_seq is not None and seq_gt(ack, self.rtt_seq):
            rtt = max(1, self.clock.now - self.rtt_time)
            self.rtt.sample(rtt)
            self.rtt_seq = None
            return rtt
        return None

    def _on_new_ack(self, ack: int, acked: int, seg: TCP) -> None:
        """New data acknowledged: grow the window, or make progress in recovery (RFC 6582)."""
        now = self.clock.now
        if self.in_recovery:
            if seq_ge(ack, self.recover):
                self.in_recovery = False  # full ACK: recovery is over
                self.dupacks = 0
                self.cc.on_recovery_exit(now)
                self._trace_cc("recovered")
            elif self.scoreboard is None:
                # NewReno partial ACK (RFC 6582 3.2 step 5): retransmit the next hole, deflate.
                data = self.sendbuf.peek(ack, self._payload_limit())
                if data:
                    self._transmit(ack, ACK, data)
                self.cc.cwnd = max(self.cc.cwnd - acked + self.mss, self.mss)
            return
        self.dupacks = 0
        self.cc.on_ack(acked, now, self.rtt.srtt, self.in_flight())
        if self.host.tracer.enabled:
            self._trace_cc("ack")

    def _on_dupack(self, seg: TCP, has_sack: bool) -> None:
        self.dupacks += 1
        self.stats["dup_acks"] += 1
        if self.in_recovery:
            if self.scoreboard is None:
                self.cc.cwnd += self.mss  # RFC 5681 3.2 step 4: inflate for the segment that left
            return
        lost = self.dupacks >= 3 or (self.scoreboard is not None and self.scoreboard.is_lost(self.snd_una))
        if not lost:
            return
        if seq_lt(self.snd_una, self.recover):
            return  # RFC 6582 4.1: these duplicates belong to data sent before a timeout
        # Fast retransmit (RFC 5681 3.2, RFC 6675 5 step 4).
        self.stats["fast_retransmits"] += 1
        self.host.stats["tcp.fast_retransmits"] += 1
        self.in_recovery = True
        self.recover = self.snd_max
        self.recover_fs = self.in_flight()
        self.prr_delivered = self.prr_out = 0
        self.prr_budget = self.mss  # the fast retransmit itself
        self.cc.on_loss(self.in_flight(), self.clock.now)
        self._trace_cc("fast-retransmit")
        self.rtt_seq = None
        data = self.sendbuf.peek(self.snd_una, self._payload_limit())
        if data:
            self.high_rxt = seq_add(self.snd_una, len(data))
            self._transmit(self.snd_una, ACK, data)
        if self.scoreboard is None:
            self.cc.cwnd = self.cc.ssthresh + 3 * self.mss

    def _trace_cc(self, why: str) -> None:
        host = self.host
        if host.tracer.enabled:
            ssthresh = self.cc.ssthresh if self.cc.ssthresh < (1 << 30) else "inf"
            host.tracer.emit(host.name, None, "tcp", "cwnd",
                             text=f"{self.local[0]}:{self.local[1]} > {self.remote[0]}:{self.remote[1]} "
                                  f"{why}: cwnd={self.cc.cwnd} ssthresh={ssthresh} srtt="
                                  f"{(self.rtt.srtt or 0) / NS_PER_MS:.1f}ms rto={self.rtt.rto / NS_PER_MS:.0f}ms")

    def _receive_data(self, seg: TCP) -> None:
        data = seg.payload
        before = self.rcv_nxt
        had_gap = self.reassembly.queued_bytes > 0
        # Hold no more than the receive buffer has room for, in order or not.
        self.reassembly.capacity = max(0, self.opt.rcvbuf - len(self.recvbuf))
        in_order = self.reassembly.add(seg.seq, data)
        self.rcv_nxt = self.reassembly.rcv_nxt
        if in_order:
            self.recvbuf += in_order
            self.stats["bytes_received"] += len(in_order)
            self.events.readable()
        if seg.seq != before or self.reassembly.queued_bytes > 0:
            self.stats["out_of_order"] += 1
            self.send_ack()  # RFC 5681 4.2: immediately, so the sender sees the hole (dup ACK / SACK)
            return
        if had_gap:
            self.send_ack()  # RFC 5681 4.2: a segment that fills a gap is acknowledged at once
            return
        # Delayed ACK (RFC 5681 4.2, RFC 1122 4.2.3.2): every second full segment, else a timer.
        if len(data) >= self.mss:
            self.unacked_segments += 1
        if self.unacked_segments >= 2 or (seg.flags & PSH and self.opt.nodelay):
            self.send_ack()
        elif not self.delack_timer.armed:
            self.delack_timer.arm_in(self.opt.delayed_ack)

    def _receive_fin(self) -> None:
        self.rcv_nxt = seq_add(self.rcv_nxt, 1)
        if self.reassembly is not None:
            self.reassembly.rcv_nxt = self.rcv_nxt
        self.eof = True
        self.send_ack()
        state = self.state
        if state in (State.SYN_RECEIVED, State.ESTABLISHED):
            self._set_state(State.CLOSE_WAIT)
        elif state is State.FIN_WAIT_1:
            if self.fin_seq is not None and seq_gt(self.snd_una, self.fin_seq):
                self._enter_time_wait()
            else:
                self._set_state(State.CLOSING)  # simultaneous close
        elif state is State.FIN_WAIT_2:
            self._enter_time_wait()
        self.events.readable()

    def _enter_time_wait(self) -> None:
        self._set_state(State.TIME_WAIT)
        self.rto_timer.cancel()
        self.persist_timer.cancel()
        self.keepalive_timer.cancel()
        self.timewait_timer.arm_in(2 * self.opt.msl)

    # ============================================================================ the API side ======
    def write(self, data: bytes) -> int:
        """Queue bytes to send; returns how many fit in the send buffer."""
        if self.state not in CAN_SEND and self.state not in (State.SYN_SENT, State.SYN_RECEIVED):
            raise OSError(errno.EPIPE, "Broken pipe")
        if self.fin_queued:
            raise OSError(errno.EPIPE, "Broken pipe (the sending side was shut down)")
        n = self.sendbuf.write(data)
        if n and self.state in CAN_SEND:
            self.output()
        return n

    def read(self, n: int = -1) -> bytes:
        """Take up to n received bytes (all when n < 0); a window update goes out when reading
        opened the window enough to matter."""
        if n < 0 or n >= len(self.recvbuf):
            data = bytes(self.recvbuf)
            self.recvbuf.clear()
        else:
            data = bytes(self.recvbuf[:n])
            del self.recvbuf[:n]
        if data and self.state in SYNCHRONIZED and self.state is not State.TIME_WAIT:
            offered = seq_diff(self.rcv_adv, self.rcv_nxt) if self.rcv_adv else 0
            could = min(self.rcv_window(), 65535 << self.rcv_wscale)
            # A window update only when the window we offered had become small (under a quarter
            # of the buffer) and reading has at least doubled it (Linux's tcp_cleanup_rbuf rule), by
            # one segment or more: a nearly-closed window reopening is news; every read is not.
            if offered < self.opt.rcvbuf // 4 and could >= 2 * offered and could - offered >= self.our_mss:
                self.send_ack()
        return data

    @property
    def readable_bytes(self) -> int:
        return len(self.recvbuf)

    def shutdown_write(self) -> None:
        """shutdown(SHUT_WR) / close(): queue our FIN after the data."""
        if self.state in (State.SYN_SENT, State.LISTEN, State.CLOSED):
            self._finish(0)
            return
        if self.fin_queued:
            return
        self.fin_queued = True
        if self.state in CAN_SEND:
            self.output()

    def abort(self) -> None:
        """Reset the connection (close() with unread data, SO_LINGER 0, or an abort())."""
        if self.state in SYNCHRONIZED and self.state is not State.TIME_WAIT or self.state is State.SYN_RECEIVED:
            self._send(RST | ACK, self.snd_nxt)
            self.host.stats["tcp.resets_sent"] += 1
        self._finish(errno.ECONNABORTED)

    def _abort(self, err: int) -> None:
        if self.state in SYNCHRONIZED and self.state is not State.TIME_WAIT:
            self._send(RST | ACK, self.snd_nxt)
            self.host.stats["tcp.resets_sent"] += 1
        self._finish(err)

    def _finish(self, err: int) -> None:
        """The connection ends: CLOSED, timers stopped, the application told."""
        if self.state is State.CLOSED and self.error:
            return
        self.error = err
        for t in (self.rto_timer, self.delack_timer, self.persist_timer, self.keepalive_timer, self.timewait_timer):
            t.cancel()
        self._set_state(State.CLOSED)
        self.layer.forget(self)
        self.events.closed(err)

    # -- entry points for the layer ---------------------------------------------------------------------
    def route_changed(self, route: "RouteHandle") -> None:
        """The routing table changed: the layer hands a fresh route handle."""
        self.route = route

    def path_mtu_changed(self, mtu: int) -> None:
        """RFC 1191: the path MTU is now ``mtu``: send smaller segments, and resend what did not fit."""
        new_mss = max(64, mtu - 40 - (12 if self.ts_ok else 0))
        if new_mss >= self.mss:
            return
        self.mss = new_mss
        self.cc.mss = new_mss
        self.send_size = new_mss
        if self.scoreboard is not None:
            self.scoreboard.mss = new_mss
        self.host.stats["tcp.pmtu_reductions"] += 1
        self.snd_nxt = self.snd_una
        self.output()

    def icmp_error(self, err: "TransportError") -> None:
        """Linux's tcp_v4_err: while connecting, an error ends the attempt; later it is soft."""
        if self.state is State.SYN_SENT:
            self._finish(err.errno)
        else:
            self.soft_error = err.errno

    soft_error = 0
    syn_time = 0
    last_heard = 0
