"""The guided tour: the demo's stages (:mod:`minternet.demo`) played on the live view's map.

Packet Tracer's simulation mode is the model: each stage runs its scenario on the example internet
(the same run as ``minternet demo``), every event recorded as it happens, then the page plays the
stage's events on the map and stops on the packets the stage marked with ``story.focus``, with the
stage's narration beside the map and the packet's layers open, until the reader says "next".

A :class:`TourSession` is a session like the others (the page asks it for events and details) whose
events are those of the stage on show. Stages run in the demo's order, each once, on the worker
thread: going to stage 5 first runs 1 to 4 (a couple of seconds for the whole demo), so every stage
tells exactly what the demo tells. Each stage's world is its own network (with its own clock), so
the page shows one stage at a time: going to a stage replaces the page's events with that stage's.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from typing import Any

from ..demo import STAGES, Story
from ..demo.registry import Stage, play
from ..demo.story import World
from ..demo.text import text as demo_text
from ..observe.trace import TraceEvent
from ..sim.example import load_example
from .i18n import LANGS
from .session import ActionError, BaseSession, tap_switch_ports


@dataclass
class StageRun:
    """What one stage did: its own events (from its start to its end, without the stages it
    comes after or its world's preparation), the packets it marked, and what it printed."""

    number: int
    stage: Stage
    world: World
    events: list[tuple[TraceEvent, list[int] | None]]
    focuses: list[Any]
    lines: list[str]


class TourSession(BaseSession):
    """The demo's stages, one at a time, for the guided tour."""

    mode = "tour"

    def __init__(self, seed: int | None = None, lang: str | None = None) -> None:
        super().__init__(load_example(seed=seed, out=lambda line: None).network)  # the drawing
        self.lang = lang if lang in LANGS else "en"
        self._outdir = tempfile.TemporaryDirectory(prefix="minternet-tour-")
        args = argparse.Namespace(lang=self.lang, seed=seed, pcap=self._outdir.name, trace=None, step=False)
        self._printed: list[str] = []
        self.story = Story(args, out=self._printed.append, on_world=self._on_world)
        self._world_events: dict[str, list[tuple[TraceEvent, list[int] | None]]] = {}
        self.runs: dict[int, StageRun] = {}
        self._prepared: dict[str, int] = {}  # world -> how many of its events its preparation made
        self.current: StageRun | None = None
        self._now = 0

    # -- recording every world as it runs ------------------------------------------------------------
    def _on_world(self, world: World) -> None:
        net = world.net
        ends = {}
        for i, link in enumerate(net.links):
            ends[(link.a.node_name, link.a.port_name)] = (i, link.ab, 0)
            ends[(link.b.node_name, link.b.port_name)] = (i, link.ba, 1)
        events = self._world_events.setdefault(world.name, [])

        def record(ev: TraceEvent) -> None:
            flight = None
            if ev.layer == "link" and ev.event == "send" and ev.frame is not None:
                end = ends.get((ev.node, ev.iface))
                if end is not None:
                    # As the live view does, at the moment of sending: the line's queue is known now.
                    index, ch, direction = end
                    p = ch.params
                    start = max(ev.time, getattr(ch, "next_free", 0))
                    ser = int(len(ev.frame) * 8e9 / p.bandwidth) if p.bandwidth else 0
                    flight = [index, direction, start + ser + p.delay]
            events.append((ev, flight))
        net.tracer.subscribe(record)
        tap_switch_ports(net)

    def _run(self, number: int) -> StageRun:
        """Tell stage ``number`` (1-based), after every stage before it that has not run yet."""
        for n in range(1, number + 1):
            if n in self.runs:
                continue
            stage = STAGES[n - 1]
            world = self.story.worlds.get(stage.world)
            if world is None:
                world = self.story.build_world(stage.world, stage.prepare)
                self._prepared[world.name] = len(self._world_events[world.name])
            events = self._world_events[world.name]
            start, printed = len(events), len(self._printed)
            play(self.story, stage, n)
            mine = [f for f in self.story.focuses if f.stage == stage.key]
            own = events[start:]
            # Some stages tell what their world's preparation did (the web world's first fetch:
            # DNS, the handshake, the hops): then the preparation's events come first.
            marked = {id(f.event) for f in mine}
            before = [k for k in range(start) if id(events[k][0]) in marked]
            if before:  # up to the last packet it marks there (a close that ends after the fetch)
                own = events[:max(self._prepared.get(world.name, 0), before[-1] + 1)] + own
            self.runs[n] = StageRun(n, stage, world, own, mine, self._printed[printed:])
        return self.runs[number]

    # -- what the page asks -------------------------------------------------------------------------
    def goto(self, number: int) -> dict[str, Any]:
        """Make stage ``number`` the one on show; returns the page's ``tour`` message."""
        if not 1 <= number <= len(STAGES):
            raise ActionError("err.no-stage", n=number, count=len(STAGES))
        run = self._run(number)
        self.current = run
        # The stage's events become this session's, numbered from 0 (detail {i} reads them).
        self.events, self.encoded, self._last_send = [], [], {}
        net = run.world.net
        self._ends = {}
        for i, link in enumerate(net.links):
            self._ends[(link.a.node_name, link.a.port_name)] = (i, link.ab, 0)
            self._ends[(link.b.node_name, link.b.port_name)] = (i, link.ba, 1)
        position = {}
        for ev, flight in run.events:
            position[id(ev)] = len(self.events)
            self._record(ev, flight)
        self.drain()  # sent in the tour message, not as a stream
        start = run.events[0][0].time if run.events else 0
        self._now = run.events[-1][0].time if run.events else 0
        focuses = []
        for f in run.focuses:
            i = position.get(id(f.event))
            if i is None:
                continue
            carrier = self._carrier(i)
            focuses.append({"i": i, "show": carrier if carrier is not None else i,
                            "text": {lang: f.text(lang) for lang in LANGS}})
        return {"type": "tour", "n": number, "count": len(STAGES), "key": run.stage.key,
                "title": {lang: run.stage.title(lang) for lang in LANGS},
                "titles": [{lang: s.title(lang) for lang in LANGS} for s in STAGES],
                "intro": {lang: demo_text("intro", lang) for lang in LANGS} if number == 1 else None,
                "lines": {self.lang: run.lines}, "start": start, "end": self._now,
                "events": self.encoded, "focuses": focuses}

    def _carrier(self, i: int) -> int | None:
        """The frame that carries the packet of event ``i`` onto a link (the dot to stop on, and
        the one whose layers start at Ethernet): the next link send at that node with that packet."""
        ev = self.events[i]
        if ev.layer == "link":
            return i if ev.event == "send" else None
        packet = ev.packet
        if packet is None:
            return None
        for j in range(i + 1, min(i + 200, len(self.events))):
            e = self.events[j]
            if e.node == ev.node and e.layer == "link" and e.event == "send" and e.frame is not None \
                    and e.frame[14:14 + len(packet)] == packet:
                return j
        return None

    @property
    def now(self) -> int:
        return self._now

    def next_time(self) -> int | None:
        return None  # the page plays the recorded stage; nothing runs on the server meanwhile

    def advance(self, to_ns: int) -> None:
        pass

    def topology(self) -> dict[str, Any]:
        from .layout import layout
        return layout(self.current.world.net if self.current else self.net)

    def features(self) -> dict[str, Any]:
        out = super().features()
        out["actions"] = False
        out["tour"] = True
        out["stage"] = self.current.number if self.current else None
        return out

    def close(self) -> None:
        try:
            self.executor.submit(self.story.close).result(timeout=10)
        finally:
            super().close()
            self._outdir.cleanup()
