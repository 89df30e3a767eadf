"""Fragmentation and reassembly, including hostile fragment streams."""

import random

from minternet.host import Host
from minternet.internet.fragment import Reassembler, copied_options, fragment
from minternet.sim.scheduler import Scheduler
from minternet.wire.ipv4 import IPFlags, IPv4


def host():
    s = Scheduler()
    return Host("h", s), s


def datagram(size=4000, ident=7):
    return IPv4("10.0.0.1", "10.0.0.2", 17, bytes(random.Random(size).randbytes(size)), ident=ident)


def test_fragment_sizes_offsets_and_flags():
    ip = datagram(4000)
    frags = fragment(ip, 1500)
    assert [len(f.payload) for f in frags] == [1480, 1480, 1040]
    assert [f.frag_offset * 8 for f in frags] == [0, 1480, 2960]
    assert [bool(f.flags & IPFlags.MF) for f in frags] == [True, True, False]
    assert all(len(f.encode()) <= 1500 for f in frags)
    assert b"".join(f.payload for f in frags) == ip.payload


def test_only_copied_options_go_into_later_fragments():
    # 0x94 router alert (copied), 0x07 record route (not copied), padded with NOP/EOL
    opts = bytes([0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 0])
    assert copied_options(opts) == bytes([0x94, 4, 0, 0])
    ip = datagram(3000)._replace(options=opts)
    frags = fragment(ip, 1000)
    assert frags[0].options == opts and all(f.options == bytes([0x94, 4, 0, 0]) for f in frags[1:])
    assert all(len(f.encode()) <= 1000 for f in frags)


def test_reassembly_in_any_order_with_duplicates():
    h, _ = host()
    ip = datagram(5000)
    frags = fragment(ip, 576)
    order = frags[::-1] + [frags[2]]
    random.Random(1).shuffle(order)
    out = [h.ip.reassembler.add(f, "eth0") for f in order]
    whole = [o for o in out if o is not None]
    assert len(whole) == 1 and whole[0].payload == ip.payload and not whole[0].is_fragment


def test_overlapping_fragments_are_dropped_and_counted():
    h, _ = host()
    r = h.ip.reassembler
    a = IPv4("1.1.1.1", "2.2.2.2", 17, bytes(800), ident=1, flags=IPFlags.MF, frag_offset=0)
    b = IPv4("1.1.1.1", "2.2.2.2", 17, bytes(800), ident=1, flags=0, frag_offset=50)  # starts at 400
    assert r.add(a, "eth0") is None
    assert r.add(b, "eth0") is None
    assert h.stats["drop.frag-overlap"] == 2 and len(r) == 0


def test_too_many_fragments_and_too_big_are_dropped():
    h, _ = host()
    r = h.ip.reassembler
    for i in range(70):
        r.add(IPv4("1.1.1.1", "2.2.2.2", 17, bytes(8), ident=2, flags=IPFlags.MF, frag_offset=i), "eth0")
    assert h.stats["drop.frag-too-many"] >= 1
    r.add(IPv4("1.1.1.1", "2.2.2.2", 17, bytes(16), ident=3, frag_offset=8189), "eth0")
    assert h.stats["drop.frag-too-big"] == 1


def test_timeout_drops_and_answers_time_exceeded(recorder):
    h, s = host()
    h.tracer.subscribe(recorder)
    sent = []
    h.ip.send = lambda dst, proto, payload, src=None, **k: sent.append((dst, proto, payload))
    frags = fragment(datagram(3000), 1500)
    h.ip.reassembler.add(frags[0], "eth0")
    s.run_until(31 * 10**9)
    assert h.stats["drop.reassembly-timeout"] == 1
    assert sent and sent[0][1] == 1 and sent[0][2][0] == 11 and sent[0][2][1] == 1  # time exceeded, reassembly
    assert recorder.where(event="drop", reason="reassembly-timeout")


def test_memory_bound_evicts_oldest():
    h, _ = host()
    r = Reassembler(h.clock, h.obs, max_bytes=10_000)
    for ident in range(10):
        first = fragment(datagram(3000, ident=ident), 1500)[0]
        r.add(first, "eth0")
    assert r.buffered <= 10_000
    assert h.stats["drop.reassembly-memory"] >= 1
    assert len(r) < 10
