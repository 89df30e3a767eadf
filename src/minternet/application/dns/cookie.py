"""DNS cookies (RFC 7873), server side, with the interoperable server cookie of RFC 9018:
Version 1, three reserved bytes, a 32-bit timestamp and SipHash-2-4 over the client cookie, those
eight bytes and the client's address, keyed with the server's secret. Any server of a set that
shares the secret can check a cookie another one made, as BIND 9.16+ and Knot do."""

from __future__ import annotations

import hmac
import ipaddress
import struct

_M64 = 0xFFFFFFFFFFFFFFFF
_LE2 = struct.Struct("<QQ")
_LE1 = struct.Struct("<Q")

CLIENT_COOKIE_LEN = 8
SERVER_COOKIE_MIN, SERVER_COOKIE_MAX = 8, 32  # RFC 7873 4.2
VERSION = 1  # RFC 9018 4.1
MAX_AGE = 3600  # RFC 9018 4.3: a cookie more than an hour old is no longer valid
MAX_SKEW = 300  # ... nor one more than five minutes in the future
REFRESH_AGE = 1800  # ... and one older than half an hour SHOULD be replaced


def siphash24(key: bytes, message: bytes) -> bytes:
    """SipHash-2-4 (Aumasson and Bernstein, 2012) of ``message`` under a 16-byte ``key``; the
    64-bit result as 8 little-endian bytes, as the reference implementation writes it."""
    k0, k1 = _LE2.unpack(key)
    v0, v1 = k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D
    v2, v3 = k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573
    n = len(message)
    tail = message[n - n % 8:] + bytes(7 - n % 8) + bytes((n & 0xFF,))
    blocks = [_LE1.unpack_from(message, i)[0] for i in range(0, n - n % 8, 8)] + [_LE1.unpack(tail)[0]]

    def rounds(count: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(count):
            v0 = (v0 + v1) & _M64
            v1 = ((v1 << 13) | (v1 >> 51)) & _M64 ^ v0
            v0 = ((v0 << 32) | (v0 >> 32)) & _M64
            v2 = (v2 + v3) & _M64
            v3 = ((v3 << 16) | (v3 >> 48)) & _M64 ^ v2
            v0 = (v0 + v3) & _M64
            v3 = ((v3 << 21) | (v3 >> 43)) & _M64 ^ v0
            v2 = (v2 + v1) & _M64
            v1 = ((v1 << 17) | (v1 >> 47)) & _M64 ^ v2
            v2 = ((v2 << 32) | (v2 >> 32)) & _M64

    for m in blocks:
        v3 ^= m
        rounds(2)
        v0 ^= m
    v2 ^= 0xFF
    rounds(4)
    return _LE1.pack(v0 ^ v1 ^ v2 ^ v3)


def server_cookie(secret: bytes, client_cookie: bytes, client_ip: str, timestamp: int) -> bytes:
    """The 16-byte server cookie of RFC 9018 4 for this client at ``timestamp`` (seconds since
    the epoch, kept modulo 2**32)."""
    head = bytes((VERSION, 0, 0, 0)) + (timestamp & 0xFFFFFFFF).to_bytes(4, "big")
    ip = ipaddress.ip_address(client_ip).packed
    return head + siphash24(secret, client_cookie + head + ip)


def check(secret: bytes, cookie: bytes, client_ip: str, now: int) -> bool:
    """Whether ``cookie`` (client cookie and server cookie, as the COOKIE option carries them)
    holds a server cookie we made for this client and client cookie, less than an hour ago."""
    if len(cookie) != CLIENT_COOKIE_LEN + 16 or cookie[CLIENT_COOKIE_LEN] != VERSION:
        return False
    stamp = int.from_bytes(cookie[12:16], "big")
    age = (now - stamp) & 0xFFFFFFFF  # serial-number arithmetic (RFC 1982), as RFC 9018 4.3 asks
    if age >= 0x80000000:
        age -= 1 << 32
    if not -MAX_SKEW <= age <= MAX_AGE:
        return False
    want = server_cookie(secret, cookie[:CLIENT_COOKIE_LEN], client_ip, stamp)
    return hmac.compare_digest(want, cookie[CLIENT_COOKIE_LEN:])


def well_formed(cookie: bytes) -> bool:
    """A COOKIE option's data is a client cookie alone, or one and a server cookie of 8 to 32
    bytes (RFC 7873 5.2.2: anything else is FORMERR)."""
    n = len(cookie)
    return n == CLIENT_COOKIE_LEN or CLIENT_COOKIE_LEN + SERVER_COOKIE_MIN <= n <= CLIENT_COOKIE_LEN + SERVER_COOKIE_MAX
