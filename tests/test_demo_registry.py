"""The demo as a registry of stages: listed, run alone, and told the same alone as in the whole demo."""

import contextlib
import io
import re

from minternet.cli import main
from minternet.demo import STAGES, Story, find_stage, play
from minternet.demo.text import TEXT


def run(*argv):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["demo", *argv])
    return code, buf.getvalue()


def test_list_names_every_stage_in_order_in_both_languages():
    for lang in ("en", "ko"):
        code, out = run("--list", "--lang", lang)
        assert code == 0
        rows = re.findall(r"^ *(\d+)\. (\S+) +(.*)$", out, re.M)
        assert [int(n) for n, _, _ in rows] == list(range(1, len(STAGES) + 1))
        assert [k for _, k, _ in rows] == [s.key for s in STAGES]
        assert [t for _, _, t in rows] == [TEXT[s.title_key][lang] for s in STAGES]


def test_keys_are_unique_and_every_after_is_an_earlier_stage_of_the_same_world():
    keys = [s.key for s in STAGES]
    assert len(set(keys)) == len(keys)
    for i, s in enumerate(STAGES):
        for k in s.after:
            n, other = find_stage(k)
            assert n - 1 < i and other.world == s.world


def test_unknown_stage_is_a_clear_error():
    code, out = run("--stage", "nope")
    assert code == 2 and "no stage 'nope'" in out and "--list" in out and "dns" in out
    code, out = run("--stage", "0")
    assert code == 2 and f"1 to {len(STAGES)}" in out


def test_a_stage_alone_tells_what_the_whole_demo_tells_there(tmp_path):
    _, full = run("--lang", "en", "--seed", "3", "--pcap", str(tmp_path / "all"))
    n, _ = find_stage("failover")
    code, alone = run("--lang", "en", "--seed", "3", "--stage", "failover", "--pcap", str(tmp_path / "one"))
    assert code == 0
    titles = re.findall(r"^=== (\d+)\. ", alone, re.M)
    assert titles == [str(n)]
    part = full[full.index(f"\n=== {n}. "):full.index(f"\n=== {n + 1}. ")]
    assert part in alone


def test_facts_and_focus_marks_come_from_the_run(tmp_path):
    import argparse
    story = Story(argparse.Namespace(lang="en", seed=None, pcap=str(tmp_path), trace=None), out=lambda s: None)
    worlds = []
    story.on_world = worlds.append
    n, stage = find_stage("handshake")
    play(story, stage, n)
    story.close()
    assert [w.name for w in worlds] == [stage.world]
    hs = [f for f in story.focuses if f.stage == "handshake"]
    assert [f.key for f in hs] == ["focus.handshake.S", "focus.handshake.SA", "focus.handshake.A"]
    rec = story.worlds[stage.world].rec
    assert all(rec.events[f.index] is f.event for f in hs)
    assert "SYN" in hs[0].text("en") and "SYN" in hs[0].text("ko")
    assert story.facts["handshake"]["handshake_ms"] > 0
