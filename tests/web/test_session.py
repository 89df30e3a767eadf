"""The live view's session without a browser: actions, flights, layers, exports, replay."""

from __future__ import annotations

import json
import struct

import pytest

pytest.importorskip("aiohttp")

from minternet.sim.example import example_text  # noqa: E402
from minternet.sim.topology import loads  # noqa: E402
from minternet.web.layout import layout  # noqa: E402
from minternet.web.session import ActionError, ReplaySession, Session  # noqa: E402


def example():
    return loads(example_text(), "(example)", seed=0, out=lambda line: None)


@pytest.fixture
def session():
    s = Session(example())
    yield s
    s.close()


def on_sim(s, fn, *args):
    return s.executor.submit(fn, *args).result(timeout=60)


def test_ping_from_the_page_gives_replies_and_flights(session):
    assert on_sim(session, session.act, {"cmd": "run", "app": "ping", "host": "client", "target": "server", "count": 2}) \
        == "ping started on client"
    on_sim(session, session.advance, 2_000_000_000)
    events = session.drain()
    out = [e["summary"] for e in events if e["layer"] == "app"]
    assert out[0] == "$ ping server -c 2"
    assert sum("bytes from 10.0.2.10" in line for line in out) == 2
    sends = [e for e in events if e["layer"] == "link" and e["event"] == "send"]
    assert sends and all("fl" in e for e in sends)
    # A frame arrives after its link's delay: client -> lan1 is 1 ms plus serialisation at 100 Mbit/s.
    first_icmp = next(e for e in sends if e["proto"] == "icmp" and e["node"] == "client")
    link, direction, arrive = first_icmp["fl"]
    assert (session.net.links[link].a.node_name, direction) == ("client", 0)
    assert arrive - first_icmp["t"] == 1_000_000 + 98 * 80  # 98-byte frame: 80 ns a byte


def test_switches_are_traced_so_every_hop_animates(session):
    on_sim(session, session.advance, 10_000_000)
    assert any(e["node"] == "lan1" and e["event"] == "send" and "fl" in e for e in session.drain())


def test_layers_of_a_tcp_segment_show_its_sequence_number(session):
    on_sim(session, session.act, {"cmd": "run", "app": "transfer", "host": "client", "target": "server", "bytes": 3000})
    on_sim(session, session.advance, 1_000_000_000)
    syn = next(e for e in session.drain() if e["proto"] == "tcp" and e["layer"] == "link" and e["event"] == "send" and "[S]" in e["summary"])
    d = session.detail(syn["i"])
    assert [layer["name"] for layer in d["layers"]] == ["Ethernet", "IPv4", "TCP"]
    seq = next(f for f in d["layers"][2]["fields"] if f["name"] == "sequence number")
    raw = bytes.fromhex(d["hex"])
    assert int.from_bytes(raw[seq["start"]:seq["end"]], "big") == int(seq["value"])
    assert f"seq={seq['value']}" in syn["summary"]


def test_dns_answers_are_decoded(session):
    on_sim(session, session.act, {"cmd": "run", "app": "dig", "host": "client", "target": "www.example.com"})
    on_sim(session, session.advance, 1_000_000_000)
    events = session.drain()
    assert any("dig www.example.com: " in e["summary"] and "10.0.2.10" in e["summary"] for e in events)
    answer = next(e for e in events if e["proto"] == "dns" and e["layer"] == "link" and e["event"] == "send"
                  and e["node"] == "resolver" and "> 10.0.1.10" in e["summary"])
    dns = session.detail(answer["i"])["layers"][-1]
    assert dns["name"] == "DNS"
    assert any(f["name"] == "answer" and "10.0.2.10" in f["value"] for f in dns["fields"])


def test_router_down_drops_and_link_changes(session):
    on_sim(session, session.act, {"cmd": "node", "name": "r2", "up": False})
    with pytest.raises(ActionError, match="r2 is down"):
        on_sim(session, session.act, {"cmd": "run", "app": "ping", "host": "r2", "target": "server"})
    on_sim(session, session.act, {"cmd": "run", "app": "ping", "host": "client", "target": "server", "count": 1})
    on_sim(session, session.act, {"cmd": "set_link", "link": 4, "loss": "0.5", "delay": "20"})
    on_sim(session, session.advance, 500_000_000)
    events = session.drain()
    assert any(e["event"] == "drop" and e["node"] == "r2" and e["reason"] == "node-down" for e in events)
    assert layout(session.net)["links"][4]["label"] == "20 ms, loss 50%"
    assert not layout(session.net)["nodes"][[n["name"] for n in layout(session.net)["nodes"]].index("r2")]["up"]


@pytest.mark.parametrize("cmd, message", [
    ({"cmd": "node", "name": "nope", "up": False}, "no node named 'nope'"),
    ({"cmd": "set_link", "link": 0, "loss": "2"}, "loss is a probability"),
    ({"cmd": "run", "app": "ping", "host": "client", "target": "mars"}, "neither a node"),
    ({"cmd": "run", "app": "telnet", "host": "client", "target": "server"}, "unknown program"),
    ({"cmd": "run", "app": "ping", "host": "nobody", "target": "server"}, "no host or router named 'nobody'"),
])
def test_wrong_actions_say_what_is_wrong(session, cmd, message):
    with pytest.raises(ActionError, match=message):
        on_sim(session, session.act, cmd)


def test_exports_and_replay_give_the_same_run(session, tmp_path):
    on_sim(session, session.act, {"cmd": "run", "app": "ping", "host": "client", "target": "server", "count": 1})
    on_sim(session, session.advance, 1_000_000_000)
    pcap = session.pcap()
    assert struct.unpack("<I", pcap[:4])[0] == 0xA1B23C4D  # nanosecond pcap
    trace = tmp_path / "trace.jsonl"
    trace.write_text(session.trace_jsonl())
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert len(lines) == len(session.events)
    replay = ReplaySession.from_file(example().network, str(trace))
    replay.advance(10**12)
    assert [(e["t"], e["summary"], e.get("fl")) for e in replay.drain()] == \
           [(e["t"], e["summary"], e.get("fl")) for e in session.encoded]
    with pytest.raises(ActionError, match="recorded run"):
        replay.act({"cmd": "node", "name": "r1", "up": False})


def test_replay_of_a_cli_trace_estimates_flights(tmp_path):
    topo = example()
    path = tmp_path / "t.jsonl"
    topo.network.trace_to(str(path))
    from minternet.application.ping import ping
    topo.network.run_app(ping(topo.network.host("client"), "10.0.2.10", count=1))
    topo.network.close()
    replay = ReplaySession.from_file(example().network, str(path))
    assert replay.next_time() == 0
    replay.step()
    replay.advance(replay.end)
    events = replay.drain()
    sends = [e for e in events if e["layer"] == "link" and e["event"] == "send" and e["node"] == "client"]
    assert sends and all(e["fl"][2] > e["t"] for e in sends)
    # No switch sends in a --trace file: the hop lan1 -> r1 is drawn from r1's arrival.
    arrival = next(e for e in events if e["node"] == "r1" and e["iface"] == "eth0" and e["event"] == "recv")
    link, direction, t1, t0 = arrival["fl"]
    assert replay.net.links[link].b.node_name == "lan1" and direction == 1  # from lan1 towards r1
    assert t1 == arrival["t"] and arrival["t"] - t0 >= 1_000_000


def test_a_bad_trace_file_is_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t_ns": 0}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: not a trace event"):
        ReplaySession.from_file(example().network, str(bad))


def test_layout_is_deterministic_and_fits():
    a, b = layout(example().network), layout(example().network)
    assert a == b
    assert all(0 < n["x"] < a["width"] and 0 < n["y"] < a["height"] for n in a["nodes"])
    assert a["nodes"][0]["name"] == "client" and a["nodes"][0]["x"] == min(n["x"] for n in a["nodes"])


def test_curl_from_the_page_starts_the_site_and_gets_it(session):
    from minternet.web.session import curl_available
    if curl_available() is None:
        pytest.skip("this version has no HTTP client")
    on_sim(session, session.act, {"cmd": "run", "app": "curl", "host": "client", "target": "www.example.com/"})
    on_sim(session, session.advance, 3_000_000_000)
    events = session.drain()
    lines = [e["summary"] for e in events if e["layer"] == "app"]
    assert any(line.startswith("curl www.example.com/: HTTP 200 OK") for line in lines), lines
    http = next(e for e in events if e["proto"] == "http" and e["layer"] == "link" and "GET" not in e["summary"]
                and e["node"] == "client" and e["event"] == "send" and "[P" in e["summary"])
    names = [layer["name"] for layer in session.detail(http["i"])["layers"]]
    assert names == ["Ethernet", "IPv4", "TCP", "HTTP"]


def test_sequence_diagram_export(session):
    from minternet.web.session import diagram_available
    if diagram_available() is None:
        assert session.features()["diagram"] is False and "minternet.observe.diagram" in session.features()["diagram_note"]
        return
    on_sim(session, session.act, {"cmd": "run", "app": "ping", "host": "client", "target": "server", "count": 1})
    on_sim(session, session.advance, 1_000_000_000)
    svg = session.diagram_svg()
    assert svg.lstrip().startswith("<svg") or svg.lstrip().startswith("<?xml")
    assert "client" in svg and "server" in svg and "lan1" not in svg


def test_replay_names_nodes_the_topology_lacks():
    replay = ReplaySession(example().network, [{"t_ns": 5, "node": "mars", "layer": "app", "event": "output",
                                                 "summary": "hello"}])
    assert replay.unknown_nodes() == ["mars"]
    replay.advance(10)
    assert replay.drain()[0]["summary"] == "hello"


def test_step_runs_the_next_moment_even_when_only_a_program_waits(session):
    on_sim(session, session.act, {"cmd": "run", "app": "ping", "host": "client", "target": "server", "count": 2})
    on_sim(session, session.advance, 500_000_000)  # the first reply is in; ping sleeps until 1 s
    session.drain()
    assert on_sim(session, session.step) == 1_000_000_000  # the second request goes out at 1 s
    assert any(e["proto"] == "icmp" for e in session.drain())
    before = len(session.events)
    for _ in range(3):
        on_sim(session, session.step)
    assert len(session.events) > before


@pytest.mark.parametrize("delay, ns", [("20", 20_000_000), ("2.5", 2_500_000), ("1s", 1_000_000_000), (7, 7_000_000)])
def test_link_delay_from_the_page(session, delay, ns):
    on_sim(session, session.act, {"cmd": "set_link", "link": 0, "delay": delay})
    assert session.net.links[0].ab.params.delay == ns == session.net.links[0].ba.params.delay


def test_a_bad_delay_is_explained(session):
    with pytest.raises(ActionError, match="delay: "):
        on_sim(session, session.act, {"cmd": "set_link", "link": 0, "delay": "soon"})


def test_an_icmp_error_shows_the_datagram_it_quotes(session):
    on_sim(session, session.act, {"cmd": "run", "app": "traceroute", "host": "client", "target": "server"})
    on_sim(session, session.advance, 500_000_000)
    exceeded = next(e for e in session.drain() if e["layer"] == "link" and e["event"] == "send"
                    and e["node"] == "r1" and "time exceeded" in e["summary"].lower())
    layers = session.detail(exceeded["i"])["layers"]
    assert [layer["name"] for layer in layers] == ["Ethernet", "IPv4", "ICMP", "quoted IPv4", "quoted UDP"]
    ttl = next(f for f in layers[3]["fields"] if f["name"] == "TTL")
    assert ttl["value"] == "1"  # the probe's TTL ran out at r1
    dport = next(f for f in layers[4]["fields"] if f["name"] == "destination port")
    assert 33434 <= int(dport["value"]) < 33534


def test_https_from_the_page_shows_tls_records_as_layers_and_in_the_diagram(session):
    from minternet.web.session import curl_available, diagram_available
    if curl_available() is None or diagram_available() is None:
        pytest.skip("this version has no HTTP client or diagrams")
    on_sim(session, session.act, {"cmd": "run", "app": "curl", "host": "client", "target": "https://www.example.com/"})
    on_sim(session, session.advance, 3_000_000_000)
    events = session.drain()
    lines = [e["summary"] for e in events if e["layer"] == "app"]
    assert any(line.startswith("curl https://www.example.com/: HTTP 200") for line in lines), lines
    sends = [e for e in events if e["layer"] == "link" and e["event"] == "send" and e["node"] == "client"
             and ":443" not in e["summary"] and " > 443 " in e["summary"] and "[P" in e["summary"]]
    layers = [session.detail(e["i"])["layers"] for e in sends]
    names = [[layer["name"] for layer in ls] for ls in layers]
    assert names[0] == ["Ethernet", "IPv4", "TCP", "TLS record: ClientHello sni=www.example.com alpn=h2,http/1.1"]
    hello = {f["name"]: f["value"] for f in layers[0][3]["fields"]}
    assert hello["content type"] == "handshake (22)" and hello["server name (SNI)"] == "www.example.com"
    assert hello["handshake"].startswith("ClientHello (1), ") and "TLS 1.3" in hello["supported versions"]
    assert any(n[3:] == ["TLS record: application data (encrypted)"] for n in names[1:])
    svg = session.diagram_svg()
    assert "TLS ClientHello sni=www.example.com alpn=h2,http/1.1" in svg and "TLS ServerHello" in svg
