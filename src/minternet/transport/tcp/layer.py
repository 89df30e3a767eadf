"""TCP on a node: demultiplexing segments to connections and listeners, answering strays with
RST (RFC 9293 3.10.7.1), the listen backlog (a SYN queue bounded as Linux bounds it, SYN cookies
once it is full, an accept queue that holds backlog + 1), ports bound as Linux's bind() allows
(two sockets on one port only on two different addresses, SO_REUSEADDR over TIME-WAIT, a bound
socket holding its port before it listens or connects), and transport errors (ICMP, failed neighbour resolution, path MTU)
passed to the connection they concern.

The layer is the connections' context (:class:`TCPContext`): they send through it, along the
route handle each keeps, and it refreshes a handle when the routing table changed."""

from __future__ import annotations

import errno
import random
from collections import deque
from typing import TYPE_CHECKING, Callable

from ...runtime import Clock
from ...stack.errors import ErrorKind, TransportError
from ...stack.seams import Disposition
from ...wire.errors import MalformedPacket
from ...wire.ipv4 import IPProto, IPv4
from ...wire.tcp import MSS, NOP, TCP, OptionsCutShort, SackPermitted, TCPFlags, Timestamps, WindowScale
from ..udp import ANY, EPHEMERAL_HIGH, EPHEMERAL_LOW
from .connection import IP_TCP_HEADERS, MIN_MTU, Options, State, TCPConnection
from .isn import ISNGenerator
from .receiver import window_shift
from .seq import seq_add
from .syncookies import VALID_NS, SynCookies, decode_ts, encode_ts

if TYPE_CHECKING:
    from ...internet.ip import IPLayer
    from ...link.interface import Interface
    from ...stack.observer import Observer

FIN, SYN, RST, ACK = int(TCPFlags.FIN), int(TCPFlags.SYN), int(TCPFlags.RST), int(TCPFlags.ACK)
_TCP = int(IPProto.TCP)
_ESTABLISHED, _SYN_RECEIVED, _TIME_WAIT = State.ESTABLISHED, State.SYN_RECEIVED, State.TIME_WAIT
SOMAXCONN = 4096  # net.core.somaxconn: listen(2) clamps the backlog to it
MAX_SYN_BACKLOG = 128  # net.ipv4.tcp_max_syn_backlog (its floor): only without SYN cookies


class Listener:
    """A passive open: a SYN queue of half-open connections and an accept queue, both bounded by
    the backlog as Linux bounds them (inet_csk_reqsk_queue_is_full, sk_acceptq_is_full)."""

    def __init__(self, layer: "TCPLayer", addr: str, port: int, backlog: int, options: Options) -> None:
        self.layer = layer
        self.addr = addr
        self.port = port
        # Linux's listen(): a backlog above somaxconn (or negative, as unsigned) is somaxconn; 0 is 0.
        self.backlog = min(backlog, SOMAXCONN) if backlog >= 0 else SOMAXCONN
        self.options = options
        self.syn_queue: set[TCPConnection] = set()
        self.accept_queue: deque[TCPConnection] = deque()
        self.on_acceptable: Callable[[], None] = lambda: None
        self.closed = False
        self.syns_dropped = 0
        self.last_overflow: int | None = None  # when the SYN queue last overflowed into cookies

    def syn_queue_full(self) -> bool:
        """Linux's inet_csk_reqsk_queue_is_full: as many half-open connections as the backlog."""
        return len(self.syn_queue) >= self.backlog

    def accept_queue_full(self) -> bool:
        """Linux's sk_acceptq_is_full: more than the backlog (listen(fd, 0) still queues one)."""
        return len(self.accept_queue) > self.backlog

    def overflowed_recently(self, now: int) -> bool:
        """Whether ACKs may carry our cookies (Linux's tcp_synq_no_recent_overflow, negated)."""
        return self.last_overflow is not None and now - self.last_overflow <= VALID_NS

    def close(self) -> None:
        self.closed = True
        listeners = self.layer.listeners
        if listeners.get((self.addr, self.port)) is self:
            del listeners[(self.addr, self.port)]
        for conn in list(self.syn_queue) + list(self.accept_queue):
            conn.abort()
        self.syn_queue.clear()
        self.accept_queue.clear()


class Bound:
    """A socket bound to addr:port that neither listens nor is connected yet: it holds the port
    as Linux's bind bucket does from bind() on (inet_csk_get_port). ``opt`` is the socket's own
    options, so that a later SO_REUSEADDR counts."""

    __slots__ = ("addr", "port", "opt")

    def __init__(self, addr: str, port: int, opt: Options) -> None:
        self.addr = addr
        self.port = port
        self.opt = opt


class TCPLayer:
    """The transport registered with IP for protocol 6, and the context of its connections."""

    def __init__(self, clock: Clock, rng: random.Random, obs: "Observer", ip: "IPLayer") -> None:
        self.clock = clock
        self.rng = rng
        self.obs = obs
        self.ip = ip
        self.connections: dict[tuple[str, int, str, int], TCPConnection] = {}
        # By (address, port): several listeners share a port on different addresses (0.0.0.0 for all).
        self.listeners: dict[tuple[str, int], Listener] = {}
        self.bound: dict[int, list[Bound]] = {}  # port -> sockets bound there, not listening or connected
        self._defaults: Options | None = None  # made when first read (memory per idle host)
        secret = rng.getrandbits(128).to_bytes(16, "big")
        self.isn = ISNGenerator(secret)
        self.cookies = SynCookies(secret)  # keys of their own, derived from the same boot secret
        self.syncookies = 1  # net.ipv4.tcp_syncookies: 0 never, 1 when the SYN queue is full, 2 always
        self.max_syn_backlog = MAX_SYN_BACKLOG
        # Challenge ACKs the whole host may send per second (net.ipv4.tcp_challenge_ack_limit);
        # Linux's default since 6.0 is INT_MAX, no host-wide limit: a shared counter is a side
        # channel (CVE-2016-5696), and each connection rate-limits its own.
        self.challenge_ack_limit = 2**31 - 1
        self._challenge_second = -1
        self._challenge_count = 0

    @property
    def defaults(self) -> Options:
        """The options new sockets start from (Linux's sysctls: net.ipv4.tcp_*)."""
        if self._defaults is None:
            self._defaults = Options()
        return self._defaults

    @defaults.setter
    def defaults(self, options: Options) -> None:
        self._defaults = options

    def _ports_in_use(self) -> set[int]:
        return {k[1] for k in self.connections} | {k[1] for k in self.listeners} | set(self.bound)

    def listener_for(self, addr: str, port: int) -> Listener | None:
        """The listener a segment to addr:port goes to: the one bound to that very address, else
        the one on 0.0.0.0 (Linux's __inet_lookup_listener scores an exact address higher)."""
        listeners = self.listeners
        listener = listeners.get((addr, port))
        if listener is None:
            listener = listeners.get((ANY, port))
        return listener

    def listening_on(self, port: int) -> bool:
        """Whether any address of this host listens on ``port``."""
        return any(p == port for _, p in self.listeners)

    def ephemeral_port(self, remote: tuple[str, int]) -> int:
        rng = self.rng
        used = self._ports_in_use()
        for _ in range(64):
            port = rng.randint(EPHEMERAL_LOW, EPHEMERAL_HIGH)
            if port not in used:
                return port
        for port in range(EPHEMERAL_LOW, EPHEMERAL_HIGH + 1):
            if port not in used:
                return port
        raise OSError(errno.EADDRNOTAVAIL, "no free ephemeral TCP port")

    def connect(self, remote: tuple[str, int], local: tuple[str, int] | None = None,
                options: Options | None = None) -> TCPConnection:
        """Active open: pick the source address and port, send the SYN."""
        rip, rport = remote
        route = self.ip.route_to(rip, local[0] if local and local[0] != ANY else None)
        if route is None:
            raise OSError(errno.ENETUNREACH, "Network is unreachable")
        lip = route.source
        lport = local[1] if local and local[1] else self.ephemeral_port(remote)
        key = (lip, lport, rip, rport)
        if key in self.connections:
            raise OSError(errno.EADDRINUSE, "Address already in use")
        opts = (options or self.defaults).copy()
        conn = TCPConnection(self, (lip, lport), (rip, rport), opts,
                             self.isn.isn(lip, lport, rip, rport, self.clock.now), route)
        self.connections[key] = conn
        self.obs.stats["tcp.active_opens"] += 1
        conn.open_active()
        return conn

    def listen(self, addr: str, port: int, backlog: int = 128, options: Options | None = None,
               bound: Bound | None = None) -> Listener:
        """Listen on addr:port; ``bound``: the socket's own hold on it from bind(), now the listener's."""
        options = options or self.defaults
        if self.port_conflict(addr, port, options.reuseaddr, bound):
            raise OSError(errno.EADDRINUSE, f"Address already in use: TCP port {port} on {self.obs.name}")
        listener = Listener(self, addr, port, backlog, options.copy())
        self.listeners[(addr, port)] = listener
        if bound is not None:
            self.unbind(bound)
        return listener

    def bind(self, addr: str, port: int, opt: Options) -> Bound:
        """Hold addr:port for a socket that will listen or connect (port 0: an ephemeral one)."""
        if port == 0:
            port = self.ephemeral_port((ANY, 0))
        elif self.port_conflict(addr, port, opt.reuseaddr):
            raise OSError(errno.EADDRINUSE, f"Address already in use: TCP port {port} on {self.obs.name}")
        bound = Bound(addr, port, opt)
        self.bound.setdefault(port, []).append(bound)
        return bound

    def unbind(self, bound: Bound) -> None:
        """Let go of a hold from bind(): the socket closed, or its listener or connection holds the port now."""
        holders = self.bound.get(bound.port)
        if holders is not None and bound in holders:
            holders.remove(bound)
            if not holders:
                del self.bound[bound.port]

    def port_conflict(self, addr: str, port: int, reuseaddr: bool, own: Bound | None = None) -> bool:
        """Whether a socket may not bind addr:port (Linux's inet_csk_bind_conflict). Only sockets on
        the same address, or where either is 0.0.0.0, can be in the way (inet_rcv_saddr_equal);
        of those a listener always is; a connection (TIME-WAIT, or any other but LISTEN) or a
        socket merely bound is unless both it and the new socket have SO_REUSEADDR. ``own``: the
        asking socket's own hold from bind(), not in its way."""
        for (laddr, lport), listener in self.listeners.items():
            if lport == port and (addr == ANY or laddr == ANY or laddr == addr) and not listener.closed:
                return True
        for bound in self.bound.get(port, ()):
            if bound is not own and (addr == ANY or bound.addr == ANY or bound.addr == addr) and \
                    not (reuseaddr and bound.opt.reuseaddr):
                return True
        for (lip, lport, _, _), conn in self.connections.items():
            if lport == port and (addr == ANY or lip == addr) and not (reuseaddr and conn.opt.reuseaddr):
                return True
        return False

    # -- the connection table ------------------------------------------------------------------------
    def forget(self, conn: TCPConnection) -> None:
        key = (conn.local[0], conn.local[1], conn.remote[0], conn.remote[1])
        if self.connections.get(key) is conn:
            del self.connections[key]
        if conn.listener is not None:
            conn.listener.syn_queue.discard(conn)

    def state_changed(self, conn: TCPConnection, old: State, new: State) -> None:
        if new is State.ESTABLISHED:
            self.obs.stats["tcp.established"] += 1
            listener = conn.listener
            if listener is not None and conn in listener.syn_queue:
                listener.syn_queue.discard(conn)
                listener.accept_queue.append(conn)
                self.obs.stats["tcp.passive_opens"] += 1
                listener.on_acceptable()
        if new is State.CLOSED and old in (State.ESTABLISHED, State.CLOSE_WAIT):
            self.obs.stats["tcp.closed_from_established"] += 1

    def challenge_ack_allowed(self) -> bool:
        """The host-wide budget of challenge ACKs (RFC 5961 7), as Linux's tcp_send_challenge_ack:
        each second a random count around the limit, so that the budget says little to whoever
        exhausts it."""
        limit = self.challenge_ack_limit
        if limit >= 2**31 - 1:
            return True
        second = self.clock.now // 1_000_000_000
        if second != self._challenge_second:
            half = (limit + 1) >> 1
            self._challenge_second = second
            self._challenge_count = self.rng.randint(half, max(half, limit + half - 1))
        if self._challenge_count > 0:
            self._challenge_count -= 1
            return True
        return False

    # -- segments ------------------------------------------------------------------------------------
    def output(self, conn: TCPConnection, seg: TCP) -> None:
        """Send one segment of ``conn`` along its route handle, refreshed if the routes changed."""
        lip, rip = conn.local[0], conn.remote[0]
        raw = seg.encode(lip, rip)
        self.obs.stats["tcp.out_segments"] += 1
        route = conn.route
        if route is None or route.generation != self.ip.routes.generation:
            route = self.ip.route_to(rip, lip)
            if route is not None:
                conn.route_changed(route)
        # Linux sets DF on TCP (IP_PMTUDISC_WANT): path MTU discovery (RFC 1191) instead of
        # fragmentation, unless the path MTU is locked (reported below min_pmtu): then no DF.
        if route is None:
            self.ip.send(rip, _TCP, raw, src=lip, df=True)  # no route now: IP counts the drop
        elif self.ip.send_via(route, _TCP, raw, src=lip, df=not route.mtu_locked) == "frag-needed":
            # Larger than our own interface's MTU (it shrank): as Linux tells itself with ICMP.
            conn.path_mtu_changed(min(route.mtu, route.iface.mtu))

    def receive(self, ip: IPv4, iface: "Interface") -> Disposition:
        obs = self.obs
        try:
            seg = TCP.decode(ip.payload, ip.src, ip.dst)
        except MalformedPacket as exc:
            obs.stats["tcp.in_errors"] += 1
            obs.drop("tcp", exc.drop_reason, iface.name, packet=ip.encode())
            return Disposition.MALFORMED
        obs.stats["tcp.in_segments"] += 1
        options = seg.options
        if options and type(options[-1]) is OptionsCutShort:
            # Not a drop: the segment is processed with the options before the bad one (Linux's
            # tcp_parse_options), as the codec decoded it.
            obs.stats["tcp.options_cut_short"] += 1
            if obs.tracer.enabled:
                obs.tracer.emit(obs.name, iface.name, "tcp", "options-cut-short", packet=ip.encode(),
                                text=f"options cut short at {options[-1].data.hex()}")
        conn = self.connections.get((ip.dst, seg.dport, ip.src, seg.sport))
        if conn is not None:
            state = conn.state
            if state is not _ESTABLISHED and (state is _SYN_RECEIVED or state is _TIME_WAIT) and \
                    self._before_connection(conn, ip, seg, iface):
                return Disposition.DELIVERED
            conn.segment_arrives(seg)
            return Disposition.DELIVERED
        listener = self.listener_for(ip.dst, seg.dport)
        if listener is not None and not listener.closed:
            self._listen_state(listener, ip, seg, iface)
            return Disposition.DELIVERED
        # CLOSED (RFC 9293 3.10.7.1): answer everything but a RST with a RST (TCP's own answer, not ICMP).
        obs.drop("tcp", "port-closed", iface.name, packet=ip.encode())
        if not seg.flags & RST:
            self.send_reset_for(seg, ip.dst, ip.src)
        return Disposition.CONSUMED

    def _before_connection(self, conn: TCPConnection, ip: IPv4, seg: TCP, iface: "Interface") -> bool:
        """What the layer does before a half-open child or a TIME-WAIT connection sees a segment
        (Linux's tcp_check_req and tcp_timewait_state_process). True: the segment was taken."""
        flags = seg.flags & (SYN | RST | ACK)
        listener = conn.listener
        if conn.state is _SYN_RECEIVED:
            if listener is not None and flags == ACK and seg.ack == seq_add(conn.iss, 1) and \
                    listener.accept_queue_full():
                # The handshake's last ACK while the accept queue is full (tcp_abort_on_overflow=0):
                # dropped; the SYN+ACK is retransmitted and the peer's answer to it tries again.
                self.obs.stats["tcp.listen_overflows"] += 1  # Linux's ListenOverflows
                self.obs.stats["tcp.listen_drops"] += 1
                self.obs.drop("tcp", "accept-queue-full", iface.name, packet=ip.encode())
                return True
            return False
        if flags != SYN:
            return False
        listener = self.listener_for(ip.dst, seg.dport)
        if listener is None or listener.closed:
            return False  # no listener: TIME-WAIT answers with an ACK (Linux's TCP_TW_SYN falls to TCP_TW_ACK)
        iss = conn.new_incarnation(seg)
        if iss is None:
            return False
        self.obs.stats["tcp.timewait_recycled"] += 1
        self._syn_arrives(listener, ip, seg, iface, iss)
        return True

    def _listen_state(self, listener: Listener, ip: IPv4, seg: TCP, iface: "Interface") -> None:
        """RFC 9293 3.10.7.2: LISTEN, with Linux's queues (tcp_conn_request) and cookies."""
        flags = seg.flags
        if flags & RST:
            return
        if flags & ACK:
            if not flags & SYN and self._cookie_ack(listener, ip, seg, iface):
                return
            self.send_reset_for(seg, ip.dst, ip.src)
            return
        if not flags & SYN:
            return
        self._syn_arrives(listener, ip, seg, iface)

    def _syn_arrives(self, listener: Listener, ip: IPv4, seg: TCP, iface: "Interface", iss: int | None = None) -> None:
        """A SYN for a listener (Linux's tcp_conn_request): a half-open connection in the SYN
        queue, or, once that is full, a SYN cookie and no state (RFC 4987 3.6); dropped while the
        accept queue is full. ``iss``: the ISN a TIME-WAIT connection hands on."""
        obs = self.obs
        now = self.clock.now
        want_cookie = False
        if (self.syncookies == 2 or listener.syn_queue_full()) and iss is None:
            if not self.syncookies:
                # Without cookies the SYN queue is bounded and further SYNs are dropped, while
                # established connections go on being served (RFC 4987 3.1 "bounded queue").
                self._drop_syn(listener, ip, iface, "syn-queue-full")
                return
            want_cookie = True
        if listener.accept_queue_full():
            obs.stats["tcp.listen_overflows"] += 1  # Linux's ListenOverflows
            self._drop_syn(listener, ip, iface, "accept-queue-full")
            return
        lip, rip = ip.dst, ip.src
        if want_cookie:
            self._send_cookie(listener, ip, seg, iface)
            return
        if not self.syncookies and iss is None and \
                self.max_syn_backlog - len(listener.syn_queue) < self.max_syn_backlog >> 2:
            # Linux keeps the last quarter of tcp_max_syn_backlog for peers proven alive; we know of
            # none, so the SYN queue stops at three quarters of it.
            self._drop_syn(listener, ip, iface, "syn-queue-full")
            return
        if iss is None:
            iss = self.isn.isn(lip, seg.dport, rip, seg.sport, now)
        conn = TCPConnection(self, (lip, seg.dport), (rip, seg.sport), listener.options.copy(), iss,
                             self.ip.route_to(rip, lip))
        conn.listener = listener
        self.connections[(lip, seg.dport, rip, seg.sport)] = conn
        listener.syn_queue.add(conn)
        conn.open_passive(seg)

    def _drop_syn(self, listener: Listener, ip: IPv4, iface: "Interface", reason: str) -> None:
        listener.syns_dropped += 1
        self.obs.stats["tcp.listen_drops"] += 1  # Linux's ListenDrops
        self.obs.drop("tcp", reason, iface.name, packet=ip.encode())

    def _send_cookie(self, listener: Listener, ip: IPv4, syn: TCP, iface: "Interface") -> None:
        """Answer a SYN with a SYN+ACK whose ISN is a cookie, keeping nothing (Linux's
        tcp_conn_request with want_cookie, then tcp_make_synack). Without timestamps the cookie
        cannot carry window scaling or SACK, so the SYN+ACK offers neither."""
        obs = self.obs
        now = self.clock.now
        lip, rip = ip.dst, ip.src
        opts = listener.options
        peer_mss, wscale, sack, tsval = 536, None, False, None
        for o in syn.options:
            t = type(o)
            if t is MSS:
                peer_mss = o.value
            elif t is WindowScale:
                wscale = min(o.shift, 14)
            elif t is SackPermitted:
                sack = True
            elif t is Timestamps:
                tsval = o.tsval
        iss, mss = self.cookies.make(rip, lip, syn.sport, syn.dport, syn.seq, peer_mss, now)
        route = self.ip.route_to(rip, lip)
        options: tuple = (MSS((route.mtu if route is not None else MIN_MTU) - IP_TCP_HEADERS),)
        rcv_wscale = window_shift(opts.rcvbuf) if opts.window_scaling and wscale is not None else None
        sack = sack and opts.sack
        if tsval is not None and opts.timestamps:
            ts = (encode_ts(now, wscale if rcv_wscale is not None else None, sack)
                  + self.cookies.ts_offset(lip, rip)) & 0xFFFFFFFF
            options += ((SackPermitted(),) if sack else (NOP(), NOP())) + (Timestamps(ts, tsval),)
            if rcv_wscale is not None:
                options += (NOP(), WindowScale(rcv_wscale))
        synack = TCP(syn.dport, syn.sport, iss, seq_add(syn.seq, 1), SYN | ACK, min(opts.rcvbuf, 65535), b"", 0,
                     options)
        listener.last_overflow = now
        obs.stats["tcp.syncookies_sent"] += 1  # Linux's SyncookiesSent
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, iface.name, "tcp", "syncookie", "sent",
                            text=f"{rip}:{syn.sport} > {lip}:{syn.dport} SYN queue full: cookie {iss} mss {mss}")
        obs.stats["tcp.out_segments"] += 1
        raw = synack.encode(lip, rip)
        if route is None:
            self.ip.send(rip, _TCP, raw, src=lip, df=True)
        else:
            self.ip.send_via(route, _TCP, raw, src=lip, df=not route.mtu_locked)

    def _cookie_ack(self, listener: Listener, ip: IPv4, seg: TCP, iface: "Interface") -> bool:
        """An ACK on a listener: the return of one of our cookies? (Linux's cookie_v4_check, only
        tried within two minutes of the SYN queue overflowing.) True if it was taken (a new
        connection, or dropped while the accept queue is full); False: answer with a RST."""
        obs = self.obs
        now = self.clock.now
        if not self.syncookies or not listener.overflowed_recently(now):
            return False
        lip, rip = ip.dst, ip.src
        mss = self.cookies.check(rip, lip, seg.sport, seg.dport, seg.seq, seg.ack, now)
        ts = next((o for o in seg.options if type(o) is Timestamps), None)
        opts = listener.options
        wscale, sack = None, False
        if mss and ts is not None and ts.tsecr:
            if not opts.timestamps:
                mss = 0  # cookie_timestamp_decode: timestamps we would not have sent
            else:
                wscale, sack = decode_ts((ts.tsecr - self.cookies.ts_offset(lip, rip)) & 0xFFFFFFFF)
                if sack and not opts.sack or wscale is not None and not opts.window_scaling:
                    mss = 0
        else:
            ts = None  # no timestamps in the handshake: none, no scaling, no SACK (tcp_clear_options)
        if not mss:
            obs.stats["tcp.syncookies_failed"] += 1  # Linux's SyncookiesFailed
            if obs.tracer.enabled:
                obs.tracer.emit(obs.name, iface.name, "tcp", "syncookie", "failed",
                                text=f"{rip}:{seg.sport} > {lip}:{seg.dport} ACK {seg.ack} is no cookie of ours")
            return False
        obs.stats["tcp.syncookies_recv"] += 1  # Linux's SyncookiesRecv
        if listener.accept_queue_full():
            # tcp_get_cookie_sock: no child, the ACK is dropped; the peer's next segment tries again.
            obs.stats["tcp.listen_overflows"] += 1
            self._drop_syn(listener, ip, iface, "accept-queue-full")
            return True
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, iface.name, "tcp", "syncookie", "accepted",
                            text=f"{rip}:{seg.sport} > {lip}:{seg.dport} cookie {seq_add(seg.ack, -1)} mss {mss}")
        syn_options: tuple = (MSS(mss),)
        if sack:
            syn_options += (SackPermitted(),)
        if ts is not None:
            syn_options += (Timestamps(ts.tsval, 0),)
        if wscale is not None:
            syn_options += (WindowScale(wscale),)
        conn = TCPConnection(self, (lip, seg.dport), (rip, seg.sport), opts.copy(), seq_add(seg.ack, -1),
                             self.ip.route_to(rip, lip))
        conn.listener = listener
        self.connections[(lip, seg.dport, rip, seg.sport)] = conn
        listener.syn_queue.add(conn)  # for an instant: the ACK moves it to the accept queue
        conn.open_from_cookie(seg, syn_options, self.cookies.ts_offset(lip, rip))
        return True

    def send_reset_for(self, seg: TCP, local_ip: str, remote_ip: str) -> None:
        """The reset RFC 9293 3.10.7.1 prescribes for a segment that has no connection."""
        if seg.flags & ACK:
            rst = TCP(seg.dport, seg.sport, seg.ack, 0, RST, 0)
        else:
            seg_len = len(seg.payload) + (1 if seg.flags & SYN else 0) + (1 if seg.flags & FIN else 0)
            rst = TCP(seg.dport, seg.sport, 0, seq_add(seg.seq, seg_len), RST | ACK, 0)
        self.obs.stats["tcp.resets_sent"] += 1
        self.ip.send(remote_ip, _TCP, rst.encode(local_ip, remote_ip), src=local_ip)

    # -- errors ----------------------------------------------------------------------------------------
    def error(self, err: TransportError) -> bool:
        """An error about a segment we sent: to its connection, by cause. True if a connection
        took it (IP learns a path MTU only then, so errors about flows we never had cost nothing)."""
        conn = self.connections.get((err.src, err.sport, err.dst, err.dport))
        if conn is None:
            return False
        if len(err.quoted) < 8 or not conn.accepts_icmp_seq(int.from_bytes(err.quoted[4:8], "big")):
            self.obs.stats["tcp.out_of_window_icmps"] += 1  # Linux's OutOfWindowIcmps
            return False
        if err.kind is ErrorKind.FRAG_NEEDED:
            # Path MTU discovery (RFC 1191): IP has the path MTU; smaller segments follow, along
            # a fresh handle (it has the path MTU, and whether DF is off: a locked MTU).
            conn.route = None
            conn.path_mtu_changed(err.mtu)
            return True
        conn.icmp_error(err)
        return True
