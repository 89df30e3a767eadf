"""The receive side inside a connection (tests/tcpcontext.py): the out-of-order queue's memory
bound as the host sees it (counters, traced drops) and the SACK blocks on the wire."""

import random

from tcpcontext import ACK, IRS, ISS, established, seg

from minternet.transport.tcp.reassembly import SEGMENT_OVERHEAD
from minternet.wire.tcp import Sack


def test_tiny_out_of_order_segments_are_pruned_counted_and_traced():
    conn, ctx, _ = established(rcvbuf=8192)
    drops = []
    ctx.obs.tracer.subscribe(lambda ev: drops.append(ev) if ev.event == "drop" else None)
    rng = random.Random(3)
    first = IRS + 1
    for _ in range(1000):
        at = first + 1 + 2 * rng.randrange(4000)  # odd offsets: a gap before every byte
        conn.segment_arrives(seg(ACK, at, ISS + 1, b"x"))
        (a,) = ctx.take()  # out of order: acknowledged at once (RFC 5681 4.2) ...
        assert a.ack == first
        blocks = a.option(Sack).blocks
        queued = conn.rcv.reassembly
        if queued.sack_blocks(limit=1)[0] == (at, at + 1):  # ... with its block first (RFC 2018 4)
            assert blocks[0] == (at, at + 1)
        assert queued.charged <= 2 * 8192
    stats = ctx.obs.stats
    assert stats["tcp.ofo_pruned"] > 0 and stats["tcp.ofo_drop"] > 0
    assert stats["drop.ofo-prune"] == queued.pruned_segments and stats["drop.ofo-drop"] == queued.ofo_drops
    assert {ev.reason for ev in drops} == {"ofo-prune", "ofo-drop"}
    assert len(queued.sack_blocks(limit=10**6)) <= 2 * 8192 // (1 + SEGMENT_OVERHEAD)
    # The sender retransmits the whole window: everything is delivered, the queue is empty.
    conn.segment_arrives(seg(ACK, first, ISS + 1, b"y" * 8000))
    (a,) = ctx.take()
    assert conn.rcv.rcv_nxt == a.ack and queued.queued_bytes == 0 and queued.charged == 0
    assert a.option(Sack) is None
    data = conn.read(-1)
    assert len(data) == (a.ack - first) % 2**32 >= 8000
