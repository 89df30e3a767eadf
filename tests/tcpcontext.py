"""A fake TCPContext: a hand-stepped clock, a seeded random source, an Observer, and an output
that keeps the segments, so a TCPConnection runs without a Host or a Network (as smoltcp and h11
test their state machines)."""

from __future__ import annotations

import heapq
import random
from typing import Any, Callable

from minternet.observe.trace import Tracer
from minternet.runtime import NS_PER_MS
from minternet.stack.errors import ErrorKind, TransportError
from minternet.stack.observer import Observer
from minternet.stack.route import RouteHandle
from minternet.transport.tcp.connection import Events, Options, State, TCPConnection
from minternet.wire.tcp import MSS, TCP, Sack, SackPermitted, TCPFlags, WindowScale

FIN, SYN, RST, PSH, ACK = (int(TCPFlags.FIN), int(TCPFlags.SYN), int(TCPFlags.RST), int(TCPFlags.PSH),
                           int(TCPFlags.ACK))
LOCAL = ("10.0.0.1", 40000)
REMOTE = ("10.0.0.2", 80)
ISS = 1000  # ours
IRS = 5000  # the peer's


class FakeClock:
    """Integer nanoseconds and a heap of callbacks, stepped by the test."""

    def __init__(self) -> None:
        self.now = 0
        self._heap: list[tuple[int, int, Callable[..., Any], tuple]] = []
        self._n = 0

    def call_at(self, when: int, callback: Callable[..., Any], *args: Any) -> None:
        heapq.heappush(self._heap, (when, self._n, callback, args))
        self._n += 1

    def call_later(self, delay: int, callback: Callable[..., Any], *args: Any) -> None:
        self.call_at(self.now + delay, callback, *args)

    def advance(self, delta: int) -> None:
        """Run everything due in the next ``delta`` ns, in order, and stop at now + delta."""
        until = self.now + delta
        while self._heap and self._heap[0][0] <= until:
            when, _, callback, args = heapq.heappop(self._heap)
            self.now = max(self.now, when)
            callback(*args)
        self.now = until

    def advance_ms(self, ms: float) -> None:
        self.advance(int(ms * NS_PER_MS))


class FakeContext:
    """The TCPContext a test hands a connection: what it sends lands in ``sent``."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.rng = random.Random(1)
        self.obs = Observer("h", Tracer(self.clock))
        self.sent: list[TCP] = []
        self.states: list[tuple[State, State]] = []
        self.forgotten: list[TCPConnection] = []
        self.resets: list[TCP] = []

    def output(self, conn: TCPConnection, seg: TCP) -> None:
        self.sent.append(seg)

    def state_changed(self, conn: TCPConnection, old: State, new: State) -> None:
        self.states.append((old, new))

    def forget(self, conn: TCPConnection) -> None:
        self.forgotten.append(conn)

    def send_reset_for(self, seg: TCP, local_ip: str, remote_ip: str) -> None:
        self.resets.append(seg)

    def challenge_ack_allowed(self) -> bool:
        return True

    def take(self) -> list[TCP]:
        """The segments sent since the last take()."""
        sent, self.sent = self.sent, []
        return sent


class Recorder(Events):
    """The application side: what the connection told it."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.closed_with: int | None = None

    def established(self) -> None:
        self.log.append("established")

    def readable(self) -> None:
        self.log.append("readable")

    def writable(self) -> None:
        self.log.append("writable")

    def closed(self, error: int) -> None:
        self.log.append("closed")
        self.closed_with = error


def route(mtu: int = 1500, tso_max: int = 0) -> RouteHandle:
    return RouteHandle(None, b"\x0a\x00\x00\x02", LOCAL[0], mtu, tso_max, b"\x0a\x00\x00\x02", 0)  # type: ignore[arg-type]


def make(ctx: FakeContext | None = None, mtu: int = 1500, tso_max: int = 0, **options: Any
         ) -> tuple[TCPConnection, FakeContext, Recorder]:
    """A fresh CLOSED connection from LOCAL to REMOTE with its fake context and recorder."""
    ctx = ctx or FakeContext()
    conn = TCPConnection(ctx, LOCAL, REMOTE, Options(**options), ISS, route(mtu, tso_max))
    rec = Recorder()
    conn.events = rec
    return conn, ctx, rec


def seg(flags: int, seq: int, ack: int = 0, payload: bytes = b"", window: int = 65535,
        options: tuple = ()) -> TCP:
    """A segment from the peer."""
    return TCP(REMOTE[1], LOCAL[1], seq, ack, flags, window, payload, 0, options)


def established(sack: bool = True, peer_mss: int = 1460, mtu: int = 1500, tso_max: int = 0,
                **options: Any) -> tuple[TCPConnection, FakeContext, Recorder]:
    """An active open completed without timestamps (so segment sizes are round numbers) and,
    unless sack=False, with SACK; the handshake's segments are taken."""
    conn, ctx, rec = make(mtu=mtu, tso_max=tso_max, timestamps=False, sack=sack, **options)
    conn.open_active()
    peer_opts: tuple = (MSS(peer_mss),) + ((SackPermitted(),) if sack else ()) + (WindowScale(0),)
    ctx.clock.advance_ms(50)  # one RTT
    conn.segment_arrives(seg(SYN | ACK, IRS, ISS + 1, options=peer_opts))
    ctx.take()
    return conn, ctx, rec


def ack(n: int, window: int = 65535, blocks: tuple = ()) -> TCP:
    """An ACK from the peer for our bytes up to ISS + 1 + n, with SACK blocks (offsets likewise)."""
    opts = (Sack(tuple((ISS + 1 + l, ISS + 1 + r) for l, r in blocks)),) if blocks else ()
    return seg(ACK, IRS + 1, ISS + 1 + n, window=window, options=opts)


def unreachable(kind: ErrorKind) -> TransportError:
    return TransportError(kind, 6, LOCAL[0], LOCAL[1], REMOTE[0], REMOTE[1], reporter="10.0.0.254")
