"""Scripted exchanges (tests/tcpscript.py) for zero windows, closing and rate limits: the
segments that go in and must come out, as Linux sends them (issue 11)."""

from tcpscript import Harness, parse, run_script

HANDSHAKE_PLAIN = """
tcp sack=False timestamps=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
"""


# ============================================================================ zero windows (bug 3) ==
def test_an_rto_into_a_zero_window_retransmits_the_head_as_a_probe_and_is_no_retry():
    # Linux's tcp_retransmit_timer: "receiver dastardly shrinks window"; the head goes out whatever
    # the window, and the retries limit (max_retries=2 here) does not apply.
    run_script(HANDSHAKE_PLAIN.replace("tcp ", "tcp max_retries=2 ") + """
1.000  write 3000
1.000  > .   seq=1 ack=1 len=1460
1.000  > .   seq=1461 ack=1 len=1460
1.000  > P.  seq=2921 ack=1 len=80
# The receiver takes one segment and shuts its window (RTO = 300 ms after this ACK's sample:
# SRTT 100 ms + 200 ms, the floor of the variance term, as Linux).
1.100  < .   seq=1 ack=1461 win=0
1.400  > .   seq=1461 ack=1 len=1460
1.410  < .   seq=1 ack=1461 win=0
2.000  > .   seq=1461 ack=1 len=1460
2.010  < .   seq=1 ack=1461 win=0
3.200  > .   seq=1461 ack=1 len=1460
5.600  > .   seq=1461 ack=1 len=1460
5.600  expect state ESTABLISHED
5.610  < .   seq=1 ack=2921 win=65535
5.610  > P.  seq=2921 ack=1 len=80
5.620  < .   seq=1 ack=3001 win=65535
5.620  expect state ESTABLISHED
""")


def test_a_fin_waits_for_the_window_while_the_persist_timer_probes():
    # A FIN takes a sequence number (Linux's tcp_snd_wnd_test): sent into a zero window it was
    # dropped by the receiver and resent by RTO until the connection was reset.
    run_script(HANDSHAKE_PLAIN + """
1.000  write 100
1.000  > P.  seq=1 ack=1 len=100
1.100  < .   seq=1 ack=101 win=0
1.100  close
1.400  > .   seq=100 ack=1
1.410  < .   seq=1 ack=101 win=0
2.000  > .   seq=100 ack=1
2.050  < .   seq=1 ack=101 win=65535
2.050  > F.  seq=101 ack=1
2.050  expect state FIN-WAIT-1
2.100  < .   seq=1 ack=102 win=65535
2.100  expect state FIN-WAIT-2
""")


# ============================================================================ rate limits (bug 5) ===
def test_forged_rsts_draw_one_challenge_ack_per_half_second():
    forged = "".join(f"{0.300 + i / 1000:.3f}  < R   seq={500 + i} win=0\n" for i in range(100))
    h = run_script(HANDSHAKE_PLAIN + forged.replace(
        "0.300  < R   seq=500 win=0\n", "0.300  < R   seq=500 win=0\n0.300  > .   seq=1 ack=1\n") + """
0.800  < R   seq=777 win=0
0.800  > .   seq=1 ack=1
0.800  expect state ESTABLISHED
""")
    stats = h.host.stats
    assert stats["tcp.challenge_acks"] == 2 and stats["tcp.acks_skipped_challenge"] == 99


def test_bare_out_of_window_segments_are_answered_at_most_once_per_half_second_data_always():
    # Linux's tcp_oow_rate_limited: a segment with data is not likely part of an ACK loop.
    h = run_script(HANDSHAKE_PLAIN + """
0.300  < .   seq=900000 ack=1 win=65535
0.300  > .   seq=1 ack=1
0.310  < .   seq=900000 ack=1 win=65535
0.320  < .   seq=900000 ack=1 win=65535
0.330  < .   seq=900000 ack=1 win=65535 len=10
0.330  > .   seq=1 ack=1
0.340  < .   seq=900000 ack=1 win=65535 len=10
0.340  > .   seq=1 ack=1
0.810  < .   seq=900000 ack=1 win=65535
0.810  > .   seq=1 ack=1
""")
    assert h.host.stats["tcp.acks_skipped_seq"] == 2


def test_the_host_wide_challenge_ack_limit():
    # net.ipv4.tcp_challenge_ack_limit=1: one challenge ACK per second for the whole host,
    # whatever the connection's own limit allows.
    options, lines = parse(HANDSHAKE_PLAIN + """
0.300  < R   seq=500 win=0
0.300  > .   seq=1 ack=1
0.900  < R   seq=500 win=0
1.500  < R   seq=500 win=0
1.500  > .   seq=1 ack=1
""")
    h = Harness(options)
    h.host.tcp.challenge_ack_limit = 1
    h.run(lines)
    assert h.host.stats["tcp.challenge_acks_host_limited"] == 1


def test_the_host_wide_budget_is_random_around_the_limit_and_off_by_default():
    h = Harness({})
    layer = h.host.tcp
    assert all(layer.challenge_ack_allowed() for _ in range(5000))  # Linux >= 6.0: INT_MAX
    layer.challenge_ack_limit = 100
    budgets = []
    for second in range(1, 6):
        h.net.scheduler.run_until(second * 10**9)
        budgets.append(sum(layer.challenge_ack_allowed() for _ in range(1000)))
    assert all(50 <= b <= 149 for b in budgets) and len(set(budgets)) > 1


# ============================================================================ close() (bugs 6, 7) ===
def test_data_after_close_is_answered_with_rst():
    # RFC 1122 4.2.2.13 / RFC 2525 2.17; Linux's tcp_rcv_state_process (TCPAbortOnData): the RST
    # is the one for the segment, seq = its ACK (tcp_v4_send_reset).
    h = run_script(HANDSHAKE_PLAIN + """
0.300  close_socket
0.300  > F.  seq=1 ack=1
0.350  < .   seq=1 ack=2 win=65535
0.350  expect state FIN-WAIT-2
0.360  < P.  seq=1 ack=2 win=65535 len=300
0.360  > R   seq=2
0.360  expect state CLOSED
""")
    assert h.host.stats["tcp.abort_on_data"] == 1


def test_data_after_close_while_the_fin_waits_for_the_window_is_answered_with_rst():
    run_script(HANDSHAKE_PLAIN + """
0.300  write 100
0.300  > P.  seq=1 ack=1 len=100
0.350  < .   seq=1 ack=101 win=0
0.360  close_socket
0.400  < P.  seq=1 ack=101 win=0 len=10
0.400  > R   seq=101
0.400  expect state CLOSED
""")


def test_data_after_shutdown_rdwr_resets_and_the_application_sees_econnreset():
    run_script(HANDSHAKE_PLAIN + """
0.300  shutdown_read
0.300  close
0.300  > F.  seq=1 ack=1
0.310  < P.  seq=1 ack=1 win=65535 len=10
0.310  > R   seq=1
0.310  expect state CLOSED
0.310  expect error ECONNRESET
""")


def test_a_half_closed_connection_still_takes_data_and_an_in_order_fin_after_close():
    run_script(HANDSHAKE_PLAIN + """
0.300  shutdown_read
0.300  < P.  seq=1 ack=1 win=65535 len=10
0.340  > .   seq=1 ack=11
0.400  read 10
0.400  close_socket
0.400  > F.  seq=1 ack=11
0.410  < F.  seq=11 ack=2 win=65535
0.410  > .   seq=2 ack=12
0.410  expect state TIME-WAIT
""")


def test_close_with_unread_data_sends_rst():
    h = run_script(HANDSHAKE_PLAIN + """
0.300  < P.  seq=1 ack=1 win=65535 len=100
0.340  > .   seq=1 ack=101
0.400  close_socket
0.400  > R.  seq=1 ack=101
0.400  expect state CLOSED
""")
    assert h.host.stats["tcp.abort_on_close"] == 1


def test_an_orphan_in_fin_wait_2_ends_after_tcp_fin_timeout():
    h = run_script(HANDSHAKE_PLAIN + """
0.300  close_socket
0.300  > F.  seq=1 ack=1
0.350  < .   seq=1 ack=2 win=65535
0.350  expect state FIN-WAIT-2
60.340 expect state FIN-WAIT-2
60.360 expect state CLOSED
""")
    assert h.host.stats["tcp.fin_wait2_timeouts"] == 1


def test_fin_timeout_is_an_option_and_counts_from_close_after_a_half_close():
    run_script(HANDSHAKE_PLAIN.replace("tcp ", "tcp fin_timeout=5000000000 ") + """
0.300  close
0.300  > F.  seq=1 ack=1
0.350  < .   seq=1 ack=2 win=65535
100.000 expect state FIN-WAIT-2
100.000 close_socket
104.990 expect state FIN-WAIT-2
105.010 expect state CLOSED
""")


def test_a_half_closed_connection_waits_in_fin_wait_2_as_long_as_it_takes():
    run_script(HANDSHAKE_PLAIN + """
0.300  close
0.300  > F.  seq=1 ack=1
0.350  < .   seq=1 ack=2 win=65535
500.000 expect state FIN-WAIT-2
500.000 < F.  seq=1 ack=2 win=65535
500.000 > .   seq=2 ack=2
500.000 expect state TIME-WAIT
""")


# ============================================================================ out-of-order FIN (16) ==
def test_an_out_of_order_bare_fin_gets_an_immediate_duplicate_ack():
    run_script(HANDSHAKE_PLAIN + """
0.300  < F.  seq=1001 ack=1 win=65535
0.300  > .   seq=1 ack=1
0.310  < .   seq=1 ack=1 win=65535 len=1000
0.310  > .   seq=1 ack=1002
0.310  expect eof
0.310  expect state CLOSE-WAIT
""")
