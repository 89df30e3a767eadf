"""Sequence diagrams of a run: a lane per node, time going down, an arrow per packet per hop.

From a live run (a :class:`~minternet.observe.trace.Recorder`'s events) or a ``--trace`` file::

    diagram = build_diagram(load_trace("trace.jsonl"), hosts=["client", "r1", "server"])
    open("run.svg", "w").write(to_svg(diagram))
    print(to_mermaid(diagram))

or on the command line (:mod:`minternet.cli.diagram`): ``minternet diagram trace.jsonl --out run.svg``. How hops are found is in
:mod:`.diagram_build`, labels in :mod:`.diagram_labels`, the drawing in :mod:`.diagram_svg` and
:mod:`.diagram_mermaid`.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Iterator, Sequence

from .diagram_build import DEFAULT_MAX_ARROWS, DiagramBuilder
from .keylog import FILENAME as KEYLOG_FILENAME, KeyLog
from .diagram_mermaid import to_mermaid
from .diagram_model import Arrow, Diagram, Lane, Marker
from .diagram_svg import to_svg
from .trace import TraceEvent

__all__ = ["Arrow", "Diagram", "Lane", "Marker", "build_diagram", "iter_trace", "load_trace", "to_mermaid",
           "to_svg", "DEFAULT_MAX_ARROWS"]


def _event(d: dict) -> TraceEvent:
    frame = d.get("frame")
    packet = d.get("packet")
    return TraceEvent(int(d["t_ns"]), d["node"], d.get("iface"), d["layer"], d["event"], d.get("reason"),
                      bytes.fromhex(frame) if frame else None, bytes.fromhex(packet) if packet else None,
                      d.get("summary"))


def iter_trace(path: str | os.PathLike) -> Iterator[TraceEvent]:
    """Events of a JSON-lines trace (``--trace FILE``), one at a time, as they are read."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield _event(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{os.fspath(path)}, line {n}: not a trace event ({exc})") from None


def load_trace(path: str | os.PathLike) -> list[TraceEvent]:
    """All events of a JSON-lines trace file."""
    return list(iter_trace(path))


def build_diagram(events: Iterable[TraceEvent] | str | os.PathLike, hosts: Sequence[str] | None = None,
                  start: int | None = None, end: int | None = None,
                  max_arrows: int | None = DEFAULT_MAX_ARROWS, title: str | None = None,
                  keylog: Any = None) -> Diagram:
    """The sequence diagram of trace events (or of a JSON-lines trace file).

    ``hosts``: the lanes, in this order (default: every node, ordered so arrows are short);
    packets through nodes left out are followed to the next shown one. ``start``/``end``: only
    packets sent in this time range (ns). ``max_arrows``: only the first so many arrows (None or 0:
    all); a file is then read only as far as needed. ``keylog``: the run's TLS/QUIC secrets (a
    :class:`~minternet.observe.keylog.KeyLog`, or the path of a key log file; for a trace file,
    by default the ``sslkeylog.txt`` beside it, if any), so that QUIC packets past the Initial
    ones are labelled with their frames.
    """
    if isinstance(events, (str, os.PathLike)):
        title = title or f"minternet sequence diagram of {os.path.basename(os.fspath(events))}"
        if keylog is None:
            beside = os.path.join(os.path.dirname(os.fspath(events)), KEYLOG_FILENAME)
            keylog = beside if os.path.exists(beside) else None
        events = iter_trace(events)
    if isinstance(keylog, (str, os.PathLike)):
        keylog = KeyLog.read(os.fspath(keylog))
    builder = DiagramBuilder(hosts, start, end, max_arrows, keylog=keylog)
    for ev in events:
        if not builder.feed(ev):
            break
    return builder.finish(title)
