"""The demo's stages, in the order ``minternet demo`` tells them (see the package docstring of
:mod:`minternet.demo` for the interface)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .stages import h3, ip, names, ports, transport, web
from .text import text

if TYPE_CHECKING:
    from .story import Story


@dataclass(frozen=True)
class Stage:
    """One stage of the demo.

    ``key``: a stable id (``--stage KEY``, the tour's URLs, the facts' key).
    ``title_key``: the text key of its title (``title(lang)``).
    ``run(story)``: tells it: runs the scenario in ``story.net``, narrates with ``story.say`` /
    ``story.line``, stores its facts in ``story.fact`` (= ``story.facts[key]``) and marks the
    packets that matter with ``story.focus(event, text_key, **values)``.
    ``world``: the name of the network it runs in; stages with the same world share one network in
    a story (built once, by ``prepare(story)`` after the example internet from the seed).
    ``after``: stages of the same world that must have run before it (for their facts, or for the
    state the network is left in); when this stage runs alone, they run first without narration.
    """

    key: str
    title_key: str
    run: Callable[["Story"], None]
    world: str
    prepare: Callable[["Story"], None] | None = None
    after: tuple[str, ...] = field(default=())

    def title(self, lang: str) -> str:
        return text(self.title_key, lang)


WEB = dict(world="web", prepare=web.prepare)

STAGES: list[Stage] = [
    # IP: what it does not promise (the notes: 비연결성, 비신뢰성, 1500 bytes)
    Stage("connectionless", "ip.cl", ip.connectionless, world="connectionless"),
    Stage("reorder", "ip.ro", ip.reorder, world="reorder"),
    Stage("fragments", "ip.fr", ip.fragments, world="fragments"),
    # TCP on IP: the layers, the handshake, delivery and order guaranteed
    Stage("encapsulation", "stage3", web.encapsulation, **WEB),
    Stage("handshake", "stage2", web.handshake, **WEB),
    Stage("loss", "stage4", web.loss, **WEB),
    Stage("resend", "tcp.rs", transport.resend, world="resend"),
    Stage("failover", "stage5", web.failover, after=("loss",), **WEB),
    Stage("close", "stage6", web.close, after=("failover",), **WEB),
    # ports, then names
    Stage("ports", "ports", ports.ports, world="ports"),
    Stage("dns", "stage1", web.dns, **WEB),
    Stage("dns-change", "dns.ch", names.dns_change, world="dns-change", prepare=names.prepare),
    # HTTP, and UDP beside TCP with numbers
    Stage("https", "stage8", h3.run, after=("close",), **WEB),
    Stage("udp-vs-tcp", "tcp.ut", transport.udp_vs_tcp, after=("https",), **WEB),
]


def find_stage(which: str) -> tuple[int, Stage]:
    """(number, stage) for ``which``: a number (1 = the first stage) or a key. Raises
    ValueError with the valid choices."""
    if which.isdigit():
        n = int(which)
        if 1 <= n <= len(STAGES):
            return n, STAGES[n - 1]
        raise ValueError(f"there is no stage {n}: the stages are numbered 1 to {len(STAGES)} (minternet demo --list)")
    for n, stage in enumerate(STAGES, 1):
        if stage.key == which:
            return n, stage
    raise ValueError(f"there is no stage {which!r}: choose a number 1-{len(STAGES)} or one of "
                     f"{', '.join(s.key for s in STAGES)} (minternet demo --list)")


def stage_by_key(key: str) -> Stage:
    return find_stage(key)[1]


def play(story: "Story", stage: Stage, number: int) -> None:
    """Tell ``stage`` as number ``number``: build its world if the story has none yet, run the
    stages it comes after that have not run there (quietly), then the stage itself."""
    world = story.worlds.get(stage.world)
    if world is None:
        world = story.build_world(stage.world, stage.prepare)
    for key in stage.after:
        if key not in world.done:
            quiet, story.quiet = story.quiet, True
            try:
                play(story, stage_by_key(key), find_stage(key)[0])
            finally:
                story.quiet = quiet
    previous = story.world, story.stage
    story.world, story.stage = world, stage
    try:
        story.facts[stage.key] = {}
        story.focuses = [f for f in story.focuses if f.stage != stage.key]  # a replay marks anew
        story.title(number, stage.title_key)
        stage.run(story)
        world.done.append(stage.key)
    finally:
        story.world, story.stage = previous
