"""Wireshark decrypts our QUIC: given the key log that Network.capture writes beside the pcaps,
tshark decodes the HTTP/3 frames (Debian 12's tshark 4.0 decodes HTTP/3 frames, not QPACK header
blocks); without it, nothing of HTTP/3 is visible."""

import shutil
import subprocess
from collections import Counter

import pytest
from h3util import h3_scenario

from minternet.observe.keylog import tshark_hint

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (make system-deps)")


def fields(pcap, *names, keylog=None, display="http3"):
    cmd = ["tshark", "-n", "-r", pcap, "-Y", display, "-T", "fields", "-E", "separator=|"]
    if keylog:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    for name in names:
        cmd += ["-e", name]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def test_tshark_decodes_http3_frames_with_our_key_log(tmp_path):
    run = h3_scenario(str(tmp_path), loss=0.0)
    assert run["ok"] and run["resumed"]
    keylog = run["keylog"]
    assert keylog == str(tmp_path / "pcap" / "sslkeylog.txt")
    labels = Counter(line.split()[0] for line in open(keylog))
    # Two connections: handshake and traffic secrets each way, and the resumed one's 0-RTT secret.
    assert labels == {"CLIENT_HANDSHAKE_TRAFFIC_SECRET": 2, "SERVER_HANDSHAKE_TRAFFIC_SECRET": 2,
                      "CLIENT_TRAFFIC_SECRET_0": 2, "SERVER_TRAFFIC_SECRET_0": 2, "CLIENT_EARLY_TRAFFIC_SECRET": 1}
    pcap = run["pcap"]["client-eth0.pcap"]
    rows = fields(pcap, "ip.src", "http3.frame_type", "http3.settings.qpack.max_table_capacity", keylog=keylog)
    frames = Counter()
    capacity = {}
    for src, types, cap in rows:
        for t in filter(None, types.split(",")):
            frames[(src, int(t))] += 1
        if cap:
            capacity[src] = int(cap)
    HEADERS, SETTINGS = 1, 4
    assert frames[("10.0.2.10", SETTINGS)] == 2
    # The client's control stream and requests: those of the fresh connection (tshark 4.0 does not
    # hand the resumed one's, sent in 0-RTT packets, to its HTTP/3 dissector).
    assert frames[("10.0.1.10", SETTINGS)] >= 1 and frames[("10.0.1.10", HEADERS)] >= 3
    assert frames[("10.0.2.10", HEADERS)] == 6  # the six responses
    # Our client's SETTINGS: no QPACK dynamic table (see application/http/h3.py); aioquic's default
    # on the server.
    assert capacity == {"10.0.1.10": 0, "10.0.2.10": 4096}
    # The resumed connection's 0-RTT packets decrypt too: their STREAM frames are visible.
    zero_rtt = fields(pcap, "quic.frame_type", keylog=keylog, display="quic.long.packet_type == 1")
    assert zero_rtt and any("8" in row[0].split(",") or "10" in row[0].split(",") or "14" in row[0].split(",")
                            for row in zero_rtt)
    # Without the key log the same capture shows no HTTP/3 at all.
    assert fields(pcap, "http3.frame_type") == []
    assert f"-o tls.keylog_file:{keylog}" in tshark_hint(keylog)
