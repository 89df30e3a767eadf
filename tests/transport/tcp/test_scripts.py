"""Scripted TCP exchanges (tests/tcpscript.py explains the format): each mechanism as the
segments that go in and must come out, at the times they must."""

import pytest
from tcpscript import ScriptError, run_script

HANDSHAKE = """
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, sackOK, TS val=100 ecr=0, nop, wscale 7>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, sackOK, TS val=* ecr=100, nop, wscale 2>
0.200  < .   seq=1 ack=1 win=1024 <nop, nop, TS val=200 ecr=0>
0.200  accept
0.200  expect state ESTABLISHED
"""

HANDSHAKE_PLAIN = """
tcp sack=False timestamps=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
"""


def test_passive_open_negotiates_options_like_linux():
    h = run_script(HANDSHAKE)
    c = h.conn
    assert c.mss == 1460 - 12  # the timestamp option takes 12 bytes of every segment
    assert c.sack_ok and c.ts_ok and c.snd_wscale == 7 and c.rcv_wscale == 2
    assert c.snd_wnd == 1024 << 7


def test_data_is_acked_after_the_delayed_ack_timer():
    run_script(HANDSHAKE_PLAIN + """
0.300  < P.  seq=1 ack=1 win=65535 len=100
0.340  > .   seq=1 ack=101
""")


def test_every_second_full_segment_is_acked_at_once():
    run_script(HANDSHAKE_PLAIN + """
0.300  < .   seq=1 ack=1 win=65535 len=1460
0.300  < .   seq=1461 ack=1 win=65535 len=1460
0.300  > .   seq=1 ack=2921
""")


def test_out_of_order_data_gets_an_immediate_ack_with_sack():
    run_script("""
tcp timestamps=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, sackOK, nop, nop>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, sackOK>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
0.300  < .   seq=1001 ack=1 win=65535 len=500
0.300  > .   seq=1 ack=1 <nop, nop, sack 1001:1501>
0.310  < .   seq=1 ack=1 win=65535 len=1000
0.310  > .   seq=1 ack=1501
""")


def test_closed_port_answers_with_rst():
    # RFC 9293 3.10.7.1: no ACK in the SYN, so <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    h = run_script("""
tcp timestamps=False
0.000  listen 80
""")
    from tcpscript import Line
    h.local_port = 81  # nothing listens on 81
    h.do_inject(Line(0, 0.1, "<", ["S", "seq=0", "win=65535"]))
    h.net.scheduler.run_until(h.net.scheduler.now + 1)
    t, rst = h.sent.pop(0)
    assert rst.flags == 0x14 and rst.seq == 0 and rst.ack == 1_000_001  # RST+ACK, ack = ISN+1
    assert h.host.stats["tcp.resets_sent"] == 1 and h.host.stats["drop.port-closed"] == 1


def test_in_window_rst_with_wrong_seq_gets_a_challenge_ack_then_the_right_one_resets():
    run_script(HANDSHAKE_PLAIN + """
0.300  < R   seq=500 win=0
0.300  > .   seq=1 ack=1
0.300  expect state ESTABLISHED
0.400  < R   seq=1 win=0
0.400  expect state CLOSED
0.400  expect error ECONNRESET
""")


def test_syn_on_an_established_connection_gets_a_challenge_ack():
    run_script(HANDSHAKE_PLAIN + """
0.300  < S   seq=7777 win=65535 <mss 1460>
0.300  > .   seq=1 ack=1
0.300  expect state ESTABLISHED
""")


def test_ack_for_data_never_sent_gets_a_challenge_ack():
    run_script(HANDSHAKE_PLAIN + """
0.300  < .   seq=1 ack=5000 win=65535 len=10
0.300  > .   seq=1 ack=1
""")


def test_active_open_and_data_on_the_third_segment():
    run_script("""
tcp timestamps=False sack=False window_scaling=False
0.000  connect 80
0.000  > S   seq=0 win=65535 <mss 1460>
0.000  write 100
0.050  < S.  seq=0 ack=1 win=65535 <mss 1400>
0.050  > P.  seq=1 ack=1 len=100
0.050  expect state ESTABLISHED
""")


def test_syn_retransmitted_with_backoff_then_etimedout():
    run_script("""
tcp timestamps=False sack=False window_scaling=False syn_retries=2
0.000  connect 80
0.000  > S   seq=0 <mss 1460>
1.000  > S   seq=0 <mss 1460>
3.000  > S   seq=0 <mss 1460>
7.000  expect state CLOSED
7.000  expect error ETIMEDOUT
""")


def test_rst_to_our_syn_is_connection_refused():
    run_script("""
tcp timestamps=False sack=False window_scaling=False
0.000  connect 80
0.000  > S   seq=0 <mss 1460>
0.010  < R.  seq=0 ack=1 win=0
0.010  expect state CLOSED
0.010  expect error ECONNREFUSED
""")


def test_retransmission_timeout_backs_off_and_recovers():
    # The handshake gives one RTT sample of 100 ms: SRTT 100, RTTVAR 50, RTO = 100 + 4*50 = 300 ms.
    run_script(HANDSHAKE_PLAIN + """
1.000  write 100
1.000  > P.  seq=1 ack=1 len=100
1.300  > P.  seq=1 ack=1 len=100
1.900  > P.  seq=1 ack=1 len=100
2.000  < .   seq=1 ack=101 win=65535
""")


def test_three_duplicate_acks_trigger_fast_retransmit():
    run_script(HANDSHAKE_PLAIN + """
1.000  write 5840
1.000  > .   seq=1 ack=1 len=1460
1.000  > .   seq=1461 ack=1 len=1460
1.000  > .   seq=2921 ack=1 len=1460
1.000  > P.  seq=4381 ack=1 len=1460
1.100  < .   seq=1 ack=1 win=65535
1.100  < .   seq=1 ack=1 win=65535
1.100  < .   seq=1 ack=1 win=65535
1.100  > .   seq=1 ack=1 len=1460
1.200  < .   seq=1 ack=5841 win=65535
""")


def test_zero_window_is_probed_until_it_opens():
    run_script(HANDSHAKE_PLAIN + """
1.000  write 2000
1.000  > .   seq=1 ack=1 len=1460
1.000  > P.  seq=1461 ack=1 len=540
1.100  < .   seq=1 ack=2001 win=0
1.100  write 1000
# The window is closed: a probe after one RTO (300 ms here: SRTT 100 ms + 200 ms, the floor of
# the variance term), then twice that... As Linux's tcp_xmit_probe_skb, the probe is an ACK with
# the old sequence number snd_una - 1 and no data.
1.400  > .   seq=2000 ack=1
1.450  < .   seq=1 ack=2001 win=0
2.000  > .   seq=2000 ack=1
# ...until the receiver's answer opens the window.
2.050  < .   seq=1 ack=2001 win=65535
2.050  > P.  seq=2001 ack=1 len=1000
""")


def test_passive_close_and_last_ack():
    run_script(HANDSHAKE_PLAIN + """
0.300  < F.  seq=1 ack=1 win=65535
0.300  > .   seq=1 ack=2
0.300  expect state CLOSE-WAIT
0.300  expect eof
0.400  close
0.400  > F.  seq=1 ack=2
0.400  expect state LAST-ACK
0.450  < .   seq=2 ack=2 win=65535
0.450  expect state CLOSED
""")


def test_active_close_fin_wait_and_time_wait_of_2msl():
    run_script(HANDSHAKE_PLAIN.replace("tcp ", "tcp msl=1000000000 ") + """
0.300  close
0.300  > F.  seq=1 ack=1
0.300  expect state FIN-WAIT-1
0.350  < .   seq=1 ack=2 win=65535
0.350  expect state FIN-WAIT-2
0.400  < F.  seq=1 ack=2 win=65535
0.400  > .   seq=2 ack=2
0.400  expect state TIME-WAIT
2.390  expect state TIME-WAIT
2.410  expect state CLOSED
""")


def test_simultaneous_close_goes_through_closing():
    run_script(HANDSHAKE_PLAIN.replace("tcp ", "tcp msl=1000000000 ") + """
0.300  close
0.300  > F.  seq=1 ack=1
0.310  < F.  seq=1 ack=1 win=65535
0.310  > .   seq=2 ack=2
0.310  expect state CLOSING
0.320  < .   seq=2 ack=2 win=65535
0.320  expect state TIME-WAIT
""")


def test_half_close_still_receives():
    run_script(HANDSHAKE_PLAIN + """
0.300  close
0.300  > F.  seq=1 ack=1
0.350  < .   seq=1 ack=2 win=65535
0.360  < P.  seq=1 ack=2 win=65535 len=300
0.400  > .   seq=2 ack=301
0.400  read 300
0.400  expect state FIN-WAIT-2
""")


def test_paws_drops_old_timestamps():
    run_script(HANDSHAKE + """
0.300  < P.  seq=1 ack=1 win=1024 len=10 <nop, nop, TS val=300 ecr=0>
0.340  > .   seq=1 ack=11 <nop, nop, TS val=* ecr=300>
0.400  < P.  seq=11 ack=1 win=1024 len=10 <nop, nop, TS val=250 ecr=0>
0.400  > .   seq=1 ack=11 <nop, nop, TS val=* ecr=300>
""")


def test_a_wrong_expectation_fails_with_a_clear_message():
    with pytest.raises(ScriptError, match="ack 2 != 1"):
        run_script(HANDSHAKE_PLAIN + """
0.300  < P.  seq=1 ack=1 win=65535 len=1
0.340  > .   seq=1 ack=2
0.340  > .   seq=1 ack=2
""".replace("0.340  > .   seq=1 ack=2\n0.340  > .   seq=1 ack=2", "0.340  > .   seq=1 ack=1"))


# ================================================================================ found on the TAP ==
def test_ack_of_a_fin_sent_before_a_timeout():
    """Found by the upload test with loss, reordering and duplication: after a retransmission
    timeout the connection forgot where its FIN was, and the ACK of that FIN crashed the host
    (SendBuffer.ack past its end). It must simply move us to FIN-WAIT-2."""
    run_script("""
tcp sack=0 timestamps=0
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1000>
0.100  > S.  seq=0 ack=1 win=* <mss 1460>
+0.010 < .   seq=1 ack=1 win=65535
+0     accept
+0     write 3000
+0     > .   seq=1 ack=1 len=1000
+0     > .   seq=1001 ack=1 len=1000
+0     > P.  seq=2001 ack=1 len=1000
+0     close
+0     > F.  seq=3001 ack=1
+0.21  > .   seq=1 ack=1 len=1000   # RTO = SRTT (10 ms) + 200 ms
+0.01  < .   seq=1 ack=3002 win=65535
+0     expect state FIN-WAIT-2
""", tolerance=0.05)


# -- loss recovery on the wire: RACK-TLP, F-RTO, the RTO after a lost SYN (issue 11) -------------------
HANDSHAKE_SACK = """
tcp timestamps=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1000, sackOK, nop, nop>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, sackOK>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
"""


def test_a_tail_loss_probe_resends_the_last_segment_two_srtt_after_the_tail():
    # SRTT is 100 ms (the handshake): the probe goes 2*SRTT + 2 ms after the last segment, long
    # before the RTO (300 ms); the SACK of the probe tells RACK the first two are lost.
    h = run_script(HANDSHAKE_SACK + """
0.300  write 3000
0.300  > .   seq=1 ack=1 len=1000
0.300  > .   seq=1001 ack=1 len=1000
0.300  > P.  seq=2001 ack=1 len=1000
0.502  > .   seq=2001 ack=1 len=1000
0.602  < .   seq=1 ack=1 win=65535 <nop, nop, sack 2001:3001>
0.602  > .   seq=1 ack=1 len=1000
0.602  > .   seq=1001 ack=1 len=1000
0.702  < .   seq=1 ack=3001 win=65535
""")
    assert h.conn.stats["loss_probes"] == 1 and h.conn.stats["timeouts"] == 0


def test_a_lost_retransmission_is_detected_by_rack_without_a_timeout():
    h = run_script(HANDSHAKE_SACK + """
0.300  write 5000
0.300  > .   seq=1 ack=1 len=1000
0.300  > .   seq=1001 ack=1 len=1000
0.300  > .   seq=2001 ack=1 len=1000
0.300  > .   seq=3001 ack=1 len=1000
0.300  > P.  seq=4001 ack=1 len=1000
# Three segments SACKed above the first: lost at once (no reordering seen, reo_wnd 0).
0.400  < .   seq=1 ack=1 win=65535 <nop, nop, sack 1001:4001>
0.400  > .   seq=1 ack=1 len=1000
0.500  < .   seq=1 ack=1 win=65535 <nop, nop, sack 1001:5001>
0.500  write 1000
0.500  > P.  seq=5001 ack=1 len=1000
# Data sent after the retransmission arrived, and RACK.rtt has passed since it went: lost again.
0.600  < .   seq=1 ack=1 win=65535 <nop, nop, sack 1001:6001>
0.600  > .   seq=1 ack=1 len=1000
0.700  < .   seq=1 ack=6001 win=65535
""")
    assert h.conn.stats["timeouts"] == 0 and h.host.stats["tcp.lost_retransmits"] == 1


def test_a_spurious_timeout_is_detected_by_frto_and_undone():
    h = run_script("""
tcp timestamps=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1000, sackOK, nop, nop>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, sackOK>
0.200  < .   seq=1 ack=1 win=3000
0.200  accept
0.300  write 5000
0.300  > .   seq=1 ack=1 len=1000
0.300  > .   seq=1001 ack=1 len=1000
0.300  > .   seq=2001 ack=1 len=1000
0.502  > .   seq=2001 ack=1 len=1000      # the loss probe (the window is full: the last segment)
0.802  > .   seq=1 ack=1 len=1000         # the RTO, 300 ms after the probe
# The ACKs were only delayed. F-RTO (RFC 5682 3.1): the first ACK after the timeout advances,
# so new data goes instead of retransmissions...
0.850  < .   seq=1 ack=1001 win=3000
0.850  > .   seq=3001 ack=1 len=1000
# ...and the next acknowledges data that was never retransmitted: the timeout was spurious.
0.860  < .   seq=1 ack=2001 win=3000
0.860  > P.  seq=4001 ack=1 len=1000
0.960  < .   seq=1 ack=5001 win=3000
""")
    c = h.conn
    assert c.stats["timeouts"] == 1 and h.host.stats["tcp.spurious_rtos"] == 1
    assert c.snd.recovery.state == 0 and c.cc.cwnd >= 10 * 1000  # back to the window before


def test_after_a_lost_syn_the_rto_is_three_seconds_once_data_flows():
    # RFC 6298 5.7 (Linux's tcp_init_metrics, TCP_TIMEOUT_FALLBACK): no RTT sample from a
    # retransmitted SYN without timestamps, so the data's RTO is 3 s, not 1 s.
    run_script("""
tcp timestamps=False sack=False window_scaling=False
0.000  connect 80
0.000  > S   seq=0 <mss 1460>
1.000  > S   seq=0 <mss 1460>
1.050  < S.  seq=0 ack=1 win=65535 <mss 1400>
1.050  > .   seq=1 ack=1
1.100  write 100
1.100  > P.  seq=1 ack=1 len=100
4.100  > P.  seq=1 ack=1 len=100
""")


def test_after_a_lost_syn_ack_the_passive_side_uses_three_seconds_too():
    run_script("""
tcp timestamps=False sack=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460>
1.100  > S.  seq=0 ack=1 win=65535 <mss 1460>
1.150  < .   seq=1 ack=1 win=65535
1.150  accept
1.200  write 100
1.200  > P.  seq=1 ack=1 len=100
4.200  > P.  seq=1 ack=1 len=100
""")


def test_a_retransmitted_syn_gets_our_syn_ack_again_at_once_and_no_rtt_sample():
    # Linux's tcp_check_req: a pure retransmitted SYN in SYN-RECEIVED means our SYN+ACK was
    # lost; it goes again at once (not a challenge ACK), at most one per tcp_invalid_ratelimit
    # (the SYN at 0.700 gets nothing), and then no clock sample from the handshake (Karn): the
    # data's RTO is 3 s (RFC 6298 5.7), not one from a 0.65 s "RTT".
    run_script("""
tcp timestamps=False sack=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460>
0.600  < S   seq=0 win=65535 <mss 1460>
0.600  > S.  seq=0 ack=1 win=65535 <mss 1460>
0.700  < S   seq=0 win=65535 <mss 1460>
0.750  < .   seq=1 ack=1 win=65535
0.750  accept
0.800  write 100
0.800  > P.  seq=1 ack=1 len=100
3.800  > P.  seq=1 ack=1 len=100
""")


def test_a_retransmitted_syn_with_timestamps_gets_our_syn_ack_again():
    # The SYN+ACK echoes the first SYN's TSval: a SYN at the IRS is not one TS.Recent is taken
    # from (RFC 7323 4.3; Linux's tcp_check_req leaves req->ts_recent).
    run_script("""
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, sackOK, TS val=100 ecr=0, nop, wscale 7>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, sackOK, TS val=* ecr=100, nop, wscale 2>
0.600  < S   seq=0 win=65535 <mss 1460, sackOK, TS val=600 ecr=0, nop, wscale 7>
0.600  > S.  seq=0 ack=1 win=65535 <mss 1460, sackOK, TS val=* ecr=100, nop, wscale 2>
""")
