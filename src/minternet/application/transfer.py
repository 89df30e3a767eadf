"""Bulk transfer over TCP, checked end to end: N pseudo-random bytes from one host to another,
the SHA-256 of what arrived compared with what was sent, with goodput and retransmissions."""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..runtime import NS_PER_S

if TYPE_CHECKING:
    from ..host import Host

CHUNK = 256 * 1024


@dataclass
class TransferResult:
    nbytes: int
    received: int = 0
    sent_sha256: str = ""
    received_sha256: str = ""
    started: int = 0  # ns, when connect() began
    finished: int = 0  # ns, when the last byte arrived
    sender_stats: dict[str, Any] = field(default_factory=dict)
    receiver_stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.received == self.nbytes and self.sent_sha256 == self.received_sha256

    @property
    def seconds(self) -> float:
        return (self.finished - self.started) / NS_PER_S

    @property
    def goodput_bps(self) -> float:
        return self.received * 8 / self.seconds if self.finished > self.started else 0.0

    def report(self, src: str, dst: str) -> list[str]:
        s = self.sender_stats
        lines = []
        if self.error:
            lines.append(f"transfer failed: {self.error}")
        verdict = "SHA-256 matches" if self.ok else "SHA-256 DOES NOT MATCH" if self.received == self.nbytes else \
            f"only {self.received} of {self.nbytes} bytes arrived"
        lines.append(f"{dst} received {self.received:,} bytes from {src}: {verdict} ({self.received_sha256[:16]}...)")
        lines.append(f"time {self.seconds:.3f} s (simulated), goodput {self.goodput_bps / 1e6:.2f} Mbit/s")
        if s:
            lines.append(f"sender: {s.get('segments_sent', 0):,} segments, {s.get('retransmissions', 0)} retransmitted "
                         f"({s.get('fast_retransmits', 0)} fast retransmits, {s.get('timeouts', 0)} timeouts), "
                         f"congestion control {s.get('congestion', '?')}, final cwnd {s.get('cwnd', 0):,} bytes, "
                         f"srtt {s.get('srtt_ms', 0):.1f} ms")
        return lines


def payload_chunks(nbytes: int, seed: int):
    rng = random.Random(seed)
    left = nbytes
    while left > 0:
        n = min(CHUNK, left)
        yield rng.randbytes(n)
        left -= n


async def transfer(src: "Host", dst: "Host", nbytes: int, port: int = 5001, seed: int = 0,
                   options: dict[str, Any] | None = None, timeout: float | None = None,
                   progress: Callable[[str], None] | None = None) -> TransferResult:
    """Send ``nbytes`` from ``src`` to ``dst`` over one TCP connection and check them."""
    from ..transport.tcp.connection import Options
    def opts_for(host: "Host") -> Options:
        # Each host's own TCP defaults (topology: tcp = { rto_min = ... }), then what was asked.
        base = getattr(getattr(host, "tcp", None), "defaults", None)
        opts = base.copy() if isinstance(base, Options) else Options()
        check = Options(**(options or {}))  # unknown names fail here, as before
        for key in (options or {}):
            setattr(opts, key, getattr(check, key))
        return opts
    result = TransferResult(nbytes)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    receiver_hash = hashlib.sha256()

    class Sink(asyncio.Protocol):
        """The receiving program: hashes what arrives, like a packet sink, without a task."""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            receiver_hash.update(data)
            result.received += len(data)
            result.finished = dst.clock.now

        def eof_received(self) -> bool:
            result.receiver_stats = dict(self.transport.get_extra_info("tcp").stats)
            if not done.done():
                done.set_result(None)
            return False  # close our side too

        def connection_lost(self, exc: Exception | None) -> None:
            if not done.done():
                done.set_result(None)

    server = await dst.create_server(Sink, port=port, options=opts_for(dst))
    result.started = src.clock.now
    sent_hash = hashlib.sha256()
    conn = writer = None

    async def send() -> None:
        nonlocal conn, writer
        reader, writer = await src.open_connection(dst.address, port, options=opts_for(src), timeout=timeout)
        conn = writer.get_extra_info("tcp")
        for chunk in payload_chunks(nbytes, seed):
            sent_hash.update(chunk)
            writer.write(chunk)
            await writer.drain()
        writer.write_eof()
        await done

    try:
        # The timeout bounds the whole transfer (connect, send, the receiver's EOF), not each step.
        await asyncio.wait_for(send(), timeout) if timeout else await send()
        if conn.error:
            import os
            result.error = f"the connection failed: {os.strerror(conn.error)}"
    except asyncio.TimeoutError as exc:  # before OSError: TimeoutError is one since Python 3.11
        result.error = f"{type(exc).__name__}: {exc}" if str(exc) else f"timed out after {timeout:g}s"
    except OSError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if conn is not None:  # what the sender did, by the end or by the timeout
            info = dict(conn.stats)
            info.update(cwnd=conn.cc.cwnd, congestion=conn.cc.name, srtt_ms=(conn.rtt.srtt or 0) / 1e6)
            result.sender_stats = info
        if writer is not None:
            writer.close()
        server.close()
    result.sent_sha256 = sent_hash.hexdigest()
    result.received_sha256 = receiver_hash.hexdigest()
    return result
