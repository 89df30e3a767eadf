"""TCP (RFC 9293), one module per idea: sequence arithmetic (seq), initial sequence numbers (isn),
the retransmission timer estimator (rtt), congestion control (congestion), the receiver's
out-of-order queue (reassembly), the sender's SACK scoreboard (scoreboard), the send buffer
(sendbuffer); the send side (sender: sequence space, segment size, Nagle, congestion control),
the receive side (receiver: rcv_nxt, window, delayed ACKs, SACK blocks), loss recovery behind one
interface (recovery: SACK with PRR, or NewReno), the states (state), and the connection state
machine that ties them together (connection), which sees the world only through a small context
(context: clock, random source, observer, output).

The building blocks are pure: no sockets, no clock reads; time arrives as integer nanoseconds.
Import the submodules directly; this package imports nothing on purpose.
"""
