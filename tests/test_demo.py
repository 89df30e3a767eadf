"""The demo tells the story with the facts of its own run, in English and in Korean."""

import json
import re

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


def test_all_seven_stages_in_order(story):
    lang, text, _ = story
    numbers = [int(n) for n in re.findall(r"^=== (\d)\. ", text, re.M)]
    assert numbers == [1, 2, 3, 4, 5, 6, 7]
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
    drops = [l for l in text.splitlines() if "DROPPED (link-loss)" in l]
    assert drops and all(re.search(r"sent again at [\d.]+ ms", l) for l in drops)


def test_stage5_router_failure_and_new_route(story):
    _, text, _ = story
    assert "r3 goes down" in text
    assert re.search(r"r4: 10\.0\.1\.0/24 via 10\.0\.24\.1", text)
    assert "server -> r4 -> r2 -> r1 -> client" in text


def test_stage6_close_follows_the_rfc(story):
    _, text, _ = story
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
