"""SYN cookies (RFC 4987 3.6), as Linux makes them (net/ipv4/syncookies.c): when a listener's SYN
queue is full, the SYN+ACK's sequence number carries what the listener would have kept, and the
ACK that returns it makes the connection; the listener keeps nothing for the SYN.

The cookie (Linux's secure_tcp_syn_cookie)::

    H0(4-tuple) + peer's ISN + (count << 24) + ((H1(4-tuple, count) + mss index) mod 2**24)

``count`` is a minute counter, H0 and H1 keyed hashes, and the MSS index points into a small table
of common MSS values (the peer's MSS is rounded down to one of them). A cookie is good for two
minutes (MAX_SYNCOOKIE_AGE). With timestamps, the SYN's other options (window scale, SACK
permitted, ECN) travel in the low 6 bits of our TSval and come back in the ACK's TSecr
(cookie_init_timestamp / cookie_timestamp_decode); without timestamps they are lost, so the SYN+ACK
offers only the MSS.

Time is passed in (now_ns): the same seed and the same simulated time give the same cookie.
"""

from __future__ import annotations

import hashlib
import socket

from ...runtime import NS_PER_MS, NS_PER_S
from .seq import SEQ_MASK

MSS_TABLE = (536, 1300, 1440, 1460)  # Linux's msstab (1440: PPPoE)
COOKIE_BITS = 24  # the low bits: hash + MSS index; the high 8: the minute counter
COOKIE_MASK = (1 << COOKIE_BITS) - 1
PERIOD_NS = 60 * NS_PER_S  # TCP_SYNCOOKIE_PERIOD: the counter ticks every minute
MAX_AGE = 2  # MAX_SYNCOOKIE_AGE: a cookie from this minute or the last one
VALID_NS = MAX_AGE * PERIOD_NS  # TCP_SYNCOOKIE_VALID: how long after an overflow ACKs are checked
TS_BITS = 6  # low bits of TSval that carry the SYN's options
TS_OPT_WSCALE_MASK = 0x0F  # 0xF: no window scaling
TS_OPT_SACK = 0x10
TS_OPT_ECN = 0x20


class SynCookies:
    """Cookies from one host's secret (Linux's syncookie_secret, chosen once)."""

    __slots__ = ("_keys",)

    def __init__(self, secret: bytes) -> None:
        # Two hashes (Linux: siphash with syncookie_secret[0] and [1]), and a third key for the
        # timestamp offset (secure_tcp_ts_off): BLAKE2b keyed, each key derived from the secret.
        self._keys = tuple(hashlib.blake2b(bytes(secret), digest_size=32, person=b"syncookie%d" % i).digest()
                           for i in range(3))

    def _hash(self, remote_ip: str, local_ip: str, remote_port: int, local_port: int, count: int, c: int) -> int:
        ident = (socket.inet_aton(remote_ip) + socket.inet_aton(local_ip) + remote_port.to_bytes(2, "big")
                 + local_port.to_bytes(2, "big") + count.to_bytes(4, "big"))
        return int.from_bytes(hashlib.blake2b(ident, digest_size=4, key=self._keys[c]).digest(), "big")

    @staticmethod
    def _count(now_ns: int) -> int:
        return (now_ns // PERIOD_NS) & 0xFFFFFFFF  # tcp_cookie_time

    def make(self, remote_ip: str, local_ip: str, remote_port: int, local_port: int, peer_isn: int,
             peer_mss: int, now_ns: int) -> tuple[int, int]:
        """(our ISN, the MSS it encodes) for a SYN from remote (Linux's __cookie_v4_init_sequence):
        the peer's MSS rounded down to the table, 536 below 1300."""
        index = len(MSS_TABLE) - 1
        while index and peer_mss < MSS_TABLE[index]:
            index -= 1
        count = self._count(now_ns)
        cookie = (self._hash(remote_ip, local_ip, remote_port, local_port, 0, 0) + peer_isn + (count << COOKIE_BITS)
                  + ((self._hash(remote_ip, local_ip, remote_port, local_port, count, 1) + index) & COOKIE_MASK))
        return cookie & SEQ_MASK, MSS_TABLE[index]

    def check(self, remote_ip: str, local_ip: str, remote_port: int, local_port: int, seq: int, ack: int,
              now_ns: int) -> int:
        """The MSS an ACK's cookie encodes, or 0 when it is not one of ours or too old (Linux's
        __cookie_v4_check / check_tcp_syn_cookie): ``seq`` and ``ack`` are the ACK's."""
        cookie = (ack - 1 - self._hash(remote_ip, local_ip, remote_port, local_port, 0, 0) - (seq - 1)) & SEQ_MASK
        count = self._count(now_ns)
        diff = (count - (cookie >> COOKIE_BITS)) & (SEQ_MASK >> COOKIE_BITS)
        if diff >= MAX_AGE:
            return 0
        index = (cookie - self._hash(remote_ip, local_ip, remote_port, local_port, (count - diff) & 0xFFFFFFFF, 1)) \
            & COOKIE_MASK
        return MSS_TABLE[index] if index < len(MSS_TABLE) else 0

    def ts_offset(self, local_ip: str, remote_ip: str) -> int:
        """The random offset of our TSvals towards remote (Linux's secure_tcp_ts_off): a keyed hash,
        so that the ACK's TSecr can be read back without state."""
        ident = socket.inet_aton(local_ip) + socket.inet_aton(remote_ip)
        return int.from_bytes(hashlib.blake2b(ident, digest_size=4, key=self._keys[2]).digest(), "big")


def encode_ts(now_ns: int, wscale: int | None, sack: bool, ecn: bool = False) -> int:
    """Our millisecond clock (before the offset) with the SYN's options in its low 6 bits, never
    ahead of the clock, so that later TSvals do not go back (Linux's cookie_init_timestamp)."""
    ts_now = (now_ns // NS_PER_MS) & 0xFFFFFFFF
    options = wscale if wscale is not None else TS_OPT_WSCALE_MASK
    if sack:
        options |= TS_OPT_SACK
    if ecn:
        options |= TS_OPT_ECN
    ts = (ts_now >> TS_BITS) << TS_BITS | options
    if ts > ts_now:
        ts -= 1 << TS_BITS
    return ts & 0xFFFFFFFF


def decode_ts(tsecr: int) -> tuple[int | None, bool]:
    """(window scale or None, SACK permitted) from the TSecr of a cookie's ACK, the offset taken
    off (Linux's cookie_timestamp_decode)."""
    wscale = tsecr & TS_OPT_WSCALE_MASK
    return (None if wscale == TS_OPT_WSCALE_MASK else wscale), bool(tsecr & TS_OPT_SACK)
