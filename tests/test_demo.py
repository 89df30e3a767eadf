"""The demo tells the story with the facts of its own run, in English and in Korean."""

import json
import re

from minternet.wire.ipv4 import IPv4
from minternet.wire.tcp import TCP
from minternet.wire.udp import UDP

import pytest

from minternet.cli import main


@pytest.fixture(scope="module", params=["en", "ko"])
def story(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"demo-{request.param}")
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["demo", "--lang", request.param, "--pcap", str(out)])
    assert code == 0
    return request.param, buf.getvalue(), out


def test_every_stage_in_order(story):
    lang, text, _ = story
    from minternet.demo import STAGES
    titles = re.findall(r"^=== (\d+)\. (.*?) =+$", text, re.M)
    assert [int(n) for n, _ in titles] == list(range(1, len(STAGES) + 1))
    assert [t for _, t in titles] == [s.title(lang) for s in STAGES]
    if lang == "ko":
        assert "3-way handshake" in text and "재전송" in text and "순서" in text
    else:
        assert "3-way handshake" in text and "retransmission" in text


def test_stage1_dns_walk_over_udp_port_53(story):
    _, text, out = story
    lines = [l for l in text.splitlines() if "DNS query" in l or "DNS response" in l]
    walk = [l.split("->")[1].split()[0] for l in lines]
    assert walk[:4] == ["resolver", "root", "resolver", "tld-com"]
    assert "ns-example" in walk and all(":53" in l for l in lines)
    # ephemeral source ports, RFC 6335 range
    ports = [int(p) for l in lines if "DNS query" in l for p in re.findall(r"(?:client|resolver):(\d+)\s+->", l)]
    assert ports and all(49152 <= p <= 65535 for p in ports)


def test_stage2_handshake_with_options(story):
    _, text, _ = story
    hs = [l for l in text.splitlines() if re.search(r"\[(S|S\.|\.)\] seq=", l) and "win=" in l][:3]
    assert "[S]" in hs[0] and "[S.]" in hs[1] and "[.]" in hs[2]
    syn_seq = int(re.search(r"seq=(\d+)", hs[0]).group(1))
    assert f"ack={syn_seq + 1}" in hs[1]
    assert "mss 1460" in hs[0] and "sackOK" in hs[0] and "wscale" in hs[0]


def test_stage3_encapsulation_macs_change_ips_do_not_ttl_counts_down(story):
    _, text, _ = story
    hops = [l for l in text.splitlines() if "Ethernet [" in l]
    assert len(hops) == 4
    ttls = [int(re.search(r"TTL (\d+)", l).group(1)) for l in hops]
    assert ttls == [64, 63, 62, 61]
    macs = [re.search(r"Ethernet \[ (\S+) -> (\S+)", l).groups() for l in hops]
    assert len({m for pair in macs for m in pair}) == 8
    assert all("10.0.2.10 -> 10.0.1.10" in l for l in hops)
    assert "server -> r4 -> r3 -> r1 -> client" in text and "client -> r1 -> r2 -> r4 -> server" in text


def test_stage4_loss_and_retransmission(story):
    _, text, _ = story
    text = section(text, "loss")
    drops = [l for l in text.splitlines() if "DROPPED (link-loss)" in l]
    assert drops and all(re.search(r"sent again at [\d.]+ ms", l) for l in drops)


def test_stage5_router_failure_and_new_route(story):
    _, text, _ = story
    assert "r3 goes down" in text
    assert re.search(r"r4: 10\.0\.1\.0/24 via 10\.0\.24\.1", text)
    assert "server -> r4 -> r2 -> r1 -> client" in text


def test_stage6_close_follows_the_rfc(story):
    _, text, _ = story
    text = section(text, "close")
    transitions = re.findall(r"(client|server): (\S+) -> (\S+)", text)
    client = [(a, b) for who, a, b in transitions if who == "client"]
    server = [(a, b) for who, a, b in transitions if who == "server"]
    assert client[-4:] == [("ESTABLISHED", "FIN-WAIT-1"), ("FIN-WAIT-1", "FIN-WAIT-2"),
                           ("FIN-WAIT-2", "TIME-WAIT"), ("TIME-WAIT", "CLOSED")]
    assert server[-3:] == [("ESTABLISHED", "CLOSE-WAIT"), ("CLOSE-WAIT", "LAST-ACK"), ("LAST-ACK", "CLOSED")]


def test_files_are_written(story):
    _, text, out = story
    pcaps = list(out.glob("*.pcap"))
    assert len(pcaps) > 10
    events = [json.loads(l) for l in (out / "trace.jsonl").read_text().splitlines()]
    assert any(e["event"] == "fault" for e in events)
    assert str(out) in text


# -- stage 8: HTTPS and HTTP/3 ----------------------------------------------------------------------
MS = 1_000_000


def packets(out):
    """(event, IPv4, TCP or UDP) of every IP event of the run, from trace.jsonl."""
    result = []
    for line in (out / "trace.jsonl").read_text().splitlines():
        e = json.loads(line)
        if e["layer"] != "ip" or not e.get("packet"):
            continue
        ip = IPv4.decode(bytes.fromhex(e["packet"]), verify=False)
        if ip.frag_offset or ip.proto not in (6, 17):
            continue
        codec = TCP if ip.proto == 6 else UDP
        result.append((e, ip, codec.decode(ip.payload, ip.src, ip.dst, verify=False)))
    return result


def section(text, key):
    """The part of the demo's output that stage ``key`` told."""
    from minternet.demo import find_stage
    n, _ = find_stage(key)
    start = text.index(f"=== {n}. ")
    end = text.find("\n=== ", start)
    return text[start:end if end > 0 else len(text)]


def stage8(text):
    return section(text, "https")


def rows_of(text):
    """(ms, round trips) of the four fetches, as the stage prints them."""
    rows = re.findall(r"^ {4}\S.*?\s([\d.]+) ms  = (?:(\d+) round trips?|왕복 (\d+)번)$", stage8(text), re.M)
    return [(float(ms), int(en or ko)) for ms, en, ko in rows]


def rtt_of(text):
    return float(re.search(r"(?:takes|왕복 한 번은) ([\d.]+) ms", stage8(text)).group(1))


def test_stage8_round_trips_to_the_first_byte_are_the_traces(story):
    lang, text, out = story
    pk = packets(out)
    client, server = "10.0.1.10", "10.0.2.10"
    sent = [(e, ip, t) for e, ip, t in pk if e["event"] == "send" and e["node"] == "client" and ip.dst == server]
    got = [(e, ip, t) for e, ip, t in pk if e["event"] == "deliver" and e["node"] == "client" and ip.src == server]
    # The round trip: the last connection to port 80 (stage 8's HTTP/1.1 fetch), SYN to SYN+ACK.
    syn = [e for e, ip, t in sent if ip.proto == 6 and t.dport == 80 and t.flags == 0x02][-1]
    synack = next(e for e, ip, t in got if ip.proto == 6 and t.sport == 80 and t.flags & 0x12 == 0x12
                  and e["t_ns"] > syn["t_ns"])
    rtt = synack["t_ns"] - syn["t_ns"]
    assert rtt_of(text) == round(rtt / MS, 1)
    rows = rows_of(text)
    assert [trips for _, trips in rows] == [2, 3, 2, 1]  # HTTP/1.1, HTTPS, HTTP/3, HTTP/3 0-RTT
    # HTTP/1.1: the first byte is the server's first data segment after the SYN.
    answer = next(e for e, ip, t in got if ip.proto == 6 and t.sport == 80 and t.payload and e["t_ns"] > syn["t_ns"])
    assert rows[0][0] == round((answer["t_ns"] - syn["t_ns"]) / MS, 1)
    # The others start at the first packet of their connection: the first SYN to 443, the first
    # datagram of each of the first two QUIC connections (each from its own port).
    https_syn = next(e for e, ip, t in sent if ip.proto == 6 and t.dport == 443 and t.flags == 0x02)
    quic_ports = list(dict.fromkeys(t.sport for e, ip, t in sent if ip.proto == 17 and t.dport == 443))
    quic_first = [next(e for e, ip, t in sent if ip.proto == 17 and t.sport == port) for port in quic_ports[:2]]
    for (ms, trips), start, proto in zip(rows[1:], [https_syn, *quic_first], (6, 17, 17)):
        # the first byte is a packet from the server's port 443 delivered at that moment ...
        arrivals = [e["t_ns"] - start["t_ns"] for e, ip, t in got if ip.proto == proto and t.sport == 443
                    and t.payload and e["t_ns"] > start["t_ns"]]
        assert any(abs(a - ms * MS) <= 0.05 * MS for a in arrivals), (ms, arrivals[:10])
        # ... and the round trips are that time over the path's round trip.
        assert trips == round(ms * MS / rtt)
    assert rows[3][0] < rows[2][0] < rows[1][0]
    quic = [json.loads(l) for l in (out / "trace.jsonl").read_text().splitlines() if '"layer":"quic"' in l]
    assert any(e["node"] == "client" and "0-RTT accepted" in e["summary"] for e in quic)


def hol_of(text):
    """{"h2": {"lost": ms, "resent": ms, "/a": ms, ...}, "h3": {...}} as the stage prints them."""
    part = stage8(text)
    h2, h3 = re.split(r"^ {4}HTTP/3 ", part.split("HTTP/2 (", 2)[2], maxsplit=1, flags=re.M)
    result = {}
    for key, block in (("h2", h2), ("h3", h3)):
        block = block.split("\n\n")[0]
        lost = re.search(r"^ +([\d.]+) ms  .*link-loss", block, re.M)
        resent = re.search(r"link-loss\); \S.*? ([\d.]+) ms", block)
        done = dict((p, float(ms)) for ms, p in re.findall(r"^ +([\d.]+) ms  (/[abc]) ", block, re.M))
        result[key] = {"lost": float(lost.group(1)), "resent": float(resent.group(1)) if resent else None, **done}
    return result


def test_stage8_one_lost_packet_stalls_every_http2_stream_and_one_http3_stream(story):
    lang, text, out = story
    hol = hol_of(text)
    rtt = rtt_of(text)
    pk = packets(out)
    lost = [json.loads(l) for l in (out / "trace.jsonl").read_text().splitlines()
            if '"event":"drop"' in l and '"node":"server"' in l]
    assert [e["reason"] for e in lost] == ["link-loss", "link-loss"]
    assert " TCP 443 > " in lost[0]["summary"] and " UDP 443 " in lost[1]["summary"]
    # HTTP/2: the lost segment went again (same sequence number) when the story says ...
    frame = bytes.fromhex(lost[0]["frame"])
    ip = IPv4.decode(frame[14:], verify=False)
    seq = TCP.decode(ip.payload, ip.src, ip.dst, verify=False).seq
    again = [(e, ip) for e, ip, t in pk if e["node"] == "server" and e["event"] == "send" and ip.proto == 6
             and t.sport == 443 and t.seq == seq and t.payload and e["t_ns"] > lost[0]["t_ns"]]
    h2 = hol["h2"]
    assert h2["resent"] is not None
    assert abs((again[0][0]["t_ns"] - lost[0]["t_ns"]) / MS - (h2["resent"] - h2["lost"])) <= 0.15
    # ... and every stream finished only after the resent segment had arrived: they waited for it.
    arrived = next(e["t_ns"] for e, ip, t in pk if e["node"] == "client" and e["event"] == "deliver"
                   and ip.ident == again[0][1].ident and ip.src == again[0][1].src)
    waited = (arrived - lost[0]["t_ns"]) / MS
    assert all(h2[p] - h2["lost"] >= waited - 0.15 for p in ("/a", "/b", "/c")), (h2, waited)
    assert max(h2[p] for p in "/a /b /c".split()) - min(h2[p] for p in "/a /b /c".split()) < rtt / 2
    # HTTP/3: one stream waited about a round trip more; the other two did not wait at all.
    h3 = hol["h3"]
    done = sorted((h3[p], p) for p in ("/a", "/b", "/c"))
    assert done[2][0] - done[1][0] > rtt / 2 and done[1][0] - done[0][0] < rtt / 2
    assert done[1][0] < h2["/a"] and done[1][0] - h3["lost"] < waited
    late = done[2][1]
    # The closing sentences quote the same numbers.
    tail = " ".join(re.split(r"(?:complete|완료)\n", stage8(text))[-1].split())
    assert f"{max(h2[p] for p in ('/a', '/b', '/c')):.1f} ms" in tail
    assert f"{done[2][0]:.1f} ms" in tail and f"{done[1][0]:.1f} ms" in tail
    sentence = stage8(text).split("HTTP/3", 1)[1]
    assert re.search(rf"only {late} waited|{late}만 기다렸고", text)
    assert all(p in sentence for p in ("/a", "/b", "/c"))


def test_loss_and_failure_stages_write_tcp_plots(story):
    import xml.etree.ElementTree as ET
    lang, text, out = story
    for name in ("loss-photo-tcp.svg", "failover-video-tcp.svg"):
        assert name in text and (out / name).exists()
        root = ET.parse(out / name).getroot()
        assert root.get("data-sender").endswith(":80") and root.get("data-vantage") == "server"
        retx = root.findall(".//*[@data-series='segments']/*[@class='retransmission']")
        assert retx, f"{name}: the stage resends segments, the plot must show them"
    assert not list(out.glob("*-tcp-2.svg")), "one connection per stage"
    assert ("재전송" if lang == "ko" else "retransmission") in (out / "loss-photo-tcp.svg").read_text()


def test_same_seed_same_story(tmp_path):
    """Stage 8 included: TLS's ciphertext differs from run to run (OpenSSL's own randomness), its
    timeline does not, and QUIC's is seeded."""
    import contextlib
    import io

    def run(n):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["demo", "--lang", "en", "--seed", "5", "--pcap", str(tmp_path / str(n))]) == 0
        return buf.getvalue().replace(str(tmp_path / str(n)), "OUT")
    first, second = run(1), run(2)
    assert "=== 8. " in first and first == second
