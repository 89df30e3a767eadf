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
