"""The TCP layer's listeners as Linux has them, in scripted exchanges (tests/tcpscript.py): the
accept queue bounded by the backlog, SYN cookies once the SYN queue is full, a SYN that ends a
TIME-WAIT."""

import pytest
from tcpscript import Line, parse, run_script

PLAIN = "tcp sack=False timestamps=False window_scaling=False\n"


def test_the_accept_queue_holds_backlog_plus_one_and_the_last_ack_waits_for_room():
    # Linux: sk_acceptq_is_full is "more than the backlog"; then the handshake's last ACK is
    # dropped (ListenOverflows, tcp_abort_on_overflow=0), the SYN+ACK is retransmitted and the
    # peer's answer to it gets in once accept() has made room; new SYNs are dropped meanwhile.
    h = run_script(PLAIN + """
0.000  listen 8080 backlog=2
0.100  < S   seq=0 win=65535 port=40001 <mss 1460>
0.100  > S.  seq=0 ack=1 port=40001 <mss 1460>
0.100  < S   seq=0 win=65535 port=40002 <mss 1460>
0.100  > S.  seq=0 ack=1 port=40002 <mss 1460>
0.110  < .   seq=1 ack=1 port=40001
0.110  < .   seq=1 ack=1 port=40002
0.120  < S   seq=0 win=65535 port=40003 <mss 1460>
0.120  > S.  seq=0 ack=1 port=40003 <mss 1460>
0.120  < S   seq=0 win=65535 port=40004 <mss 1460>
0.120  > S.  seq=0 ack=1 port=40004 <mss 1460>
0.130  < .   seq=1 ack=1 port=40003
0.130  < .   seq=1 ack=1 port=40004          # three queued: full, so this one is dropped
0.140  < S   seq=0 win=65535 port=40005 <mss 1460>   # and so is a new SYN
1.120  > S.  seq=0 ack=1 port=40004 <mss 1460>
1.200  accept
1.210  < .   seq=1 ack=1 port=40004          # the answer to the retransmitted SYN+ACK
1.220  accept
1.220  accept
1.220  accept
1.220  expect state ESTABLISHED
""")
    assert h.conn.remote[1] == 40004 and not h.listener.accept_queue
    stats = h.host.stats
    assert stats["tcp.listen_overflows"] == 2 and stats["drop.accept-queue-full"] == 2


def test_the_backlog_is_clamped_to_somaxconn():
    h = run_script("0.000  listen 8080 backlog=100000\n")
    assert h.listener.backlog == 4096
    h = run_script("0.000  listen 8081 backlog=-1\n")
    assert h.listener.backlog == 4096  # negative: as unsigned, above somaxconn


# -- SYN cookies ----------------------------------------------------------------------------------
COOKIE_PLAIN = """
tcp timestamps=False
0.000  listen 8080 backlog=1
0.100  < S   seq=0 win=65535 port=40001 <mss 1460, nop, nop, sackOK, nop, wscale 7>
0.100  > S.  seq=0 ack=1 port=40001 <mss 1460, nop, nop, sackOK, nop, wscale *>
0.110  < S   seq=0 win=65535 port=40002 <mss 1400, nop, nop, sackOK, nop, wscale 7>
0.110  > S.  seq=0 ack=1 win=65535 port=40002 <mss 1460>      # the SYN queue is full: a cookie
"""


def test_a_full_syn_queue_answers_with_a_cookie_and_its_ack_makes_the_connection():
    # Linux (tcp_syncookies=1): without timestamps the cookie can carry neither window scaling
    # nor SACK, so the SYN+ACK offers only the MSS; the peer's 1400 is rounded down to 1300.
    h = run_script(COOKIE_PLAIN + """
0.140  < .   seq=1 ack=1 win=500 port=40002
0.140  accept
0.140  expect state ESTABLISHED
0.150  write 100
0.150  > P.  seq=1 ack=1 len=100 port=40002
""")
    c = h.conn
    assert c.remote[1] == 40002 and c.mss == 1300 and not c.sack_ok and c.snd_wscale == 0 and c.rcv_wscale == 0
    assert c.snd_wnd == 500
    stats = h.host.stats
    assert stats["tcp.syncookies_sent"] == 1 and stats["tcp.syncookies_recv"] == 1
    assert len(h.listener.syn_queue) == 1  # the first SYN's half-open connection; the cookie kept nothing
    assert len(h.host.tcp.connections) == 2


def test_data_on_the_ack_of_a_cookie_is_received():
    run_script(COOKIE_PLAIN + """
0.140  < P.  seq=1 ack=1 win=500 port=40002 len=10
0.140  accept
0.140  read 10
0.180  > .   seq=1 ack=11 port=40002
""")


def test_an_ack_that_is_no_cookie_of_ours_is_reset_and_counted():
    h = run_script(COOKIE_PLAIN + """
0.140  < .   seq=1 ack=77 port=40003
0.140  > R   seq=77 port=40003
0.150  < .   seq=5 ack=1 port=40002                 # the right ACK number, the wrong sequence number
0.150  > R   seq=1 port=40002
""")
    assert h.host.stats["tcp.syncookies_failed"] == 2 and not h.listener.accept_queue


@pytest.mark.parametrize("when, good", [(119.0, True), (180.0, False)])
def test_a_cookie_is_good_for_two_minutes_only(when, good):
    # MAX_SYNCOOKIE_AGE: the minute counter may have moved on by one, not by two. (The SYN queue
    # overflows again just before, so that ACKs are still checked for cookies.)
    h = run_script(COOKIE_PLAIN + f"""
0.120  < R   seq=1 port=40001                       # the half-open one goes away
{when - 0.1}  < S   seq=0 win=65535 port=40005 <mss 1460>
{when - 0.1}  > S.  seq=0 ack=1 port=40005 <mss 1460>
{when - 0.05}  < S   seq=0 win=65535 port=40006 <mss 1460>
{when - 0.05}  > S.  seq=0 ack=1 port=40006 <mss 1460>
{when}  < .   seq=1 ack=1 port=40002
""" + ("" if good else f"{when}  > R   seq=1 port=40002\n"))
    assert h.host.stats["tcp.syncookies_failed"] == (0 if good else 1)
    assert len(h.listener.accept_queue) == (1 if good else 0)


def test_acks_are_not_taken_for_cookies_without_a_recent_overflow():
    # tcp_synq_no_recent_overflow: no cookie went out, so a stray ACK is a plain stray.
    h = run_script(PLAIN + """
0.000  listen 8080
0.100  < .   seq=1 ack=1 port=40002
0.100  > R   seq=1 port=40002
""")
    assert h.host.stats["tcp.syncookies_failed"] == 0


def test_with_timestamps_the_cookie_carries_window_scaling_and_sack():
    # Linux's cookie_init_timestamp: the SYN's wscale and SACK-permitted ride in the low 6 bits
    # of our TSval and come back in the ACK's TSecr.
    h = run_script("""
0.000  listen 8080 backlog=0
0.100  < S   seq=0 win=65535 port=40002 <mss 1460, sackOK, TS val=100 ecr=0, nop, wscale 7>
0.100  > S.  seq=0 ack=1 port=40002 <mss 1460, sackOK, TS val=* ecr=100, nop, wscale *>
""")
    synack = h.matched[-1]
    ts = synack.options[2]
    h.do_inject(Line(0, 0, "<", ["P.", "seq=1", "ack=1", "win=500", "port=40002", "len=10",
                                 f"<nop, nop, TS val=130 ecr={ts.tsval}>"]))
    conn = h.listener.accept_queue.popleft()
    assert conn.ts_ok and conn.sack_ok and conn.snd_wscale == 7 and conn.snd_wnd == 500 << 7
    assert conn.mss == 1460 - 12 and conn.rcv_wscale == synack.options[-1].shift
    h.net.scheduler.run_until(h.net.scheduler.now + 50_000_000)
    (_, ack), = h.sent
    h.sent.clear()
    later = next(o for o in ack.options if type(o).__name__ == "Timestamps")
    assert later.tsecr == 130 and 0 <= (later.tsval - ts.tsval) % 2**32 < 1000  # our clock never went back
    assert h.host.stats["tcp.syncookies_recv"] == 1


def test_without_syncookies_a_full_syn_queue_drops_syns():
    h = run_script(PLAIN + """
0.000  listen 8080 backlog=1
0.100  < S   seq=0 win=65535 port=40001 <mss 1460>
0.100  > S.  seq=0 ack=1 port=40001 <mss 1460>
""")
    h.host.tcp.syncookies = 0
    h.do_inject(Line(0, 0, "<", ["S", "seq=0", "win=65535", "port=40002", "<mss 1460>"]))
    h.net.scheduler.run_until(h.net.scheduler.now + 1)
    assert not h.sent and h.host.stats["drop.syn-queue-full"] == 1 and h.listener.syns_dropped == 1


# -- a SYN over TIME-WAIT -------------------------------------------------------------------------
SERVER_CLOSES_FIRST = """
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460{ts0}>
0.100  > S.  seq=0 ack=1 <mss 1460{ts1}>
0.110  < .   seq=1 ack=1{ts2}
0.110  accept
0.120  close
0.120  > F.  seq=1 ack=1
0.130  < F.  seq=1 ack=2{ts3}
0.130  > .   seq=2 ack=2
0.130  expect state TIME-WAIT
"""


def plain_time_wait() -> str:
    return PLAIN + SERVER_CLOSES_FIRST.format(ts0="", ts1="", ts2="", ts3="")


def ts_time_wait() -> str:
    return "tcp sack=False window_scaling=False\n" + SERVER_CLOSES_FIRST.format(
        ts0=", nop, nop, TS val=100 ecr=0", ts1=", nop, nop, TS val=* ecr=100", ts2=" <nop, nop, TS val=110 ecr=0>",
        ts3=" <nop, nop, TS val=130 ecr=0>").replace("> F.  seq=1 ack=1", "> F.  seq=1 ack=1 <nop, nop, TS val=* ecr=110>") \
        .replace("> .   seq=2 ack=2", "> .   seq=2 ack=2 <nop, nop, TS val=* ecr=130>")


def test_a_syn_with_a_higher_sequence_number_ends_time_wait_and_opens_at_once():
    # Linux's tcp_timewait_state_process (RFC 1122 4.2.2.13): the new connection's ISN is
    # snd_nxt + 65535 + 2, above anything the old one sent; one round trip, no RST, no retry.
    h = run_script(plain_time_wait() + """
0.500  < S   seq=5000 win=65535 <mss 1460>
0.500  > S.  seq=65539 ack=5001 <mss 1460>
0.510  < .   seq=5001 ack=65540
0.510  accept
0.510  expect state ESTABLISHED
""")
    assert h.host.stats["tcp.timewait_recycled"] == 1 and len(h.host.tcp.connections) == 1


def test_a_syn_below_rcv_nxt_in_time_wait_is_answered_with_an_ack():
    run_script(plain_time_wait() + """
0.500  < S   seq=0 win=65535 <mss 1460>
0.500  > .   seq=2 ack=2
0.500  expect state TIME-WAIT
""")


def test_with_timestamps_a_newer_tsval_is_enough_and_an_older_one_is_not():
    run_script(ts_time_wait() + """
0.500  < S   seq=0 win=65535 <mss 1460, nop, nop, TS val=120 ecr=0>
0.500  > .   seq=2 ack=2 <nop, nop, TS val=* ecr=130>
0.600  < S   seq=0 win=65535 <mss 1460, nop, nop, TS val=600 ecr=0>
0.600  > S.  seq=65539 ack=1 <mss 1460, nop, nop, TS val=* ecr=600>
0.610  < .   seq=1 ack=65540 <nop, nop, TS val=610 ecr=0>
0.610  accept
0.610  expect state ESTABLISHED
""")


# -- ICMP errors ------------------------------------------------------------------------------------
def icmp_about(h, type_: int, code: int, seq: int, rest: int = 0) -> None:
    """An ICMP error from a router (10.0.0.254) about a segment we sent to the peer with ``seq``."""
    from minternet.wire.icmp import ICMP
    from minternet.wire.ipv4 import IPv4
    from minternet.wire.tcp import TCP
    from tcpscript import PEER, PEER_MAC, US
    quoted = IPv4(US, PEER, 6, TCP(h.local_port, h.peer_port, seq, 0, 0x02, 65535).encode(US, PEER), 64).encode()
    ip = IPv4("10.0.0.254", US, 1, ICMP(type_, code, rest, quoted).encode(), 64)
    h.iface.receive(h.iface.mac + PEER_MAC + b"\x08\x00" + ip.encode())


def test_a_frag_needed_about_our_syn_still_bounds_the_mss_the_synack_negotiates():
    # Linux keeps the path MTU (icsk_pmtu_cookie) and tcp_sync_mss applies it after the SYN+ACK;
    # the SYN itself is not resent (tcp_simple_retransmit has no data to shrink).
    h = run_script(PLAIN + """
0.000  connect 80
0.000  > S   seq=0 <mss 1460>
""")
    icmp_about(h, 3, 4, h.conn.iss, rest=1000)
    h.net.scheduler.run_until(10_000_000)
    assert not h.sent and h.conn.state.value == "SYN-SENT"
    h.run(parse("""
0.030  < S.  seq=0 ack=1 win=65535 <mss 1460>
0.030  > .   seq=1 ack=1
0.040  write 2000
0.040  > .   seq=1 ack=1 len=960
0.040  > .   seq=961 ack=1 len=960
0.040  > P.  seq=1921 ack=1 len=80
""")[1])
    assert h.conn.mss == 960


def test_a_forged_tiny_mtu_is_taken_as_min_pmtu():
    # IP floors a reported MTU at Linux's net.ipv4.route.min_pmtu (552) before TCP hears of it.
    h = run_script(PLAIN + """
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 1460>
0.100  > S.  seq=0 ack=1 <mss 1460>
0.110  < .   seq=1 ack=1
0.110  accept
""")
    icmp_about(h, 3, 4, h.conn.snd_una, rest=68)
    h.net.scheduler.run_until(200_000_000)
    assert h.conn.mss == 552 - 40
    h.conn.path_mtu_changed(68)  # our own interface's MTU, unfloored: TCP's own floor
    assert h.conn.mss == 48  # net.ipv4.tcp_min_snd_mss


def test_a_tiny_announced_mss_is_raised_to_linuxs_floor():
    h = run_script(PLAIN + """
0.000  listen 8080
0.100  < S   seq=0 win=65535 <mss 20>
0.100  > S.  seq=0 ack=1 <mss 1460>
0.110  < .   seq=1 ack=1
0.110  accept
0.120  write 100
0.120  > .   seq=1 ack=1 len=48
0.120  > .   seq=49 ack=1 len=48
0.120  > P.  seq=97 ack=1 len=4
""")
    assert h.conn.mss == 48  # net.ipv4.tcp_min_snd_mss
