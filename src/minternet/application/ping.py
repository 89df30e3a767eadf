"""ping(8) on a simulated (or real) host: ICMP echo request and reply, round-trip times."""

from __future__ import annotations

import asyncio
import math
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..runtime import NS_PER_MS, NS_PER_S
from ..wire.errors import MalformedPacket
from ..wire.icmp import ICMP, ICMPType, TimeExceededCode, UnreachCode
from ..wire.ipv4 import IPProto, IPv4

if TYPE_CHECKING:
    from ..host import Host

_UNREACH_TEXT = {
    UnreachCode.NET: "Destination Net Unreachable",
    UnreachCode.HOST: "Destination Host Unreachable",
    UnreachCode.PROTOCOL: "Destination Protocol Unreachable",
    UnreachCode.PORT: "Destination Port Unreachable",
    UnreachCode.FRAG_NEEDED: "Frag needed and DF set",
}


def icmp_error_text(msg: ICMP) -> str:
    """The words ping(8) prints for an ICMP error."""
    if msg.type == ICMPType.TIME_EXCEEDED:
        return "Time to live exceeded" if msg.code == TimeExceededCode.TTL else "Frag reassembly time exceeded"
    if msg.type == ICMPType.DEST_UNREACHABLE:
        text = _UNREACH_TEXT.get(msg.code, f"Destination Unreachable, Bad Code: {msg.code}")
        if msg.code == UnreachCode.FRAG_NEEDED:
            text += f" (mtu = {msg.next_hop_mtu})"
        return text
    return msg.summary()


@dataclass
class PingReply:
    seq: int
    source: str
    ttl: int
    rtt: int  # ns
    size: int  # bytes of ICMP (header + data), as ping prints


@dataclass
class PingError:
    seq: int
    source: str
    text: str


@dataclass
class PingResult:
    destination: str
    transmitted: int = 0
    replies: list[PingReply] = field(default_factory=list)
    errors: list[PingError] = field(default_factory=list)
    send_failures: list[tuple[int, str]] = field(default_factory=list)
    elapsed: int = 0  # ns

    @property
    def received(self) -> int:
        return len({r.seq for r in self.replies})

    @property
    def loss(self) -> float:
        return 0.0 if not self.transmitted else 100.0 * (self.transmitted - self.received) / self.transmitted

    def rtt_stats(self) -> tuple[float, float, float, float] | None:
        """min, avg, max, mdev in milliseconds, as ping(8) computes them."""
        if not self.replies:
            return None
        rtts = [r.rtt / NS_PER_MS for r in self.replies]
        avg = sum(rtts) / len(rtts)
        mdev = math.sqrt(max(0.0, sum(x * x for x in rtts) / len(rtts) - avg * avg))
        return min(rtts), avg, max(rtts), mdev

    def summary_lines(self) -> list[str]:
        lines = [f"--- {self.destination} ping statistics ---"]
        text = f"{self.transmitted} packets transmitted, {self.received} received"
        if self.errors:
            text += f", +{len(self.errors)} errors"
        text += f", {self.loss:.0f}% packet loss, time {self.elapsed // NS_PER_MS}ms"
        lines.append(text)
        stats = self.rtt_stats()
        if stats:
            lines.append("rtt min/avg/max/mdev = " + "/".join(f"{x:.3f}" for x in stats) + " ms")
        return lines


async def ping(host: "Host", destination: str, count: int = 4, size: int = 56, interval: int = NS_PER_S,
               timeout: int = 5 * NS_PER_S, ttl: int | None = None, df: bool = False,
               out: Callable[[str], None] | None = None) -> PingResult:
    """Send ``count`` echo requests with ``size`` bytes of data, ``interval`` ns apart; wait up to
    ``timeout`` ns after the last for its reply. ``out`` receives ping(8)'s lines as they happen."""
    clock = host.clock
    ident = host.rng.randrange(1, 65536)
    result = PingResult(destination)
    pending: dict[int, int] = {}  # seq -> time sent
    all_done = asyncio.get_running_loop().create_future()
    say = out or (lambda line: None)

    def check_done() -> None:
        if result.transmitted == count and not pending and not all_done.done():
            all_done.set_result(None)

    def listener(ip: IPv4, msg: ICMP) -> None:
        if msg.type == ICMPType.ECHO_REPLY and msg.ident == ident and ip.src == destination:
            sent = pending.pop(msg.seq, None)
            if sent is None:
                if any(r.seq == msg.seq for r in result.replies):
                    say(f"{len(msg.payload) + 8} bytes from {ip.src}: icmp_seq={msg.seq} ttl={ip.ttl} (DUP!)")
                return
            reply = PingReply(msg.seq, ip.src, ip.ttl, clock.now - sent, len(msg.payload) + 8)
            result.replies.append(reply)
            say(f"{reply.size} bytes from {ip.src}: icmp_seq={msg.seq} ttl={ip.ttl} "
                f"time={reply.rtt / NS_PER_MS:.{3 if reply.rtt < 10 * NS_PER_MS else 1}f} ms")
            check_done()
        elif msg.is_error:
            try:
                quoted = msg.quoted()
            except MalformedPacket:
                return
            if quoted.proto != IPProto.ICMP or len(quoted.payload) < 8:
                return
            q_type, _, _, q_ident, q_seq = struct.unpack_from("!BBHHH", quoted.payload)
            if q_type != ICMPType.ECHO_REQUEST or q_ident != ident or q_seq not in pending:
                return
            pending.pop(q_seq)
            result.errors.append(PingError(q_seq, ip.src, icmp_error_text(msg)))
            say(f"From {ip.src} icmp_seq={q_seq} {icmp_error_text(msg)}")
            check_done()

    host.icmp.listeners.append(listener)
    start = clock.now
    say(f"PING {destination} ({destination}) {size}({size + 28}) bytes of data.")
    try:
        for seq in range(1, count + 1):
            data = struct.pack("!Q", clock.now) + bytes((0x10 + i) & 0xFF for i in range(max(0, size - 8)))
            data = data[:size]
            pending[seq] = clock.now
            result.transmitted += 1
            failure = host.ip.send(destination, IPProto.ICMP, ICMP.echo_request(ident, seq, data).encode(),
                                   ttl=ttl, df=df)
            if failure is not None:
                pending.pop(seq, None)
                text = {"no-route": "Network is unreachable", "frag-needed": "Message too long",
                        "node-down": "Network is down"}.get(failure, failure)
                result.send_failures.append((seq, text))
                say(f"ping: sendmsg: {text}")
            if seq < count:
                await asyncio.sleep(interval / NS_PER_S)
        check_done()
        try:
            await asyncio.wait_for(asyncio.shield(all_done), timeout / NS_PER_S)
        except asyncio.TimeoutError:
            pass
    finally:
        host.icmp.listeners.remove(listener)
    # Like ping(8), "time" runs to the last packet sent or received, not to the end of waiting.
    last = max([start] + [start + (r.seq - 1) * interval + r.rtt for r in result.replies]
               + [start + (result.transmitted - 1) * interval])
    result.elapsed = last - start
    for line in [""] + result.summary_lines():
        say(line)
    return result
