"""ARP: requests, replies, cache with timeout, the queue of waiting packets, retries, gratuitous ARP."""

import socket

from minternet.sim.network import Network
from minternet.transport.udp import CallbackEndpoint
from minternet.wire.arp import ARP, ARPOp


def lan():
    net = Network(seed=5)
    a = net.add_host("a", {"eth0": "10.0.0.1/24"})
    b = net.add_host("b", {"eth0": "10.0.0.2/24"})
    net.connect("a:eth0", "b:eth0", delay="1ms")
    got = []
    b.udp.bind(7, CallbackEndpoint(lambda data, *rest: got.append(data)))
    return net, a, b, got


def test_resolution_queues_packets_and_sends_them_once_answered(recorder):
    net, a, b, got = lan()
    net.tracer.subscribe(recorder)
    net.start()
    for i in range(3):
        a.udp.send(9, "10.0.0.2", 7, bytes([i]))
    net.run("100ms")
    assert got == [b"\x00", b"\x01", b"\x02"]  # in order, after one request
    assert a.stats["arp.requests_sent"] == 1 and b.stats["arp.replies_sent"] == 1
    assert a.arp.lookup(socket.inet_aton("10.0.0.2")) == b.interfaces["eth0"].mac
    # b learned a from the request that was addressed to it (RFC 826 merge), so it needs no request.
    assert b.arp.lookup(socket.inet_aton("10.0.0.1")) == a.interfaces["eth0"].mac
    kinds = [ev.summary for ev in recorder.events if ev.layer == "arp" and ev.event == "send"]
    assert "ARP who-has 10.0.0.2 tell 10.0.0.1" in kinds and "ARP reply 10.0.0.2 is-at 02:00:00:00:02:01" in kinds


def test_cache_entries_expire():
    net, a, b, got = lan()
    net.start()
    a.udp.send(9, "10.0.0.2", 7, b"x")
    net.run("1s")
    assert a.arp.lookup(socket.inet_aton("10.0.0.2")) is not None
    net.run("62s")
    assert a.arp.lookup(socket.inet_aton("10.0.0.2")) is None
    a.udp.send(9, "10.0.0.2", 7, b"y")
    net.run("63s")
    assert a.stats["arp.requests_sent"] == 2 and got == [b"x", b"y"]


def test_no_answer_retries_three_times_then_drops():
    net, a, b, got = lan()
    net.start()
    a.udp.send(9, "10.0.0.77", 7, b"x")
    net.run("10s")
    assert a.stats["arp.requests_sent"] == 3
    assert a.stats["drop.arp-failed"] == 1
    assert not a.arp.pending


def test_gratuitous_announcement_on_start_updates_existing_entries():
    net, a, b, got = lan()
    net.start()
    net.run("10ms")
    a.udp.send(9, "10.0.0.2", 7, b"x")
    net.run("100ms")
    new_mac = b"\x02\xaa\xbb\xcc\xdd\xee"
    b.interfaces["eth0"].mac = new_mac
    b.interfaces["eth0"].eth_header_ip = new_mac + b"\x08\x00"
    b.arp.announce(b.interfaces["eth0"])
    net.run("200ms")
    assert a.arp.lookup(socket.inet_aton("10.0.0.2")) == new_mac


def test_arp_wire_format_matches_rfc826_layout():
    msg = ARP(ARPOp.REQUEST, b"\x02" * 6, "10.0.0.1", b"\x00" * 6, "10.0.0.2")
    raw = msg.encode()
    assert raw[:8] == bytes.fromhex("0001080006040001")
    assert raw[14:18] == socket.inet_aton("10.0.0.1") and raw[24:28] == socket.inet_aton("10.0.0.2")


def test_malformed_arp_frames_are_dropped_with_the_decoders_reason_and_good_ones_answered():
    net, a, b, _ = lan()
    net.start()
    net.run("10ms")
    iface = b.interfaces["eth0"]
    good = ARP(ARPOp.REQUEST, a.interfaces["eth0"].mac, "10.0.0.1", bytes(6), "10.0.0.2").encode()
    head = b"\xff" * 6 + a.interfaces["eth0"].mac + b"\x08\x06"
    before = b.stats["arp.replies_sent"]
    for body, reason in ((good[:20], "drop.malformed-truncated"),
                         (good[:4] + b"\x08\x04" + good[6:], "drop.malformed-unsupported"),
                         (good[:6] + b"\x00\x03" + good[8:], "drop.malformed-bad-op")):
        b.ethernet.receive(iface, head + body)
        assert b.stats[reason] == 1, (reason, dict(b.stats))
    assert b.stats["arp.replies_sent"] == before
    b.ethernet.receive(iface, head + good)  # the same request, whole: answered
    assert b.stats["arp.replies_sent"] == before + 1
