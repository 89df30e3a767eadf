"""Traces: JSON lines, the terminal timeline, and pcap captures of a real run checked by tshark."""

import io
import json
import shutil
import subprocess

import pytest
from netutil import chain

from minternet.application.ping import ping
from minternet.observe.trace import JsonLinesSink, TimelinePrinter, Tracer
from minternet.sim.scheduler import Scheduler


def test_tracer_is_disabled_until_someone_listens():
    t = Tracer(Scheduler())
    assert not t.enabled
    sink = t.subscribe(lambda ev: None)
    assert t.enabled
    t.unsubscribe(sink)
    assert not t.enabled


def test_every_drop_has_a_reason_and_jsonl_is_parseable():
    net = chain(2, loss=0.3)
    buf = io.StringIO()
    net.tracer.subscribe(JsonLinesSink(buf))
    net.run_app(ping(net["client"], "10.0.2.10", count=20, interval=100_000_000))
    events = [json.loads(line) for line in buf.getvalue().splitlines()]
    drops = [e for e in events if e["event"] == "drop"]
    assert drops and all(e.get("reason") for e in drops)
    assert {e["reason"] for e in drops} == {"link-loss"}
    assert sum(net.counters()[k] for k in net.counters() if k == "drop.link-loss") == len(drops)
    times = [e["t_ns"] for e in events]
    assert times == sorted(times)


def test_timeline_lines_read_like_a_story():
    net = chain(1)
    buf = io.StringIO()
    net.tracer.subscribe(TimelinePrinter(buf, layers={"ip"}))
    net.run_app(ping(net["client"], "10.0.2.10", count=1))
    lines = buf.getvalue().splitlines()
    assert lines[0].split()[1:4] == ["client:eth0", "ip", "send"]
    assert "10.0.1.10 > 10.0.2.10 ICMP echo request" in lines[0]
    assert any("r1:eth1" in l and "forward" in l and "ttl=63" in l for l in lines)
    assert any("server:eth0" in l and "deliver" in l for l in lines)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (make test installs it as root)")
def test_capture_of_a_real_run_is_clean_in_tshark(tmp_path):
    net = chain(2, corrupt=0.0)
    net.capture(str(tmp_path))
    net.run_app(ping(net["client"], "10.0.2.10", count=3, size=3000))
    net.run_app(ping(net["client"], "10.0.2.99", count=1))
    net.close()
    for pcap in sorted(tmp_path.glob("*.pcap")):
        out = subprocess.run(
            ["tshark", "-r", str(pcap), "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
             "-T", "fields", "-e", "frame.number", "-e", "_ws.malformed", "-e", "_ws.expert.severity",
             "-e", "ip.checksum.status", "-e", "_ws.col.Protocol", "-e", "icmp.checksum.status"],
            capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        rows = [line.split("\t") for line in out.stdout.splitlines()]
        assert rows, pcap
        for row in rows:
            assert row[1] == "", (pcap.name, row)  # no malformed packet
            # Wireshark's checksum status: 0 bad, 1 good, 2 unverified.
            # (An ICMP error lists the quoted datagram's status second.)
            assert row[3].split(",")[0] == "1" or row[4] == "ARP", (pcap.name, row)
            assert "0" not in row[3].split(",") + row[5].split(","), (pcap.name, row)
        protos = {row[4] for row in rows}
        assert "ARP" in protos and "ICMP" in protos
