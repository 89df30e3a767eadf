"""The Ethernet layer of one node: framing, the NIC's destination filter, EtherType
demultiplexing, and neighbour resolution on the way out.

Up: a frame from an interface is checked, filtered by destination MAC and handed by EtherType to
the protocol registered for it (IPv4 gets the IP packet; ARP the frame, whose addresses it needs).
Down: IP hands (interface, next hop, packet); the next hop's MAC comes from the neighbour cache,
the packet waits in its queue while ARP asks, and a broadcast next hop goes to ff:ff:ff:ff:ff:ff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..runtime import Clock
from ..wire.ethernet import BROADCAST
from ..wire.fields import ETH_DST, ETH_DST_FIRST, ETH_HEADER_LEN, ETH_PAYLOAD, ETH_TYPE, ETH_TYPE_ARP, ETH_TYPE_IPV4
from .neighbor import NeighborCache

if TYPE_CHECKING:
    from ..stack.observer import Observer
    from .interface import Interface

LIMITED_BROADCAST = b"\xff\xff\xff\xff"

IPInput = Callable[["Interface", bytes, bytes], None]  # (interface, IPv4 packet, the frame it came in)


class EthernetLayer:
    """Frames in and out for every interface of one node."""

    def __init__(self, clock: Clock, obs: "Observer") -> None:
        self.obs = obs
        self.clock = clock
        self.neighbors = NeighborCache(clock, obs, self.send_to, self._resolution_failed)
        self._cache = self.neighbors.cache  # read inline on the way out (one call less per packet)
        self._ip_input: IPInput | None = None
        self._resolution_failed_cb: Callable[[bytes], None] | None = None

    def register_ip(self, receive: IPInput, resolution_failed: Callable[[bytes], None]) -> None:
        """The IPv4 layer: ``receive(iface, packet, frame)`` for every IPv4 frame for us, and
        ``resolution_failed(packet)`` for every packet whose next hop did not answer ARP."""
        self._ip_input = receive
        self._resolution_failed_cb = resolution_failed

    def _resolution_failed(self, packet: bytes) -> None:
        if self._resolution_failed_cb is not None:
            self._resolution_failed_cb(packet)

    # -- up ---------------------------------------------------------------------------------------
    def receive(self, iface: "Interface", frame: bytes) -> None:
        """A frame arrived on ``iface`` (the interface's call)."""
        obs = self.obs
        if not obs.up:
            return
        if obs.tracer.enabled:
            obs.tracer.emit(obs.name, iface.name, "link", "recv", frame=frame)
        if len(frame) < ETH_HEADER_LEN:
            obs.drop("link", "malformed-truncated", iface.name, frame=frame)
            return
        if frame[ETH_DST] != iface.mac and not (frame[ETH_DST_FIRST] & 1):
            obs.stats["link.filtered"] += 1  # not ours, not broadcast/multicast: the NIC ignores it
            return
        ethertype = frame[ETH_TYPE]
        if ethertype == ETH_TYPE_IPV4 and self._ip_input is not None:
            self._ip_input(iface, frame[ETH_PAYLOAD:], frame)
        elif ethertype == ETH_TYPE_ARP:
            self.neighbors.receive(iface, frame)
        else:
            obs.drop("link", "unknown-ethertype", iface.name, frame=frame)

    # -- down -------------------------------------------------------------------------------------
    def output(self, iface: "Interface", next_hop: bytes, packet: bytes) -> None:
        """Send an IPv4 packet to ``next_hop`` (4 bytes) on ``iface``: broadcast, or to the MAC
        the neighbour cache knows, or queued while ARP asks."""
        if next_hop == LIMITED_BROADCAST or next_hop == iface.broadcast:
            iface.transmit(BROADCAST + iface.eth_header_ip + packet)
            return
        entry = self._cache.get(next_hop)  # NeighborCache.lookup, inlined
        if entry is None or entry[1] <= self.clock.now:
            self.neighbors.resolve_and_send(iface, next_hop, packet)
            return
        iface.transmit(entry[0] + iface.eth_header_ip + packet)

    def send_to(self, iface: "Interface", mac: bytes, packet: bytes) -> None:
        """Frame an IPv4 packet for a known MAC and put it on the wire."""
        iface.transmit(mac + iface.eth_header_ip + packet)
