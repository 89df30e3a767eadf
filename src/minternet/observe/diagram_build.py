"""From trace events to the arrows of a sequence diagram.

An arrow is one frame crossing one hop, found by pairing link-level events: a ``link send`` at the
node that put the frame on the wire with each ``link recv`` of the very same bytes at another node
(a cable or a switch hands a frame on unchanged; a switch traces nothing itself, so a frame through
a switch pairs with every host that got a copy, as a broadcast should). Link-level pairing, rather
than the IP send/forward/deliver chain, is what shows ARP, the real time each hop took, and exactly
which hop lost a packet: a ``link drop`` (link-loss, queue-full, node-down, ...) ends the arrow in
an X. Sends with identical bytes (a retransmission, an ARP retry) pair first in, first out.

When some nodes are left out (``hosts``), a packet is followed through them by its IP identity
(every header byte but TTL and checksum, which routers rewrite): the frame a hidden router sends
after an ``ip forward`` of the same packet continues the same arrow, which ends at the next shown
node, or in an X where it was lost.

One pass, in trace order, keeping only frames still in flight: a trace of a long bulk transfer is
read only as far as the arrows asked for (``max_arrows``) need.
"""

from __future__ import annotations

import heapq
import socket
from collections import deque
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any

from ..wire.fields import (
    ETH_DST,
    ETH_DST_FIRST,
    ETH_HEADER_LEN,
    ETH_SRC,
    ETH_SRC_FIRST,
    ETH_TYPE,
    ETH_TYPE_ARP,
    FRAME_ARP_END,
    FRAME_ARP_SPA,
    FRAME_ARP_TPA,
    IPV4_DST,
    IPV4_MIN_HEADER_LEN,
    IPV4_SRC,
)
from .diagram_labels import Labeller, ip_key, ip_of
from .diagram_lanes import Hop, order_lanes
from .diagram_model import Arrow, Diagram, Lane, Marker
from .trace import TraceEvent

NS_PER_S = 1_000_000_000
DEFAULT_MAX_ARROWS = 500
_FORGET_AFTER = 10 * NS_PER_S  # frames not received within this long are not waited for
_DONE_KEPT = 4096  # unicast frames already received, kept for a duplicate that may follow


@dataclass(slots=True)
class _Chain:
    """A packet on its way from a shown node, possibly through hidden ones."""

    origin: str | None  # the shown node it left; None: it came from a hidden node
    iface: str | None  # the interface it left by
    t0: int
    frame: bytes
    seq: int  # order of the send that started it: ties at the same time keep trace order
    via: tuple[str, ...] = ()
    corrupted: bool = False

    def onward(self, via: tuple[str, ...] = (), corrupted: bool = False) -> "_Chain":
        return _Chain(self.origin, self.iface, self.t0, self.frame, self.seq, self.via + via,
                      self.corrupted or corrupted)


@dataclass(slots=True)
class _Send:
    """A frame put on the wire, waiting for the nodes that will receive it."""

    node: str
    iface: str | None
    t: int
    frame: bytes
    chain: _Chain | None
    receivers: set[str] = field(default_factory=set)
    dead: bool = False  # lost before anyone could receive it
    lost_copies: int = 0  # copies a switch lost toward unknown receivers


@dataclass(slots=True)
class _Raw:
    """An arrow before it is labelled (and before the cap is applied)."""

    src: str
    dst: str | None
    t_send: int
    t_end: int
    frame: bytes
    seq: int
    iface: str | None = None  # src's interface
    reached: bool = True
    drop: str | None = None
    drop_at: str | None = None
    via: tuple[str, ...] = ()
    duplicate: bool = False
    corrupted: bool = False


class DiagramBuilder:
    """Feed trace events in time order with :meth:`feed` (it returns False once it has seen
    enough), then :meth:`finish` for the :class:`Diagram`."""

    def __init__(self, hosts: Sequence[str] | None = None, start: int | None = None, end: int | None = None,
                 max_arrows: int | None = DEFAULT_MAX_ARROWS, keylog: Any = None) -> None:
        self.hosts = list(dict.fromkeys(hosts)) if hosts else None
        self._visible = set(self.hosts) if self.hosts else None
        self.start = start
        self.end = end
        self.max_arrows = max_arrows if max_arrows and max_arrows > 0 else None
        from .secure import SecureDecoder
        self.labeller = Labeller(SecureDecoder(keylog))  # keylog: TLS/QUIC secrets, to open QUIC packets
        self.nodes: dict[str, None] = {}  # nodes with interfaces, in order of first appearance
        self.routers: set[str] = set()
        self.mac_owner: dict[bytes, str] = {}
        self.ip_owner: dict[str, str] = {}
        self.node_addrs: dict[str, dict[str, None]] = {}
        self.peers: dict[tuple[str, str | None], dict[str, None]] = {}  # who received from an interface
        self.arrows: list[_Raw] = []  # in the time range
        self.markers: list[Marker] = []
        self.ignored = 0  # frames flooded to a host they were not for
        self.unmatched = 0  # received frames whose send is not in the trace
        self.stopped_early = False
        self._pending: dict[bytes, list[_Send]] = {}
        self._recent: deque[_Send] = deque(maxlen=512)
        self._done: dict[bytes, _Send] = {}  # the last _DONE_KEPT unicast frames received, oldest first
        self._recv_wait: dict[tuple[str, bytes], deque[_Chain]] = {}
        self._forward_wait: dict[tuple[str, bytes], deque[_Chain]] = {}
        self._arrivals: list[tuple[str, bytes, _Raw | None, _Chain | None]] = []  # this instant's
        self._now = -1
        self._seq = 0
        self._events = 0
        self._max_transit = 0
        self._first_n: list[int] = []  # max-heap (negated) of the max_arrows earliest t_send in range

    # -- reading ------------------------------------------------------------------------------------
    def visible(self, node: str | None) -> bool:
        return node is not None and (self._visible is None or node in self._visible)

    def feed(self, ev: TraceEvent) -> bool:
        """Take one event. False when nothing later in the trace can change the diagram."""
        if ev.time != self._now:
            self._now = ev.time
            self._arrivals.clear()
            self._recv_wait.clear()
        self._events += 1
        layer, event = ev.layer, ev.event
        if layer == "link":
            if ev.frame is None:
                pass
            elif event == "send":
                self._on_send(ev.node, ev.iface, ev.time, ev.frame)
            elif event == "recv":
                self._on_recv(ev.node, ev.time, ev.frame)
            elif event == "drop":
                self._on_link_drop(ev)
            elif event == "corrupt":
                self._on_corrupt(ev.time, ev.frame)
        elif event == "drop":
            self._on_node_drop(ev)
        elif layer == "ip" and event == "send" and ev.packet is not None and len(ev.packet) >= IPV4_MIN_HEADER_LEN:
            self._learn_ip(socket.inet_ntoa(ev.packet[IPV4_SRC]), ev.node)
        elif layer == "ip" and event == "forward":
            self._on_forward(ev)
        elif layer == "tcp" and event == "state":
            if self.visible(ev.node) and self._in_range(ev.time):
                state = ev.summary.rpartition("-> ")[2] or ev.summary
                self.markers.append(Marker(ev.node, ev.time, "state", state))
        elif layer == "fault" and self._in_range(ev.time):
            self.markers.append(Marker(ev.node, ev.time, "fault", ev.summary))
        if self._events % 512 == 0:
            self._forget()
            return not self._saturated(ev.time)
        return True

    def _in_range(self, t: int) -> bool:
        return (self.start is None or t >= self.start) and (self.end is None or t <= self.end)

    def _saturated(self, now: int) -> bool:
        """Whether every arrow that can still be shown has been seen: packets sent before the end
        of the range (or the cap's last arrow) have all arrived or been lost by now."""
        horizon = max(NS_PER_S, 4 * self._max_transit)
        if self.max_arrows and len(self._first_n) >= self.max_arrows and now > -self._first_n[0] + horizon:
            self.stopped_early = True  # more arrows than the cap: how many more is not known
            return True
        return self.end is not None and now > self.end + horizon

    def _forget(self) -> None:
        limit = self._now - _FORGET_AFTER
        for frame in [f for f, sends in self._pending.items() if sends[-1].t < limit]:
            del self._pending[frame]

    # -- learning who is who ------------------------------------------------------------------------
    def _node(self, name: str) -> None:
        if name not in self.nodes:
            self.nodes[name] = None
            self.node_addrs[name] = {}

    def _learn_ip(self, addr: str, node: str) -> None:
        if addr != "0.0.0.0":
            self.ip_owner[addr] = node
            self._node(node)
            self.node_addrs[node].setdefault(addr, None)

    def _target_of(self, frame: bytes) -> str | None:
        """The node a frame is meant for: its destination MAC's owner, or whom an ARP request asks."""
        if not frame[ETH_DST_FIRST] & 1:
            return self.mac_owner.get(frame[ETH_DST])
        if frame[ETH_TYPE] == ETH_TYPE_ARP and len(frame) >= FRAME_ARP_END:
            return self.ip_owner.get(socket.inet_ntoa(frame[FRAME_ARP_TPA]))
        return None

    def _final_target(self, frame: bytes) -> str | None:
        """The node a packet is finally for (its IP destination), else the frame's target."""
        packet = ip_of(frame)
        if packet is not None:
            return self.ip_owner.get(socket.inet_ntoa(packet[IPV4_DST]))
        return self._target_of(frame)

    # -- frames -------------------------------------------------------------------------------------
    def _on_send(self, node: str, iface: str | None, t: int, frame: bytes) -> None:
        self._node(node)
        if len(frame) >= ETH_HEADER_LEN and not frame[ETH_SRC_FIRST] & 1:
            self.mac_owner[frame[ETH_SRC]] = node
        if frame[ETH_TYPE] == ETH_TYPE_ARP and len(frame) >= FRAME_ARP_END:
            self._learn_ip(socket.inet_ntoa(frame[FRAME_ARP_SPA]), node)
        self.labeller.observe(t, frame)
        self._seq += 1
        if self.visible(node):
            chain: _Chain | None = _Chain(node, iface, t, frame, self._seq)
        else:
            packet = ip_of(frame)
            waiting = self._forward_wait.get((node, ip_key(packet))) if packet is not None else None
            chain = waiting.popleft() if waiting else None
        send = _Send(node, iface, t, frame, chain)
        self._pending.setdefault(frame, []).append(send)
        self._recent.append(send)

    def _find_send(self, frame: bytes, node: str, t: int) -> tuple[_Send | None, bool]:
        """The send a frame received at ``node`` came from, and whether it is a second copy."""
        sends = self._pending.get(frame, ())
        candidates = [s for s in sends if s.node != node and s.t <= t]
        fresh = [s for s in candidates if node not in s.receivers and not s.dead]
        if fresh:
            # First in, first out; but a copy a switch lost (to someone) is skipped when the sender
            # tried again with the same bytes: an ARP retry is the likelier origin.
            first = fresh[0]
            if first.lost_copies and len(fresh) > 1:
                first = fresh[1]
            return first, False
        if candidates:
            return candidates[-1], True
        done = self._done.get(frame)
        if done is not None and done.node != node and done.t <= t:
            return done, True
        return None, False

    def _on_recv(self, node: str, t: int, frame: bytes) -> None:
        self._node(node)
        if len(frame) < ETH_HEADER_LEN:
            return
        if not frame[ETH_DST_FIRST] & 1:
            owner = self.mac_owner.get(frame[ETH_DST])
            if owner is not None and owner != node:
                self.ignored += 1  # flooded by a switch; the NIC ignores it
                return
        send, duplicate = self._find_send(frame, node, t)
        if send is None:
            self.unmatched += 1
            return
        if not frame[ETH_DST_FIRST] & 1 and not duplicate:
            self._received(send)
        send.receivers.add(node)
        self.peers.setdefault((send.node, send.iface), {})[node] = None
        chain = send.chain
        if chain is None or chain.origin is None:
            return
        packet = ip_of(frame)
        key = ip_key(packet) if packet is not None else frame
        if self.visible(node):
            if node == chain.origin:
                return
            raw = _Raw(chain.origin, node, chain.t0, t, chain.frame, chain.seq, chain.iface, via=chain.via,
                       duplicate=duplicate, corrupted=chain.corrupted)
            self._add(raw)
            self._arrivals.append((node, key, raw, None))
        else:
            onward = chain.onward((node,))
            if packet is not None:
                self._recv_wait.setdefault((node, key), deque()).append(onward)
            self._arrivals.append((node, key, None, onward))

    def _received(self, send: _Send) -> None:
        # A unicast frame has one receiver: stop waiting for others, so that a long trace does not
        # keep every frame in memory, but remember it a while for a duplicate.
        sends = self._pending.get(send.frame)
        if sends is not None:
            sends.remove(send)
            if not sends:
                del self._pending[send.frame]
        self._done.pop(send.frame, None)
        self._done[send.frame] = send
        if len(self._done) > _DONE_KEPT:
            del self._done[next(iter(self._done))]

    def _on_forward(self, ev: TraceEvent) -> None:
        self.routers.add(ev.node)
        if self.visible(ev.node) or ev.packet is None:
            return
        key = (ev.node, ip_key(ev.packet))
        waiting = self._recv_wait.get(key)
        if waiting:
            self._forward_wait.setdefault(key, deque()).append(waiting.popleft())

    def _on_corrupt(self, t: int, frame: bytes) -> None:
        # The link flipped one bit of a frame it carries: find the frame as it was sent, so that
        # the corrupted copy pairs with the same arrow.
        for send in reversed(self._recent):
            original = send.frame
            if len(original) == len(frame) and original[ETH_SRC] == frame[ETH_SRC] and send.t <= t and \
                    sum(a != b for a, b in zip(original, frame)) == 1:
                chain = send.chain
                if chain is not None:
                    chain = chain.onward(corrupted=True)
                alias = _Send(send.node, send.iface, send.t, frame, chain)
                send.dead = True
                self._pending.setdefault(frame, []).append(alias)
                return

    def _on_link_drop(self, ev: TraceEvent) -> None:
        frame, where, t = ev.frame, ev.node, ev.time
        sends = [s for s in self._pending.get(frame, ()) if s.t <= t and not s.dead]
        if not sends:
            if self.visible(where) and where in self.nodes and self._in_range(t):
                self.markers.append(Marker(where, t, "drop", ev.summary, ev.reason))
            return
        own = [s for s in sends if s.node == where]
        send = own[-1] if own else sends[-1]
        if send.node == where:  # lost on its way out: nobody will receive it
            send.dead = True
            target = self._target_of(frame)
        elif where in self.nodes:  # lost arriving (node-down, link-down): at its receiver
            send.receivers.add(where)
            target = where
        else:  # lost on a switch's way out to one port
            target = self._target_of(frame)
            if frame[ETH_DST_FIRST] & 1:
                send.lost_copies += 1
            else:
                send.dead = True
        if send.chain is not None and send.chain.origin is not None:
            self._lost(send.chain, target, t, ev.reason or "lost", where)

    def _on_node_drop(self, ev: TraceEvent) -> None:
        node, t = ev.node, ev.time
        key = None
        if ev.frame is not None:
            packet = ip_of(ev.frame)
            key = ip_key(packet) if packet is not None else ev.frame
        elif ev.packet is not None:
            key = ip_key(ev.packet)
        reason = ev.reason or "dropped"
        if key is not None:
            for i, (at, k, raw, chain) in enumerate(self._arrivals):
                if at == node and k == key:
                    del self._arrivals[i]
                    if raw is not None:
                        raw.drop, raw.drop_at = reason, node
                    elif chain is not None:
                        waiting = self._recv_wait.get((node, key))
                        if waiting and chain in waiting:
                            waiting.remove(chain)
                        self._lost(chain, None, t, reason, node)
                    return
            waiting = self._forward_wait.get((node, key))
            if waiting:  # a hidden router gave up on a packet it was holding (ARP failed)
                self._lost(waiting.popleft(), None, t, reason, node)
                return
        if self.visible(node) and self._in_range(t):
            self.markers.append(Marker(node, t, "drop", ev.summary, reason))

    def _lost(self, chain: _Chain, target: str | None, t: int, reason: str, where: str) -> None:
        origin = chain.origin
        assert origin is not None
        if not self.visible(target) or target == origin:
            target = self._final_target(chain.frame)
            if not self.visible(target) or target == origin:
                target = None
        self._add(_Raw(origin, target, chain.t0, t, chain.frame, chain.seq, chain.iface, reached=False,
                       drop=reason, drop_at=where, via=chain.via, corrupted=chain.corrupted))

    def _add(self, raw: _Raw) -> None:
        if raw.reached:
            self._max_transit = max(self._max_transit, raw.t_end - raw.t_send)
        if not self._in_range(raw.t_send):
            return
        self.arrows.append(raw)
        if self.max_arrows:
            heapq.heappush(self._first_n, -raw.t_send)
            if len(self._first_n) > self.max_arrows:
                heapq.heappop(self._first_n)

    # -- the result ---------------------------------------------------------------------------------
    def finish(self, title: str | None = None) -> Diagram:
        """The diagram of everything fed so far."""
        self._guess_lost_destinations()
        if self.hosts:
            unknown = [h for h in self.hosts if h not in self.nodes]
            if unknown:
                raise ValueError(f"no host or router named {', '.join(map(repr, unknown))} in the trace "
                                 f"(nodes: {', '.join(self.nodes) or 'none'})")
            names = self.hosts
        else:
            hops = [Hop(r.src, r.dst, not r.frame[ETH_DST_FIRST] & 1, r.frame[ETH_TYPE] == ETH_TYPE_ARP)
                    for r in sorted(self.arrows, key=lambda r: (r.t_send, r.seq))]
            names = order_lanes(list(self.nodes), hops)
        lanes = [Lane(n, "router" if n in self.routers else "host", tuple(self.node_addrs.get(n, ())))
                 for n in names]
        index = {n: i for i, n in enumerate(names)}
        raws = sorted(self.arrows, key=lambda r: (r.t_send, r.seq, index.get(r.dst, len(index)) if r.dst else -1,
                                                  r.t_end))
        total = len(raws)
        notes: list[str] = []
        if self.max_arrows and total > self.max_arrows:
            raws = raws[:self.max_arrows]
            of = "; the trace has more (not read further)" if self.stopped_early else f" of {total:,}"
            notes.append(f"showing the first {self.max_arrows:,} packet arrows{of}; "
                         f"use --max-arrows, --from and --until to see others")
        arrows = []
        for r in raws:
            protocol, label, summary = self.labeller.label(r.t_send, r.frame)
            arrows.append(Arrow(r.src, r.dst, r.t_send, r.t_end, protocol, label, summary, r.reached, r.drop,
                                r.drop_at, r.via, r.duplicate, r.corrupted, r.frame))
        markers = sorted(self.markers, key=lambda m: m.t)  # stable: trace order at equal times
        if arrows and self.max_arrows and total > self.max_arrows:
            last = arrows[-1].t_send
            markers = [m for m in markers if m.t <= last]
        hidden = [n for n in self.nodes if n not in index]
        if hidden:
            notes.append(f"not shown: {', '.join(hidden)}; a packet through them is one arrow from the last shown "
                         f"node to the next; packets that never reach a shown lane are left out")
        if self.ignored:
            notes.append(f"{self.ignored:,} copies of frames flooded by switches to hosts they were not for "
                         f"are not drawn")
        if self.unmatched:
            notes.append(f"{self.unmatched:,} received frames whose sending is not in the trace are not drawn")
        return Diagram(lanes, arrows, markers, notes, title or "minternet sequence diagram",
                       None if self.stopped_early else total, self.max_arrows)


    def _guess_lost_destinations(self) -> None:
        # A broadcast lost on its way out (a gratuitous ARP on a cable, say) names no receiver; if
        # everything else that interface sent went to one node, that is where it was heading.
        for r in self.arrows:
            if r.dst is None and not r.via:
                peers = [p for p in self.peers.get((r.src, r.iface), ()) if p != r.src and self.visible(p)]
                if len(peers) == 1:
                    r.dst = peers[0]
