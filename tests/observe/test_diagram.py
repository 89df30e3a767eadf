"""Sequence diagrams of real runs, checked against the traces they were drawn from: one arrow per
frame per hop between the right lanes at the right times, losses marked with their reason, the
SVG and the Mermaid text saying the same, and the command writing the file."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from netutil import chain

from minternet.application.ping import ping
from minternet.application.transfer import transfer
from minternet.cli import main
from minternet.sim.example import example_text
from minternet.observe.diagram import build_diagram, load_trace, to_mermaid, to_svg
from minternet.observe.diagram_model import Diagram
from minternet.observe.trace import JsonLinesSink, Recorder, TraceEvent
from minternet.sim.topology import loads

NS = "{http://www.w3.org/2000/svg}"
MS = 1_000_000


# -- runs ---------------------------------------------------------------------------------------------
def _recorded(net) -> Recorder:
    rec = Recorder()
    net.tracer.subscribe(rec)
    return rec


def ping_run() -> list[TraceEvent]:
    """client -- r1 -- r2 -- r3 -- server: two pings, then one whose TTL runs out at r2."""
    net = chain(3)
    rec = _recorded(net)
    net.run_app(ping(net["client"], "10.0.2.10", count=2, interval=200 * MS))
    net.run_app(ping(net["client"], "10.0.2.10", count=1, ttl=2, timeout=100 * MS))
    net.close()
    return rec.events


def dns_run() -> list[TraceEvent]:
    """The built-in example internet (LANs on switches): the client looks up www.example.com."""
    net = loads(example_text(), "example", seed=0, out=lambda line: None).network
    rec = _recorded(net)
    net.run("500ms")  # the gratuitous ARPs of start-up are over
    assert net.run_app(net["client"].resolve("www.example.com")) == "10.0.2.10"
    net.close()
    return rec.events


def lossy_transfer(nbytes: int = 30_000, trace_file=None) -> list[TraceEvent]:
    """client -- r1 -- r2 -- server with 10% loss between the routers: a short TCP transfer."""
    net = chain(2, seed=2)
    net.links[1].set_params(loss=0.1)
    rec = _recorded(net)
    if trace_file is not None:
        stream = open(trace_file, "w", encoding="utf-8")
        net.tracer.subscribe(JsonLinesSink(stream))
    result = net.run_app(transfer(net["client"], net["server"], nbytes, seed=1))
    net.close()
    if trace_file is not None:
        stream.close()
    assert result.ok
    return rec.events


@pytest.fixture(scope="module")
def pings() -> list[TraceEvent]:
    return ping_run()


@pytest.fixture(scope="module")
def dns() -> list[TraceEvent]:
    return dns_run()


@pytest.fixture(scope="module")
def lossy() -> list[TraceEvent]:
    return lossy_transfer()


# -- reading the SVG back -------------------------------------------------------------------------------
def parse_svg(text: str) -> tuple[dict[str, float], list[dict], dict[int, str]]:
    """Lane x positions, the arrows (attributes and line coordinates) and their label texts."""
    root = ET.fromstring(text)
    lanes: dict[str, float] = {}
    for g in root.iter(NS + "g"):
        if g.get("class") == "lane" and g.get("data-name") not in lanes:
            rect = g.find(NS + "rect")
            lanes[g.get("data-name")] = float(rect.get("x")) + float(rect.get("width")) / 2
    crossed = {int(p.get("data-arrow")) for p in root.iter(NS + "path") if p.get("data-arrow") is not None}
    arrows = []
    for g in root.iter(NS + "g"):
        if "arrow" in (g.get("class") or "").split():
            line = g.find(NS + "line")
            arrows.append({**g.attrib, **{k: float(line.get(k)) for k in ("x1", "y1", "x2", "y2")},
                           "crossed": int(g.get("data-index")) in crossed})
    labels = {int(t.get("data-arrow")): "".join(t.itertext()) for t in root.iter(NS + "text")
              if t.get("data-arrow") is not None}
    return lanes, arrows, labels


def link_events(events: list[TraceEvent], event: str) -> list[TraceEvent]:
    return [e for e in events if e.layer == "link" and e.event == event]


def accepted_receptions(events: list[TraceEvent]) -> list[TraceEvent]:
    """Link receptions a host took: broadcasts, and unicast to its own MAC (a switch floods unicast
    it has not learned yet to everyone; the others ignore it)."""
    owner = {e.frame[6:12]: e.node for e in link_events(events, "send")}
    return [e for e in link_events(events, "recv")
            if e.frame[0] & 1 or owner.get(e.frame[:6], e.node) == e.node]


def check_against_trace(d: Diagram, events: list[TraceEvent]) -> None:
    """Every link hop of the trace is one arrow, and every arrow is a real send and reception (or
    loss) of the same frame; the SVG draws exactly these arrows between the right lanes, in order."""
    recvs = accepted_receptions(events)
    drops = link_events(events, "drop")
    assert len(d.arrows) == len(recvs) + len(drops)
    assert Counter((a.dst, a.t_end) for a in d.arrows if a.reached) == Counter((e.node, e.time) for e in recvs)
    assert Counter((a.drop_at, a.t_end, a.drop) for a in d.arrows if not a.reached) == \
        Counter((e.node, e.time, e.reason) for e in drops)
    sends = {(e.node, e.time, e.frame) for e in link_events(events, "send")}
    received = {(e.node, e.time, e.frame) for e in recvs}
    for a in d.arrows:
        assert (a.src, a.t_send, a.frame) in sends, a
        assert a.t_end >= a.t_send
        if a.reached and not a.corrupted:
            assert (a.dst, a.t_end, a.frame) in received, a

    lanes, arrows, labels = parse_svg(to_svg(d))
    assert list(lanes) == [lane.name for lane in d.lanes]
    assert [(g["data-src"], g["data-dst"] or None, int(g["data-t-send"]), int(g["data-t-end"])) for g in arrows] == \
        [(a.src, a.dst, a.t_send, a.t_end) for a in d.arrows]
    for g, a in zip(arrows, d.arrows):
        assert g["x1"] == pytest.approx(lanes[a.src], abs=0.1)
        if a.reached:
            assert g["x2"] == pytest.approx(lanes[a.dst], abs=0.1)
            assert g["y2"] > g["y1"]  # time goes down
        elif a.dst is not None:  # stops partway, in an X
            assert min(lanes[a.src], lanes[a.dst]) < g["x2"] < max(lanes[a.src], lanes[a.dst])
            assert g["crossed"]
    ys = [g["y1"] for g in arrows]
    assert ys == sorted(ys) and [a.t_send for a in d.arrows] == sorted(a.t_send for a in d.arrows)
    by_time = sorted(zip((a.t_send for a in d.arrows), ys))
    assert all(y0 < y1 for (t0, y0), (t1, y1) in itertools.pairwise(by_time) if t1 > t0)
    assert len(labels) == len(d.arrows)
    for i, a in enumerate(d.arrows):
        assert labels[i].startswith(a.label)
        if a.drop:
            assert a.drop in labels[i]


# -- the tests ------------------------------------------------------------------------------------------
def test_ping_across_routers_every_hop_is_an_arrow(pings):
    d = build_diagram(pings, max_arrows=0)
    check_against_trace(d, pings)
    assert [lane.name for lane in d.lanes] == ["client", "r1", "r2", "r3", "server"]
    assert [lane.role for lane in d.lanes] == ["host", "router", "router", "router", "host"]
    assert d.lane("client").addresses == ("10.0.1.10",)
    request = [(a.src, a.dst) for a in d.arrows if a.label == "ICMP echo request seq=1"]
    assert request[:4] == [("client", "r1"), ("r1", "r2"), ("r2", "r3"), ("r3", "server")]
    assert any(a.label == "ICMP echo reply seq=2" and (a.src, a.dst) == ("r1", "client") for a in d.arrows)
    assert any(a.label == "ARP who-has 10.0.1.1" and a.protocol == "arp" for a in d.arrows)
    # TTL 2 runs out at r2: the arrow reaches r2 and is crossed there; r2 answers time exceeded.
    expired = [a for a in d.arrows if a.drop == "ttl-exceeded"]
    assert [(a.src, a.dst, a.drop_at, a.reached) for a in expired] == [("r1", "r2", "r2", True)]
    assert any(a.label == "ICMP time exceeded" and a.src == "r2" for a in d.arrows)
    _, arrows, labels = parse_svg(to_svg(d))
    i = d.arrows.index(expired[0])
    assert arrows[i]["data-drop"] == "ttl-exceeded" and arrows[i]["crossed"]
    assert "dropped by r2: ttl-exceeded" in labels[i]


def test_ping_between_two_hosts_spans_the_routers(pings):
    d = build_diagram(pings, hosts=["server", "client"])
    assert [lane.name for lane in d.lanes] == ["server", "client"]
    delivered = [e for e in pings if e.layer == "ip" and e.event == "deliver"]
    assert len(d.arrows) == len(delivered) - 1 + 1  # the expired ping never arrives: one lost arrow
    shown = [(a.src, a.dst, a.label, a.via, a.drop) for a in d.arrows]
    assert shown[:4] == [
        ("client", "server", "ICMP echo request seq=1", ("r1", "r2", "r3"), None),
        ("server", "client", "ICMP echo reply seq=1", ("r3", "r2", "r1"), None),
        ("client", "server", "ICMP echo request seq=2", ("r1", "r2", "r3"), None),
        ("server", "client", "ICMP echo reply seq=2", ("r3", "r2", "r1"), None)]
    lost = d.arrows[4]
    assert (lost.src, lost.dst, lost.reached, lost.drop, lost.drop_at) == ("client", "server", False, "ttl-exceeded",
                                                                         "r2")
    # Arrival times are the server's and client's own receptions.
    request = d.arrows[0]
    assert request.t_end == next(e.time for e in delivered if e.node == "server")
    lanes, arrows, _ = parse_svg(to_svg(d))
    assert list(lanes) == ["server", "client"]
    assert {(g["data-src"], g["data-dst"]) for g in arrows} == {("client", "server"), ("server", "client")}
    assert arrows[0]["data-via"] == "r1,r2,r3"


def test_dns_lookup_through_switches(dns):
    d = build_diagram(dns, max_arrows=0)
    check_against_trace(d, dns)  # frames a switch flooded to hosts they were not for are left out
    assert {lane.name for lane in d.lanes} >= {"client", "resolver", "root", "tld-com", "ns-example", "r1"}
    labels = [(a.src, a.dst, a.label) for a in d.arrows if a.protocol == "dns"]
    assert labels[0] == ("client", "resolver", "DNS query A www.example.com")
    assert labels[-1] == ("resolver", "client", "DNS response A www.example.com: 10.0.2.10")
    assert any(lbl == "DNS response A www.example.com: referral to com" for _, _, lbl in labels)


def test_dns_lanes_are_the_hosts_asked_for(dns):
    hosts = ["client", "resolver", "root", "tld-com", "ns-example"]
    d = build_diagram(dns, hosts=hosts)
    assert [lane.name for lane in d.lanes] == hosts
    dns_arrows = [(a.src, a.dst) for a in d.arrows if a.protocol == "dns"]
    assert dns_arrows == [("client", "resolver"), ("resolver", "root"), ("root", "resolver"), ("resolver", "tld-com"),
                          ("tld-com", "resolver"), ("resolver", "ns-example"), ("ns-example", "resolver"),
                          ("resolver", "client")]
    assert all(a.src in hosts and a.dst in hosts for a in d.arrows)
    assert all(a.via for a in d.arrows if "resolver" in (a.src, a.dst) and {a.src, a.dst} != {"client", "resolver"})
    lanes, arrows, _ = parse_svg(to_svg(d))
    assert list(lanes) == hosts
    assert all(g["data-src"] in hosts and g["data-dst"] in hosts for g in arrows)


def test_lossy_transfer_marks_each_loss_with_its_reason(lossy):
    d = build_diagram(lossy, max_arrows=0)
    check_against_trace(d, lossy)
    lost = [a for a in d.arrows if not a.reached]
    assert lost and all(a.drop == "link-loss" for a in lost)
    assert all({a.src, a.dst} == {"r1", "r2"} for a in lost)  # only that link is lossy
    tcp = [a.label for a in d.arrows if a.protocol == "tcp"]
    assert tcp[0] == "TCP [S] seq=0" and tcp[1] == "TCP [S] seq=0"  # client->r1, r1->r2
    assert "TCP [S.] seq=0 ack=1" in tcp and "TCP [.] seq=1:1449 ack=1" in tcp
    _, arrows, labels = parse_svg(to_svg(d))
    crossed = [i for i, g in enumerate(arrows) if "lost" in g["class"].split()]
    assert crossed == [i for i, a in enumerate(d.arrows) if not a.reached]
    assert all(arrows[i]["data-drop"] == "link-loss" and "lost: link-loss" in labels[i] for i in crossed)


def test_lost_packet_between_shown_hosts_ends_where_it_was_lost(lossy):
    d = build_diagram(lossy, hosts=["client", "server"], max_arrows=0)
    lost = [a for a in d.arrows if not a.reached]
    drops = [e for e in link_events(lossy, "drop") if e.frame[12:14] == b"\x08\x00"]  # IP, not ARP of r1, r2
    assert len(lost) == len(drops)
    assert all(a.drop_at in ("r1", "r2") and a.drop == "link-loss" and a.dst in ("client", "server") for a in lost)


def test_duplicated_and_corrupted_frames_pair_with_their_sends():
    net = chain(1, seed=1, duplicate=0.2, corrupt=0.2)
    rec = _recorded(net)
    net.run_app(ping(net["client"], "10.0.2.10", count=10, interval=50 * MS, timeout=100 * MS))
    net.close()
    d = build_diagram(rec.events, max_arrows=0)
    check_against_trace(d, rec.events)
    assert any(a.duplicate for a in d.arrows)
    assert any(a.corrupted for a in d.arrows)
    # A flipped bit is found where a checksum covers it: the IP header at the next hop, the rest at
    # the destination (a router forwards it as it is); the arrow that brought it there is crossed.
    bad = [a for a in d.arrows if a.drop and "checksum" in a.drop]
    assert bad and all(a.reached and a.drop_at == a.dst for a in bad)
    assert not d.notes  # every reception found its send


def test_mermaid_says_what_the_svg_says(lossy):
    d = build_diagram(lossy, max_arrows=60)
    text = to_mermaid(d)
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    participants = [m.group(1) for line in lines if (m := re.fullmatch(r"    participant (\S+)(?: as .+)?", line))]
    assert participants == [lane.name for lane in d.lanes]
    messages = [m.groups() for line in lines if (m := re.fullmatch(r"    (\w+)(->>|-x)(\w+): (.*)", line))]
    assert [(src, dst) for src, _, dst, _ in messages] == [(a.src, a.dst) for a in d.arrows]
    for (_, arrow, _, text_), a in zip(messages, d.arrows):
        assert text_.startswith(a.label)
        assert (arrow == "-x") == bool(a.drop)
        if a.drop:
            assert a.drop in text_
    for line in lines[1:]:  # nothing Mermaid would not parse
        assert line.startswith(("    participant ", "    Note ", "    %% ")) or re.fullmatch(r"    \w+(->>|-x)\w+: .*", line)


def test_mermaid_names_that_are_not_identifiers(dns):
    d = build_diagram(dns, hosts=["resolver", "ns-example"])
    lines = to_mermaid(d).splitlines()
    assert "    participant n_ns_example as ns-example" in lines
    assert "    resolver->>n_ns_example: DNS query A www.example.com (via r1,r2,r4)" in lines


def test_cap_keeps_the_first_arrows_and_says_so(lossy):
    full = build_diagram(lossy, max_arrows=0)
    capped = build_diagram(lossy, max_arrows=25)
    assert capped.arrows == full.arrows[:25]
    assert any("first 25" in note for note in capped.notes)
    assert "first 25" in to_svg(capped)


def test_time_range(lossy):
    full = build_diagram(lossy, max_arrows=0)
    t0, t1 = full.arrows[10].t_send, full.arrows[40].t_send
    part = build_diagram(lossy, start=t0, end=t1, max_arrows=0)
    assert part.arrows == [a for a in full.arrows if t0 <= a.t_send <= t1]


def test_a_big_trace_file_is_read_only_as_far_as_needed(tmp_path):
    path = tmp_path / "big.jsonl"
    events = lossy_transfer(300_000, trace_file=path)
    first = build_diagram(path, max_arrows=30)
    assert first.total_arrows is None  # stopped reading early
    assert first.arrows == build_diagram(events, max_arrows=0).arrows[:30]
    assert load_trace(path)[5].summary == events[5].summary


def test_same_trace_same_bytes(tmp_path, lossy):
    path = tmp_path / "t.jsonl"
    lossy_transfer(trace_file=path)
    svg = to_svg(build_diagram(path))
    assert svg == to_svg(build_diagram(path))
    assert svg == to_svg(build_diagram(load_trace(path), title=f"minternet sequence diagram of {path.name}"))
    assert to_mermaid(build_diagram(path)) == to_mermaid(build_diagram(load_trace(path),
                                                                       title="minternet sequence diagram of t.jsonl"))


def test_command_writes_svg_and_mermaid(tmp_path, capsys):
    trace = tmp_path / "ping.jsonl"
    assert main(["ping", "client", "server", "-c", "2", "--trace", str(trace)]) == 0
    out = tmp_path / "ping.svg"
    assert main(["diagram", str(trace), "--out", str(out), "--hosts", "client,r1,server", "--from", "0.5"]) == 0
    lanes, arrows, _ = parse_svg(out.read_text())
    assert list(lanes) == ["client", "r1", "server"]
    assert arrows and all(int(g["data-t-send"]) >= 500 * MS for g in arrows)
    assert main(["diagram", str(trace), "--out", str(tmp_path / "ping.mmd"), "--until", "0.5"]) == 0
    text = (tmp_path / "ping.mmd").read_text()
    assert text.startswith("sequenceDiagram\n") and "ICMP echo request seq=1" in text
    assert "ICMP echo request seq=2" not in text
    capsys.readouterr()
    assert main(["diagram", str(trace), "--mermaid", "--max-arrows", "3", "--out", "-"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("sequenceDiagram") and len(re.findall(r"->>|-x", printed)) == 3
    assert main(["diagram", str(trace), "--hosts", "client,nowhere"]) == 2
    assert "no host or router named 'nowhere'" in capsys.readouterr().err
    assert main(["diagram", str(tmp_path / "missing.jsonl")]) == 2
