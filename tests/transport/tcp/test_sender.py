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


# -- markers compared with sequence arithmetic stay within 2**31 of snd_una (issue 11, bug 11) --------
import pytest  # noqa: E402
from tcpcontext import ISS, ack  # noqa: E402

from minternet.transport.tcp.seq import seq_add  # noqa: E402

LONG_AGO = 2**31 - 5000  # bytes sent since the marker was set: the next 5000 cross the half-space


@pytest.mark.parametrize("options", [dict(sack=False), dict(recovery="rfc6675")])
def test_fast_retransmit_still_works_after_two_gigabytes_without_a_loss(options):
    conn, ctx, _ = established(peer_mss=1000, **options)
    snd = conn.snd
    # As if 2**31 - 5000 bytes had gone by without a loss since the ISS, where `recover` starts.
    snd.recovery.recover = seq_add(snd.snd_una, -LONG_AGO)
    conn.write(b"d" * 10000)
    for n in range(2000, 10001, 2000):
        conn.segment_arrives(ack(n))
    conn.write(b"d" * 6000)
    ctx.take()
    for _ in range(3):
        conn.segment_arrives(ack(10000))
    assert conn.stats["fast_retransmits"] == 1
    assert any(s.seq == ISS + 1 + 10000 for s in ctx.take())


def test_nagle_is_not_fooled_by_a_small_segment_two_gigabytes_ago():
    conn, ctx, _ = established(peer_mss=1000)
    snd = conn.snd
    snd.snd_sml = seq_add(snd.snd_una, -LONG_AGO)  # the last small segment, 2**31 - 5000 bytes ago
    conn.write(b"d" * 10000)
    for n in range(2000, 10001, 2000):
        conn.segment_arrives(ack(n))
    ctx.take()
    conn.write(b"d" * 100)  # nothing small is in flight: it goes now
    assert [len(s.payload) for s in ctx.take()] == [100]
