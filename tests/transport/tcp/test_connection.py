"""The TCP connection alone, with a fake context (tests/tcpcontext.py): no Host, no Network."""

import errno

from tcpcontext import (ACK, FIN, IRS, ISS, PSH, SYN, ack, established, make, seg, unreachable)

from minternet.stack.errors import ErrorKind
from minternet.transport.tcp.connection import State
from minternet.wire.tcp import MSS, SackPermitted, Timestamps, WindowScale


# -- opening -----------------------------------------------------------------------------------------
def test_active_open_sends_a_syn_and_completes_on_the_syn_ack():
    conn, ctx, rec = make()
    conn.open_active()
    (syn,) = ctx.take()
    assert syn.flags == SYN and syn.seq == ISS
    assert syn.option(MSS) == MSS(1460)  # our MSS from the route's MTU (1500 - 40)
    assert conn.state is State.SYN_SENT
    ctx.clock.advance_ms(30)
    conn.segment_arrives(seg(SYN | ACK, IRS, ISS + 1, options=(MSS(1400), SackPermitted(), WindowScale(3))))
    (third,) = ctx.take()
    assert third.flags == ACK and (third.seq, third.ack) == (ISS + 1, IRS + 1)
    assert conn.state is State.ESTABLISHED and rec.log == ["established"]
    assert conn.mss == 1400 and conn.snd_wscale == 3 and conn.sack_ok
    assert conn.rtt.srtt == 30_000_000  # the SYN's round trip is the first RTT sample


def test_passive_open_answers_syn_ack_and_is_established_by_the_ack():
    conn, ctx, rec = make()
    conn.open_passive(seg(SYN, IRS, options=(MSS(1460), SackPermitted(), Timestamps(77, 0), WindowScale(7))))
    (synack,) = ctx.take()
    assert synack.flags == SYN | ACK and (synack.seq, synack.ack) == (ISS, IRS + 1)
    assert synack.option(Timestamps).tsecr == 77
    assert conn.state is State.SYN_RECEIVED
    conn.segment_arrives(seg(ACK, IRS + 1, ISS + 1, window=100, options=(Timestamps(78, synack.option(Timestamps).tsval),)))
    assert conn.state is State.ESTABLISHED and rec.log == ["established"]
    assert conn.mss == 1460 - 12 and conn.snd_wnd == 100 << 7
    assert (State.SYN_RECEIVED, State.ESTABLISHED) in ctx.states


def test_a_syn_ack_that_acknowledges_something_else_gets_a_reset():
    conn, ctx, _ = make()
    conn.open_active()
    ctx.take()
    conn.segment_arrives(seg(SYN | ACK, IRS, ISS + 99))
    assert conn.state is State.SYN_SENT and len(ctx.resets) == 1


# -- data and ACKs -----------------------------------------------------------------------------------
def test_data_is_acknowledged_by_the_delayed_ack_timer_or_every_second_full_segment():
    conn, ctx, rec = established()
    conn.segment_arrives(seg(ACK | PSH, IRS + 1, ISS + 1, b"x" * 100))
    assert ctx.take() == [] and rec.log[-1] == "readable"
    ctx.clock.advance_ms(39)
    assert ctx.take() == []
    ctx.clock.advance_ms(1)  # Linux's 40 ms
    (a,) = ctx.take()
    assert a.ack == IRS + 101
    full = b"y" * conn.mss
    conn.segment_arrives(seg(ACK, IRS + 101, ISS + 1, full))
    assert ctx.take() == []
    conn.segment_arrives(seg(ACK, IRS + 101 + len(full), ISS + 1, full))
    (a,) = ctx.take()
    assert a.ack == IRS + 101 + 2 * len(full)
    assert conn.read() == b"x" * 100 + full + full


def test_out_of_order_data_is_acknowledged_at_once_with_a_sack_block():
    conn, ctx, _ = established()
    conn.segment_arrives(seg(ACK, IRS + 1 + 1000, ISS + 1, b"z" * 500))
    (a,) = ctx.take()
    assert a.ack == IRS + 1 and a.options[-1].blocks == ((IRS + 1001, IRS + 1501),)


def test_written_data_goes_out_in_mss_segments_up_to_the_initial_window():
    conn, ctx, rec = established(peer_mss=1000)
    conn.write(b"d" * 20000)
    sent = ctx.take()
    assert [len(s.payload) for s in sent] == [1000] * 10  # RFC 6928: IW = 10 segments here
    assert sent[-1].seq == ISS + 1 + 9000
    conn.segment_arrives(ack(2000))
    assert rec.log[-1] == "writable"
    assert len(ctx.take()) == 4  # slow start: 2 segments acked, cwnd += 2 MSS -> 2 + 2 out


# -- loss recovery -----------------------------------------------------------------------------------
def test_a_loss_is_repaired_by_fast_retransmit_with_sack():
    conn, ctx, _ = established(peer_mss=1000)
    conn.write(b"d" * 10000)
    ctx.take()
    # Segment 1 is lost; the receiver SACKs 2, 3 and 4: three segments above it, so it is lost
    # (RFC 6675 IsLost) at the third duplicate.
    for right in (2000, 3000, 4000):
        conn.segment_arrives(ack(0, blocks=((1000, right),)))
    rexmit = [s for s in ctx.take() if s.seq == ISS + 1]
    assert len(rexmit) == 1 and len(rexmit[0].payload) == 1000
    assert conn.stats["fast_retransmits"] == 1 and ctx.obs.stats["tcp.fast_retransmits"] == 1
    assert conn.snd.recovery.in_recovery
    conn.segment_arrives(ack(10000))  # the hole filled: a full ACK ends recovery
    assert not conn.snd.recovery.in_recovery
    assert conn.cc.cwnd == conn.cc.ssthresh


def test_a_loss_is_repaired_by_fast_retransmit_with_newreno():
    conn, ctx, _ = established(peer_mss=1000, sack=False)
    conn.write(b"d" * 10000)
    ctx.take()
    for _ in range(3):
        conn.segment_arrives(ack(0))
    sent = ctx.take()
    assert [s.seq for s in sent] == [ISS + 1]  # the retransmission, nothing more (cwnd is full)
    cc = conn.cc
    assert cc.cwnd == cc.ssthresh + 3 * 1000  # RFC 5681 3.2 step 3
    conn.segment_arrives(ack(0))
    assert cc.cwnd == cc.ssthresh + 4 * 1000  # inflated by one MSS per further duplicate
    # A partial ACK (RFC 6582): the next hole goes at once, the window deflates.
    conn.segment_arrives(ack(3000))
    assert ISS + 1 + 3000 in [s.seq for s in ctx.take()]
    assert conn.snd.recovery.in_recovery
    conn.segment_arrives(ack(10000))
    assert not conn.snd.recovery.in_recovery and cc.cwnd == cc.ssthresh


def test_the_retransmission_timer_resends_the_first_segment_with_a_loss_window():
    # DupThresh recovery: no tail loss probe comes first (RACK's is in test_recovery.py).
    conn, ctx, _ = established(peer_mss=1000, recovery="rfc6675")
    conn.write(b"d" * 3000)
    assert len(ctx.take()) == 3
    rto = conn.rtt.rto
    ctx.clock.advance(rto - 1)
    assert ctx.take() == []
    ctx.clock.advance(1)
    (r,) = ctx.take()
    assert r.seq == ISS + 1 and len(r.payload) == 1000
    assert conn.stats["timeouts"] == 1 and ctx.obs.stats["tcp.timeouts"] == 1
    assert conn.cc.cwnd == 1000 and conn.rtt.rto == 2 * rto  # RFC 6298 5.5: back off


# -- the path ----------------------------------------------------------------------------------------
def test_path_mtu_changed_makes_the_next_segments_smaller_and_resends_the_unacked_ones():
    conn, ctx, _ = established(peer_mss=1460)
    conn.write(b"d" * 5 * 1460)
    assert [len(s.payload) for s in ctx.take()] == [1460] * 5
    conn.path_mtu_changed(1280)
    new = 1280 - 40
    assert (conn.mss, conn.send_size, conn.cc.mss, conn.snd.recovery.mss) == (new,) * 4
    assert ctx.obs.stats["tcp.pmtu_reductions"] == 1
    resent = ctx.take()
    assert resent[0].seq == ISS + 1  # the full-size segments that did not fit, at the new size
    assert resent and all(len(s.payload) <= new for s in resent)
    assert conn.cc.cwnd >= 5 * 1460  # no congestion-window reduction
    conn.segment_arrives(ack(len(resent) * new))
    assert all(len(s.payload) <= new for s in ctx.take())
    conn.path_mtu_changed(1400)  # larger than what we use now: nothing changes
    assert conn.mss == new and ctx.obs.stats["tcp.pmtu_reductions"] == 1


def test_path_mtu_changed_lowers_the_tso_size_too():
    conn, ctx, _ = established(peer_mss=1460, tso_max=65536)
    assert conn.send_size == (65536 - 80) // 1460 * 1460
    conn.path_mtu_changed(1280)
    assert conn.send_size == (65536 - 80) // 1240 * 1240


def test_a_smaller_mtu_in_a_new_route_lowers_the_mss():
    from tcpcontext import route
    conn, ctx, _ = established(peer_mss=1460)
    conn.route_changed(route(mtu=1400))
    assert conn.route.mtu == 1400 and conn.mss == 1360
    conn.route_changed(route(mtu=1500))
    assert conn.mss == 1360  # PMTU only goes down here (RFC 1191 raises it by probing, later)


def test_icmp_port_unreachable_refuses_a_connect():
    conn, ctx, rec = make()
    conn.open_active()
    conn.icmp_error(unreachable(ErrorKind.PORT_UNREACHABLE))
    assert conn.state is State.CLOSED and rec.closed_with == errno.ECONNREFUSED
    assert ctx.forgotten == [conn] and conn.error == errno.ECONNREFUSED


def test_icmp_host_unreachable_fails_a_connect_with_ehostunreach():
    conn, ctx, rec = make()
    conn.open_active()
    conn.icmp_error(unreachable(ErrorKind.HOST_UNREACHABLE))
    assert rec.closed_with == errno.EHOSTUNREACH


def test_frag_needed_is_not_an_error():
    conn, ctx, rec = make()
    conn.open_active()
    conn.icmp_error(unreachable(ErrorKind.FRAG_NEEDED))
    assert conn.state is State.SYN_SENT and rec.closed_with is None


def test_a_soft_error_is_what_a_timeout_reports():
    conn, ctx, rec = established(max_retries=2)
    conn.write(b"d" * 100)
    conn.icmp_error(unreachable(ErrorKind.HOST_UNREACHABLE))
    assert conn.state is State.ESTABLISHED and conn.soft_error == errno.EHOSTUNREACH
    ctx.clock.advance_ms(60_000)
    assert conn.state is State.CLOSED and rec.closed_with == errno.EHOSTUNREACH


def test_an_ack_clears_the_soft_error():
    conn, ctx, rec = established(max_retries=2)
    conn.write(b"d" * 100)
    conn.icmp_error(unreachable(ErrorKind.HOST_UNREACHABLE))
    conn.segment_arrives(ack(0))  # the path works after all
    conn.write(b"e" * 100)
    ctx.clock.advance_ms(60_000)
    assert rec.closed_with == errno.ETIMEDOUT


def test_a_listeners_half_open_child_is_dropped_on_a_hard_error_only():
    conn, ctx, rec = make()
    conn.listener = object()  # a passive open's child
    conn.open_passive(seg(SYN, IRS, options=(MSS(1460),)))
    conn.icmp_error(unreachable(ErrorKind.PORT_UNREACHABLE))  # Linux's tcp_req_err: not fatal here
    assert conn.state is State.SYN_RECEIVED
    conn.icmp_error(unreachable(ErrorKind.HOST_UNREACHABLE))
    assert conn.state is State.CLOSED and rec.closed_with == 0


# -- closing -----------------------------------------------------------------------------------------
def test_active_close_goes_through_fin_wait_and_time_wait():
    conn, ctx, rec = established(msl=1_000_000_000)
    conn.shutdown_write()
    (fin,) = ctx.take()
    assert fin.flags & FIN and conn.state is State.FIN_WAIT_1
    conn.segment_arrives(ack(1))
    assert conn.state is State.FIN_WAIT_2
    conn.segment_arrives(seg(ACK | FIN, IRS + 1, ISS + 2))
    assert conn.state is State.TIME_WAIT and conn.eof
    ctx.clock.advance_ms(2000)
    assert conn.state is State.CLOSED and rec.closed_with == 0
