"""The Internet checksum (RFC 1071), the TCP/UDP pseudo-header, and incremental update (RFC 1624).

The ones' complement sum of 16-bit words equals the big integer of the buffer modulo 0xFFFF
(because 2**16 == 1 mod 0xFFFF), so ``int.from_bytes(...) % 0xFFFF`` folds a whole buffer in one
C call. The one difference: a nonzero buffer whose sum is a multiple of 0xFFFF has ones' complement
sum 0xFFFF ("negative zero"), not 0.
"""

from __future__ import annotations

_from_bytes = int.from_bytes
_MASKS: dict[int, int] = {}


def _mod_ffff(n: int, nbits: int) -> int:
    """``n % 0xFFFF``, faster for long buffers: a division costs one machine division per 30-bit
    digit, while a fold ``(n >> k) + (n & (2**k - 1))`` (k a multiple of 16, so 2**k == 1 mod
    0xFFFF) halves the digits with cheap shifts and masks. Measured in bench/codecs.py."""
    while nbits > 2048:
        k = ((nbits >> 5) + 1) << 4
        m = _MASKS.get(k)
        if m is None:
            m = _MASKS[k] = (1 << k) - 1
        n = (n >> k) + (n & m)
        nbits = k + 1
    return n % 0xFFFF


def sum_mod_ffff(data: bytes | bytearray | memoryview) -> int:
    """The 16-bit words of ``data`` (odd length padded with a zero byte) summed mod 0xFFFF.

    That is the ones' complement sum except that a sum of 0xFFFF comes out 0. The codecs reduce the
    payload with this first and then add their header fields as small integers, so the big integer
    is touched by one conversion and one reduction, never by an addition or a shift."""
    size = len(data)
    if size <= 600:
        r = _from_bytes(data, "big") % 0xFFFF
        return (r << 8) % 0xFFFF if size & 1 else r
    # Longer: fold before reducing (a division per 30-bit digit costs more than a fold from about
    # 600 bytes). The first two folds come cheaper as four conversions of even-length quarters
    # (2**(8 * even) == 1 mod 0xFFFF, so each counts whole), added: 5% on a full-sized segment.
    q = (size >> 3) << 1
    last = _from_bytes(data[3 * q:], "big")
    if size & 1:
        last <<= 8  # pad the odd end with a zero byte
    n = (_from_bytes(data[:q], "big") + _from_bytes(data[q:2 * q], "big")
         + _from_bytes(data[2 * q:3 * q], "big") + last)
    return _mod_ffff(n, ((size - 3 * q) << 3) + 16)


def ones_sum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The 16-bit ones' complement sum of ``data`` (odd length padded with a zero byte) plus ``initial``."""
    size = len(data)
    n = _from_bytes(data, "big")
    if size & 1:
        n <<= 8
    n += initial
    if n == 0:
        return 0
    return _mod_ffff(n, (size << 3) + 40) or 0xFFFF


def ones_sum2(head: bytes, tail: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """``ones_sum(head + tail, initial)`` without the copy; ``head`` must have even length."""
    size = len(tail)
    t = _from_bytes(tail, "big")
    if size & 1:
        t <<= 8
    n = _from_bytes(head, "big") + t + initial
    if n == 0:
        return 0
    return _mod_ffff(n, max(size, len(head)) * 8 + 48) or 0xFFFF


def internet_checksum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The checksum field value for ``data`` (with its own checksum field zeroed)."""
    return ~ones_sum(data, initial) & 0xFFFF


def pseudo_header_sum(src: bytes, dst: bytes, proto: int, length: int) -> int:
    """The unfolded sum of the IPv4 pseudo-header (RFC 793 3.1, RFC 768): src, dst, zero, proto, length."""
    return _from_bytes(src, "big") + _from_bytes(dst, "big") + proto + length


def is_valid(data: bytes | bytearray | memoryview, initial: int = 0) -> bool:
    """True when ``data`` (checksum field included) sums to all ones, i.e. the checksum verifies."""
    return ones_sum(data, initial) == 0xFFFF


def incremental_update(checksum: int, old_word: int, new_word: int) -> int:
    """RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changed from ``old_word`` to ``new_word``."""
    s = (~checksum & 0xFFFF) + (~old_word & 0xFFFF) + new_word
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
