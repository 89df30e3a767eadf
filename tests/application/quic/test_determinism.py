"""Same seed, same QUIC bytes: two runs of an HTTP/3 exchange (fresh, 0-RTT resumed, over a lossy
path) in separate processes write byte-identical pcaps, traces and key logs. Without the seeded
aioquic (deterministic=False) the bytes differ, so the test can tell."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]


def run(out: Path, seed: int, deterministic: bool = True) -> dict:
    """The scenario in a new Python process (object addresses, hash seeds and the heap layout all
    differ from one process to the next), returning the SHA-256 of every file it wrote."""
    out.mkdir()
    code = (f"import sys, json; sys.path.insert(0, {str(TESTS)!r}); from h3util import h3_scenario; "
            f"r = h3_scenario({str(out)!r}, seed={seed}, deterministic={deterministic}); "
            "print(json.dumps({'ok': r['ok'], 'resumed': r['resumed']}))")
    env = dict(os.environ, PYTHONHASHSEED="random")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"ok": True, "resumed": True}
    files = sorted(p for p in out.rglob("*") if p.is_file())
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_same_seed_gives_byte_identical_quic_packets(tmp_path):
    one = run(tmp_path / "1", seed=5)
    two = run(tmp_path / "2", seed=5)
    assert {"pcap/client-eth0.pcap", "pcap/server-eth0.pcap", "trace.jsonl", "pcap/sslkeylog.txt"} <= set(one)
    assert one == two
    trace = (tmp_path / "1" / "trace.jsonl").read_text()
    assert '"link-loss"' in trace  # the runs did retransmit
    other = run(tmp_path / "3", seed=6)
    assert other["pcap/client-eth0.pcap"] != one["pcap/client-eth0.pcap"]


def test_without_seeded_aioquic_the_bytes_differ(tmp_path):
    one = run(tmp_path / "1", seed=5, deterministic=False)
    two = run(tmp_path / "2", seed=5, deterministic=False)
    assert one["pcap/client-eth0.pcap"] != two["pcap/client-eth0.pcap"]
    assert one["pcap/sslkeylog.txt"] != two["pcap/sslkeylog.txt"]
