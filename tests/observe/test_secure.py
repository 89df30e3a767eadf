"""TLS records and QUIC packets as layers (observe/secure.py), checked against tshark on the same
pcaps: record types and handshake messages over TCP; QUIC packet types, packet numbers, frame
types and stream ids, decrypted with the key log the run wrote."""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import dpkt
import pytest

from minternet.application.http import Response, fetch, serve
from minternet.observe.keylog import KeyLog
from minternet.observe.secure import SecureDecoder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "application" / "http"))
from httputil import SERVER, two_hosts  # noqa: E402
from h3util import h3_scenario  # noqa: E402

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (make test installs it as root)")


async def hello(request):
    return Response.text("hello\n")


def https_run(tmp_path: Path, versions=("1.1", "2")) -> tuple:
    net = two_hosts(delay="25ms")
    net["client"].stub_resolver.add_host("server", SERVER)
    net.capture(str(tmp_path))
    timeline = io.StringIO()
    net.print_timeline(timeline, layers={"ip"})
    net.trace_to(str(tmp_path / "trace.jsonl"))

    async def main():
        await serve(net["server"], 443, hello, tls=True, http3=True)
        for v in versions:
            assert (await fetch(net["client"], "https://server/", http_version=v)).status == 200
    net.run_app(main())
    net.close()
    return net, timeline.getvalue()


def frames_of(pcap: Path) -> list[bytes]:
    with open(pcap, "rb") as f:
        return [bytes(buf) for _, buf in dpkt.pcap.Reader(f)]


def tshark(pcap: Path, fields: list[str], keylog: Path | None = None) -> list[list[str]]:
    argv = [TSHARK, "-r", str(pcap), "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]
    if keylog is not None:
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    for field in fields:
        argv += ["-e", field]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    return [line.split("\t") for line in out.stdout.splitlines()]


def ints(cell: str) -> list[int]:
    return [int(x) for x in cell.split(",") if x]


def test_the_trace_and_timeline_show_tls_and_quic_layers(tmp_path):
    _, timeline = https_run(tmp_path, ("2", "3"))
    events = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    tls_lines = [e["tls"] for e in events if "tls" in e]
    quic_lines = [e["quic"] for e in events if "quic" in e]
    assert "TLS ClientHello sni=server alpn=h2,http/1.1" in tls_lines
    assert any(t.startswith("TLS ServerHello TLS_AES_256_GCM_SHA384, change cipher spec, application data (encrypted)")
               for t in tls_lines)
    assert "QUIC Initial pn=0 CRYPTO(ClientHello sni=server alpn=h3)" in quic_lines
    assert any(" Handshake pn=" in t and "ServerHello" in t for t in quic_lines)
    assert any(t.startswith("QUIC 1-RTT pn=") and "STREAM(0 fin)" in t for t in quic_lines)  # the request
    assert not any("undecryptable" in t or "no key" in t or "unknown" in t for t in quic_lines), quic_lines
    # The terminal timeline tells the same under the packet that carries it.
    assert "\n" + " " * 43 + "TLS ClientHello sni=server alpn=h2,http/1.1\n" in timeline
    assert "\n" + " " * 43 + "QUIC Initial pn=0 CRYPTO(ClientHello sni=server alpn=h3)\n" in timeline


def test_records_that_span_segments_are_followed_by_sequence_number():
    d = SecureDecoder()
    record = b"\x17\x03\x03" + (3000).to_bytes(2, "big") + bytes(3000)
    second = b"\x15\x03\x03\x00\x02\x01\x00"  # an alert after it
    stream = record + second
    seg = [stream[:1448], stream[1448:2896], stream[2896:]]
    flow = ("10.0.0.1", 443, "10.0.0.2", 5000)
    first = d.tls_segment(*flow, 1000, seg[0])
    middle = d.tls_segment(*flow, 1000 + 1448, seg[1])
    last = d.tls_segment(*flow, 1000 + 2896, seg[2])
    assert first.describe() == "TLS application data (encrypted) (continues)"
    assert middle.describe() == "TLS continuation of application data (encrypted) (1448 B)"
    assert last.describe() == "TLS continuation of application data (encrypted) (109 B), alert warning close_notify"
    # Bytes that are no TLS at all: said so, not a crash.
    assert d.tls_segment("1.1.1.1", 443, "2.2.2.2", 9, 1, b"\x16\x03\x03\x00\x01\x01junk").describe() == \
        "TLS handshake (fragment), undecodable bytes"


def test_garbage_on_tls_and_quic_ports_never_crashes():
    rng = random.Random(3)
    d = SecureDecoder()
    for i in range(2000):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120)))
        if i % 3 == 0:
            junk = b"\xc3\x00\x00\x00\x01" + junk  # a QUIC long header of version 1, then junk
        assert d.tls_segment("1.1.1.1", 443, "2.2.2.2", 9, i * 200, junk).describe().startswith("TLS")
        assert d.quic_datagram(junk).describe().startswith("QUIC")


@needs_tshark
def test_tls_records_match_tshark(tmp_path):
    https_run(tmp_path)
    pcap = tmp_path / "client-eth0.pcap"
    rows = tshark(pcap, ["frame.number", "tls.record.length", "tls.record.content_type", "tls.record.opaque_type",
                         "tls.handshake.type", "tls.handshake.extensions_server_name"])
    d = SecureDecoder()
    compared = 0
    for frame, row in zip(frames_of(pcap), rows):
        layer = d.layer_of(frame[14:])
        if layer is None:
            assert row[1] == "", row  # tshark saw no TLS where we saw none
            continue
        kind, seg = layer
        assert kind == "tls" and seg.continued == 0 and all(r.complete for r in seg.records)
        assert [r.length for r in seg.records] == ints(row[1])
        assert sorted(r.content_type for r in seg.records) == sorted(ints(row[2]) + ints(row[3]))
        ours = [m.type for r in seg.records if r.content_type == 22 for m in __import__(
            "minternet.wire.tls", fromlist=["x"]).handshake_messages(r.fragment)]
        assert ours == ints(row[4])
        if row[5]:
            assert f"sni={row[5]}" in seg.describe()
        compared += 1
    assert compared >= 10


@needs_tshark
def test_quic_packets_and_frames_match_tshark_decrypting_with_the_key_log(tmp_path):
    result = h3_scenario(str(tmp_path))  # a fresh connection, then a 0-RTT one, with 5% loss
    assert result["ok"] and result["resumed"]
    keylog = Path(result["keylog"])
    pcap = Path(result["pcap"]["client-eth0.pcap"])
    rows = tshark(pcap, ["frame.number", "quic.long.packet_type", "quic.packet_number", "quic.frame_type",
                         "quic.stream.stream_id", "quic.header_form"], keylog=keylog)
    d = SecureDecoder(KeyLog.read(str(keylog)))
    kinds = {"Initial": 0, "0-RTT": 1, "Handshake": 2, "Retry": 3}
    seen = set()
    compared = 0
    for frame, row in zip(frames_of(pcap), rows):
        layer = d.layer_of(frame[14:])
        if layer is None or layer[0] != "quic":
            assert row[5] == "", row
            continue
        packets = layer[1].packets
        assert [kinds[p.packet.packet_type] for p in packets if p.packet.long] == ints(row[1]), row
        assert [p.packet_number for p in packets] == ints(row[2]), row
        assert [f.type for p in packets for f in p.frames] == ints(row[3]), row
        assert [f.get("stream id") for p in packets for f in p.frames if f.name == "STREAM"] == ints(row[4]), row
        seen.update(p.packet.packet_type for p in packets)
        compared += 1
    assert seen == {"Initial", "0-RTT", "Handshake", "1-RTT"} and compared > 40


def test_a_trace_keeps_the_quic_keys_beside_it_so_its_diagram_opens_quic_packets(tmp_path):
    from minternet.observe.diagram import build_diagram
    net = two_hosts(delay="25ms")
    net["client"].stub_resolver.add_host("server", SERVER)
    net.trace_to(str(tmp_path / "run.jsonl"))

    async def main():
        await serve(net["server"], 443, hello, tls=True, http3=True)
        assert (await fetch(net["client"], "https://server/", http_version="3")).status == 200
    net.run_app(main())
    net.close()
    assert "SERVER_TRAFFIC_SECRET_0 " in (tmp_path / "sslkeylog.txt").read_text()  # the QUIC secrets
    labels = [a.label for a in build_diagram(str(tmp_path / "run.jsonl"), max_arrows=0).arrows]
    assert "QUIC Initial CRYPTO ClientHello" in labels and "QUIC 1-RTT STREAM 0" in labels
    assert not any("no key" in label for label in labels)
    (tmp_path / "sslkeylog.txt").unlink()  # without the keys: the Initial packets still open
    labels = [a.label for a in build_diagram(str(tmp_path / "run.jsonl"), max_arrows=0).arrows]
    assert "QUIC Initial CRYPTO ClientHello" in labels and "QUIC 1-RTT (no key)" in labels
