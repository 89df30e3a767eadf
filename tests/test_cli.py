"""The minternet command, as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import dpkt
import pytest

from minternet.cli import build_parser, main

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_subcommand_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert {"ping", "traceroute", "run", "show", "routes", "check", "example", "demo"} <= set(sub.choices)
    for name in sub.choices:
        proc = subprocess.run([sys.executable, "-m", "minternet", name, "--help"], capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": SRC})
        assert proc.returncode == 0 and "usage: minternet " + name in proc.stdout, name


def test_ping_on_the_built_in_example(capsys):
    code, out, _ = run(capsys, "ping", "client", "server", "-c", "3")
    assert code == 0
    assert "PING 10.0.2.10" in out
    assert out.count("bytes from 10.0.2.10: icmp_seq=") == 3
    assert "3 packets transmitted, 3 received, 0% packet loss" in out
    assert "rtt min/avg/max/mdev = " in out


def test_ping_big_shows_fragmentation_in_the_timeline(capsys):
    code, out, _ = run(capsys, "ping", "client", "server", "-c", "1", "-s", "4000", "-v")
    assert code == 0
    assert len([l for l in out.splitlines() if "client:eth0" in l and " fragment " in l]) == 3
    assert "reassembled" in out


def test_traceroute_prints_hops(capsys):
    code, out, _ = run(capsys, "traceroute", "client", "server")
    lines = out.splitlines()
    assert lines[0].startswith("traceroute to server (10.0.2.10), 30 hops max")
    assert lines[1].startswith(" 1  r1 (10.0.1.1)") and lines[2].startswith(" 2  r2 (10.0.12.2)")
    assert lines[4].startswith(" 4  server (10.0.2.10)")


def test_run_with_timeline_trace_pcap_and_stats(tmp_path, capsys):
    topo = tmp_path / "t.toml"
    topo.write_text(Path(SRC, "minternet", "examples", "internet.toml").read_text() + """
[[event]]
at = "1s"
ping = { from = "client", to = "server", count = 5 }

[[event]]
at = "2500ms"
down = "r2"
""")
    trace = tmp_path / "trace.jsonl"
    code, out, err = run(capsys, "run", str(topo), "--trace", str(trace), "--pcap", str(tmp_path / "pcap"),
                         "--stats", "--seed", "3")
    assert code == 0
    assert "icmp_seq=1" in out and "5 packets transmitted" in out
    assert "node-down" in out  # the stats name the reason packets were lost
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    assert any(e["event"] == "fault" and "r2 goes down" in e["summary"] for e in events)
    assert all({"t_ns", "node", "layer", "event", "summary"} <= e.keys() for e in events)
    pcap = tmp_path / "pcap" / "client-eth0.pcap"
    with open(pcap, "rb") as f:
        frames = list(dpkt.pcap.Reader(f))
    assert len(frames) > 10
    assert "pcap files written" in err


def test_routes_and_show(capsys):
    code, out, _ = run(capsys, "routes", "r1")
    assert code == 0 and "10.0.2.0/24 via 10.0.12.2 dev eth1 proto computed" in out
    code, out, _ = run(capsys, "show", "--routes")
    assert "r4 (router)" in out and "cost 10/50" in out


def test_example_round_trips_through_check(tmp_path, capsys):
    code, out, _ = run(capsys, "example")
    f = tmp_path / "my.toml"
    f.write_text(out)
    code, out, _ = run(capsys, "check", str(f))
    assert code == 0 and out.startswith(f"{f}: ok:")


def test_bad_topology_reports_file_and_line(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('[[host]]\nname = "a"\ninterfaces = { eth0 = "10.0.0.1/24" }\n\n[[link]]\n'
                 'endpoints = ["a:eth0", "b:eth0"]\n')
    code, out, err = run(capsys, "check", str(f))
    assert code == 2
    assert f"{f}:6: [[link]] #1: no node named 'b'" in err


def test_unknown_node_is_a_clear_error(capsys):
    code, _, err = run(capsys, "ping", "client", "nowhere")
    assert code == 2 and "'nowhere' is neither a node" in err


def test_demo_runs_from_the_cli(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--pcap", str(tmp_path / "pcap"))
    assert code == 0
    assert "=== 1. IP is connectionless" in out and "Names: DNS" in out and "=== 14. UDP and TCP" in out
    assert any((tmp_path / "pcap").iterdir())


def test_transfer_rejects_an_rto_min_out_of_range_before_it_starts(capsys):
    # As the topology's tcp = { rto_min }: more than 0 and at most 120 s (Linux's TCP_RTO_MAX).
    for bad in ("0", "500s"):
        with pytest.raises(SystemExit) as exc:
            main(["transfer", "client", "server", "--rto-min", bad])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "--rto-min: must be more than 0 and at most 120s" in err and "Task was destroyed" not in err
