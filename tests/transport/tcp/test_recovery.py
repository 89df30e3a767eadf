"""Loss recovery's two implementations behind one interface."""

from tcpcontext import ISS, ack, established


def test_newreno_needs_three_duplicates():
    conn, ctx, _ = established(peer_mss=1000, sack=False)
    conn.write(b"d" * 6000)
    ctx.take()
    rec = conn.snd.recovery
    conn.segment_arrives(ack(0))
    conn.segment_arrives(ack(0))
    assert not rec.in_recovery and rec.dupacks == 2 and not rec.lost(conn.snd_una)
    conn.segment_arrives(ack(0))
    assert rec.in_recovery and rec.recover == ISS + 1 + 6000


def test_sack_declares_a_loss_from_the_scoreboard_before_three_duplicates():
    conn, ctx, _ = established(peer_mss=1000, recovery="rfc6675")
    conn.write(b"d" * 6000)
    ctx.take()
    # One duplicate ACK that SACKs three segments above the first: lost (RFC 6675 IsLost).
    conn.segment_arrives(ack(0, blocks=((1000, 4000),)))
    rec = conn.snd.recovery
    assert rec.dupacks == 1 and rec.in_recovery
    assert [s.seq for s in ctx.take()] == [ISS + 1]


def test_prr_paces_the_retransmissions_by_what_was_delivered():
    conn, ctx, _ = established(peer_mss=1000, recovery="rfc6675")
    conn.write(b"d" * 10000)
    ctx.take()
    # Segments 1 and 3 lost; 2, 4, 5, 6 SACKed.
    conn.segment_arrives(ack(0, blocks=((1000, 2000), (3000, 6000))))
    assert [s.seq for s in ctx.take()] == [ISS + 1]  # the fast retransmit; PRR's budget is spent
    rec = conn.snd.recovery
    assert rec.prr_out == 1000 and rec.prr_budget == 0
    conn.segment_arrives(ack(0, blocks=((1000, 2000), (3000, 7000))))
    assert [s.seq for s in ctx.take()] == [ISS + 1 + 2000]  # the next hole, once something arrived


def test_a_timeout_ends_recovery_and_moves_the_recovery_point():
    conn, ctx, _ = established(peer_mss=1000, sack=False)
    conn.write(b"d" * 5000)
    ctx.take()
    for _ in range(3):
        conn.segment_arrives(ack(0))
    rec = conn.snd.recovery
    assert rec.in_recovery
    ctx.clock.advance(conn.rtt.rto)
    assert not rec.in_recovery and rec.dupacks == 0 and rec.recover == conn.snd.snd_max


def newreno_in_recovery():
    conn, ctx, _ = established(peer_mss=1000, sack=False)
    conn.write(b"d" * 10000)
    ctx.take()
    conn.write(b"d" * 500000)  # more waiting, for the inflated window to send
    for _ in range(3):
        conn.segment_arrives(ack(0))
    assert conn.snd.recovery.in_recovery
    return conn, ctx, conn.snd.recovery


def test_newreno_inflates_cwnd_for_no_more_duplicates_than_segments_outstanding():
    # A duplicate ACK stands for a segment that left; 10 were out, one is lost: at most 9
    # (Linux's tcp_limit_reno_sacked), however many duplicates a receiver sends.
    conn, ctx, rec = newreno_in_recovery()
    ssthresh = conn.cc.ssthresh
    for _ in range(1000):
        conn.segment_arrives(ack(0))
    assert conn.cc.cwnd == ssthresh + 9 * 1000
    assert len([s for s in ctx.take() if s.payload]) == 1 + ssthresh // 1000 - 1  # and new data


def test_a_timeout_in_newreno_recovery_keeps_its_ssthresh():
    # Linux's tcp_enter_loss lowers ssthresh once per episode: not again from a flight that the
    # inflated window has pushed beyond what the path holds.
    conn, ctx, rec = newreno_in_recovery()
    ssthresh = conn.cc.ssthresh
    for _ in range(6):
        conn.segment_arrives(ack(0))
    assert conn.snd.in_flight() == ssthresh + 9000 > 10000
    ctx.clock.advance(conn.rtt.rto)
    assert conn.stats["timeouts"] == 1 and conn.cc.ssthresh == ssthresh and conn.cc.cwnd == 1000


# -- RACK-TLP (RFC 8985), the default with SACK -------------------------------------------------------
from minternet.transport.tcp.rack import LOSS, LOST, OPEN, RECOVERY, RTX_OUT, SACKED  # noqa: E402
from minternet.transport.tcp.sender import PTO, REO, RTO  # noqa: E402


def check_counters(rec) -> None:
    """The RACK log's byte counters agree with its records."""
    segs = rec.segs
    assert all(a.end == b.start for a, b in zip(segs, segs[1:]))
    ln = lambda r: r.end - r.start  # noqa: E731
    assert rec.sacked_bytes == sum(ln(r) for r in segs if r.flags & SACKED)
    assert rec.lost_bytes == sum(ln(r) for r in segs if r.flags & LOST)
    assert rec.rtx_out == sum(ln(r) for r in segs if r.flags & RTX_OUT)
    assert rec.to_resend == sum(ln(r) for r in segs if r.flags & (LOST | RTX_OUT) == LOST)


def sent_offsets(ctx) -> list[int]:
    return [s.seq - ISS - 1 for s in ctx.take() if s.payload]


def rack_conn(n: int = 6000):
    conn, ctx, _ = established(peer_mss=1000)
    conn.write(b"d" * n)
    assert len(ctx.take()) == n // 1000
    return conn, ctx, conn.snd.recovery


def test_rack_waits_a_reordering_window_then_its_timer_marks_the_loss():
    conn, ctx, rec = rack_conn()
    # A first sample, so that min_rtt is known (50 ms: the handshake).
    assert conn.rtt.min_rtt == 50_000_000
    ctx.clock.advance_ms(50)
    # Segment 0 is missing, 1 arrived: sent before the SACKed one, but it may be reordering.
    conn.segment_arrives(ack(0, blocks=((1000, 2000),)))
    check_counters(rec)
    assert rec.state == OPEN and not sent_offsets(ctx)
    assert conn.snd.timer_kind == REO  # RACK's timer: RACK.rtt + min_rtt/4 after the send
    reo_wnd = rec.reo_wnd()
    assert reo_wnd == 50_000_000 // 4
    ctx.clock.advance(reo_wnd - 1_000_000)
    assert not sent_offsets(ctx)
    ctx.clock.advance(4_000_000)  # + TCP_TIMEOUT_MIN
    assert sent_offsets(ctx) == [0]  # marked lost by time, not by three duplicates
    assert rec.state == RECOVERY and conn.stats["fast_retransmits"] == 1 and conn.stats["timeouts"] == 0
    check_counters(rec)


def test_rack_with_three_segments_sacked_and_no_reordering_seen_marks_at_once():
    conn, ctx, rec = rack_conn()
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(0, blocks=((1000, 4000),)))
    assert rec.reo_wnd() == 0 and rec.state == RECOVERY
    assert sent_offsets(ctx) == [0]
    check_counters(rec)


def test_a_lost_retransmission_is_found_by_rack_without_a_timeout():
    conn, ctx, rec = rack_conn()
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(0, blocks=((1000, 4000),)))
    assert sent_offsets(ctx) == [0]  # the fast retransmit, which will be lost too
    ctx.clock.advance_ms(10)
    conn.segment_arrives(ack(0, blocks=((1000, 5000),)))  # segment 4 (sent before the retransmission)
    ctx.clock.advance_ms(10)
    conn.write(b"d" * 1000)
    out = sent_offsets(ctx)
    assert 0 not in out  # segment 4 was sent before the retransmission: no verdict on it yet
    ctx.clock.advance_ms(60)
    # A segment sent after the retransmission is SACKed, and the retransmission is older than
    # RACK.rtt: it was lost again.
    conn.segment_arrives(ack(0, blocks=((1000, 6000),) if 5000 not in out else ((1000, 6000),)))
    conn.segment_arrives(ack(0, blocks=((1000, 7000),)))
    assert 0 in sent_offsets(ctx)
    assert conn.stats["timeouts"] == 0 and ctx.obs.stats["tcp.lost_retransmits"] == 1
    check_counters(rec)
    conn.segment_arrives(ack(7000))
    assert rec.state == OPEN and rec.segs == []
    check_counters(rec)


def test_a_tail_loss_probe_goes_two_srtt_after_the_last_segment_and_is_the_last_segment():
    conn, ctx, rec = rack_conn(3000)
    srtt = conn.rtt.srtt
    assert conn.snd.timer_kind == PTO
    ctx.clock.advance(2 * srtt + 2_000_000 - 1)
    assert not ctx.take()
    ctx.clock.advance(1)
    (probe,) = ctx.take()
    assert probe.seq == ISS + 1 + 2000 and len(probe.payload) == 1000  # the last segment again
    assert conn.stats["loss_probes"] == 1 and conn.stats["timeouts"] == 0
    assert conn.snd.timer_kind == RTO  # one probe per tail; the RTO is next
    # Its ACK, a round trip later, SACKs the probe: RACK finds the first two lost, no RTO.
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(0, blocks=((2000, 3000),)))
    ctx.clock.advance_ms(30)
    assert sent_offsets(ctx) == [0, 1000]
    assert conn.stats["timeouts"] == 0


def test_a_lone_segment_waits_for_a_delayed_ack_before_the_probe():
    conn, ctx, rec = rack_conn(1000)
    assert rec.probe_timeout(False) == min(2 * conn.rtt.srtt + 200_000_000, rec.rto_left())


def test_a_probe_resends_at_most_one_segment_of_a_longer_record():
    # A super-segment of 1001 bytes (TSO): the probe is its last MSS, not all 1001 bytes.
    conn, ctx, _ = established(peer_mss=1000, tso_max=16000)
    conn.write(b"d" * 1001)
    assert [len(s.payload) for s in ctx.take()] == [1001]
    for _ in range(100):
        ctx.clock.advance_ms(10)
        if conn.stats["loss_probes"]:
            break
    probe, = ctx.take()
    assert (probe.seq - ISS - 1, len(probe.payload)) == (1, 1000)


def until_timeout(conn, ctx) -> None:
    for _ in range(300):  # the probe first, then the RTO
        ctx.clock.advance_ms(5)
        if conn.stats["timeouts"]:
            return
    raise AssertionError("no timeout")


def test_a_spurious_timeout_is_undone_by_frto():
    conn, ctx, rec = rack_conn(10000)  # the initial window
    cwnd = conn.cc.cwnd
    conn.write(b"d" * 4000)  # more to send after the timeout: F-RTO's new data
    until_timeout(conn, ctx)  # the ACKs are only late
    assert conn.stats["loss_probes"] == 1 and rec.state == LOSS and rec.frto
    assert conn.cc.cwnd < cwnd
    ctx.take()
    # The first ACK after the RTO acknowledges the retransmitted segment 0: F-RTO sends new data...
    conn.segment_arrives(ack(1000))
    out = sent_offsets(ctx)
    assert out and min(out) >= 10000 and rec.frto_new
    # ...and the next ACK acknowledges data never retransmitted: the timeout was spurious.
    conn.segment_arrives(ack(3000))
    assert rec.state == OPEN and conn.cc.cwnd >= cwnd
    assert ctx.obs.stats["tcp.spurious_rtos"] == 1 and ctx.obs.stats["tcp.undos"] == 1
    check_counters(rec)


def test_a_real_loss_after_a_timeout_is_not_undone():
    conn, ctx, rec = rack_conn(10000)
    cwnd = conn.cc.cwnd
    conn.write(b"d" * 4000)
    until_timeout(conn, ctx)
    ctx.take()
    conn.segment_arrives(ack(1000))  # the retransmission of 0 arrived; F-RTO sends new data
    new = sent_offsets(ctx)
    # The new data is SACKed, 1000.. still missing: the loss was real (RFC 5682 3.1 step 3.a).
    conn.segment_arrives(ack(1000, blocks=((new[0], new[0] + 1000),)))
    assert not rec.frto and rec.state == LOSS and conn.cc.cwnd < cwnd
    assert ctx.obs.stats["tcp.undos"] == 0
    check_counters(rec)


def test_after_frto_finds_the_loss_real_the_lost_data_goes_without_a_second_timeout():
    # RFC 5682 3.1 step 2.b (send new data) holds for one ACK, Linux's REXMIT_NEW of
    # tcp_process_loss; from the next ACK on the segments marked lost are retransmitted.
    conn, ctx, rec = rack_conn(10000)
    conn.write(b"d" * 20000)
    until_timeout(conn, ctx)
    assert rec.state == LOSS and rec.frto and sent_offsets(ctx)[-1] == 0
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(1000))  # step 2.b: new data goes out
    new = [o for o in sent_offsets(ctx) if o >= 10000]
    assert new and rec.frto_new
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(1000, blocks=((new[0], new[0] + 1000),)))  # step 3.a
    assert not rec.frto and not rec.frto_new and rec.state == LOSS
    assert 1000 in sent_offsets(ctx)
    assert conn.stats["timeouts"] == 1
    check_counters(rec)


def test_a_dsack_widens_the_reordering_window_once_per_round_trip():
    conn, ctx, rec = rack_conn()
    ctx.clock.advance_ms(50)
    assert rec.reo_wnd_steps == 1
    conn.segment_arrives(ack(0, blocks=((1000, 2000), (3000, 6000))))
    assert rec.state == RECOVERY and sent_offsets(ctx) == [0, 2000]
    cwnd = conn.cc.cwnd
    # The originals were only late: D-SACKs (RFC 2883) for both retransmissions, one below the
    # cumulative ACK (its record is gone: counted in segments), one above the prior snd_una.
    conn.segment_arrives(ack(2000, blocks=((0, 1000), (3000, 6000))))
    assert rec.reo_wnd_steps == 2 and rec.state == RECOVERY and rec.undo_retrans == 1
    conn.segment_arrives(ack(6000, blocks=((2000, 3000),)))
    assert rec.reo_wnd_steps == 2  # the second one is in the same round trip
    assert ctx.obs.stats["tcp.dsacks_received"] == 2
    assert rec.state == OPEN and ctx.obs.stats["tcp.undos"] == 1 and conn.cc.cwnd > cwnd


def test_a_dsack_of_data_never_retransmitted_is_no_reason_to_undo():
    # The network duplicated an original segment (RFC 2883 4.1.1: a D-SACK inside the SACK
    # block): only D-SACKed retransmissions count towards undo (Linux's tcp_sacktag_one).
    conn, ctx, rec = rack_conn(10000)
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(0, blocks=((1000, 4000),)))
    assert rec.state == RECOVERY and rec.undo_retrans == 1
    reduced = conn.cc.cwnd
    conn.segment_arrives(ack(0, blocks=((2000, 3000), (1000, 4000))))
    assert ctx.obs.stats["tcp.dsacks_received"] == 1
    assert rec.state == RECOVERY and rec.undo_retrans == 1 and conn.cc.cwnd <= reduced


def test_a_dsack_longer_than_the_window_or_than_what_was_resent_is_ignored():
    conn, ctx, rec = rack_conn(10000)
    ctx.clock.advance_ms(50)
    for _ in range(2):  # holes at 0, 2000 and 4000: three retransmissions
        conn.segment_arrives(ack(0, blocks=((1000, 2000), (3000, 4000), (5000, 10000))))
        ctx.clock.advance_ms(1)
    assert rec.state == RECOVERY and rec.undo_retrans == 3
    # A forged D-SACK of 1 GB (Linux's tcp_dsack_seen: longer than max_window, dubious).
    conn.segment_arrives(ack(2000, blocks=((2000 - 10**9, 2000), (3000, 4000), (5000, 10000))))
    assert rec.state == RECOVERY and rec.undo_retrans == 3 and rec.reo_wnd_steps == 1
    # Four segments D-SACKed when three were retransmitted: dubious too.
    conn.segment_arrives(ack(2000, blocks=((2000 - 4000, 2000), (3000, 4000), (5000, 10000))))
    assert rec.state == RECOVERY and rec.undo_retrans == 3
    assert ctx.obs.stats["tcp.dsacks_dubious"] == 2
    check_counters(rec)


def sacked(rec) -> list[tuple[int, int]]:
    """The SACKed records, as offsets in the data (position 1 is the first byte)."""
    return [(r.start - 1, r.end - 1) for r in rec.segs if r.flags & SACKED]


def test_sack_blocks_cut_at_odd_bytes_do_not_split_the_log_below_whole_segments():
    # A receiver's one-byte SACK blocks would otherwise make one record per byte (memory, and a
    # walk of them per ACK). Linux's tcp_match_skb_to_sack takes whole segments only.
    conn, ctx, rec = rack_conn(10000)
    ctx.clock.advance_ms(50)
    offs = list(range(1001, 10000, 2))
    for i in range(0, len(offs), 4):
        conn.segment_arrives(ack(0, blocks=tuple((o, o + 1) for o in offs[i:i + 4])))
    assert len(rec.segs) == 10 and rec.sacked_bytes == 0
    # A block that grows over a whole segment takes it, though the last ACK stopped inside it.
    conn.segment_arrives(ack(0, blocks=((1000, 1500),)))
    assert rec.sacked_bytes == 0
    conn.segment_arrives(ack(0, blocks=((1000, 2500),)))
    assert sacked(rec) == [(1000, 2000)]
    # A block reaching the end of the data takes its last segment, whatever the edges.
    conn.segment_arrives(ack(0, blocks=((1000, 2500), (8999, 10000))))
    assert sacked(rec) == [(1000, 2000), (9000, 10000)]
    assert len(rec.segs) == 10
    check_counters(rec)


def test_a_super_segment_is_split_by_sack_blocks_at_whole_segments_only():
    conn, ctx, _ = established(peer_mss=1000, tso_max=16000)
    rec = conn.snd.recovery
    conn.write(b"d" * 10000)
    assert len(ctx.take()) == 1 and len(rec.segs) == 1  # one TSO super-segment
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(0, blocks=((2500, 7300),)))
    assert sacked(rec) == [(3000, 7000)]  # 2500 rounded up, 7300 down, to whole segments
    offs = list(range(7001, 10000, 7))
    for i in range(0, len(offs), 4):
        conn.segment_arrives(ack(0, blocks=((3000, 7000),) + tuple((o, o + 1) for o in offs[i:i + 3])))
    assert len(rec.segs) <= 10
    check_counters(rec)


def test_recovery_with_rack_keeps_prr_pacing():
    conn, ctx, rec = rack_conn(10000)
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(0, blocks=((1000, 2000), (3000, 6000))))
    assert rec.state == RECOVERY
    # pipe (4000: 10000 sent, 4000 SACKed, 2000 lost) is below ssthresh (7000): PRR's slow start
    # part lets both holes go, no more (RFC 6937 PRR-SSRB: delivered + 1 MSS).
    assert sent_offsets(ctx) == [0, 2000]
    assert rec.prr_out == 2000 and rec.prr_budget == 3000 - 2000
    conn.segment_arrives(ack(0, blocks=((1000, 2000), (3000, 7000))))
    assert sent_offsets(ctx) == []  # PRR would allow more, but everything written is out
    check_counters(rec)


def test_without_sack_blocks_rack_falls_back_to_three_duplicates_and_partial_acks():
    """A SACK-permitted peer that sends no SACK blocks (it keeps nothing out of order): RACK has
    nothing to go on, so DupThresh (RFC 5681 3.2) and NewReno's partial ACKs (RFC 6582) apply."""
    conn, ctx, rec = rack_conn(6000)
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(0))
    conn.segment_arrives(ack(0))
    assert rec.state == OPEN and not sent_offsets(ctx)
    conn.segment_arrives(ack(0))
    assert rec.state == RECOVERY and sent_offsets(ctx) == [0]
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(2000))  # a partial ACK: the next hole is at 2000
    assert 2000 in sent_offsets(ctx)
    assert conn.stats["timeouts"] == 0
    check_counters(rec)


def test_a_reneged_sack_is_retransmitted_after_half_an_srtt_not_an_rto():
    # RFC 2018 8: the receiver may drop data it SACKed (ours does, pruning its out-of-order
    # queue). Linux's tcp_check_sack_reneging: when the cumulative ACK stops at a SACKed segment,
    # the RTO is re-armed at max(srtt/2, 10 ms) and then forgets the SACKs; not a whole RTO idle.
    conn, ctx, _ = established()
    conn.write(b"x" * 14600)
    ctx.take()  # ten segments; srtt 50 ms from the handshake
    ctx.clock.advance_ms(50)
    for i in range(3):  # segment 0 lost, the others SACKed: fast retransmit of segment 0
        conn.segment_arrives(ack(0, blocks=((1460, 1460 * (3 + i)),)))
    assert [(s.seq - ISS - 1) for s in ctx.take()] == [0]
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(1460))  # the receiver reneged: [1460, 7300) is no longer SACKed
    ctx.take()
    waited = None
    for ms in range(1, 1000):
        ctx.clock.advance_ms(1)
        if any(s.seq == ISS + 1 + 1460 and s.payload for s in ctx.take()):
            waited = ms
            break
    assert waited is not None and waited <= 30, f"the reneged head went again after {waited} ms"
    assert conn.obs.stats["tcp.sack_reneging"] == 1
