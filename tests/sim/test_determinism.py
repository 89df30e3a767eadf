"""Same topology + same seed = byte-identical trace and pcap; another seed, another run."""

import hashlib
from pathlib import Path

from minternet.application.ping import ping
from minternet.application.traceroute import traceroute
from minternet.sim.topology import loads

LOSSY = """
[[host]]
name = "a"
interfaces = { eth0 = "10.0.1.10/24" }
gateway = "10.0.1.1"
[[router]]
name = "r"
interfaces = { eth0 = "10.0.1.1/24", eth1 = "10.0.2.1/24" }
[[host]]
name = "b"
interfaces = { eth0 = "10.0.2.10/24" }
gateway = "10.0.2.1"
[[link]]
endpoints = ["a:eth0", "r:eth0"]
delay = "5ms"
jitter = "3ms"
loss = 0.2
duplicate = 0.1
reorder = 0.1
corrupt = 0.05
[[link]]
endpoints = ["r:eth1", "b:eth0"]
delay = "5ms"
"""


def run(tmp: Path, seed: int) -> tuple[bytes, dict[str, bytes]]:
    net = loads(LOSSY, "lossy", seed=seed).network
    trace = tmp / "trace.jsonl"
    net.trace_to(str(trace))
    net.capture(str(tmp / "pcap"))
    net.run_app(ping(net["a"], "10.0.2.10", count=30, size=2000, interval=100_000_000))
    net.run_app(traceroute(net["a"], "10.0.2.10", wait=500_000_000))
    net.close()
    pcaps = {p.name: p.read_bytes() for p in sorted((tmp / "pcap").iterdir())}
    return trace.read_bytes(), pcaps


def test_same_seed_gives_byte_identical_trace_and_pcap(tmp_path):
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    (tmp_path / "3").mkdir()
    trace1, pcaps1 = run(tmp_path / "1", seed=42)
    trace2, pcaps2 = run(tmp_path / "2", seed=42)
    assert len(trace1) > 10_000 and b'"link-loss"' in trace1 and b'"bad-checksum"' in trace1
    assert hashlib.sha256(trace1).hexdigest() == hashlib.sha256(trace2).hexdigest()
    assert pcaps1 == pcaps2 and set(pcaps1) == {"a-eth0.pcap", "b-eth0.pcap", "r-eth0.pcap", "r-eth1.pcap"}
    trace3, _ = run(tmp_path / "3", seed=43)
    assert trace3 != trace1
