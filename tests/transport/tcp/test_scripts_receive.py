"""Scripted exchanges (tests/tcpscript.py) for the receive side: the window we offer, PAWS, the
out-of-order queue, option parsing, and sequence numbers across the wrap at 2**32."""

from tcpscript import run_script


# ================================================================================ at the wrap =======
# The peer's ISN is chosen so that the right edge of the window in our SYN+ACK (rcv_nxt + 4096)
# is exactly 2**32, i.e. sequence number 0: a right edge of 0 is a window like any other.
EDGE_AT_ZERO = 2**32 - 4097


def test_window_is_not_shrunk_when_its_right_edge_is_zero():
    # Two full segments leave 1176 bytes free, less than an MSS: the window stays where it was
    # (RFC 9293 3.8.6.2.2); it is not closed, which would shrink it (RFC 9293 3.8.6.2.2 says never).
    run_script("""
tcp sack=False timestamps=False window_scaling=False rcvbuf=4096
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460>
0.100  > S.  seq=0 ack=1 win=4096 <mss 1460>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
0.300  < .   seq=1 ack=1 win=65535 len=1460
0.300  < .   seq=1461 ack=1 win=65535 len=1460
0.300  > .   seq=1 ack=2921 win=1176
0.400  < .   seq=2921 ack=1 win=65535 len=1176
0.440  > .   seq=1 ack=4097 win=0
0.500  read 4096
0.500  > .   seq=1 ack=4097 win=4096
""", peer_isn=EDGE_AT_ZERO)


def test_out_of_order_data_up_to_a_right_edge_of_zero_is_accepted_and_sacked():
    run_script("""
tcp timestamps=False window_scaling=False rcvbuf=4096
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, sackOK, nop, nop>
0.100  > S.  seq=0 ack=1 win=4096 <mss 1460, nop, nop, sackOK>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
# Out of order: queued; the window offered (up to 4097, i.e. sequence number 0) is kept.
0.300  < .   seq=1001 ack=1 win=65535 len=1460
0.300  > .   seq=1 ack=1 win=4096 <nop, nop, sack 1001:2461>
# Inside what we offered, though the free space is now smaller: accepted, queued, SACKed.
0.310  < .   seq=3000 ack=1 win=65535 len=1097
0.310  > .   seq=1 ack=1 win=4096 <nop, nop, sack 3000:4097 1001:2461>
0.320  < .   seq=1 ack=1 win=65535 len=1000
0.320  > .   seq=1 ack=2461 win=* <nop, nop, sack 3000:4097>
""", peer_isn=EDGE_AT_ZERO)


# ================================================================================ bad options ======
HANDSHAKE_TS = """
tcp sack=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, nop, nop, TS val=100 ecr=0>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, TS val=* ecr=100>
0.200  < .   seq=1 ack=1 win=65535 <nop, nop, TS val=200 ecr=0>
0.200  accept
"""


def test_segment_with_a_bad_option_length_is_processed_with_the_options_before_it():
    # Linux's tcp_parse_options stops at an option running past the end and the segment is
    # processed (RFC 9293 MUST-7 would allow dropping it, which Linux does not do): its data is
    # taken and its timestamp, before the bad option, is echoed.
    h = run_script(HANDSHAKE_TS + """
0.300  < P.  seq=1 ack=1 win=65535 len=100 <nop, nop, TS val=300 ecr=0, raw 6308 0000>
0.340  > .   seq=1 ack=101 <nop, nop, TS val=* ecr=300>
0.400  read 100
# A known option of the wrong length is skipped and the rest still read: TS after a 3-byte MSS.
0.500  < P.  seq=101 ack=1 win=65535 len=10 <raw 020305, nop, nop, TS val=400 ecr=0>
0.540  > .   seq=1 ack=111 <nop, nop, TS val=* ecr=400>
""")
    assert h.host.stats["tcp.options_cut_short"] == 1 and h.host.stats["tcp.in_errors"] == 0


# ================================================================================ PAWS =============
HANDSHAKE_PAWS = """
tcp sack=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, nop, nop, TS val=100 ecr=0>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, TS val=* ecr=100>
0.200  < .   seq=1 ack=1 win=65535 <nop, nop, TS val=200 ecr=0>
0.200  accept
0.300  < P.  seq=1 ack=1 win=65535 len=10 <nop, nop, TS val=300 ecr=0>
0.340  > .   seq=1 ack=11 <nop, nop, TS val=* ecr=300>
"""


def test_paws_allows_a_timestamp_one_tick_old_as_linux():
    # Linux's tcp_paws_discard checks with TCP_PAWS_WINDOW = 1: one tick older is not rejected.
    run_script(HANDSHAKE_PAWS + """
0.400  < P.  seq=11 ack=1 win=65535 len=10 <nop, nop, TS val=299 ecr=0>
0.440  > .   seq=1 ack=21 <nop, nop, TS val=* ecr=300>
0.500  < P.  seq=21 ack=1 win=65535 len=10 <nop, nop, TS val=298 ecr=0>
0.500  > .   seq=1 ack=21 <nop, nop, TS val=* ecr=300>
""")


def test_paws_ignores_a_ts_recent_gone_stale():
    # RFC 7323 5.5: after a long idle time TS.Recent is no longer valid (the peer's clock may have
    # wrapped); Linux (since 6.7) waits TCP_PAWS_WRAP, 2147 s, measured on its own clock from when
    # TS.Recent was last taken.
    run_script(HANDSHAKE_PAWS + """
2147.200  < P.  seq=11 ack=1 win=65535 len=10 <nop, nop, TS val=250 ecr=0>
2147.200  > .   seq=1 ack=11 <nop, nop, TS val=* ecr=300>
2147.400  < P.  seq=11 ack=1 win=65535 len=10 <nop, nop, TS val=250 ecr=0>
2147.440  > .   seq=1 ack=21 <nop, nop, TS val=* ecr=250>
""")


def test_paws_is_off_while_ts_recent_is_zero_as_linux():
    # Linux's tcp_paws_check ignores a TS.Recent of 0: some hosts send TSval 0 in their SYN and
    # their real clock afterwards, which may be "older" than 0; rejecting it would kill the
    # connection (no segment could update TS.Recent).
    run_script("""
tcp sack=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, nop, nop, TS val=0 ecr=0>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, TS val=* ecr=0>
0.200  < .   seq=1 ack=1 win=65535 <nop, nop, TS val=3000000000 ecr=0>
0.200  accept
0.300  < P.  seq=1 ack=1 win=65535 len=10 <nop, nop, TS val=3000000100 ecr=0>
0.340  > .   seq=1 ack=11 <nop, nop, TS val=* ecr=3000000100>
# From then on PAWS works as usual.
0.400  < P.  seq=11 ack=1 win=65535 len=10 <nop, nop, TS val=2999999000 ecr=0>
0.400  > .   seq=1 ack=11 <nop, nop, TS val=* ecr=3000000100>
""")



def test_paws_holds_when_ts_recent_is_zero_after_the_peer_clock_wrapped():
    # TS.Recent valid is its own flag: a peer's clock passes through 0 like any other value, and a
    # TS.Recent of exactly 0 taken from a data segment must still reject an old duplicate (only a
    # SYN's TSval 0 leaves PAWS off, the case of the test above).
    run_script("""
tcp sack=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, nop, nop, TS val=4294967000 ecr=0>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, TS val=* ecr=4294967000>
0.200  < .   seq=1 ack=1 win=65535 <nop, nop, TS val=4294967100 ecr=0>
0.200  accept
0.300  < P.  seq=1 ack=1 win=65535 len=10 <nop, nop, TS val=0 ecr=0>
0.340  > .   seq=1 ack=11 <nop, nop, TS val=* ecr=0>
# An old duplicate from before the wrap: rejected, answered with an ACK, its data not taken.
0.400  < P.  seq=11 ack=1 win=65535 len=10 <nop, nop, TS val=4294967200 ecr=0>
0.400  > .   seq=1 ack=11 <nop, nop, TS val=* ecr=0>
0.500  expect state ESTABLISHED
""")

# ================================================================================ across the wrap ==
def test_data_sack_and_fin_across_the_wrap():
    # The peer's sequence numbers cross 2**32 (relative 1001 is sequence number 0): the SACK block
    # straddles the wrap, the hole before it is filled, the FIN comes after it.
    h = run_script("""
tcp timestamps=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, sackOK, nop, nop>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, sackOK>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
0.300  < .   seq=1 ack=1 win=65535 len=500
0.340  > .   seq=1 ack=501
0.400  < .   seq=801 ack=1 win=65535 len=400
0.400  > .   seq=1 ack=501 <nop, nop, sack 801:1201>
0.410  < .   seq=501 ack=1 win=65535 len=300
0.410  > .   seq=1 ack=1201
0.500  < F.  seq=1201 ack=1 win=65535
0.500  > .   seq=1 ack=1202
0.500  expect state CLOSE-WAIT
0.500  expect eof
0.500  read 1200
""", peer_isn=2**32 - 1001)
    assert h.conn.rcv_nxt == 201


def test_fin_out_of_order_at_sequence_number_zero():
    # Relative 1501 is sequence number 0: the FIN arrives early, there; rcv_nxt reaches 0 when the
    # hole is filled, and the FIN is taken then.
    h = run_script("""
tcp timestamps=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, sackOK, nop, nop>
0.100  > S.  seq=0 ack=1 win=65535 <mss 1460, nop, nop, sackOK>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
0.300  < F.  seq=1001 ack=1 win=65535 len=500
0.300  > .   seq=1 ack=1 <nop, nop, sack 1001:1501>
0.300  expect state ESTABLISHED
0.310  < .   seq=1 ack=1 win=65535 len=1000
# The gap filled is acknowledged, then the FIN (Linux sends only the second: left for now).
0.310  > .   seq=1 ack=1501
0.310  > .   seq=1 ack=1502
0.310  expect state CLOSE-WAIT
0.310  read 1500
""", peer_isn=2**32 - 1501)
    assert h.conn.rcv_nxt == 1  # the FIN took sequence number 0
