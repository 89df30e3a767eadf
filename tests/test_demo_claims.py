"""The stages of the learner's notes' claims: each fact the narration states, in English and in
Korean, checked against the trace that world wrote (DIR/<world>/trace.jsonl)."""

import contextlib
import io
import json
import re

import pytest

from minternet.cli import main
from minternet.demo import find_stage
from minternet.wire.ipv4 import IPv4
from minternet.wire.tcp import TCP
from minternet.wire.udp import UDP

MS = 1_000_000
CLIENT, SERVER = "10.0.1.10", "10.0.2.10"
KEYS = "connectionless,reorder,fragments,resend,ports,dns-change,udp-vs-tcp"


@pytest.fixture(scope="module", params=["en", "ko"])
def run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"claims-{request.param}")
    argv = ["demo", "--lang", request.param, "--pcap", str(out)]
    for key in KEYS.split(","):
        argv += ["--stage", key]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(argv) == 0
    return request.param, buf.getvalue(), out


def section(text, key):
    n, _ = find_stage(key)
    start = text.index(f"=== {n}. ")
    end = text.find("\n=== ", start)
    return " ".join(text[start:end if end > 0 else len(text)].split())


def events(out, world):
    path = out / world / "trace.jsonl" if world != "web" else out / "trace.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines()]


def decoded(evs, layer="ip"):
    result = []
    for e in evs:
        frame = e.get("frame") or ""
        raw = e.get("packet") or (frame[28:] if frame[24:28] == "0800" else None)
        if e["layer"] != layer or not raw:
            continue
        ip = IPv4.decode(bytes.fromhex(raw), verify=False)
        t = None
        if not ip.frag_offset and not ip.flags & 1 and ip.proto in (6, 17):
            t = (TCP if ip.proto == 6 else UDP).decode(ip.payload, ip.src, ip.dst, verify=False)
        result.append((e, ip, t))
    return result


def number(pattern, text):
    m = re.search(pattern, text)
    assert m, (pattern, text[:300])
    return m.group(1)


def test_connectionless_packets_leave_nothing_returns_tcp_times_out(run):
    lang, text, out = run
    part = section(text, "connectionless")
    evs = events(out, "connectionless")
    i = next(i for i, e in enumerate(evs) if e["layer"] == "fault" and "server goes down" in e["summary"])
    evs, down = evs[i:], evs[i]["t_ns"]  # what happened after the server went down, in order
    sent = [(e, ip, t) for e, ip, t in decoded(evs) if e["event"] == "send" and e["node"] == "client"
            and ip.dst == SERVER and e["t_ns"] >= down]
    back = [e for e, ip, t in decoded(evs) if e["event"] == "deliver" and e["node"] == "client" and e["t_ns"] >= down]
    lost = [e for e in evs if e["event"] == "drop" and e["reason"] == "node-down" and e["t_ns"] >= down
            and e["node"] == "server" and " ARP " not in e["summary"]]
    syns = [t for e, ip, t in sent if ip.proto == 6 and t.flags == 0x02]
    assert len([1 for e, ip, t in sent if ip.proto == 1]) == 3 and any(ip.proto == 17 for _, ip, _ in sent)
    assert back == [] and len(lost) == len(sent) == 8 and len(syns) == 4 and len({t.seq for t in syns}) == 1
    syn_times = [e["t_ns"] for e, ip, t in sent if ip.proto == 6]
    assert [round((b - a) / 1e9) for a, b in zip(syn_times, syn_times[1:])] == [1, 2, 4]  # the timer doubles
    closed = next(e for e in evs if e["layer"] == "tcp" and "SYN-SENT -> CLOSED" in e["summary"])
    assert f"{(closed['t_ns'] - syn_times[0]) / 1e9:.1f}" == number(r"(\d+\.\d) ?(?:s|초)", part.split("ETIMEDOUT")[0][-80:])
    assert "ETIMEDOUT" in part
    if lang == "en":
        assert "3 pings out, 0 replies, 0 error messages" in part and f"({len(sent)} in all" in part
        assert f"{len(lost)} were lost" in part and "0 answers came back" in part
    else:
        assert "비연결성" in part and "ping 3번" in part and "응답은 0번" in part and f"SYN 포함 {len(sent)}개" in part


def test_reorder_udp_as_it_comes_tcp_in_order(run):
    lang, text, out = run
    part = section(text, "reorder")
    evs = events(out, "reorder")
    got = [int(t.payload.split()[1]) for e, ip, t in decoded(evs) if e["event"] == "deliver"
           and e["node"] == "server" and ip.proto == 17 and t.dport == 5000]
    assert got != sorted(got) and sorted(got) == list(range(1, 9))
    assert " ".join(map(str, got)) in part
    late = [n for i, n in enumerate(got) if any(m > n for m in got[:i])]
    assert (f"{len(late)} of 8 arrived after" in part) if lang == "en" else (f"8개 중 {len(late)}개" in part)
    seg = [(e, t) for e, ip, t in decoded(evs) if e["event"] == "deliver" and e["node"] == "server"
           and ip.proto == 6 and t.dport == 5001 and t.payload]
    seqs = [t.seq for _, t in seg]
    assert seqs != sorted(seqs)  # TCP's segments, too, arrived out of order ...
    assert "SHA-256" in part and ("순서 보장" in part if lang == "ko" else "in order" in part)  # ... and were put in order


def test_fragments_reassembled_and_one_lost_fragment_loses_all(run):
    lang, text, out = run
    part = section(text, "fragments")
    evs = events(out, "fragments")
    frags = [(e, ip) for e, ip, t in decoded(evs, "link") if e["event"] == "send" and e["node"] == "client"
             and ip.proto == 17 and ip.dst == SERVER]
    first = [ip for e, ip in frags if ip.ident == frags[0][1].ident]
    assert [len(ip.payload) for ip in first] == [1480, 1480, 1048] and [ip.flags & 1 for ip in first] == [1, 1, 0]
    for ip in first:
        assert f"IP id={ip.ident} offset={ip.frag_offset * 8}" in part
    delivered = [ip for e, ip, t in decoded(evs) if e["event"] == "deliver" and e["node"] == "server" and ip.proto == 17]
    assert len(delivered) == 1 and len(delivered[0].payload) == 4008
    lost = [e for e in evs if e["event"] == "drop" and e["reason"] == "link-loss"]
    expired = [e for e in evs if e["event"] == "drop" and e["reason"] == "reassembly-timeout"]
    assert len(lost) == 1 and len(expired) == 1
    wait = (expired[0]["t_ns"] - lost[0]["t_ns"]) / 1e9
    assert f"{wait:.1f}" in part and "MSS" in part and "1460" in part and "DF" in part
    syn = next(ip for e, ip, t in decoded(evs) if e["event"] == "send" and ip.proto == 6 and t.flags == 0x02)
    assert syn.flags & 2  # DF
    if lang == "ko":
        assert "끊어서" in part and "연결성이 보장되지" in part


def test_resend_discard_costs_more_than_buffering(run):
    lang, text, out = run
    part = section(text, "resend")
    evs = events(out, "resend")
    resent = {}
    for port in (5001, 5002):
        seen, again = set(), 0
        for e, ip, t in decoded(evs):
            if e["event"] == "send" and e["node"] == "client" and ip.proto == 6 and t.dport == port and t.payload:
                if t.seq in seen:
                    again += len(t.payload)
                seen.add(t.seq)
        resent[port] = again
    assert resent[5001] > resent[5002] == 1448
    assert f"{resent[5001]:,}" in part and f"{resent[5002]:,}" in part
    ms = [float(x) for x in re.findall(r"([\d.]+) ms", part)[:2]]
    assert ms[0] > ms[1]
    if lang == "ko":
        assert "2번부터 다시" in part and "순서 보장" in part


def test_ports_demux_by_port_and_4_tuple(run):
    lang, text, out = run
    part = section(text, "ports")
    evs = events(out, "ports")
    got = [(ip, t) for e, ip, t in decoded(evs) if e["event"] == "deliver" and e["node"] == "server" and ip.proto == 6]
    tuples = {(ip.src, t.sport, ip.dst, t.dport) for ip, t in got}
    assert {d for *_, d in tuples} == {7, 80} and len(tuples) == 2
    for src, sport, dst, dport in tuples:
        assert f"({src}, {sport}, {dst}, {dport:>3})".replace("  ", " ") in part or f"{sport}, {dst}," in part
    n80 = sum(1 for ip, t in got if t.dport == 80)
    n7 = sum(1 for ip, t in got if t.dport == 7)
    for port in ("20", "21", "23", "53", "80", "443", "49152-65535"):
        assert f" {port} " in part
    if lang == "en":
        assert f"{n80} segments reached the web server" in part and f"and {n7} the echo server" in part
        assert "80 http served here: server" in part
    else:
        assert f"세그먼트 {n80}개는 웹 서버" in part and f"{n7}개는 에코 서버" in part
        assert "아파트 동" in part and "호" in part and "80 http 여기서 사용: server" in part


def test_dns_change_clients_follow_after_the_ttl(run):
    lang, text, out = run
    part = section(text, "dns-change")
    evs = events(out, "dns-change")
    conns = [(e["t_ns"], ip.dst) for e, ip, t in decoded(evs) if e["event"] == "send" and e["node"] == "client"
             and ip.proto == 6 and t.flags == 0x02]
    dsts = [d for _, d in conns]
    assert dsts[0] == SERVER and dsts[-1] == "10.0.2.20" and dsts.count(SERVER) == 6
    assert "TTL 300" in part and "TTL 0" in part
    if lang == "en":
        assert "5 visit(s) after that still went to the old server" in part and "From 360 s" in part
    else:
        assert "IP는 바뀔 수 있음" in part and "5번은 옛 서버" in part and "360초부터" in part


def test_udp_vs_tcp_like_with_like(run):
    lang, text, out = run
    part = section(text, "udp-vs-tcp")
    evs = events(out, "web")
    echo = [(e, ip, t) for e, ip, t in decoded(evs) if e["node"] == "client" and e["event"] in ("send", "deliver")
            and ip.proto in (6, 17) and 7 in (t.sport, t.dport)]
    udp = [x for x in echo if x[1].proto == 17]
    tcp = [x for x in echo if x[1].proto == 6]
    assert len(udp) == 2 and len(tcp) >= 7
    udp_ms = (udp[1][0]["t_ns"] - udp[0][0]["t_ns"]) / MS
    answer = next(e for e, ip, t in tcp if e["event"] == "deliver" and t.payload)
    tcp_ms = (answer["t_ns"] - tcp[0][0]["t_ns"]) / MS
    assert f"{udp_ms:.1f} ms" in part and f"{tcp_ms:.1f} ms" in part and tcp_ms > 1.9 * udp_ms
    if lang == "en":
        assert f"UDP: 2 packets" in part and f"TCP: {len(tcp)} packets" in part
        assert re.search(r"\d round trips to the first byte over HTTP/1\.1, 3 over HTTPS on TCP, 2 over HTTP/3", part)
    else:
        assert "UDP: 패킷 2개" in part and f"TCP: 패킷 {len(tcp)}개" in part and "3-way handshake" in part
