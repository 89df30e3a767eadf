"""The guided tour's session (web/tour.py): each stage's own events and the packets it marks."""

from __future__ import annotations

import pytest

pytest.importorskip("aiohttp")

from minternet.demo import STAGES  # noqa: E402
from minternet.web.session import ActionError  # noqa: E402
from minternet.web.tour import TourSession  # noqa: E402


@pytest.fixture(scope="module")
def tour():
    t = TourSession(seed=0, lang="ko")
    yield t
    t.close()


def goto(tour, n):
    return tour.executor.submit(tour.goto, n).result()


def test_every_stage_has_its_events_and_its_marked_packets(tour):
    carried = 0
    for n, stage in enumerate(STAGES, 1):
        msg = goto(tour, n)
        run = tour.runs[n]
        assert msg["key"] == stage.key and msg["title"]["ko"] == stage.title("ko") and msg["count"] == len(STAGES)
        assert msg["events"], stage.key
        times = [e["t"] for e in msg["events"]]
        assert times == sorted(times) and msg["start"] == times[0] and msg["end"] == times[-1]
        assert [e["i"] for e in msg["events"]] == list(range(len(msg["events"])))
        # Every packet the stage marks is on show, with its narration in both languages.
        assert len(msg["focuses"]) == len(run.focuses), stage.key
        for f, mark in zip(msg["focuses"], run.focuses):
            assert tour.events[f["i"]] is mark.event
            assert f["text"] == {"en": mark.text("en"), "ko": mark.text("ko")}
            shown = tour.events[f["show"]]
            if f["show"] != f["i"]:  # the frame that carries the marked packet, from Ethernet up
                assert shown.layer == "link" and shown.event == "send" and mark.event.packet in shown.frame
                carried += 1
        assert msg["lines"]["ko"][0].strip().startswith(f"=== {n}.")
    assert carried >= 10


def test_detail_reads_the_stage_on_show(tour):
    msg = goto(tour, 1)
    f = msg["focuses"][0]
    d = tour.detail(f["show"])
    assert [layer["name"] for layer in d["layers"]][:2] == ["Ethernet", "IPv4"]
    with pytest.raises(ActionError, match="no stage 99"):
        goto(tour, 99)


def test_the_same_seed_tells_the_same_tour(tour):
    other = TourSession(seed=0, lang="en")
    try:
        a = goto(tour, 3)
        b = other.executor.submit(other.goto, 3).result()
        assert [e["summary"] for e in a["events"]] == [e["summary"] for e in b["events"]]
        assert [f["i"] for f in a["focuses"]] == [f["i"] for f in b["focuses"]]
    finally:
        other.close()
