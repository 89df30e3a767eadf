"""Segments that fail the checks (out of window, PAWS) feed nothing and draw rate-limited answers,
and the one segment Linux takes past a closed window: a bare FIN at rcv_nxt. Each was found by a
hostile review, written from the outside (issue 11)."""

import errno

from tcpcontext import ACK, IRS, ISS, ack, established, seg
from tcpscript import run_script

from minternet.runtime import NS_PER_S
from minternet.transport.tcp.connection import State


def test_out_of_window_segments_do_not_keep_a_dead_peer_alive():
    # Linux's tcp_keepalive_timer counts from rcv_tstamp (an acceptable ACK) and lrcvtime (data);
    # a segment that fails the sequence check resets neither. A blind sender that only knows the
    # 4-tuple must not keep a dead connection up.
    conn, ctx, rec = established(keepalive=True, keepalive_time=10 * NS_PER_S,
                                 keepalive_interval=1 * NS_PER_S, keepalive_probes=3)
    for _ in range(60):
        ctx.clock.advance(NS_PER_S)
        if conn.state is State.CLOSED:
            break
        conn.segment_arrives(seg(ACK, (IRS + 1 + 2**31) % 2**32, ISS + 1))
    # keepalive_time (10 s) + keepalive_probes * keepalive_interval (3 s): closed by ~14 s.
    assert conn.state is State.CLOSED, f"still {conn.state.value} after 60 s"
    assert rec.closed_with == errno.ETIMEDOUT


HANDSHAKE_TS = """
tcp sack=False window_scaling=False
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460, nop, nop, TS val=1000 ecr=0>
0.100  > S.  seq=0 ack=1 <mss 1460, nop, nop, TS val=* ecr=1000>
0.200  < .   seq=1 ack=1 win=65535 <nop, nop, TS val=1100 ecr=0>
0.200  accept
"""


def test_syns_failing_paws_draw_at_most_one_challenge_ack_per_half_second():
    # Linux's tcp_validate_incoming sends a SYN failing PAWS to the challenge ACK, rate-limited
    # (RFC 5961 4.2, 7): ten forged SYNs with an old TSval draw one ACK, not ten.
    forged = "".join(f"{0.300 + i / 100:.3f}  < S   seq={77777 + i} win=0 <nop, nop, TS val=500 ecr=0>\n"
                     for i in range(10))
    script = HANDSHAKE_TS + forged.replace(
        "<nop, nop, TS val=500 ecr=0>\n", "<nop, nop, TS val=500 ecr=0>\n0.300  > .   seq=1 ack=1\n", 1)
    h = run_script(script)
    assert h.conn.state.value == "ESTABLISHED"


def test_pure_acks_failing_paws_draw_a_rate_limited_duplicate_ack():
    # tcp_send_dupack for a PAWS reject, at most one per tcp_invalid_ratelimit for a bare one.
    stale = "".join(f"{0.300 + i / 100:.3f}  < .   seq=1 ack=1 win=65535 <nop, nop, TS val=500 ecr=0>\n"
                    for i in range(5))
    script = HANDSHAKE_TS + stale.replace(
        "<nop, nop, TS val=500 ecr=0>\n", "<nop, nop, TS val=500 ecr=0>\n0.300  > .   seq=1 ack=1\n", 1)
    run_script(script)


def test_a_bare_fin_into_a_zero_window_is_taken():
    # Linux (checked on 6.18 with a raw peer in a namespace): "ack = FIN + 1, win 0" and
    # CLOSE-WAIT at once; tcp_sequence lets a FIN past the window and tcp_data_queue queues it.
    run_script("""
tcp sack=False timestamps=False window_scaling=False rcvbuf=2048
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460>
0.100  > S.  seq=0 ack=1 win=2048 <mss 1460>
0.200  < .   seq=1 ack=1 win=65535
0.200  accept
0.300  < P.  seq=1 ack=1 win=65535 len=1024
0.340  > .   seq=1 ack=1025 win=*
0.400  < P.  seq=1025 ack=1 win=65535 len=1024
0.440  > .   seq=1 ack=2049 win=0
0.500  < F.  seq=2049 ack=1 win=65535
0.500  > .   seq=1 ack=2050 win=0
0.500  expect state CLOSE-WAIT
""")


def test_an_ack_sent_while_the_peer_shrank_its_window_carries_a_sequence_number_it_accepts():
    # The peer took 1000 of 3000 bytes and shut its window: snd_nxt now lies beyond its window, so
    # an ACK with seq = snd_nxt fails its acceptability check and is dropped, window updates in it
    # too (both sides then back off; found running an echo server under loss). Linux's
    # tcp_acceptable_seq sends the window's right edge, snd_una + snd_wnd, instead.
    conn, ctx, _ = established()
    conn.write(b"c" * 3000)
    ctx.take()
    conn.segment_arrives(ack(1000, window=0))
    conn.segment_arrives(seg(ACK | 0x08, IRS + 1, ISS + 1 + 1000, b"d" * 100, window=0))
    ctx.clock.advance_ms(50)  # the delayed ACK
    acks = [s for s in ctx.take() if not s.payload]
    assert acks and all(s.seq == ISS + 1 + 1000 for s in acks), [s.seq - ISS - 1 for s in acks]
