"""TCP on a node: demultiplexing segments to connections and listeners, answering strays with
RST (RFC 9293 3.10.7.1), the listen backlog with a bounded SYN queue, and transport errors (ICMP,
failed neighbour resolution, path MTU) passed to the connection they concern.

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
from ...wire.tcp import TCP, TCPFlags
from ..udp import ANY, EPHEMERAL_HIGH, EPHEMERAL_LOW
from .connection import Options, State, TCPConnection
from .isn import ISNGenerator
from .seq import seq_add

if TYPE_CHECKING:
    from ...internet.ip import IPLayer
    from ...link.interface import Interface
    from ...stack.observer import Observer

FIN, SYN, RST, ACK = int(TCPFlags.FIN), int(TCPFlags.SYN), int(TCPFlags.RST), int(TCPFlags.ACK)
_TCP = int(IPProto.TCP)


class Listener:
    """A passive open: a bounded SYN queue of half-open connections and an accept queue."""

    def __init__(self, layer: "TCPLayer", addr: str, port: int, backlog: int, options: Options) -> None:
        self.layer = layer
        self.addr = addr
        self.port = port
        self.backlog = max(1, backlog)
        self.max_syn_backlog = max(self.backlog, 128)  # like net.ipv4.tcp_max_syn_backlog
        self.options = options
        self.syn_queue: set[TCPConnection] = set()
        self.accept_queue: deque[TCPConnection] = deque()
        self.on_acceptable: Callable[[], None] = lambda: None
        self.closed = False
        self.syns_dropped = 0

    def close(self) -> None:
        self.closed = True
        self.layer.listeners.pop(self.port, None)
        for conn in list(self.syn_queue) + list(self.accept_queue):
            conn.abort()
        self.syn_queue.clear()
        self.accept_queue.clear()


class TCPLayer:
    """The transport registered with IP for protocol 6, and the context of its connections."""

    def __init__(self, clock: Clock, rng: random.Random, obs: "Observer", ip: "IPLayer") -> None:
        self.clock = clock
        self.rng = rng
        self.obs = obs
        self.ip = ip
        self.connections: dict[tuple[str, int, str, int], TCPConnection] = {}
        self.listeners: dict[int, Listener] = {}
        self.defaults = Options()
        self.isn = ISNGenerator(rng.getrandbits(128).to_bytes(16, "big"))
        # Challenge ACKs the whole host may send per second (net.ipv4.tcp_challenge_ack_limit);
        # Linux's default since 6.0 is INT_MAX, no host-wide limit: a shared counter is a side
        # channel (CVE-2016-5696), and each connection rate-limits its own.
        self.challenge_ack_limit = 2**31 - 1
        self._challenge_second = -1
        self._challenge_count = 0

    def _ports_in_use(self) -> set[int]:
        return {k[1] for k in self.connections} | set(self.listeners)

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

    def listen(self, addr: str, port: int, backlog: int = 128, options: Options | None = None) -> Listener:
        if port in self.listeners or any(k[1] == port for k in self.connections):
            raise OSError(errno.EADDRINUSE, f"Address already in use: TCP port {port} on {self.obs.name}")
        listener = Listener(self, addr, port, backlog, (options or self.defaults).copy())
        self.listeners[port] = listener
        return listener

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
        # Linux sets DF on TCP: path MTU discovery (RFC 1191) instead of fragmentation.
        if route is None:
            self.ip.send(rip, _TCP, raw, src=lip, df=True)  # no route now: IP counts the drop
        elif self.ip.send_via(route, _TCP, raw, src=lip, df=True) == "frag-needed":
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
        conn = self.connections.get((ip.dst, seg.dport, ip.src, seg.sport))
        if conn is not None:
            conn.segment_arrives(seg)
            return Disposition.DELIVERED
        listener = self.listeners.get(seg.dport)
        if listener is not None and (listener.addr == ANY or listener.addr == ip.dst) and not listener.closed:
            self._listen_state(listener, ip, seg, iface)
            return Disposition.DELIVERED
        # CLOSED (RFC 9293 3.10.7.1): answer everything but a RST with a RST (TCP's own answer, not ICMP).
        obs.drop("tcp", "port-closed", iface.name, packet=ip.encode())
        if not seg.flags & RST:
            self.send_reset_for(seg, ip.dst, ip.src)
        return Disposition.CONSUMED

    def _listen_state(self, listener: Listener, ip: IPv4, seg: TCP, iface: "Interface") -> None:
        """RFC 9293 3.10.7.2: LISTEN."""
        flags = seg.flags
        if flags & RST:
            return
        if flags & ACK:
            self.send_reset_for(seg, ip.dst, ip.src)
            return
        if not flags & SYN:
            return
        obs = self.obs
        if len(listener.accept_queue) >= listener.backlog or len(listener.syn_queue) >= listener.max_syn_backlog:
            # The SYN queue is bounded: a flood of SYNs fills it and further SYNs are dropped, while
            # established connections go on being served (RFC 4987 3.1 "bounded queue").
            listener.syns_dropped += 1
            obs.drop("tcp", "syn-queue-full", iface.name, packet=ip.encode())
            return
        lip, rip = ip.dst, ip.src
        conn = TCPConnection(self, (lip, seg.dport), (rip, seg.sport), listener.options.copy(),
                             self.isn.isn(lip, seg.dport, rip, seg.sport, self.clock.now), self.ip.route_to(rip, lip))
        conn.listener = listener
        self.connections[(lip, seg.dport, rip, seg.sport)] = conn
        listener.syn_queue.add(conn)
        conn.open_passive(seg)

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
            # Path MTU discovery (RFC 1191): IP has the path MTU; smaller segments follow.
            conn.path_mtu_changed(err.mtu)
            return True
        conn.icmp_error(err)
        return True
