"""traceroute(8): UDP probes with growing TTL; each router on the way answers "time exceeded",
the destination answers "port unreachable"."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..runtime import NS_PER_MS, NS_PER_S
from ..transport.udp import CallbackEndpoint
from ..wire.errors import MalformedPacket
from ..wire.icmp import ICMP, ICMPType, UnreachCode
from ..wire.ipv4 import IPProto, IPv4

if TYPE_CHECKING:
    from ..host import Host

BASE_PORT = 33434  # traceroute's traditional first destination port

_FLAGS = {UnreachCode.HOST: "!H", UnreachCode.NET: "!N", UnreachCode.PROTOCOL: "!P",
          UnreachCode.FRAG_NEEDED: "!F", UnreachCode.ADMIN_PROHIBITED: "!X"}


@dataclass
class Probe:
    ttl: int
    source: str | None = None  # who answered; None: nobody (a star)
    rtt: int | None = None  # ns
    flag: str = ""  # !H, !N, ... for unreachable answers other than the destination's port


@dataclass
class Hop:
    ttl: int
    probes: list[Probe] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        seen: list[str] = []
        for p in self.probes:
            if p.source and p.source not in seen:
                seen.append(p.source)
        return seen


@dataclass
class TracerouteResult:
    destination: str
    hops: list[Hop] = field(default_factory=list)
    reached: bool = False


def format_hop(hop: Hop, name_of: Callable[[str], str | None] = lambda a: None) -> str:
    parts = [f"{hop.ttl:2d} "]
    last = None
    for p in hop.probes:
        if p.source is None:
            parts.append(" *")
            continue
        if p.source != last:
            name = name_of(p.source)
            parts.append(f" {name} ({p.source})" if name else f" {p.source} ({p.source})")
            last = p.source
        parts.append(f"  {p.rtt / NS_PER_MS:.3f} ms{(' ' + p.flag) if p.flag else ''}")
    return "".join(parts)


async def traceroute(host: "Host", destination: str, max_hops: int = 30, probes: int = 3,
                     wait: int = 5 * NS_PER_S, size: int = 60,
                     name_of: Callable[[str], str | None] = lambda a: None,
                     out: Callable[[str], None] | None = None) -> TracerouteResult:
    """Trace the path to ``destination``; ``out`` receives traceroute(8)'s lines."""
    say = out or (lambda line: None)
    clock = host.clock
    loop = asyncio.get_running_loop()
    waiting: dict[int, tuple[asyncio.Future, int]] = {}  # destination port -> (future, time sent)

    def on_icmp(ip: IPv4, msg: ICMP) -> None:
        if msg.type not in (ICMPType.TIME_EXCEEDED, ICMPType.DEST_UNREACHABLE):
            return
        try:
            quoted = msg.quoted()
        except MalformedPacket:
            return
        if quoted.proto != IPProto.UDP or len(quoted.payload) < 4 or quoted.dst != destination:
            return
        sport = int.from_bytes(quoted.payload[0:2], "big")
        dport = int.from_bytes(quoted.payload[2:4], "big")
        entry = waiting.get(dport)
        if sport != port or entry is None or entry[0].done():
            return
        entry[0].set_result((ip.src, msg, clock.now - entry[1]))

    # Keep the source port ours for the duration, as traceroute's socket does.
    port = host.udp.bind(0, CallbackEndpoint(lambda *a: None))
    host.icmp.listeners.append(on_icmp)
    result = TracerouteResult(destination)
    payload = bytes(max(0, size - 28))
    name = name_of(destination)
    say(f"traceroute to {name or destination} ({destination}), {max_hops} hops max, {size} byte packets")
    seq = 0
    try:
        for ttl in range(1, max_hops + 1):
            hop = Hop(ttl)
            for _ in range(probes):
                dport = BASE_PORT + seq
                seq += 1
                fut = loop.create_future()
                waiting[dport] = (fut, clock.now)
                probe = Probe(ttl)
                failure = host.udp.send(port, destination, dport, payload, ttl=ttl)
                if failure is None:
                    try:
                        source, msg, rtt = await asyncio.wait_for(fut, wait / NS_PER_S)
                        probe.source, probe.rtt = source, rtt
                        if msg.type == ICMPType.DEST_UNREACHABLE:
                            if msg.code == UnreachCode.PORT and source == destination:
                                result.reached = True
                            else:
                                probe.flag = _FLAGS.get(msg.code, f"!<{msg.code}>")
                    except asyncio.TimeoutError:
                        pass
                del waiting[dport]
                hop.probes.append(probe)
            result.hops.append(hop)
            say(format_hop(hop, name_of))
            if result.reached or any(p.flag for p in hop.probes):
                break
    finally:
        host.icmp.listeners.remove(on_icmp)
        host.udp.unbind(port)
    return result
