"""Draw a :class:`~minternet.observe.tcpplot.Series` as one standalone SVG: the time-sequence
graph on top, cwnd and ssthresh below it, then RTT, sharing the time axis.

The numbers stay in the drawing: every segment, SACK block and loss is an element whose
``data-*`` attributes hold its time (ns) and relative sequence numbers, and every line has
``data-points`` of ``t_ns:value`` pairs, so a test (or a curious reader) can read the plot back
and check it against the trace. The picture has its own white background: it reads the same on
a light page, a dark page, or a viewer's checkerboard.
"""

from __future__ import annotations

import math
from html import escape

from .tcpplot import Series

NS_PER_S = 1_000_000_000
W = 960
LEFT, RIGHT = 86, 24
PLOT_W = W - LEFT - RIGHT
COLOURS = {"data": "#1f5fbf", "retransmission": "#d62728", "ack": "#2ca02c", "window": "#8c6d00",
           "sack": "#9467bd", "lost": "#111111", "cwnd": "#1f5fbf", "ssthresh": "#ff7f0e",
           "rtt": "#17becf", "srtt": "#1f5fbf", "rto": "#7f7f7f"}

LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "TCP time-sequence graph: {sender} → {receiver}",
              "ko": "TCP 시간-순서 번호 그래프: {sender} → {receiver}"},
    "sub": {"en": "seen at {node}; window scale {ws}; MSS {mss}; {segs} segments, {retx} retransmitted, {lost} lost",
            "ko": "관측 위치 {node}; 윈도우 스케일 {ws}; MSS {mss}; 세그먼트 {segs}개, 재전송 {retx}개, 손실 {lost}개"},
    "time": {"en": "time (s)", "ko": "시간 (초)"},
    "seq": {"en": "sequence number (bytes, relative)", "ko": "순서 번호 (바이트, 상대값)"},
    "cwnd_axis": {"en": "window (bytes)", "ko": "윈도우 (바이트)"},
    "rtt_axis": {"en": "time (ms)", "ko": "시간 (ms)"},
    "cc_title": {"en": "congestion window over time (as the sender's stack traced it)",
                 "ko": "시간에 따른 혼잡 윈도우 (송신 측 스택의 기록)"},
    "rtt_title": {"en": "round-trip time over time", "ko": "시간에 따른 왕복 시간(RTT)"},
    "data": {"en": "data segment", "ko": "데이터 세그먼트"},
    "retransmission": {"en": "retransmission", "ko": "재전송"},
    "ack": {"en": "ACK (cumulative)", "ko": "ACK (누적 확인 응답)"},
    "window": {"en": "receive window (ACK + window)", "ko": "수신 윈도우 (ACK + 윈도우)"},
    "sack": {"en": "SACK block", "ko": "SACK 블록"},
    "lost": {"en": "lost on the way", "ko": "가는 길에 손실"},
    "cwnd": {"en": "cwnd", "ko": "혼잡 윈도우 cwnd"},
    "ssthresh": {"en": "ssthresh", "ko": "임계값 ssthresh"},
    "rtt": {"en": "RTT sample (from the packets)", "ko": "RTT 측정값 (패킷에서)"},
    "srtt": {"en": "smoothed RTT (srtt)", "ko": "평활 RTT (srtt)"},
    "rto": {"en": "retransmission timeout (RTO)", "ko": "재전송 타임아웃 (RTO)"},
    "no_cc": {"en": "no cwnd events in the trace (the sender's host was not traced)",
              "ko": "트레이스에 cwnd 기록이 없습니다 (송신 호스트가 기록되지 않았습니다)"},
    "no_rtt": {"en": "no RTT samples", "ko": "RTT 측정값 없음"},
    "clipped": {"en": "window line clipped above", "ko": "윈도우 선은 위쪽이 잘려 있습니다"},
}


def label(key: str, lang: str, **values: object) -> str:
    entry = LABELS[key]
    return entry.get(lang, entry["en"]).format(**values)


def nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """Round tick values covering lo..hi (1, 2, 5 times a power of ten apart)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _num(v: float) -> str:
    """A tick label: 12000 -> 12k, 1500000 -> 1.5M."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


def _f(x: float) -> str:
    return f"{x:.1f}"


class _Panel:
    def __init__(self, top: int, height: int, t0: int, t1: int, y0: float, y1: float) -> None:
        self.top, self.height = top, height
        self.t0, self.t1 = t0, max(t1, t0 + 1)
        self.y0, self.y1 = y0, y1 if y1 > y0 else y0 + 1

    def x(self, t: int) -> float:
        return LEFT + (t - self.t0) / (self.t1 - self.t0) * PLOT_W

    def y(self, v: float) -> float:
        return self.top + self.height - (v - self.y0) / (self.y1 - self.y0) * self.height

    def frame(self, out: list[str], ylabel: str, xlabel: str | None, clip: str) -> None:
        top, h = self.top, self.height
        out.append(f'<clipPath id="{clip}"><rect x="{LEFT}" y="{top}" width="{PLOT_W}" height="{h}"/></clipPath>')
        out.append(f'<rect class="plot" x="{LEFT}" y="{top}" width="{PLOT_W}" height="{h}"/>')
        for v in nice_ticks(self.y0, self.y1):
            y = self.y(v)
            out.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{_f(y)}" y2="{_f(y)}"/>')
            out.append(f'<text class="tick" x="{LEFT - 6}" y="{_f(y + 4)}" text-anchor="end">{_num(v)}</text>')
        for s in nice_ticks(self.t0 / NS_PER_S, self.t1 / NS_PER_S, 8):
            x = self.x(int(round(s * NS_PER_S)))
            out.append(f'<line class="grid" x1="{_f(x)}" x2="{_f(x)}" y1="{top}" y2="{top + h}"/>')
            out.append(f'<text class="tick" x="{_f(x)}" y="{top + h + 14}" text-anchor="middle">{s:g}</text>')
        out.append(f'<text class="axis" transform="translate({LEFT - 62},{top + h / 2}) rotate(-90)" '
                   f'text-anchor="middle">{escape(ylabel)}</text>')
        if xlabel:
            out.append(f'<text class="axis" x="{LEFT + PLOT_W / 2}" y="{top + h + 32}" text-anchor="middle">'
                       f'{escape(xlabel)}</text>')


def _legend(out: list[str], x: float, y: float, items: list[tuple[str, str, str]]) -> None:
    """items: (kind, colour, text); kind line, dash, bar, dot, x."""
    for kind, colour, text in items:
        if kind == "dot":
            out.append(f'<circle cx="{_f(x + 8)}" cy="{_f(y - 4)}" r="3" fill="{colour}"/>')
        elif kind == "x":
            out.append(f'<path d="M{_f(x + 4)},{_f(y - 8)}l8,8m0,-8l-8,8" stroke="{colour}" stroke-width="2"/>')
        else:
            dash = ' stroke-dasharray="5 3"' if kind == "dash" else ""
            width = 3 if kind == "bar" else 2
            out.append(f'<line x1="{_f(x)}" x2="{_f(x + 16)}" y1="{_f(y - 4)}" y2="{_f(y - 4)}" stroke="{colour}" '
                       f'stroke-width="{width}"{dash}/>')
        out.append(f'<text class="legend" x="{_f(x + 20)}" y="{_f(y)}">{escape(text)}</text>')
        x += 28 + 6.2 * len(text) * (1.7 if any(ord(c) > 0x3000 for c in text) else 1)


def _step_points(p: _Panel, pts: list[tuple[int, float]], end: int) -> str:
    """A step line: each value holds until the next one (the value an ACK set lasts)."""
    out = []
    for i, (t, v) in enumerate(pts):
        x, y = p.x(t), p.y(v)
        if i:
            out.append(f"{_f(x)},{_f(p.y(pts[i - 1][1]))}")
        out.append(f"{_f(x)},{_f(y)}")
    if pts:
        out.append(f"{_f(p.x(end))},{_f(p.y(pts[-1][1]))}")
    return " ".join(out)


def _data_points(pts: list[tuple[int, float]]) -> str:
    return " ".join(f"{t}:{v:g}" for t, v in pts)


def to_svg(s: Series, lang: str = "en") -> str:
    """The three plots of one connection as a standalone SVG."""
    segs, acks = s.segments, s.acks
    times = [x["t"] for x in segs] + [a["t"] for a in acks] + [x["t"] for x in s.lost]
    t0 = min(times, default=s.conn.first)
    t1 = max(times, default=s.conn.last)
    pad = max((t1 - t0) // 50, 1)
    t0, t1 = max(0, t0 - pad), t1 + pad
    data_max = max([x["end"] for x in segs] + [a["ack"] for a in acks] + [1])
    win_max = max([a["ack"] + a["window"] for a in acks] + [0])
    ymax = max(data_max, min(win_max, 3 * data_max)) * 1.05  # a window far above the data is cut
    clipped = win_max > ymax

    out: list[str] = []
    top1, h1 = 78, 400
    top2, h2 = top1 + h1 + 70, 170
    top3, h3 = top2 + h2 + 70, 170
    height = top3 + h3 + 50
    sender, receiver = f"{s.sender[0]}:{s.sender[1]}", f"{s.receiver[0]}:{s.receiver[1]}"
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" '
               f'font-family="DejaVu Sans, Noto Sans CJK KR, sans-serif" data-conn="{escape(s.conn.label)}" '
               f'data-sender="{sender}" data-receiver="{receiver}" data-vantage="{escape(s.vantage)}" '
               f'data-wscale="{s.wscale}" data-t0="{t0}" data-t1="{t1}">')
    out.append("<style>.plot{fill:#fff;stroke:#999}.grid{stroke:#e6e6e6}.tick{font-size:11px;fill:#444}"
               ".axis{font-size:12px;fill:#222}.legend{font-size:11px;fill:#222}.title{font-size:16px;"
               "font-weight:bold;fill:#111}.sub{font-size:12px;fill:#444}.ptitle{font-size:13px;fill:#222;"
               "font-weight:bold}.note{font-size:12px;fill:#777}</style>")
    out.append(f'<rect width="{W}" height="{height}" fill="#ffffff"/>')
    retx = sum(1 for x in segs if x["retransmission"])
    out.append(f'<text class="title" x="{LEFT}" y="24">{escape(label("title", lang, sender=sender, receiver=receiver))}</text>')
    out.append(f'<text class="sub" x="{LEFT}" y="42">{escape(label("sub", lang, node=s.vantage, ws=s.wscale, mss=s.mss or "?", segs=len(segs), retx=retx, lost=len(s.lost)))}</text>')
    _legend(out, LEFT, 64, [("bar", COLOURS["data"], label("data", lang)),
                            ("bar", COLOURS["retransmission"], label("retransmission", lang)),
                            ("line", COLOURS["ack"], label("ack", lang)),
                            ("line", COLOURS["window"], label("window", lang)),
                            ("bar", COLOURS["sack"], label("sack", lang)),
                            ("x", COLOURS["lost"], label("lost", lang))])

    # -- 1. time-sequence --
    p = _Panel(top1, h1, t0, t1, 0, ymax)
    p.frame(out, label("seq", lang), label("time", lang), "c1")
    if clipped:
        out.append(f'<text class="note" x="{LEFT + PLOT_W - 4}" y="{top1 + 14}" text-anchor="end">'
                   f'{escape(label("clipped", lang))}</text>')
    out.append('<g clip-path="url(#c1)">')
    ack_pts = [(a["t"], a["ack"]) for a in acks]
    win_pts = [(a["t"], a["ack"] + a["window"]) for a in acks]
    out.append(f'<polyline data-series="window" fill="none" stroke="{COLOURS["window"]}" stroke-width="1.5" '
               f'points="{_step_points(p, win_pts, t1)}" data-points="{_data_points(win_pts)}"/>')
    out.append(f'<polyline data-series="ack" fill="none" stroke="{COLOURS["ack"]}" stroke-width="1.5" '
               f'points="{_step_points(p, ack_pts, t1)}" data-points="{_data_points(ack_pts)}"/>')
    out.append('<g data-series="sack">')
    for a in acks:
        x = _f(p.x(a["t"]) + 1.5)
        for left, right in a["sack"]:
            out.append(f'<line x1="{x}" x2="{x}" y1="{_f(p.y(left))}" y2="{_f(p.y(right))}" stroke="{COLOURS["sack"]}" '
                       f'stroke-width="2.5" data-t="{a["t"]}" data-left="{left}" data-right="{right}"/>')
    out.append("</g>")
    out.append('<g data-series="segments">')
    for x_ in segs:
        kind = "retransmission" if x_["retransmission"] else "data"
        x = p.x(x_["t"])
        ya, yb = p.y(x_["seq"]), p.y(x_["end"])
        out.append(f'<path class="{kind}" d="M{_f(x - 2)},{_f(ya)}h4M{_f(x)},{_f(ya)}V{_f(yb)}M{_f(x - 2)},{_f(yb)}h4" '
                   f'stroke="{COLOURS[kind]}" stroke-width="{2 if kind == "retransmission" else 1.3}" '
                   f'data-t="{x_["t"]}" data-seq="{x_["seq"]}" data-end="{x_["end"]}"><title>'
                   f'{x_["t"] / NS_PER_S:.6f} s  seq {x_["seq"]}..{x_["end"]}'
                   f'{" (" + label("retransmission", lang) + ")" if kind == "retransmission" else ""}</title></path>')
    out.append("</g>")
    out.append('<g data-series="lost">')
    for x_ in s.lost:
        x, y = p.x(x_["t"]), p.y((x_["seq"] + x_["end"]) / 2)
        out.append(f'<path d="M{_f(x - 4)},{_f(y - 4)}l8,8m0,-8l-8,8" stroke="{COLOURS["lost"]}" stroke-width="2" '
                   f'data-t="{x_["t"]}" data-seq="{x_["seq"]}" data-end="{x_["end"]}" data-reason="{escape(x_["reason"])}"'
                   f' data-node="{escape(x_["node"])}"><title>{x_["t"] / NS_PER_S:.6f} s  seq {x_["seq"]}..{x_["end"]} '
                   f'{escape(x_["reason"])} at {escape(x_["node"])}</title></path>')
    out.append("</g></g>")

    # -- 2. cwnd --
    cc = s.cc
    cmax = max([c["cwnd"] for c in cc] + [c["ssthresh"] or 0 for c in cc] + [1]) * 1.1
    cmax = min(cmax, max([c["cwnd"] for c in cc] + [1]) * 2.2)  # a huge first ssthresh does not flatten cwnd
    p2 = _Panel(top2, h2, t0, t1, 0, cmax)
    out.append(f'<text class="ptitle" x="{LEFT}" y="{top2 - 24}">{escape(label("cc_title", lang))}</text>')
    _legend(out, LEFT, top2 - 6, [("line", COLOURS["cwnd"], label("cwnd", lang)),
                                  ("dash", COLOURS["ssthresh"], label("ssthresh", lang))])
    p2.frame(out, label("cwnd_axis", lang), label("time", lang), "c2")
    if not cc:
        out.append(f'<text class="note" x="{LEFT + PLOT_W / 2}" y="{top2 + h2 / 2}" text-anchor="middle">'
                   f'{escape(label("no_cc", lang))}</text>')
    cw = [(c["t"], c["cwnd"]) for c in cc]
    ss = [(c["t"], c["ssthresh"]) for c in cc if c["ssthresh"] is not None]
    out.append('<g clip-path="url(#c2)">')
    out.append(f'<polyline data-series="cwnd" fill="none" stroke="{COLOURS["cwnd"]}" stroke-width="1.8" '
               f'points="{_step_points(p2, cw, t1)}" data-points="{_data_points(cw)}"/>')
    out.append(f'<polyline data-series="ssthresh" fill="none" stroke="{COLOURS["ssthresh"]}" stroke-width="1.5" '
               f'stroke-dasharray="6 3" points="{_step_points(p2, ss, t1)}" data-points="{_data_points(ss)}"/>')
    out.append("</g>")

    # -- 3. RTT --
    rtt = s.rtt
    rmax = max([r["rtt_ms"] for r in rtt] + [c["srtt_ms"] for c in cc] + [c["rto_ms"] for c in cc] + [1]) * 1.1
    p3 = _Panel(top3, h3, t0, t1, 0, rmax)
    out.append(f'<text class="ptitle" x="{LEFT}" y="{top3 - 24}">{escape(label("rtt_title", lang))}</text>')
    _legend(out, LEFT, top3 - 6, [("dot", COLOURS["rtt"], label("rtt", lang)),
                                  ("line", COLOURS["srtt"], label("srtt", lang)),
                                  ("dash", COLOURS["rto"], label("rto", lang))])
    p3.frame(out, label("rtt_axis", lang), label("time", lang), "c3")
    if not rtt and not cc:
        out.append(f'<text class="note" x="{LEFT + PLOT_W / 2}" y="{top3 + h3 / 2}" text-anchor="middle">'
                   f'{escape(label("no_rtt", lang))}</text>')
    out.append('<g clip-path="url(#c3)">')
    srtt = [(c["t"], c["srtt_ms"]) for c in cc if c["srtt_ms"] > 0]
    rto = [(c["t"], c["rto_ms"]) for c in cc]
    out.append(f'<polyline data-series="rto" fill="none" stroke="{COLOURS["rto"]}" stroke-width="1.3" '
               f'stroke-dasharray="5 3" points="{_step_points(p3, rto, t1)}" data-points="{_data_points(rto)}"/>')
    out.append(f'<polyline data-series="srtt" fill="none" stroke="{COLOURS["srtt"]}" stroke-width="1.6" '
               f'points="{_step_points(p3, srtt, t1)}" data-points="{_data_points(srtt)}"/>')
    out.append('<g data-series="rtt">')
    for r in rtt:
        out.append(f'<circle cx="{_f(p3.x(r["t"]))}" cy="{_f(p3.y(r["rtt_ms"]))}" r="2.5" fill="{COLOURS["rtt"]}" '
                   f'data-t="{r["t"]}" data-rtt="{r["rtt_ms"]}"/>')
    out.append("</g></g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
