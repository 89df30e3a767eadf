"""The send side: sizes set together, and the recovery the handshake picks."""

from tcpcontext import established

from minternet.transport.tcp.rack import RackRecovery
from minternet.transport.tcp.recovery import NewRenoRecovery, SackRecovery
from minternet.transport.tcp.sender import tso_send_size


def test_tso_send_size_is_whole_segments_that_fit_the_offload_limit():
    assert tso_send_size(1460, 0) == 1460
    assert tso_send_size(1460, 65536) == 44 * 1460
    assert tso_send_size(1460, 1000) == 1460  # never less than one segment


def test_set_mss_lowers_everything_sized_by_the_mss_at_once():
    conn, _, _ = established(peer_mss=1460, tso_max=16384)
    snd = conn.snd
    cwnd = snd.cc.cwnd
    snd.set_mss(1000)
    assert (snd.mss, snd.cc.mss, snd.recovery.mss) == (1000, 1000, 1000)
    assert snd.send_size == 16 * 1000
    assert snd.cc.cwnd == cwnd  # the window is bytes: unchanged


def test_the_handshake_picks_sack_recovery_only_when_the_peer_permits_it():
    # With SACK, RACK-TLP as Linux (net.ipv4.tcp_recovery=1), or DupThresh (RFC 6675) on request.
    assert type(established(sack=True)[0].snd.recovery) is RackRecovery
    assert type(established(sack=True, recovery="rfc6675")[0].snd.recovery) is SackRecovery
    assert type(established(sack=False)[0].snd.recovery) is NewRenoRecovery


def test_nagle_holds_a_small_segment_while_another_is_unacknowledged():
    conn, ctx, _ = established(peer_mss=1000)
    conn.write(b"a" * 10)
    assert len(ctx.take()) == 1
    conn.write(b"b" * 10)
    assert ctx.take() == []  # RFC 9293 3.7.4 (Minshall): wait for the ACK of the first
    from tcpcontext import ack
    conn.segment_arrives(ack(10))
    (s,) = ctx.take()
    assert s.payload == b"b" * 10
