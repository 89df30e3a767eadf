"""One TCP connection: the state machine of RFC 9293, with its send side (sender.py), receive
side (receiver.py) and loss recovery (recovery.py).

Reliable, ordered delivery with retransmission (RFC 6298), SACK (RFC 2018) with loss recovery
(RFC 6675), fast retransmit and NewReno fast recovery (RFC 5681, 6582), window scaling and
timestamps with PAWS (RFC 7323), Nagle, delayed ACKs, zero-window probing, silly-window
avoidance, keepalive, and the RFC 5961 defences against blind RST/SYN/ACK injection.

The connection is sans-IO: segments come in through :meth:`segment_arrives` and go out through
its context's ``output``; the application side reads from and writes to its buffers and is told
about changes through :class:`Events` callbacks. The TCP layer tells it about the path through
one method per cause: :meth:`path_mtu_changed`, :meth:`icmp_error`, :meth:`route_changed`.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from ...runtime import NS_PER_MS, NS_PER_S, Timer
from ...stack.errors import ErrorKind
from ...wire.tcp import MSS, NOP, TCP, Sack, SackPermitted, TCPFlags, Timestamps, WindowScale
from .receiver import ACK_NOW, DELIVERED, Receiver
from .sender import DEFAULT_MSS, TCP_RTO_MAX, Sender
from .seq import seq_add, seq_diff, seq_gt, seq_le, seq_lt
from .state import CAN_RECEIVE, CAN_SEND, SYNCHRONIZED, State

if TYPE_CHECKING:
    from ...stack.errors import TransportError
    from ...stack.route import RouteHandle
    from .congestion import CongestionControl
    from .context import TCPContext
    from .rtt import RTTEstimator
    from .sendbuffer import SendBuffer

# State and its sets live in state.py (the sender needs them too); the layer imports them from here.
__all__ = ["CAN_RECEIVE", "CAN_SEND", "SYNCHRONIZED", "Events", "Options", "State", "TCPConnection"]

# Plain ints, not TCPFlags members: IntFlag's & costs a Python call per test on the hot path.
FIN, SYN, RST, PSH, ACK = int(TCPFlags.FIN), int(TCPFlags.SYN), int(TCPFlags.RST), int(TCPFlags.PSH), int(TCPFlags.ACK)
_NOP = NOP()
IP_TCP_HEADERS = 40  # IPv4 + TCP headers without options: MSS = MTU - 40 (RFC 9293 3.7.1)
MIN_MTU = 576  # RFC 791: what every host must accept, when there is no route to say more
TS_OPTION = 12  # the timestamp option with its padding, in every segment once negotiated
# RFC 7323 5.5: after this long without a new TS.Recent, the peer's clock may have wrapped and
# PAWS is not applied. Linux's TCP_PAWS_WRAP (INT_MAX / USEC_PER_SEC s, since 6.7: a peer's clock
# may tick in microseconds); before, and in RFC 7323, 24 days (TCP_PAWS_24DAYS).
PAWS_IDLE = (2**31 - 1) // 1_000_000 * NS_PER_S
MIN_MSS = 48  # Linux's floor, net.ipv4.tcp_min_snd_mss (IP floors a reported MTU at min_pmtu 552)
# Linux's tcp_req_err: the errors that drop a listener's half-open child (the others are ignored):
# time exceeded, parameter problem, and net or host unreachable with code 0 or 1 exactly.
_DROPS_CHILD = {ErrorKind.TTL_EXCEEDED, ErrorKind.REASSEMBLY_TIMEOUT, ErrorKind.PARAMETER_PROBLEM}
_DROPS_CHILD_UNREACH = {ErrorKind.NET_UNREACHABLE, ErrorKind.HOST_UNREACHABLE}


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
        self.min_rto = 200 * NS_PER_MS  # Linux's TCP_RTO_MIN; a floor on the RTO's variance term
        self.recovery = "rack"  # or "rfc6675": with SACK, RACK-TLP (Linux's tcp_recovery=1) or DupThresh
        self.frto = True  # F-RTO (RFC 5682), as Linux's net.ipv4.tcp_frto=2 (with RACK)
        self.initial_rto = NS_PER_S
        self.user_timeout = 0  # TCP_USER_TIMEOUT, ns; 0: off
        # An orphan (closed by the application) in FIN-WAIT-2 ends after this (net.ipv4.tcp_fin_timeout).
        self.fin_timeout = 60 * NS_PER_S
        # Retries for an orphan (net.ipv4.tcp_orphan_retries); 0 means 8 while the RTO is under
        # TCP_RTO_MAX, as Linux's tcp_orphan_retries.
        self.orphan_retries = 0
        # At most one ACK per this interval to segments that fail the checks (out of window, a
        # challenge ACK): net.ipv4.tcp_invalid_ratelimit, RFC 5961 7.
        self.invalid_ratelimit = 500 * NS_PER_MS
        self.reuseaddr = False  # SO_REUSEADDR: bind a port whose only users are not listening
        for k, v in kw.items():
            if not hasattr(self, k):
                raise TypeError(f"unknown TCP option {k!r}")
            setattr(self, k, v)
        if self.recovery not in ("rack", "rfc6675"):
            raise ValueError(f"recovery must be 'rack' or 'rfc6675', not {self.recovery!r}")

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



class TCPConnection:
    """The TCB and its behaviour. Created by the TCP layer for connect() and for each SYN a
    listener accepts; ``ctx`` is all it knows of the world (clock, random source, observer,
    output), ``route`` where its segments go (None: no route known, a 576-byte MTU assumed)."""

    def __init__(self, ctx: "TCPContext", local: tuple[str, int], remote: tuple[str, int],
                 options: Options, iss: int, route: "RouteHandle | None") -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.obs = ctx.obs
        self._output = ctx.output
        self.local = local
        self.remote = remote
        self.opt = options
        self.route = route
        self.state = State.CLOSED
        self.events: Events = Events()
        self.error = 0
        self.soft_error = 0  # the last ICMP error that did not end the connection (sk_err_soft)
        self.listener = None  # the listener a passive connection belongs to
        self.iss = iss
        # -- negotiated in the SYNs
        self.our_mss = (route.mtu if route is not None else MIN_MTU) - IP_TCP_HEADERS
        self.sack_ok = False
        self.ts_ok = False
        self.ts_recent = 0
        self.ts_recent_age = 0
        # Whether TS.Recent holds a timestamp PAWS may judge by: its own flag, since 0 is a valid
        # TSval (a peer's clock passes through it). Not set from a SYN whose TSval is 0: some
        # hosts send 0 there and real values after, which Linux's tcp_paws_check lets through.
        self.ts_recent_valid = False
        self.ts_offset = ctx.rng.getrandbits(32)  # RFC 7323 5.4: randomised per connection
        self.wscale_ok = False
        self.syn_tries = 0  # SYN (SYN+ACK) timeouts (Linux's num_timeout)
        self.synack_resent = False  # our SYN+ACK went again for a retransmitted SYN (num_retrans)
        self.path_mtu = 0  # the smallest MTU a frag-needed reported (Linux's icsk_pmtu_cookie); 0: none
        # -- statistics, like `ss -i` (shared with the sender and the receiver)
        self.stats = {"segments_sent": 0, "segments_received": 0, "bytes_sent": 0, "bytes_received": 0,
                      "retransmissions": 0, "timeouts": 0, "fast_retransmits": 0, "dup_acks": 0,
                      "challenge_acks": 0, "out_of_order": 0, "zero_window_probes": 0, "loss_probes": 0}
        # -- timers (one heap entry each, re-armed by moving a deadline); dispatched from here
        clock = self.clock
        self.rto_timer = Timer(clock, self._on_rto)
        self.delack_timer = Timer(clock, self._on_delack)
        self.persist_timer = Timer(clock, self._on_persist)
        self.keepalive_timer = Timer(clock, self._on_keepalive)
        self.timewait_timer = Timer(clock, self._on_timewait)
        self.keepalive_sent = 0
        self.last_activity = clock.now
        # -- the application's side of the socket (Linux: SOCK_DEAD, RCV_SHUTDOWN)
        self.orphaned = False  # close()d: nobody will read or write again
        self.rcv_shutdown = False  # close() or shutdown(SHUT_RD)
        # -- probing and rate limits (Linux: icsk_probes_out, icsk_probes_tstamp, rcv_tstamp,
        #    last_oow_ack_time)
        self.probes_out = 0  # zero-window probes unanswered (any acceptable ACK answers them)
        self.probe0_since = 0  # when the zero-window probing of this stall began
        self.rcv_tstamp = clock.now  # when the last acceptable ACK arrived
        self.last_oow_ack: int | None = None  # when we last answered a segment that failed a check
        # The head of a stall (RTOs with nothing acknowledged) and when it was first sent, about:
        # Linux's retrans_stamp, from which tcp_write_timeout and the user timeout count.
        self._stall_una: int | None = None
        self._stall_since = 0
        # -- the two directions
        self.rcv = Receiver(options, self.our_mss, self.stats, self.obs)
        self.snd = Sender(self, self.rcv, options, iss, self.rto_timer, self.persist_timer,
                          route.tso_max if route is not None else 0)

    def __repr__(self) -> str:
        return (f"<TCP {self.local[0]}:{self.local[1]} -> {self.remote[0]}:{self.remote[1]} {self.state.value} "
                f"una={self.snd.snd_una} nxt={self.snd.snd_nxt} rcv_nxt={self.rcv.rcv_nxt} cwnd={self.snd.cc.cwnd}>")

    # -- read-only views for sockets and tools (TCP_INFO, `ss`) -------------------------------------
    @property
    def mss(self) -> int:
        return self.snd.mss

    @property
    def send_size(self) -> int:
        return self.snd.send_size

    @property
    def cc(self) -> "CongestionControl":
        return self.snd.cc

    @property
    def rtt(self) -> "RTTEstimator":
        return self.snd.rtt

    @property
    def sendbuf(self) -> "SendBuffer":
        return self.snd.sendbuf

    @property
    def snd_una(self) -> int:
        return self.snd.snd_una

    @property
    def snd_nxt(self) -> int:
        return self.snd.snd_nxt

    @property
    def snd_wnd(self) -> int:
        return self.snd.snd_wnd

    @property
    def snd_wscale(self) -> int:
        return self.snd.snd_wscale

    @property
    def rcv_nxt(self) -> int:
        return self.rcv.rcv_nxt

    @property
    def rcv_wscale(self) -> int:
        return self.rcv.rcv_wscale

    @property
    def eof(self) -> bool:
        return self.rcv.eof

    @property
    def readable_bytes(self) -> int:
        return len(self.rcv.recvbuf)

    def rcv_window(self) -> int:
        """Free space in the receive buffer (what we can still take)."""
        return self.rcv.window()

    def in_flight(self) -> int:
        return self.snd.in_flight()

    # ============================================================================ helpers ==========
    def _set_state(self, state: State) -> None:
        if state is self.state:
            return
        old = self.state
        self.state = state
        obs = self.obs
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, None, "tcp", "state",
                            text=f"{self.local[0]}:{self.local[1]} > {self.remote[0]}:{self.remote[1]} "
                                 f"{old.value} -> {state.value}")
        self.ctx.state_changed(self, old, state)

    @property
    def ts_now(self) -> int:
        """TSval: a millisecond clock (RFC 7323 5.4 allows 1 ms to 1 s ticks) with a random offset."""
        return (self.clock.now // NS_PER_MS + self.ts_offset) & 0xFFFFFFFF

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
            opts += [NOP(), WindowScale(self.rcv.rcv_wscale)]
        return tuple(opts)

    def _send(self, flags: int, seq: int, data: bytes = b"", options: tuple | None = None) -> None:
        """Build and send one segment; every segment but the first SYN carries an ACK. The one
        place where both directions meet: our sequence number, their acknowledgment, the window."""
        rcv = self.rcv
        if options is None:
            if self.ts_ok:
                ts = (self.clock.now // NS_PER_MS + self.ts_offset) & 0xFFFFFFFF
                options = (_NOP, _NOP, Timestamps(ts, self.ts_recent))
            else:
                options = ()
            reassembly = rcv.reassembly
            if self.sack_ok and reassembly is not None and reassembly.queued_bytes and not flags & SYN:
                # 40 bytes of options: with timestamps (12) room for 3 SACK blocks, else 4.
                blocks = reassembly.sack_blocks(limit=3 if options else 4)
                if blocks:
                    options += (_NOP, _NOP, Sack(tuple(blocks)))
        if flags & SYN:
            window = min(rcv.window(), 65535)  # RFC 7323 2.2: a SYN's window is never scaled
            if flags & ACK:
                rcv.rcv_adv = seq_add(rcv.rcv_nxt, window)
        else:
            window = rcv.window_to_advertise()
            rcv.rcv_adv = seq_add(rcv.rcv_nxt, window)
            window >>= rcv.rcv_wscale
        ack = rcv.rcv_nxt if flags & ACK else 0
        seg = TCP(self.local[1], self.remote[1], seq, ack, flags, min(window, 65535), data, 0, options)
        if flags & ACK:
            rcv.last_ack_sent = rcv.rcv_nxt
            rcv.unacked_segments = 0
            self.delack_timer.cancel()
        self.stats["segments_sent"] += 1
        self.last_activity = self.clock.now
        self._output(self, seg)

    def send_ack(self) -> None:
        self._send(ACK, self._acceptable_seq())

    def _acceptable_seq(self) -> int:
        """The sequence number of a segment without data (Linux's tcp_acceptable_seq): snd_nxt,
        unless it lies beyond the peer's window (the window shrank, or closed, under data in
        flight) -- then the window's right edge, which the peer can accept; with snd_nxt its
        acceptability check drops our ACKs and the window updates in them."""
        snd = self.snd
        nxt = snd.snd_nxt
        wnd_end = seq_add(snd.snd_una, snd.snd_wnd)
        if seq_le(nxt, wnd_end) or (self.wscale_ok and seq_diff(nxt, wnd_end) < (1 << self.rcv.rcv_wscale)):
            return nxt
        return wnd_end

    def _challenge_ack(self) -> None:
        """RFC 5961 3.2/4.2/5.2: answer a suspicious segment with an ACK that tells the real peer
        where we are; a blind attacker learns nothing. Rate-limited (RFC 5961 7) as Linux's
        tcp_send_challenge_ack: per connection first, then the host-wide budget
        (net.ipv4.tcp_challenge_ack_limit)."""
        if self._oow_rate_limited():
            self.obs.stats["tcp.acks_skipped_challenge"] += 1  # Linux's TCPACKSkippedChallenge
            return
        if not self.ctx.challenge_ack_allowed():
            self.obs.stats["tcp.challenge_acks_host_limited"] += 1
            return
        self.stats["challenge_acks"] += 1
        self.obs.stats["tcp.challenge_acks"] += 1
        self.send_ack()

    def _oow_rate_limited(self) -> bool:
        """Linux's __tcp_oow_rate_limited: at most one answer per net.ipv4.tcp_invalid_ratelimit
        to segments that fail the checks, so that neither a confused peer nor a forger can make
        us send an ACK for each of theirs (two stacks answering each other's answers loop)."""
        now = self.clock.now
        last = self.last_oow_ack
        if last is not None and 0 <= now - last < self.opt.invalid_ratelimit:
            return True
        self.last_oow_ack = now
        return False

    def send_rst(self) -> None:
        self._send(RST | ACK, self._acceptable_seq())

    def output(self, force_ack: bool = False) -> None:
        """Send what the windows allow: new data, retransmissions in recovery, our FIN."""
        self.snd.output(force_ack)

    def fin_sent(self) -> None:
        """The sender put our FIN on the wire (RFC 9293 3.6)."""
        if self.state is State.ESTABLISHED:
            self._set_state(State.FIN_WAIT_1)
        elif self.state is State.CLOSE_WAIT:
            self._set_state(State.LAST_ACK)

    # ============================================================================ the path =========
    def path_mtu_changed(self, mtu: int) -> None:
        """ICMP fragmentation needed (RFC 1191), as Linux's tcp_v4_mtu_reduced: a smaller MSS for
        everything from now on, and what was sent at the old size resent at the new one. The MTU
        is kept: one reported about our SYN still bounds the MSS the SYN+ACK negotiates."""
        if not self.path_mtu or mtu < self.path_mtu:
            self.path_mtu = mtu
        new_mss = self._path_mss()
        snd = self.snd
        if new_mss >= snd.mss:
            return
        snd.set_mss(new_mss)
        self.obs.stats["tcp.pmtu_reductions"] += 1
        if self.state in SYNCHRONIZED:
            snd.simple_retransmit()

    def _path_mss(self) -> int:
        """What one segment may carry on the path MTU (Linux's tcp_mtu_to_mss, floored at
        tcp_min_snd_mss)."""
        return max(MIN_MSS, self.path_mtu - IP_TCP_HEADERS - (TS_OPTION if self.ts_ok else 0))

    def accepts_icmp_seq(self, seq: int) -> bool:
        """Whether an ICMP error quoting sequence number ``seq`` can be about a segment we have in
        flight: snd_una <= seq <= snd_nxt, as Linux's tcp_v4_err checks (OUTOFWINDOWICMPS); a
        half-open child of a listener only for its ISN (tcp_req_err). A blind attacker must guess."""
        if self.state is State.SYN_RECEIVED and self.listener is not None:
            return seq == self.iss
        return seq_le(self.snd.snd_una, seq) and seq_le(seq, self.snd.snd_nxt)

    def icmp_error(self, err: "TransportError") -> None:
        """An ICMP error (or a failed ARP resolution) about a segment we sent, as Linux's
        tcp_v4_err. While connecting, it ends the connection at once with its errno; a
        listener's half-open child is dropped on a hard error; otherwise the error is soft
        (RFC 1122 4.2.3.9): remembered, and reported if the connection later times out."""
        kind = err.kind
        if kind is ErrorKind.FRAG_NEEDED:
            return  # not an error: the layer calls path_mtu_changed
        state = self.state
        if state is State.SYN_SENT or (state is State.SYN_RECEIVED and self.listener is None):
            self._finish(err.errno)
        elif state is State.SYN_RECEIVED:
            if kind in _DROPS_CHILD or (kind in _DROPS_CHILD_UNREACH and err.code in (0, 1)):
                self._finish(0)  # forget the half-open connection; the listener goes on
        elif state is not State.CLOSED:
            self.soft_error = err.errno

    def route_changed(self, route: "RouteHandle") -> None:
        """The routing table changed: a fresh handle for our destination."""
        old_mtu = self.route.mtu if self.route is not None else MIN_MTU
        self.route = route
        if route.mtu < old_mtu:
            self.path_mtu_changed(route.mtu)

    # ============================================================================ timers ===========
    def _on_rto(self) -> None:
        """RFC 6298 5.4-5.7: retransmit the earliest unacknowledged segment, back off the timer."""
        if self.state in (State.CLOSED, State.TIME_WAIT, State.LISTEN):
            return
        snd = self.snd
        if self.state is State.SYN_SENT or self.state is State.SYN_RECEIVED:
            limit = self.opt.syn_retries if self.state is State.SYN_SENT else self.opt.synack_retries
            if self.syn_tries >= limit:
                self._abort(self.soft_error or errno.ETIMEDOUT)
                return
            self.syn_tries += 1
            snd.rtt.backoff()
            self.stats["retransmissions"] += 1
            self.obs.stats["tcp.retransmitted_segments"] += 1
            flags = SYN if self.state is State.SYN_SENT else SYN | ACK
            self._send(flags, self.iss, options=self._options_for_syn())
            self.rto_timer.arm_in(snd.rtt.rto)
            return
        if seq_le(snd.snd_max, snd.snd_una):
            return  # nothing outstanding
        if snd.timer_kind:  # a tail loss probe or RACK's reordering timer, not a timeout
            snd.on_early_timer()
            return
        if snd.snd_wnd == 0 and not self.orphaned:
            if self._probe0_timed_out():
                self._write_err()
                return
        else:
            snd.retransmits += 1
            limit = self._orphan_retries(snd.rtt.rto < TCP_RTO_MAX) if self.orphaned else self.opt.max_retries
            if snd.retransmits > limit:
                # Linux's tcp_write_err: the last soft error (an unreachable) says more than ETIMEDOUT.
                self._abort(self.soft_error or errno.ETIMEDOUT)
                return
        user_timeout = self.opt.user_timeout
        if user_timeout:
            # RFC 5482 / RFC 9293 3.8.3: data unacknowledged for the user timeout ends the
            # connection (Linux's retransmits_timed_out from retrans_stamp, then tcp_write_err).
            waited = self.clock.now - self._stall_start()
            if waited >= user_timeout:
                self._write_err()
                return
        if snd.snd_wnd:
            snd.on_timeout()
            if user_timeout:
                self._clamp_rto_to_user_timeout(user_timeout - waited)
            return
        # The peer's window is closed (it shrank under data in flight): as Linux's
        # tcp_retransmit_timer, the head is retransmitted whatever the window, as the probe.
        sent = self.stats["segments_sent"]
        snd.on_timeout()  # loss state, backoff, the timer re-armed; the closed window sends nothing
        if self.stats["segments_sent"] == sent:
            snd.retransmit_head()

    def _clamp_rto_to_user_timeout(self, left: int) -> None:
        """Linux's tcp_clamp_rto_to_user_timeout: the next RTO fires no later than the user
        timeout's end, so the connection gives up on time, not a backed-off timer later."""
        timer = self.rto_timer
        if timer.armed and timer.deadline - self.clock.now > left:  # type: ignore[operator]
            timer.arm_in(max(left, 1))

    def _probe0_timed_out(self) -> bool:
        """An RTO into a zero window is not a retry (Linux's tcp_retransmit_timer: "receiver
        dastardly shrinks window"); the connection gives up only when the peer has been silent
        and we have been retransmitting for 2 * TCP_RTO_MAX, or for the user timeout (Linux's
        tcp_rtx_probe0_timed_out). An orphan counts retries instead, to its own limit."""
        snd = self.snd
        now = self.clock.now
        retransmitting = now - self._stall_start()
        timeout = 2 * TCP_RTO_MAX
        user_timeout = self.opt.user_timeout
        if user_timeout:
            if retransmitting > user_timeout:
                return True
            timeout = min(timeout, user_timeout)
        return now - self.rcv_tstamp > timeout and retransmitting > timeout

    def _stall_start(self) -> int:
        """When the head of the current stall was first sent (Linux's retrans_stamp): noted at
        the first RTO with a new snd_una, as the time the expired timer was armed for it."""
        snd = self.snd
        if self._stall_una != snd.snd_una:
            self._stall_una, self._stall_since = snd.snd_una, self.clock.now - snd.rtt.rto
        return self._stall_since

    def _write_err(self) -> None:
        """Linux's tcp_write_err: give up without a RST (nobody answers), with the last soft error
        (an unreachable) if there was one, else ETIMEDOUT."""
        self.obs.stats["tcp.abort_on_timeout"] += 1
        self._finish(self.soft_error or errno.ETIMEDOUT)

    def _orphan_retries(self, alive: bool) -> int:
        """Linux's tcp_orphan_retries: net.ipv4.tcp_orphan_retries, where 0 means 8 while the timer
        is still under TCP_RTO_MAX, and none once an ICMP error said the peer is gone."""
        retries = self.opt.orphan_retries
        if self.soft_error and not alive:
            retries = 0
        if retries == 0 and alive:
            retries = 8
        return retries

    def _on_delack(self) -> None:
        if self.state in SYNCHRONIZED and self.rcv.rcv_nxt != self.rcv.last_ack_sent:
            self.send_ack()

    def _on_persist(self) -> None:
        """Zero-window probe or silly-window override (RFC 9293 3.8.6.1, 3.8.6.2.1), as Linux's
        tcp_probe_timer and tcp_send_probe0: the connection stays up as long as the peer answers
        the probes (RFC 1122 4.2.2.17), and gives up after max_retries unanswered ones
        (net.ipv4.tcp_retries2; an orphan's tcp_orphan_retries), or when the window has stayed
        shut for the user timeout."""
        snd = self.snd
        if self.state not in (State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1) or \
                seq_lt(snd.snd_una, snd.snd_max) or \
                (snd.snd_nxt == snd.sendbuf.end and not (snd.fin_queued and snd.fin_seq is None)):
            snd.persist_backoff = 0
            self.probes_out = 0
            return
        now = self.clock.now
        if snd.persist_backoff == 0:
            self.probe0_since = now  # the first probe of this stall (icsk_probes_tstamp)
        user_timeout = self.opt.user_timeout
        if user_timeout and now - self.probe0_since >= user_timeout:
            self._write_err()
            return
        max_probes = self.opt.max_retries
        if self.orphaned:
            alive = (snd.rtt.rto << snd.persist_backoff) < TCP_RTO_MAX
            max_probes = self._orphan_retries(alive)
            if not alive and snd.persist_backoff >= max_probes:
                self._write_err()
                return
        if self.probes_out >= max_probes:
            self._write_err()
            return
        snd.probe()
        if seq_lt(snd.snd_una, snd.snd_max):
            snd.persist_backoff = 0  # data went out: the retransmission timer watches it now
            self.probes_out = 0
            return
        self.probes_out += 1
        if snd.persist_backoff < self.opt.max_retries:
            snd.persist_backoff += 1
        # tcp_clamp_probe0_to_user_timeout: the next probe no later than the user timeout.
        snd.arm_persist(user_timeout - (now - self.probe0_since) if user_timeout else None)

    def _on_keepalive(self) -> None:
        if not self.opt.keepalive or self.state not in (State.ESTABLISHED, State.CLOSE_WAIT):
            return
        snd = self.snd
        if snd.snd_una != snd.snd_max or seq_lt(snd.snd_nxt, snd.sendbuf.end) or \
                (snd.fin_queued and snd.fin_seq is None):
            # Linux's tcp_keepalive_timer: "it is alive without keepalive": with data in flight or
            # waiting for the window, the retransmission or persist timer watches the peer.
            self.keepalive_timer.arm_in(self.opt.keepalive_time)
            return
        idle = self.clock.now - self.last_heard
        if idle < self.opt.keepalive_time and self.keepalive_sent == 0:
            self.keepalive_timer.arm(self.last_heard + self.opt.keepalive_time)
            return
        user_timeout = self.opt.user_timeout
        if (self.keepalive_sent and idle >= user_timeout) if user_timeout else \
                self.keepalive_sent >= self.opt.keepalive_probes:
            # ETIMEDOUT even after an unreachable (Linux's tcp_write_err would report that soft
            # error here too; kept as before until the sockets' tests say which they want).
            self._abort(errno.ETIMEDOUT)
            return
        self.keepalive_sent += 1
        self.obs.stats["tcp.keepalive_probes"] += 1
        self._send(ACK, seq_add(self.snd.snd_una, -1))  # an old sequence number: the peer must answer
        self.keepalive_timer.arm_in(self.opt.keepalive_interval)

    def _on_timewait(self) -> None:
        if self.state is State.TIME_WAIT:
            self._finish(0)
        elif self.state is State.FIN_WAIT_2 and self.orphaned:
            # Linux ends it silently too (the FIN-WAIT-2 timewait socket expires; no RST).
            self.obs.stats["tcp.fin_wait2_timeouts"] += 1
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
        snd = self.snd
        snd.snd_nxt = snd.snd_max = seq_add(self.iss, 1)
        self._send(SYN, self.iss, options=self._options_for_syn())
        self.rto_timer.arm_in(snd.rtt.rto)

    def open_passive(self, syn: TCP) -> None:
        """A listener accepted a SYN: note its options and answer SYN+ACK."""
        self._syn_received(syn)
        self._send(SYN | ACK, self.iss, options=self._options_for_syn())
        self.rto_timer.arm_in(self.snd.rtt.rto)

    def open_from_cookie(self, ack: TCP, syn_options: tuple, ts_offset: int) -> None:
        """The ACK of a SYN cookie came back (RFC 4987 3.6, Linux's cookie_v4_check): SYN-RECEIVED
        as if we had kept the SYN (its options are what the cookie encoded), then the ACK is
        the third segment of the handshake. ``ts_offset`` is the one our SYN+ACK's TSval used."""
        self.ts_offset = ts_offset
        self._syn_received(TCP(ack.sport, ack.dport, seq_add(ack.seq, -1), 0, SYN, ack.window, b"", 0,
                               syn_options))
        rcv = self.rcv
        rcv.rcv_adv = seq_add(rcv.rcv_nxt, min(rcv.window(), 65535))  # what our SYN+ACK offered
        rcv.last_ack_sent = rcv.rcv_nxt
        self.syn_tries = 1  # Karn: the SYN+ACK's send time was not kept, so no RTT sample
        self.segment_arrives(ack)

    def new_incarnation(self, syn: TCP) -> int | None:
        """A SYN (without ACK) for our 4-tuple in TIME-WAIT: if it cannot be an old duplicate (a
        sequence number above rcv_nxt, or with timestamps a newer TSval), TIME-WAIT ends and the
        ISN for the new connection is returned, above anything this one sent (RFC 1122 4.2.2.13,
        RFC 6191; Linux's tcp_timewait_state_process and its tw_snd_nxt + 65535 + 2). Else None."""
        if self.state is not State.TIME_WAIT:
            return None
        ts = next((o for o in syn.options if type(o) is Timestamps), None) if self.ts_ok else None
        if ts is not None and self.ts_recent_valid and seq_lt(ts.tsval, self.ts_recent):
            return None  # PAWS rejects it (tcp_paws_reject)
        if not (seq_gt(syn.seq, self.rcv.rcv_nxt) or ts is not None and seq_gt(ts.tsval, self.ts_recent)):
            return None
        iss = seq_add(self.snd.snd_nxt, 65535 + 2) or 1
        self._finish(0)
        return iss

    def _syn_received(self, syn: TCP) -> None:
        self.rcv.synchronize(syn.seq)
        self._take_syn_options(syn)
        snd = self.snd
        snd.snd_wnd = syn.window  # never scaled in a SYN
        snd.max_snd_wnd = snd.snd_wnd
        snd.snd_wl1, snd.snd_wl2 = syn.seq, self.iss
        self._set_state(State.SYN_RECEIVED)
        self.syn_time = self.clock.now
        snd.snd_nxt = snd.snd_max = seq_add(self.iss, 1)

    def _take_syn_options(self, syn: TCP) -> None:
        peer_mss = DEFAULT_MSS
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
                    self.ts_recent_valid = o.tsval != 0
        if ws is not None and self.opt.window_scaling:
            self.wscale_ok = True
            self.snd.snd_wscale = min(ws, 14)  # RFC 7323 2.3: more than 14 is treated as 14
        else:
            self.rcv.rcv_wscale = 0
        # A frag-needed about our SYN bounds the MSS too (Linux: tcp_sync_mss(sk, icsk_pmtu_cookie)).
        path_limit = self.path_mtu - IP_TCP_HEADERS if self.path_mtu else self.our_mss
        self.snd.negotiated(peer_mss, min(self.our_mss, path_limit), self.ts_ok, self.sack_ok)
        self.rcv.open_queue()

    def _resend_synack(self) -> None:
        """A retransmitted SYN reached our half-open child: the SYN+ACK again at once, at most
        one per tcp_invalid_ratelimit, and the timer restarted (Linux's tcp_check_req: "pure
        retransmitted SYN", inet_rtx_syn_ack). Karn: no clock sample from the handshake now."""
        if self._oow_rate_limited():
            self.obs.stats["tcp.acks_skipped_synrecv"] += 1  # LINUX_MIB_TCPACKSKIPPEDSYNRECV
            return
        self.synack_resent = True
        self.stats["retransmissions"] += 1
        self.obs.stats["tcp.retransmitted_segments"] += 1
        self._send(SYN | ACK, self.iss, options=self._options_for_syn())
        if self.rto_timer.armed:
            self.rto_timer.arm_in(self.snd.rtt.rto)

    def _handshake_rtt(self, ts: Timestamps | None) -> int | None:
        """The handshake's RTT sample: the time since our SYN (or SYN+ACK) if it went once
        (Karn), else the echoed timestamp, which says which copy was answered (Linux's
        tcp_synack_rtt_meas and tcp_ack_update_rtt); None: no sample."""
        if self.syn_tries == 0 and not self.synack_resent:
            return max(1, self.clock.now - self.syn_time)
        if ts is not None and ts.tsecr:
            rtt = ((self.ts_now - ts.tsecr) & 0xFFFFFFFF) * NS_PER_MS
            if rtt < 60 * NS_PER_S:
                return max(rtt, NS_PER_MS // 2)
        return None

    def _established(self) -> None:
        self._set_state(State.ESTABLISHED)
        self.snd.retransmits = 0
        self.syn_tries = 0
        self.start_keepalive()
        self.events.established()

    # ============================================================================ input ============
    def segment_arrives(self, seg: TCP) -> None:
        """RFC 9293 3.10.7.3/3.10.7.4, in its order of checks."""
        self.stats["segments_received"] += 1
        state = self.state
        if state is State.SYN_SENT:
            self._syn_sent(seg)
            return
        if state is State.CLOSED:
            return
        rcv = self.rcv
        flags = seg.flags
        seg_len = len(seg.payload) + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)
        ts = None
        if self.ts_ok:
            for o in seg.options:
                if type(o) is Timestamps:
                    ts = o
                    break
            # PAWS (RFC 7323 5.3) as Linux's tcp_paws_discard: a segment whose timestamp is older
            # than TS.Recent by more than TCP_PAWS_WINDOW (1 tick) is an old duplicate, unless
            # TS.Recent is stale (RFC 7323 5.5: not taken for PAWS_IDLE, on our clock) or not valid
            # (nothing but a SYN's TSval 0 seen yet; a TS.Recent of 0 taken later counts).
            if ts is not None and not flags & RST and self.ts_recent_valid and \
                    1 < ((self.ts_recent - ts.tsval) & 0xFFFFFFFF) < 0x80000000 and \
                    self.clock.now - self.ts_recent_age < PAWS_IDLE:
                self.obs.stats["tcp.paws_rejected"] += 1
                self.obs.drop("tcp", "paws", None, text=f"old timestamp {ts.tsval} < {self.ts_recent}")
                # Linux's tcp_validate_incoming: a SYN goes to the challenge ACK (rate-limited
                # per socket and host), anything else gets a duplicate ACK, rate-limited unless it
                # carries data (tcp_oow_rate_limited, LINUX_MIB_TCPACKSKIPPEDPAWS).
                if flags & SYN:
                    self._challenge_ack()
                elif seg.payload or not self._oow_rate_limited():
                    self.send_ack()
                else:
                    self.obs.stats["tcp.acks_skipped_paws"] += 1
                return
        # 1. Is the sequence number acceptable? (four cases by length and window)
        wnd = rcv.window() if state is not State.SYN_RECEIVED else self.opt.rcvbuf
        wnd = max(wnd, seq_diff(rcv.rcv_adv, rcv.rcv_nxt))  # what we offered stays offered
        if not self._acceptable(seg.seq, seg_len, wnd) and not (
                # A bare FIN at rcv_nxt into a closed window: Linux takes it (tcp_sequence lets a
                # FIN past the window, tcp_data_queue queues it), so EOF does not wait for space.
                wnd == 0 and seg.seq == rcv.rcv_nxt and flags & FIN and not seg.payload and not flags & SYN):
            if not flags & RST:
                if flags & (SYN | ACK) == SYN and seg.seq == rcv.irs and \
                        state is State.SYN_RECEIVED and self.listener is not None:
                    self._resend_synack()  # the peer's SYN again: our SYN+ACK was lost
                    return
                self.obs.stats["tcp.out_of_window"] += 1
                if flags & SYN:
                    self._challenge_ack()  # RFC 5961 4.2 (Linux: tcp_validate_incoming's syn_challenge)
                    return
                if state is State.TIME_WAIT and flags & FIN:
                    self.timewait_timer.arm_in(2 * self.opt.msl)
                # Linux's tcp_oow_rate_limited: a segment that carries data or a FIN always gets its
                # duplicate ACK (not likely part of an ACK loop); a bare one (a window probe, a
                # keepalive, a stray ACK) at most one per tcp_invalid_ratelimit.
                if seg_len == 0 and self._oow_rate_limited():
                    self.obs.stats["tcp.acks_skipped_seq"] += 1  # Linux's TCPACKSkippedSeq
                    return
                self.send_ack()
            return
        # 2. RST (RFC 5961 3.2): only the exact next sequence number resets; else a challenge ACK.
        if flags & RST:
            if seg.seq != rcv.rcv_nxt:
                self._challenge_ack()
                return
            self.obs.stats["tcp.resets_received"] += 1
            if state is State.SYN_RECEIVED and self.listener is not None:
                self._finish(0)  # back to LISTEN: forget the half-open connection
            elif state in (State.CLOSING, State.LAST_ACK, State.TIME_WAIT):
                self._finish(0)
            else:
                self._finish(errno.ECONNRESET if state is not State.SYN_RECEIVED else errno.ECONNREFUSED)
            return
        # 4. SYN in a synchronized state (RFC 5961 4.2): challenge ACK, whatever its number.
        if flags & SYN:
            self._challenge_ack()
            return
        # 5. ACK
        if not flags & ACK:
            return
        if ts is not None and seq_le(seg.seq, rcv.last_ack_sent) and \
                seq_lt(rcv.last_ack_sent, seq_add(seg.seq, max(seg_len, 1))) and \
                ((self.ts_recent - ts.tsval) & 0xFFFFFFFF != 1 or not self.ts_recent_valid
                 or self.clock.now - self.ts_recent_age >= PAWS_IDLE):
            # RFC 7323 4.3; never one tick back, which PAWS lets through (tcp_replace_ts_recent).
            self.ts_recent, self.ts_recent_age = ts.tsval, self.clock.now
            self.ts_recent_valid = True
        snd = self.snd
        if state is State.SYN_RECEIVED:
            if seq_lt(snd.snd_una, seg.ack) and seq_le(seg.ack, snd.snd_nxt):
                snd.snd_wnd = seg.window << snd.snd_wscale
                snd.max_snd_wnd = max(snd.max_snd_wnd, snd.snd_wnd)
                snd.snd_wl1, snd.snd_wl2 = seg.seq, seg.ack
                snd.snd_una = seg.ack
                self.rto_timer.cancel()
                snd.handshake_rtt(self._handshake_rtt(ts))
                self._established()
                state = self.state
            else:
                self.ctx.send_reset_for(seg, self.local[0], self.remote[0])
                return
        if not self._process_ack(seg, ts):
            return
        state = self.state
        # New data for a connection the application closed for reading, once our FIN is queued,
        # can never be delivered: reset (RFC 1122 4.2.2.13, RFC 2525 2.17), as Linux's
        # tcp_rcv_state_process in FIN-WAIT-1/2 (TCPAbortOnData). A bare FIN in order is not data.
        if self.rcv_shutdown and snd.fin_queued and state in CAN_RECEIVE and seg_len and \
                seq_gt(seq_add(seg.seq, len(seg.payload)), rcv.rcv_nxt):
            self.obs.stats["tcp.abort_on_data"] += 1
            self.ctx.send_reset_for(seg, self.local[0], self.remote[0])
            self._finish(errno.ECONNRESET)
            return
        # 7. Segment text
        if seg.payload and state in CAN_RECEIVE:
            self._receive_data(seg)
        elif seg.payload:
            pass  # data after the peer's FIN: ignore (RFC 9293 3.10.7.4 seventh)
        # 8. FIN
        if flags & FIN:
            fin_at = seq_add(seg.seq, len(seg.payload))
            if rcv.peer_fin_seq is None:
                rcv.peer_fin_seq = fin_at
        if rcv.peer_fin_seq is not None and rcv.rcv_nxt == rcv.peer_fin_seq and not rcv.eof:
            self._receive_fin()
        elif flags & FIN and self.state is State.TIME_WAIT:
            self.send_ack()
            self.timewait_timer.arm_in(2 * self.opt.msl)
        elif flags & FIN and not seg.payload and self.state in CAN_RECEIVE and seq_gt(seg.seq, rcv.rcv_nxt):
            # A FIN beyond a hole: out of order, so acknowledged at once (RFC 5681 4.2) and the
            # sender sees the hole; Linux queues it out of order and sends a duplicate ACK.
            self.stats["out_of_order"] += 1
            self.send_ack()
        if self.state in SYNCHRONIZED:
            snd.output()

    def _acceptable(self, seq: int, seg_len: int, wnd: int) -> bool:
        rcv_nxt = self.rcv.rcv_nxt
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
        snd = self.snd
        if flags & ACK and (seq_le(seg.ack, self.iss) or seq_gt(seg.ack, snd.snd_nxt)):
            if not flags & RST:
                self.ctx.send_reset_for(seg, self.local[0], self.remote[0])
            return
        if flags & RST:
            if flags & ACK:  # RFC 5961 3.2 / 9293: only a RST that acknowledges our SYN counts
                self.obs.stats["tcp.resets_received"] += 1
                self._finish(errno.ECONNREFUSED)
            return
        if not flags & SYN:
            return
        self.rcv.synchronize(seg.seq)
        self._take_syn_options(seg)
        if flags & ACK:
            snd.snd_una = seg.ack
            snd.snd_wnd = seg.window  # a SYN's window is never scaled
            snd.max_snd_wnd = snd.snd_wnd
            snd.snd_wl1, snd.snd_wl2 = seg.seq, seg.ack
            self.rto_timer.cancel()
            ts = None
            if self.ts_ok:
                for o in seg.options:
                    if type(o) is Timestamps:
                        ts = o
            snd.handshake_rtt(self._handshake_rtt(ts))
            self._established()
            # The third segment of the handshake: an ACK, which can carry data if some is waiting.
            if seq_diff(snd.sendbuf.end, snd.snd_nxt) > 0:
                snd.output(force_ack=True)
            else:
                self.send_ack()
            return
        # Simultaneous open (RFC 9293 3.5, figure 8): both sent SYNs.
        snd.snd_wnd = seg.window
        snd.snd_wl1, snd.snd_wl2 = seg.seq, self.iss
        self._set_state(State.SYN_RECEIVED)
        self._send(SYN | ACK, self.iss, options=self._options_for_syn())

    def _process_ack(self, seg: TCP, ts: Timestamps | None) -> bool:
        """RFC 9293 3.10.7.4 fifth + RFC 5961 5.2; the sender does the rest. False: drop the
        segment."""
        ack = seg.ack
        snd = self.snd
        una = snd.snd_una
        if seq_gt(ack, snd.snd_max):
            # Acknowledges something we never sent.
            self._challenge_ack()
            return False
        if seq_lt(ack, seq_add(una, -max(snd.max_snd_wnd, 1))):
            self._challenge_ack()  # RFC 5961 5.2: too old to be real
            return False
        self.soft_error = 0  # the path works (Linux's tcp_ack clears sk_err_soft)
        if seq_le(una, ack):
            # The peer answers (tcp_ack: icsk_probes_out = 0, rcv_tstamp; not for an old ACK).
            # Only an acceptable segment counts as hearing from the peer: keepalive and the
            # probes are not fed by forged or out-of-window ones.
            self.probes_out = 0
            self.keepalive_sent = 0
            self.rcv_tstamp = self.last_heard = self.clock.now
        snd.on_ack(seg, ts)
        # Our FIN acknowledged?
        fin_seq = snd.fin_seq
        if fin_seq is not None and seq_gt(snd.snd_una, fin_seq):
            if self.state is State.FIN_WAIT_1:
                self._set_state(State.FIN_WAIT_2)
                if self.orphaned:
                    self._arm_fin_timeout()
            elif self.state is State.CLOSING:
                self._enter_time_wait()
            elif self.state is State.LAST_ACK:
                self._finish(0)
                return False
        return True

    def _receive_data(self, seg: TCP) -> None:
        rcv = self.rcv
        self.last_heard = self.clock.now  # data received (Linux's lrcvtime), whatever its ACK
        self.keepalive_sent = 0
        result = rcv.data_arrives(seg)
        if result & DELIVERED:
            self.events.readable()
        if result & ACK_NOW:
            self.send_ack()  # RFC 5681 4.2: out of order (the sender sees the hole), or a gap filled
            return
        if rcv.ack_due(seg, self.snd.mss):
            self.send_ack()
        elif not self.delack_timer.armed:
            self.delack_timer.arm_in(self.opt.delayed_ack)

    def _receive_fin(self) -> None:
        self.rcv.fin_arrives()
        self.send_ack()
        state = self.state
        if state in (State.SYN_RECEIVED, State.ESTABLISHED):
            self._set_state(State.CLOSE_WAIT)
        elif state is State.FIN_WAIT_1:
            fin_seq = self.snd.fin_seq
            if fin_seq is not None and seq_gt(self.snd.snd_una, fin_seq):
                self._enter_time_wait()
            else:
                self._set_state(State.CLOSING)  # simultaneous close
        elif state is State.FIN_WAIT_2:
            self._enter_time_wait()
        self.events.readable()

    def _arm_fin_timeout(self) -> None:
        """An orphan in FIN-WAIT-2 waits for the peer's FIN no longer than net.ipv4.tcp_fin_timeout
        (at least 3.5 RTO, as Linux's tcp_fin_time), then ends; the TIME-WAIT timer is idle in
        FIN-WAIT-2, so it keeps this deadline."""
        rto = self.snd.rtt.rto
        self.timewait_timer.arm_in(max(self.opt.fin_timeout, (rto << 2) - (rto >> 1)))

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
        snd = self.snd
        if snd.fin_queued:
            raise OSError(errno.EPIPE, "Broken pipe (the sending side was shut down)")
        n = snd.sendbuf.write(data)
        if n and self.state in CAN_SEND:
            snd.output()
        return n

    def read(self, n: int = -1) -> bytes:
        """Take up to n received bytes (all when n < 0); a window update goes out when reading
        opened the window enough to matter."""
        data = self.rcv.read(n)
        if data and self.state in SYNCHRONIZED and self.state is not State.TIME_WAIT:
            if self.rcv.window_update_due():
                self.send_ack()
        return data

    def shutdown_read(self) -> None:
        """shutdown(SHUT_RD): once our FIN is queued too, data that still arrives is answered with
        a RST (Linux's RCV_SHUTDOWN)."""
        self.rcv_shutdown = True

    def close(self) -> None:
        """close(), as Linux's tcp_close: received data that was never read makes it a RST (RFC
        2525 2.17, TCPAbortOnClose); otherwise our FIN follows the queued data and the connection
        is an orphan: data that still arrives gets a RST, FIN-WAIT-2 ends after fin_timeout, and
        retries are orphan_retries."""
        if self.readable_bytes:
            self.obs.stats["tcp.abort_on_close"] += 1
            self.abort()
            return
        self.orphaned = True
        self.rcv_shutdown = True
        self.shutdown_write()
        if self.state is State.FIN_WAIT_2:
            self._arm_fin_timeout()

    def shutdown_write(self) -> None:
        """shutdown(SHUT_WR): queue our FIN after the data (close() is :meth:`close`)."""
        if self.state in (State.SYN_SENT, State.LISTEN, State.CLOSED):
            self._finish(0)
            return
        if self.snd.fin_queued:
            return
        self.snd.fin_queued = True
        if self.state in CAN_SEND:
            self.snd.output()

    def abort(self) -> None:
        """Reset the connection (close() with unread data, SO_LINGER 0, or an abort())."""
        if self.state in SYNCHRONIZED and self.state is not State.TIME_WAIT or self.state is State.SYN_RECEIVED:
            self._send(RST | ACK, self._acceptable_seq())
            self.obs.stats["tcp.resets_sent"] += 1
        self._finish(errno.ECONNABORTED)

    def _abort(self, err: int) -> None:
        if self.state in SYNCHRONIZED and self.state is not State.TIME_WAIT:
            self._send(RST | ACK, self._acceptable_seq())
            self.obs.stats["tcp.resets_sent"] += 1
        self._finish(err)

    def _finish(self, err: int) -> None:
        """The connection ends: CLOSED, timers stopped, the application told."""
        if self.state is State.CLOSED and self.error:
            return
        self.error = err
        for t in (self.rto_timer, self.delack_timer, self.persist_timer, self.keepalive_timer, self.timewait_timer):
            t.cancel()
        self._set_state(State.CLOSED)
        self.ctx.forget(self)
        self.events.closed(err)

    syn_time = 0
    last_heard = 0
