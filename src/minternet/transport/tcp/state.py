"""The connection states of RFC 9293 3.3.2, and the sets of them the rules refer to."""

from __future__ import annotations

from enum import Enum


class State(Enum):
    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"


SYNCHRONIZED = {State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2, State.CLOSE_WAIT, State.CLOSING,
                State.LAST_ACK, State.TIME_WAIT}
CAN_RECEIVE = {State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2}
CAN_SEND = {State.ESTABLISHED, State.CLOSE_WAIT}
# Where the sender may put segments out (a tuple: `in` tests identity first, an Enum's hash is a
# Python call).
MAY_OUTPUT = (State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK,
              State.SYN_RECEIVED)
