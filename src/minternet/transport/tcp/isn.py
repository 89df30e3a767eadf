"""Initial sequence numbers (RFC 6528 3): ISN = M + F(localip, localport, remoteip, remoteport,
secretkey), M a clock ticking every 4 microseconds and F a keyed hash, so that each connection
4-tuple gets its own sequence space and an off-path attacker cannot guess it (RFC 6528 1).

The clock is passed in (now_ns), so the same seed and the same simulated time give the same ISN.
"""

from __future__ import annotations

import hashlib
import ipaddress

from .seq import SEQ_MASK

TICK_NS = 4000  # RFC 6528 3 (after RFC 793): M is incremented every 4 microseconds
_MAX_KEY = hashlib.blake2b.MAX_KEY_SIZE


class ISNGenerator:
    """ISNs from one host's secret (RFC 6528 3: the secret is chosen at boot and kept)."""

    __slots__ = ("_key",)

    def __init__(self, secret: bytes) -> None:
        secret = bytes(secret)
        # BLAKE2b takes keys of at most 64 bytes; a longer secret is reduced to 64 bytes first.
        self._key = secret if len(secret) <= _MAX_KEY else hashlib.blake2b(secret).digest()

    def offset(self, local_ip: str, local_port: int, remote_ip: str, remote_port: int) -> int:
        """F(4-tuple, secret): a 32-bit keyed hash of the connection identifier."""
        ident = (ipaddress.ip_address(local_ip).packed + local_port.to_bytes(2, "big")
                 + ipaddress.ip_address(remote_ip).packed + remote_port.to_bytes(2, "big"))
        digest = hashlib.blake2b(ident, digest_size=4, key=self._key).digest()
        return int.from_bytes(digest, "big")

    def isn(self, local_ip: str, local_port: int, remote_ip: str, remote_port: int, now_ns: int) -> int:
        """The ISN for a connection opened at now_ns: (now_ns // 4 us + F) mod 2**32."""
        return (now_ns // TICK_NS + self.offset(local_ip, local_port, remote_ip, remote_port)) & SEQ_MASK
