"""The SACK scoreboard (RFC 6675): hand-built loss scenarios, then a per-byte reference model."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from minternet.transport.tcp.scoreboard import Scoreboard

MSS = 1000
TOP = 2**32


def test_one_loss() -> None:
    sb = Scoreboard(MSS)  # ten segments 0..9 in flight, segment 0 lost
    assert sb.update(0, 10_000, [(1000, 2000)]) == 1000
    assert not sb.is_lost(0)
    assert sb.update(0, 10_000, [(1000, 3000)]) == 1000  # 2 segments, 2*MSS bytes: not yet
    assert not sb.is_lost(0)
    assert sb.update(0, 10_000, [(1000, 4000)]) == 1000
    assert sb.is_lost(0) and sb.is_lost(999)
    assert not sb.is_lost(1500)  # SACKed
    assert not sb.is_lost(4000)  # nothing SACKed above it
    assert sb.sacked_bytes == 3000 and sb.highest_sacked == 4000
    assert sb.ranges() == [(1000, 4000)]
    # SetPipe: [4000, 10000) is in flight, [0, 1000) is lost.
    assert sb.pipe(0, 10_000, 0) == 6000
    assert sb.next_seg(0, 10_000, 0) == (0, 1000)
    # Once it is retransmitted it counts again, and there is nothing more to repair.
    assert sb.pipe(0, 10_000, 1000) == 7000
    assert sb.pipe(0, 10_000, [(0, 1000)]) == 7000
    assert sb.next_seg(0, 10_000, 1000) is None
    # The retransmission arrives: the cumulative ACK jumps over the SACKed data.
    assert sb.update(4000, 10_000, []) == 0
    assert sb.sacked_bytes == 0 and sb.highest_sacked is None and sb.ranges() == []
    assert sb.pipe(4000, 10_000, 4000) == 6000


def test_several_losses() -> None:
    sb = Scoreboard(MSS)  # segments 0, 2 and 5 lost
    assert sb.update(0, 10_000, [(6000, 10_000), (3000, 5000), (1000, 2000)]) == 7000
    assert [sb.is_lost(s) for s in (0, 2000, 5000)] == [True, True, True]
    assert sb.pipe(0, 10_000, 0) == 0  # everything not SACKed is lost
    assert sb.next_seg(0, 10_000, 0) == (0, 1000)
    assert sb.next_seg(0, 10_000, 1000) == (2000, 3000)
    assert sb.next_seg(0, 10_000, 2500) == (2500, 3000)  # the rest of a partly resent hole
    assert sb.next_seg(0, 10_000, 3000) == (5000, 6000)
    assert sb.next_seg(0, 10_000, 6000) is None
    assert sb.pipe(0, 10_000, 3000) == 2000  # two retransmissions in flight
    assert sb.pipe(0, 10_000, [(0, 1000), (5000, 6000)]) == 2000


def test_holes_near_the_top_are_not_lost_yet() -> None:
    sb = Scoreboard(MSS)
    sb.update(0, 10_000, [(1000, 2000), (3000, 5000), (6000, 7000)])
    # Above 5000: one segment SACKed; above 2000: three.
    assert not sb.is_lost(5000)
    assert sb.is_lost(2000) and sb.is_lost(0)
    assert sb.next_seg(0, 10_000, 3000) is None
    # Not lost: [5000, 6000) and [7000, 10000).
    assert sb.pipe(0, 10_000, 0) == 4000


def test_small_segments_count_as_segments() -> None:
    sb = Scoreboard(MSS)
    # Three discontiguous SACKed segments of 100 bytes: DupThresh segments, only 300 bytes.
    sb.update(0, 4000, [(1000, 1100), (2000, 2100), (3000, 3100)])
    assert sb.is_lost(0)
    assert not sb.is_lost(1500)  # only two above
    bytes_rule = Scoreboard(MSS)
    bytes_rule.update(0, 4000, [(1000, 3000)])  # 2 * MSS bytes: not more than (3 - 1) * MSS
    assert not bytes_rule.is_lost(0)
    bytes_rule.update(0, 4000, [(1000, 3001)])
    assert bytes_rule.is_lost(0)
    dup2 = Scoreboard(MSS, dupthresh=2)
    dup2.update(0, 4000, [(1000, 1100), (2000, 2100)])
    assert dup2.is_lost(0) and not dup2.is_lost(1500)


def test_adjacent_ranges_merge() -> None:
    sb = Scoreboard(MSS)
    sb.update(0, 10_000, [(2000, 3000)])
    assert sb.update(0, 10_000, [(3000, 4000)]) == 1000
    assert sb.update(0, 10_000, [(1000, 2000)]) == 1000
    assert sb.ranges() == [(1000, 4000)]
    sb.update(0, 10_000, [(5000, 6000), (4000, 5000)])
    assert sb.ranges() == [(1000, 6000)]
    assert sb.sacked_bytes == 5000


def test_blocks_are_clipped_and_bad_ones_ignored() -> None:
    sb = Scoreboard(MSS)
    assert sb.update(5000, 10_000, [(1000, 2000)]) == 0  # below snd_una: a D-SACK (RFC 2883)
    assert sb.update(5000, 10_000, [(4000, 6000)]) == 1000  # clipped to snd_una
    assert sb.update(5000, 10_000, [(9000, 12_000)]) == 1000  # clipped to snd_nxt
    assert sb.update(5000, 10_000, [(8000, 7000), (7000, 7000)]) == 0  # malformed, empty
    assert sb.update(5000, 10_000, [(6500, 8500), (7000, 9500)]) == 2500  # overlapping blocks
    assert sb.ranges() == [(5000, 6000), (6500, 10_000)]
    assert sb.sacked_bytes == 4500


def test_cumulative_ack_inside_a_sacked_range() -> None:
    sb = Scoreboard(MSS)
    sb.update(0, 10_000, [(1000, 3000), (4000, 5000)])
    sb.update(2000, 10_000, [])
    assert sb.ranges() == [(2000, 3000), (4000, 5000)]
    assert sb.sacked_bytes == 2000
    assert not sb.is_lost(1500)  # acknowledged, not lost
    assert sb.is_sacked(2500) and not sb.is_sacked(3500)


def test_an_older_snd_una_counts_from_the_last_update() -> None:
    # The connection may ask for pipe between the update and moving its own snd_una.
    sb = Scoreboard(MSS)
    sb.update(0, 10_000, [(3000, 4000)])
    sb.update(2000, 10_000, [(3000, 4000)])
    assert sb.pipe(0, 10_000, 0) == sb.pipe(2000, 10_000, 2000) == 7000
    sb.update(5000, 10_000, [])
    assert sb.pipe(2000, 10_000, 2000) == 5000
    sb.update(5000, 10_000, [(6000, 9000)])
    assert sb.next_seg(0, 10_000, 0) == (5000, 6000)
    assert sb.pipe(0, 10_000, 0) == 1000  # [9000, 10000); [5000, 6000) is lost


def test_wrap_around() -> None:
    una = TOP - 3000  # segments at -3000, -2000, -1000, 0, 1000, ...
    sb = Scoreboard(MSS)
    assert sb.update(una, 7000, [(TOP - 2000, 1000)]) == 3000
    assert sb.ranges() == [(TOP - 2000, 1000)]
    assert sb.highest_sacked == 1000
    assert sb.is_lost(una) and not sb.is_lost(0) and not sb.is_lost(1000)
    assert sb.next_seg(una, 7000, una) == (una, TOP - 2000)
    assert sb.pipe(una, 7000, una) == 6000
    assert sb.pipe(una, 7000, TOP - 2000) == 7000
    assert sb.update(2000, 7000, [(3000, 4000)]) == 1000
    assert sb.ranges() == [(3000, 4000)]
    assert sb.sacked_bytes == 1000


def test_reset() -> None:
    sb = Scoreboard(MSS)
    sb.update(0, 10_000, [(1000, 4000)])
    sb.reset()
    assert sb.sacked_bytes == 0 and sb.ranges() == [] and sb.highest_sacked is None
    assert not sb.is_lost(0) and sb.next_seg(0, 10_000, 0) is None
    assert sb.pipe(0, 10_000, 0) == 10_000
    assert sb.update(TOP - 100, 500, [(0, 100)]) == 100  # a fresh origin after the reset
    assert sb.ranges() == [(0, 100)]


# -- a per-byte reference model of RFC 6675 4 --------------------------------------------------

SMALL_MSS = 100


def ref_lost(sacked: set[int], una: int, nxt: int, dupthresh: int = 3) -> set[int]:
    """IsLost for every octet, from the definition: walking down from snd_nxt, count the SACKed
    octets above and the segments they must be made of (ceil(run / MSS) for each run)."""
    lost = set()
    above = segments = run = 0
    for p in range(nxt - 1, una - 1, -1):
        if p in sacked:
            above += 1
            run += 1
            continue
        segments += -(-run // SMALL_MSS)
        run = 0
        if segments >= dupthresh or above > (dupthresh - 1) * SMALL_MSS:
            lost.add(p)
    return lost


acks = st.lists(
    st.tuples(st.integers(0, 300),  # snd_una advance
              st.integers(0, 400),  # snd_nxt advance
              st.lists(st.one_of(
                  # on a coarse grid, so that blocks often touch and overlap exactly
                  st.tuples(st.integers(-4, 50).map(lambda x: x * 50), st.integers(-1, 12).map(lambda x: x * 50)),
                  st.tuples(st.integers(-200, 2500), st.integers(-50, 600))), max_size=4)),
    min_size=1, max_size=12)


@settings(max_examples=120, deadline=None)
@given(st.integers(0, TOP - 1), acks, st.integers(0, 400))
def test_against_a_per_byte_model(isn: int, ack_list, rxt: int) -> None:
    sb = Scoreboard(SMALL_MSS)
    sacked: set[int] = set()
    una, nxt = 0, 2000
    for una_step, nxt_step, blocks in ack_list:
        nxt += nxt_step
        una = min(una + una_step, nxt)
        wire = [((isn + left) % TOP, (isn + left + length) % TOP) for left, length in blocks]
        sacked = {i for i in sacked if i >= una}
        kept = len(sacked)
        for left, length in blocks:
            sacked.update(range(max(left, una), min(left + length, nxt)))
        assert sb.update((isn + una) % TOP, (isn + nxt) % TOP, wire) == len(sacked) - kept
        # The intervals: sorted, merged (never touching), inside [snd_una, snd_nxt), and
        # exactly the SACKed bytes.
        ranges = [((l - isn) % TOP, (r - isn) % TOP) for l, r in sb.ranges()]
        for l, r in ranges:
            assert una <= l < r <= nxt
        for (_, r1), (l2, _) in zip(ranges, ranges[1:]):
            assert r1 < l2
        assert {i for l, r in ranges for i in range(l, r)} == sacked
        assert sb.sacked_bytes == len(sacked)
        assert sb.highest_sacked == ((isn + max(sacked) + 1) % TOP if sacked else None)
        lost = ref_lost(sacked, una, nxt)
        for p in range(una - 5, nxt + 5, 7):
            assert sb.is_lost((isn + p) % TOP) == (p in lost)
            assert sb.is_sacked((isn + p) % TOP) == (p in sacked)
        high_rxt = min(una + rxt, nxt)
        # SetPipe per octet: not lost counts once, retransmitted (below high_rxt) once more.
        pipe = sum((p not in lost) + (p < high_rxt) for p in range(una, nxt) if p not in sacked)
        assert sb.pipe((isn + una) % TOP, (isn + nxt) % TOP, (isn + high_rxt) % TOP) == pipe
        # NextSeg rule 1: the first lost octet at or above high_rxt, up to one MSS of the hole.
        first = next((p for p in range(high_rxt, nxt) if p in lost), None)
        got = sb.next_seg((isn + una) % TOP, (isn + nxt) % TOP, (isn + high_rxt) % TOP)
        if first is None:
            assert got is None
        else:
            end = first
            while end < nxt and end not in sacked and end - first < SMALL_MSS:
                end += 1
            assert got == ((isn + first) % TOP, (isn + end) % TOP)
