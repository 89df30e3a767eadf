"""Draw a :class:`Diagram` as one standalone SVG file (no scripts, fonts or links outside it).

The picture: a lane per node, time going down. Each packet hop is an arrow from the sender's lane
at the time it was sent to the receiver's lane at the time it arrived, so its slope is the hop's
latency. Its label sits just above where it starts, one row per arrow start, so no two labels share
a line, and the send time is printed in the left column on the same row. Time is to scale between
rows, except that rows are never closer than a line of text, and a long idle gap is squeezed
(logarithmically) into a shaded band that says how long it was. A lost packet's arrow is dashed and
stops halfway in a red X; the reason is in red after its label. Colours by protocol, as the legend
says. Hovering an arrow shows the frame's full summary.

The output is a pure function of the diagram: same trace, byte-identical SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from .diagram_labels import PROTOCOL_NAMES, PROTOCOLS
from .diagram_model import Arrow, Diagram, Marker

COLOURS: dict[str, str] = {
    "arp": "#6e6e6e", "icmp": "#c05a00", "udp": "#7b3294", "dns": "#16803c", "tcp": "#1f5fbf",
    "http": "#c2185b", "tls": "#00838f", "quic": "#6a1b9a", "other": "#444444",
}
DROP_COLOUR = "#d62728"
FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
FONT_PX = 11
CHAR_PX = 6.7  # width of one character of that font at FONT_PX (0.6 em), a little generous
ROW = 17  # px: the least distance between two rows (arrow starts, markers)
LANE_GAP = 190  # px between lanes
TIME_W = 96  # px: the time column at the left
HEADER_H = 36  # px: a lane's name box
TYPICAL_HOP_PX = 60  # px a long hop takes (see typical_hop), which sets the time scale
IDLE_PX = 80  # px beyond which a gap between rows is squeezed
MIN_FALL = 6  # px: an arrow always goes down at least this much
LABEL_CLEAR = 13  # px: a row starts at least this far below the last arrival
PAD = 12


def text_width(text: str, px: float = CHAR_PX) -> float:
    return len(text) * px


def _f(v: float) -> str:
    """Coordinates with one decimal, the same on every machine."""
    s = f"{v:.1f}"
    return s.removesuffix(".0")


@dataclass(slots=True)
class _Layout:
    y_start: list[float] = field(default_factory=list)  # per arrow
    y_end: list[float] = field(default_factory=list)
    y_marker: list[float] = field(default_factory=list)
    gaps: list[tuple[float, float, int]] = field(default_factory=list)  # y above, y below, ns idle
    bottom: float = 0.0


def typical_hop(d: Diagram) -> int:
    """ns a long hop takes (the 90th percentile of the arrows' transit times), for the time scale."""
    transits = sorted(a.t_end - a.t_send for a in d.arrows if a.reached and a.t_end > a.t_send)
    return transits[(len(transits) * 9) // 10] if transits else 1_000_000


def hop_transits(d: Diagram) -> dict[tuple[str, str | None], int]:
    """The median time each (src, dst) hop took, over the packets that made it."""
    pairs: dict[tuple[str, str | None], list[int]] = {}
    for a in d.arrows:
        if a.reached:
            pairs.setdefault((a.src, a.dst), []).append(a.t_end - a.t_send)
    return {k: sorted(v)[len(v) // 2] for k, v in pairs.items()}


def would_arrive(a: Arrow, transits: dict[tuple[str, str | None], int]) -> int:
    """When a lost packet would have arrived, had it taken the median time of its hop (a lost
    arrow is drawn half of that way); the time of the loss when nothing else took that hop."""
    transit = transits.get((a.src, a.dst))
    return max(a.t_end, a.t_send + transit) if transit is not None else a.t_end


def _squeeze(px: float) -> float:
    return px if px <= IDLE_PX else IDLE_PX + 14 * math.log2(px / IDLE_PX)


def layout(d: Diagram, top: float) -> _Layout:
    """The y of every arrow end and marker: monotone in time, to scale where there is room."""
    scale = TYPICAL_HOP_PX / typical_hop(d)  # px per ns
    transits = hop_transits(d)
    ticks: list[tuple[int, int, int, int]] = []  # time, order, kind (0 end, 1 start, 2 marker), index
    for i, a in enumerate(d.arrows):
        ticks.append((a.t_send, 1, 1, i))
        t_end = a.t_end if a.reached else would_arrive(a, transits)
        ticks.append((t_end, 0 if t_end > a.t_send else 2, 0, i))
    for j, m in enumerate(d.markers):
        ticks.append((m.t, 1, 2, j))
    ticks.sort()
    out = _Layout([0.0] * len(d.arrows), [0.0] * len(d.arrows), [0.0] * len(d.markers))
    y = top
    last_row = last_end = -math.inf
    prev_t = ticks[0][0] if ticks else 0
    busy = prev_t  # until when a packet already drawn is in flight
    for t, _, kind, i in ticks:
        px = (t - prev_t) * scale
        y_next = y + _squeeze(px)
        if px > 2 * IDLE_PX and busy <= prev_t:  # idle, and squeezed to less than half: say how long
            out.gaps.append((y, y_next, t - prev_t))
        if kind == 1:
            busy = max(busy, d.arrows[i].t_end)
        if kind == 0:
            y_next = max(y_next, out.y_start[i] + MIN_FALL)
            out.y_end[i] = y_next
            last_end = y_next
        else:
            # A label sits above its row: keep it clear of the arrowhead that just arrived there.
            y_next = max(y_next, last_row + ROW, last_end + LABEL_CLEAR)
            last_row = y_next
            if kind == 1:
                out.y_start[i] = y_next
            else:
                out.y_marker[i] = y_next
        y = y_next
        prev_t = t
    out.bottom = y + ROW
    return out


class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def text(self, x: float, y: float, content: str, cls: str = "", anchor: str = "start", extra: str = "") -> None:
        a = f' text-anchor="{anchor}"' if anchor != "start" else ""
        c = f' class="{cls}"' if cls else ""
        self.add(f'<text x="{_f(x)}" y="{_f(y)}"{a}{c}{extra}>{escape(content)}</text>')


def _style() -> str:
    rules = [f".p-{p}{{stroke:{c};fill:{c}}}" for p, c in COLOURS.items()]
    rules += [f"text.p-{p}{{stroke:#fff;fill:{c}}}" for p, c in COLOURS.items()]
    return ("<style>"
            "text{font-size:" + str(FONT_PX) + "px;stroke:none;fill:#222}"
            ".arrow line{stroke-width:1.4}"
            ".arrow.lost line{stroke-dasharray:5 3}"
            ".x{stroke:" + DROP_COLOUR + ";stroke-width:2.2}"
            ".label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}"
            ".why{fill:" + DROP_COLOUR + ";font-weight:bold}"
            ".time{fill:#666}"
            ".lane-line{stroke:#b8b8b8;stroke-width:1;stroke-dasharray:2 3}"
            ".box{fill:#f2f2f2;stroke:#555}"
            ".box.router{fill:#e3ecfa;stroke:#3a5a8c}"
            ".name{font-weight:bold;font-size:12px}"
            ".addr{fill:#555;font-size:10px}"
            ".gap{fill:#f4f4f4;stroke:none}"
            ".gap-text{fill:#888;font-style:italic}"
            ".state{fill:#777;font-style:italic;paint-order:stroke;stroke:#fff;stroke-width:3px}"
            ".fault{stroke:" + DROP_COLOUR + ";stroke-width:1;stroke-dasharray:6 3}"
            ".fault-text{fill:" + DROP_COLOUR + ";font-weight:bold;paint-order:stroke;stroke:#fff;stroke-width:3px}"
            ".note{fill:#555}"
            ".title{font-size:14px;font-weight:bold}"
            + "".join(rules) + "</style>")


def _arrowhead(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    dx, dy = x2 - x1, y2 - y1
    n = math.hypot(dx, dy) or 1.0
    ux, uy = dx / n, dy / n
    bx, by = x2 - 8 * ux, y2 - 8 * uy
    px, py = -uy * 3.5, ux * 3.5
    pts = f"{_f(x2)},{_f(y2)} {_f(bx + px)},{_f(by + py)} {_f(bx - px)},{_f(by - py)}"
    return f'<polygon class="{cls}" points="{pts}" stroke-width="0.5"/>'


def _cross(x: float, y: float, size: float = 5, data: str = "") -> str:
    return (f'<path class="x"{data} d="M{_f(x - size)},{_f(y - size)}L{_f(x + size)},{_f(y + size)}'
            f'M{_f(x - size)},{_f(y + size)}L{_f(x + size)},{_f(y - size)}"/>')


def why_text(a: Arrow) -> str:
    """The red part of a label: what became of a packet that did not make it."""
    if a.drop is None:
        return ""
    if a.reached:
        return f" \u2717 dropped by {a.drop_at}: {a.drop}"
    where = f" at {a.drop_at}" if a.drop_at and a.drop_at not in (a.src, a.dst) else ""
    return f" \u2717 lost{where}: {a.drop}"


def extra_text(a: Arrow) -> str:
    """Marks after a label: the hidden nodes crossed, duplicates, corruption."""
    bits = []
    if a.via:
        bits.append(f"via {','.join(a.via)}")
    if a.duplicate:
        bits.append("duplicate")
    if a.corrupted:
        bits.append("corrupted")
    return f" ({'; '.join(bits)})" if bits else ""


def to_svg(d: Diagram) -> str:
    """The diagram as a standalone SVG document."""
    lanes = [lane.name for lane in d.lanes]
    x_of = {name: TIME_W + PAD + LANE_GAP * (i + 0.5) for i, name in enumerate(lanes)}
    right_edge = TIME_W + PAD + LANE_GAP * max(len(lanes), 1)
    protocols = [p for p in PROTOCOLS if any(a.protocol == p for a in d.arrows)] or list(PROTOCOLS)

    # Header: title, notes, legend; then the lane boxes.
    y = 22.0
    head = _Svg()
    head.text(PAD, y, d.title, "title")
    shown = f"{len(d.arrows):,} packet arrows"
    if d.arrows:
        shown += f", {d.arrows[0].t_send / 1e9:.6f}s to {max(a.t_end for a in d.arrows) / 1e9:.6f}s"
    head.text(PAD + text_width(d.title, 8.6) + 14, y, shown, "note")
    for note in d.notes:
        y += 15
        head.text(PAD, y, note, "note")
    y += 22
    x = float(PAD)
    for p in protocols:
        head.add(f'<line class="p-{p}" x1="{_f(x)}" y1="{_f(y - 4)}" x2="{_f(x + 22)}" y2="{_f(y - 4)}" stroke-width="2"/>')
        head.add(_arrowhead(x, y - 4, x + 26, y - 4, f"p-{p}"))
        head.text(x + 32, y, PROTOCOL_NAMES[p], f"p-{p} label")
        x += 32 + text_width(PROTOCOL_NAMES[p]) + 18
    head.add(f'<line class="p-other" x1="{_f(x)}" y1="{_f(y - 4)}" x2="{_f(x + 16)}" y2="{_f(y - 4)}" '
             f'stroke-dasharray="5 3"/>' + _cross(x + 20, y - 4, 4))
    head.text(x + 32, y, "lost or dropped (reason in red)", "note")
    legend_right = x + 32 + text_width("lost or dropped (reason in red)")
    y += 14
    lanes_top = y
    body_top = lanes_top + HEADER_H + 20

    lay = layout(d, body_top)
    body = _Svg()
    labels = _Svg()
    max_x = max(right_edge, legend_right + PAD)

    # Idle gaps, then times, then arrows, then markers; labels go on top of everything.
    for y0, y1, ns in lay.gaps:
        body.add(f'<rect class="gap" x="0" y="{_f(y0 + 5)}" width="@W" height="{_f(max(y1 - y0 - 10, 2))}"/>')
        body.text(TIME_W - 8, (y0 + y1) / 2 + 4, f"+{ns / 1e9:.3f}s idle", "gap-text", "end")
    times = _Svg()
    rows = sorted([(lay.y_start[i], a.t_send) for i, a in enumerate(d.arrows)]
                  + [(lay.y_marker[j], m.t) for j, m in enumerate(d.markers)])
    last_t = None
    for y_row, t in rows:  # a time once per instant: rows at the same instant are left blank
        if t != last_t:
            times.text(TIME_W - 8, y_row + 4, f"{t / 1e9:.6f}", "time", "end")
        last_t = t

    arrows = _Svg()
    crosses: list[str] = []  # drawn last, over the labels' white halos
    for i, a in enumerate(d.arrows):
        x1, y1 = x_of[a.src], lay.y_start[i]
        cls = f"p-{a.protocol}"
        state = " lost" if not a.reached else " dropped" if a.drop else ""
        attrs = (f' data-index="{i}" data-src={quoteattr(a.src)} data-dst={quoteattr(a.dst or "")}'
                 f' data-t-send="{a.t_send}" data-t-end="{a.t_end}"')
        if a.drop:
            attrs += f" data-drop={quoteattr(a.drop)} data-drop-at={quoteattr(a.drop_at or '')}"
        if a.via:
            attrs += f" data-via={quoteattr(','.join(a.via))}"
        tip = f"{a.t_send / 1e9:.6f}s \u2192 {a.t_end / 1e9:.6f}s  {a.src} \u2192 {a.dst or '?'}" \
              f"{extra_text(a)}: {a.summary}{why_text(a)}"
        parts = [f'<g class="arrow {cls}{state}"{attrs}><title>{escape(tip)}</title>']
        if a.dst is not None:
            x2 = x_of[a.dst]
        else:  # a lost broadcast with no known destination: a short stub
            x2 = x1 + (LANE_GAP * 0.8 if x1 < right_edge - LANE_GAP else -LANE_GAP * 0.8)
        y2 = lay.y_end[i]
        if a.reached:
            parts.append(f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}"/>')
            parts.append(_arrowhead(x1, y1, x2, y2, cls))
            if a.drop:
                crosses.append(_cross(x2, y2, data=f' data-arrow="{i}"'))
        else:  # half the way it would have gone
            xm = x1 + (x2 - x1) * 0.5
            ym = y1 + max((y2 - y1) * 0.5, 8)
            parts.append(f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(xm)}" y2="{_f(ym)}"/>')
            crosses.append(_cross(xm, ym, data=f' data-arrow="{i}"'))
        parts.append("</g>")
        arrows.add("".join(parts))

        # The label: just above the start, hugging the sender, on the side the arrow goes.
        text = a.label + extra_text(a)
        why = why_text(a)
        width = text_width(text + why)
        lo = min(x1, x2)
        if x2 >= x1:
            lx, anchor = x1 + 8, "start"
        elif x1 - 8 - width >= lo + 4:
            lx, anchor = x1 - 8, "end"
        else:
            lx, anchor = lo + 8, "start"
        if anchor == "start":
            max_x = max(max_x, lx + width + PAD)
        anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" else ""
        tspan = f'<tspan class="why">{escape(why)}</tspan>' if why else ""
        labels.add(f'<text class="label {cls}" data-arrow="{i}" x="{_f(lx)}" y="{_f(y1 - 3)}"{anchor_attr}>'
                   f'{escape(text)}{tspan}</text>')

    marks = _Svg()
    for j, m in enumerate(d.markers):
        _marker(marks, labels, crosses, m, lay.y_marker[j], x_of)
        if m.node in x_of:
            max_x = max(max_x, x_of[m.node] + 14 + text_width(m.text) + PAD)

    width = max_x
    bottom = lay.bottom + 10
    height = bottom + HEADER_H + 2 * PAD

    frame = _Svg()
    for lane in d.lanes:
        x = x_of[lane.name]
        frame.add(f'<line class="lane-line" x1="{_f(x)}" y1="{_f(lanes_top + HEADER_H)}" x2="{_f(x)}" '
                  f'y2="{_f(bottom)}"/>')
        for top in (lanes_top, bottom):
            _lane_box(frame, lane.name, lane.role, lane.addresses, x, top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
           f'viewBox="0 0 {_f(width)} {_f(height)}" font-family={quoteattr(FONT)}>',
           f"<title>{escape(d.title)}</title>", _style(),
           f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height)}" fill="#fff"/>',
           '<g id="header">', *head.parts, "</g>",
           '<g id="gaps">', *(p.replace('"@W"', f'"{_f(width)}"') for p in body.parts), "</g>",
           '<g id="lanes">', *frame.parts, "</g>",
           '<g id="times">', *times.parts, "</g>",
           '<g id="arrows">', *arrows.parts, "</g>",
           '<g id="markers">', *marks.parts, "</g>",
           '<g id="labels">', *labels.parts, "</g>",
           '<g id="crosses">', *crosses, "</g>",
           "</svg>"]
    return "\n".join(out) + "\n"


def _lane_box(svg: _Svg, name: str, role: str, addresses: tuple[str, ...], x: float, top: float) -> None:
    w = LANE_GAP - 36
    rx = 12 if role == "router" else 3
    svg.add(f'<g class="lane" data-name={quoteattr(name)} data-role="{role}">'
            f'<rect class="box {role}" x="{_f(x - w / 2)}" y="{_f(top)}" width="{_f(w)}" height="{HEADER_H}" '
            f'rx="{rx}"/>')
    svg.text(x, top + 15, name, "name", "middle")
    addr = addresses[0] if addresses else role
    if len(addresses) > 1:
        addr += f" +{len(addresses) - 1}"
    if role == "router" and addresses:
        addr = f"router {addr}"
    svg.text(x, top + 29, addr, "addr", "middle")
    svg.add("</g>")


def _marker(svg: _Svg, labels: _Svg, crosses: list[str], m: Marker, y: float, x_of: dict[str, float]) -> None:
    attrs = f' data-node={quoteattr(m.node)} data-t="{m.t}" data-kind="{m.kind}"'
    if m.reason:
        attrs += f" data-reason={quoteattr(m.reason)}"
    if m.kind == "fault" or m.node not in x_of:
        xs = sorted(x_of.values()) or [TIME_W + PAD]
        svg.add(f'<g class="marker {m.kind}"{attrs}><line class="fault" x1="{_f(xs[0] - 20)}" y1="{_f(y)}" '
                f'x2="{_f(xs[-1] + 20)}" y2="{_f(y)}"/></g>')
        labels.text(xs[0] + 8, y - 3, f"\u26a1 {m.text}", "fault-text")
        return
    x = x_of[m.node]
    if m.kind == "drop":
        svg.add(f'<g class="marker drop"{attrs}><title>{escape(m.text)}</title></g>')
        crosses.append(_cross(x, y))
        labels.add(f'<text class="label" x="{_f(x + 9)}" y="{_f(y + 4)}">{escape(m.text)}'
                   f'<tspan class="why"> \u2717 {escape(m.reason or "dropped")}</tspan></text>')
    else:
        svg.add(f'<g class="marker {m.kind}"{attrs}><circle cx="{_f(x)}" cy="{_f(y)}" r="2.5" fill="#777"/></g>')
        labels.text(x + 6, y + 4, m.text, "state")
