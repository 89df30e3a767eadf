"""Pictures of TCP: the time-sequence graph of a connection, and its cwnd and RTT over time.

From a trace (a :class:`~minternet.observe.trace.Recorder`'s events or a ``--trace`` file)::

    conns = connections(load_trace("trace.jsonl"))        # every TCP connection, by 4-tuple
    s = build_series(events, conns[0])                     # the numbers of one of them
    open("tcp.svg", "w").write(to_svg(s))                 # see .tcpplot_svg

What is drawn is what Wireshark's tcptrace (Stevens) graph draws, seen where the data leaves: at
the data sender's own host (its ``ip send`` and ``ip deliver`` events), or at a router on the path
when the trace has no events from the sender. Sequence numbers are relative to the sender's ISN
(the SYN is 0, the first data byte 1), as Wireshark shows them.

- ``segments``: each data segment as sent, ``seq .. end`` at time ``t``; ``retransmission`` when
  it starts below the highest sequence sent before (Wireshark's "retransmission").
- ``acks``: each ACK from the receiver as it arrives: the cumulative ``ack``, the advertised window
  scaled by the window scale of the handshake (RFC 7323 2.3: never in a SYN), so ``ack + window``
  is the receive-window line, and the SACK blocks it carries.
- ``lost``: where the trace saw a segment of the connection dropped (any node, with the reason).
- ``cc``: cwnd, ssthresh, srtt and RTO as the sender's stack traced them (``tcp cwnd`` events).
- ``rtt``: RTT samples measured from the packets: an ACK that covers a segment sent only once
  (Karn's rule), time of the ACK minus time of that segment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from ..wire.errors import MalformedPacket
from ..wire.ipv4 import IPv4
from ..wire.tcp import TCP, Sack, WindowScale
from .trace import TraceEvent

NS_PER_S = 1_000_000_000
_SYN, _ACK, _FIN, _RST = 0x02, 0x10, 0x01, 0x04
_CWND = re.compile(r"^(\S+):(\d+) > (\S+):(\d+) (\S+): cwnd=(\d+) ssthresh=(\S+) srtt=([\d.]+)ms rto=([\d.]+)ms")

Endpoint = tuple[str, int]


@dataclass(slots=True)
class Conn:
    """A TCP connection in a trace: ``a`` opened it (sent the SYN) when the trace shows that."""

    a: Endpoint
    b: Endpoint
    first: int  # ns of its first packet
    last: int = 0
    packets: int = 0
    bytes_ab: int = 0  # payload bytes sent (first copies and resends), seen at any one node
    bytes_ba: int = 0
    fwd_ab: int = 0  # the same, counted at routers, for a trace without the hosts' sends
    fwd_ba: int = 0
    opened: bool = False  # the trace has its SYN (not only the end of an older connection)

    @property
    def label(self) -> str:
        """``10.0.1.10:61971-10.0.2.10:80``, what ``--conn`` takes."""
        return f"{self.a[0]}:{self.a[1]}-{self.b[0]}:{self.b[1]}"

    @property
    def sender(self) -> Endpoint:
        """The end that sent more data: the graph shows its sequence numbers."""
        if self.bytes_ab or self.bytes_ba:
            return self.b if self.bytes_ba > self.bytes_ab else self.a
        return self.b if self.fwd_ba > self.fwd_ab else self.a

    @property
    def receiver(self) -> Endpoint:
        return self.a if self.sender == self.b else self.b

    def key(self) -> frozenset:
        return frozenset((self.a, self.b))


@dataclass(slots=True)
class Series:
    """The numbers of one connection's plots (times in ns, sequence numbers relative)."""

    conn: Conn
    sender: Endpoint
    receiver: Endpoint
    vantage: str  # the node where the packets were seen
    isn: int | None
    wscale: int  # the shift the receiver's windows are scaled by
    mss: int | None
    segments: list[dict] = field(default_factory=list)  # {t, seq, end, retransmission}
    acks: list[dict] = field(default_factory=list)  # {t, ack, window, sack: [[l, r], ...]}
    lost: list[dict] = field(default_factory=list)  # {t, seq, end, node, reason}
    cc: list[dict] = field(default_factory=list)  # {t, cwnd, ssthresh (None: infinite), srtt_ms, rto_ms, why}
    rtt: list[dict] = field(default_factory=list)  # {t, rtt_ms}

    def to_json(self) -> dict:
        """For the live view: the series as plain JSON (times in ns)."""
        return {"conn": self.conn.label, "sender": f"{self.sender[0]}:{self.sender[1]}",
                "receiver": f"{self.receiver[0]}:{self.receiver[1]}", "vantage": self.vantage,
                "wscale": self.wscale, "mss": self.mss, "segments": self.segments, "acks": self.acks,
                "lost": self.lost, "cc": self.cc, "rtt": self.rtt}


# -- reading the trace --------------------------------------------------------------------------------
def _ip_bytes(ev: TraceEvent) -> bytes | None:
    if ev.packet is not None:
        return ev.packet
    f = ev.frame
    if f is not None and len(f) > 34 and f[12:14] == b"\x08\x00":
        return f[14:]
    return None


def _tcp_of(ev: TraceEvent) -> tuple[IPv4, TCP] | None:
    data = _ip_bytes(ev)
    if data is None or len(data) < 40 or data[9] != 6:
        return None
    try:
        ip = IPv4.decode(data, verify=False)
        if ip.frag_offset:
            return None
        return ip, TCP.decode(ip.payload, ip.src, ip.dst, verify=False)
    except MalformedPacket:
        return None


@dataclass(slots=True)
class _Pkt:
    t: int
    node: str
    event: str  # send, forward, deliver, drop
    reason: str | None
    src: Endpoint
    seg: TCP


@dataclass(slots=True)
class Scan:
    """One pass over a trace: the TCP packets by connection, and the stacks' cwnd events."""

    conns: dict[frozenset, Conn] = field(default_factory=dict)
    packets: dict[frozenset, list[_Pkt]] = field(default_factory=dict)
    cwnd: dict[tuple[Endpoint, Endpoint], list[tuple[int, str]]] = field(default_factory=dict)
    events: int = 0  # how many events it has seen

    def feed(self, ev: TraceEvent) -> None:
        """Take one event of the trace, in order."""
        s = self
        s.events += 1
        layer, event = ev.layer, ev.event
        if layer == "tcp":
            if event == "cwnd":
                m = _CWND.match(ev.summary)
                if m:
                    key = ((m[1], int(m[2])), (m[3], int(m[4])))
                    s.cwnd.setdefault(key, []).append((ev.time, ev.summary))
            return
        if layer == "ip" and event in ("send", "forward", "deliver"):
            pass
        elif event == "drop" and (ev.frame is not None or ev.packet is not None):
            pass
        else:
            return
        got = _tcp_of(ev)
        if got is None:
            return
        ip, seg = got
        src, dst = (ip.src, seg.sport), (ip.dst, seg.dport)
        key = frozenset((src, dst))
        conn = s.conns.get(key)
        if conn is None:
            a, b = (dst, src) if seg.flags & (_SYN | _ACK) == _SYN | _ACK else (src, dst)
            conn = s.conns[key] = Conn(a, b, ev.time)
            s.packets[key] = []
        elif seg.flags & (_SYN | _ACK) == _SYN and conn.a != src:
            conn.a, conn.b = src, dst  # the SYN says who opened it
            conn.bytes_ab, conn.bytes_ba = conn.bytes_ba, conn.bytes_ab
            conn.fwd_ab, conn.fwd_ba = conn.fwd_ba, conn.fwd_ab
        conn.last = ev.time
        if seg.flags & _SYN:
            conn.opened = True
        s.packets[key].append(_Pkt(ev.time, ev.node, event, ev.reason, src, seg))
        if event == "send" and seg.payload:
            # Bytes are counted where the data is first sent (a host), once per segment.
            conn.packets += 1
            if src == conn.a:
                conn.bytes_ab += len(seg.payload)
            else:
                conn.bytes_ba += len(seg.payload)
        elif event == "send":
            conn.packets += 1
        elif event == "forward" and seg.payload:
            if src == conn.a:
                conn.fwd_ab += len(seg.payload)
            else:
                conn.fwd_ba += len(seg.payload)


def scan(events: Iterable[TraceEvent], into: Scan | None = None) -> Scan:
    """Sort a trace's TCP packets by connection (one pass; the bytes are decoded here). With
    ``into``, the events are added to an earlier scan (the live view feeds it as the run goes)."""
    s = into if into is not None else Scan()
    feed = s.feed
    for ev in events:
        feed(ev)
    return s


def conn_of(ev: TraceEvent) -> str | None:
    """The label (``a:p-b:q``, ends in either order) of the TCP connection a packet event belongs to."""
    got = _tcp_of(ev)
    if got is None:
        return None
    ip, seg = got
    return f"{ip.src}:{seg.sport}-{ip.dst}:{seg.dport}"


def connections(events: Iterable[TraceEvent] | Scan) -> list[Conn]:
    """Every TCP connection of a trace, in order of their first packet."""
    s = events if isinstance(events, Scan) else scan(events)
    return sorted(s.conns.values(), key=lambda c: (c.first, c.label))


def pick(conns: list[Conn], spec: str | int | None) -> Conn:
    """The connection ``--conn`` names: its number in the list (1, 2, ...), its label
    ``a:p-b:q`` (either way round), or ``:port`` / ``port`` of either end."""
    if not conns:
        raise ValueError("the trace has no TCP packets (trace a run that uses TCP: transfer, curl, http)")
    if spec is None:
        if len(conns) == 1:
            return conns[0]
        raise ValueError(f"the trace has {len(conns)} TCP connections: choose one with --conn N or --conn "
                         f"'a:p-b:q' ({', '.join(f'{i}: {c.label}' for i, c in enumerate(conns[:5], 1))}"
                         f"{', ...' if len(conns) > 5 else ''}), or --all")
    text = str(spec).strip()
    if text.isdigit() and 1 <= int(text) <= len(conns) and len(text) <= 3:
        return conns[int(text) - 1]
    found = [c for c in conns if _matches(c, text)]
    if not found:
        raise ValueError(f"no TCP connection {text!r} in the trace; it has: "
                         + ", ".join(f"{i}: {c.label}" for i, c in enumerate(conns, 1)))
    return found[0]


def _matches(c: Conn, text: str) -> bool:
    ends = {f"{c.a[0]}:{c.a[1]}", f"{c.b[0]}:{c.b[1]}"}
    if "-" in text:
        x, _, y = text.partition("-")
        return {x.strip(), y.strip()} == ends
    port = text.lstrip(":")
    if port.isdigit():
        return int(port) in (c.a[1], c.b[1])
    return text in ends or text in (c.a[0], c.b[0])


def conn_filter(spec: str | int | Callable[[Conn], bool] | None) -> Callable[[Conn], bool]:
    """``None``: every connection; an int: a port of either end; a str: as ``--conn``; or a predicate."""
    if spec is None:
        return lambda c: True
    if callable(spec):
        return spec
    text = str(spec)
    return lambda c: _matches(c, text)


# -- the series ----------------------------------------------------------------------------------------
def _vantage(pkts: list[_Pkt], sender: Endpoint) -> str:
    """Where to look from: the sender's host if the trace has its sends, else the node that
    saw the most of the sender's data (a router on the path)."""
    seen: dict[str, int] = {}
    for p in pkts:
        if p.src == sender and p.event == "send":
            return p.node
        if p.src == sender and p.event == "forward":
            seen[p.node] = seen.get(p.node, 0) + 1
    if seen:
        return max(seen, key=lambda n: seen[n])
    return pkts[0].node if pkts else "?"


def build_series(events: Iterable[TraceEvent] | Scan, conn: Conn | str | int | None = None) -> Series:
    """The time-sequence, window, SACK, cwnd and RTT series of one connection (see the module)."""
    s = events if isinstance(events, Scan) else scan(events)
    if not isinstance(conn, Conn):
        conn = pick(connections(s), conn)
    pkts = s.packets[conn.key()]
    sender, receiver = conn.sender, conn.receiver
    vantage = _vantage(pkts, sender)
    isn = next((p.seg.seq for p in pkts if p.src == sender and p.seg.flags & _SYN), None)
    if isn is None:  # the handshake is not in the trace: the first sequence number seen
        isn = next((p.seg.seq for p in pkts if p.src == sender), 0)
    # RFC 7323 2.2: windows are scaled only when both SYNs carried the option.
    shift = {}
    mss = None
    for p in pkts:
        if p.seg.flags & _SYN:
            ws = p.seg.option(WindowScale)
            shift.setdefault(p.src, ws.shift if ws is not None else None)
            if p.src == receiver:
                o = next((o for o in p.seg.options if type(o).__name__ == "MSS"), None)
                mss = getattr(o, "value", mss)
    both = shift.get(sender) is not None and shift.get(receiver) is not None
    wscale = min(shift[receiver], 14) if both else 0  # RFC 7323 2.3: at most 14
    out = Series(conn, sender, receiver, vantage, isn, wscale, mss)

    def rel(x: int) -> int:
        return (x - isn) % (1 << 32)

    out_events = ("send", "forward")
    in_events = ("deliver", "forward")
    highest = None  # the highest end sent so far (relative)
    sent: list[list] = []  # [end, t, resent] of segments not yet acknowledged, in order of end
    last_ack = None
    for p in pkts:
        seg = p.seg
        if p.event == "drop":
            if p.src == sender and (seg.payload or seg.flags & (_SYN | _FIN)):
                start = rel(seg.seq)
                out.lost.append({"t": p.t, "seq": start, "end": start + _seq_len(seg), "node": p.node,
                                 "reason": p.reason or "drop"})
            continue
        if p.node != vantage:
            continue
        if p.src == sender and p.event in out_events:
            n = _seq_len(seg)
            if not n:
                continue
            start = rel(seg.seq)
            end = start + n
            resent = highest is not None and start < highest
            out.segments.append({"t": p.t, "seq": start, "end": end, "retransmission": resent})
            if resent:
                # Karn: an ACK of anything resent measures no RTT (which copy did it ack?).
                for x in sent:
                    if x[3] < end and start < x[0]:
                        x[2] = True
            else:
                sent.append([end, p.t, False, start])
                highest = end
        elif p.src == receiver and p.event in in_events and seg.flags & _ACK:
            ack = rel(seg.ack)
            window = seg.window << (0 if seg.flags & _SYN else wscale)
            blocks = next((o.blocks for o in seg.options if isinstance(o, Sack)), ())
            out.acks.append({"t": p.t, "ack": ack, "window": window,
                             "sack": [[rel(l), rel(r)] for l, r in blocks]})
            if last_ack is None or ack > last_ack:
                covered = [x for x in sent if x[0] <= ack]
                if covered:
                    newest = covered[-1]
                    if not newest[2]:
                        out.rtt.append({"t": p.t, "rtt_ms": round((p.t - newest[1]) / 1e6, 3)})
                    sent = [x for x in sent if x[0] > ack]
                last_ack = ack
    for t, text in s.cwnd.get((sender, receiver), ()):
        m = _CWND.match(text)
        if m:
            out.cc.append({"t": t, "cwnd": int(m[6]), "ssthresh": None if m[7] == "inf" else int(m[7]),
                           "srtt_ms": float(m[8]), "rto_ms": float(m[9]), "why": m[5]})
    return out


def _seq_len(seg: TCP) -> int:
    return len(seg.payload) + (1 if seg.flags & _SYN else 0) + (1 if seg.flags & _FIN else 0)


# -- files ---------------------------------------------------------------------------------------------
def events_of(trace: str | os.PathLike | Iterable[TraceEvent]) -> Iterator[TraceEvent]:
    if isinstance(trace, (str, os.PathLike)):
        from .diagram import iter_trace
        return iter_trace(trace)
    return iter(trace)


def file_name(conn: Conn) -> str:
    """``tcp-10.0.1.10_61971-10.0.2.10_80.svg``."""
    return f"tcp-{conn.a[0]}_{conn.a[1]}-{conn.b[0]}_{conn.b[1]}.svg"


def write_tcp_plots(trace_path_or_events: str | os.PathLike | Iterable[TraceEvent], outdir: str | os.PathLike,
                    conn_filter_: str | int | Callable[[Conn], bool] | None = None, lang: str = "en",
                    name: str | None = None) -> list[str]:
    """Write the plot of each TCP connection of a trace that the filter keeps (None: all; a
    port; ``a:p-b:q``; or a predicate on :class:`Conn`) into ``outdir``; returns the paths. With
    ``name``, the files are ``NAME.svg`` (``NAME-2.svg``, ... for more than one connection)."""
    from .tcpplot_svg import to_svg
    s = scan(events_of(trace_path_or_events))
    keep = conn_filter(conn_filter_)
    chosen = [c for c in connections(s) if keep(c)]
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for i, c in enumerate(chosen, 1):
        fname = (f"{name}.svg" if i == 1 else f"{name}-{i}.svg") if name else file_name(c)
        path = os.path.join(os.fspath(outdir), fname)
        with open(path, "w", encoding="utf-8") as f:
            f.write(to_svg(build_series(s, c), lang=lang))
        paths.append(path)
    return paths
