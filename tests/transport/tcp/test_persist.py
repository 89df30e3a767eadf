"""The persist and retransmission timers against a closed window, and orphans' limits, with a
fake context (tests/tcpcontext.py): Linux's tcp_probe_timer, tcp_retransmit_timer's zero-window
branch and tcp_orphan_retries (issue 11)."""

import errno

from tcpcontext import ACK, FIN, ISS, ack, established

from minternet.runtime import NS_PER_MS, NS_PER_S
from minternet.transport.tcp.connection import State

TCP_RTO_MAX = 120 * NS_PER_S


def _stalled(**options):
    """Established; 1000 bytes sent and acknowledged with a zero window; 1000 more waiting."""
    conn, ctx, rec = established(**options)
    conn.write(b"a" * 1000)
    ctx.take()
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(1000, window=0))
    conn.write(b"b" * 1000)
    assert ctx.take() == [] and conn.snd.persist_timer.armed
    return conn, ctx, rec


def _probes(sent):
    return [s for s in sent if s.seq == ISS + 1000 and not s.payload and s.flags == ACK]


def test_a_zero_window_probe_takes_no_sequence_space():
    conn, ctx, _ = _stalled()
    ctx.clock.advance(conn.rtt.rto)
    (probe,) = ctx.take()
    assert probe.seq == ISS + 1000 and probe.payload == b""  # snd_una - 1: an old sequence number
    assert conn.snd_nxt == conn.snd_una == ISS + 1001


def test_an_orphan_gives_up_after_tcp_orphan_retries_probes():
    conn, ctx, rec = _stalled()
    conn.close()  # the FIN waits behind the data, behind the window
    ctx.clock.advance(600 * NS_PER_S)
    sent = ctx.take()
    assert len(_probes(sent)) == 8  # tcp_orphan_retries 0 means 8 while alive
    assert not [s for s in sent if s.flags & FIN]
    assert conn.state is State.CLOSED and rec.closed_with == errno.ETIMEDOUT


def test_orphan_retries_is_an_option():
    conn, ctx, rec = _stalled(orphan_retries=3)
    conn.close()
    ctx.clock.advance(600 * NS_PER_S)
    assert len(_probes(ctx.take())) == 3 and conn.state is State.CLOSED


def test_answered_probes_keep_the_connection_and_the_answer_resets_the_count():
    conn, ctx, _ = _stalled(max_retries=3)
    for _ in range(20):
        ctx.clock.advance(conn.snd.persist_timer.deadline - ctx.clock.now)
        assert _probes(ctx.take())
        conn.segment_arrives(ack(1000, window=0))  # still shut, but the peer is there
    assert conn.state is State.ESTABLISHED and conn.probes_out == 0
    ctx.clock.advance(5 * TCP_RTO_MAX)  # now it is silent: three more, then the end
    assert len(_probes(ctx.take())) == 3 and conn.state is State.CLOSED


def test_the_persist_timer_backs_off_to_tcp_rto_max():
    conn, ctx, _ = _stalled()
    times = []
    for _ in range(14):
        ctx.clock.advance(TCP_RTO_MAX)
        if _probes(ctx.take()):
            times.append(ctx.clock.now)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= TCP_RTO_MAX + 1 and gaps[-1] > 60 * NS_PER_S


def _shrunk(**options):
    """Established; 3000 bytes in flight; the peer takes 1000 and shuts its window."""
    conn, ctx, rec = established(**options)
    conn.write(b"c" * 3000)
    ctx.take()
    ctx.clock.advance_ms(50)
    conn.segment_arrives(ack(1000, window=0))
    assert conn.snd.rto_timer.armed and not conn.snd.persist_timer.armed
    return conn, ctx, rec


def test_an_rto_into_a_zero_window_probes_with_the_head_and_is_not_a_retry():
    conn, ctx, rec = _shrunk(max_retries=2)
    if conn.snd.timer_kind:  # a tail loss probe is due first: beyond the shut window, it sends
        ctx.clock.advance(conn.snd.rto_timer.deadline - ctx.clock.now)  # nothing (as Linux's
        assert ctx.take() == []  # __tcp_retransmit_skb) and the RTO is armed
    for _ in range(6):
        ctx.clock.advance(conn.snd.rto_timer.deadline - ctx.clock.now)
        (head,) = ctx.take()
        assert head.seq == ISS + 1001 and len(head.payload) == conn.mss
        conn.segment_arrives(ack(1000, window=0))
    assert conn.state is State.ESTABLISHED and conn.snd.retransmits == 0


def test_an_rto_into_a_zero_window_gives_up_after_2_tcp_rto_max_of_silence():
    conn, ctx, rec = _shrunk(max_retries=2)
    ctx.clock.advance(2 * TCP_RTO_MAX)
    assert conn.state is State.ESTABLISHED  # retransmitting, more than max_retries times
    ctx.clock.advance(2 * TCP_RTO_MAX)
    assert conn.state is State.CLOSED and rec.closed_with == errno.ETIMEDOUT
    assert not [s for s in ctx.take() if s.flags & 0x04]  # tcp_write_err: no RST


def test_an_rto_into_a_zero_window_gives_up_at_the_user_timeout_even_if_answered():
    conn, ctx, rec = _shrunk(user_timeout=20 * NS_PER_S)
    while conn.state is State.ESTABLISHED and ctx.clock.now < 100 * NS_PER_S:
        ctx.clock.advance(conn.snd.rto_timer.deadline - ctx.clock.now)
        conn.segment_arrives(ack(1000, window=0))
    assert conn.state is State.CLOSED and rec.closed_with == errno.ETIMEDOUT
    assert 20 * NS_PER_S < ctx.clock.now < 60 * NS_PER_S


def test_an_orphan_retransmits_tcp_orphan_retries_times():
    conn, ctx, rec = established()
    conn.write(b"d" * 1000)
    conn.close()
    ctx.take()
    ctx.clock.advance(3600 * NS_PER_S)
    sent = ctx.take()
    assert len([s for s in sent if s.payload]) == 8 and conn.state is State.CLOSED


def test_keepalive_steps_aside_while_data_waits_for_the_window():
    conn, ctx, _ = _stalled(keepalive=True, keepalive_time=5 * NS_PER_S, keepalive_interval=NS_PER_S,
                            keepalive_probes=2)
    ctx.clock.advance(100 * NS_PER_S)
    assert ctx.obs.stats["tcp.keepalive_probes"] == 0
    assert conn.state is State.ESTABLISHED  # the persist timer has not run out of probes yet


def test_an_orphan_behind_a_shrunk_window_retransmits_the_head_and_counts_retries():
    conn, ctx, rec = _shrunk()
    conn.close()
    ctx.clock.advance(3600 * NS_PER_S)
    heads = [s for s in ctx.take() if s.seq == ISS + 1001 and s.payload]
    assert len(heads) == 8 and conn.state is State.CLOSED and rec.closed_with == errno.ETIMEDOUT


def test_the_user_timeout_ends_a_connection_whose_data_is_never_acknowledged_on_time():
    # RFC 5482 / RFC 9293 3.8.3, Linux's retransmits_timed_out from retrans_stamp: with the window
    # open and the peer gone, the user timeout (not tcp_retries2's ~15 minutes) ends it, and
    # tcp_clamp_rto_to_user_timeout makes that happen at the timeout, not a backed-off RTO later.
    conn, ctx, rec = established(user_timeout=5 * NS_PER_S)
    conn.write(b"x" * 1000)
    start = ctx.clock.now
    while conn.state is not State.CLOSED and ctx.clock.now - start < 60 * NS_PER_S:
        ctx.clock.advance(10 * NS_PER_MS)
    assert conn.state is State.CLOSED and rec.closed_with == errno.ETIMEDOUT
    # Our stall starts when the timer that first expired was armed: at the first send, or at the
    # tail loss probe that resent it (within one probe timeout of Linux's retrans_stamp).
    assert 5 * NS_PER_S <= ctx.clock.now - start <= 5 * NS_PER_S + 300 * NS_PER_MS
    assert not [s for s in ctx.take() if s.flags & 0x04]  # tcp_write_err: no RST
