"""Structured trace events: every packet sent, received, forwarded, delivered or dropped.

Tracing costs nothing when nobody listens: the stack checks ``tracer.enabled`` before building an
event, and an event keeps the raw bytes; they are decoded for display only when rendered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, TextIO

from ..wire.dissect import dissect, dissect_ip
from ..wire.errors import MalformedPacket


@dataclass(slots=True)
class TraceEvent:
    """One thing that happened. ``time`` is integer nanoseconds of the world's clock."""

    time: int
    node: str
    iface: str | None
    layer: str  # link, arp, ip, icmp, udp, tcp, app, fault, route
    event: str  # send, recv, forward, deliver, drop, ...
    reason: str | None = None
    frame: bytes | None = None  # a whole Ethernet frame, when the event has one
    packet: bytes | None = None  # an IPv4 packet, when there is no frame (yet)
    text: str | None = None  # a summary given by the emitter, else decoded from the bytes

    @property
    def summary(self) -> str:
        if self.text is None:
            if self.frame is not None:
                self.text = dissect(self.frame).summary()
            elif self.packet is not None:
                try:
                    layers = dissect_ip(self.packet)
                    ip, inner = layers[0], layers[-1]
                    self.text = inner.summary() if inner is ip else f"{ip.src} > {ip.dst} {inner.summary()} ttl={ip.ttl}"
                except MalformedPacket as exc:
                    self.text = f"malformed packet: {exc}"
            else:
                self.text = ""
        return self.text

    def secure_layer(self, secure: Any) -> tuple[str, str] | None:
        """("tls" or "quic", one line) read by ``secure`` (a SecureDecoder) from the TCP or UDP
        payload this event carries, or None."""
        if secure is None:
            return None
        from .secure import ip_packet
        packet = ip_packet(self.frame, self.packet)
        return secure.describe_packet(packet) if packet is not None else None

    def to_dict(self, secure: Any = None) -> dict:
        d = {"t_ns": self.time, "node": self.node, "iface": self.iface, "layer": self.layer,
             "event": self.event, "summary": self.summary}
        above = self.secure_layer(secure)
        if above is not None:
            d[above[0]] = above[1]
        if self.reason is not None:
            d["reason"] = self.reason
        if self.frame is not None:
            d["frame"] = self.frame.hex()
        elif self.packet is not None:
            d["packet"] = self.packet.hex()
        return d


class Tracer:
    """Fans trace events out to subscribers. ``enabled`` is False while nobody subscribes."""

    __slots__ = ("enabled", "_sinks", "_clock")

    def __init__(self, clock) -> None:
        self._clock = clock
        self._sinks: list[Callable[[TraceEvent], None]] = []
        self.enabled = False

    def subscribe(self, sink: Callable[[TraceEvent], None]) -> Callable[[TraceEvent], None]:
        self._sinks.append(sink)
        self.enabled = True
        return sink

    def unsubscribe(self, sink: Callable[[TraceEvent], None]) -> None:
        self._sinks.remove(sink)
        self.enabled = bool(self._sinks)

    def emit(self, node: str, iface: str | None, layer: str, event: str, reason: str | None = None,
             frame: bytes | None = None, packet: bytes | None = None, text: str | None = None) -> None:
        ev = TraceEvent(self._clock.now, node, iface, layer, event, reason,
                        bytes(frame) if frame is not None else None,
                        bytes(packet) if packet is not None else None, text)
        for sink in self._sinks:
            sink(ev)


class JsonLinesSink:
    """Writes each event as one JSON object per line (sorted keys: byte-identical across runs)."""

    def __init__(self, stream: TextIO, secure: Any = None) -> None:
        self.stream = stream
        self.secure = secure  # a SecureDecoder: TLS and QUIC as a "tls"/"quic" key of the event

    def __call__(self, ev: TraceEvent) -> None:
        self.stream.write(json.dumps(ev.to_dict(self.secure), sort_keys=True, separators=(",", ":")) + "\n")


def format_time(ns: int) -> str:
    return f"{ns / 1e9:10.6f}s"


class TimelinePrinter:
    """A readable timeline on a terminal: time, node, interface, layer, event, summary."""

    def __init__(self, stream: TextIO, nodes: set[str] | None = None, layers: set[str] | None = None,
                 events: set[str] | None = None, secure: Any = None) -> None:
        self.stream = stream
        self.nodes = nodes
        self.layers = layers
        self.events = events
        self.secure = secure  # a SecureDecoder: TLS records and QUIC packets on a second line

    def __call__(self, ev: TraceEvent) -> None:
        if self.nodes is not None and ev.node not in self.nodes:
            return
        if self.layers is not None and ev.layer not in self.layers:
            return
        if self.events is not None and ev.event not in self.events:
            return
        self.stream.write(format_event(ev, self.secure) + "\n")


def format_event(ev: TraceEvent, secure: Any = None) -> str:
    where = f"{ev.node}{':' + ev.iface if ev.iface else ''}"
    what = ev.event.upper() if ev.event == "drop" else ev.event
    reason = f" ({ev.reason})" if ev.reason else ""
    line = f"{format_time(ev.time)}  {where:<14} {ev.layer:<5} {what:<8} {ev.summary}{reason}"
    above = ev.secure_layer(secure)
    if above is not None:
        line += f"\n{'':<43}{above[1]}"
    return line


class Recorder:
    """Keeps events in memory (tests, diagrams)."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []

    def __call__(self, ev: TraceEvent) -> None:
        self.events.append(ev)

    def where(self, **match: object) -> list[TraceEvent]:
        return [e for e in self.events if all(getattr(e, k) == v for k, v in match.items())]
