"""The receiver's out-of-order queue: delivery exactly once, trimming, SACK blocks (RFC 2018)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.transport.tcp.reassembly import SEGMENT_OVERHEAD, Reassembly

TOP = 2**32


def payload(n: int, start: int = 0) -> bytes:
    return bytes((start + i) % 251 for i in range(n))


def test_in_order_fast_path() -> None:
    r = Reassembly(1000, 65535)
    data = b"hello"
    assert r.add(1000, data) is data  # handed on without a copy
    assert r.rcv_nxt == 1005
    assert r.queued_bytes == 0 and r.sack_blocks() == []


def test_hole_filled_delivers_everything_joined() -> None:
    r = Reassembly(0, 65535)
    d = payload(300)
    assert r.add(200, d[200:300]) == b""
    assert r.add(100, d[100:200]) == b""
    assert r.queued_bytes == 200
    assert r.sack_blocks() == [(100, 300)]  # adjacent segments merge into one block
    assert r.add(0, d[:100]) == d
    assert r.rcv_nxt == 300 and r.queued_bytes == 0 and r.sack_blocks() == []


def test_in_order_segment_not_reaching_the_queue() -> None:
    r = Reassembly(0, 65535)
    d = payload(300)
    r.add(200, d[200:])
    assert r.add(0, d[:100]) == d[:100]
    assert r.queued_bytes == 100 and r.sack_blocks() == [(200, 300)]
    assert r.add(100, d[100:200]) == d[100:]


def test_old_duplicates_and_partial_overlap_with_rcv_nxt() -> None:
    r = Reassembly(0, 65535)
    d = payload(200)
    r.add(0, d[:100])
    assert r.add(0, d[:100]) == b""  # wholly old
    assert r.add(50, d[50:150]) == d[100:150]  # the old part is trimmed
    assert r.rcv_nxt == 150


def test_overlaps_in_the_queue_are_stored_once() -> None:
    r = Reassembly(0, 65535)
    d = payload(1000)
    r.add(100, d[100:200])
    r.add(300, d[300:400])
    r.add(500, d[500:600])
    assert r.queued_bytes == 300
    r.add(150, d[150:550])  # bridges all three
    assert r.queued_bytes == 500
    assert r.sack_blocks() == [(100, 600)]
    r.add(100, d[100:600])  # a pure duplicate
    assert r.queued_bytes == 500
    assert r.add(0, d[:120]) == d[:600]


def test_window_trimming() -> None:
    r = Reassembly(0, 1000)
    d = payload(2000)
    assert r.add(1000, d[1000:1100]) == b""  # entirely beyond the window
    assert r.queued_bytes == 0
    r.add(900, d[900:1100])  # its tail is beyond the window
    assert r.queued_bytes == 100 and r.sack_blocks() == [(900, 1000)]
    assert r.add(0, d[:1500]) == d[:1000]
    assert r.rcv_nxt == 1000
    r.capacity = 0  # a closed window takes nothing
    assert r.add(1000, d[1000:1001]) == b""
    assert r.rcv_nxt == 1000


def test_wrap_around() -> None:
    start = TOP - 150
    r = Reassembly(start, 65535)
    d = payload(400)
    assert r.add((start + 200) % TOP, d[200:300]) == b""  # seq 50 .. 150
    assert r.add((start + 100) % TOP, d[100:150]) == b""  # seq TOP-50 .. 0
    assert r.sack_blocks() == [(TOP - 50, 0), (50, 150)]
    assert r.add(start, d[:100]) == d[:150]
    assert r.rcv_nxt == 0
    assert r.add(0, d[150:200]) == d[150:300]
    assert r.rcv_nxt == 150
    # A segment from before the wrap is an old duplicate, not data 4 GB ahead.
    assert r.add(TOP - 10, b"x" * 10) == b""


def test_sack_blocks_by_recency() -> None:
    r = Reassembly(0, 100_000)
    for left in (1000, 3000, 5000, 7000, 9000):
        r.add(left, payload(100))
    # RFC 2018 4: the block with the latest segment first, then the others, most recent first.
    assert r.sack_blocks() == [(9000, 9100), (7000, 7100), (5000, 5100), (3000, 3100)]
    r.add(3100, payload(100))  # extends the 3000 block: it becomes the first
    assert r.sack_blocks(limit=3) == [(3000, 3200), (9000, 9100), (7000, 7100)]
    assert r.sack_blocks(limit=0) == []
    assert len(r.sack_blocks(limit=10)) == 5


def test_discard_mode_is_go_back_n() -> None:
    r = Reassembly(0, 65535, discard=True)
    d = payload(300)
    assert r.add(100, d[100:200]) == b""
    assert r.add(200, d[200:300]) == b""
    assert r.discarded_out_of_order == 2
    assert r.queued_bytes == 0 and r.sack_blocks() == []
    assert r.add(0, d[:150]) == d[:150]
    assert r.add(100, d[100:300]) == d[150:300]  # overlaps rcv_nxt: trimmed and taken
    assert r.discarded_out_of_order == 2


def test_clear_and_rcv_nxt_moved_for_a_fin() -> None:
    r = Reassembly(0, 65535)
    r.add(100, payload(50))
    r.clear()
    assert r.queued_bytes == 0 and r.sack_blocks() == []
    assert r.add(0, payload(100)) == payload(100)  # nothing left to join
    r.add(102, b"ab")
    r.add(110, b"cd")
    r.rcv_nxt = 103  # e.g. a FIN at 100 would move it one; here three bytes: 100..102
    assert r.queued_bytes == 3
    assert r.sack_blocks() == [(110, 112), (103, 104)]
    assert r.add(103, b"b") == b"b"
    r.rcv_nxt = 200
    assert r.queued_bytes == 0 and r.sack_blocks() == []
    assert r.add(200, b"z") == b"z"


@st.composite
def segment_arrivals(draw):
    """A byte string cut into segments at random, then sent in a random order with duplicates
    and overlapping resegmented retransmissions."""
    total = draw(st.integers(1, 3000))
    cuts = sorted(set(draw(st.lists(st.integers(1, total - 1), max_size=30)) if total > 1 else []))
    bounds = [0, *cuts, total]
    segments = [(a, b) for a, b in zip(bounds, bounds[1:])]
    extra = draw(st.lists(st.tuples(st.integers(0, total - 1), st.integers(1, 600)), max_size=15))
    segments += [(a, min(a + n, total)) for a, n in extra]
    segments += draw(st.lists(st.sampled_from(segments), max_size=10))  # exact duplicates
    order = draw(st.permutations(segments))
    return total, order


@settings(max_examples=150, deadline=None)
@given(segment_arrivals(), st.integers(0, TOP - 1), st.booleans())
def test_every_byte_delivered_exactly_once(arrivals, isn: int, discard: bool) -> None:
    total, order = arrivals
    data = payload(total, start=isn)
    r = Reassembly(isn, 1 << 20, discard=discard)
    out = bytearray()
    for a, b in order:
        out += r.add((isn + a) % TOP, data[a:b])
        delivered = len(out)
        assert out == data[:delivered]
        assert r.rcv_nxt == (isn + delivered) % TOP
        check_sack_blocks(r, isn, delivered, data, order)
    if not discard:
        assert bytes(out) == data  # everything arrived at least once
    else:
        assert r.queued_bytes == 0


def check_sack_blocks(r: Reassembly, isn: int, delivered: int, data: bytes, order) -> None:
    """The blocks describe exactly the queued bytes: disjoint, not adjacent, all above rcv_nxt."""
    blocks = [((left - isn) % TOP, (right - isn) % TOP) for left, right in r.sack_blocks(limit=1000)]
    assert sum(b - a for a, b in blocks) == r.queued_bytes
    ranges = sorted(blocks)
    for (a1, b1), (a2, b2) in zip(ranges, ranges[1:]):
        assert b1 < a2  # disjoint and not adjacent
    for a, b in ranges:
        assert delivered < a < b


@settings(max_examples=100, deadline=None)
@given(segment_arrivals())
def test_queued_bytes_are_what_arrived_above_rcv_nxt(arrivals) -> None:
    total, order = arrivals
    data = payload(total)
    r = Reassembly(0, 1 << 20)
    received: set[int] = set()
    delivered = 0
    for a, b in order:
        delivered += len(r.add(a, data[a:b]))
        received.update(range(a, b))
        queued = {i for i in received if i >= delivered}
        covered = {i for left, right in r.sack_blocks(limit=1000) for i in range(left, right)}
        assert covered == queued


# -- memory: tiny segments with gaps (the out-of-order queue is bounded like Linux's) -----------------
def tiny_segments_with_gaps(r: Reassembly, count: int, window: int, seed: int = 7) -> int:
    """``count`` one-byte segments at odd offsets inside the window, in a random order (so that
    some land below what is queued and some above): none is ever in order. The largest charge
    seen is returned."""
    import random

    rng = random.Random(seed)
    worst = 0
    for _ in range(count):
        off = 1 + 2 * rng.randrange(window // 2 - 1)
        assert r.add(r.rcv_nxt + off, b"x") == b""
        worst = max(worst, r.charged)
    return worst


def test_tiny_segment_attack_is_bounded_in_memory() -> None:
    # 1,000 one-byte segments with gaps once held 1,000 blocks; 30,000 took about a minute of CPU,
    # each ACK sorting every block. Now each is charged its truesize and the queue is pruned.
    for count in (1000, 30_000):
        r = Reassembly(0, 8192)
        worst = tiny_segments_with_gaps(r, count, 8192)
        assert len(r.sack_blocks(limit=10**6)) <= 2 * 8192 // (1 + SEGMENT_OVERHEAD)
        assert worst <= 2 * 8192  # the window and as much again for overhead
        assert r.prunes > 0 and r.ofo_drops > 0
        assert len(r.sack_blocks()) == 4


def test_pruning_drops_from_the_far_end_and_counts() -> None:
    r = Reassembly(0, 8192)
    seen: list[tuple[str, int, int]] = []
    r.on_drop = lambda reason, segments, nbytes: seen.append((reason, segments, nbytes))
    budget = 2 * 8192
    fits = budget // (1 + SEGMENT_OVERHEAD)  # 28 one-byte segments
    for k in range(fits):
        r.add(4000 + 2 * k, b"x")  # ascending: 4000, 4002, ...
    assert r.charged == fits * (1 + SEGMENT_OVERHEAD) and not seen
    # One more above all of them: nothing above it to prune, so it is refused (TCPOFODrop).
    assert r.add(5000, b"y") == b"" and seen == [("ofo-drop", 1, 1)] and r.ofo_drops == 1
    assert r.sack_blocks(limit=1)[0] == (4000 + 2 * (fits - 1), 4000 + 2 * (fits - 1) + 1)
    # One below them: the highest ones go (tcp_prune_ofo_queue), at least an eighth of the budget.
    assert r.add(10, b"z") == b""
    reason, segments, nbytes = seen[-1]
    assert reason == "ofo-prune" and segments == nbytes == budget // 8 // (1 + SEGMENT_OVERHEAD) + 1
    assert r.prunes == 1 and r.pruned_segments == segments
    assert max(right for _, right in r.sack_blocks(limit=100)) == 4000 + 2 * (fits - 1 - segments) + 1
    # RFC 2018 4: the block of the segment just received comes first.
    assert r.sack_blocks()[0] == (10, 11)
    # Everything kept is still delivered, exactly, once the holes are filled.
    data = bytearray(b"a" * 5000)
    data[10] = ord("z")
    for k in range(fits - segments):
        data[4000 + 2 * k] = ord("x")
    out = r.add(0, bytes(data[:4000 + 2 * (fits - segments)]))
    assert out == bytes(data[:4000 + 2 * (fits - segments)])
    assert r.queued_bytes == 0 and r.charged == 0


def test_adjacent_tiny_segments_are_coalesced() -> None:
    # tcp_ooo_try_coalesce: 1,000 one-byte segments in a row above a hole are one block and share
    # the overhead of a few chunks instead of costing a segment's overhead each.
    r = Reassembly(0, 8192)
    for k in range(1000):
        r.add(100 + k, bytes([k % 251]))
    assert r.queued_bytes == 1000 and r.prunes == 0 and r.ofo_drops == 0
    assert r.charged <= 1000 + SEGMENT_OVERHEAD
    assert r.sack_blocks() == [(100, 1100)]
    assert r.add(0, bytes(100)) == bytes(100) + bytes(k % 251 for k in range(1000))
    # Full-sized segments are never copied to be joined: one chunk each.
    r = Reassembly(0, 65535)
    for k in range(10):
        r.add(1460 * (k + 1), bytes(1460))
    assert r.charged == 10 * (1460 + SEGMENT_OVERHEAD)


def test_a_full_window_of_full_sized_segments_is_never_pruned() -> None:
    # A sender that keeps to the window we offer never loses queued data, whatever the MSS.
    for mss in (536, 1460):
        r = Reassembly(0, 131072)
        lefts = range(mss, 131072 - mss + 1, mss)
        for left in lefts:
            r.add(left, bytes(mss))
        assert r.prunes == 0 and r.ofo_drops == 0
        assert r.add(0, bytes(mss)) == bytes(lefts[-1] + mss)
