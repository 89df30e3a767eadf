"""The layer view's fields and byte offsets, frame by frame, without a browser."""

from __future__ import annotations

from minternet.web.layers import describe, protocol
from minternet.wire.arp import ARP, ARPOp
from minternet.wire.ethernet import Ethernet, EtherType
from minternet.wire.ipv4 import IPProto, IPv4
from minternet.wire.tcp import TCP, TCPFlags
from minternet.wire.udp import UDP

A, B = "10.0.0.1", "10.0.0.2"
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def frame(ip: IPv4) -> bytes:
    return Ethernet(MAC_B, MAC_A, EtherType.IPV4, ip.encode()).encode()


def fields(layer: dict) -> dict[str, dict]:
    return {f["name"]: f for f in layer["fields"]}


def test_every_field_points_at_its_own_bytes():
    seg = TCP(40000, 80, 123456789, 42, TCPFlags.PSH | TCPFlags.ACK, 65535,
              b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").encode(A, B)
    raw = frame(IPv4(A, B, IPProto.TCP, seg, ttl=7))
    d = describe(raw, None)
    assert d["hex"] == raw.hex() and d["error"] is None
    eth, ip, tcp, http = d["layers"]
    assert [eth["name"], ip["name"], tcp["name"], http["name"]] == ["Ethernet", "IPv4", "TCP", "HTTP"]
    f = fields(ip)
    assert raw[f["TTL"]["start"]] == 7 and f["TTL"]["value"] == "7"
    assert raw[f["source"]["start"]:f["source"]["end"]] == bytes([10, 0, 0, 1])
    f = fields(tcp)
    assert int.from_bytes(raw[f["sequence number"]["start"]:f["sequence number"]["end"]], "big") == 123456789
    assert f["flags"]["value"] == "PSH|ACK"
    f = fields(http)
    start = f["start line"]
    assert raw[start["start"]:start["end"]] == b"GET / HTTP/1.1" and f["Host"]["value"] == "Host: example.com"
    assert protocol(raw, None) == "http"


def test_arp_and_a_bare_ip_packet_and_a_broken_frame():
    arp = Ethernet(b"\xff" * 6, MAC_A, EtherType.ARP,
                   ARP(ARPOp.REQUEST, MAC_A, A, b"\x00" * 6, B).encode()).encode()
    d = describe(arp, None)
    assert [layer["name"] for layer in d["layers"]] == ["Ethernet", "ARP"]
    assert fields(d["layers"][1])["target IP"]["value"] == B
    assert protocol(arp, None) == "arp"
    packet = IPv4(A, B, IPProto.UDP, UDP(5000, 53, b"").encode(A, B)).encode()
    assert [layer["name"] for layer in describe(None, packet)["layers"]] == ["IPv4", "UDP"]
    assert protocol(None, packet) == "dns"
    broken = describe(arp[:20], None)
    assert broken["error"] and [layer["name"] for layer in broken["layers"]] == ["Ethernet"]
    assert describe(None, None) == {"hex": "", "layers": [], "error": None}
    assert protocol(None, None) is None


def test_quic_packets_are_layers_with_their_frames_decrypted_by_the_run_s_keys():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "application" / "http"))
    from httputil import SERVER, two_hosts

    from minternet.application.http import Response, fetch, serve
    from minternet.observe.trace import Recorder
    net = two_hosts(delay="10ms")
    net["client"].stub_resolver.add_host("server", SERVER)
    rec = Recorder()
    net.tracer.subscribe(rec)

    async def main():
        await serve(net["server"], 443, lambda r: _ok(), tls=True, http3=True)
        return await fetch(net["client"], "https://server/", http_version="3")

    async def _ok():
        return Response.text("ok\n")
    assert net.run_app(main()).http_version == "3"
    net.close()
    sends = [e for e in rec.events if e.layer == "link" and e.event == "send" and e.frame[23] == 17]
    details = [describe(e.frame, None, secure=net.secure) for e in sends]
    first = details[0]["layers"]
    assert [layer["name"] for layer in first] == ["Ethernet", "IPv4", "UDP", "QUIC Initial"]
    fields = {f["name"]: f["value"] for f in first[3]["fields"]}
    assert fields["header form"] == "long" and fields["version"] == "1" and fields["packet number"] == "0"
    assert fields["frame CRYPTO"].startswith("CRYPTO off=0 len=") and "ClientHello sni=server alpn=h3" in fields["frame CRYPTO"]
    assert len(fields["destination connection ID"]) == 16  # 8 bytes, in hex
    names = [layer["name"] for d in details for layer in d["layers"][3:]]
    assert "QUIC Handshake (decrypted)" in names and "QUIC 1-RTT (decrypted)" in names
    streams = [f["value"] for d in details for layer in d["layers"][3:] for f in layer["fields"]
               if f["name"] == "frame STREAM"]
    assert "STREAM id=0 off=0 len=" in streams[0] or any(s.startswith("STREAM id=0 ") for s in streams)
    # Garbage on UDP 443 is shown as undecodable, not an error.
    bad = describe(None, _udp_packet(443, b"\x40garbage"), secure=net.secure)
    assert bad["layers"][-1]["name"] == "QUIC 1-RTT" and "unknown connection" in str(bad["layers"][-1]["fields"])


def _udp_packet(dport: int, payload: bytes) -> bytes:
    from minternet.wire.ipv4 import IPv4
    from minternet.wire.udp import UDP
    udp = UDP(5000, dport, payload).encode("10.0.0.1", "10.0.0.2")
    return IPv4(src="10.0.0.1", dst="10.0.0.2", proto=17, payload=udp).encode()
