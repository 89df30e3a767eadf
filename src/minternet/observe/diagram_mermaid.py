"""A :class:`Diagram` as Mermaid ``sequenceDiagram`` text, for Markdown that renders Mermaid.

Mermaid has no time axis: messages are in order of sending, a lost or dropped packet is a ``-x``
message (a cross at the end), long idle gaps, faults and markers are notes.
"""

from __future__ import annotations

import re

from .diagram_model import Diagram
from .diagram_svg import IDLE_PX, TYPICAL_HOP_PX, extra_text, typical_hop, why_text

_KEYWORDS = {"participant", "actor", "as", "note", "loop", "alt", "else", "opt", "par", "and", "rect", "end",
             "critical", "break", "box", "activate", "deactivate", "autonumber", "title", "over", "left",
             "right", "of", "create", "destroy", "links", "link", "properties", "details"}
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def mermaid_text(text: str) -> str:
    """Message text Mermaid reads literally: ``;`` and ``#`` as entity codes, no line breaks."""
    return text.replace("#", "#35;").replace(";", "#59;").replace("\n", " ")


def participant_ids(names: list[str]) -> dict[str, str]:
    """A Mermaid identifier per lane: the name itself when it is one, else a safe one."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        ident = name if _ID.fullmatch(name) and name.lower() not in _KEYWORDS else \
            "n_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
        base, k = ident, 2
        while ident in used:
            ident = f"{base}_{k}"
            k += 1
        used.add(ident)
        ids[name] = ident
    return ids


def to_mermaid(d: Diagram) -> str:
    """The diagram as Mermaid text (one message per arrow, in the order they were sent)."""
    names = [lane.name for lane in d.lanes]
    ids = participant_ids(names)
    lines = ["sequenceDiagram", f"    %% {d.title}: {len(d.arrows)} packet arrows"]
    for note in d.notes:
        lines.append(f"    %% {note}")
    for lane in d.lanes:
        ident = ids[lane.name]
        alias = f" as {lane.name}" if ident != lane.name else ""
        lines.append(f"    participant {ident}{alias}")
    if not names:
        return "\n".join(lines) + "\n"
    span = f"{ids[names[0]]},{ids[names[-1]]}" if len(names) > 1 else ids[names[0]]

    # The same notion of "idle" as the SVG: a gap far longer than a typical hop.
    idle = typical_hop(d) * 2 * IDLE_PX / TYPICAL_HOP_PX

    items: list[tuple[int, int, int, str, int]] = []  # time, kind, index, line, busy until
    for i, a in enumerate(d.arrows):
        text = mermaid_text(f"{a.label}{extra_text(a)}{why_text(a)}")
        src = ids[a.src]
        if a.dst is None:
            side = "left of" if a.src == names[-1] and len(names) > 1 else "right of"
            items.append((a.t_send, 0, i, f"    Note {side} {src}: {text}", a.t_end))
        else:
            arrow = "->>" if a.reached and not a.drop else "-x"
            items.append((a.t_send, 0, i, f"    {src}{arrow}{ids[a.dst]}: {text}", a.t_end))
    for j, m in enumerate(d.markers):
        if m.kind == "fault" or m.node not in ids:
            items.append((m.t, 1, j, f"    Note over {span}: {mermaid_text(m.text)}", m.t))
        else:
            why = f" \u2717 {m.reason}" if m.reason else ""
            items.append((m.t, 1, j, f"    Note right of {ids[m.node]}: {mermaid_text(m.text + why)}", m.t))
    items.sort()
    busy = items[0][0] if items else 0  # until when something was in flight
    for t, _, _, line, until in items:
        if t - busy > idle:
            lines.append(f"    Note over {span}: \u22ef {(t - busy) / 1e9:.3f}s idle \u22ef")
        busy = max(busy, until)
        lines.append(line)
    return "\n".join(lines) + "\n"
