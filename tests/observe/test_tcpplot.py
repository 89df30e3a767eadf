"""The TCP plots read back from their SVG and checked against the trace, decoded by scapy (code we
did not write), not by the module under test."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from scapy.layers.inet import IP, TCP as STCP

from minternet.cli import main
from minternet.observe.tcpplot import build_series, connections, pick, scan, write_tcp_plots
from minternet.observe.diagram import load_trace
from minternet.observe.tcpplot_svg import to_svg

NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def lossy(tmp_path_factory):
    """A 150 KB transfer over links that lose 3 % of the frames, traced."""
    d = tmp_path_factory.mktemp("tcpplot")
    trace = d / "tcp.jsonl"
    assert main(["transfer", "client", "server", "--bytes", "150KB", "--loss", "0.03", "--seed", "3",
                 "--trace", str(trace)]) == 0
    svg = d / "tcp.svg"
    assert main(["plot", str(trace), "-o", str(svg)]) == 0
    return trace, ET.parse(svg).getroot()


def packets(trace):
    """(t, node, event, scapy IP) of every TCP packet of the trace's ip-layer events, plus drops."""
    out = []
    for line in open(trace, encoding="utf-8"):
        d = json.loads(line)
        raw = d.get("packet") or (d["frame"][28:] if d.get("frame", "")[24:28] == "0800" else None)
        if raw is None or d["layer"] not in ("ip", "link"):
            continue
        if d["layer"] == "link" and d["event"] != "drop":
            continue
        ip = IP(bytes.fromhex(raw))
        if ip.proto == 6:
            out.append((d["t_ns"], d["node"], d["event"], d.get("reason"), ip))
    return out


def series_of(root, name):
    return root.find(f".//*[@data-series='{name}']")


def points(el):
    return [(int(t), float(v)) for t, v in (p.split(":") for p in el.get("data-points").split())]


def test_segments_and_retransmissions_are_the_senders_sends(lossy):
    trace, root = lossy
    pk = packets(trace)
    sends = [(t, ip) for t, node, ev, _, ip in pk if node == "client" and ev == "send"]
    isn = next(ip[STCP].seq for _, ip in sends if ip[STCP].flags.S)
    expected, highest = [], 0
    for t, ip in sends:
        n = len(bytes(ip[STCP].payload)) + (1 if ip[STCP].flags.S else 0) + (1 if ip[STCP].flags.F else 0)
        if not n:
            continue
        seq = (ip[STCP].seq - isn) % 2**32
        expected.append((t, seq, seq + n, seq < highest))
        highest = max(highest, seq + n)
    drawn = [(int(e.get("data-t")), int(e.get("data-seq")), int(e.get("data-end")), e.get("class") == "retransmission")
             for e in series_of(root, "segments")]
    assert drawn == expected
    retx = [x for x in drawn if x[3]]
    assert len(retx) >= 3, "a 3 % loss on 150 KB resends something"
    # Each segment lost on the way is sent again later, and the plot shows that resend.
    lost = [(int(e.get("data-t")), int(e.get("data-seq"))) for e in series_of(root, "lost")]
    data_drops = [(t, (ip[STCP].seq - isn) % 2**32) for t, _, ev, reason, ip in pk
                  if ev == "drop" and reason == "link-loss" and ip.src == "10.0.1.10" and len(bytes(ip[STCP].payload))]
    assert sorted(lost) == sorted(data_drops) and lost
    for t, seq in lost:
        assert any(r[0] > t and r[1] <= seq < r[2] for r in retx), f"the segment at {seq} lost at {t} is not resent"


def test_ack_and_window_lines_are_the_advertised_windows(lossy):
    trace, root = lossy
    pk = packets(trace)
    syn = next(ip for _, node, ev, _, ip in pk if node == "client" and ev == "send" and ip[STCP].flags.S)
    isn = syn[STCP].seq
    synack = next(ip for _, node, ev, _, ip in pk if node == "client" and ev == "deliver" and ip[STCP].flags.S)
    shift = dict((k, v) for k, v in synack[STCP].options if k == "WScale")["WScale"]
    assert dict(syn[STCP].options).get("WScale") is not None
    assert root.get("data-wscale") == str(shift)
    acks = [(t, ip) for t, node, ev, _, ip in pk if node == "client" and ev == "deliver" and ip[STCP].flags.A]
    want_ack = [(t, (ip[STCP].ack - isn) % 2**32) for t, ip in acks]
    want_win = [(t, (ip[STCP].ack - isn) % 2**32 + (ip[STCP].window << (0 if ip[STCP].flags.S else shift)))
                for t, ip in acks]
    assert points(series_of(root, "ack")) == want_ack
    assert points(series_of(root, "window")) == want_win
    # SACK blocks: every block of every ACK, relative.
    want_sack = sorted((t, (l - isn) % 2**32, (r - isn) % 2**32) for t, ip in acks
                       for k, v in ip[STCP].options if k == "SAck" for l, r in zip(v[::2], v[1::2]))
    drawn = sorted((int(e.get("data-t")), int(e.get("data-left")), int(e.get("data-right")))
                   for e in series_of(root, "sack"))
    assert drawn == want_sack and drawn


def test_cwnd_and_rtt_come_from_the_stack_and_the_packets(lossy):
    trace, root = lossy
    cwnd = []
    for line in open(trace, encoding="utf-8"):
        d = json.loads(line)
        if d["layer"] == "tcp" and d["event"] == "cwnd" and d["node"] == "client":
            cwnd.append((d["t_ns"], int(d["summary"].split("cwnd=")[1].split()[0])))
    assert points(series_of(root, "cwnd")) == [(t, float(v)) for t, v in cwnd] and cwnd
    # Fewer than the cwnd after a loss: the graph shows the cut.
    values = [v for _, v in cwnd]
    assert min(values[len(values) // 2:]) < max(values)
    rtts = [float(e.get("data-rtt")) for e in series_of(root, "rtt")]
    # The path's propagation delay is a floor for every RTT sample (links of 1-15 ms, ~50 ms round trip).
    assert rtts and min(rtts) >= 40
    assert root.get("data-conn").startswith("10.0.1.10:") and root.get("data-vantage") == "client"


def test_korean_labels_and_the_title(lossy):
    trace, _ = lossy
    s = build_series(load_trace(trace))
    ko = to_svg(s, lang="ko")
    assert "시간 (초)" in ko and "재전송" in ko and "수신 윈도우" in ko
    en = to_svg(s)
    assert "time (s)" in en and f"{s.sender[0]}:{s.sender[1]} → {s.receiver[0]}:{s.receiver[1]}" in en


def test_several_connections_are_listed_and_chosen(tmp_path, capsys):
    from minternet.application.transfer import transfer
    from minternet.sim.example import example_text
    from minternet.sim.topology import loads
    net = loads(example_text(), "(test)", seed=0, out=lambda line: None).network
    trace = tmp_path / "two.jsonl"
    net.trace_to(str(trace))
    client, server = net.host("client"), net.host("server")
    net.run_app(transfer(client, server, 20_000, port=5001))
    net.run_app(transfer(server, client, 30_000, port=5002))
    net.close()
    conns = connections(scan(load_trace(trace)))
    assert len(conns) == 2
    assert main(["plot", str(trace)]) == 2
    out = capsys.readouterr()
    assert "2 TCP connections" in out.out and "--conn N" in out.err
    assert pick(conns, "2") is conns[1] and pick(conns, "5002") is conns[1]
    assert pick(conns, f"{conns[0].b[0]}:{conns[0].b[1]}-{conns[0].a[0]}:{conns[0].a[1]}") is conns[0]
    with pytest.raises(ValueError, match="no TCP connection '9999'"):
        pick(conns, "9999")
    # The second one's data goes from the server: the plot is from its side.
    s = build_series(scan(load_trace(trace)), conns[1])
    assert s.sender[0] == server.address and s.vantage == "server" 
    assert max(x["end"] for x in s.segments) == 30_002  # bytes 1..30000, then the FIN
    assert main(["plot", str(trace), "--all", "-o", str(tmp_path / "plots")]) == 0
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(
        f"tcp-{c.a[0]}_{c.a[1]}-{c.b[0]}_{c.b[1]}.svg" for c in conns)
    paths = write_tcp_plots(trace, tmp_path / "w", 5002, name="second")
    assert [p.rsplit("/", 1)[1] for p in paths] == ["second.svg"]


def test_bad_input_says_what_is_wrong(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t_ns": 1, "node": "a", "layer": "ip", "event": "send"}\nnot json\n')
    assert main(["plot", str(bad)]) == 2
    assert "bad.jsonl, line 2" in capsys.readouterr().err
    udp = tmp_path / "none.jsonl"
    udp.write_text('{"t_ns": 1, "node": "a", "layer": "ip", "event": "send"}\n')
    assert main(["plot", str(udp)]) == 2
    assert "has no TCP packets" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "results.parquet")]) == 2
    assert main(["plot", str(tmp_path / "x.pcap")]) == 2
    assert "not .pcap" in capsys.readouterr().err
