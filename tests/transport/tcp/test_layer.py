"""The TCP layer's listeners as Linux has them, in scripted exchanges (tests/tcpscript.py): the
accept queue bounded by the backlog, SYN cookies once the SYN queue is full, a SYN that ends a
TIME-WAIT."""

from tcpscript import Line, run_script

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
