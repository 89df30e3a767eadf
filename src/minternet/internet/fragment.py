"""IPv4 fragmentation (RFC 791 3.2, RFC 815) and reassembly with a timeout and a memory bound.

Reassembly drops, and counts, what an attacker or a broken link can send: overlapping fragments
(the Teardrop family; Linux has dropped them since 2018), more than ``max_fragments`` pieces of
one datagram, and datagrams that would exceed 65535 bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..runtime import NS_PER_S, Timer
from ..wire.ipv4 import IPFlags, IPv4

if TYPE_CHECKING:
    from ..runtime import Clock
    from ..stack.observer import Observer


def copied_options(options: bytes) -> bytes:
    """The options that RFC 791 says go into every fragment: those with the copied bit (0x80)."""
    out = bytearray()
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2:
            break
        length = options[i + 1]
        if kind & 0x80:
            out += options[i:i + length]
        i += length
    return bytes(out)


def fragment(ip: IPv4, mtu: int) -> list[IPv4]:
    """Split a datagram (DF clear) into fragments that each fit ``mtu`` bytes."""
    first_hl = 20 + ((len(ip.options) + 3) & ~3)
    rest_opts = copied_options(ip.options)
    rest_hl = 20 + ((len(rest_opts) + 3) & ~3)
    data = ip.payload
    base = ip.frag_offset * 8
    last_mf = ip.flags & IPFlags.MF
    out: list[IPv4] = []
    pos = 0
    while pos < len(data):
        hl = first_hl if pos == 0 else rest_hl
        room = (mtu - hl) & ~7
        if room <= 0:
            raise ValueError(f"MTU {mtu} too small to fragment into")
        chunk = data[pos:pos + room]
        end = pos + len(chunk)
        more = IPFlags.MF if end < len(data) or last_mf else 0
        out.append(ip._replace(payload=chunk, flags=(ip.flags & ~IPFlags.MF) | more,
                               frag_offset=(base + pos) >> 3,
                               options=ip.options if pos == 0 else rest_opts))
        pos = end
    return out


class _Datagram:
    __slots__ = ("pieces", "size", "total", "first", "timer", "iface")

    def __init__(self, timer: Timer, iface: str) -> None:
        self.pieces: dict[int, bytes] = {}  # offset in bytes -> data
        self.size = 0
        self.total: int | None = None  # known once the last fragment (MF clear) arrives
        self.first: IPv4 | None = None  # the fragment at offset 0: its header becomes the datagram's
        self.timer = timer
        self.iface = iface


class Reassembler:
    """Puts fragmented datagrams back together at their destination."""

    def __init__(self, clock: "Clock", obs: "Observer", timeout: int = 30 * NS_PER_S,
                 max_bytes: int = 4 * 1024 * 1024, max_fragments: int = 64,
                 on_timeout: Callable[[IPv4, str], None] | None = None) -> None:
        self.clock = clock
        self.obs = obs
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_fragments = max_fragments
        self.buffered = 0
        self._datagrams: dict[tuple, _Datagram] = {}
        # Called with the first fragment when a datagram times out (ICMP time exceeded).
        self.on_timeout = on_timeout

    def __len__(self) -> int:
        return len(self._datagrams)

    def clear(self) -> None:
        for d in self._datagrams.values():
            d.timer.cancel()
        self._datagrams.clear()
        self.buffered = 0

    def add(self, ip: IPv4, iface: str) -> IPv4 | None:
        """Take one fragment; return the whole datagram when this fragment completes it."""
        obs = self.obs
        key = (ip.src, ip.dst, ip.proto, ip.ident)
        d = self._datagrams.get(key)
        if d is None:
            d = self._datagrams[key] = _Datagram(Timer(self.clock, lambda: self._expire(key)), iface)
            d.timer.arm_in(self.timeout)
        offset = ip.frag_offset * 8
        data = ip.payload
        end = offset + len(data)
        if ip.mf and (len(data) & 7 or not data):
            return self._discard(key, "frag-bad-length")
        if end + 20 > 65535:
            return self._discard(key, "frag-too-big")
        old = d.pieces.get(offset)
        if old is not None and old == data:
            obs.stats["ip.frag_duplicates"] += 1
            return None
        for o, piece in d.pieces.items():
            if o < end and offset < o + len(piece):
                return self._discard(key, "frag-overlap")
        if not ip.mf:
            if d.total is not None and d.total != end or any(o + len(p) > end for o, p in d.pieces.items()):
                return self._discard(key, "frag-overlap")
            d.total = end
        elif d.total is not None and end > d.total:
            return self._discard(key, "frag-overlap")
        if len(d.pieces) >= self.max_fragments:
            return self._discard(key, "frag-too-many")
        d.pieces[offset] = data
        d.size += len(data)
        self.buffered += len(data)
        if offset == 0:
            d.first = ip
        obs.stats["ip.frags_received"] += 1
        if self.buffered > self.max_bytes:
            self._evict(keep=key)
            if key not in self._datagrams:
                return None
        if d.total is None or d.size != d.total or d.first is None:
            return None
        del self._datagrams[key]
        d.timer.cancel()
        self.buffered -= d.size
        payload = b"".join(d.pieces[o] for o in sorted(d.pieces))
        obs.stats["ip.reassembled"] += 1
        return d.first._replace(payload=payload, flags=d.first.flags & ~IPFlags.MF, frag_offset=0)

    def _discard(self, key: tuple, reason: str, arriving: int = 1) -> None:
        """Drop a datagram's fragments, counting the one that just arrived (``arriving``) too."""
        d = self._datagrams.pop(key)
        d.timer.cancel()
        self.buffered -= d.size
        self.obs.drop("ip", reason, d.iface, count=len(d.pieces) + arriving,
                       text=f"fragments of {key[0]} > {key[1]} id={key[3]} discarded")
        return None

    def _evict(self, keep: tuple) -> None:
        # Oldest first (dicts keep insertion order): like Linux's ipfrag_high_thresh eviction.
        for key in list(self._datagrams):
            if self.buffered <= self.max_bytes:
                break
            if key != keep:
                self._discard(key, "reassembly-memory", arriving=0)
        if self.buffered > self.max_bytes and keep in self._datagrams:
            self._discard(keep, "reassembly-memory", arriving=0)

    def _expire(self, key: tuple) -> None:
        d = self._datagrams.pop(key, None)
        if d is None:
            return
        self.buffered -= d.size
        self.obs.drop("ip", "reassembly-timeout", d.iface, count=max(1, len(d.pieces)),
                       text=f"fragments of {key[0]} > {key[1]} id={key[3]} timed out")
        # RFC 792 / RFC 1122 3.2.1.4: time exceeded (code 1), only if we have the first fragment.
        if d.first is not None and self.on_timeout is not None:
            self.on_timeout(d.first, d.iface)
