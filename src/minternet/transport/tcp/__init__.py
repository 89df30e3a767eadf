"""TCP (RFC 9293), one module per idea: sequence arithmetic (seq), initial sequence numbers (isn),
the retransmission timer estimator (rtt), congestion control (congestion), the receiver's
out-of-order queue (reassembly), the sender's SACK scoreboard (scoreboard), the send buffer
(sendbuffer) and the connection state machine that ties them together (connection).

The building blocks are pure: no sockets, no clock reads; time arrives as integer nanoseconds.
Import the submodules directly; this package imports nothing on purpose.
"""
