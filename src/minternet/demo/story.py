"""The story a demo tells: its worlds (networks built from the seed), its output, its facts and
the packets it points at. The stages themselves are in :mod:`minternet.demo.stages`, the list of
them in :mod:`minternet.demo.registry`.

Every fact the narration states is read from the trace of the run (addresses, ports, sequence
numbers, TTLs, MACs, drops, route changes), so the story and the packets cannot disagree. The
narration is in English or Korean (:mod:`minternet.demo.text`).
"""

from __future__ import annotations

import argparse
import locale
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..observe.trace import Recorder, TraceEvent
from ..sim.example import load_example
from ..wire.dns import DNSMessage
from ..wire.errors import MalformedPacket
from ..wire.ipv4 import IPv4
from ..wire.tcp import TCP
from ..wire.udp import UDP
from .text import text

if TYPE_CHECKING:
    from ..sim.network import Network
    from ..sim.topology import Topology
    from .registry import Stage

MAIN_WORLD = "web"  # the world of the page's story: its files go straight into --pcap DIR


def choose_language(flag: str | None) -> str:
    if flag:
        return flag
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "ko" if loc.lower().startswith("ko") else "en"


# -- reading the trace ----------------------------------------------------------------------------
def ip_of(ev: TraceEvent) -> IPv4 | None:
    data = ev.packet
    if data is None and ev.frame is not None and len(ev.frame) > 14 and ev.frame[12:14] == b"\x08\x00":
        data = ev.frame[14:]
    if data is None:
        return None
    try:
        return IPv4.decode(data, verify=False)
    except MalformedPacket:
        return None


def transport_of(ip: IPv4):
    if ip.frag_offset:
        return None
    try:
        if ip.proto == 6:
            return TCP.decode(ip.payload, ip.src, ip.dst, verify=False)
        if ip.proto == 17:
            return UDP.decode(ip.payload, ip.src, ip.dst, verify=False)
    except MalformedPacket:
        return None
    return None


def ip_events(events: list[TraceEvent], event: str = "send", node: str | None = None,
              proto: int | None = None) -> list[tuple[TraceEvent, IPv4, Any]]:
    """(event, IP packet, TCP or UDP header or None) of the IP-layer ``event``s of ``events``."""
    out = []
    for ev in events:
        if ev.layer != "ip" or ev.event != event or (node is not None and ev.node != node):
            continue
        ip = ip_of(ev)
        if ip is None or (proto is not None and ip.proto != proto):
            continue
        out.append((ev, ip, transport_of(ip)))
    return out


def tcp_segments(events: list[TraceEvent], port: int = 80) -> list[tuple[TraceEvent, IPv4, TCP]]:
    """The TCP segments to or from ``port`` that IP sent, in order."""
    return [(ev, ip, seg) for ev, ip, seg in ip_events(events, proto=6)
            if seg is not None and port in (seg.sport, seg.dport)]


def dns_packets(events: list[TraceEvent]) -> list[tuple[TraceEvent, IPv4, UDP, DNSMessage]]:
    out = []
    for ev, ip, udp in ip_events(events, proto=17):
        if udp is None or 53 not in (udp.sport, udp.dport):
            continue
        try:
            msg = DNSMessage.decode(udp.payload)
        except MalformedPacket:
            continue
        out.append((ev, ip, udp, msg))
    return out


# -- the story ------------------------------------------------------------------------------------
@dataclass
class World:
    """One network of the story, built from the seed, with everything recorded from its start.
    ``state`` holds what its stages share (the web world's first fetch, for instance)."""

    name: str
    topo: "Topology"
    rec: Recorder
    outdir: str
    trace_path: str
    names: dict[str, str]
    state: dict[str, Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)  # keys of the stages that have run in it

    @property
    def net(self) -> "Network":
        return self.topo.network


@dataclass(frozen=True)
class Focus:
    """A packet that matters: the tour pauses on ``event`` with ``text(key, lang, **values)``."""

    stage: str
    world: str
    index: int  # the event's position in its world's recorder (world.rec.events[index])
    event: TraceEvent
    key: str
    values: dict[str, Any]

    def text(self, lang: str) -> str:
        return text(self.key, lang, **self.values)


class Story:
    """The state of one telling: language, worlds, facts, focus marks, output.

    ``out`` receives every line the story prints (default: print); ``on_world(world)`` is called
    when a world has been built, before anything runs in it (the live view subscribes there)."""

    def __init__(self, args: argparse.Namespace, out: Callable[[str], None] | None = None,
                 on_world: Callable[[World], None] | None = None) -> None:
        self.lang = choose_language(getattr(args, "lang", None))
        self.step = bool(getattr(args, "step", False))
        self.seed = getattr(args, "seed", None)
        self.outdir = getattr(args, "pcap", None) or tempfile.mkdtemp(prefix="minternet-demo-")
        self.trace_arg = getattr(args, "trace", None)
        self.out = out or print
        self.on_world = on_world
        self.quiet = False
        self.worlds: dict[str, World] = {}
        self.world: World | None = None  # the world of the stage running now
        self.stage: "Stage | None" = None
        self.facts: dict[str, dict[str, Any]] = {}  # per stage key
        self.focuses: list[Focus] = []

    # -- worlds -----------------------------------------------------------------------------------
    @property
    def net(self) -> "Network":
        assert self.world is not None, "no stage is running"
        return self.world.net

    @property
    def rec(self) -> Recorder:
        assert self.world is not None, "no stage is running"
        return self.world.rec

    @property
    def names(self) -> dict[str, str]:
        assert self.world is not None, "no stage is running"
        return self.world.names

    def build_world(self, name: str, prepare: Callable[["Story"], None] | None = None) -> World:
        """The example internet from the seed, recorded, captured into its own folder (the main
        world into --pcap DIR itself, every other world into DIR/<name>/), then ``prepare``."""
        topo = load_example(seed=self.seed, out=lambda line: None)
        net = topo.network
        rec = Recorder()
        net.tracer.subscribe(rec)
        outdir = self.outdir if name == MAIN_WORLD else os.path.join(self.outdir, name)
        trace_path = self.trace_arg if (self.trace_arg and name == MAIN_WORLD) else os.path.join(outdir, "trace.jsonl")
        net.capture(outdir)
        net.trace_to(trace_path)
        names = {addr: node.name for node in net.hosts for addr in node.addresses}
        world = World(name, topo, rec, outdir, trace_path, names)
        self.worlds[name] = world
        if self.on_world is not None:
            self.on_world(world)
        if prepare is not None:
            previous, self.world = self.world, world
            try:
                prepare(self)
            finally:
                self.world = previous
        return world

    def close(self) -> None:
        for world in self.worlds.values():
            world.net.close()

    # -- facts and focus --------------------------------------------------------------------------
    @property
    def fact(self) -> dict[str, Any]:
        """The facts of the stage running now (``story.facts[stage.key]``)."""
        assert self.stage is not None, "no stage is running"
        return self.facts.setdefault(self.stage.key, {})

    def focus(self, event: TraceEvent, key: str, **values: Any) -> None:
        """Mark ``event`` (a trace event of this stage's run) as a packet that matters, with the
        narration ``text(key, lang, **values)``: the guided tour pauses there."""
        assert self.stage is not None and self.world is not None, "focus() outside a stage"
        index = next((i for i in range(len(self.rec.events) - 1, -1, -1) if self.rec.events[i] is event), -1)
        self.focuses.append(Focus(self.stage.key, self.world.name, index, event, key, dict(values)))

    # -- output ---------------------------------------------------------------------------------
    def print(self, s: str = "") -> None:
        if not self.quiet:
            self.out(s)

    def say(self, key: str, **values: object) -> None:
        # Hangul takes two columns on a terminal: wrap Korean at half the width.
        self.print(textwrap.fill(text(key, self.lang, **values), width=100 if self.lang == "en" else 56))

    def title(self, n: int, key: str) -> None:
        label = text(key, self.lang)
        self.print(f"\n=== {n}. {label} " + "=" * max(3, 92 - len(label)))

    def line(self, s: str) -> None:
        self.print("    " + s)

    def pause(self) -> None:
        if self.step and not self.quiet and sys.stdin.isatty():
            input(text("press", self.lang))

    def who(self, addr: str) -> str:
        return self.names.get(addr, addr)

    def next_hop_name(self, ev: TraceEvent) -> str:
        """Which node a frame sent by ev.node on ev.iface went to (by destination MAC)."""
        dst_mac = ev.frame[:6]
        for node in self.net.hosts:
            for iface in node.interfaces.values():
                if iface.mac == dst_mac:
                    return node.name
        return "?"

    def path_of(self, events: list[TraceEvent], src: str, dst: str, proto: int = 6) -> list[str]:
        """The nodes a packet from src to dst went through, from the first such packet."""
        for ev in events:
            if ev.layer == "ip" and ev.event == "send" and ev.node == self.who(src):
                ip = ip_of(ev)
                if ip is not None and ip.src == src and ip.dst == dst and ip.proto == proto:
                    ident = ip.ident
                    nodes = [self.who(src)]
                    for e in events:
                        if e.time >= ev.time and e.layer == "ip" and e.event in ("forward", "deliver"):
                            p = ip_of(e)
                            if p is not None and p.ident == ident and p.src == src and e.node not in nodes:
                                nodes.append(e.node)
                    return nodes
        return []


class FrameLoss:
    """Stands between ``node``'s interface and its link and loses the frames :meth:`lose` picks
    (a subclass says which): traced and counted as a drop with reason link-loss at the sender's
    interface, as a frame lost on the line. :meth:`restore` puts the link back."""

    def __init__(self, story: "Story", node: str, iface: str = "eth0") -> None:
        self.host = story.net.host(node)
        self.iface = self.host.interfaces[iface]
        link = story.net.link(f"{node}:{iface}")
        end = next(e for e in link.ends() if e.node_name == node and e.port_name == iface)
        self.send = link.channel_from(end).send
        self.iface.attach(self._transmit)

    def lose(self, frame: bytes) -> bool:
        raise NotImplementedError

    def restore(self) -> None:
        self.iface.attach(self.send)

    def _transmit(self, frame: bytes) -> None:
        if self.lose(frame):
            self.host.drop("link", "link-loss", self.iface.name, frame=frame)
            return
        self.send(frame)

