"""Neighbour resolution with ARP (RFC 826): a cache with entry timeouts, a queue of packets
waiting for an answer, retries, gratuitous announcements (RFC 5227 2.3), and a failure callback
for the packets whose next hop never answered."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Callable

from ..runtime import NS_PER_S, Clock, Timer
from ..wire.arp import ARP, ARPOp
from ..wire.errors import MalformedPacket
from ..wire.ethernet import BROADCAST, EtherType
from ..wire.fields import (ARP_IPV4_OVER_ETHERNET, ETH_PAYLOAD, FRAME_ARP_END, FRAME_ARP_FIXED, FRAME_ARP_OPER,
                           FRAME_ARP_SHA, FRAME_ARP_SPA, FRAME_ARP_TPA)

if TYPE_CHECKING:
    from ..stack.observer import Observer
    from .interface import Interface

_ARP_ETHERTYPE = EtherType.ARP.to_bytes(2, "big")
_ZERO_MAC = b"\x00" * 6

SendIP = Callable[["Interface", bytes, bytes], None]  # (interface, destination MAC, IPv4 packet)
Failed = Callable[[bytes], None]  # an IPv4 packet whose next hop did not answer


class _Pending:
    __slots__ = ("iface", "packets", "tries", "timer")

    def __init__(self, iface: "Interface", timer: Timer) -> None:
        self.iface = iface
        self.packets: list[bytes] = []
        self.tries = 0
        self.timer = timer


_REQUEST = ARPOp.REQUEST.to_bytes(2, "big")
_REPLY = ARPOp.REPLY.to_bytes(2, "big")


class NeighborCache:
    """Resolves next-hop IPv4 addresses to MAC addresses for one node.

    Defaults are Linux's: three solicitations one second apart (``mcast_solicit``,
    ``retrans_time_ms``); the entry timeout is a fixed 60 s where Linux ages entries through
    REACHABLE/STALE; the queue holds up to 100 packets per neighbour."""

    def __init__(self, clock: Clock, obs: "Observer", send_ip: SendIP, failed: Failed,
                 entry_timeout: int = 60 * NS_PER_S, retry_interval: int = NS_PER_S,
                 max_tries: int = 3, queue_limit: int = 100) -> None:
        self.clock = clock
        self.obs = obs
        self._send_ip = send_ip
        self.failed = failed  # told about every queued packet when resolution gives up
        self.entry_timeout = entry_timeout
        self.retry_interval = retry_interval
        self.max_tries = max_tries
        self.queue_limit = queue_limit
        self.cache: dict[bytes, tuple[bytes, int]] = {}  # ip (4 bytes) -> (mac, expires at)
        self.pending: dict[bytes, _Pending] = {}

    def clear(self) -> None:
        for p in self.pending.values():
            p.timer.cancel()
        self.cache.clear()
        self.pending.clear()

    def lookup(self, ip: bytes) -> bytes | None:
        entry = self.cache.get(ip)
        if entry is not None and entry[1] > self.clock.now:
            return entry[0]
        return None

    def entries(self) -> list[tuple[str, str, float]]:
        """(address, MAC, seconds left) for `arp -n`-style display."""
        now = self.clock.now
        return [(socket.inet_ntoa(ip), mac.hex(":"), (exp - now) / NS_PER_S)
                for ip, (mac, exp) in sorted(self.cache.items()) if exp > now]

    # -- sending --------------------------------------------------------------------------------
    def resolve_and_send(self, iface: "Interface", next_hop: bytes, packet: bytes) -> None:
        """Send ``packet`` to ``next_hop`` once its MAC is known, asking for it if need be."""
        p = self.pending.get(next_hop)
        if p is None:
            timer = Timer(self.clock, lambda: self._retry(next_hop))
            p = self.pending[next_hop] = _Pending(iface, timer)
            p.packets.append(packet)
            self._request(p, next_hop)
            return
        if len(p.packets) >= self.queue_limit:
            self.obs.drop("arp", "arp-queue-full", iface.name, packet=packet)
            return
        p.packets.append(packet)

    def _request(self, p: _Pending, target: bytes) -> None:
        p.tries += 1
        iface = p.iface
        msg = ARP(ARPOp.REQUEST, iface.mac, iface.address, _ZERO_MAC, socket.inet_ntoa(target))
        self.obs.stats["arp.requests_sent"] += 1
        self._send(iface, BROADCAST, msg)
        p.timer.arm_in(self.retry_interval)

    def _retry(self, target: bytes) -> None:
        p = self.pending.get(target)
        if p is None or not self.obs.up:
            return
        if p.tries < self.max_tries:
            self._request(p, target)
            return
        # No answer: the neighbour is not there. Every waiting packet's sender is told.
        del self.pending[target]
        for packet in p.packets:
            self.obs.drop("arp", "arp-failed", p.iface.name, packet=packet)
            self.failed(packet)

    def announce(self, iface: "Interface") -> None:
        """Gratuitous ARP: tell the segment our address and MAC (on start, after a change)."""
        if iface.address is None:
            return
        self.obs.stats["arp.announcements_sent"] += 1
        self._send(iface, BROADCAST, ARP(ARPOp.REQUEST, iface.mac, iface.address, _ZERO_MAC, iface.address))

    def _send(self, iface: "Interface", dst_mac: bytes, msg: ARP) -> None:
        frame = dst_mac + iface.mac + _ARP_ETHERTYPE + msg.encode()
        obs = self.obs
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, iface.name, "arp", "send", frame=frame)
        iface.transmit(frame)

    # -- receiving ------------------------------------------------------------------------------
    def receive(self, iface: "Interface", frame: bytes) -> None:
        """An Ethernet frame carrying ARP arrived on ``iface``."""
        obs = self.obs
        # Read from the bytes (a gratuitous ARP flooded to a LAN of thousands is mostly dropped
        # unread); anything ARP.decode would refuse goes to it for the reason.
        oper = frame[FRAME_ARP_OPER]
        if (len(frame) < FRAME_ARP_END or frame[FRAME_ARP_FIXED] != ARP_IPV4_OVER_ETHERNET
                or oper not in (_REQUEST, _REPLY)):
            try:
                ARP.decode(memoryview(frame)[ETH_PAYLOAD:])
            except MalformedPacket as exc:
                obs.drop("arp", exc.drop_reason, iface.name, frame=frame)
            return
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, iface.name, "arp", "recv", frame=frame)
        spa = frame[FRAME_ARP_SPA]
        tpa = frame[FRAME_ARP_TPA]
        for_us = iface.ip is not None and tpa == iface.ip
        # RFC 826 "merge": refresh an entry we have; learn a new one only when the message is for us.
        if spa != b"\x00\x00\x00\x00" and (spa in self.cache or for_us or spa == tpa and spa in self.pending):
            self.learn(spa, frame[FRAME_ARP_SHA])
        if for_us and oper == _REQUEST:
            obs.stats["arp.replies_sent"] += 1
            sha = frame[FRAME_ARP_SHA]
            self._send(iface, sha, ARP(ARPOp.REPLY, iface.mac, iface.address, sha, socket.inet_ntoa(spa)))

    def learn(self, ip: bytes, mac: bytes) -> None:
        self.cache[ip] = (mac, self.clock.now + self.entry_timeout)
        p = self.pending.pop(ip, None)
        if p is not None:
            p.timer.cancel()
            for packet in p.packets:
                self._send_ip(p.iface, mac, packet)
