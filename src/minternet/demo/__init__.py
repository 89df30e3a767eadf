"""``minternet demo``: the learner's notes told with the packets of real runs of the example
internet, stage by stage, in English or Korean.

The registry (for the command line and for the browser's guided tour)
--------------------------------------------------------------------
``STAGES: list[Stage]`` (:mod:`minternet.demo.registry`), in the order the demo tells them; a
stage's number is its position, from 1. A :class:`~minternet.demo.registry.Stage` has

- ``key``: a stable id ("dns", "handshake", "connectionless", ...); ``--stage KEY`` or ``--stage N``;
- ``title(lang)``: its title in "en" or "ko";
- ``world`` and ``prepare``: the network it runs in. Every world is the built-in example internet
  built from the story's seed, recorded from its first event; ``prepare(story)`` (if any) then sets
  it up (servers, a first fetch). Stages naming the same world share that one network in a story;
  a stage with a world of its own can run alone as it runs in the whole demo.
- ``after``: the stages of its world that must have run before it; ``play`` runs the missing ones
  first, without narration (so ``--stage close`` tells exactly what the whole demo tells there);
- ``run(story)``: runs its scenario, narrates, stores its facts in ``story.fact``
  (``story.facts[key]``) and marks the packets that matter with ``story.focus``.

To tell a stage: ``story = Story(args, out=..., on_world=...)``, then
``registry.play(story, stage, number)``; ``story.close()`` at the end. The
:class:`~minternet.demo.story.Story` gives

- ``out(line)``: where every line goes (default print); ``story.quiet`` silences it;
- ``on_world(world)``: called when a world's network is built, before anything runs in it (the
  live view subscribes to ``world.net.tracer`` there);
- ``worlds[name]`` -> ``World`` (``net``, ``rec``: a Recorder of every trace event, ``outdir``,
  ``trace_path``, ``state``, ``done``);
- ``facts[stage_key]``: what the stage's narration stated, read from its run;
- ``focuses``: a list of ``Focus(stage, world, index, event, key, values)``: ``event`` is
  ``worlds[world].rec.events[index]``, the packet to pause on; ``focus.text(lang)`` is the
  narration to show beside it.

Files: the web world writes its pcaps and trace.jsonl into ``--pcap DIR`` (``--trace FILE``), every
other world into ``DIR/<world>/``.
"""

from __future__ import annotations

import argparse
import os

from .registry import STAGES, Stage, find_stage, play
from .story import MAIN_WORLD, Story, choose_language
from .text import text

__all__ = ["STAGES", "Stage", "Story", "find_stage", "play", "run_demo", "choose_language"]


def list_stages(lang: str) -> list[str]:
    """One line per stage: number, key, title."""
    width = max(len(s.key) for s in STAGES)
    return [f"{n:2d}. {s.key:<{width}}  {s.title(lang)}" for n, s in enumerate(STAGES, 1)]


def finish(story: Story) -> None:
    web = story.worlds.get(MAIN_WORLD)
    svg = None
    if web is not None and "first" in web.state:
        svg = os.path.join(web.outdir, "first-fetch.svg")
        from ..observe.diagram import build_diagram, to_svg
        with open(svg, "w", encoding="utf-8") as f:
            f.write(to_svg(build_diagram([e for e in web.state["first"] if e.layer in ("link", "ip", "arp")])))
    story.close()
    lang = story.lang
    story.print()
    story.say("outro")
    story.print()
    story.say("files")
    main = story.worlds.get(MAIN_WORLD) or next(iter(story.worlds.values()))
    story.line(f"{text('file.pcap', lang)} {main.outdir}/")
    story.line(f"{text('file.trace', lang)} {main.trace_path}")
    others = [w for w in story.worlds.values() if w is not main]
    if others:
        story.line(f"{text('file.worlds', lang)} {' '.join(os.path.relpath(w.outdir, main.outdir) + '/' for w in others)}")
    if svg:
        story.line(f"{text('file.svg', lang)} {svg}")


def run_demo(args: argparse.Namespace) -> int:
    lang = choose_language(getattr(args, "lang", None))
    if getattr(args, "list", False):
        for line in list_stages(lang):
            print(line)
        return 0
    which = getattr(args, "stage", None)
    try:
        chosen = [find_stage(w) for w in which] if which else list(enumerate(STAGES, 1))
    except ValueError as e:
        print(f"minternet demo: {e}")
        return 2
    story = Story(args)
    story.print(text("title", story.lang))
    story.print()
    story.say("intro")
    for i, (n, stage) in enumerate(chosen):
        if i:
            story.pause()
        play(story, stage, n)
    finish(story)
    return 0
